import StrataCore
import Testing

@testable import StrataQuery

/// What `strata query`, `strata labels` and `strata tail` print, for every output mode.
@Suite struct QueryOutputTests {
    let record = LogRecord(
        timestamp: 1_795_255_200_123_456_789, observedTimestamp: 1_795_255_200_200_000_000, stream: .stderr, severity: .error,
        body: "GET /api/v1/orders: Connection refused\n\tat Foo.bar", traceID: TraceID(high: 1, low: 2),
        attributes: [Attribute("status", "503"), Attribute("a", "1")],
        resource: Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, "api-1")]),
        flags: [.multiline])

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
