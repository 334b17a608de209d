import Foundation
import StrataCore
import Synchronization
import XCTest

@testable import StrataAgent

/// The positions the agent puts on each record (docs/WIRE.md, "Positions"): what the collector's
/// deduplication relies on — the same record gets the same position when the file is read again
/// after a restart, records of one source come in increasing order, and new content under an
/// old inode is a new source.
final class AgentRecordPositionTests: XCTestCase {
    /// Keeps each record with its position, in delivery order.
    final class PositionTransport: BatchTransport, @unchecked Sendable {
        private let state = Mutex<[(body: String, position: RecordPosition?)]>([])
        var delivered: [(body: String, position: RecordPosition?)] { state.withLock { $0 } }

        func deliver(_ batch: SealedBatch) async -> DeliveryOutcome {
            guard !batch.frame.isEmpty else { return .accepted(tooOld: 0) }
            guard let decoded = try? WireBatch.decode(batch.frame) else {
                return .rejected(status: 400, message: "undecodable frame")
            }
            XCTAssertEqual(decoded.positions.count, decoded.records.count, "every agent record has a position")
            state.withLock { delivered in
                for (index, record) in decoded.records.enumerated() {
                    delivered.append((record.body, decoded.positions.isEmpty ? nil : decoded.positions[index]))
                }
            }
            return .accepted(tooOld: 0)
        }

        func shutdown() async {}
    }

    func read(_ node: ScratchNode, configure: (inout AgentConfiguration) -> Void = { _ in }) async throws
        -> [(body: String, position: RecordPosition?)]
    {
        var configuration = node.configuration()
        configure(&configuration)
        let transport = PositionTransport()
        let agent = try Agent(configuration: configuration, logger: quietLogger, transport: transport)
        try await agent.run()
        return transport.delivered
    }

    func testEachRecordEndsWhereItsLastLineEnds() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "pos-1")
        let lines = [criLine("one"), criLine("oops", stream: "stderr"), criLine("two"), criLine("par", tag: "P"), criLine("tial")]
        append(lines.joined(), to: path)
        let ends = lines.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1.utf8.count) }
        let delivered = try await read(node)
        let byBody = Dictionary(uniqueKeysWithValues: delivered.map { ($0.body, $0.position) })
        XCTAssertEqual(byBody["one"]??.offset, SourceOffset(end: UInt64(ends[0])))
        XCTAssertEqual(byBody["oops"]??.offset, SourceOffset(end: UInt64(ends[1])))
        XCTAssertEqual(byBody["two"]??.offset, SourceOffset(end: UInt64(ends[2])))
        XCTAssertEqual(byBody["partial"]??.offset, SourceOffset(end: UInt64(ends[4])), "a joined line ends with its last piece")
        XCTAssertEqual(byBody["one"]??.source.sequence, 0)
        XCTAssertEqual(byBody["oops"]??.source.sequence, 1, "stderr is a source of its own")
        XCTAssertEqual(byBody["one"]??.source.node, "test-node")
        var stdoutSource = try XCTUnwrap(byBody["oops"]??.source)
        stdoutSource.sequence = 0
        XCTAssertEqual(byBody["one"]??.source, stdoutSource, "one file identity for both streams")
    }

    func testPiecesOfALineLongerThanTheCapAreNumbered() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "long-1")
        let long = criLine(String(repeating: "a", count: 2500))
        append(criLine("before") + long + criLine("after"), to: path)
        let delivered = try await read(node) { $0.maxRecordBytes = 1024 }
        let end = UInt64(criLine("before").utf8.count + long.utf8.count)
        let pieces = delivered.filter { $0.body.hasPrefix("aaa") }
        XCTAssertEqual(pieces.map(\.body).joined(), String(repeating: "a", count: 2500))
        XCTAssertEqual(pieces.map { $0.position?.offset }, (0..<UInt32(pieces.count)).map { SourceOffset(end: end, piece: $0) })
        let offsets = delivered.compactMap { $0.position?.offset }
        XCTAssertEqual(offsets, offsets.sorted(), "increasing within the source")
        XCTAssertEqual(Set(offsets).count, offsets.count, "no two records share a position")
    }

    /// What happens after a kill -9 before the checkpoint was committed: the file is read again
    /// from an older checkpoint (here: from the start), and every record comes back with the
    /// position it had, so the collector can recognise it.
    func testReadingAgainGivesEveryRecordItsPositionAgain() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "again-1")
        var text = ""
        for i in 0..<300 {
            text += criLine("line \(i)", stream: i % 7 == 0 ? "stderr" : "stdout")
            if i % 50 == 0 { text += criLine("Traceback (most recent call last):") + criLine("  File \"x.py\", line \(i)") }
        }
        append(text, to: path)
        let first = try await read(node)
        try FileManager.default.removeItem(atPath: node.checkpointDirectory)
        let second = try await read(node)
        XCTAssertEqual(first.map(\.body), second.map(\.body))
        XCTAssertEqual(first.map(\.position), second.map(\.position))
        XCTAssertTrue(first.allSatisfy { $0.position != nil })
    }

    func testNewContentUnderTheSameInodeIsANewSource() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "trunc-1")
        append(criLine("old content, first line") + criLine("old second"), to: path)
        let before = try await read(node)
        // copytruncate while the agent is away, then new lines.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.close()
        append(criLine("new"), to: path)
        let after = try await read(node)
        XCTAssertEqual(after.map(\.body), ["new"])
        let oldSource = try XCTUnwrap(before.first?.position?.source)
        let newSource = try XCTUnwrap(after.first?.position?.source)
        XCTAssertEqual(oldSource.inode, newSource.inode)
        XCTAssertNotEqual(oldSource, newSource, "the first line differs, so the identity does")
    }
}
