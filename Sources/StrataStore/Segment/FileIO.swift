#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import StrataCore
import Synchronization

private func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }

/// Writes a file sequentially through a buffer, then publishes it atomically:
/// `path.tmp` → fsync → rename to `path` → fsync of the directory (after a crash the segment is
/// either absent or complete).
final class SegmentFileSink {
    let path: String
    let temporaryPath: String
    let durable: Bool
    /// Names the operation for the test-only crash points (`<scope>.after_temp`, `.after_rename`).
    let faultScope: String?
    private var fd: Int32
    private var buffer: [UInt8] = []
    private(set) var offset = 0
    private static let flushThreshold = 1 << 20

    init(path: String, durable: Bool, faultScope: String? = nil) throws {
        self.path = path
        self.temporaryPath = path + ".tmp"
        self.durable = durable
        self.faultScope = faultScope
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError(.io, "\(temporaryPath): creating the segment file failed: \(errnoText(errno))")
        }
        buffer.reserveCapacity(Self.flushThreshold + 64 * 1024)
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(temporaryPath)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        offset += bytes.count
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(byte: UInt8) throws {
        buffer.append(byte)
        offset += 1
    }

    private func flush() throws {
        var written = 0
        while written < buffer.count {
            let n = buffer.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError(.io, "\(temporaryPath): writing failed: \(errnoText(errno))")
            }
            written += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and renames the file into place.
    func commit() throws {
        try flush()
        if durable && fsync(fd) != 0 {
            throw StoreError(.io, "\(temporaryPath): fsync failed: \(errnoText(errno))")
        }
        close(fd)
        fd = -1
        if let faultScope { FaultInjection.check(faultScope + ".after_temp") }
        guard rename(temporaryPath, path) == 0 else {
            let code = errno
            unlink(temporaryPath)
            throw StoreError(.io, "\(path): renaming the finished segment into place failed: \(errnoText(code))")
        }
        if durable {
            let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            let dir = directory.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : directory
            let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard dfd >= 0 else { throw StoreError(.io, "\(dir): opening the directory for fsync failed: \(errnoText(errno))") }
            defer { close(dfd) }
            guard fsync(dfd) == 0 else { throw StoreError(.io, "\(dir): fsync of the directory failed: \(errnoText(errno))") }
        }
        if let faultScope { FaultInjection.check(faultScope + ".after_rename") }
    }
}

/// A read-only file accessed with `pread` (thread-safe; no shared file position).
final class SegmentFile: Sendable {
    let path: String
    let size: Int
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(.io, "\(path): opening the segment failed: \(errnoText(errno))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw StoreError(.io, "\(path): stat failed: \(errnoText(code))")
        }
        self.fd = fd
        self.size = Int(info.st_size)
    }

    deinit { close(fd) }

    /// Reads exactly `count` bytes at `offset`; `what` names the structure for errors.
    func read(offset: Int, count: Int, _ what: String) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw StoreError(.corrupt, "\(path): \(what) at \(offset)+\(count) lies outside the file of \(size) bytes")
        }
        if count == 0 { return [] }
        let fd = self.fd
        var failure: StoreError?
        let result = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = StoreError(.io, "\(path): reading \(what) failed: \(errnoText(errno))")
                    break
                }
                if n == 0 {
                    failure = StoreError(.corrupt, "\(path): \(what) ends early: the file shrank while reading")
                    break
                }
                done += n
            }
            initialized = failure == nil ? count : 0
        }
        if let failure { throw failure }
        return result
    }
}

// MARK: - Chunk compression

/// Stored form of every chunk, index block and section: one codec byte
/// (`CompressionCodec.rawValue`) followed by the payload.
final class ChunkCompressor {
    let codec: CompressionCodec
    private let zstd: ZstdCompressor?
    private let lz4: LZ4FrameCompressor?
    /// Payloads shorter than this are stored uncompressed.
    static let minimumCompressedSize = 48

    init(codec: CompressionCodec, level: Int) throws {
        self.codec = codec
        do {
            zstd = codec == .zstd ? try ZstdCompressor(level: level) : nil
            lz4 = codec == .lz4 ? try LZ4FrameCompressor(level: level) : nil
        } catch {
            throw StoreError(.io, "creating the \(codec.name) compressor failed: \(error)")
        }
    }

    /// Returns the stored bytes (codec byte + payload) for `raw`.
    func store(_ raw: [UInt8]) throws -> [UInt8] {
        if raw.count >= Self.minimumCompressedSize && codec != .none {
            let compressed: [UInt8]
            do {
                compressed = try raw.withUnsafeBytes { bytes in
                    codec == .zstd ? try zstd!.compress(bytes) : try lz4!.compress(bytes)
                }
            } catch {
                throw StoreError(.io, "compressing a chunk failed: \(error)")
            }
            if compressed.count < raw.count {
                var out = [UInt8]()
                out.reserveCapacity(compressed.count + 1)
                out.append(codec.rawValue)
                out.append(contentsOf: compressed)
                return out
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(raw.count + 1)
        out.append(CompressionCodec.none.rawValue)
        out.append(contentsOf: raw)
        return out
    }
}

/// Decompression contexts, pooled so concurrent readers of one segment do not contend.
/// The free lists sit outside the mutex because a context is handed to one reader at a time,
/// which `Mutex`'s sending rules cannot express for a non-Sendable class.
final class ChunkDecompressorPool: @unchecked Sendable {
    private let lock = Mutex<Void>(())
    private var zstdFree: [ZstdDecompressor] = []
    private var lz4Free: [LZ4FrameDecompressor] = []

    /// Checks the CRC of `stored[range]` and returns its payload, decompressed to exactly
    /// `rawLength` bytes.
    func load(_ stored: [UInt8], _ range: Range<Int>, rawLength: Int, crc: UInt32) throws -> [UInt8] {
        let actual = stored.withUnsafeBytes { crc32c(UnsafeRawBufferPointer(rebasing: $0[range])) }
        guard actual == crc else {
            throw FormatError("fails its checksum (stored CRC-32C \(checksumHex(crc)), computed \(checksumHex(actual)))")
        }
        guard range.count >= 1 else { throw FormatError("is empty") }
        let payload = range.lowerBound + 1..<range.upperBound
        guard let codec = CompressionCodec(rawValue: stored[range.lowerBound]) else {
            throw FormatError("has an unknown codec \(stored[range.lowerBound])")
        }
        let result: [UInt8]
        switch codec {
        case .none:
            result = Array(stored[payload])
        case .zstd:
            let context = try lock.withLock { _ in zstdFree.popLast() } ?? makeZstd()
            defer { lock.withLock { _ in zstdFree.append(context) } }
            result = try decompress(codec) {
                try stored.withUnsafeBytes { try context.decompress(UnsafeRawBufferPointer(rebasing: $0[payload]), maxOutputSize: rawLength) }
            }
        case .lz4:
            let context = try lock.withLock { _ in lz4Free.popLast() } ?? makeLZ4()
            defer { lock.withLock { _ in lz4Free.append(context) } }
            result = try decompress(codec) {
                try stored.withUnsafeBytes { try context.decompress(UnsafeRawBufferPointer(rebasing: $0[payload]), maxOutputSize: rawLength) }
            }
        }
        guard result.count == rawLength else {
            throw FormatError("holds \(result.count) bytes, the metadata says \(rawLength)")
        }
        return result
    }

    private func decompress(_ codec: CompressionCodec, _ body: () throws -> [UInt8]) throws -> [UInt8] {
        do {
            return try body()
        } catch let error as CompressionError {
            throw FormatError("does not decompress (\(codec.name)): \(error.message)")
        }
    }

    private func makeZstd() throws -> ZstdDecompressor {
        do { return try ZstdDecompressor() } catch { throw StoreError(.io, "creating a zstd decompressor failed: \(error)") }
    }

    private func makeLZ4() throws -> LZ4FrameDecompressor {
        do { return try LZ4FrameDecompressor() } catch { throw StoreError(.io, "creating an lz4 decompressor failed: \(error)") }
    }
}

func checksumHex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}
