#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

@testable import StrataStore

final class WriteAheadLogTests: XCTestCase {
    var directory = ""

    override func setUp() {
        directory = NSTemporaryDirectory() + "wal-" + UUID().uuidString
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func payload(_ i: Int) -> [UInt8] { Array("entry \(i) ".utf8) + [UInt8](repeating: UInt8(i % 256), count: i % 300) }

    func replayAll(_ wal: WriteAheadLog) throws -> ([WriteAheadLog.Entry], WriteAheadLog.ReplayReport) {
        var entries: [WriteAheadLog.Entry] = []
        let report = try wal.replay { entries.append($0) }
        return (entries, report)
    }

    func testAppendThenReplayInOrderAcrossFiles() throws {
        let wal = try WriteAheadLog(directory: directory, fileSizeLimit: 1000)
        _ = try replayAll(wal)
        for i in 0..<50 { try wal.append([payload(i)]) }
        try wal.append([payload(50), payload(51)])
        XCTAssertGreaterThan(try StoreFiles.list(directory).count, 1, "rolled over to several files")

        let reopened = try WriteAheadLog(directory: directory, fileSizeLimit: 1000)
        let (entries, report) = try replayAll(reopened)
        XCTAssertEqual(entries.map(\.payload), (0..<52).map(payload))
        XCTAssertEqual(entries.map(\.sequence), (1...52).map { UInt64($0) })
        XCTAssertEqual(report.corruptEntries, 0)
        XCTAssertEqual(reopened.nextSequence, 53)
    }

    func testTornTailIsTruncatedAndAppendingContinues() throws {
        let wal = try WriteAheadLog(directory: directory)
        _ = try replayAll(wal)
        for i in 0..<5 { try wal.append([payload(i)]) }
        let file = directory + "/" + (try StoreFiles.list(directory).first!)
        // A crash in the middle of the sixth append: half an entry on disk.
        let size = StoreFiles.size(file)!
        let fd = open(file, O_WRONLY | O_APPEND)
        let partial: [UInt8] = [40, 0, 0, 0, 1, 2, 3, 4, 6, 0, 0]
        _ = partial.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)

        let reopened = try WriteAheadLog(directory: directory)
        let (entries, report) = try replayAll(reopened)
        XCTAssertEqual(entries.count, 5)
        XCTAssertEqual(report.truncatedBytes, Int64(partial.count))
        XCTAssertEqual(StoreFiles.size(file), size)
        try reopened.append([payload(99)])
        let (again, _) = try replayAll(try WriteAheadLog(directory: directory))
        XCTAssertEqual(again.last?.payload, payload(99))
        XCTAssertEqual(again.count, 6)
    }

    func testFlippedByteIsDetected() throws {
        let wal = try WriteAheadLog(directory: directory)
        _ = try replayAll(wal)
        for i in 0..<3 { try wal.append([payload(i)]) }
        let file = directory + "/" + (try StoreFiles.list(directory).first!)
        var bytes = try StoreFiles.read(file)
        bytes[bytes.count - 2] ^= 0x40
        try StoreFiles.writeDurably(bytes, to: file)
        let (entries, _) = try replayAll(try WriteAheadLog(directory: directory))
        XCTAssertEqual(entries.map(\.payload), [payload(0), payload(1)], "the damaged last entry is not replayed")
    }

    func testRemovingFlushedEntries() throws {
        let wal = try WriteAheadLog(directory: directory, fileSizeLimit: 200)
        _ = try replayAll(wal)
        for i in 0..<20 { try wal.append([payload(i)]) }
        try wal.removeEntries(before: 15)
        let (entries, _) = try replayAll(try WriteAheadLog(directory: directory, fileSizeLimit: 200))
        XCTAssertTrue(entries.contains { $0.sequence == 15 }, "entries at or after the cut survive")
        XCTAssertLessThan(entries.count, 20)
        try wal.removeEntries(before: 21)
        XCTAssertEqual(try StoreFiles.list(directory).filter { $0.hasSuffix(".log") }, [])
    }
}
