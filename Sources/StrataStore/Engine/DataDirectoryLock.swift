#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The exclusive `flock` on `<data-dir>/LOCK` that a writing `LogStore` holds for its life.
///
/// Opening a store deletes files the manifest does not list and repairs the write-ahead log's
/// tail, which would destroy the work of another process writing the same directory. The kernel
/// releases the lock when the process dies, so a crash never leaves it stale. Within one
/// process, stores opened on one directory share the lock: a test reopens a store, without
/// closing the first, to see what a restart after a crash would.
final class DataDirectoryLock: Sendable {
    static let fileName = "LOCK"

    private struct Held {
        var fd: Int32
        var stores: Int
    }

    /// Locks this process holds, by the lock file's resolved path.
    private static let held = Mutex<[String: Held]>([:])

    private let path: String

    /// Takes the lock of `directory`, which must exist.
    init(directory: String) throws {
        let path = Self.resolved(directory) + "/" + Self.fileName
        try Self.held.withLock { held in
            if held[path] != nil {
                held[path]?.stores += 1
                return
            }
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw StoreFiles.failure("opening the lock file", path) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let code = errno
                close(fd)
                if code == EWOULDBLOCK {
                    throw StoreError(
                        .inUse,
                        "another process is writing the data directory \(directory) (\(path) is locked, e.g. by a running collector); stop it, or use another data directory")
                }
                errno = code
                throw StoreFiles.failure("locking", path)
            }
            held[path] = Held(fd: fd, stores: 1)
        }
        self.path = path
    }

    deinit {
        Self.held.withLock { held in
            guard let entry = held[path] else { return }
            if entry.stores > 1 {
                held[path]?.stores -= 1
            } else {
                close(entry.fd)
                held[path] = nil
            }
        }
    }

    /// The same directory reached by two spellings is one lock.
    private static func resolved(_ directory: String) -> String {
        guard let pointer = realpath(directory, nil) else { return directory }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
