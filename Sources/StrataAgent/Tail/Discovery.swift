#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// Expands the configured path globs into the files to tail.
struct Discovery {
    var include: [String]
    var exclude: [String]

    struct Match: Hashable {
        /// The path as the glob matched it (often a symlink in /var/log/containers).
        var path: String
        /// Where it leads, all symlinks followed.
        var realPath: String
    }

    func scan() -> [Match] {
        var seen = Set<String>()
        var matches: [Match] = []
        for pattern in include {
            for path in Self.glob(pattern) where !seen.contains(path) {
                seen.insert(path)
                guard !isExcluded(path), let real = Self.realPath(path).map(Self.followLinkStub), !isExcluded(real)
                else { continue }
                matches.append(Match(path: path, realPath: real))
            }
        }
        return matches
    }

    func isExcluded(_ path: String) -> Bool {
        exclude.contains { fnmatch($0, path, 0) == 0 }
    }

    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            if let cString = result.gl_pathv[index] { paths.append(String(cString: cString)) }
        }
        return paths
    }

    /// Some copies of a node's logs carry /var/log/containers entries as small text files that
    /// hold the link target instead of symlinks (git with core.symlinks=false, some archivers).
    /// Such a stub is followed like the symlink it stands for.
    static func followLinkStub(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0, info.st_size < 4096,
            let content = try? FileSystem.readFile(path), !content.contains(UInt8(ascii: "\n")),
            !content.contains(0), content.last.map({ $0 != UInt8(ascii: "/") }) ?? false
        else { return path }
        let text = String(decoding: content, as: UTF8.self)
        guard text.hasSuffix(".log") || text.contains(".log.") else { return path }
        let directory = path[..<(path.lastIndex(of: "/") ?? path.startIndex)]
        let target = text.hasPrefix("/") ? text : directory + "/" + text
        guard let resolved = realPath(target), resolved != path, FileStatus.of(path: resolved)?.isRegular == true else {
            return path
        }
        return resolved
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The directories to watch for new files: the part of each pattern before its first
    /// wildcard, as far as it exists.
    func staticDirectories() -> [String] {
        include.compactMap { pattern in
            var components: [Substring] = []
            for component in pattern.split(separator: "/") {
                if component.contains(where: { "*?[".contains($0) }) { break }
                components.append(component)
            }
            if components.count == pattern.split(separator: "/").count { components.removeLast() }
            return (pattern.hasPrefix("/") ? "/" : "") + components.joined(separator: "/")
        }
    }
}

/// Wakes the reader when watched directories change: files written, created, moved or
/// removed. The periodic rescan remains the safety net (inotify queues can overflow).
final class Inotify {
    let fd: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private var watches: [String: Int32] = [:]
    private(set) var rescanRequested = false

    init() {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        }
        wakeRead = ends[0]
        wakeWrite = ends[1]
    }

    deinit {
        if fd >= 0 { close(fd) }
        if wakeRead >= 0 { close(wakeRead) }
        if wakeWrite >= 0 { close(wakeWrite) }
    }

    func watch(directory: String) {
        guard fd >= 0, watches[directory] == nil else { return }
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE)
        let wd = inotify_add_watch(fd, directory, mask)
        if wd >= 0 { watches[directory] = wd }
    }

    func unwatch(directory: String) {
        guard let wd = watches.removeValue(forKey: directory) else { return }
        inotify_rm_watch(fd, wd)
    }

    var watchedDirectories: Set<String> { Set(watches.keys) }

    /// Interrupts `wait` from another thread.
    func wake() {
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    /// Blocks up to `milliseconds` for an event; returns true when something happened.
    @discardableResult
    func wait(milliseconds: Int32) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        let ready = poll(&fds, 2, max(0, milliseconds))
        guard ready > 0 else { return false }
        drain()
        return true
    }

    /// Consumes pending events, noting whether any of them calls for a rescan.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while fd >= 0 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= n {
                let (mask, length) = buffer.withUnsafeBytes { raw -> (UInt32, UInt32) in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.mask, event.len)
                }
                if mask & UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_Q_OVERFLOW) != 0 {
                    rescanRequested = true
                }
                offset += MemoryLayout<inotify_event>.size + Int(length)
            }
        }
        var sink = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &sink, sink.count) > 0 {}
    }

    func clearRescanRequest() { rescanRequested = false }
}
