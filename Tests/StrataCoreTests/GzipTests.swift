import CZlib
import XCTest

@testable import StrataCore

final class GzipTests: XCTestCase {
    func testGzipAndZlibStreamsRoundTrip() throws {
        let text = Array(String(repeating: "{\"body\":\"gzipped\"}\n", count: 5000).utf8)
        XCTAssertEqual(try Gzip.decompress(try zlibCompress(text), maxOutputSize: 1 << 20), text)
        XCTAssertEqual(try Gzip.decompress(try zlibCompress(text, windowBits: 15), maxOutputSize: 1 << 20), text)
        XCTAssertEqual(try Gzip.decompress(try zlibCompress([]), maxOutputSize: 0), [])
    }

    func testTheLimitStopsExpansionAtOneByteBeyondIt() throws {
        let zeros = [UInt8](repeating: 0, count: 8 << 20)
        let bomb = try zlibCompress(zeros)
        XCTAssertLessThan(bomb.count, 64 << 10)
        XCTAssertEqual(try Gzip.decompress(bomb, maxOutputSize: zeros.count).count, zeros.count, "exactly the limit is fine")
        XCTAssertThrowsError(try Gzip.decompress(bomb, maxOutputSize: zeros.count - 1)) { error in
            let gzip = error as? GzipError
            XCTAssertEqual(gzip?.kind, .outputLimitExceeded)
            XCTAssertTrue("\(error)".contains("\(zeros.count - 1) bytes"), "\(error)")
        }
    }

    func testDamagedStreamsNameTheProblem() throws {
        let stream = try zlibCompress(Array("hello, gzip".utf8))
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
