#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import StrataCore
import Synchronization

public struct StoreOptions: Sendable {
    /// The head is flushed into segments beyond this many uncompressed bytes...
    public var headFlushBytes = 64 << 20
    /// ... and refuses new batches (the server answers 429) beyond this many.
    public var headLimitBytes = 256 << 20
    /// Batch ids remembered for deduplication.
    public var dedupWindowNanos: Int64 = 24 * 3600 * 1_000_000_000
    public var dedupMaxBatches = 500_000
    public var segment = SegmentOptions()
    /// Records older than this (by timestamp) are refused at ingest and removed by retention.
    public var retentionNanos: Int64 = 7 * 24 * 3600 * 1_000_000_000
    public var retentionBytes: Int64 = .max
    public init() {}
}

public enum IngestResult: Sendable, Equatable {
    /// Durable in the write-ahead log; `tooOld` records were refused by retention.
    case stored(records: Int, tooOld: Int)
    /// This batch id was stored before: acknowledged, not stored again.
    case duplicate
}

public struct StoreFullError: Error, CustomStringConvertible {
    public var headBytes: Int
    public var description: String {
        "the in-memory head holds \(headBytes) bytes and is being flushed; retry shortly"
    }
}

/// The collector's store: a write-ahead log, an in-memory head that is searchable at once, and
/// immutable segments partitioned by hour, listed in an atomically replaced manifest.
public final class LogStore: @unchecked Sendable {
    public let directory: String
    public let options: StoreOptions
    private let logger: Logger
    private let wal: WriteAheadLog
    private let state: Mutex<State>
    /// Serializes flushes and retention (the manifest has one writer).
    private let maintenance = Mutex(())

    struct State {
        var manifest: Manifest
        var readers: [String: SegmentReader] = [:]
        var head: [HeadEntry] = []
        var headBytes = 0
        var recent: Set<BatchID> = []
    }

    struct HeadEntry {
        var sequence: UInt64
        var records: [LogRecord]
        var bytes: Int
    }

    public struct Statistics: Sendable {
        public var segments: Int
        public var segmentBytes: Int64
        public var headRecords: Int
        public var headBytes: Int
        public var walBytes: Int64
        public var quarantined: Int
    }

    public init(directory: String, options: StoreOptions = StoreOptions(), logger: Logger) throws {
        self.directory = directory
        self.options = options
        self.logger = logger
        try StoreFiles.makeDirectory(directory + "/segments")
        try StoreFiles.makeDirectory(directory + "/quarantine")
        var manifest = Manifest()
        let manifestPath = directory + "/manifest.json"
        if StoreFiles.size(manifestPath) != nil {
            let bytes = try StoreFiles.read(manifestPath)
            do {
                manifest = try JSONDecoder().decode(Manifest.self, from: Data(bytes))
            } catch {
                throw StoreError(.corrupt, "\(manifestPath): unreadable catalog (\(error)); restore it from a backup or move it away to rebuild from the segments")
            }
            guard manifest.version <= Manifest.version else {
                throw StoreError(.unsupportedVersion, "\(manifestPath): catalog version \(manifest.version) is newer than this build reads (\(Manifest.version))")
            }
        }
        var state = State(manifest: manifest)
        // Open every live segment; one that fails its checks is quarantined, the rest serve.
        for segment in manifest.segments {
            do {
                state.readers[segment.file] = try SegmentReader(path: directory + "/" + segment.file)
            } catch {
                Self.quarantine(segment.file, reason: "\(error)", state: &state, directory: directory, logger: logger)
            }
        }
        state.recent = Set(manifest.recentBatches.compactMap { BatchID(string: $0.id) })
        wal = try WriteAheadLog(directory: directory + "/wal")
        let flushedThrough = manifest.flushedThrough
        var replayed = 0
        let report = try wal.replay { entry in
            guard entry.sequence >= flushedThrough else { return }
            guard let batch = try? WireBatch.decode(entry.payload) else {
                logger.error("write-ahead log entry \(entry.sequence) does not decode; skipped")
                return
            }
            // Two concurrent requests with one batch id can both reach the log; only the first
            // counts, as it did before the crash.
            guard state.recent.insert(batch.id).inserted else { return }
            state.head.append(HeadEntry(sequence: entry.sequence, records: batch.records, bytes: entry.payload.count))
            state.headBytes += batch.records.reduce(0) { $0 + $1.body.utf8.count + 64 }
            replayed += batch.records.count
        }
        if report.truncatedBytes > 0 {
            logger.warning("write-ahead log had a torn tail of \(report.truncatedBytes) bytes (a crash mid-write); it was never acknowledged and was removed")
        }
        if report.corruptEntries > 0 {
            logger.error("write-ahead log had \(report.corruptEntries) damaged entries; they were skipped")
        }
        if replayed > 0 { logger.info("replayed \(replayed) records from the write-ahead log") }
        self.state = Mutex(state)
        if manifest.quarantined.count != state.manifest.quarantined.count { try writeManifest() }
    }

    private static func quarantine(
        _ file: String, reason: String, state: inout State, directory: String, logger: Logger
    ) {
        let name = file.split(separator: "/").last.map(String.init) ?? file
        let target = "quarantine/" + name
        rename(directory + "/" + file, directory + "/" + target)
        state.manifest.segments.removeAll { $0.file == file }
        state.readers[file] = nil
        state.manifest.quarantined.append(.init(file: target, reason: reason, at: Clock.nowNanos()))
        logger.error("segment \(file) failed its checks and was moved to \(target): \(reason)")
    }

    // MARK: - Ingest

    /// Stores a batch durably (fsynced in the write-ahead log) before returning. A batch id
    /// seen before returns `.duplicate` without storing anything.
    public func ingest(batchID: BatchID?, records: [LogRecord], now: Int64 = Clock.nowNanos()) throws -> IngestResult {
        let id = batchID ?? BatchID.random()
        let oldest = now - options.retentionNanos
        let kept = records.filter { $0.timestamp >= oldest }
        let headBytes = try state.withLock { state -> Int in
            if state.recent.contains(id) { return -1 }
            if state.headBytes >= options.headLimitBytes { throw StoreFullError(headBytes: state.headBytes) }
            return state.headBytes
        }
        if headBytes < 0 { return .duplicate }
        var encoder = BatchEncoder()
        var resourceIndexes: [Resource: Int] = [:]
        for record in kept {
            let index = resourceIndexes[record.resource] ?? encoder.resourceIndex(source: resourceIndexes.count) { record.resource }
            resourceIndexes[record.resource] = index
            encoder.append(record, resourceIndex: index)
        }
        let frame = try encoder.encode(id: id, codec: .zstd, level: 1)
        // The append (and its fsync) happens outside the state lock, so searches go on; a
        // concurrent duplicate of the same id is caught again below.
        let sequence = try wal.append([frame])[0]
        let bytes = kept.reduce(0) { $0 + $1.body.utf8.count + 64 }
        let shouldFlush = state.withLock { state -> Bool in
            if state.recent.insert(id).inserted {
                state.head.append(HeadEntry(sequence: sequence, records: kept, bytes: frame.count))
                state.headBytes += bytes
            }
            return state.headBytes >= options.headFlushBytes
        }
        if shouldFlush { try flush() }
        return .stored(records: kept.count, tooOld: records.count - kept.count)
    }

    // MARK: - Flush

    /// Writes the head into segments (one per hour partition), swaps them into the manifest
    /// atomically, then drops the write-ahead log entries they cover.
    public func flush() throws {
        try maintenance.withLock { _ in
            let (entries, nextNumber) = state.withLock { ($0.head, $0.manifest.nextSegmentNumber) }
            guard let last = entries.last else { return }
            var byPartition: [Int64: [LogRecord]] = [:]
            for entry in entries {
                for record in entry.records {
                    byPartition[Self.partition(of: record.timestamp), default: []].append(record)
                }
            }
            var written: [Manifest.Segment] = []
            var number = nextNumber
            for (partition, records) in byPartition.sorted(by: { $0.key < $1.key }) {
                let hour = RFC3339.format(nanos: partition).prefix(13).replacingOccurrences(of: ":", with: "")
                let relative = "segments/\(hour)/\(String(number).leftPadded(to: 12)).\(SegmentFormat.fileExtension)"
                try StoreFiles.makeDirectory(directory + "/segments/\(hour)")
                let info = try SegmentWriter.write(records, to: directory + "/" + relative, options: options.segment)
                written.append(.init(file: relative, partition: partition, info: info))
                number += 1
            }
            var readers: [String: SegmentReader] = [:]
            for segment in written { readers[segment.file] = try SegmentReader(path: directory + "/" + segment.file) }
            let flushedThrough = last.sequence + 1
            try state.withLock { state in
                var manifest = state.manifest
                manifest.segments += written
                manifest.nextSegmentNumber = number
                manifest.flushedThrough = flushedThrough
                manifest.recentBatches = Self.pruneRecent(state.recent, old: manifest.recentBatches, options: options)
                try Self.write(manifest, to: directory)
                state.manifest = manifest
                state.readers.merge(readers) { $1 }
                state.head.removeFirst(entries.count)
                state.headBytes = state.head.reduce(0) { total, entry in
                    total + entry.records.reduce(0) { $0 + $1.body.utf8.count + 64 }
                }
            }
            try wal.removeEntries(before: flushedThrough)
        }
    }

    static func partition(of timestamp: Int64) -> Int64 {
        let hour: Int64 = 3600 * 1_000_000_000
        return timestamp >= 0 ? timestamp / hour * hour : (timestamp - hour + 1) / hour * hour
    }

    private static func pruneRecent(_ recent: Set<BatchID>, old: [Manifest.RecentBatch], options: StoreOptions)
        -> [Manifest.RecentBatch]
    {
        let now = Clock.nowNanos()
        var seen = Dictionary(old.map { ($0.id, $0.at) }, uniquingKeysWith: max)
        for id in recent where seen[id.description] == nil { seen[id.description] = now }
        return seen.filter { now - $0.value < options.dedupWindowNanos }
            .sorted { $0.value > $1.value }.prefix(options.dedupMaxBatches)
            .map { Manifest.RecentBatch(id: $0.key, at: $0.value) }
    }

    private static func write(_ manifest: Manifest, to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try StoreFiles.writeDurably(Array(try encoder.encode(manifest)), to: directory + "/manifest.json")
    }

    private func writeManifest() throws {
        try state.withLock { try Self.write($0.manifest, to: directory) }
    }

    // MARK: - Reading

    /// A consistent view for readers: the segments and head at one moment. Segments are
    /// immutable and the head entries are values, so the snapshot stays valid while ingest,
    /// flush and compaction go on.
    public struct Snapshot: Sendable {
        public var segments: [SegmentReader]
        public var head: [LogRecord]
    }

    public func snapshot() -> Snapshot {
        state.withLock { state in
            Snapshot(
                segments: state.manifest.segments.compactMap { state.readers[$0.file] },
                head: state.head.flatMap(\.records))
        }
    }

    public var statistics: Statistics {
        let walBytes = wal.totalBytes
        return state.withLock { state in
            Statistics(
                segments: state.manifest.segments.count,
                segmentBytes: state.manifest.segments.reduce(0) { $0 + Int64($1.info.bytes) },
                headRecords: state.head.reduce(0) { $0 + $1.records.count }, headBytes: state.headBytes,
                walBytes: walBytes, quarantined: state.manifest.quarantined.count)
        }
    }

    /// Moves a segment that failed a read aside (queries report it; the rest keeps serving).
    public func quarantine(segmentPath: String, reason: String) {
        let prefix = directory + "/"
        guard segmentPath.hasPrefix(prefix) else { return }
        let file = String(segmentPath.dropFirst(prefix.count))
        state.withLock { state in
            guard state.manifest.segments.contains(where: { $0.file == file }) else { return }
            Self.quarantine(file, reason: reason, state: &state, directory: directory, logger: logger)
            try? Self.write(state.manifest, to: directory)
        }
    }
}
