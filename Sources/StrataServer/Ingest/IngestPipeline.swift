import Logging
import StrataConfiguration
import StrataCore
import StrataParsers
import StrataStore
import Synchronization

/// Records a protocol decoder produced from one request, with the batch id that makes retries
/// idempotent.
public struct IngestBatch: Sendable {
    /// Nil when the sender gave none: the batch is then stored under a fresh id.
    public var id: BatchID?
    public var records: [LogRecord]
    /// Empty, or one per record: where it came from (nil for none), so that records an agent
    /// re-read after a restart are stored once (docs/WIRE.md, "Positions").
    public var positions: [RecordPosition?]
    /// The size of the request as received (compressed), for the byte metrics.
    public var receivedBytes: Int

    public init(id: BatchID?, records: [LogRecord], positions: [RecordPosition?] = [], receivedBytes: Int) {
        self.id = id
        self.records = records
        self.positions = positions
        self.receivedBytes = receivedBytes
    }
}

/// The collector's answer to a batch it has made durable (or had stored before).
public struct IngestAcknowledgement: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// In the write-ahead log; `tooOld` records were refused one by one by retention;
        /// `duplicateRecords` were stored before under another batch id (an agent's re-read).
        case stored(accepted: Int, tooOld: Int, duplicateRecords: Int = 0)
        /// This batch id was stored before: acknowledged again, stored once.
        case duplicate
    }

    public var batchID: BatchID?
    public var outcome: Outcome
    /// Records removed by normalization drop rules.
    public var dropped: Int
}

/// Everything that happens to a decoded batch, whatever protocol brought it: normalize, give
/// each record its template id, store durably, feed continuous diagnosis, count. Front ends
/// (HTTP today) only decode bodies and translate the outcome; nothing here knows about HTTP.
public final class IngestPipeline: Sendable {
    private let normalizer: Normalizer
    private let templates: TemplateAnnotator
    private let store: LogStore
    private let continuous: ContinuousDiagnosis?
    private let metrics: CollectorMetrics
    private let logger: Logger
    /// Told whether each write reached the write-ahead log (`/readyz`).
    private let readiness: Readiness?
    /// Whether the last batch was refused for disk space: logged once per episode, not per batch.
    private let refusingForDisk = Mutex(false)
    /// Records refused as older than retention: said at most once a minute, with the count since.
    let tooOldWarning = OccasionalWarning(intervalNanos: 60 * 1_000_000_000)

    init(
        normalizer: Normalizer, templates: TemplateAnnotator, store: LogStore, continuous: ContinuousDiagnosis?,
        metrics: CollectorMetrics, logger: Logger, readiness: Readiness? = nil
    ) {
        self.readiness = readiness
        self.normalizer = normalizer
        self.templates = templates
        self.store = store
        self.continuous = continuous
        self.metrics = metrics
        self.logger = logger
    }

    /// Returns once the batch is durable (or known to be stored already).
    public func ingest(_ batch: consuming IngestBatch, from caller: Caller) throws(IngestRejection) -> IngestAcknowledgement {
        var records = batch.records
        batch.records = []
        var positions = batch.positions.count == records.count ? batch.positions : []
        batch.positions = []
        // Kept records move to the front in place: no second array per batch.
        var kept = 0
        for index in records.indices {
            switch normalizer.normalize(&records[index]) {
            case .kept:
                if kept != index {
                    records.swapAt(kept, index)
                    if !positions.isEmpty { positions.swapAt(kept, index) }
                }
                kept += 1
            case .dropped:
                break
            }
        }
        let dropped = records.count - kept
        records.removeLast(dropped)
        if !positions.isEmpty { positions.removeLast(dropped) }
        templates.annotate(&records)
        let result: IngestResult
        let stored: [LogRecord]
        do {
            (result, stored) = try store.ingestReturningStored(batchID: batch.id, records: records, positions: positions)
        } catch {
            throw refused(storeError: error, caller: caller)
        }
        readiness?.writeSucceeded()
        if refusingForDisk.withLock({ refusing in defer { refusing = false }; return refusing }) {
            logger.notice("disk space is available again; ingest resumed")
        }
        switch result {
        case .duplicate:
            metrics.duplicate()
            return IngestAcknowledgement(batchID: batch.id, outcome: .duplicate, dropped: dropped)
        case .stored(let accepted, let tooOld, let duplicateRecords):
            if tooOld > 0, let count = tooOldWarning.note(tooOld, now: WallClock.monotonicNanos()) {
                logger.warning("\(tooOldMessage(count))")
            }
            // Only what was stored: a record re-sent after an agent restart, or refused as too
            // old, is not an event the incident detector should count.
            continuous?.observe(stored)
            metrics.accepted(
                records: accepted, bytes: batch.receivedBytes, tooOld: tooOld, dropped: dropped, duplicates: duplicateRecords)
            return IngestAcknowledgement(
                batchID: batch.id, outcome: .stored(accepted: accepted, tooOld: tooOld, duplicateRecords: duplicateRecords),
                dropped: dropped)
        }
    }

    /// What a backfill of old logs needs to hear: that records vanished, and which setting keeps them.
    func tooOldMessage(_ count: Int) -> String {
        let options = store.options
        var message =
            "refused \(count) record(s) older than the retention since the last such warning (acknowledged, not stored); "
            + "retention.max_age is \(DurationText.format(.nanoseconds(options.retentionNanos)))"
        if !options.namespaceRetentionNanos.isEmpty {
            let overrides = options.namespaceRetentionNanos.sorted { $0.key < $1.key }
                .map { "\($0.key): \(DurationText.format(.nanoseconds($0.value)))" }
            message += " (retention.namespaces: \(overrides.joined(separator: ", ")))"
        }
        return message
            + ". To store older records (a backfill), raise retention.max_age (flag --retention-max-age) or add the namespace to retention.namespaces, restart the collector and send them again"
    }

    /// Counts a batch a front end refused before it reached the pipeline (decoding, limits,
    /// authentication), under the reason the answer names.
    public func countRefusal(reason code: String) {
        metrics.rejected(reason: code)
    }

    private func refused(storeError error: any Error, caller: Caller) -> IngestRejection {
        let rejection: IngestRejection
        switch error {
        case let full as StoreFullError:
            rejection = .headFull(full.description)
        case let full as DiskFullError:
            if refusingForDisk.withLock({ refusing in defer { refusing = true }; return !refusing }) {
                logger.warning("refusing ingest until space is freed: \(full)")
            }
            rejection = .diskFull(full.description)
        default:
            logger.error("ingest from \(caller) failed: \(error)")
            readiness?.writeFailed("\(error)")
            rejection = .storageFailed("the store could not make the batch durable: \(error)")
        }
        metrics.rejected(reason: rejection.code)
        return rejection
    }
}
