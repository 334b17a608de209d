import XCTest

@testable import StrataCore

/// The positions section of a batch (docs/WIRE.md, "Positions"): written only when a record has
/// a position, announced by header flag bit 0, and checked like the rest of the payload.
final class PositionsWireTests: XCTestCase {
    let stdoutSource = FileSource(node: "node-1", device: 2049, inode: 131_077, headChecksum: 0xDEAD_BEEF, headLength: 97, sequence: 0)
    var stderrSource: FileSource {
        var source = stdoutSource
        source.sequence = 1
        return source
    }

    func frame(_ positions: [RecordPosition?], id: BatchID = .random()) throws -> [UInt8] {
        var encoder = BatchEncoder()
        let resource = Resource(attributes: [Attribute(ResourceKey.pod, "p")])
        for (index, position) in positions.enumerated() {
            let resourceIndex = encoder.resourceIndex(source: 0) { resource }
            encoder.append(
                LogRecord(timestamp: Int64(index), observedTimestamp: 0, body: "record \(index)", resource: resource),
                resourceIndex: resourceIndex, position: position)
        }
        return try encoder.encode(id: id, codec: .none)
    }

    func testPositionsRoundTripWithTheRecords() throws {
        let positions: [RecordPosition?] = [
            RecordPosition(source: stdoutSource, offset: SourceOffset(end: 120)),
            nil,
            RecordPosition(source: stderrSource, offset: SourceOffset(end: 240)),
            RecordPosition(source: stdoutSource, offset: SourceOffset(end: UInt64(Int64.max), piece: 3)),
        ]
        let bytes = try frame(positions)
        XCTAssertEqual(try WireBatch.header(of: bytes).flags, WireFormat.positionsFlag)
        let batch = try WireBatch.decode(bytes)
        XCTAssertEqual(batch.records.map(\.body), ["record 0", "record 1", "record 2", "record 3"])
        XCTAssertEqual(batch.positions, positions)
    }

    func testABatchWithoutPositionsIsTheFrameOfBefore() throws {
        let bytes = try frame([nil, nil])
        XCTAssertEqual(try WireBatch.header(of: bytes).flags, 0, "readers that know no positions read it as always")
        XCTAssertEqual(Array(bytes[6..<8]), [0, 0])
        let batch = try WireBatch.decode(bytes)
        XCTAssertEqual(batch.positions, [])
        XCTAssertEqual(batch.records.count, 2)
    }

    func testUnknownFlagsAreRefusedNamingThem() throws {
        var bytes = try frame([nil])
        bytes[6] = 0x04
        XCTAssertThrowsError(try WireBatch.decode(bytes)) { error in
            XCTAssertTrue("\(error)".contains("flags 0x4"), "\(error)")
        }
    }

    func testAPositionsFlagWithoutItsSectionIsRefused() throws {
        var bytes = try frame([nil])
        bytes[6] = UInt8(WireFormat.positionsFlag)
        XCTAssertThrowsError(try WireBatch.decode(bytes), "the section is missing: the payload is truncated")
    }

    func testABadSourceReferenceIsRefused() throws {
        // One source, one record: flip the record's source reference from 1 to 2.
        var encoder = BatchEncoder()
        let resource = Resource()
        let index = encoder.resourceIndex(source: 0) { resource }
        encoder.append(
            LogRecord(timestamp: 0, observedTimestamp: 0, body: "x", resource: resource), resourceIndex: index,
            position: RecordPosition(source: stdoutSource, offset: SourceOffset(end: 5)))
        var payload = encoder.payload()
        // The entry is the last three varints: reference 1, end 5, piece 0.
        XCTAssertEqual(Array(payload.suffix(3)), [1, 5, 0])
        payload[payload.count - 3] = 2
        XCTAssertThrowsError(try WireBatch.decodePayload(payload, expectedRecords: 1, hasPositions: true)) { error in
            XCTAssertTrue("\(error)".contains("position source 1 of 1"), "\(error)")
        }
    }

    func testOffsetsOrderByEndThenPiece() {
        XCTAssertLessThan(SourceOffset(end: 10, piece: 5), SourceOffset(end: 11))
        XCTAssertLessThan(SourceOffset(end: 10), SourceOffset(end: 10, piece: 1))
        XCTAssertFalse(SourceOffset(end: 10, piece: 1) < SourceOffset(end: 10, piece: 1))
    }
}
