import Glibc
import StrataCore
import StrataStore
import Synchronization

/// What `/readyz` answers: whether the store can take a batch now. A removed or unwritable
/// data directory makes every ingest fail with `storage_error`; a load balancer should then
/// send agents elsewhere instead of to a collector that refuses them all.
final class Readiness: Sendable {
    private let store: LogStore
    private let walDirectory: String
    /// The last write-ahead-log append that failed, while none succeeded after it.
    private let lastWriteFailure = Mutex<(at: ContinuousClock.Instant, message: String)?>(nil)
    /// A failed append keeps the collector unready this long even when the probe passes, so a
    /// failure the probe cannot see (a full or failing device) is still reported; after it the
    /// probe alone decides, so a collector that no traffic reaches can become ready again.
    static let failureMemory: Duration = .seconds(30)

    init(store: LogStore, dataDirectory: String) {
        self.store = store
        walDirectory = dataDirectory + "/wal"
    }

    func writeFailed(_ message: String) {
        lastWriteFailure.withLock { $0 = (ContinuousClock.now, message) }
    }

    func writeSucceeded() {
        lastWriteFailure.withLock { $0 = nil }
    }

    struct Verdict: Equatable {
        /// nil when ready; else the answer's code and message.
        var code: String?
        var message: String
    }

    func check() -> Verdict {
        if let problem = probe() {
            return Verdict(code: "storage_unwritable", message: "the store cannot write: \(problem); ingest fails until it can")
        }
        if let failure = lastWriteFailure.withLock({ $0 }), ContinuousClock.now - failure.at < Self.failureMemory {
            return Verdict(code: "storage_error", message: "the last write-ahead-log append failed: \(failure.message)")
        }
        let statistics = store.statistics
        if statistics.headBytes >= store.options.headLimitBytes {
            return Verdict(code: "head_full", message: "the in-memory head is full (storage.head_limit) while it is flushed")
        }
        if store.options.minFreeDiskBytes > 0, let available = statistics.availableDiskBytes, available < store.options.minFreeDiskBytes {
            return Verdict(
                code: "disk_full",
                message: "the data directory's file system has \(available) bytes free, below storage.min_free_disk (\(store.options.minFreeDiskBytes))")
        }
        return Verdict(code: nil, message: "ready")
    }

    /// Creates and removes a small file where the next write-ahead-log file would go (the log
    /// lists only `wal-*.log`, so the probe is never read as one): a removed, read-only or
    /// exhausted directory fails here. No fsync: readiness is polled, and this must stay cheap.
    private func probe() -> String? {
        let path = walDirectory + "/.readyz-probe"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return FileSystemError("creating", path).description }
        let written = write(fd, "r", 1)
        let writeError = errno
        close(fd)
        unlink(path)
        guard written == 1 else { return FileSystemError("writing", path, errno: writeError).description }
        return nil
    }
}
