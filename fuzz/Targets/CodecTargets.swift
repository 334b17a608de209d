import StrataCore

/// Decompression of bodies and batches a client sends: output never exceeds the limit (checked
/// as it expands), and compressing then decompressing gives the input back.
enum CodecTargets {
    static let limit = 64 << 10
    static let sample = Array(String(repeating: "{\"body\":\"GET /api/orders/42 200 12ms\"}\n", count: 40).utf8)

    static func roundTrip(_ name: String, compress: ([UInt8]) throws -> [UInt8], decompress: ([UInt8], Int) throws -> [UInt8], _ input: [UInt8]) throws(FuzzViolation) -> FuzzOutcome {
        var outcome: FuzzOutcome
        do {
            let output = try decompress(input, limit)
            try require(output.count <= limit, "\(name) expanded \(input.count) bytes to \(output.count), over the limit of \(limit)")
            outcome = "accepted"
        } catch let violation as FuzzViolation {
            throw violation
        } catch {
            outcome = "refused: \(error)"
        }
        do {
            let packed = try compress(input)
            let unpacked = try decompress(packed, max(input.count, 1))
            try require(unpacked == input, "\(name) does not give back what it compressed")
        } catch let violation as FuzzViolation {
            throw violation
        } catch {
            throw FuzzViolation("\(name) fails on its own output: \(error)")
        }
        return outcome
    }

    static let zstd = FuzzTarget(
        name: "zstd", summary: "zstd frames with an output limit",
        seeds: [(try? ZstdCompressor().compress(sample)) ?? [], [0x28, 0xB5, 0x2F, 0xFD]],
        dictionary: [[0x28, 0xB5, 0x2F, 0xFD], [0xFF, 0xFF, 0xFF, 0x7F]], maxInputBytes: 4096
    ) { input throws(FuzzViolation) in
        try roundTrip("zstd", compress: { try ZstdCompressor().compress($0) }, decompress: { try ZstdDecompressor().decompress($0, maxOutputSize: $1) }, input)
    }

    static let lz4 = FuzzTarget(
        name: "lz4", summary: "LZ4 frames with an output limit",
        seeds: [(try? LZ4FrameCompressor().compress(sample)) ?? [], [0x04, 0x22, 0x4D, 0x18]],
        dictionary: [[0x04, 0x22, 0x4D, 0x18], [0xFF, 0xFF, 0xFF, 0x7F]], maxInputBytes: 4096
    ) { input throws(FuzzViolation) in
        try roundTrip("lz4", compress: { try LZ4FrameCompressor().compress($0) }, decompress: { try LZ4FrameDecompressor().decompress($0, maxOutputSize: $1) }, input)
    }

    /// gzip and zlib bodies (Content-Encoding gzip/deflate); Strata only reads them.
    static let gzip = FuzzTarget(
        name: "gzip", summary: "gzip and zlib bodies with an output limit",
        seeds: [
            // gzip of three NDJSON lines, and zlib of one (made with Python's gzip and zlib).
            [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0x4a, 0xca, 0x4f, 0xa9, 0x54, 0xb2, 0x52, 0xca, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xd2, 0x51, 0x2a, 0xc9, 0xcc, 0x4d, 0x2d, 0x2e, 0x49, 0xcc, 0x2d, 0x00, 0x8a, 0x19, 0x19, 0x18, 0x99, 0xe9, 0x1a, 0x1a, 0xe9, 0x1a, 0x18, 0x86, 0x18, 0x1a, 0x58, 0x19, 0x80, 0x50, 0x94, 0x52, 0x2d, 0x57, 0x35, 0x9d, 0xf4, 0x00, 0x00, 0xd9, 0x2e, 0xdc, 0x92, 0x9c, 0x00, 0x00, 0x00],
            [0x78, 0x9c, 0xab, 0x56, 0x4a, 0xca, 0x4f, 0xa9, 0x54, 0xb2, 0x52, 0xaa, 0x50, 0xaa, 0xe5, 0x02, 0x00, 0x1d, 0xfa, 0x03, 0xeb],
        ],
        dictionary: [[0x1f, 0x8b, 0x08], [0x78, 0x9c], [0xFF, 0xFF, 0xFF, 0xFF]], maxInputBytes: 4096
    ) { input throws(FuzzViolation) in
        let output: [UInt8]
        do throws(GzipError) {
            output = try Gzip.decompress(input, maxOutputSize: limit)
        } catch {
            return "refused: \(error)"
        }
        try require(output.count <= limit, "gzip expanded \(input.count) bytes to \(output.count), over the limit of \(limit)")
        return "accepted"
    }
}
