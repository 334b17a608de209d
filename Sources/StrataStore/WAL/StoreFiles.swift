#if canImport(Glibc)
import Glibc
#endif

/// POSIX file operations for the store, with errors that name the file.
enum StoreFiles {
    static func failure(_ operation: String, _ path: String) -> StoreError {
        StoreError(.io, "\(path): \(operation) failed: \(String(cString: strerror(errno)))")
    }

    static func makeDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw failure("creating directory", current) }
        }
    }

    static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw failure("listing", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Bytes an unprivileged process may still write on the file system holding `path`.
    static func availableBytes(onFileSystemOf path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let (bytes, overflow) = Int64(info.f_bavail).multipliedReportingOverflow(by: Int64(info.f_frsize))
        return overflow ? .max : bytes
    }

    static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("opening", path) }
        defer { close(fd) }
        let size = Int(size(path) ?? 0)
        var result = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = result.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, size - done, off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        result.removeSubrange(done...)
        return result
    }

    static func writeAll(fd: Int32, _ bytes: [UInt8], path: String) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("writing", path)
            }
            written += n
        }
    }

    static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("opening directory", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync of directory", directory) }
    }

    /// Temporary file, fsync, rename, fsync of the directory: after a crash the file is either
    /// absent or complete.
    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("creating", temporary) }
        do {
            try writeAll(fd: fd, bytes, path: temporary)
            guard fsync(fd) == 0 else { throw failure("fsync of", temporary) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw failure("renaming into", path) }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        try syncDirectory(directory.isEmpty ? "." : directory)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
