import Foundation
import Logging
import StrataCore
import Synchronization

/// The store's background work, on two dedicated threads so that neither ingest nor the
/// server's event loops ever wait for a segment to be written:
/// - the flusher writes the head into segments when ingest reports it past `headFlushBytes`,
///   and every `flushInterval` otherwise;
/// - the compactor applies retention and then merges segments until the policy is satisfied,
///   woken after each flush and every `compactionInterval`.
/// A flush and a compaction can run at the same time; they meet only to swap the manifest.
public final class StoreMaintenance: Sendable {
    public let store: LogStore
    public let flushInterval: Duration
    public let compactionInterval: Duration
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let flusherDone = DispatchSemaphore(value: 0)
    private let compactorDone = DispatchSemaphore(value: 0)

    public init(store: LogStore, flushInterval: Duration, compactionInterval: Duration, logger: Logger) {
        self.store = store
        self.flushInterval = flushInterval
        self.compactionInterval = compactionInterval
        self.logger = logger
    }

    public func start() {
        guard !started.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let flusher = Thread { [self] in
            runFlusher()
            flusherDone.signal()
        }
        flusher.name = "strata-flush"
        flusher.start()
        let compactor = Thread { [self] in
            runCompactor()
            compactorDone.signal()
        }
        compactor.name = "strata-compact"
        compactor.start()
    }

    /// Stops both threads (a merge in progress is finished first), then flushes the head.
    /// Blocks; call it once, off the cooperative thread pool if possible.
    public func stop() {
        if started.load(ordering: .sequentiallyConsistent) && !stopping.exchange(true, ordering: .sequentiallyConsistent) {
            store.flushWanted.signal()
            store.compactionWanted.signal()
            flusherDone.wait()
            compactorDone.wait()
        }
        do {
            try store.flush()
        } catch {
            logger.error("final flush failed: \(error); the write-ahead log is replayed at the next start")
        }
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    private func runFlusher() {
        var backoff = Duration.zero
        while !isStopping {
            store.flushWanted.waitForSignal(timeout: backoff > .zero ? backoff : flushInterval)
            if isStopping { break }
            do {
                let flushed = store.statistics.headBytes
                try store.flush()
                backoff = .zero
                // The flushed records were freed in the middle of glibc's heaps, which keep
                // them unless asked (docs/RELIABILITY.md, "Memory budget").
                if flushed > 0 { FreeMemory.release() }
            } catch {
                store.recordFailure("flush")
                // Disk full or similar: the data stays in the write-ahead log and the head; retry
                // later rather than spin while ingest keeps signalling.
                backoff = min(flushInterval, .seconds(1))
                logger.error("flush failed: \(error); the data stays in the write-ahead log, retrying")
            }
        }
    }

    private func runCompactor() {
        while !isStopping {
            store.compactionWanted.waitForSignal(timeout: compactionInterval)
            if isStopping { break }
            do {
                try store.applyRetention()
            } catch {
                store.recordFailure("retention")
                logger.error("retention failed: \(error); retrying at the next pass")
            }
            guard store.options.compaction.enabled else { continue }
            do {
                var merged = false
                while !isStopping, try store.compactOnce() { merged = true }
                // A merge holds its inputs' records in memory; give them back once done.
                if merged { FreeMemory.release() }
            } catch {
                store.recordFailure("compaction")
                logger.error("compaction failed: \(error); its inputs stay live, retrying at the next pass")
            }
        }
    }
}
