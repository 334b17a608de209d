import Glibc
import StrataCore

/// StrataCore's `FileSystem` as the store calls it: failures become `StoreError(.io)` that
/// start with the file, like the store's other errors ("<path>: writing failed: <reason>").
enum StoreFiles {
    /// A failed system call on `path`, from `errno`, for calls the store makes itself (flock).
    static func failure(_ operation: String, _ path: String) -> StoreError {
        StoreError(.io, "\(path): \(operation) failed: \(String(cString: strerror(errno)))")
    }

    static func makeDirectory(_ path: String) throws { try io { try FileSystem.makeDirectory(path) } }

    static func list(_ path: String) throws -> [String] { try io { try FileSystem.listDirectory(path) } }

    static func availableBytes(onFileSystemOf path: String) -> Int64? { FileSystem.availableBytes(onFileSystemOf: path) }

    static func size(_ path: String) -> Int64? { FileSystem.size(path) }

    static func read(_ path: String) throws -> [UInt8] { try io { try FileSystem.readFile(path) } }

    static func writeAll(fd: Int32, _ bytes: [UInt8], path: String) throws {
        try io { try FileSystem.writeAll(fd: fd, bytes, path: path) }
    }

    static func syncDirectory(_ directory: String) throws { try io { try FileSystem.syncDirectory(directory) } }

    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        try io { try FileSystem.writeDurably(bytes, to: path) }
    }

    private static func io<Result>(_ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch let error as FileSystemError {
            throw StoreError(.io, "\(error.path): \(error.operation) failed: \(error.reason)")
        }
    }
}
