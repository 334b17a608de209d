import Foundation
import StrataCore
import StrataStore
import StrataTestSupport
import Testing

@testable import StrataQuery

/// The engine (index, pruning, metadata shortcuts, top-k, cursors) against a brute-force scan
/// with the independent `Reference` semantics, over records spread across segments and the head.
@Suite struct QueryOracleTests {
    /// A store with three flushed rounds (several segments, small blocks) and one in the head.
    static func makeStore(seed: UInt64, in directory: ScratchDirectory) throws -> (LogStore, [LogRecord]) {
        var g = SeededRandom(seed: seed)
        let store = try directory.openStore(maxBlockRows: 24)
        var all: [LogRecord] = []
        for round in 0..<4 {
            let batch = RecordFactory.records(300, hours: 4, using: &g)
            all += batch
            _ = try store.ingest(batchID: nil, records: batch, now: RecordFactory.base)
            if round < 3 { try store.flush() }
        }
        return (store, all)
    }

    @Test func searchCountStatsAndHistogramEqualBruteForce() throws {
        let directory = ScratchDirectory()
        let (store, all) = try Self.makeStore(seed: 42, in: directory)
        let snapshot = store.snapshot()
        #expect(snapshot.segments.count >= 6)
        #expect(snapshot.head.count == 300)
        let engine = QueryEngine(snapshot: snapshot)
        var g = SeededRandom(seed: 7)
        var nonEmpty = 0
        for _ in 0..<100 {
            let query = QueryFactory.query(using: &g)
            let node = try QueryParser.parse(query)
            let plan = try QueryPlan(node)
            let from = RecordFactory.base + Int64.random(in: -RecordFactory.hour...(3 * RecordFactory.hour), using: &g)
            let to = from + Int64.random(in: 1...(4 * RecordFactory.hour), using: &g)
            let range = Int.random(in: 0..<5, using: &g) == 0 ? TimeRange.everything : TimeRange(from: from, to: to)
            let matching = all.filter { range.contains($0.timestamp) && Reference.matches(node, $0) }
            if !matching.isEmpty { nonEmpty += 1 }
            let order: ResultOrder = Bool.random(using: &g) ? .newestFirst : .oldestFirst
            let limit = Int.random(in: 1...60, using: &g)
            let expected = Reference.sorted(matching, order)

            let page = try engine.search(plan, range: range, order: order, limit: limit)
            #expect(page.records == Array(expected.prefix(limit)), "\(query) \(order) limit \(limit)")
            #expect(page.damagedSegments.isEmpty)
            #expect(try engine.count(plan, range: range).count == matching.count, "count \(query)")

            let stats = try engine.stats(plan, by: [Field(name: "pod"), Field(name: "level")], range: range, limit: 1000)
            var groups: [[String?]: Int] = [:]
            for record in matching { groups[[record.resource[ResourceKey.pod], record.severity?.name], default: 0] += 1 }
            #expect(Dictionary(uniqueKeysWithValues: stats.groups.map { ($0.values, $0.count) }) == groups, "stats \(query)")
            #expect(stats.total == matching.count)

            if range != .everything {
                let interval = Int64.random(in: 1...30, using: &g) * 60_000_000_000
                let histogram = try engine.histogram(plan, interval: interval, range: range)
                var buckets: [Int64: Int] = [:]
                for record in matching { buckets[QueryEngine.bucket(record.timestamp, interval), default: 0] += 1 }
                #expect(histogram.buckets.filter { $0.count > 0 }.map { [$0.start: $0.count] } == buckets.keys.sorted().map { [$0: buckets[$0]!] }, "histogram \(query)")
            }
        }
        #expect(nonEmpty > 40, "the random queries should mostly find something")
    }

    @Test func cursorPagesThroughEveryRecordExactlyOnce() throws {
        let directory = ScratchDirectory()
        let (store, all) = try Self.makeStore(seed: 99, in: directory)
        let engine = QueryEngine(snapshot: store.snapshot())
        var g = SeededRandom(seed: 3)
        for _ in 0..<8 {
            let query = QueryFactory.query(using: &g)
            let node = try QueryParser.parse(query)
            let plan = try QueryPlan(node)
            for order in [ResultOrder.newestFirst, .oldestFirst] {
                let expected = Reference.sorted(all.filter { Reference.matches(node, $0) }, order)
                var collected: [LogRecord] = []
                var cursor: Cursor?
                // Small pages where there are few matches, larger ones otherwise (every page is a full query).
                let pageSize = expected.count <= 30 ? Int.random(in: 1...4, using: &g) : Int.random(in: 40...120, using: &g)
                repeat {
                    // Through the text form, as a client would send it back.
                    let resumed = try cursor.map { try Cursor(parsing: $0.description) }
                    let page = try engine.search(plan, range: .everything, order: order, limit: pageSize, cursor: resumed)
                    collected += page.records
                    cursor = page.nextCursor
                    #expect(collected.count <= expected.count + pageSize, "runaway paging for \(query)")
                } while cursor != nil && collected.count <= expected.count + pageSize
                #expect(collected == expected, "paging \(query) \(order) by \(pageSize)")
            }
        }
    }

    @Test func compactionChangesNothingAndCursorsSurviveIt() throws {
        let directory = ScratchDirectory()
        let (store, all) = try Self.makeStore(seed: 21, in: directory)
        var g = SeededRandom(seed: 13)
        let queries = (0..<40).map { _ in QueryFactory.query(using: &g) }
        // A first page (and its cursor) from before compaction.
        let pagedPlan = try QueryPlan(query: "*")
        let firstPage = try QueryEngine(snapshot: store.snapshot()).search(pagedPlan, range: .everything, limit: 100)
        let before = store.snapshot().segments.count
        try store.flush()
        var merges = 0
        while try store.compactOnce(now: RecordFactory.base + 100 * RecordFactory.hour) { merges += 1 }
        let snapshot = store.snapshot()
        #expect(merges > 0)
        #expect(snapshot.segments.count < before)
        #expect(snapshot.head.isEmpty)
        let engine = QueryEngine(snapshot: snapshot)
        for query in queries {
            let node = try QueryParser.parse(query)
            let plan = try QueryPlan(node)
            let expected = Reference.sorted(all.filter { Reference.matches(node, $0) }, .newestFirst)
            #expect(try engine.search(plan, range: .everything, limit: 40).records == Array(expected.prefix(40)), "\(query)")
            #expect(try engine.count(plan, range: .everything).count == expected.count, "\(query)")
        }
        let everything = Reference.sorted(all, .newestFirst)
        let rest = try engine.search(pagedPlan, range: .everything, limit: 10_000, cursor: firstPage.nextCursor)
        #expect(firstPage.records + rest.records == everything)
    }

    @Test func referenceAgreesWithThePlanDefinition() throws {
        // QueryPlan.matches (used by SearchRequest) is the engine's evaluator on a record; it
        // must agree with the plain reference on every record.
        var g = SeededRandom(seed: 11)
        let records = RecordFactory.records(400, hours: 1, using: &g)
        for _ in 0..<100 {
            let query = QueryFactory.query(using: &g)
            let node = try QueryParser.parse(query)
            let plan = try QueryPlan(node)
            for record in records where plan.matches(record) != Reference.matches(node, record) {
                Issue.record("\(query) disagrees on \(record.body)")
                break
            }
        }
    }

    @Test func selectiveQueriesDecodeOnlyCandidateBlocks() throws {
        let directory = ScratchDirectory()
        let store = try directory.openStore(maxBlockRows: 50)
        var records: [LogRecord] = []
        for i in 0..<5000 {
            let body = i == 4321 ? "payment gateway exploded rarely" : "request \(i % 97) served ok"
            let pod = "pod-\(i / 500)"
            records.append(
                LogRecord(
                    timestamp: RecordFactory.base + Int64(i) * 1_000_000, observedTimestamp: RecordFactory.base, body: body,
                    resource: Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, pod)])))
        }
        _ = try store.ingest(batchID: nil, records: records, now: RecordFactory.base)
        try store.flush()
        let engine = QueryEngine(snapshot: store.snapshot())

        let rare = try engine.search(try QueryPlan(query: "exploded"), range: .everything)
        #expect(rare.records.map(\.body) == ["payment gateway exploded rarely"])
        #expect(rare.statistics.blocksDecoded == 1)
        #expect(rare.statistics.blocks == 100)

        // Every row of pod-3's blocks matches: counted from metadata, nothing decoded.
        let count = try engine.count(try QueryPlan(query: "pod:pod-3"), range: .everything)
        #expect(count.count == 500)
        #expect(count.statistics.blocksDecoded == 0)

        let byPod = try engine.stats(try QueryPlan(query: "*"), by: [Field(name: "pod")], range: .everything)
        #expect(byPod.groups.count == 10 && byPod.groups.allSatisfy { $0.count == 500 })
        #expect(byPod.statistics.blocksDecoded == 0)

        // A negation prunes blocks where every row holds the term.
        let negated = try engine.count(try QueryPlan(query: "-pod:pod-3 -pod:pod-4"), range: .everything)
        #expect(negated.count == 4000)
        #expect(negated.statistics.blocksDecoded == 0)

        // Newest first with a small limit reads only the newest blocks.
        let newest = try engine.search(try QueryPlan(query: "served"), range: .everything, limit: 10)
        #expect(newest.records.count == 10)
        #expect(newest.statistics.blocksDecoded <= 2)

        // The time range prunes by block metadata.
        let window = TimeRange(from: RecordFactory.base + 1_000_000_000, to: RecordFactory.base + 1_100_000_000)
        let timed = try engine.count(try QueryPlan(query: "served"), range: window)
        #expect(timed.count == 100)
        #expect(timed.statistics.blocksDecoded + timed.statistics.blocksFromMetadata <= 3)
    }

    @Test func timeoutAndCancellationStopTheQuery() async throws {
        let directory = ScratchDirectory()
        let (store, _) = try Self.makeStore(seed: 5, in: directory)
        let engine = QueryEngine(snapshot: store.snapshot())
        let plan = try QueryPlan(query: "/x/")
        #expect(throws: QueryError(.timeout, "the query ran past its time limit; narrow the time range or the query")) {
            _ = try engine.count(plan, range: .everything, deadline: Deadline(timeout: .zero))
        }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try engine.count(plan, range: .everything)
        }
        await #expect(throws: QueryError(.cancelled, "the query was cancelled")) { try await task.value }
    }

    @Test func damagedSegmentIsReportedAndTheRestAnswers() throws {
        let directory = ScratchDirectory()
        let (store, all) = try Self.makeStore(seed: 8, in: directory)
        let snapshot = store.snapshot()
        // Overwrite the middle of one segment's block area.
        let victim = snapshot.segments[0]
        let handle = try #require(FileHandle(forWritingAtPath: victim.path))
        try handle.seek(toOffset: 64)
        try handle.write(contentsOf: Data(repeating: 0xAB, count: 512))
        try handle.close()
        let result = try QueryEngine(snapshot: snapshot).search(try QueryPlan(query: "*"), range: .everything, limit: 10_000)
        #expect(result.damagedSegments.map(\.path) == [victim.path])
        // Only the damaged block is missing: the segment's other blocks still answer.
        let intact = try snapshot.segments.dropFirst().flatMap { try $0.readAllRecords() } + snapshot.head
        #expect(result.records.count > intact.count)
        #expect(result.records.count < all.count)
        #expect(all.count - result.records.count <= victim.blocks[0].rowCount)
    }
}

/// A row's own trace and span ids are indexed only as `trace_id=`/`span_id=`, not as body
/// words (docs/FORMAT.md): every way of asking for such a word must still find every row.
@Suite struct OwnIDIndexingTests {
    @Test func idsInBodiesAreFoundWhetherOrNotTheyAreTheRowsOwn() throws {
        let directory = ScratchDirectory()
        let store = try directory.openStore(maxBlockRows: 8)
        var g = SeededRandom(seed: 5)
        let traces = (1...6).map { TraceID(high: 0xABCD_0000_0000_0000 | UInt64($0), low: UInt64($0) * 0x1111) }
        let spans = (1...6).map { SpanID(0x00AB_CD00_0000_0000 | UInt64($0)) }
        let resource = Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, "api-1")])
        var all: [LogRecord] = []
        for i in 0..<400 {
            let trace = traces.randomElement(using: &g)!
            let span = spans.randomElement(using: &g)!
            let mentioned = traces.randomElement(using: &g)!
            let body: String
            switch Int.random(in: 0..<4, using: &g) {
            case 0: body = "TraceID: \(trace) SpanID: \(span) order failed"  // its own ids
            case 1: body = "calling \(mentioned) for TraceID: \(trace)"  // its own and another's
            case 2: body = "order failed"  // ids only in the fields
            default: body = "retry of \(mentioned) span \(span)"
            }
            let own = Int.random(in: 0..<5, using: &g) > 0
            all.append(LogRecord(
                timestamp: RecordFactory.base + Int64(i) * 1_000_000_000, observedTimestamp: RecordFactory.base, body: body,
                traceID: own ? trace : nil, spanID: own ? span : nil, resource: resource))
        }
        _ = try store.ingest(batchID: nil, records: Array(all[0..<300]), now: RecordFactory.base)
        try store.flush()
        _ = try store.ingest(batchID: nil, records: Array(all[300...]), now: RecordFactory.base)
        let engine = QueryEngine(snapshot: store.snapshot())
        let trace = traces[2].description
        let span = spans[3].description
        for query in [trace, "\"\(trace)\"", "\"traceid \(trace)\"", "\"calling \(trace)\"", String(trace.prefix(10)) + "*",
                      "trace_id:\(trace)", span, "\"\(span)\"", "\"span \(span)\"", String(span.prefix(6)) + "*",
                      "span_id:\(span)", "\(trace) AND NOT span_id:\(span)", "/\(trace.prefix(12))[0-9a-f]+/"] {
            let node = try QueryParser.parse(query)
            let plan = try QueryPlan(node)
            let expected = Reference.sorted(all.filter { Reference.matches(node, $0) }, .newestFirst)
            #expect(!expected.isEmpty, "\(query) should match something")
            #expect(try engine.search(plan, range: .everything, limit: 1000).records == expected, "\(query)")
            #expect(try engine.count(plan, range: .everything).count == expected.count, "count \(query)")
        }
    }
}

/// Counts of an OR of index terms come from the posting counts where a block holds one of the
/// terms only; blocks holding several are read. Both kinds must add up to the brute force.
@Suite struct TermUnionCountTests {
    @Test func unionCountsEqualBruteForceWhetherTermsShareBlocksOrNot() throws {
        let directory = ScratchDirectory()
        let store = try directory.openStore(maxBlockRows: 8)
        var g = SeededRandom(seed: 11)
        let resource = Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, "api-1")])
        var all: [LogRecord] = []
        for i in 0..<480 {
            // Runs of 40 rows: some blocks hold only alpha, some only beta, some both, some neither.
            let body: String
            switch (i / 40) % 4 {
            case 0: body = "alpha step \(i)"
            case 1: body = "beta step \(i)"
            case 2: body = Bool.random(using: &g) ? "alpha and beta \(i)" : (Bool.random(using: &g) ? "alpha \(i)" : "beta \(i)")
            default: body = "gamma \(i) info"
            }
            let severity: Severity? = [nil, .info, .warn].randomElement(using: &g)!
            all.append(LogRecord(
                timestamp: RecordFactory.base + Int64(i) * 1_000_000_000, observedTimestamp: RecordFactory.base,
                severity: severity, body: body, resource: resource))
        }
        _ = try store.ingest(batchID: nil, records: all, now: RecordFactory.base)
        try store.flush()
        let engine = QueryEngine(snapshot: store.snapshot())
        let cut = TimeRange(from: RecordFactory.base + 13_500_000_000, to: RecordFactory.base + 300_000_000_000)
        for query in ["alpha OR beta", "INFO", "alpha OR level:info", "alpha OR beta OR gamma", "alpha"] {
            let node = try QueryParser.parse(query)
            let plan = try QueryPlan(node)
            #expect(plan.indexTermUnion != nil, "\(query) is a union of index terms")
            for range in [TimeRange.everything, cut] {
                let expected = all.filter { range.contains($0.timestamp) && Reference.matches(node, $0) }.count
                let counted = try engine.count(plan, range: range)
                #expect(counted.count == expected, "\(query) over \(range)")
                if range == .everything { #expect(counted.statistics.blocksFromMetadata > 0, "\(query): some blocks from postings alone") }
            }
        }
    }
}
