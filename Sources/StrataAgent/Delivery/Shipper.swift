import Logging
import StrataCore

/// Sends queued batches one at a time, in order, and makes their positions durable once the
/// receiver acknowledged them. Order matters: a position is only committed after every earlier
/// batch was acknowledged, so a crash never skips data that was still in flight.
public final class Shipper: Sendable {
    public struct Backoff: Sendable {
        public var initial: Duration = .milliseconds(200)
        public var maximum: Duration = .seconds(30)
        public init(initial: Duration = .milliseconds(200), maximum: Duration = .seconds(30)) {
            self.initial = initial
            self.maximum = maximum
        }

        /// Exponential with full jitter in [delay/2, delay], so agents restarted together do not
        /// retry in lockstep.
        func delay(attempt: Int) -> Duration {
            let exponent = min(attempt - 1, 20)
            let base = min(initial * (1 << exponent), maximum)
            let nanos = base.components.seconds * 1_000_000_000 + base.components.attoseconds / 1_000_000_000
            return .nanoseconds(Int64.random(in: nanos / 2...max(nanos / 2, nanos)))
        }
    }

    private let queue: DeliveryQueue
    private let transport: any BatchTransport
    private let checkpoints: CheckpointStore?
    private let deadLetters: DeadLetterDirectory?
    private let metrics: AgentMetrics
    private let backoff: Backoff

    public init(
        queue: DeliveryQueue, transport: any BatchTransport, checkpoints: CheckpointStore?,
        deadLetters: DeadLetterDirectory?, metrics: AgentMetrics, backoff: Backoff = Backoff()
    ) {
        self.queue = queue
        self.transport = transport
        self.checkpoints = checkpoints
        self.deadLetters = deadLetters
        self.metrics = metrics
        self.backoff = backoff
    }

    private var logger: Logger { metrics.logger }

    /// Runs until the queue is closed and drained, or the task is cancelled (then what is left
    /// stays queued: in the spool, or re-read from the files after a restart).
    public func run() async {
        var attempt = 0
        while !Task.isCancelled, let head = await queue.head() {
            let batch = head.batch
            if batch.frame.isEmpty {  // a marker left by a drop policy: only positions
                commit(batch)
                queue.removeHead(head)
                continue
            }
            switch await transport.deliver(batch) {
            case .accepted(let tooOld):
                commit(batch)
                queue.removeHead(head)
                metrics.batchesAcknowledged.increment()
                metrics.recordsShipped.increment(by: Int64(batch.recordCount))
                if tooOld > 0 { reportTooOld(tooOld, of: batch) }
                if attempt > 0 { logger.info("receiver is back; delivered batch \(batch.id) after \(attempt) retries") }
                attempt = 0
            case .rejected(let status, let message):
                metrics.batchesRejected.increment()
                do {
                    let path = try deadLetters?.store(batch, status: status, message: message)
                    logger.error(
                        "receiver rejected batch \(batch.id) (\(batch.recordCount) records) with HTTP \(status): \(message); moved to \(path ?? "nowhere: no dead-letter directory")"
                    )
                } catch {
                    // Without a place to keep it, dropping the batch would lose it: hold it and retry.
                    logger.error("cannot write dead letter for batch \(batch.id): \(error); will retry delivery")
                    attempt += 1
                    try? await Task.sleep(for: backoff.delay(attempt: attempt))
                    continue
                }
                commit(batch)
                queue.removeHead(head)
                attempt = 0
            case .retry(let reason, let after):
                attempt += 1
                metrics.batchesRetried.increment()
                queue.spill()
                let delay = after ?? backoff.delay(attempt: attempt)
                if attempt == 1 || attempt.isMultiple(of: 10) {
                    logger.warning("delivery of batch \(batch.id) failed (\(reason)); retry \(attempt) in \(delay)")
                }
                do { try await Task.sleep(for: delay) } catch { return }
            }
        }
    }

    /// Records older than the collector's retention are acknowledged but not stored; someone
    /// replaying old logs (an incident's, for a backfill) must learn which files lost lines and
    /// what to change. The acknowledgement counts them per batch, so the warning names the
    /// files the batch covered.
    private func reportTooOld(_ count: Int, of batch: SealedBatch) {
        metrics.recordsTooOld.increment(by: Int64(count))
        logger.warning(
            "the collector refused \(count) of \(batch.recordCount) records of batch \(batch.id) as older than its retention; they are not stored. Files: \(Self.fileList(batch.positions)). To keep older records (a backfill), raise the collector's retention (--retention-max-age, retention.max_age, or retention.namespaces for one namespace) and send them again"
        )
    }

    /// The files a batch covered, at most `shown` of them by name.
    static func fileList(_ positions: [FilePosition], shown: Int = 5) -> String {
        var paths: [String] = []
        for position in positions where !paths.contains(position.path) { paths.append(position.path) }
        guard !paths.isEmpty else { return "(the batch carries no file positions)" }
        let named = paths.prefix(shown).joined(separator: ", ")
        return paths.count > shown ? "\(named) and \(paths.count - shown) more" : named
    }

    private func commit(_ batch: SealedBatch) {
        guard let checkpoints, !batch.positions.isEmpty else { return }
        do {
            try checkpoints.commit(batch.positions)
        } catch {
            logger.error("cannot record checkpoints for batch \(batch.id): \(error); its lines may be sent again after a restart")
        }
    }

    public func shutdownTransport() async { await transport.shutdown() }
}
