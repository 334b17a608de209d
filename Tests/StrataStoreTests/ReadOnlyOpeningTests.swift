#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StrataCore
import Synchronization
import Testing

@testable import StrataStore

/// `LogStore.openReadOnly` beside a store that writes the same directory.
@Suite struct ReadOnlyOpeningTests {
    static func bodies(_ view: LogStore.ReadOnlyView) throws -> [String] {
        var all = view.snapshot.head.map(\.body)
        for segment in view.snapshot.segments { all += try segment.readAllRecords().map(\.body) }
        return all
    }

    @Test func readOnlyOpeningBesideAWritingStoreSeesTheAcknowledgedRecordsOfSegmentsAndLog() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(0..<10))
        try store.flush()
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(10..<15))
        let view = try LogStore.openReadOnly(directory: scratch.directory)
        #expect(view.warnings.isEmpty)
        #expect(view.snapshot.segments.count == 1)
        #expect(view.snapshot.head.count == 5, "the log entries the manifest does not cover")
        #expect(try Self.bodies(view).sorted() == ScratchStore.records(0..<15).map(\.body).sorted())
        // It took no lock: the writer goes on.
        #expect(try store.ingest(batchID: nil, records: ScratchStore.records(15..<16)) == .stored(records: 1, tooOld: 0))
    }

    @Test func readOnlyOpeningRepairsNothing() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(0..<5))
        // An append in progress: bytes of an entry not yet complete (never acknowledged).
        let log = try #require(try StoreFiles.list(scratch.directory + "/wal").first { $0.hasSuffix(".log") })
        let path = scratch.directory + "/wal/" + log
        let fd = Glibc.open(path, O_WRONLY | O_APPEND)
        var partial: [UInt8] = [40, 0, 0, 0, 1, 2]
        _ = write(fd, &partial, partial.count)
        close(fd)
        let size = StoreFiles.size(path)
        let view = try LogStore.openReadOnly(directory: scratch.directory)
        #expect(try Self.bodies(view).sorted() == ScratchStore.records(0..<5).map(\.body).sorted())
        #expect(view.warnings.isEmpty, "a torn tail of the last file is an append in progress")
        #expect(StoreFiles.size(path) == size, "the torn tail is left to the writer")
    }

    @Test func aCopyWithoutItsLogReadsAsAnEmptyLog() throws {
        let scratch = ScratchStore()
        do {
            let store = try scratch.open()
            _ = try store.ingest(batchID: nil, records: ScratchStore.records(0..<10))
            try store.flush()
        }
        try FileManager.default.removeItem(atPath: scratch.directory + "/wal")
        let view = try LogStore.openReadOnly(directory: scratch.directory)
        #expect(view.snapshot.head.isEmpty)
        #expect(try Self.bodies(view).sorted() == ScratchStore.records(0..<10).map(\.body).sorted())
    }

    @Test func aDirectoryWithoutManifestOrLogIsAClearError() throws {
        let scratch = ScratchStore()
        try FileManager.default.createDirectory(atPath: scratch.directory, withIntermediateDirectories: true)
        let error = #expect(throws: StoreError.self) { try LogStore.openReadOnly(directory: scratch.directory) }
        #expect(error?.kind == .notADataDirectory)
        #expect(error?.description.contains(scratch.directory) == true)
    }

    /// A writer ingests, flushes and compacts while readers open the directory again and again:
    /// every view holds each record at most once and every record acknowledged before it opened.
    @Test func readOnlyOpeningDuringIngestFlushAndCompactionSeesNoTornState() async throws {
        let scratch = ScratchStore()
        let store = try scratch.open(ScratchStore.options { $0.compaction.minInputs = 2 })
        let acknowledged = AcknowledgedCount()
        let directory = scratch.directory
        let batches = 150
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for batch in 0..<batches {
                    _ = try store.ingest(batchID: nil, records: ScratchStore.records(batch * 5..<batch * 5 + 5))
                    acknowledged.count.withLock { $0 = (batch + 1) * 5 }
                    if batch % 5 == 4 { try store.flush() }
                    if batch % 15 == 14 { _ = try store.compactOnce(now: ScratchStore.base) }
                    // A collector's pace rather than a loop's: readers get moments between changes.
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            group.addTask {
                var views = 0
                while acknowledged.count.withLock({ $0 }) < batches * 5 || views == 0 {
                    let before = acknowledged.count.withLock { $0 }
                    let view = try LogStore.openReadOnly(directory: directory)
                    let after = acknowledged.count.withLock { $0 }
                    let bodies = try Self.bodies(view)
                    #expect(view.warnings.isEmpty, "\(view.warnings)")
                    #expect(Set(bodies).count == bodies.count, "a view never shows a record twice")
                    let expected = Set(ScratchStore.records(0..<before).map(\.body))
                    #expect(expected.isSubset(of: Set(bodies)), "every record acknowledged before the opening is there")
                    #expect(bodies.count <= after + 5, "nothing beyond what was being stored")
                    views += 1
                    await Task.yield()
                }
            }
            try await group.waitForAll()
        }
        #expect(store.statistics.maintenance.compactions >= 1)
        let final = try LogStore.openReadOnly(directory: scratch.directory)
        #expect(try Self.bodies(final).sorted() == ScratchStore.records(0..<batches * 5).map(\.body).sorted())
    }
}

/// Records the writer has had acknowledged, read by the reader.
final class AcknowledgedCount: Sendable {
    let count = Mutex(0)
}

/// The data directory's `LOCK`, taken by the writing store.
@Suite struct DataDirectoryLockTests {
    /// Another process's lock, as flock sees it: a lock on a descriptor of its own.
    static func lockFromOutside(_ directory: String) -> Int32? {
        let fd = Glibc.open(directory + "/LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    @Test func theWritingStoreHoldsTheLockForItsLife() throws {
        let scratch = ScratchStore()
        var store: LogStore? = try scratch.open()
        #expect(store != nil)
        #expect(Self.lockFromOutside(scratch.directory) == nil, "held while the store is open")
        store = nil
        let fd = try #require(Self.lockFromOutside(scratch.directory), "released with the store")
        close(fd)
    }

    @Test func aSecondWriterIsRefusedWithAClearError() throws {
        let scratch = ScratchStore()
        do {
            let store = try scratch.open()
            _ = try store.ingest(batchID: nil, records: ScratchStore.records(0..<3))
        }
        let other = try #require(Self.lockFromOutside(scratch.directory))
        defer { close(other) }
        let error = #expect(throws: StoreError.self) { try scratch.open() }
        #expect(error?.kind == .inUse)
        let message = error?.description ?? ""
        #expect(message.contains(scratch.directory) && message.contains("another process") && message.contains("stop it"), "\(message)")
        // Reading takes no lock.
        #expect(try LogStore.openReadOnly(directory: scratch.directory).snapshot.head.count == 3)
    }
}

/// `LogStore.arrivals(after:)`: what `/api/v1/tail` follows.
@Suite struct ArrivalsTests {
    @Test func arrivalsAreNumberedInTheOrderTheStoreReceivedThem() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        #expect(store.latestArrival == 0)
        for batch in 0..<3 { _ = try store.ingest(batchID: nil, records: ScratchStore.records(batch * 3..<batch * 3 + 3)) }
        let all = store.arrivals(after: 0)
        #expect(all.first == 1 && all.missed == 0 && all.through == 9)
        #expect(all.records.map(\.body) == ScratchStore.records(0..<9).map(\.body))
        let middle = store.arrivals(after: 4, limit: 3)
        #expect(middle.first == 5 && middle.through == 7)
        #expect(middle.records.map(\.body) == ScratchStore.records(4..<7).map(\.body))
        #expect(store.arrivals(after: 9).records.isEmpty)
        #expect(store.latestArrival == 9)
    }

    @Test func flushedArrivalsStayWhileFollowedThenTheOldestAreMissed() throws {
        let scratch = ScratchStore()
        let store = try scratch.open(ScratchStore.options { $0.arrivalsKept = 5 })
        _ = store.latestArrival
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(0..<4))
        try store.flush()
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(4..<6))
        let afterOneFlush = store.arrivals(after: 0)
        #expect(afterOneFlush.missed == 0)
        #expect(afterOneFlush.records.map(\.body) == ScratchStore.records(0..<6).map(\.body), "a flush takes nothing from a follower")
        try store.flush()
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(6..<10))
        try store.flush()
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(10..<11))
        // Ten flushed records: whole batches go, oldest first, while at least five stay.
        let trimmed = store.arrivals(after: 0)
        #expect(trimmed.missed == 4 && trimmed.first == 5 && trimmed.through == 11)
        #expect(trimmed.records.map(\.body) == ScratchStore.records(4..<11).map(\.body))
    }

    @Test func withoutFollowersAFlushKeepsNothing() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(0..<4))
        try store.flush()
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(4..<5))
        let arrivals = store.arrivals(after: 0)
        #expect(arrivals.missed == 4 && arrivals.first == 5)
        #expect(arrivals.records.map(\.body) == [ScratchStore.records(4..<5)[0].body])
    }
}
