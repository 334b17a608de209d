import CZlib

public struct GzipError: Error, CustomStringConvertible {
    public var description: String
}

/// gzip (and zlib) decompression for NDJSON uploads, with a cap on the output size.
enum Gzip {
    static func decompress(_ input: [UInt8], maxOutputSize: Int) throws -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GzipError(description: "gzip: cannot initialise the decompressor")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        return try input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                if output.count > maxOutputSize {
                    throw GzipError(description: "gzip body expands beyond \(maxOutputSize) bytes")
                }
                switch status {
                case Z_STREAM_END:
                    return output
                case Z_OK:
                    if stream.avail_in == 0 && produced == 0 {
                        throw GzipError(description: "gzip body is truncated")
                    }
                case Z_BUF_ERROR:
                    throw GzipError(description: "gzip body is truncated")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw GzipError(description: "gzip body is corrupt: \(message)")
                }
            }
        }
    }
}
