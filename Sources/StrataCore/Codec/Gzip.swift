import CZlib

/// A gzip or zlib stream that could not be decompressed. `kind` tells a caller whether the
/// input is bad or merely too large, without reading the message.
public struct GzipError: Error, CustomStringConvertible, Sendable, Equatable {
    public let kind: CompressionError.Kind
    public let message: String

    public init(kind: CompressionError.Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// gzip (RFC 1952) and zlib (RFC 1950) decompression, beside zstd and LZ4: HTTP senders
/// compress with `Content-Encoding: gzip` or `deflate`. Not a `CompressionCodec`, whose raw
/// values are on-disk ids: nothing in Strata writes gzip.
public enum Gzip {
    /// Decompresses one gzip or zlib stream (its header tells which). zlib never produces more
    /// than `maxOutputSize` + 1 bytes, so a decompression bomb is stopped when it passes the
    /// limit, not after it has been expanded.
    ///
    /// `admit`, when given, is asked before the output's buffer grows, with the bytes it will
    /// then hold (the old buffer and the new one while growing); `false` stops with
    /// `.outputRefused` before allocating: a caller's memory budget, enforced as it expands.
    public static func decompress(
        _ input: [UInt8], maxOutputSize: Int, admit: ((Int) -> Bool)? = nil
    ) throws(GzipError) -> [UInt8] {
        let limit = max(0, maxOutputSize)
        // One byte beyond the limit tells "exactly the limit" from "more".
        let ceiling = limit == Int.max ? limit : limit + 1
        var stream = z_stream()
        // 15 window bits + 32: accept a gzip or a zlib header.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GzipError(kind: .outOfMemory, message: "gzip decompression failed: could not allocate a context (out of memory)")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        // A first guess of 4x the input (gzip text usually expands 4-10x), grown by doubling.
        let (guess, overflow) = input.count.multipliedReportingOverflow(by: 4)
        let first = min(ceiling, max(overflow ? ceiling : guess, 16 * 1024))
        if let admit, !admit(first) { throw refused(first) }
        output.reserveCapacity(first)
        // The 64 KiB window zlib writes into is not claimed: it is fixed and small.
        var chunk = [UInt8](repeating: 0, count: min(64 * 1024, ceiling))
        let result: Result<[UInt8], GzipError> = input.withUnsafeBufferPointer { source in
            // zlib does not write through next_in; its header just lacks the const.
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while true {
                let room = min(chunk.count, ceiling - output.count)
                let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(room)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = room - Int(stream.avail_out)
                if output.count + produced > output.capacity {
                    // Growing explicitly (not through append's own doubling) so that the budget
                    // sees every allocation before it happens.
                    let needed = output.count + produced
                    let grown = min(ceiling, max(needed, output.capacity > ceiling / 2 ? ceiling : output.capacity * 2))
                    if let admit, !admit(output.capacity + grown) { return .failure(refused(grown)) }
                    var larger: [UInt8] = []
                    larger.reserveCapacity(grown)
                    larger.append(contentsOf: output)
                    output = larger
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit {
                    return .failure(GzipError(
                        kind: .outputLimitExceeded,
                        message: "gzip decompression failed: output exceeds the limit of \(limit) bytes "
                            + "(possible decompression bomb; raise the limit if this payload is legitimate)"))
                }
                switch status {
                case Z_STREAM_END:
                    return .success(output)
                case Z_OK where stream.avail_in > 0 || produced > 0:
                    continue
                case Z_OK, Z_BUF_ERROR:
                    return .failure(GzipError(
                        kind: .truncatedInput,
                        message: input.isEmpty
                            ? "gzip decompression failed: the input is empty (expected a gzip or zlib stream)"
                            : "gzip decompression failed: input ended in the middle of the stream (truncated body?)"))
                case Z_MEM_ERROR:
                    return .failure(GzipError(kind: .outOfMemory, message: "gzip decompression failed: out of memory"))
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    return .failure(GzipError(
                        kind: .corruptInput, message: "gzip decompression failed: \(reason) (is the body gzip-compressed?)"))
                }
            }
        }
        return try result.get()
    }

    private static func refused(_ bytes: Int) -> GzipError {
        GzipError(
            kind: .outputRefused,
            message: "gzip decompression stopped: growing the output to \(bytes) bytes was refused by the memory budget")
    }
}
