#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import Synchronization

/// The collector's write-ahead log: every accepted batch is appended and fsynced before it is
/// acknowledged, and replayed into the head after a crash.
///
/// Files `wal-<first sequence, 20 digits>.log` in one directory, appended in order. An entry is
/// `length u32 · crc32c u32 · sequence u64 · payload` (little endian; the CRC covers sequence
/// and payload). Replay stops at the first torn or corrupt entry of the LAST file (a crash
/// mid-append) and truncates it there; corruption in an earlier file is reported, the entry
/// skipped, and the rest replayed. See docs/FORMAT.md ("Write-ahead log").
public final class WriteAheadLog: @unchecked Sendable {
    public struct Entry: Sendable {
        public var sequence: UInt64
        public var payload: [UInt8]
    }

    public struct ReplayReport: Sendable {
        public var entries = 0
        public var truncatedBytes: Int64 = 0
        public var corruptEntries = 0
    }

    public let directory: String
    /// A new file is started once the current one exceeds this.
    public let fileSizeLimit: Int64
    private var fd: Int32 = -1
    private var currentPath = ""
    private var currentSize: Int64 = 0
    private(set) public var nextSequence: UInt64 = 1
    /// First sequence held by each file, in order.
    private var files: [(first: UInt64, path: String)] = []
    /// Serializes appends and truncation; held across the fsync, which is what group commit means.
    private let lock = Mutex(())

    public static let headerSize = 16
    public static let maxEntryBytes = 256 << 20

    public init(directory: String, fileSizeLimit: Int64 = 64 << 20) throws {
        self.directory = directory
        self.fileSizeLimit = fileSizeLimit
        try StoreFiles.makeDirectory(directory)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Reads every entry in order (call once, before appending), repairing a torn tail.
    public func replay(_ body: (Entry) throws -> Void) throws -> ReplayReport {
        var report = ReplayReport()
        let names = try Self.fileNames(in: directory)
        for (index, name) in names.enumerated() {
            let path = directory + "/" + name
            guard let first = UInt64(name.dropFirst(4).dropLast(4)) else { continue }
            files.append((first, path))
            let bytes = try StoreFiles.read(path)
            let end = try Self.forEachEntry(in: bytes) { entry in
                try body(entry)
                report.entries += 1
                nextSequence = max(nextSequence, entry.sequence + 1)
            }
            guard end < bytes.count else { continue }
            if index == names.count - 1 {
                // A crash mid-append: drop the torn tail so new entries follow a good one.
                report.truncatedBytes = Int64(bytes.count - end)
                guard truncate(path, off_t(end)) == 0 else {
                    throw StoreError(.io, "\(path): cannot truncate torn tail: \(String(cString: strerror(errno)))")
                }
            } else {
                report.corruptEntries += 1
            }
        }
        return report
    }

    /// What `read(directory:)` met besides entries.
    public struct ReadReport: Sendable {
        /// A damaged entry in a file other than the last (whose torn tail is an append in
        /// progress, never acknowledged): the rest of that file could not be read.
        public var problems: [String] = []
        /// Files listed but gone when read: a flush of the writing store removed them.
        public var vanishedFiles = 0
    }

    /// Reads every intact entry of the log in `directory`, in order, changing nothing (no
    /// torn-tail repair): for readers beside the store that writes the log.
    public static func read(directory: String, _ body: (Entry) throws -> Void) throws -> ReadReport {
        var report = ReadReport()
        let names = try fileNames(in: directory)
        for (index, name) in names.enumerated() {
            let path = directory + "/" + name
            let bytes: [UInt8]
            do {
                bytes = try StoreFiles.read(path)
            } catch {
                guard StoreFiles.size(path) == nil else { throw error }
                report.vanishedFiles += 1
                continue
            }
            let end = try forEachEntry(in: bytes, body)
            if end < bytes.count && index < names.count - 1 {
                report.problems.append("write-ahead log \(name): damaged entry at byte \(end); the rest of the file is left out")
            }
        }
        return report
    }

    /// The log's files in sequence order.
    static func fileNames(in directory: String) throws -> [String] {
        try StoreFiles.list(directory).filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }.sorted()
    }

    /// Calls `body` with each intact entry of one file's bytes, in order; returns the offset of
    /// the first torn or damaged entry (`bytes.count` when there is none).
    static func forEachEntry(in bytes: [UInt8], _ body: (Entry) throws -> Void) rethrows -> Int {
        var offset = 0
        while offset < bytes.count, let entry = decodeEntry(bytes, at: offset) {
            try body(entry.entry)
            offset += entry.length
        }
        return offset
    }

    static func decodeEntry(_ bytes: [UInt8], at offset: Int) -> (entry: Entry, length: Int)? {
        guard bytes.count - offset >= headerSize else { return nil }
        var reader = ByteReader(bytes, context: "wal")
        do {
            _ = try reader.readBytes(offset)
            let length = Int(try reader.readUInt32())
            let checksum = try reader.readUInt32()
            guard length >= 8, length <= maxEntryBytes, bytes.count - offset - 8 >= length else { return nil }
            let covered = bytes[(offset + 8)..<(offset + 8 + length)]
            guard covered.withUnsafeBytes({ crc32c($0) }) == checksum else { return nil }
            let sequence = try reader.readUInt64()
            let payload = Array(try reader.readBytes(length - 8))
            return (Entry(sequence: sequence, payload: payload), 8 + length)
        } catch {
            return nil
        }
    }

    /// Makes the next entry's sequence at least `sequence`. After a flush deleted every file, a
    /// restarted log would otherwise count from 1 again, below the manifest's `flushedThrough`,
    /// and a replay would skip its entries as already flushed.
    public func advanceSequence(toAtLeast sequence: UInt64) {
        lock.withLock { _ in nextSequence = max(nextSequence, sequence) }
    }

    /// Appends entries and fsyncs once for all of them (group commit); returns their sequences.
    @discardableResult
    public func append(_ payloads: [[UInt8]]) throws -> [UInt64] {
        try lock.withLock { _ in try appendLocked(payloads) }
    }

    private func appendLocked(_ payloads: [[UInt8]]) throws -> [UInt64] {
        if fd < 0 || currentSize >= fileSizeLimit { try startFile() }
        var buffer = ByteWriter(capacity: payloads.reduce(0) { $0 + $1.count + Self.headerSize })
        var sequences: [UInt64] = []
        for payload in payloads {
            guard payload.count + 8 <= Self.maxEntryBytes else {
                throw StoreError(.io, "WAL entry of \(payload.count) bytes exceeds the \(Self.maxEntryBytes)-byte limit")
            }
            var covered = ByteWriter(capacity: payload.count + 8)
            covered.writeUInt64(nextSequence)
            covered.writeBytes(payload)
            buffer.writeUInt32(UInt32(covered.count))
            buffer.writeUInt32(covered.bytes.withUnsafeBytes { crc32c($0) })
            buffer.writeBytes(covered.bytes)
            sequences.append(nextSequence)
            nextSequence += 1
        }
        try StoreFiles.writeAll(fd: fd, buffer.bytes, path: currentPath)
        guard fdatasync(fd) == 0 else {
            throw StoreError(.io, "\(currentPath): fdatasync failed: \(String(cString: strerror(errno)))")
        }
        currentSize += Int64(buffer.count)
        return sequences
    }

    private func startFile() throws {
        if fd >= 0 { close(fd) }
        currentPath = directory + "/wal-" + FileSystem.numberedName(nextSequence, digits: 20) + ".log"
        fd = open(currentPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError(.io, "\(currentPath): cannot create: \(String(cString: strerror(errno)))")
        }
        try StoreFiles.syncDirectory(directory)
        currentSize = StoreFiles.size(currentPath) ?? 0
        files.append((nextSequence, currentPath))
    }

    /// Deletes whole files whose entries are all below `sequence` (flushed into segments).
    public func removeEntries(before sequence: UInt64) throws {
        try lock.withLock { _ in try removeLocked(before: sequence) }
    }

    private func removeLocked(before sequence: UInt64) throws {
        while files.count > 1, files[1].first <= sequence {
            let file = files.removeFirst()
            unlink(file.path)
        }
        if files.count == 1, let only = files.first, nextSequence <= sequence, only.path == currentPath {
            // Everything is flushed: start afresh rather than keep a file of dead entries.
            close(fd)
            fd = -1
            unlink(only.path)
            files.removeAll()
        }
        try StoreFiles.syncDirectory(directory)
    }

    /// Bytes on disk, for /metrics.
    public var totalBytes: Int64 {
        lock.withLock { _ in files.reduce(0) { $0 + (StoreFiles.size($1.path) ?? 0) } }
    }
}
