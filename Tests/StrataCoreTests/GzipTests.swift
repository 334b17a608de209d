import CZlib
import XCTest

@testable import StrataCore

final class GzipTests: XCTestCase {
    /// gzip (or zlib with `windowBits` 15) as a sender would make it.
    private func compress(_ input: [UInt8], windowBits: Int32 = 31) throws -> [UInt8] {
        var stream = z_stream()
        XCTAssertEqual(
            deflateInit2_(&stream, 6, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)),
            Z_OK)
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var source = input
        let written = source.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer -> Int in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = UInt32(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = UInt32(outputBuffer.count)
                XCTAssertEqual(deflate(&stream, Z_FINISH), Z_STREAM_END)
                return outputBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[..<written])
    }

    func testGzipAndZlibStreamsRoundTrip() throws {
        let text = Array(String(repeating: "{\"body\":\"gzipped\"}\n", count: 5000).utf8)
        XCTAssertEqual(try Gzip.decompress(try compress(text), maxOutputSize: 1 << 20), text)
        XCTAssertEqual(try Gzip.decompress(try compress(text, windowBits: 15), maxOutputSize: 1 << 20), text)
        XCTAssertEqual(try Gzip.decompress(try compress([]), maxOutputSize: 0), [])
    }

    func testTheLimitStopsExpansionAtOneByteBeyondIt() throws {
        let zeros = [UInt8](repeating: 0, count: 8 << 20)
        let bomb = try compress(zeros)
        XCTAssertLessThan(bomb.count, 64 << 10)
        XCTAssertEqual(try Gzip.decompress(bomb, maxOutputSize: zeros.count).count, zeros.count, "exactly the limit is fine")
        XCTAssertThrowsError(try Gzip.decompress(bomb, maxOutputSize: zeros.count - 1)) { error in
            let gzip = error as? GzipError
            XCTAssertEqual(gzip?.kind, .outputLimitExceeded)
            XCTAssertTrue("\(error)".contains("\(zeros.count - 1) bytes"), "\(error)")
        }
    }

    func testDamagedStreamsNameTheProblem() throws {
        let stream = try compress(Array("hello, gzip".utf8))
        XCTAssertThrowsError(try Gzip.decompress(Array(stream.dropLast(12)), maxOutputSize: 1024)) { error in
            XCTAssertEqual((error as? GzipError)?.kind, .truncatedInput, "\(error)")
        }
        XCTAssertThrowsError(try Gzip.decompress([], maxOutputSize: 1024)) { error in
            XCTAssertEqual((error as? GzipError)?.kind, .truncatedInput, "\(error)")
            XCTAssertTrue("\(error)".contains("empty"), "\(error)")
        }
        XCTAssertThrowsError(try Gzip.decompress(Array("not gzip at all".utf8), maxOutputSize: 1024)) { error in
            XCTAssertEqual((error as? GzipError)?.kind, .corruptInput, "\(error)")
        }
    }
}
