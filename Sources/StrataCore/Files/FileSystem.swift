#if canImport(Glibc)
import Glibc
#endif

/// A POSIX file operation that failed, naming the operation, the path and the system's reason.
public struct FileSystemError: Error, CustomStringConvertible, Sendable {
    /// What was being done, e.g. "creating directory", "fsync of".
    public var operation: String
    public var path: String
    /// `strerror` of the failure, e.g. "No space left on device".
    public var reason: String

    public init(_ operation: String, _ path: String, errno code: Int32 = errno) {
        self.operation = operation
        self.path = path
        reason = String(cString: strerror(code))
    }

    public var description: String { "\(operation) \(path) failed: \(reason)" }
}

/// The POSIX file operations the agent and the store share (StrataStore's `StoreFiles` turns
/// the errors into `StoreError`s). Reads retry on EINTR; durable writes follow the
/// temporary-file, fsync, rename, fsync-the-directory order.
public enum FileSystem {
    /// Creates `path` and its missing parents (like `mkdir -p`, mode 0755).
    public static func makeDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw FileSystemError("creating directory", current)
            }
        }
    }

    /// The names in directory `path`, without `.` and `..`, in no particular order.
    public static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw FileSystemError("listing", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Bytes an unprivileged process may still write on the file system holding `path`.
    public static func availableBytes(onFileSystemOf path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let (bytes, overflow) = Int64(info.f_bavail).multipliedReportingOverflow(by: Int64(info.f_frsize))
        return overflow ? .max : bytes
    }

    /// `number` in decimal, zero-padded to `digits`, for file names that sort in number order
    /// (spool batches, log files, segments).
    public static func numberedName(_ number: some BinaryInteger, digits: Int) -> String {
        let text = String(number)
        return text.count >= digits ? text : String(repeating: "0", count: digits - text.count) + text
    }

    /// The whole file, read to its end (files whose size `stat` does not know, as in /proc,
    /// included).
    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError("opening", path) }
        defer { close(fd) }
        var info = stat()
        let expected = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        // One byte beyond the size `stat` gave, so the read that finds the end needs no larger
        // buffer; the buffer only grows for files that grew, or that `stat` cannot size.
        var result = [UInt8](repeating: 0, count: max(expected + 1, 1 << 12))
        var done = 0
        while true {
            if done == result.count { result.append(contentsOf: repeatElement(0, count: result.count)) }
            let n = result.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("reading", path)
            }
            if n == 0 { break }
            done += n
        }
        result.removeSubrange(done...)
        return result
    }

    /// Writes all of `bytes` to `fd` (at its current offset); `path` only names it in errors.
    public static func writeAll(fd: Int32, _ bytes: [UInt8], path: String) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("writing", path)
            }
            written += n
        }
    }

    /// Writes to `path.tmp`, fsyncs, renames over `path` and fsyncs the directory: after a
    /// crash the file is either absent or complete.
    public static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileSystemError("creating", temporary) }
        do {
            try writeAll(fd: fd, bytes, path: temporary)
            guard fsync(fd) == 0 else { throw FileSystemError("fsync of", temporary) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw FileSystemError("renaming into", path) }
        try syncDirectory(containing: path)
    }

    /// Makes the directory's entries (a rename, a new or removed file) durable.
    public static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError("opening directory", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileSystemError("fsync of directory", directory) }
    }

    public static func syncDirectory(containing path: String) throws {
        let directory = path[..<(path.lastIndex(of: "/") ?? path.startIndex)]
        try syncDirectory(directory.isEmpty ? "." : String(directory))
    }
}
