import XCTest

@testable import StrataCore

final class CRC32CTests: XCTestCase {
    /// Bit-at-a-time reference implementation.
    private func referenceCRC32C(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
            }
        }
        return ~crc
    }

    private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
    }

    func testKnownAnswer() {
        XCTAssertEqual(crc32c(Array("123456789".utf8)), 0xE306_9283)
        let viaRaw = Array("123456789".utf8).withUnsafeBytes { crc32c($0) }
        XCTAssertEqual(viaRaw, 0xE306_9283)
    }

    func testRFC3720Vectors() {
        XCTAssertEqual(crc32c([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(crc32c([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(crc32c((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(crc32c((0..<32).reversed().map { UInt8($0) }), 0x113F_DB5C)
    }

    func testEmptyInputReturnsSeed() {
        XCTAssertEqual(crc32c([UInt8]()), 0)
        XCTAssertEqual(crc32c([UInt8](), seed: 0xDEAD_BEEF), 0xDEAD_BEEF)
        XCTAssertEqual(crc32c(UnsafeRawBufferPointer(start: nil, count: 0)), 0)
    }

    func testMatchesReferenceForAllSmallLengthsAndAlignments() {
        let data = randomBytes(300, seed: 42)
        for start in 0..<9 {
            for length in 0...(data.count - start) where length < 80 || length % 37 == 0 {
                let slice = Array(data[start..<(start + length)])
                XCTAssertEqual(crc32c(data[start..<(start + length)]), referenceCRC32C(slice),
                               "start \(start) length \(length)")
            }
        }
    }

    func testIncrementalSeedChaining() {
        let data = randomBytes(1000, seed: 7)
        let whole = crc32c(data)
        XCTAssertEqual(whole, referenceCRC32C(data))
        for split in [0, 1, 3, 7, 8, 9, 500, 999, 1000] {
            let first = crc32c(data[0..<split])
            XCTAssertEqual(crc32c(data[split...], seed: first), whole, "split \(split)")
        }
    }

    func testLargeBuffer() {
        let data = randomBytes(1 << 20, seed: 99)
        XCTAssertEqual(crc32c(data), referenceCRC32C(data))
    }
}

final class CRC32CHardwareTests: XCTestCase {
    func testHardwareAndPortablePathsAgree() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 7, 8, 9, 63, 64, 1000, 65_537] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for offset in 0..<min(8, max(1, length)) {
                let slice = Array(bytes[offset...])
                let portable = slice.withUnsafeBytes { crc32cPortable($0, seed: 0x1234) }
                XCTAssertEqual(slice.withUnsafeBytes { crc32c($0, seed: 0x1234) }, portable, "length \(length) offset \(offset)")
            }
        }
    }
}
