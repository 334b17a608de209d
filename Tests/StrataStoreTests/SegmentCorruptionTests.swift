import Foundation
import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataStore

final class SegmentCorruptionTests: XCTestCase {
    private func writeSample(_ dir: String, rows: Int = 600, blockRows: Int = 100) throws -> (path: String, bytes: [UInt8]) {
        let path = dir + "/s.stsg"
        try SegmentWriter.write(RecordFactory.records(rows, seed: 3), to: path,
                                options: SegmentOptions(maxBlockRows: blockRows, termsPerDictionaryBlock: 16, durable: false))
        return (path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    private func save(_ bytes: [UInt8], _ path: String) {
        try! Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func testFlippedByteInABlockChunkFailsOnlyThatBlock() throws {
        let dir = makeTemporaryDirectory(self)
        let (path, bytes) = try writeSample(dir)
        let reader = try SegmentReader(path: path)
        XCTAssertGreaterThan(reader.blocks.count, 3)
        let body = reader.blocks[2].chunks[ColumnID.body]
        var damaged = bytes
        damaged[body.offset + body.storedLength / 2] ^= 0x5A
        save(damaged, path)

        let reopened = try SegmentReader(path: path)  // metadata is intact
        XCTAssertThrowsStoreError(.corrupt, containing: [path, "block 2", "body", "checksum"]) {
            _ = try reopened.readBlock(2)
        }
        // The block's other columns, and every other block, still read.
        XCTAssertEqual(try reopened.readBlock(2, columns: [.timestamp, .severity]).timestamps.count, reader.blocks[2].rowCount)
        for b in reopened.blocks.indices where b != 2 { XCTAssertNoThrow(try reopened.readBlock(b)) }
        XCTAssertNoThrow(try reopened.postings(prefix: ""))
    }

    func testFlippedByteInADictionaryBlockFailsOnlyLookupsThere() throws {
        let dir = makeTemporaryDirectory(self)
        let (path, bytes) = try writeSample(dir)
        let reader = try SegmentReader(path: path)
        XCTAssertGreaterThan(reader.dictionary.blocks.count, 3)
        let ref = reader.dictionary.blocks[1]
        let terms = try reader.postings(prefix: "")
        var damaged = bytes
        damaged[ref.offset + ref.storedLength - 1] ^= 0x01
        save(damaged, path)
        let reopened = try SegmentReader(path: path)
        XCTAssertThrowsStoreError(.corrupt, containing: [path, "term dictionary block 1"]) {
            _ = try reopened.postings(prefix: "")
        }
        // A term stored in another dictionary block still resolves.
        let late = terms[terms.count - 1]
        XCTAssertEqual(try reopened.postings(term: late.term), late.postings)
        for b in reopened.blocks.indices { XCTAssertNoThrow(try reopened.readBlock(b)) }
    }

    func testTruncatedFileFailsToOpen() throws {
        let dir = makeTemporaryDirectory(self)
        let (path, bytes) = try writeSample(dir)
        for cut in [0, 3, 8, 20, bytes.count / 2, bytes.count - 9, bytes.count - 1] {
            save(Array(bytes[0..<cut]), path)
            XCTAssertThrowsStoreError(.corrupt, containing: [path]) { _ = try SegmentReader(path: path) }
        }
    }

    func testBadMagic() throws {
        let dir = makeTemporaryDirectory(self)
        let (path, bytes) = try writeSample(dir)
        var header = bytes
        header[0] = UInt8(ascii: "X")
        save(header, path)
        XCTAssertThrowsStoreError(.corrupt, containing: [path, "header", "magic"]) { _ = try SegmentReader(path: path) }
        var trailer = bytes
        trailer[trailer.count - 1] = 0
        save(trailer, path)
        XCTAssertThrowsStoreError(.corrupt, containing: [path, "trailer", "magic"]) { _ = try SegmentReader(path: path) }
        save(Array(repeating: 0, count: 4096), path)
        XCTAssertThrowsStoreError(.corrupt, containing: [path]) { _ = try SegmentReader(path: path) }
    }

    func testFutureVersionIsUnsupported() throws {
        let dir = makeTemporaryDirectory(self)
        let (path, bytes) = try writeSample(dir)
        var future = bytes
        future[4] = 3  // header version
        let footerLength = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8
        let footerStart = bytes.count - 8 - footerLength
        future[footerStart] = 3  // footer version, with a valid footer checksum
        let crc = crc32c(Array(future[footerStart..<bytes.count - 12]))
        for i in 0..<4 { future[bytes.count - 12 + i] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * i)) }
        save(future, path)
        XCTAssertThrowsStoreError(.unsupportedVersion, containing: [path, "version 3"]) { _ = try SegmentReader(path: path) }
        // A damaged header version alone is corruption, not a newer format.
        var header = bytes
        header[4] = 3
        save(header, path)
        XCTAssertThrowsStoreError(.corrupt, containing: ["header says version 3"]) { _ = try SegmentReader(path: path) }
    }

    func testDamagedFooterAndSections() throws {
        let dir = makeTemporaryDirectory(self)
        let (path, bytes) = try writeSample(dir)
        let footerLength = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8
        var footer = bytes
        footer[bytes.count - 8 - footerLength + 6] ^= 0xFF
        save(footer, path)
        XCTAssertThrowsStoreError(.corrupt, containing: [path, "footer", "checksum"]) { _ = try SegmentReader(path: path) }

        save(bytes, path)
        // The block metadata section sits just before the dictionary; damage its last byte.
        let original = try SegmentReader(path: path)
        let dictionaryStart = original.dictionary.blocks.first!.offset
        var meta = bytes
        meta[dictionaryStart - 1] ^= 0x10
        save(meta, path)
        XCTAssertThrowsStoreError(.corrupt, containing: [path, "block metadata"]) { _ = try SegmentReader(path: path) }
        var length = bytes
        length[bytes.count - 8] &+= 1  // footer length
        save(length, path)
        XCTAssertThrowsStoreError(.corrupt, containing: [path]) { _ = try SegmentReader(path: path) }
    }

    /// Every single-byte change anywhere in the file is detected: opening, reading every block
    /// or reading the whole index throws `.corrupt` (or `.unsupportedVersion`), never traps and
    /// never returns altered data.
    func testEverySingleByteFlipIsDetected() throws {
        let dir = makeTemporaryDirectory(self)
        let path = dir + "/f.stsg"
        let records = RecordFactory.records(60, seed: 8)
        try SegmentWriter.write(records, templateIDs: records.indices.map { UInt32($0 % 3) }, to: path,
                                options: SegmentOptions(maxBlockRows: 16, termsPerDictionaryBlock: 8, durable: false))
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let damagedPath = dir + "/damaged.stsg"
        var rng = SeededRandom(seed: 99)
        let positions = bytes.count <= 6000 ? Array(bytes.indices) : (0..<6000).map { _ in rng.int(0...bytes.count - 1) }
        var undetected: [Int] = []
        for position in positions {
            var damaged = bytes
            damaged[position] ^= UInt8(1 << UInt8(position % 8))
            save(damaged, damagedPath)
            do {
                let reader = try SegmentReader(path: damagedPath)
                for b in reader.blocks.indices { _ = try reader.readBlock(b) }
                _ = try reader.postings(prefix: "")
                undetected.append(position)
            } catch let error as StoreError {
                XCTAssertNotEqual(error.kind, .io)
                XCTAssertTrue(error.description.hasPrefix(damagedPath), "\(error)")
            }
        }
        XCTAssertEqual(undetected, [], "flips at these offsets went unnoticed (file of \(bytes.count) bytes)")
    }

    func testRandomGarbageNeverTraps() throws {
        let dir = makeTemporaryDirectory(self)
        let (_, bytes) = try writeSample(dir, rows: 50, blockRows: 10)
        var rng = SeededRandom(seed: 5)
        let path = dir + "/g.stsg"
        for _ in 0..<300 {
            var damaged = bytes
            for _ in 0..<rng.int(1...20) { damaged[rng.int(0...damaged.count - 1)] = UInt8(truncatingIfNeeded: rng.next()) }
            if rng.chance(0.3) { damaged.removeLast(rng.int(0...damaged.count / 2)) }
            save(damaged, path)
            if let reader = try? SegmentReader(path: path) {
                for b in reader.blocks.indices { _ = try? reader.readBlock(b) }
                _ = try? reader.postings(prefix: "")
            }
        }
    }
}
