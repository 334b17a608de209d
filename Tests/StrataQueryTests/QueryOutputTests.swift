import StrataCore
import StrataTestSupport
import Testing

@testable import StrataQuery

/// The query API's answers as the collector writes them and clients read them; event streams;
/// cursors. (What the command line prints is tested in StrataOutputTests.)
@Suite struct QueryOutputTests {
    let record = SampleRecords.refusedConnection

    @Test func apiAnswersRoundTrip() throws {
        let search = SearchResult(
            records: [record], nextCursor: Cursor(order: .newestFirst, key: OrderKey(record), returnedAtKey: 1),
            statistics: ExecutionStatistics(), damagedSegments: [])
        let decoded = try QueryAPI.decodeSearch(QueryAPI.search(search, tookMs: 1.5))
        #expect(decoded.records == [record])
        #expect(decoded.nextCursor == search.nextCursor?.description)
        let body = String(decoding: QueryAPI.search(search, tookMs: 1.5), as: UTF8.self)
        #expect(body.contains("\"took_ms\":1.500"))

        let stats = StatsResult(
            fields: [.severity, .attribute("k8s.pod.name")], groups: [.init(values: ["error", nil], count: 3)], total: 3,
            otherGroups: 0, otherCount: 0, statistics: ExecutionStatistics(), damagedSegments: [])
        let statsBack = try QueryAPI.decodeStats(QueryAPI.stats(stats, tookMs: 0))
        #expect(statsBack.fields == stats.fields && statsBack.groups == stats.groups && statsBack.total == 3)

        let histogram = HistogramResult(
            interval: 60_000_000_000, buckets: [.init(start: 1_795_255_200_000_000_007, count: 2)], total: 2,
            statistics: ExecutionStatistics(), damagedSegments: [])
        let histogramBack = try QueryAPI.decodeHistogram(QueryAPI.histogram(histogram, tookMs: 0))
        #expect(histogramBack.buckets == histogram.buckets)
        #expect(try QueryAPI.decodeCount(QueryAPI.count(CountResult(count: 42, statistics: ExecutionStatistics(), damagedSegments: []), tookMs: 0)) == 42)
    }

    @Test func serverSentEventsAcrossChunkBoundaries() {
        var parser = ServerSentEvents()
        #expect(parser.feed(Array(": hello\n\nid: e-1\nda".utf8)).isEmpty)
        #expect(parser.feed(Array("ta: {\"a\":1}\r\n\r\nevent: gap\ndata: x\ndata: y\n".utf8)) == [.init(id: "e-1", type: nil, data: "{\"a\":1}")])
        #expect(parser.feed(Array("\n".utf8)) == [.init(id: nil, type: "gap", data: "x\ny")])
    }

    @Test func cursorsAreOpaqueButStrict() throws {
        let cursor = Cursor(order: .oldestFirst, key: OrderKey(timestamp: -5, fingerprint: 0xABC), returnedAtKey: 2)
        #expect(try Cursor(parsing: cursor.description) == cursor)
        for bad in ["", "1.x.1.a.1", "2.d.1.a.1", "1.d.1.zz.1", "1.d.1.a.0"] {
            #expect(throws: QueryError.self) { try Cursor(parsing: bad) }
        }
    }
}

/// `JSONValue` is built from StrataCore's `JSONScanner`: the same syntax, members in order.
@Suite struct JSONValueTests {
    @Test func keepsMemberOrderAndDecodesEscapes() throws {
        let value = try JSONValue.parse(#" {"z":1,"a":[true,null,-2.5e1],"s":"tab\there \u00e9 \ud83d\ude00"} "#)
        #expect(value.members?.map(\.0) == ["z", "a", "s"])
        #expect(value["a"] == .array([.bool(true), .null, .number(-25)]))
        #expect(value["s"]?.string == "tab\there é 😀")
    }

    @Test func badTextIsAnErrorWithItsOffset() {
        for (text, offset) in [("{\"a\":1} x", 8), ("[1,", 3), ("{\"a\" 1}", 5), ("01", 1)] {
            #expect(throws: JSONValue.ParseError.self, "\(text)") { try JSONValue.parse(text) }
            if case let error as JSONValue.ParseError = (Result { try JSONValue.parse(text) }.failure) {
                #expect(error.offset == offset, "\(text): \(error)")
            }
        }
    }

    @Test func aRecordStampedBeyondInt64IsRefusedNotATrap() {
        #expect(throws: JSONValue.ParseError.self) {
            try LogRecord(json: JSONValue.parse(#"{"timestamp":1e30,"body":"x"}"#))
        }
    }
}

extension Result {
    fileprivate var failure: Failure? { if case .failure(let error) = self { error } else { nil } }
}
