import StrataCore
@testable import StrataQuery
import StrataStore
import StrataTestSupport
import Testing

@testable import StrataOutput

/// What `strata query`, `strata labels`, `strata templates` and `strata tail` print, for every
/// output mode.
@Suite struct RecordOutputTests {
    let record = SampleRecords.refusedConnection

    @Test func textIsOneLinePerRecordWithTimePodAndBody() {
        let plain = OutputFormatter(colour: false, query: try? QueryParser.parse("refused"))
        #expect(plain.line(record, format: .text) == "2026-11-21T10:00:00.123Z  api-1  GET /api/v1/orders: Connection refused ⏎ \tat Foo.bar")
        var orphan = record
        orphan.resource = Resource()
        orphan.body = "a\r\nb"
        #expect(plain.text(orphan) == "2026-11-21T10:00:00.123Z  -  a ⏎ b")
    }

    @Test func colourHighlightsWhatMatched() throws {
        let coloured = OutputFormatter(colour: true, query: try QueryParser.parse(#"connection /re[f]used/ GET* -foo pod:api-1"#))
        let line = coloured.line(record, format: .text)
        let on = OutputFormatter.ANSI.highlight
        let off = OutputFormatter.ANSI.reset
        #expect(line.contains("\(on)Connection\(off) \(on)refused\(off)"))
        #expect(line.contains("\(on)GET\(off) "))
        #expect(line.hasPrefix(OutputFormatter.ANSI.dim))
        #expect(line.contains(OutputFormatter.ANSI.red), "errors are red")
        // Without colour nothing is escaped.
        #expect(!OutputFormatter(colour: false, query: try QueryParser.parse("connection")).line(record, format: .text).contains("\u{1B}"))
    }

    @Test func highlightRangesAreWholeWordsPrefixesAndRegexMatches() throws {
        let highlighter = Highlighter(try QueryParser.parse(#"order "connection refused" time* /[0-9]+ms/ NOT ok"#))
        let text = "orders order: Connection refused after timeout 25ms ok"
        let ranges = highlighter.ranges(in: text)
        let pieces = ranges.map { String(decoding: Array(text.utf8)[$0], as: UTF8.self) }
        #expect(pieces == ["order", "Connection", "refused", "timeout", "25ms"])
    }

    @Test func jsonIsTheRecordModelAndRoundTrips() throws {
        let line = OutputFormatter(colour: true).line(record, format: .json)
        #expect(line == record.jsonLine)
        #expect(!line.contains("\n"))
        let back = try LogRecord(json: try JSONValue.parse(line))
        #expect(back == record)
    }

    @Test func rawIsTheBodyAsWritten() {
        #expect(OutputFormatter(colour: true).line(record, format: .raw) == record.body)
    }

    @Test func statsTable() {
        let stats = StatsResult(
            fields: [.attribute(ResourceKey.namespace), .attribute(ResourceKey.pod)],
            groups: [.init(values: ["shop", "api-1"], count: 1200), .init(values: ["pay", nil], count: 7)],
            total: 1210, otherGroups: 1, otherCount: 3, statistics: ExecutionStatistics(), damagedSegments: [])
        #expect(OutputFormatter(colour: false).table(stats) == """
            ns        pod    count
            shop      api-1   1200
            pay       -          7
            (1 more)             3
            total             1210
            """)
    }

    @Test func histogramChart() {
        let start: Int64 = 1_795_255_200_000_000_000
        let histogram = HistogramResult(
            interval: 60_000_000_000,
            buckets: [.init(start: start, count: 4), .init(start: start + 60_000_000_000, count: 0), .init(start: start + 120_000_000_000, count: 1)],
            total: 5, statistics: ExecutionStatistics(), damagedSegments: [])
        #expect(OutputFormatter(colour: false).chart(histogram, width: 8) == """
            10:00:00  ████████  4
            10:01:00            0
            10:02:00  ██        1
            total 5, 1m buckets
            """)
    }
}
