#if canImport(Glibc)
import Glibc
#endif
import StrataCore

extension LogStore {
    /// What `openReadOnly(directory:)` found.
    public struct ReadOnlyView: Sendable {
        public var snapshot: Snapshot
        /// Problems met (a segment that does not open, a damaged log entry); the rest is usable.
        public var warnings: [String]
    }

    /// Reads a data directory without writing anything and without taking its lock, so it is
    /// safe beside the collector that writes it (`strata query --data-dir`): the manifest's
    /// segments plus the write-ahead log entries not yet flushed, decoded as opening the store
    /// would, but without repairing a torn tail, quarantining or deleting anything.
    ///
    /// A flush or compaction of the writer may replace files between reading the manifest and
    /// reading them; the manifest is read again at the end, and when it changed the reading
    /// starts over, so the view is one catalog with exactly the log entries it does not cover.
    public static func openReadOnly(directory: String, attempts: Int = 20) throws -> ReadOnlyView {
        let manifestPath = directory + "/manifest.json"
        for attempt in 0..<max(1, attempts) {
            if attempt > 0 { usleep(useconds_t(min(attempt, 10) * 5_000)) }
            let catalog = try manifestBytes(manifestPath)
            if catalog == nil && StoreFiles.size(directory + "/wal") == nil {
                throw StoreError(
                    .notADataDirectory,
                    "\(directory) is not a Strata data directory (no manifest.json and no wal/); give the directory the collector writes (--data-dir)")
            }
            let manifest = try catalog.map { try Manifest.decode($0, path: manifestPath) } ?? Manifest()
            var warnings: [String] = []
            var segments: [SegmentReader] = []
            for segment in manifest.segments {
                do {
                    segments.append(try SegmentReader(path: directory + "/" + segment.file))
                } catch {
                    warnings.append("segment \(segment.file) left out: \(error)")
                }
            }
            var head: [LogRecord] = []
            // As replay at start: a batch id the catalog lists as flushed is not taken again.
            var seen = Set(manifest.recentBatches.compactMap { BatchID(string: $0.id) })
            // A copy of a data directory without its log (segments and catalog only) is read
            // as one whose log is empty.
            let walDirectory = directory + "/wal"
            var log = WriteAheadLog.ReadReport()
            if StoreFiles.size(walDirectory) != nil {
                log = try WriteAheadLog.read(directory: walDirectory) { entry in
                    guard
                        let batch = Self.unflushedBatch(
                            entry, flushedThrough: manifest.flushedThrough, seen: &seen, problem: { warnings.append($0) })
                    else { return }
                    head += batch.records
                }
            }
            warnings += log.problems
            // A log file vanishes only when a flush removed it, after writing a new catalog.
            guard log.vanishedFiles == 0, try manifestBytes(manifestPath) == catalog else { continue }
            return ReadOnlyView(snapshot: Snapshot(segments: segments, head: head), warnings: warnings)
        }
        throw StoreError(
            .io,
            "\(directory): the collector replaced the catalog during each of \(attempts) reads (flushing or compacting without pause); try again")
    }

    /// The manifest's bytes; nil when there is none yet (a store that never flushed).
    private static func manifestBytes(_ path: String) throws -> [UInt8]? {
        do {
            return try StoreFiles.read(path)
        } catch {
            if StoreFiles.size(path) == nil { return nil }
            throw error
        }
    }
}
