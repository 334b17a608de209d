#if canImport(Glibc)
import Glibc
#endif
import DequeModule
import StrataCore

/// What happens when the spool is full and the receiver is still away.
public enum SpoolFullPolicy: String, Sendable, CaseIterable {
    /// Stop reading files until there is room (the default: nothing is lost).
    case block
    /// Drop the batch being queued; counted in `strata_agent_records_dropped_total`.
    case dropNewest = "drop_newest"
    /// Drop the oldest spooled batch to make room; counted likewise.
    case dropOldest = "drop_oldest"
}

/// The ordered hand-off between the file reader (a thread that may block) and the shipper (an
/// async task). Batches wait in memory while the receiver keeps up; once a delivery fails they
/// spill to the spool, older ones first, so that at any time either memory or the spool holds
/// the queue, never both: after a crash, whatever the spool holds is all that was in flight.
public final class DeliveryQueue: @unchecked Sendable {
    public enum Head: Sendable {
        case memory(SealedBatch)
        case spooled(Spool.Entry, SealedBatch)

        public var batch: SealedBatch {
            switch self {
            case .memory(let batch), .spooled(_, let batch): batch
            }
        }
    }

    public enum PushResult: Sendable, Equatable {
        case queued
        case dropped(records: Int)
        case closed
    }

    private let condition = MonotonicCondition()
    private var memory = Deque<SealedBatch>()
    private let memoryLimit: Int
    private let spool: Spool?
    private let fullPolicy: SpoolFullPolicy
    private var spilling: Bool
    private var closed = false
    private var waiter: CheckedContinuation<Void, Never>?
    private let metrics: AgentMetrics?

    public init(memoryLimit: Int, spool: Spool?, fullPolicy: SpoolFullPolicy = .block, metrics: AgentMetrics? = nil) {
        self.memoryLimit = max(1, memoryLimit)
        self.spool = spool
        self.fullPolicy = fullPolicy
        self.spilling = !(spool?.isEmpty ?? true)
        self.metrics = metrics
        metrics?.spoolBytes.record(spool?.totalBytes ?? 0)
    }

    /// Called by the reader; blocks while the queue is full and the policy says wait.
    public func push(_ batch: SealedBatch) -> PushResult {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if closed { return .closed }
            if let spool, spilling {
                if spool.hasRoom(for: batch.frame.count) || batch.frame.isEmpty {
                    do {
                        try spool.append(batch)
                        metrics?.spoolBytes.record(spool.totalBytes)
                        wakeConsumer()
                        return .queued
                    } catch {
                        metrics?.logger.error("cannot write to the spool, holding the batch in memory: \(error)")
                    }
                } else {
                    switch fullPolicy {
                    case .block:
                        break
                    case .dropNewest:
                        // The batch's data is given up, but its positions must still become
                        // durable in order, so a data-less marker takes its place.
                        var marker = batch
                        marker.frame = []
                        try? spool.append(marker)
                        wakeConsumer()
                        return .dropped(records: batch.recordCount)
                    case .dropOldest:
                        if let entry = spool.oldest, let oldest = try? spool.read(entry), !oldest.frame.isEmpty,
                            (try? spool.replaceWithMarker(entry, oldest)) != nil
                        {
                            metrics?.recordsDropped.increment(by: Int64(oldest.recordCount))
                            continue
                        }
                    }
                }
            } else if memory.count < memoryLimit {
                memory.append(batch)
                wakeConsumer()
                return .queued
            }
            // Timed, so a spool that failed to write is tried again even if nothing signals.
            condition.wait(timeout: .seconds(1))
        }
    }

    private func wakeConsumer() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        }
    }

    /// The oldest undelivered batch; waits for one. Nil once closed and drained.
    public func head() async -> Head? {
        while true {
            condition.lock()
            if let spool, let entry = spool.oldest {
                condition.unlock()
                do {
                    return .spooled(entry, try spool.read(entry))
                } catch {
                    metrics?.logger.error("spool file \(entry.path) is unreadable and was moved aside as .corrupt: \(error)")
                    condition.lock()
                    spool.quarantine(entry)
                    condition.unlock()
                    continue
                }
            }
            if let first = memory.first {
                condition.unlock()
                return .memory(first)
            }
            if closed {
                condition.unlock()
                return nil
            }
            await withCheckedContinuation { continuation in
                waiter = continuation
                condition.unlock()
            }
        }
    }

    /// Drops the head after it was delivered, dead-lettered or skipped.
    public func removeHead(_ head: Head) {
        condition.lock()
        defer { condition.unlock() }
        switch head {
        case .memory:
            memory.removeFirst()
        case .spooled(let entry, _):
            spool?.remove(entry)
            if spool?.isEmpty ?? true { spilling = false }
            metrics?.spoolBytes.record(spool?.totalBytes ?? 0)
        }
        condition.broadcast()
    }

    /// The receiver is failing: move what waits in memory to disk, in order, and send new
    /// batches there too until the spool is drained.
    public func spill() {
        condition.lock()
        defer { condition.unlock() }
        guard let spool else { return }
        spilling = true
        while let batch = memory.first {
            do {
                try spool.append(batch)
                memory.removeFirst()
            } catch {
                metrics?.logger.error("cannot spool batch \(batch.id): \(error)")
                break
            }
        }
        metrics?.spoolBytes.record(spool.totalBytes)
        condition.broadcast()
    }

    /// No more pushes; the consumer drains what is left, then gets nil.
    public func close() {
        condition.lock()
        closed = true
        wakeConsumer()
        condition.broadcast()
        condition.unlock()
    }

    public var pendingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return memory.count + (spool?.count ?? 0)
    }

    public var isSpilling: Bool {
        condition.lock()
        defer { condition.unlock() }
        return spilling
    }
}
