import Foundation
import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataStore

/// The writer's output, byte for byte: fixed records written with several option sets must
/// give the files recorded from the writer as of 6bb97f1 (before it was split into column and
/// index serializers). A difference here is a format change (docs/FORMAT.md): bump
/// `SegmentFormat.version` and record the new files on purpose.
final class SegmentBytesTests: XCTestCase {
    private struct Case {
        var name: String
        var records: [LogRecord]
        var templateIDs: [UInt32]?
        var options: SegmentOptions
        /// CRC-32C and size of the whole file.
        var crc: UInt32
        var bytes: Int
    }

    private func cases() -> [Case] {
        let records = RecordFactory.records(3000, seed: 17, resources: 7)
        let templateIDs = records.indices.map { $0 % 5 == 0 ? 0 : UInt32($0 % 37) }
        let zstd = SegmentOptions(codec: .zstd, maxBlockRows: 256, durable: false)
        let lz4 = SegmentOptions(
            codec: .lz4, maxBlockRows: 100, termsPerDictionaryBlock: 64, dictionaryBlockBytes: 2048, durable: false)
        let plain = SegmentOptions(codec: .none, maxBlockBodyBytes: 4096, indexBody: false, durable: false)
        return [
            Case(
                name: "zstd, small blocks", records: records, templateIDs: templateIDs, options: zstd,
                crc: 0xf01a_f56a, bytes: 308_538),
            Case(
                name: "lz4, small dictionary blocks", records: records, templateIDs: templateIDs, options: lz4,
                crc: 0xb738_e00f, bytes: 513_488),
            Case(
                name: "uncompressed, bodies not indexed", records: records, templateIDs: nil, options: plain,
                crc: 0xff64_0e11, bytes: 8_010_098),
            Case(
                name: "empty", records: [], templateIDs: nil, options: SegmentOptions(durable: false),
                crc: 0x76fd_9a4a, bytes: 65),
        ]
    }

    func testSegmentBytesAreUnchanged() throws {
        let directory = makeTemporaryDirectory(self)
        for (number, segment) in cases().enumerated() {
            let path = directory + "/\(number).stsg"
            try SegmentWriter.write(
                segment.records, templateIDs: segment.templateIDs, to: path, options: segment.options)
            let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path), segment.name)
            XCTAssertEqual(bytes.count, segment.bytes, "size of '\(segment.name)'")
            let crc = crc32c([UInt8](bytes))
            XCTAssertEqual(String(crc, radix: 16), String(segment.crc, radix: 16), "CRC-32C of '\(segment.name)'")
        }
    }
}
