import StrataCore
import StrataStore
import Synchronization

/// Why a query failed; `code` is the API's error code.
public struct QueryError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        case badQuery = "bad_query"
        case badCursor = "bad_cursor"
        case badRange = "bad_range"
        case badParameter = "bad_parameter"
        case timeout = "query_timeout"
        case cancelled = "query_cancelled"
        case tooManyBuckets = "too_many_buckets"
        case tooManyGroups = "too_many_groups"
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

/// `[from, to)` in nanoseconds since the epoch.
public struct TimeRange: Sendable, Hashable {
    public var from: Int64
    public var to: Int64
    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }
    public static let everything = TimeRange(from: .min, to: .max)

    func contains(_ t: Int64) -> Bool { t >= from && t < to }
    func overlaps(min: Int64, max: Int64) -> Bool { max >= from && min < to }
    func covers(min: Int64, max: Int64) -> Bool { min >= from && max < to }
}

/// Stops a query at its deadline, when its task is cancelled, or when `cancel()` is called on
/// its `Cancellation` (for queries run on threads outside Swift concurrency).
public struct Deadline: Sendable {
    let instant: ContinuousClock.Instant?
    let cancellation: Cancellation?
    public init(timeout: Duration?, cancellation: Cancellation? = nil) {
        instant = timeout.map { ContinuousClock.now + $0 }
        self.cancellation = cancellation
    }
    public static let none = Deadline(timeout: nil)

    /// A flag another thread can raise.
    public final class Cancellation: Sendable {
        private let flag = Mutex(false)
        public init() {}
        public func cancel() { flag.withLock { $0 = true } }
        public var isCancelled: Bool { flag.withLock { $0 } }
    }

    func check() throws {
        if Task.isCancelled || cancellation?.isCancelled == true { throw QueryError(.cancelled, "the query was cancelled") }
        if let instant, ContinuousClock.now > instant {
            throw QueryError(.timeout, "the query ran past its time limit; narrow the time range or the query")
        }
    }
}

/// What an execution did (for `--explain`, tests and metrics).
public struct ExecutionStatistics: Sendable, Hashable {
    public var segments = 0
    /// Segments outside the time range or otherwise skipped without an index lookup.
    public var segmentsSkipped = 0
    public var blocks = 0
    /// Blocks ruled out by time, labels or the index without reading them.
    public var blocksPruned = 0
    /// Blocks answered from metadata alone (counts, stats, histograms).
    public var blocksFromMetadata = 0
    /// Blocks read and decompressed (any columns).
    public var blocksDecoded = 0
    public var rowsExamined = 0
    public var headRecords = 0
    public var termLookups = 0
}

public struct SearchResult: Sendable {
    /// In the requested order, at most `limit`.
    public var records: [LogRecord]
    /// Present when the page is full: pass it back for the next page.
    public var nextCursor: Cursor?
    public var statistics: ExecutionStatistics
    /// Segments that failed a read (the answer lacks their records; the collector quarantines them).
    public var damagedSegments: [DamagedSegment]
}

public struct DamagedSegment: Sendable, Hashable {
    public var path: String
    public var reason: String
}

public struct CountResult: Sendable {
    public var count: Int
    public var statistics: ExecutionStatistics
    public var damagedSegments: [DamagedSegment]
}

public struct StatsResult: Sendable {
    public struct Group: Sendable, Hashable {
        /// One value per `by` field; nil when the record lacks the field.
        public var values: [String?]
        public var count: Int
    }
    public var fields: [Field]
    /// Largest count first, ties by values.
    public var groups: [Group]
    public var total: Int
    /// Groups beyond the limit, folded into this many records.
    public var otherGroups: Int
    public var otherCount: Int
    public var statistics: ExecutionStatistics
    public var damagedSegments: [DamagedSegment]
}

public struct HistogramResult: Sendable {
    public struct Bucket: Sendable, Hashable {
        public var start: Int64
        public var count: Int
    }
    public var interval: Int64
    /// Every bucket of the range, in time order (empty ones included).
    public var buckets: [Bucket]
    public var total: Int
    public var statistics: ExecutionStatistics
    public var damagedSegments: [DamagedSegment]
}

/// Runs compiled queries over one consistent store snapshot: candidate blocks from the term
/// index and block metadata (time, resources), then exact verification of each candidate row
/// with the same evaluator that defines a match. Segments are immutable and the head is a value,
/// so a query sees one moment even while ingestion, flush and compaction go on.
public struct QueryEngine: Sendable {
    public let snapshot: StoreView
    public static let maxBuckets = 10_000

    /// What a query reads: immutable segments and the head's records at one moment, from a
    /// running store or from `DataDirectoryReader`.
    public typealias StoreView = LogStore.Snapshot

    public init(snapshot: StoreView) { self.snapshot = snapshot }

    // MARK: Search

    public func search(
        _ plan: QueryPlan, range: TimeRange, order: ResultOrder = .newestFirst, limit: Int = 100, cursor: Cursor? = nil,
        deadline: Deadline = .none
    ) throws -> SearchResult {
        if let cursor, cursor.order != order {
            throw QueryError(.badCursor, "the cursor was issued for the \(cursor.order == .newestFirst ? "newest-first" : "oldest-first") order; repeat the query in that order")
        }
        var range = range
        if let cursor {
            // Nothing beyond the cursor's timestamp can follow it.
            if order == .newestFirst {
                range.to = min(range.to, cursor.key.timestamp == .max ? .max : cursor.key.timestamp + 1)
            } else {
                range.from = max(range.from, cursor.key.timestamp)
            }
        }
        var top = TopRecords(limit: max(0, limit), order: order)
        var statistics = ExecutionStatistics()
        var damaged: [DamagedSegment] = []
        let evaluator = RowEvaluator(plan)
        var afterCursor = CursorFilter(cursor: cursor)

        statistics.headRecords = snapshot.head.count
        for (i, record) in snapshot.head.enumerated() where range.contains(record.timestamp) {
            if i & 4095 == 0 { try deadline.check() }
            guard top.couldAccept(timestamp: record.timestamp) || afterCursor.isAtKeyTimestamp(record.timestamp) else { continue }
            var row = RecordRow(record)
            guard evaluator.matches(&row) else { continue }
            let key = OrderKey(record)
            guard afterCursor.admits(key) else { continue }
            top.offer(key, record)
        }

        let segments = snapshot.segments.sorted {
            order == .newestFirst ? $0.info.maxTime > $1.info.maxTime : $0.info.minTime < $1.info.minTime
        }
        for segment in segments {
            statistics.segments += 1
            statistics.blocks += segment.blocks.count
            guard segment.info.rowCount > 0, range.overlaps(min: segment.info.minTime, max: segment.info.maxTime),
                top.couldAccept(timestamp: order == .newestFirst ? segment.info.maxTime : segment.info.minTime)
            else {
                statistics.segmentsSkipped += 1
                statistics.blocksPruned += segment.blocks.count
                continue
            }
            do {
                try searchSegment(
                    segment, plan, range, order, evaluator, &top, &afterCursor, &statistics, &damaged, deadline)
            } catch let error as QueryError {
                throw error
            } catch {
                Self.note(segment, error, in: &damaged)
            }
        }
        let page = top.sorted()
        let next = page.count == limit && limit > 0 ? Cursor.after(page, order: order, previous: cursor) : nil
        return SearchResult(records: page.map(\.record), nextCursor: next, statistics: statistics, damagedSegments: damaged)
    }

    private func searchSegment(
        _ segment: SegmentReader, _ plan: QueryPlan, _ range: TimeRange, _ order: ResultOrder, _ evaluator: RowEvaluator,
        _ top: inout TopRecords, _ afterCursor: inout CursorFilter, _ statistics: inout ExecutionStatistics,
        _ damaged: inout [DamagedSegment], _ deadline: Deadline
    ) throws {
        let (candidates, blocks) = try candidateBlocks(segment, plan, range, &statistics)
        let ordered = blocks.sorted {
            let a = segment.blocks[$0]
            let b = segment.blocks[$1]
            return order == .newestFirst ? a.maxTime > b.maxTime : a.minTime < b.minTime
        }
        var rows: [Int] = []
        for (position, b) in ordered.enumerated() {
            try deadline.check()
            let meta = segment.blocks[b]
            guard top.couldAccept(timestamp: order == .newestFirst ? meta.maxTime : meta.minTime) else {
                // Blocks are visited best first: none of the rest can enter either.
                statistics.blocksPruned += ordered.count - position
                break
            }
            let everyRow = candidates.certain.contains(b) && range.covers(min: meta.minTime, max: meta.maxTime)
            rows.removeAll(keepingCapacity: true)
            var block: DecodedBlock
            do {
            if everyRow {
                block = try segment.readBlock(b)
                rows.append(contentsOf: 0..<meta.rowCount)
            } else {
                block = try segment.readBlock(b, columns: plan.columns)
                var view = BlockRow(block)
                for row in 0..<meta.rowCount {
                    let t = block.timestamp(at: row)
                    guard range.contains(t), top.couldAccept(timestamp: t) || afterCursor.isAtKeyTimestamp(t) else { continue }
                    view.row = row
                    if evaluator.matches(&view) { rows.append(row) }
                }
                statistics.rowsExamined += meta.rowCount
                if !rows.isEmpty && plan.columns != .all { block = try segment.readBlock(b) }
            }
            } catch {
                // A damaged block fails alone (docs/FORMAT.md); the others still answer.
                Self.note(segment, error, in: &damaged)
                continue
            }
            statistics.blocksDecoded += 1
            for row in rows {
                let t = block.timestamp(at: row)
                guard top.couldAccept(timestamp: t) || afterCursor.isAtKeyTimestamp(t) else { continue }
                let record = block.record(at: row)
                let key = OrderKey(record)
                guard afterCursor.admits(key) else { continue }
                top.offer(key, record)
            }
        }
    }

    /// Candidate blocks of a segment: the index's `possible` set within the time range.
    private func candidateBlocks(
        _ segment: SegmentReader, _ plan: QueryPlan, _ range: TimeRange, _ statistics: inout ExecutionStatistics
    ) throws -> (Candidates, [Int]) {
        let inRange = BlockSet(capacity: segment.blocks.count, segment.blocks(overlapping: range.from, range.to == .min ? .min : range.to - 1))
        var candidates = Candidates(possible: inRange, certain: inRange)
        if !inRange.isEmpty {
            let selector = SegmentCandidates(segment: segment, plan: plan)
            candidates = try selector.candidates()
            statistics.termLookups += selector.termLookups
            candidates.possible.formIntersection(inRange)
            candidates.certain.formIntersection(inRange)
        }
        let blocks = candidates.possible.members
        statistics.blocksPruned += segment.blocks.count - blocks.count
        return (candidates, blocks)
    }

    // MARK: Aggregations

    public func count(_ plan: QueryPlan, range: TimeRange, deadline: Deadline = .none) throws -> CountResult {
        if let terms = plan.indexTermUnion { return try count(terms: terms, plan, range: range, deadline: deadline) }
        var sink = CountSink()
        let (statistics, damaged) = try aggregate(plan, range: range, sink: &sink, deadline: deadline)
        return CountResult(count: sink.count, statistics: statistics, damagedSegments: damaged)
    }

    /// A query that is an index term or an OR of them (`level:info`, `ns:shop`, `timeout`, a bare
    /// `INFO`): the posting lists hold, per block, how many rows have each term. A block wholly
    /// inside the time range is counted without being read when one term alone occurs in it, or
    /// one term covers all its rows; other blocks (rows with several of the terms, or cut by the
    /// range) are decoded and their rows checked.
    private func count(terms: [String], _ plan: QueryPlan, range: TimeRange, deadline: Deadline) throws -> CountResult {
        var statistics = ExecutionStatistics()
        var damaged: [DamagedSegment] = []
        let evaluator = RowEvaluator(plan)
        var count = 0
        try scanHead(evaluator, range, deadline, &statistics) { _ in count += 1 }
        for segment in segments(overlapping: range, &statistics) {
            do {
                // Per block: the rows of the last term seen there, how many terms occur, the most rows of one.
                var perBlock: [Int: (rows: Int, terms: Int, most: Int)] = [:]
                for term in Set(terms) {
                    for posting in try segment.postings(term: term) where posting.block < segment.blocks.count {
                        var entry = perBlock[posting.block] ?? (0, 0, 0)
                        entry = (posting.rows, entry.terms + 1, max(entry.most, posting.rows))
                        perBlock[posting.block] = entry
                    }
                }
                for (b, entry) in perBlock.sorted(by: { $0.key < $1.key }) {
                    try deadline.check()
                    let meta = segment.blocks[b]
                    guard range.overlaps(min: meta.minTime, max: meta.maxTime) else { continue }
                    if range.covers(min: meta.minTime, max: meta.maxTime) && (entry.terms == 1 || entry.most >= meta.rowCount) {
                        count += entry.terms == 1 ? entry.rows : meta.rowCount
                        statistics.blocksFromMetadata += 1
                        continue
                    }
                    let block = try segment.readBlock(b, columns: plan.columns)
                    statistics.blocksDecoded += 1
                    statistics.rowsExamined += meta.rowCount
                    var view = BlockRow(block)
                    for row in 0..<meta.rowCount where range.contains(block.timestamp(at: row)) {
                        view.row = row
                        if evaluator.matches(&view) { count += 1 }
                    }
                }
            } catch let error as QueryError {
                throw error
            } catch {
                Self.note(segment, error, in: &damaged)
            }
        }
        return CountResult(count: count, statistics: statistics, damagedSegments: damaged)
    }

    /// Passes the head's records that match and fall in `range` to `add`.
    private func scanHead(
        _ evaluator: RowEvaluator, _ range: TimeRange, _ deadline: Deadline, _ statistics: inout ExecutionStatistics,
        _ add: (inout RecordRow) -> Void
    ) throws {
        statistics.headRecords = snapshot.head.count
        for (i, record) in snapshot.head.enumerated() where range.contains(record.timestamp) {
            if i & 4095 == 0 { try deadline.check() }
            var row = RecordRow(record)
            if evaluator.matches(&row) { add(&row) }
        }
    }

    /// The segments that may hold records in `range`; the others are counted as pruned.
    private func segments(overlapping range: TimeRange, _ statistics: inout ExecutionStatistics) -> [SegmentReader] {
        snapshot.segments.filter { segment in
            statistics.segments += 1
            statistics.blocks += segment.blocks.count
            guard segment.info.rowCount > 0, range.overlaps(min: segment.info.minTime, max: segment.info.maxTime) else {
                statistics.segmentsSkipped += 1
                statistics.blocksPruned += segment.blocks.count
                return false
            }
            return true
        }
    }

    /// Counts of matching records grouped by the values of `fields` (`count by ns, pod`).
    public func stats(
        _ plan: QueryPlan, by fields: [Field], range: TimeRange, limit: Int = 1000, deadline: Deadline = .none
    ) throws -> StatsResult {
        var sink = GroupSink(fields: fields)
        let (statistics, damaged) = try aggregate(plan, range: range, sink: &sink, deadline: deadline)
        var groups = sink.counts.map { StatsResult.Group(values: $0.key, count: $0.value) }
        groups.sort { a, b in
            if a.count != b.count { return a.count > b.count }
            return a.values.lexicographicallyPrecedes(b.values) { ($0 ?? "") < ($1 ?? "") }
        }
        let kept = Array(groups.prefix(max(0, limit)))
        let rest = groups.dropFirst(kept.count)
        return StatsResult(
            fields: fields, groups: kept, total: sink.total, otherGroups: rest.count,
            otherCount: rest.reduce(0) { $0 + $1.count }, statistics: statistics, damagedSegments: damaged)
    }

    /// Counts of matching records per `interval` nanoseconds, buckets aligned to the epoch.
    public func histogram(_ plan: QueryPlan, interval: Int64, range: TimeRange, deadline: Deadline = .none) throws -> HistogramResult {
        guard interval > 0 else { throw QueryError(.badParameter, "the histogram interval must be positive") }
        guard range.from > .min, range.to < .max, range.to > range.from else {
            throw QueryError(.badRange, "a histogram needs a bounded time range")
        }
        // Near the start of the nanosecond scale a bucket can begin before Int64.min, and a wide
        // range spans more than 64 bits; such a histogram is refused like one with too many buckets.
        func bucketStart(_ t: Int64) -> Int64? {
            let (quotient, remainder) = t.quotientAndRemainder(dividingBy: interval)
            let (start, overflow) = (remainder < 0 ? quotient - 1 : quotient).multipliedReportingOverflow(by: interval)
            return overflow ? nil : start
        }
        let first = bucketStart(range.from)
        let distance = bucketStart(range.to - 1).flatMap { last in first.flatMap { last.subtractingReportingOverflow($0) } }
        guard let first, let distance, !distance.overflow, distance.partialValue / interval < Int64(Self.maxBuckets) else {
            throw QueryError(
                .tooManyBuckets, "the interval gives more than \(Self.maxBuckets) buckets over this range; choose a larger interval")
        }
        var sink = HistogramSink(first: first, interval: interval, count: Int(distance.partialValue / interval) + 1)
        let (statistics, damaged) = try aggregate(plan, range: range, sink: &sink, deadline: deadline)
        let buckets = sink.counts.enumerated().map { HistogramResult.Bucket(start: first + Int64($0.offset) * interval, count: $0.element) }
        return HistogramResult(
            interval: interval, buckets: buckets, total: sink.counts.reduce(0, +), statistics: statistics, damagedSegments: damaged)
    }

    static func note(_ segment: SegmentReader, _ error: Error, in damaged: inout [DamagedSegment]) {
        if !damaged.contains(where: { $0.path == segment.path }) {
            damaged.append(DamagedSegment(path: segment.path, reason: "\(error)"))
        }
    }

    static func bucket(_ t: Int64, _ interval: Int64) -> Int64 {
        let (q, r) = t.quotientAndRemainder(dividingBy: interval)
        return (r < 0 ? q - 1 : q) * interval
    }

    /// Feeds every matching record to `sink`, letting it answer whole blocks from metadata
    /// where every row matches.
    private func aggregate<Sink: AggregationSink>(
        _ plan: QueryPlan, range: TimeRange, sink: inout Sink, deadline: Deadline
    ) throws -> (ExecutionStatistics, [DamagedSegment]) {
        var statistics = ExecutionStatistics()
        var damaged: [DamagedSegment] = []
        let evaluator = RowEvaluator(plan)
        try scanHead(evaluator, range, deadline, &statistics) { sink.add(&$0) }
        for segment in segments(overlapping: range, &statistics) {
            do {
                let (candidates, blocks) = try candidateBlocks(segment, plan, range, &statistics)
                for b in blocks {
                    try deadline.check()
                    let meta = segment.blocks[b]
                    do {
                    if candidates.certain.contains(b) && range.covers(min: meta.minTime, max: meta.maxTime) {
                        switch try sink.addWholeBlock(segment, meta) {
                        case .fromMetadata:
                            statistics.blocksFromMetadata += 1
                            continue
                        case .fromColumns:
                            statistics.blocksDecoded += 1
                            continue
                        case .no:
                            break
                        }
                        let block = try segment.readBlock(b, columns: sink.columns)
                        statistics.blocksDecoded += 1
                        var view = BlockRow(block)
                        for row in 0..<meta.rowCount {
                            view.row = row
                            sink.add(&view)
                        }
                        continue
                    }
                    let block = try segment.readBlock(b, columns: plan.columns.union(sink.columns))
                    statistics.blocksDecoded += 1
                    statistics.rowsExamined += meta.rowCount
                    var view = BlockRow(block)
                    for row in 0..<meta.rowCount where range.contains(block.timestamp(at: row)) {
                        view.row = row
                        if evaluator.matches(&view) { sink.add(&view) }
                    }
                    } catch let error as QueryError {
                        throw error
                    } catch {
                        Self.note(segment, error, in: &damaged)
                    }
                }
            } catch let error as QueryError {
                throw error
            } catch {
                Self.note(segment, error, in: &damaged)
            }
        }
        return (statistics, damaged)
    }
}

/// Skips what a previous page already returned.
struct CursorFilter {
    let cursor: Cursor?
    private var seenAtKey = 0

    init(cursor: Cursor?) { self.cursor = cursor }

    /// Records at the cursor's own timestamp must be looked at even when the page is full
    /// (they are counted against the ones already returned).
    func isAtKeyTimestamp(_ t: Int64) -> Bool { cursor?.key.timestamp == t }

    mutating func admits(_ key: OrderKey) -> Bool {
        guard let cursor else { return true }
        if key == cursor.key {
            seenAtKey += 1
            return seenAtKey > cursor.returnedAtKey
        }
        return key.precedes(cursor.key, in: cursor.order) == false
    }
}

// MARK: - Sinks

/// How a sink took a block whose every row matches.
enum WholeBlockAnswer {
    /// Not taken: the caller feeds it row by row.
    case no
    /// From the block metadata alone.
    case fromMetadata
    /// From a few cheap columns the sink read itself.
    case fromColumns
}

protocol AggregationSink {
    /// Columns `add` reads from a block row.
    var columns: ColumnSet { get }
    /// A block whose every row matches, offered whole before it is decoded.
    mutating func addWholeBlock(_ segment: SegmentReader, _ block: BlockMeta) throws -> WholeBlockAnswer
    mutating func add<R: RowSource>(_ row: inout R)
}

struct CountSink: AggregationSink {
    var count = 0
    var columns: ColumnSet { [] }
    mutating func addWholeBlock(_ segment: SegmentReader, _ block: BlockMeta) -> WholeBlockAnswer {
        count += block.rowCount
        return .fromMetadata
    }
    mutating func add<R: RowSource>(_ row: inout R) { count += 1 }
}

struct HistogramSink: AggregationSink {
    let first: Int64
    let interval: Int64
    var counts: [Int]
    init(first: Int64, interval: Int64, count: Int) {
        self.first = first
        self.interval = interval
        counts = [Int](repeating: 0, count: count)
    }
    var columns: ColumnSet { .timestamp }
    private func index(_ t: Int64) -> Int? {
        let i = (QueryEngine.bucket(t, interval) - first) / interval
        return i >= 0 && i < Int64(counts.count) ? Int(i) : nil
    }
    mutating func addWholeBlock(_ segment: SegmentReader, _ block: BlockMeta) -> WholeBlockAnswer {
        guard let a = index(block.minTime), a == index(block.maxTime) else { return .no }
        counts[a] += block.rowCount
        return .fromMetadata
    }
    mutating func add<R: RowSource>(_ row: inout R) {
        if let i = index(row.timestamp) { counts[i] += 1 }
    }
}

/// `count by <fields>`. A field's group value is the record's first value for it (resource
/// before record attributes), nil when absent; flags join their names with ','.
struct GroupSink: AggregationSink {
    let fields: [Field]
    var counts: [[String?]: Int] = [:]
    var total = 0
    let columns: ColumnSet
    private let resourceOnly: Bool
    /// Per segment: the group values a resource implies (when the resource alone decides them).
    private var resourceKeys: (path: String, keys: [[String?]?])?

    init(fields: [Field]) {
        self.fields = fields
        var columns: ColumnSet = []
        for field in fields { columns.formUnion(QueryPlan.columns(of: field)) }
        self.columns = columns
        resourceOnly = fields.allSatisfy { if case .attribute = $0 { true } else { false } }
    }

    mutating func addWholeBlock(_ segment: SegmentReader, _ block: BlockMeta) throws -> WholeBlockAnswer {
        if fields.isEmpty {
            total += block.rowCount
            counts[[], default: 0] += block.rowCount
            return .fromMetadata
        }
        guard resourceOnly else { return .no }
        if resourceKeys?.path != segment.path {
            resourceKeys = (segment.path, segment.resources.map { resource in
                var values: [String?] = []
                for field in fields {
                    guard case .attribute(let key) = field, let value = resource[key] else { return nil }
                    values.append(value)
                }
                return values
            })
        }
        guard let resourceKeys = resourceKeys?.keys else { return .no }
        if block.minResource == block.maxResource {
            // Without the resource holding every key, record attributes could supply values.
            guard let keys = resourceKeys[block.minResource] ?? (block.storedBytes(of: .attributes) == 0 ? absentValues(segment.resources[block.minResource]) : nil)
            else { return .no }
            total += block.rowCount
            counts[keys, default: 0] += block.rowCount
            return .fromMetadata
        }
        // Several resources, each holding every key: a resource's value comes before a record
        // attribute's, so the small resource column decides and the attributes stay compressed.
        var keys: [[String?]] = []
        keys.reserveCapacity(block.maxResource - block.minResource + 1)
        for resource in block.minResource...block.maxResource {
            guard let values = resourceKeys[resource] else { return .no }
            keys.append(values)
        }
        let decoded = try segment.readBlock(block.index, columns: [.resource])
        var rowsPerResource = [Int](repeating: 0, count: keys.count)
        for resource in decoded.resourceIndexes {
            let i = Int(resource) - block.minResource
            guard rowsPerResource.indices.contains(i) else { return .no }  // the reader checks this range
            rowsPerResource[i] += 1
        }
        for (i, rows) in rowsPerResource.enumerated() where rows > 0 {
            total += rows
            counts[keys[i], default: 0] += rows
        }
        return .fromColumns
    }

    /// Group values from a resource alone (the block has no record attributes).
    private func absentValues(_ resource: Resource) -> [String?] {
        fields.map { field in
            if case .attribute(let key) = field { return resource[key] }
            return nil
        }
    }

    mutating func add<R: RowSource>(_ row: inout R) {
        var values: [String?] = []
        values.reserveCapacity(fields.count)
        for field in fields { values.append(Self.value(field, &row)) }
        total += 1
        counts[values, default: 0] += 1
    }

    static func value<R: RowSource>(_ field: Field, _ row: inout R) -> String? {
        switch field {
        case .severity: return row.severity?.name
        case .stream: return row.stream.name
        case .traceID: return row.traceID?.description
        case .spanID: return row.spanID?.description
        case .template:
            let id = row.templateID
            return id == 0 ? nil : String(id)
        case .flag:
            let flags = row.flags.rawValue
            guard flags != 0 else { return nil }
            return (0..<32).filter { flags & (1 << UInt32($0)) != 0 }.map(RowEvaluator.flagName(bit:)).joined(separator: ",")
        case .attribute(let key):
            var found: String?
            _ = row.anyValue(of: key) { value in
                found = value
                return true
            }
            return found
        }
    }
}
