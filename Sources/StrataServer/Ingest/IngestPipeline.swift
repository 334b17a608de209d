import Logging
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
    /// The size of the request as received (compressed), for the byte metrics.
    public var receivedBytes: Int

    public init(id: BatchID?, records: [LogRecord], receivedBytes: Int) {
        self.id = id
        self.records = records
        self.receivedBytes = receivedBytes
    }
}

/// The collector's answer to a batch it has made durable (or had stored before).
public struct IngestAcknowledgement: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// In the write-ahead log; `tooOld` records were refused one by one by retention.
        case stored(accepted: Int, tooOld: Int)
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
        // Kept records move to the front in place: no second array per batch.
        var kept = 0
        for index in records.indices {
            switch normalizer.normalize(&records[index]) {
            case .kept:
                if kept != index { records.swapAt(kept, index) }
                kept += 1
            case .dropped:
                break
            }
        }
        let dropped = records.count - kept
        records.removeLast(dropped)
        templates.annotate(&records)
        let result: IngestResult
        do {
            result = try store.ingest(batchID: batch.id, records: records)
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
        case .stored(let accepted, let tooOld):
            continuous?.observe(records)
            metrics.accepted(records: accepted, bytes: batch.receivedBytes, tooOld: tooOld, dropped: dropped)
            return IngestAcknowledgement(batchID: batch.id, outcome: .stored(accepted: accepted, tooOld: tooOld), dropped: dropped)
        }
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
