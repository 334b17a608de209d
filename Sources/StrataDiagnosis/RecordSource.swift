import StrataCore

/// Where a diagnosis reads records from: records in memory here; a store snapshot is read by
/// `SnapshotRecordSource`, where store and diagnosis meet (StrataServer).
public protocol RecordSource {
    /// Every record with `from <= timestamp < to`, in any order.
    func records(in range: TimeRange) throws -> [LogRecord]

    /// The same records, in the same order, handed to `body` a chunk at a time. A diagnosis
    /// aggregates them chunk by chunk (`Diagnoser.diagnose(window:baseline:source:)`), so a
    /// source that reads in pieces never holds a whole range: a diagnosis over a day of a busy
    /// store took 915 MB when every record sat in one array.
    func forEachChunk(in range: TimeRange, _ body: ([LogRecord]) throws -> Void) throws
}

extension RecordSource {
    /// One chunk: the whole range. Sources already in memory lose nothing by it.
    public func forEachChunk(in range: TimeRange, _ body: ([LogRecord]) throws -> Void) throws {
        try body(records(in: range))
    }
}

/// Which clock places a record in time. The container runtime stamps every line on the node
/// with one clock; applications stamp their own, in their own time zone and with their own
/// skew. When the collector replaced the runtime time by the application's, it kept the
/// former in `k8s.runtime.time` (docs/PARSERS.md), and `.runtime` uses it: the diagnosis
/// compares workloads against each other, so they must share a clock.
public struct RecordClock: Sendable, Hashable {
    public static let runtimeTimeKey = "k8s.runtime.time"

    /// Use the runtime time when the record kept it.
    public var preferRuntime: Bool
    /// How far a stored (application) time may be from the runtime time: the store prunes by
    /// stored time, so reads widen by this much. The collector accepts application times
    /// within one day of the runtime's.
    public var margin: Int64

    public static func runtime(margin: Int64 = 24 * 3600 * 1_000_000_000) -> RecordClock {
        RecordClock(preferRuntime: true, margin: margin)
    }

    /// The stored timestamp as is.
    public static let stored = RecordClock(preferRuntime: false, margin: 0)

    /// The time of a record stored at `stored` that kept the runtime time `runtime`.
    public func time(stored: Int64, runtime: String?) -> Int64 {
        guard preferRuntime, let runtime, let parsed = RFC3339Parser.parse(runtime) else { return stored }
        return parsed
    }

    public func time(of record: LogRecord) -> Int64 {
        guard preferRuntime else { return record.timestamp }
        return time(stored: record.timestamp, runtime: record.attributes.first { $0.key == Self.runtimeTimeKey }?.value)
    }
}

/// Records already in memory (tests, the continuous detector's sliding window).
public struct InMemoryRecordSource: RecordSource {
    public var records: [LogRecord]
    public var clock: RecordClock

    public init(records: [LogRecord], clock: RecordClock = .stored) {
        self.records = records
        self.clock = clock
    }

    public func records(in range: TimeRange) throws -> [LogRecord] {
        records.compactMap { record in
            let time = clock.time(of: record)
            guard range.contains(time) else { return nil }
            var copy = record
            copy.timestamp = time
            return copy
        }
    }
}

public enum DiagnosisError: Error, CustomStringConvertible, Equatable {
    case unreadableSegment(path: String, reason: String)
    case invalidRange(String)

    public var description: String {
        switch self {
        case .unreadableSegment(let path, let reason):
            "segment \(path) could not be read (\(reason)); the collector quarantines such segments at its next start"
        case .invalidRange(let message): message
        }
    }
}

extension Diagnoser {
    /// Reads both ranges from `source` and diagnoses them.
    public func diagnose(window: TimeRange, baseline: TimeRange, source: some RecordSource) throws -> DiagnosisReport {
        guard window.to > window.from else {
            throw DiagnosisError.invalidRange("the window is empty: --to must be after --from")
        }
        guard baseline.to > baseline.from else {
            throw DiagnosisError.invalidRange("the baseline is empty: --baseline-to must be after --baseline-from")
        }
        // What `diagnose(window:windowRecords:baseline:baselineRecords:)` does, fed a chunk at a
        // time in the same order: the baseline, then the window. The profiles keep counts, not
        // records, so the result is the same and memory no longer grows with the records read.
        var table = WorkloadTable()
        var events = EventTable()
        var before = RangeProfile(range: baseline)
        try source.forEachChunk(in: baseline) { chunk in
            before.add(chunk, table: &table, events: &events, templater: templater, keepExamples: false)
        }
        var during = RangeProfile(range: window)
        try source.forEachChunk(in: window) { chunk in
            during.add(chunk, table: &table, events: &events, templater: templater, keepExamples: true)
        }
        var analysis = Analysis(
            configuration: configuration, table: table, events: events, window: during, baseline: before,
            templater: templater)
        return analysis.report(generatedAt: WallClock.nowNanos())
    }
}
