#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// A file's identity on this node: device and inode. Paths change on rotation; the inode
/// follows the data. Inode numbers are reused after deletion, so a fingerprint of the first
/// bytes tells a reused inode from the file the checkpoint was taken on.
public struct FileKey: Sendable, Hashable, CustomStringConvertible {
    public var device: UInt64
    public var inode: UInt64
    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
    public var description: String { "\(device):\(inode)" }

    public init?(string: String) {
        let parts = string.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        self.init(device: device, inode: inode)
    }
}

/// CRC-32C of a file's first `length` bytes (up to `maxLength`): with the device and inode it
/// tells a rotated-in file that reused an inode from the one a checkpoint was taken of.
public struct FileHeadChecksum: Sendable, Hashable {
    public static let maxLength = 256
    public var checksum: UInt32
    public var length: Int
    public init(checksum: UInt32, length: Int) {
        self.checksum = checksum
        self.length = length
    }
    public static let empty = FileHeadChecksum(checksum: 0, length: 0)

    /// Reads the first `length` bytes of an open file without moving its offset.
    public static func read(fd: Int32, length: Int) -> FileHeadChecksum? {
        guard length > 0 else { return .empty }
        var buffer = [UInt8](repeating: 0, count: length)
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, 0) }
        guard got == length else { return nil }
        return FileHeadChecksum(checksum: buffer.withUnsafeBytes { crc32c($0) }, length: length)
    }

    /// The checksum of the file's first line, newline included (of its first `maxLength` bytes
    /// when the line is longer). Unlike `read(fd:length:)` with the size of the moment, it is
    /// the same whenever it is taken once the first line is complete, which is before any record
    /// of the file exists: that makes it part of the file's identity on the wire (`FileSource`).
    public static func firstLine(fd: Int32) -> FileHeadChecksum? {
        var buffer = [UInt8](repeating: 0, count: maxLength)
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, maxLength, 0) }
        guard got >= 0 else { return nil }
        let head = buffer[0..<got]
        let length = head.firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? got
        return FileHeadChecksum(checksum: head[0..<length].withUnsafeBytes { crc32c($0) }, length: length)
    }
}

public struct FileStatus: Sendable {
    public var key: FileKey
    public var size: Int64
    public var isRegular: Bool

    public static func of(path: String) -> FileStatus? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileStatus(info)
    }

    public static func of(fd: Int32) -> FileStatus? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return FileStatus(info)
    }

    init(_ info: stat) {
        key = FileKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        size = Int64(info.st_size)
        isRegular = (info.st_mode & S_IFMT) == S_IFREG
    }
}
