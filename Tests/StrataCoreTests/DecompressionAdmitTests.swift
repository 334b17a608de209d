import CZlib
import XCTest

@testable import StrataCore

/// Decompressors ask the caller (its memory budget) before every allocation of output, and a
/// bomb never makes them hold more than the limit + 1 bytes (docs/RELIABILITY.md, "Memory
/// budget").
final class DecompressionAdmitTests: XCTestCase {
    /// A stream whose first frame declares a small size and whose following frames expand far
    /// past it: the output has to grow, and the growth is what the hook sees.
    private func concatenatedFrames(_ codec: CompressionCodec, frames: Int, each: Int) throws -> [UInt8] {
        var stream = try codec.compress(Array("start\n".utf8))
        let block = [UInt8](repeating: 0x41, count: each)
        for _ in 0..<frames { stream += try codec.compress(block) }
        return stream
    }

    func testZstdAndLZ4AskBeforeEachAllocationAndStopOneByteBeyondTheLimit() throws {
        let limit = 3 << 20
        for codec in [CompressionCodec.zstd, .lz4] {
            let bomb = try concatenatedFrames(codec, frames: 64, each: 1 << 20)  // 64 MiB expanded
            var asked: [Int] = []
            XCTAssertThrowsError(try codec.decompress(bomb, maxOutputSize: limit, admit: { asked.append($0); return true })) { error in
                XCTAssertEqual((error as? CompressionError)?.kind, .outputLimitExceeded, "\(codec): \(error)")
            }
            XCTAssertFalse(asked.isEmpty, "\(codec)")
            // While growing, the old array and the new one (at most limit + 1 bytes) are held.
            XCTAssertLessThanOrEqual(asked.max() ?? 0, (limit + 1) + (limit + 1), "\(codec): \(asked)")
            XCTAssertGreaterThan(asked.count, 1, "\(codec): the output grew under the hook's eyes")
            XCTAssertEqual(asked, asked.sorted(), "\(codec): each allocation is asked for before it happens")
        }
    }

    func testARefusingHookStopsDecompressionBeforeTheAllocation() throws {
        for codec in [CompressionCodec.zstd, .lz4] {
            let bomb = try concatenatedFrames(codec, frames: 16, each: 1 << 20)
            var granted = 0
            XCTAssertThrowsError(try codec.decompress(bomb, maxOutputSize: 64 << 20, admit: { total in
                guard total <= 1 << 20 else { return false }
                granted = max(granted, total)
                return true
            })) { error in
                XCTAssertEqual((error as? CompressionError)?.kind, .outputRefused, "\(codec): \(error)")
                XCTAssertTrue("\(error)".contains("memory budget"), "\(error)")
            }
            XCTAssertLessThanOrEqual(granted, 1 << 20)
        }
    }

    func testADeclaredSizeOverTheLimitIsRefusedBeforeAnyAllocation() throws {
        // zstd frames made by Strata record their content size.
        let declared = try CompressionCodec.zstd.compress([UInt8](repeating: 0, count: 4 << 20))
        var asked = 0
        XCTAssertThrowsError(try CompressionCodec.zstd.decompress(declared, maxOutputSize: 1 << 20, admit: { _ in asked += 1; return true })) {
            XCTAssertEqual(($0 as? CompressionError)?.kind, .outputLimitExceeded, "\($0)")
        }
        XCTAssertEqual(asked, 0)
    }

    func testGzipAsksBeforeEachAllocationAndStopsAtTheLimitOrTheHook() throws {
        let zeros = [UInt8](repeating: 0, count: 16 << 20)
        let bomb = try zlibCompress(zeros)
        var asked: [Int] = []
        XCTAssertThrowsError(try Gzip.decompress(bomb, maxOutputSize: 1 << 20, admit: { asked.append($0); return true })) { error in
            XCTAssertEqual((error as? GzipError)?.kind, .outputLimitExceeded, "\(error)")
        }
        XCTAssertLessThanOrEqual(asked.max() ?? 0, 2 * ((1 << 20) + 1), "\(asked)")
        XCTAssertGreaterThan(asked.count, 1, "the output grew under the hook's eyes: \(asked)")

        var granted = 0
        XCTAssertThrowsError(try Gzip.decompress(bomb, maxOutputSize: 64 << 20, admit: { total in
            guard total <= 512 << 10 else { return false }
            granted = max(granted, total)
            return true
        })) { error in
            XCTAssertEqual((error as? GzipError)?.kind, .outputRefused, "\(error)")
        }
        XCTAssertLessThanOrEqual(granted, 512 << 10)
        // Without a hook, or with one that always agrees, the output is the same.
        let text = Array(String(repeating: "{\"body\":\"gzipped\"}\n", count: 50_000).utf8)
        XCTAssertEqual(try Gzip.decompress(try zlibCompress(text), maxOutputSize: 1 << 20, admit: { _ in true }), text)
    }
}
