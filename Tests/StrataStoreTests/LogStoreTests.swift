#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import StrataCore
import XCTest

@testable import StrataStore

final class LogStoreTests: XCTestCase {
    var directory = ""
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    let hour: Int64 = 3_600_000_000_000
    let base: Int64 = 1_795_255_200_000_000_000  // 2026-11-21T10:00:00Z

    override func setUp() { directory = NSTemporaryDirectory() + "store-" + UUID().uuidString }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func records(_ range: Range<Int>, at time: Int64? = nil, pod: String = "api-1") -> [LogRecord] {
        range.map { i in
            LogRecord(
                timestamp: time ?? (base + Int64(i) * 1_000_000), observedTimestamp: base, body: "request \(i) done",
                resource: Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, pod)]))
        }
    }

    func allBodies(_ store: LogStore) throws -> [String] {
        let snapshot = store.snapshot()
        var bodies = snapshot.head.map(\.body)
        for segment in snapshot.segments { bodies += try segment.readAllRecords().map(\.body) }
        return bodies.sorted()
    }

    func testIngestIsReadableFromTheHeadAndSurvivesARestartWithoutFlush() throws {
        var options = StoreOptions()
        options.retentionNanos = .max / 2
        let store = try LogStore(directory: directory, options: options, logger: logger)
        XCTAssertEqual(try store.ingest(batchID: BatchID.random(), records: records(0..<10)), .stored(records: 10, tooOld: 0))
        XCTAssertEqual(store.snapshot().head.count, 10)

        let reopened = try LogStore(directory: directory, options: options, logger: logger)
        XCTAssertEqual(try allBodies(reopened), records(0..<10).map(\.body).sorted())
    }

    func testDuplicateBatchIDsAreAcknowledgedNotStoredTwiceAcrossFlushAndRestart() throws {
        var options = StoreOptions()
        options.retentionNanos = .max / 2
        let store = try LogStore(directory: directory, options: options, logger: logger)
        let id = BatchID.random()
        _ = try store.ingest(batchID: id, records: records(0..<5))
        XCTAssertEqual(try store.ingest(batchID: id, records: records(0..<5)), .duplicate)
        try store.flush()
        XCTAssertEqual(try store.ingest(batchID: id, records: records(0..<5)), .duplicate)
        let reopened = try LogStore(directory: directory, options: options, logger: logger)
        XCTAssertEqual(try reopened.ingest(batchID: id, records: records(0..<5)), .duplicate)
        XCTAssertEqual(try allBodies(reopened).count, 5)
    }

    func testFlushPartitionsByHourIncludingLateRecordsAndEmptiesTheWAL() throws {
        var options = StoreOptions()
        options.retentionNanos = .max / 2
        let store = try LogStore(directory: directory, options: options, logger: logger)
        _ = try store.ingest(batchID: nil, records: records(0..<20))
        // An agent catching up: records from two hours earlier arrive after newer ones.
        _ = try store.ingest(batchID: nil, records: records(100..<105, at: base - 2 * hour + 5))
        try store.flush()
        let snapshot = store.snapshot()
        XCTAssertEqual(snapshot.head.count, 0)
        XCTAssertEqual(snapshot.segments.count, 2)
        XCTAssertEqual(Set(snapshot.segments.map { LogStore.partition(of: $0.info.minTime) }), [base, base - 2 * hour])
        XCTAssertEqual(store.statistics.walBytes, 0)
        let reopened = try LogStore(directory: directory, options: options, logger: logger)
        XCTAssertEqual(try allBodies(reopened), (records(0..<20) + records(100..<105)).map(\.body).sorted())
    }

    func testRecordsOlderThanRetentionAreRefusedAndCounted() throws {
        var options = StoreOptions()
        options.retentionNanos = hour
        let store = try LogStore(directory: directory, options: options, logger: logger)
        let result = try store.ingest(
            batchID: nil, records: records(0..<3, at: base) + records(3..<5, at: base - 2 * hour), now: base + 1)
        XCTAssertEqual(result, .stored(records: 3, tooOld: 2))
    }

    func testFullHeadRefusesWithARetryableError() throws {
        var options = StoreOptions()
        options.retentionNanos = .max / 2
        options.headLimitBytes = 500
        options.headFlushBytes = .max
        let store = try LogStore(directory: directory, options: options, logger: logger)
        _ = try store.ingest(batchID: nil, records: records(0..<20))
        XCTAssertThrowsError(try store.ingest(batchID: nil, records: records(20..<21))) { error in
            XCTAssertTrue(error is StoreFullError)
        }
    }

    func testACorruptSegmentIsQuarantinedAndTheRestServes() throws {
        var options = StoreOptions()
        options.retentionNanos = .max / 2
        let store = try LogStore(directory: directory, options: options, logger: logger)
        _ = try store.ingest(batchID: nil, records: records(0..<10, pod: "a"))
        try store.flush()
        _ = try store.ingest(batchID: nil, records: records(10..<20, pod: "b"))
        try store.flush()
        let victim = store.snapshot().segments[0].path
        var bytes = try StoreFiles.read(victim)
        for i in stride(from: bytes.count - 30, to: bytes.count, by: 1) { bytes[i] ^= 0xFF }
        try StoreFiles.writeDurably(bytes, to: victim)

        let reopened = try LogStore(directory: directory, options: options, logger: logger)
        XCTAssertEqual(reopened.statistics.quarantined, 1)
        XCTAssertEqual(reopened.snapshot().segments.count, 1)
        XCTAssertEqual(try allBodies(reopened).count, 10)
        XCTAssertFalse(FileManager.default.fileExists(atPath: victim))
        XCTAssertEqual(try StoreFiles.list(directory + "/quarantine").count, 1)
    }

    func testAnUnreadableManifestIsAClearError() throws {
        _ = try LogStore(directory: directory, logger: logger)
        try StoreFiles.writeDurably(Array("{not json".utf8), to: directory + "/manifest.json")
        XCTAssertThrowsError(try LogStore(directory: directory, logger: logger)) { error in
            XCTAssertTrue("\(error)".contains("manifest.json"), "\(error)")
        }
    }
}

extension LogStoreTests {
    func testABatchIDLoggedTwiceIsReplayedOnce() throws {
        var options = StoreOptions()
        options.retentionNanos = .max / 2
        let id = BatchID.random()
        var encoder = BatchEncoder()
        for record in records(0..<3) {
            let index = encoder.resourceIndex(source: 0) { record.resource }
            encoder.append(record, resourceIndex: index)
        }
        let frame = try encoder.encode(id: id, codec: .zstd, level: 1)
        // What two racing requests with the same id leave behind.
        let wal = try WriteAheadLog(directory: directory + "/wal")
        _ = try wal.replay { _ in }
        try wal.append([frame])
        try wal.append([frame])
        let store = try LogStore(directory: directory, options: options, logger: logger)
        XCTAssertEqual(store.snapshot().head.count, 3)
    }
}
