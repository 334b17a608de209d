import StrataQuery
import Testing

@testable import StrataOutput

/// The command line's tables and listings, from the query service's answers.
@Suite struct TableOutputTests {
    @Test func columnsAreAlignedAndTheLastLeftColumnIsNotPadded() {
        var table = TextTable(header: ["ID", "STATE", "SCORE"])
        table.append(["inc-1", "open", "12.5"])
        table.append(["inc-22", "resolved", "-"])
        #expect(table.render() == "ID      STATE     SCORE\ninc-1   open      12.5\ninc-22  resolved  -")
    }

    @Test func rightAlignedColumnsLineUpTheirLastDigits() {
        var table = TextTable(header: ["pod", "count"], alignments: [.left, .right])
        table.append(["api-1", "7"])
        table.append(["a", "1200"])
        #expect(table.lines() == ["pod    count", "api-1      7", "a       1200"])
    }

    @Test func paddingLeavesLongerTextWhole() {
        #expect("42".leftPadded(to: 5) == "   42")
        #expect("abc".rightPadded(to: 5) == "abc  ")
        #expect("abcdef".leftPadded(to: 3) == "abcdef")
        #expect("abcdef".rightPadded(to: 3) == "abcdef")
    }

    @Test func labelsListEachLabelWithItsField() {
        let answer = QueryAnswer.Labels(labels: [
            .init(label: "ns", field: "k8s.namespace.name", values: 3), .init(label: "container", field: "k8s.container.name", values: 12),
        ])
        #expect(OutputFormatter(colour: true).labels(answer) == """
            label      field               values
            ns         k8s.namespace.name  3
            container  k8s.container.name  12
            """)
    }

    @Test func templatesShowCountIdTextAndWhereTheyWereSeen() {
        let answer = QueryAnswer.Templates(
            templates: [
                .init(
                    id: "t1a2", template: "GET <*> took <*>ms", count: 1234, firstSeen: "2026-11-21T10:00:00.000000000Z",
                    lastSeen: "2026-11-21T10:05:00.000000000Z", sample: "GET /a took 5ms"),
                .init(id: "t9", template: nil, count: 2, firstSeen: "a", lastSeen: "b", sample: String(repeating: "x", count: 300)),
            ], withoutTemplate: 5)
        let lines = OutputFormatter(colour: false).templates(answer).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 7)
        #expect(lines[0] == "    1234  t1a2  GET <*> took <*>ms")
        #expect(lines[1] == "          first 2026-11-21T10:00:00.000000000Z  last 2026-11-21T10:05:00.000000000Z")
        #expect(lines[2] == "          e.g. GET /a took 5ms")
        #expect(lines[3] == "       2  t9  (text not in the template state)")
        #expect(lines[5] == "          e.g. " + String(repeating: "x", count: 200))
        #expect(lines[6] == "(5 matching records carry no template id)")
        #expect(OutputFormatter(colour: false).templates(.init(templates: [], withoutTemplate: 0)) == "no templates in this range")
    }

    @Test func listingsRoundTripThroughTheirJSON() throws {
        let templates = QueryAnswer.Templates(
            templates: [.init(id: "t1", template: "a \"b\"", count: 2, firstSeen: "x", lastSeen: "y", sample: "s\n")], withoutTemplate: 1,
            tookMs: 1.25)
        let bytes = QueryAPI.templates(templates, tookMs: templates.tookMs)
        #expect(try QueryAnswer.decode(QueryAnswer.Templates.self, from: bytes) == templates)
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix(",\"took_ms\":1.250}\n"))
        let labels = QueryAnswer.Labels(labels: [.init(label: "ns", field: "k8s.namespace.name", values: 3)])
        #expect(
            String(decoding: QueryAPI.labels(labels, tookMs: nil), as: UTF8.self)
                == "{\"labels\":[{\"label\":\"ns\",\"field\":\"k8s.namespace.name\",\"values\":3}]}\n")
        #expect(try QueryAnswer.decode(QueryAnswer.Labels.self, from: QueryAPI.labels(labels, tookMs: 2)) == labels)
        #expect(throws: QueryAnswerError.self) { try QueryAnswer.decode(QueryAnswer.Count.self, from: Array("{}".utf8)) }
    }
}
