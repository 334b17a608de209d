#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import StrataCore
import Synchronization

public enum IngestResult: Sendable, Equatable {
    /// Durable in the write-ahead log; `tooOld` records were refused by retention;
    /// `duplicateRecords` were at or below their source's highest stored position (stored
    /// before, by a batch with another id: an agent re-read them after a restart).
    case stored(records: Int, tooOld: Int, duplicateRecords: Int = 0)
    /// This batch id was stored before: acknowledged, not stored again.
    case duplicate
}

public struct StoreFullError: Error, CustomStringConvertible {
    public var headBytes: Int
    public var description: String {
        "the in-memory head holds \(headBytes) bytes and is being flushed; retry shortly"
    }
}

/// Ingest refused because the disk budget or the file system's free-space reserve is used up.
public struct DiskFullError: Error, CustomStringConvertible {
    public enum Limit: Sendable, Equatable {
        /// Segments + write-ahead log would pass `StoreOptions.diskBudgetBytes`.
        case budget(used: Int64, budget: Int64)
        /// The file system has less than `StoreOptions.minFreeDiskBytes` available.
        case freeSpace(available: Int64, reserve: Int64)
    }
    public var limit: Limit
    public var description: String {
        switch limit {
        case .budget(let used, let budget):
            "the data directory holds \(Self.readable(used)) of its \(Self.readable(budget)) disk budget; "
                + "retry later, or raise storage.disk_budget or lower retention.max_size / retention.max_age"
        case .freeSpace(let available, let reserve):
            "the file system holding the data directory has \(Self.readable(available)) free, less than the "
                + "\(Self.readable(reserve)) reserve (storage.min_free_disk); retry later, or free space on it"
        }
    }

    /// "1.5 GiB": exact byte counts of a few gigabytes are unreadable in an error message.
    static func readable(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\(String(format: "%.1f", value)) \(units[unit])"
    }
}

/// The collector's store: a write-ahead log, an in-memory head that is searchable at once, and
/// immutable segments partitioned by hour, listed in an atomically replaced manifest.
///
/// Ingest only appends to the write-ahead log and the head; segments are written by `flush()`,
/// `compactOnce()` and `applyRetention()`, which `StoreMaintenance` runs on background threads.
///
/// Locks, always taken in this order when nested: `flushLock` / `rewriteLock` (one flush and one
/// compaction or retention pass at a time; they run concurrently with each other), then
/// `commitLock` (every change of the manifest: compute, write durably, install), then `state`
/// (short: never held across I/O except the fsync-free bookkeeping). `ingestLock` is held across
/// the write-ahead-log append and the head insert so that the head is in log order, which
/// `flushedThrough` relies on.
public final class LogStore: @unchecked Sendable {
    public let directory: String
    public let options: StoreOptions
    let logger: Logger
    /// Held for the life of the store: one writer per data directory.
    private let directoryLock: DataDirectoryLock
    private let wal: WriteAheadLog
    let state: Mutex<State>
    private let flushLock = Mutex(())
    let rewriteLock = Mutex(())
    let commitLock = Mutex(())
    private let ingestLock = Mutex(())
    /// Signalled when the head passes `headFlushBytes`; the background flusher waits on it.
    public let flushWanted = MonotonicCondition()
    /// Signalled after a flush wrote segments; the background compactor waits on it.
    public let compactionWanted = MonotonicCondition()

    struct State {
        var manifest: Manifest
        var readers: [String: SegmentReader] = [:]
        var head: [HeadEntry] = []
        var headBytes = 0
        var recent: Set<BatchID> = []
        /// The flushed memory of the manifest plus every batch in the head.
        var sources = SourceMemory()
        var counters = MaintenanceCounters()
        var arrivals = ArrivalState()
    }

    struct HeadEntry {
        var sequence: UInt64
        var id: BatchID
        var records: [LogRecord]
        /// The head's accounting of the records (body bytes + 64 each).
        var bytes: Int
        /// The arrival number of the first record (`arrivals(after:)`).
        var firstArrival: UInt64
        /// The highest position of each source among the records, and when they were stored:
        /// what a flush adds to the manifest's source memory.
        var advanced: [FileSource: SourceOffset] = [:]
        var storedAt: Int64 = 0
    }

    public struct Statistics: Sendable {
        public var segments: Int
        public var segmentBytes: Int64
        public var headRecords: Int
        public var headBytes: Int
        public var walBytes: Int64
        /// Free space on the data directory's file system (nil when it cannot be read).
        public var availableDiskBytes: Int64?
        /// Segments on record in the manifest's quarantine list.
        public var quarantined: Int
        /// Live segments per hour partition (start of the hour, ns) — how much compaction has left.
        public var partitions: Int
        public var segmentRecords: Int
        /// Sources whose highest stored position is remembered (`SourceMemory`).
        public var sources: Int
        public var maintenance: MaintenanceCounters
    }

    public init(directory: String, options: StoreOptions = StoreOptions(), logger: Logger) throws {
        self.directory = directory
        self.options = options
        self.logger = logger
        try StoreFiles.makeDirectory(directory)
        // Before anything below repairs or deletes a file.
        directoryLock = try DataDirectoryLock(directory: directory)
        try StoreFiles.makeDirectory(directory + "/segments")
        try StoreFiles.makeDirectory(directory + "/quarantine")
        var manifest = Manifest()
        let manifestPath = directory + "/manifest.json"
        if StoreFiles.size(manifestPath) != nil {
            manifest = try Manifest.decode(try StoreFiles.read(manifestPath), path: manifestPath)
        }
        let loadedVersion = manifest.version
        manifest.version = Manifest.version
        var state = State(manifest: manifest)
        // Open every live segment; one that fails its checks is quarantined, the rest serve.
        for segment in manifest.segments {
            do {
                state.readers[segment.file] = try SegmentReader(path: directory + "/" + segment.file)
            } catch {
                Self.quarantine(segment.file, reason: "\(error)", state: &state, directory: directory, logger: logger)
            }
        }
        Self.removeLeftovers(directory: directory, live: Set(state.manifest.segments.map(\.file)), logger: logger)
        state.recent = Set(manifest.recentBatches.compactMap { BatchID(string: $0.id) })
        state.sources = manifest.sourceMemory
        let openedAt = WallClock.nowNanos()
        wal = try WriteAheadLog(directory: directory + "/wal")
        let flushedThrough = manifest.flushedThrough
        var replayed = 0
        let report = try wal.replay { entry in
            guard
                let batch = Self.unflushedBatch(
                    entry, flushedThrough: flushedThrough, seen: &state.recent,
                    problem: { logger.error("\($0)") })
            else { return }
            let bytes = Self.accountedBytes(batch.records)
            let firstArrival = state.arrivals.number(batch.records.count)
            // Positions travel in the log entry, so a crash between append and flush forgets none.
            let advanced = Self.highestPositions(batch.positions)
            state.sources.record(advanced, at: openedAt)
            state.head.append(
                HeadEntry(
                    sequence: entry.sequence, id: batch.id, records: batch.records, bytes: bytes,
                    firstArrival: firstArrival, advanced: advanced, storedAt: openedAt))
            state.headBytes += bytes
            replayed += batch.records.count
        }
        wal.advanceSequence(toAtLeast: flushedThrough)
        if report.truncatedBytes > 0 {
            logger.warning("write-ahead log had a torn tail of \(report.truncatedBytes) bytes (a crash mid-write); it was never acknowledged and was removed")
        }
        if report.corruptEntries > 0 {
            logger.error("write-ahead log had \(report.corruptEntries) damaged entries; they were skipped")
        }
        if replayed > 0 { logger.info("replayed \(replayed) records from the write-ahead log") }
        let quarantinedNow = state.manifest.quarantined.count != manifest.quarantined.count
        self.state = Mutex(state)
        if quarantinedNow || loadedVersion != Manifest.version {
            try writeCurrentManifest()
        }
    }

    private func writeCurrentManifest() throws {
        try commitLock.withLock { _ in
            let manifest = state.withLock { $0.manifest }
            try Self.write(manifest, to: directory)
        }
    }

    /// Deletes what an interrupted flush, compaction or retention pass left behind: temporary
    /// files, segment files the manifest does not list (written before a crash kept the manifest
    /// from naming them, or replaced by a compaction whose input deletion did not finish) and
    /// empty partition directories. Only called at start, before any background work.
    private static func removeLeftovers(directory: String, live: Set<String>, logger: Logger) {
        guard let partitions = try? StoreFiles.list(directory + "/segments") else { return }
        var removed = 0
        for partition in partitions {
            let relative = "segments/" + partition
            guard let names = try? StoreFiles.list(directory + "/" + relative) else { continue }
            var remaining = names.count
            for name in names {
                let file = relative + "/" + name
                let isTemporary = name.hasSuffix(".tmp")
                let isOrphan = name.hasSuffix("." + SegmentFormat.fileExtension) && !live.contains(file)
                guard isTemporary || isOrphan else { continue }
                if unlink(directory + "/" + file) == 0 {
                    removed += 1
                    remaining -= 1
                }
            }
            if remaining == 0 { rmdir(directory + "/" + relative) }
        }
        if removed > 0 {
            logger.info("removed \(removed) files left by an interrupted flush, compaction or retention pass (not in the manifest)")
        }
    }

    static func quarantine(
        _ file: String, reason: String, state: inout State, directory: String, logger: Logger
    ) {
        let name = file.split(separator: "/").last.map(String.init) ?? file
        let target = "quarantine/" + name
        rename(directory + "/" + file, directory + "/" + target)
        state.manifest.segments.removeAll { $0.file == file }
        state.readers[file] = nil
        state.manifest.quarantined.append(.init(file: target, reason: reason, at: WallClock.nowNanos()))
        state.counters.quarantinedSegments += 1
        logger.error("segment \(file) failed its checks and was moved to \(target): \(reason)")
    }

    /// The batch a log entry adds to the head: one not yet flushed, that decodes, and whose id
    /// was not met before (two concurrent requests with one batch id could both reach the log
    /// before the ingest lock existed; only the first counts, as it did before the crash).
    static func unflushedBatch(
        _ entry: WriteAheadLog.Entry, flushedThrough: UInt64, seen: inout Set<BatchID>, problem: (String) -> Void
    ) -> WireBatch? {
        guard entry.sequence >= flushedThrough else { return nil }
        guard let batch = try? WireBatch.decode(entry.payload) else {
            problem("write-ahead log entry \(entry.sequence) does not decode; skipped")
            return nil
        }
        return seen.insert(batch.id).inserted ? batch : nil
    }

    static func highestPositions(_ positions: [RecordPosition?]) -> [FileSource: SourceOffset] {
        var highest: [FileSource: SourceOffset] = [:]
        for case let position? in positions where highest[position.source].map({ $0 < position.offset }) ?? true {
            highest[position.source] = position.offset
        }
        return highest
    }

    /// What the head's records take in memory, estimated: the body, each attribute and
    /// resource entry's text plus 96 bytes (its key and value Strings on the heap, its slot),
    /// and 400 bytes per record (the record's fixed fields, its arrays' headers, the allocator's
    /// overhead). Calibrated on a measurement: 190,495 NDJSON records took 1,037 bytes each in
    /// the head (188.5 MiB), which this gives within 10% (docs/RELIABILITY.md, "Memory budget");
    /// the former body + 64 said 168, so `head_limit` let the head grow to 6 times its setting. Records
    /// from one wire batch share their resource, so they are over-counted, which flushes early.
    static func accountedBytes(_ records: [LogRecord]) -> Int {
        records.reduce(0) { total, record in
            var bytes = 400 + record.body.utf8.count
            for attribute in record.attributes { bytes += attribute.key.utf8.count + attribute.value.utf8.count + 96 }
            for attribute in record.resource.attributes { bytes += attribute.key.utf8.count + attribute.value.utf8.count + 96 }
            return total + bytes
        }
    }

    // MARK: - Ingest

    /// Stores a batch durably (fsynced in the write-ahead log) before returning; never writes a
    /// segment (the background flusher does, woken through `flushWanted`). A batch id seen before
    /// returns `.duplicate` without storing anything; a full head throws `StoreFullError`.
    ///
    /// `positions` is empty, or holds each record's place in its source (nil for none): a record
    /// at or below its source's highest stored position is dropped and counted in
    /// `duplicateRecords` (`SourceMemory`).
    public func ingest(
        batchID: BatchID?, records: [LogRecord], positions: [RecordPosition?] = [], now: Int64 = WallClock.nowNanos()
    ) throws -> IngestResult {
        try ingestReturningStored(batchID: batchID, records: records, positions: positions, now: now).result
    }

    /// `ingest`, also giving the records it stored, as stored: without those refused as too old
    /// or dropped as re-sent, future stamps clamped. What watches the stream (continuous
    /// diagnosis) sees each stored record once, and nothing else.
    public func ingestReturningStored(
        batchID: BatchID?, records: [LogRecord], positions: [RecordPosition?] = [], now: Int64 = WallClock.nowNanos()
    ) throws -> (result: IngestResult, stored: [LogRecord]) {
        guard positions.isEmpty || positions.count == records.count else {
            throw StoreError(
                .io, "a batch of \(records.count) records came with \(positions.count) positions; the caller must give one per record or none")
        }
        let id = batchID ?? BatchID.random()
        let records = Self.clampingFutureTimes(records, latest: now.addingSaturated(options.maxFutureSkewNanos), now: now) {
            now.subtractingSaturated(options.retentionNanos(forNamespace: $0.resource[ResourceKey.namespace]))
        }
        let oldest: (LogRecord) -> Int64
        if options.namespaceRetentionNanos.isEmpty {
            let cutOff = now.subtractingSaturated(options.retentionNanos)
            oldest = { _ in cutOff }
        } else {
            oldest = { now.subtractingSaturated(self.options.retentionNanos(forNamespace: $0.resource[ResourceKey.namespace])) }
        }
        var recent: [LogRecord] = []
        var recentPositions: [RecordPosition?] = []
        recent.reserveCapacity(records.count)
        for (index, record) in records.enumerated() where record.timestamp >= oldest(record) {
            recent.append(record)
            if !positions.isEmpty { recentPositions.append(positions[index]) }
        }
        let tooOld = records.count - recent.count
        // Cheap early answers before encoding; both are checked again under the ingest lock.
        if try admissionRefused(id) { return (.duplicate, []) }
        let expected = state.withLock { $0.sources.admit(recentPositions) }
        var frame = try Self.logFrame(id: id, records: expected.kept(recent), positions: expected.kept(recentPositions))
        let stored: (headBytes: Int, admission: SourceMemory.Admission, kept: [LogRecord])? = try ingestLock.withLock { _ in
            if try admissionRefused(id, adding: frame.count) { return nil }
            // Sources only advance under this lock: what it admits now is what the log gets.
            let admission = state.withLock { $0.sources.admit(recentPositions) }
            if admission != expected {
                frame = try Self.logFrame(id: id, records: admission.kept(recent), positions: admission.kept(recentPositions))
            }
            let kept = admission.kept(recent)
            let bytes = Self.accountedBytes(kept)
            // Searches and the flusher go on during the fsync: the state lock is not held.
            let sequence = try wal.append([frame])[0]
            FaultInjection.check("ingest.after_wal")
            let headBytes = state.withLock { state in
                state.recent.insert(id)
                state.sources.record(admission.advanced, at: now)
                let firstArrival = state.arrivals.number(kept.count)
                state.head.append(
                    HeadEntry(
                        sequence: sequence, id: id, records: kept, bytes: bytes, firstArrival: firstArrival,
                        advanced: admission.advanced, storedAt: now))
                state.headBytes += bytes
                return state.headBytes
            }
            return (headBytes, admission, kept)
        }
        guard let stored else { return (.duplicate, []) }
        if stored.headBytes >= options.headFlushBytes { flushWanted.signal() }
        let result = IngestResult.stored(
            records: recent.count - stored.admission.duplicates, tooOld: tooOld,
            duplicateRecords: stored.admission.duplicates)
        return (result, stored.kept)
    }

    /// The write-ahead-log entry of a batch: its normalized records, with their positions so
    /// that a replay restores the source memory.
    static func logFrame(id: BatchID, records: [LogRecord], positions: [RecordPosition?]) throws -> [UInt8] {
        var encoder = BatchEncoder()
        var resourceIndexes: [Resource: Int] = [:]
        for (index, record) in records.enumerated() {
            let resourceIndex =
                resourceIndexes[record.resource] ?? encoder.resourceIndex(source: resourceIndexes.count) { record.resource }
            resourceIndexes[record.resource] = resourceIndex
            encoder.append(record, resourceIndex: resourceIndex, position: positions.isEmpty ? nil : positions[index])
        }
        return try encoder.encode(id: id, codec: .zstd, level: 1)
    }

    /// Records stamped beyond `latest` (docs/FORMAT.md, "Accepted time range") keep their place
    /// in time at the observed time, flagged, instead of landing in an hour that retention and
    /// queries never reach; an observed time outside the accepted range too gives way to `now`.
    static func clampingFutureTimes(
        _ records: [LogRecord], latest: Int64, now: Int64, oldest: (LogRecord) -> Int64
    ) -> [LogRecord] {
        guard records.contains(where: { $0.timestamp > latest }) else { return records }
        return records.map { record in
            guard record.timestamp > latest else { return record }
            var clamped = record
            let observedAccepted = record.observedTimestamp <= latest && record.observedTimestamp >= oldest(record)
            clamped.timestamp = observedAccepted ? record.observedTimestamp : now
            clamped.flags.insert(.futureTimestamp)
            return clamped
        }
    }

    /// True for a known batch id; throws when the head is full or the disk budget is used up.
    private func admissionRefused(_ id: BatchID, adding frameBytes: Int = 0) throws -> Bool {
        let segmentBytes: Int64 = try state.withLock { state in
            // A retry of a stored batch is acknowledged whatever the limits say.
            if state.recent.contains(id) { return -1 }
            if state.headBytes >= options.headLimitBytes {
                flushWanted.signal()
                throw StoreFullError(headBytes: state.headBytes)
            }
            guard options.diskBudgetBytes != .max else { return 0 }
            return state.manifest.segments.fileBytes
        }
        if segmentBytes < 0 { return true }
        if options.diskBudgetBytes != .max {
            let used = segmentBytes + wal.totalBytes
            if used + Int64(frameBytes) > options.diskBudgetBytes {
                throw DiskFullError(limit: .budget(used: used, budget: options.diskBudgetBytes))
            }
        }
        if options.minFreeDiskBytes > 0, let available = StoreFiles.availableBytes(onFileSystemOf: directory),
            available - Int64(frameBytes) < options.minFreeDiskBytes
        {
            throw DiskFullError(limit: .freeSpace(available: available, reserve: options.minFreeDiskBytes))
        }
        return false
    }

    /// Whether the head has passed the flush threshold.
    public var needsFlush: Bool { state.withLock { $0.headBytes >= options.headFlushBytes } }

    // MARK: - Flush

    /// Writes the head into segments (one per hour partition), swaps them into the manifest
    /// atomically, then drops the write-ahead log entries they cover. Records ingested while
    /// it runs stay in the head for the next flush.
    public func flush() throws {
        try flushLock.withLock { _ in
            let entries = state.withLock { $0.head }
            guard let last = entries.last else { return }
            var byPartition: [Int64: [LogRecord]] = [:]
            for entry in entries {
                for record in entry.records {
                    byPartition[Self.partition(of: record.timestamp), default: []].append(record)
                }
            }
            let partitions = byPartition.keys.sorted()
            var number = allocateSegmentNumbers(partitions.count)
            var written: [Manifest.Segment] = []
            var readers: [String: SegmentReader] = [:]
            do {
                for partition in partitions {
                    let records = byPartition[partition] ?? []
                    let relative = try segmentFile(partition: partition, number: number)
                    number += 1
                    let info = try SegmentWriter.write(
                        records, templateIDs: nil, to: directory + "/" + relative, options: options.segment, faultScope: "flush")
                    written.append(.init(file: relative, partition: partition, info: info))
                    readers[relative] = try SegmentReader(path: directory + "/" + relative)
                }
            } catch {
                // Not in the manifest: the records are still in the head and the log.
                for segment in written { unlink(directory + "/" + segment.file) }
                throw error
            }
            let flushedThrough = last.sequence + 1
            // Only the ids of the batches in these segments: a batch ingested meanwhile is still
            // only in the log, and listing its id would make the replay after a crash skip it.
            let flushedIDs = Set(entries.map(\.id))
            let recordCount = entries.reduce(0) { $0 + $1.records.count }
            let now = WallClock.nowNanos()
            try commit(scope: "flush") { manifest in
                manifest.segments += written
                manifest.flushedThrough = max(manifest.flushedThrough, flushedThrough)
                manifest.recentBatches = Self.pruneRecent(flushedIDs, old: manifest.recentBatches, options: options)
                // Only the positions of the batches in these segments, as for the batch ids.
                var sources = manifest.sourceMemory
                for entry in entries where !entry.advanced.isEmpty { sources.record(entry.advanced, at: entry.storedAt) }
                sources.retire(now: now, idleNanos: options.sourceIdleNanos, maxSources: options.maxSources)
                if !sources.entries.isEmpty || manifest.sources != nil { manifest.setSources(sources) }
            } install: { state, manifest in
                state.counters.retiredSources += state.sources.retire(
                    now: now, idleNanos: options.sourceIdleNanos, maxSources: options.maxSources)
                state.readers.merge(readers) { $1 }
                let taken = state.head.prefix(entries.count)
                state.arrivals.keepFlushed(taken, upTo: options.arrivalsKept)
                state.head.removeFirst(entries.count)
                state.headBytes = state.head.reduce(0) { $0 + $1.bytes }
                state.counters.flushes += 1
                state.counters.flushedSegments += written.count
                state.counters.flushedRecords += recordCount
                Self.pruneRecentInMemory(&state, manifest: manifest)
            }
            FaultInjection.check("flush.after_manifest")
            try wal.removeEntries(before: flushedThrough)
            compactionWanted.signal()
        }
    }

    static func partition(of timestamp: Int64) -> Int64 {
        // The hour at or before the timestamp; the hours that would start before Int64.min
        // (the first 47 minutes of the scale) share the partition of the next one.
        let (quotient, remainder) = timestamp.quotientAndRemainder(dividingBy: hourNanos)
        let (start, overflow) = (remainder < 0 ? quotient - 1 : quotient).multipliedReportingOverflow(by: hourNanos)
        return overflow ? quotient * hourNanos : start
    }

    static let hourNanos: Int64 = 3600 * 1_000_000_000

    /// `segments/<YYYY-MM-DDTHH>/<number>.stsg`, creating the partition directory.
    func segmentFile(partition: Int64, number: UInt64) throws -> String {
        let hour = RFC3339.format(nanos: partition).prefix(13).replacingOccurrences(of: ":", with: "")
        try StoreFiles.makeDirectory(directory + "/segments/\(hour)")
        return "segments/\(hour)/\(FileSystem.numberedName(number, digits: 12)).\(SegmentFormat.fileExtension)"
    }

    /// Reserves `count` segment numbers. They reach the disk with the next manifest; a crash
    /// before that leaves at most orphan files, removed at the next start.
    func allocateSegmentNumbers(_ count: Int) -> UInt64 {
        commitLock.withLock { _ in
            state.withLock { state in
                let first = state.manifest.nextSegmentNumber
                state.manifest.nextSegmentNumber += UInt64(count)
                return first
            }
        }
    }

    /// Changes the manifest: `change` edits a copy, which is written durably (temporary file,
    /// fsync, rename, fsync of the directory), then installed together with `install`'s
    /// in-memory changes in one step, so readers see the old or the new catalog.
    func commit(
        scope: String, change: (inout Manifest) throws -> Void, install: (inout State, Manifest) -> Void
    ) throws {
        try commitLock.withLock { _ in
            var manifest = state.withLock { $0.manifest }
            try change(&manifest)
            FaultInjection.check(scope + ".before_manifest")
            try Self.write(manifest, to: directory)
            state.withLock { state in
                state.manifest = manifest
                install(&state, manifest)
            }
        }
    }

    private static func pruneRecent(_ recent: Set<BatchID>, old: [Manifest.RecentBatch], options: StoreOptions)
        -> [Manifest.RecentBatch]
    {
        let now = WallClock.nowNanos()
        var seen = Dictionary(old.map { ($0.id, $0.at) }, uniquingKeysWith: max)
        for id in recent where seen[id.description] == nil { seen[id.description] = now }
        // Manifest times are read back from disk: a damaged one must not trap the flush.
        return seen.filter { now.subtractingSaturated($0.value) < options.dedupWindowNanos }
            .sorted { $0.value > $1.value }.prefix(options.dedupMaxBatches)
            .map { Manifest.RecentBatch(id: $0.key, at: $0.value) }
    }

    /// Forgets, in memory, ids the manifest no longer remembers (past the window) unless they
    /// are still in the head; done only once the set has grown well past the manifest's list.
    private static func pruneRecentInMemory(_ state: inout State, manifest: Manifest) {
        let bound = manifest.recentBatches.count + state.head.count
        guard state.recent.count > bound + bound / 2 + 1024 else { return }
        let remembered = Set(manifest.recentBatches.map(\.id))
        let inHead = Set(state.head.map(\.id))
        state.recent = state.recent.filter { inHead.contains($0) || remembered.contains($0.description) }
    }

    static func write(_ manifest: Manifest, to directory: String) throws {
        try StoreFiles.writeDurably(try manifest.encoded(), to: directory + "/manifest.json")
    }

    // MARK: - Reading

    /// A consistent view for readers: the segments and head at one moment. Segments are
    /// immutable and each reader keeps its file open, so a snapshot stays valid (and every record
    /// in it is there exactly once) while ingest, flush, compaction and retention go on, even
    /// after a compaction deleted the files it reads.
    public struct Snapshot: Sendable {
        public var segments: [SegmentReader]
        public var head: [LogRecord]
        public init(segments: [SegmentReader], head: [LogRecord]) {
            self.segments = segments
            self.head = head
        }
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
        let availableDiskBytes = StoreFiles.availableBytes(onFileSystemOf: directory)
        return state.withLock { state in
            Statistics(
                segments: state.manifest.segments.count,
                segmentBytes: state.manifest.segments.fileBytes,
                headRecords: state.head.reduce(0) { $0 + $1.records.count }, headBytes: state.headBytes,
                walBytes: walBytes, availableDiskBytes: availableDiskBytes, quarantined: state.manifest.quarantined.count,
                partitions: Set(state.manifest.segments.map(\.partition)).count,
                segmentRecords: state.manifest.segments.reduce(0) { $0 + $1.info.rowCount },
                sources: state.sources.count, maintenance: state.counters)
        }
    }

    /// Counts a failed background operation (`flush`, `compaction`, `retention`).
    public func recordFailure(_ kind: String) {
        state.withLock { $0.counters.failures[kind, default: 0] += 1 }
    }

    /// Moves a segment that failed a read aside (queries report it; the rest keeps serving).
    public func quarantine(segmentPath: String, reason: String) {
        let prefix = directory + "/"
        guard segmentPath.hasPrefix(prefix) else { return }
        quarantine(file: String(segmentPath.dropFirst(prefix.count)), reason: reason)
    }

    func quarantine(file: String, reason: String) {
        commitLock.withLock { _ in
            state.withLock { state in
                guard state.manifest.segments.contains(where: { $0.file == file }) else { return }
                Self.quarantine(file, reason: reason, state: &state, directory: directory, logger: logger)
                do {
                    try Self.write(state.manifest, to: directory)
                } catch {
                    // The segment is out of the in-memory catalog; the next manifest write records it.
                    logger.error("could not record the quarantine of \(file) in the manifest: \(error)")
                }
            }
        }
    }
}
