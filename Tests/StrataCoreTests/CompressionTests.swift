import CLZ4
import CZstd
import XCTest

@testable import StrataCore

final class CompressionTests: XCTestCase {
    private static let limit = 64 << 20

    private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z) { out.append(contentsOf: $0) }
        }
        out.removeLast(out.count - count)
        return out
    }

    private func compressibleBytes(_ count: Int) -> [UInt8] {
        let line = Array(
            "2024-05-01T12:00:00Z level=info msg=\"request served\" path=/api/v1/items status=200\n".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count { out.append(contentsOf: line.prefix(count - out.count)) }
        return out
    }

    private var samples: [(String, [UInt8])] {
        [
            ("empty", []),
            ("one byte", [0x42]),
            ("random 1 MiB", randomBytes(1 << 20, seed: 1)),
            ("compressible 10 MiB", compressibleBytes(10 << 20)),
        ]
    }

    private func assertThrowsCompressionError(
        _ kind: CompressionError.Kind?, _ expression: @autoclosure () throws -> [UInt8],
        contains fragment: String? = nil, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let result = try expression()
            XCTFail("expected an error, got \(result.count) bytes", file: file, line: line)
        } catch let error as CompressionError {
            if let kind { XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line) }
            if let fragment {
                XCTAssertTrue(error.description.contains(fragment), "\(error)", file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
        }
    }

    // MARK: Codec enum

    func testCodecNames() {
        XCTAssertEqual(CompressionCodec.allCases, [.none, .zstd, .lz4])
        for codec in CompressionCodec.allCases {
            XCTAssertEqual(CompressionCodec(name: codec.name), codec)
            XCTAssertEqual(CompressionCodec(rawValue: codec.rawValue), codec)
        }
        XCTAssertEqual(CompressionCodec.none.name, "none")
        XCTAssertEqual(CompressionCodec.zstd.name, "zstd")
        XCTAssertEqual(CompressionCodec.lz4.name, "lz4")
        XCTAssertEqual(CompressionCodec(name: " ZSTD "), .zstd)
        XCTAssertNil(CompressionCodec(name: "gzip"))
        XCTAssertNil(CompressionCodec(name: ""))
        XCTAssertNil(CompressionCodec(rawValue: 3))
    }

    // MARK: Round trips

    func testRoundTripViaCodecEnum() throws {
        for codec in CompressionCodec.allCases {
            for (label, input) in samples {
                let compressed = try codec.compress(input)
                let output = try codec.decompress(compressed, maxOutputSize: Self.limit)
                XCTAssertEqual(output, input, "\(codec.name) \(label)")
                if codec != .none && input.count == 10 << 20 {
                    XCTAssertLessThan(compressed.count, input.count / 20, "\(codec.name) should compress")
                }
            }
        }
    }

    func testRoundTripWithLevelsAndInputKinds() throws {
        let input = compressibleBytes(300_000)
        for codec in [CompressionCodec.zstd, .lz4] {
            for level in [-5, 0, 1, 9, 12, 100] {
                let compressed = try codec.compress(input, level: level)
                XCTAssertEqual(try codec.decompress(compressed, maxOutputSize: input.count), input)
            }
            let sliceInput = input[1000..<5000]
            let compressedSlice = try codec.compress(sliceInput)
            XCTAssertEqual(try codec.decompress(compressedSlice[...], maxOutputSize: 4000), Array(sliceInput))
            let viaRaw = try input.withUnsafeBytes { try codec.compress($0) }
            let back = try viaRaw.withUnsafeBytes { try codec.decompress($0, maxOutputSize: input.count) }
            XCTAssertEqual(back, input)
        }
    }

    func testReusableContexts() throws {
        let zc = try ZstdCompressor(level: 3)
        let zd = try ZstdDecompressor()
        let lc = try LZ4FrameCompressor()
        let ld = try LZ4FrameDecompressor()
        XCTAssertEqual(zc.level, 3)
        for i in 0..<20 {
            let input = i % 2 == 0 ? randomBytes(i * 1000, seed: UInt64(i)) : compressibleBytes(i * 50_000)
            XCTAssertEqual(try zd.decompress(try zc.compress(input), maxOutputSize: Self.limit), input)
            XCTAssertEqual(try ld.decompress(try lc.compress(input), maxOutputSize: Self.limit), input)
            // A failure must not poison the context for the next call.
            XCTAssertThrowsError(try zd.decompress(Array("garbage!".utf8), maxOutputSize: 100))
            XCTAssertThrowsError(try ld.decompress(Array("garbage!".utf8), maxOutputSize: 100))
            let truncatedZ = try zc.compress(input + [1, 2, 3])
            XCTAssertThrowsError(try zd.decompress(truncatedZ.dropLast(3), maxOutputSize: Self.limit))
        }
    }

    func testLevelClamping() throws {
        XCTAssertEqual(try ZstdCompressor(level: 0).level, 3)
        XCTAssertEqual(try ZstdCompressor(level: 1000).level, Int(ZSTD_maxCLevel()))
        XCTAssertEqual(try LZ4FrameCompressor(level: 99).level, 12)
    }

    // MARK: Bad input

    func testCorruptInputGivesErrors() throws {
        let garbage = Array("this is definitely not compressed".utf8)
        assertThrowsCompressionError(
            .corruptInput, try CompressionCodec.zstd.decompress(garbage, maxOutputSize: 1000),
            contains: "zstd decompression failed: Unknown frame descriptor (is the body zstd-compressed?)")
        assertThrowsCompressionError(
            .corruptInput, try CompressionCodec.lz4.decompress(garbage, maxOutputSize: 1000),
            contains: "lz4 decompression failed: ERROR_frameType_unknown (is the body lz4-compressed?")

        // Flip bytes inside valid frames (checksums are on, so corruption is detected).
        let input = compressibleBytes(200_000) + randomBytes(50_000, seed: 5)
        for codec in [CompressionCodec.zstd, .lz4] {
            let compressed = try codec.compress(input)
            for position in stride(from: 20, to: compressed.count, by: max(1, compressed.count / 25)) {
                var damaged = compressed
                damaged[position] ^= 0x5A
                XCTAssertThrowsError(try codec.decompress(damaged, maxOutputSize: Self.limit)) { error in
                    XCTAssertTrue(error is CompressionError)
                    XCTAssertTrue("\(error)".hasPrefix("\(codec.name) decompression failed: "), "\(error)")
                }
            }
        }

        // Random noise with the right magic number.
        for seed in 0..<50 {
            let zstdNoise = [0x28, 0xB5, 0x2F, 0xFD] + randomBytes(Int(seed) * 7, seed: UInt64(seed))
            XCTAssertThrowsError(try CompressionCodec.zstd.decompress(zstdNoise, maxOutputSize: 1 << 20))
            let lz4Noise = [0x04, 0x22, 0x4D, 0x18] + randomBytes(Int(seed) * 7, seed: UInt64(seed))
            XCTAssertThrowsError(try CompressionCodec.lz4.decompress(lz4Noise, maxOutputSize: 1 << 20))
        }
    }

    func testEmptyInputIsAnError() {
        for codec in [CompressionCodec.zstd, .lz4] {
            assertThrowsCompressionError(
                .truncatedInput, try codec.decompress([UInt8](), maxOutputSize: 10), contains: "empty")
        }
        XCTAssertEqual(try CompressionCodec.none.decompress([UInt8](), maxOutputSize: 0), [])
    }

    func testTruncatedFramesGiveErrors() throws {
        let input = compressibleBytes(1 << 20) + randomBytes(100_000, seed: 3)
        for codec in [CompressionCodec.zstd, .lz4] {
            let compressed = try codec.compress(input)
            for cut in [1, 3, 6, 12, compressed.count / 3, compressed.count / 2, compressed.count - 1] {
                XCTAssertThrowsError(
                    try codec.decompress(compressed[0..<cut], maxOutputSize: Self.limit), "\(codec.name) cut \(cut)"
                ) { error in
                    guard let error = error as? CompressionError else { return XCTFail("\(error)") }
                    XCTAssertTrue(
                        error.kind == .truncatedInput || error.kind == .corruptInput, "\(codec.name) cut \(cut): \(error)")
                }
            }
            // Cut in the middle of the data: reported as truncation with advice.
            assertThrowsCompressionError(
                .truncatedInput, try codec.decompress(compressed[0..<(compressed.count / 2)], maxOutputSize: Self.limit),
                contains: "truncated")
        }
    }

    func testMaxOutputSizeIsEnforced() throws {
        let input = [UInt8](repeating: 0, count: 1 << 20)
        for codec in CompressionCodec.allCases {
            let compressed = try codec.compress(input)
            assertThrowsCompressionError(
                .outputLimitExceeded, try codec.decompress(compressed, maxOutputSize: 1000),
                contains: "exceeds the limit of 1000 bytes")
            // Exactly at the limit is fine; one below is not.
            XCTAssertEqual(try codec.decompress(compressed, maxOutputSize: input.count), input)
            assertThrowsCompressionError(
                .outputLimitExceeded, try codec.decompress(compressed, maxOutputSize: input.count - 1))
            assertThrowsCompressionError(.outputLimitExceeded, try codec.decompress(compressed, maxOutputSize: -1))
        }
    }

    // MARK: Frames without content size

    /// Compresses with zstd's streaming API (ZSTD_compressStream2) in several
    /// chunks; the first call is ZSTD_e_continue, so the frame header carries
    /// no content size.
    private func zstdStreamingFrame(_ input: [UInt8], chunk: Int) throws -> [UInt8] {
        struct StreamError: Error {}
        guard let cctx = ZSTD_createCCtx() else { throw StreamError() }
        defer { ZSTD_freeCCtx(cctx) }
        var output = [UInt8]()
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        try input.withUnsafeBytes { src in
            func feed(_ range: Range<Int>, _ op: ZSTD_EndDirective) throws {
                var inBuffer = ZSTD_inBuffer(
                    src: src.baseAddress.map { $0 + range.lowerBound }, size: range.count, pos: 0)
                while true {
                    let (remaining, produced) = scratch.withUnsafeMutableBytes { dst -> (Int, Int) in
                        var outBuffer = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
                        let result = ZSTD_compressStream2(cctx, &outBuffer, &inBuffer, op)
                        return (result, outBuffer.pos)
                    }
                    if ZSTD_isError(remaining) != 0 { throw StreamError() }
                    output.append(contentsOf: scratch[0..<produced])
                    if op == ZSTD_e_end ? remaining == 0 : inBuffer.pos == inBuffer.size { break }
                }
            }
            try feed(0..<0, ZSTD_e_continue)
            var offset = 0
            while offset < src.count {
                let end = min(offset + chunk, src.count)
                try feed(offset..<end, ZSTD_e_continue)
                offset = end
            }
            try feed(src.count..<src.count, ZSTD_e_end)
        }
        return output
    }

    func testZstdFrameWithoutContentSize() throws {
        for input in [randomBytes(300_000, seed: 9), compressibleBytes(5 << 20), [1, 2, 3]] {
            let frame = try zstdStreamingFrame(input, chunk: 64 * 1024)
            let declared = frame.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
            XCTAssertEqual(declared, UInt64.max, "frame should not declare its size (ZSTD_CONTENTSIZE_UNKNOWN)")
            XCTAssertEqual(try CompressionCodec.zstd.decompress(frame, maxOutputSize: Self.limit), input)
            XCTAssertEqual(try CompressionCodec.zstd.decompress(frame, maxOutputSize: input.count), input)
            if input.count > 1 {
                assertThrowsCompressionError(
                    .outputLimitExceeded, try CompressionCodec.zstd.decompress(frame, maxOutputSize: input.count - 1))
            }
            assertThrowsCompressionError(
                .truncatedInput, try CompressionCodec.zstd.decompress(frame.dropLast(2), maxOutputSize: Self.limit))
        }
    }

    func testConcatenatedFrames() throws {
        let a = compressibleBytes(100_000)
        let b = randomBytes(70_000, seed: 11)
        let zstd = try CompressionCodec.zstd.compress(a) + (try zstdStreamingFrame(b, chunk: 10_000))
        XCTAssertEqual(try CompressionCodec.zstd.decompress(zstd, maxOutputSize: Self.limit), a + b)
        assertThrowsCompressionError(
            .outputLimitExceeded, try CompressionCodec.zstd.decompress(zstd, maxOutputSize: a.count + b.count - 1))
        let lz4 = try CompressionCodec.lz4.compress(a) + (try CompressionCodec.lz4.compress(b))
        XCTAssertEqual(try CompressionCodec.lz4.decompress(lz4, maxOutputSize: Self.limit), a + b)
    }

    func testTrailingGarbageAfterFrame() throws {
        let input = compressibleBytes(10_000)
        for codec in [CompressionCodec.zstd, .lz4] {
            let padded = try codec.compress(input) + [UInt8](repeating: 0, count: 16)
            assertThrowsCompressionError(
                .corruptInput, try codec.decompress(padded, maxOutputSize: Self.limit), contains: "trailing garbage")
        }
    }

    func testLZ4FrameWithoutContentSize() throws {
        let input = compressibleBytes(3 << 20) + randomBytes(10_000, seed: 2)
        var preferences = LZ4F_preferences_t()  // contentSize 0: not recorded
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        var frame = [UInt8](repeating: 0, count: LZ4F_compressFrameBound(input.count, &preferences))
        let size = frame.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in
                LZ4F_compressFrame(dst.baseAddress, dst.count, src.baseAddress, src.count, &preferences)
            }
        }
        XCTAssertEqual(LZ4F_isError(size), 0)
        frame.removeLast(frame.count - size)
        XCTAssertEqual(try CompressionCodec.lz4.decompress(frame, maxOutputSize: Self.limit), input)
        XCTAssertEqual(try CompressionCodec.lz4.decompress(frame, maxOutputSize: input.count), input)
        assertThrowsCompressionError(
            .outputLimitExceeded, try CompressionCodec.lz4.decompress(frame, maxOutputSize: input.count - 1))
        assertThrowsCompressionError(
            .truncatedInput, try CompressionCodec.lz4.decompress(frame.dropLast(5), maxOutputSize: Self.limit))
    }

    func testErrorDescriptionIsMessage() {
        let error = CompressionError(codec: .zstd, kind: .corruptInput, message: "zstd decompression failed: x")
        XCTAssertEqual("\(error)", "zstd decompression failed: x")
    }
}
