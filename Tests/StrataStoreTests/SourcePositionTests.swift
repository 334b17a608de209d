import Foundation
import StrataCore
import Testing

@testable import StrataStore

/// The deduplication rule by source position (`SourceMemory`, docs/FORMAT.md "Source
/// positions"): records an agent re-read after a restart are stored once, whatever batches they
/// come in, and the memory survives flushes, restarts and a crash before the flush.
@Suite struct SourcePositionTests {
    static let node = "node-a"

    static func source(inode: UInt64 = 7, head: UInt32 = 0xC0FFEE, sequence: UInt8 = 0) -> FileSource {
        FileSource(node: node, device: 1, inode: inode, headChecksum: head, headLength: 80, sequence: sequence)
    }

    /// Records of one file whose lines are 100 bytes long: line `i` ends at `(i + 1) * 100`.
    static func lines(_ range: Range<Int>, source: FileSource = source(), at time: Int64 = ScratchStore.base)
        -> (records: [LogRecord], positions: [RecordPosition?])
    {
        let records = ScratchStore.records(range, at: time).enumerated().map { offset, record in
            var record = record
            record.body = "line \(range.lowerBound + offset) of \(source.inode)/\(source.sequence)"
            return record
        }
        let positions: [RecordPosition?] = range.map {
            RecordPosition(source: source, offset: SourceOffset(end: UInt64($0 + 1) * 100))
        }
        return (records, positions)
    }

    /// Stored at the real time: a flush retires sources by how long ago they were stored.
    @discardableResult
    static func ingest(_ store: LogStore, _ batch: (records: [LogRecord], positions: [RecordPosition?])) throws -> IngestResult {
        try store.ingest(batchID: BatchID.random(), records: batch.records, positions: batch.positions)
    }

    // MARK: - The rule

    @Test func theSamePositionsTwiceAreStoredOnce() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        #expect(try Self.ingest(store, Self.lines(0..<10)) == .stored(records: 10, tooOld: 0, duplicateRecords: 0))
        #expect(
            try Self.ingest(store, Self.lines(0..<10)) == .stored(records: 0, tooOld: 0, duplicateRecords: 10),
            "a re-read under a new batch id is acknowledged and dropped, not refused")
        #expect(try ScratchStore.bodies(store).count == 10)
    }

    @Test func overlappingBatchesWithOtherBoundariesStoreEachRecordOnce() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        try Self.ingest(store, Self.lines(0..<4))
        try Self.ingest(store, Self.lines(4..<7))
        // After a restart the agent cut its batches elsewhere: 2..<9 overlaps both and goes on.
        #expect(try Self.ingest(store, Self.lines(2..<9)) == .stored(records: 2, tooOld: 0, duplicateRecords: 5))
        #expect(try Self.ingest(store, Self.lines(5..<12)) == .stored(records: 3, tooOld: 0, duplicateRecords: 4))
        let bodies = try ScratchStore.bodies(store)
        #expect(bodies == (0..<12).map { "line \($0) of 7/0" }.sorted(), "every line once")
    }

    /// What the collector hands to continuous diagnosis: the records stored, never a re-sent one.
    @Test func theStoredRecordsReturnedLeaveOutTheDropped() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        try Self.ingest(store, Self.lines(0..<4))
        let batch = Self.lines(2..<6)
        let (result, stored) = try store.ingestReturningStored(batchID: nil, records: batch.records, positions: batch.positions)
        #expect(result == .stored(records: 2, tooOld: 0, duplicateRecords: 2))
        #expect(stored.map(\.body) == ["line 4 of 7/0", "line 5 of 7/0"])
        let again = try store.ingestReturningStored(batchID: nil, records: batch.records, positions: batch.positions)
        #expect(again.stored.isEmpty, "everything of a full re-send is dropped, and nothing is observed")
    }

    @Test func piecesOfOneLineAreToldApartByTheirNumber() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        let records = ScratchStore.records(0..<3)
        let pieces: [RecordPosition?] = (0..<3).map {
            RecordPosition(source: Self.source(), offset: SourceOffset(end: 5000, piece: UInt32($0)))
        }
        #expect(try store.ingest(batchID: nil, records: Array(records[0..<2]), positions: Array(pieces[0..<2]))
            == .stored(records: 2, tooOld: 0))
        #expect(try store.ingest(batchID: nil, records: records, positions: pieces)
            == .stored(records: 1, tooOld: 0, duplicateRecords: 2), "the third piece of the same line is new")
    }

    @Test func streamsAndRotatedFilesAreSourcesOfTheirOwn() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        try Self.ingest(store, Self.lines(0..<10))
        // stderr of the same file: its own sequence of offsets.
        #expect(try Self.ingest(store, Self.lines(0..<3, source: Self.source(sequence: 1))) == .stored(records: 3, tooOld: 0))
        // The same inode with other content (copytruncate, or the inode reused after a
        // rotation deleted the file): a new identity, starting at offset 0 again.
        #expect(try Self.ingest(store, Self.lines(0..<3, source: Self.source(head: 0xBEEF))) == .stored(records: 3, tooOld: 0))
        // The next file of the container after a rename rotation: another inode.
        #expect(try Self.ingest(store, Self.lines(0..<3, source: Self.source(inode: 8))) == .stored(records: 3, tooOld: 0))
        // And another node's file with the same device, inode and first line.
        var elsewhere = Self.source()
        elsewhere.node = "node-b"
        #expect(try Self.ingest(store, Self.lines(0..<3, source: elsewhere)) == .stored(records: 3, tooOld: 0))
        #expect(try ScratchStore.bodies(store).count == 22)
    }

    @Test func recordsWithoutPositionsAreNeverDropped() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        let records = ScratchStore.records(0..<5)
        #expect(try store.ingest(batchID: nil, records: records, now: ScratchStore.base) == .stored(records: 5, tooOld: 0))
        #expect(try store.ingest(batchID: nil, records: records, now: ScratchStore.base) == .stored(records: 5, tooOld: 0))
        // Mixed: the unpositioned records of a batch stay, the repeated positioned ones go.
        try Self.ingest(store, Self.lines(0..<2))
        var mixed = Self.lines(0..<2)
        mixed.records.append(contentsOf: ScratchStore.records(9..<10))
        mixed.positions.append(nil)
        #expect(try Self.ingest(store, mixed) == .stored(records: 1, tooOld: 0, duplicateRecords: 2))
    }

    @Test func aPositionCountThatDoesNotMatchTheRecordsIsAnError() throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        let batch = Self.lines(0..<3)
        #expect(throws: StoreError.self) {
            try store.ingest(batchID: nil, records: batch.records, positions: Array(batch.positions.dropLast()))
        }
    }

    // MARK: - Persistence

    @Test func theMemorySurvivesAFlushAndARestart() throws {
        let scratch = ScratchStore()
        do {
            let store = try scratch.open()
            try Self.ingest(store, Self.lines(0..<10))
            try store.flush()
            #expect(store.statistics.sources == 1)
        }
        let manifest = try String(contentsOfFile: scratch.directory + "/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"version\":2") && manifest.contains("\"sources\":[{"), "\(manifest)")
        let reopened = try scratch.open()
        #expect(reopened.statistics.sources == 1)
        #expect(try Self.ingest(reopened, Self.lines(5..<15)) == .stored(records: 5, tooOld: 0, duplicateRecords: 5))
    }

    /// What a collector killed between the log append and the flush leaves: the positions are
    /// only in the write-ahead log, and the replay restores them.
    @Test func theMemorySurvivesARestartBeforeTheFlush() throws {
        let scratch = ScratchStore()
        do {
            let store = try scratch.open()
            try Self.ingest(store, Self.lines(0..<10))
            try store.flush()
            try Self.ingest(store, Self.lines(10..<20))
            // No flush: the second batch is only in the log when the store goes away.
        }
        let reopened = try scratch.open()
        #expect(try Self.ingest(reopened, Self.lines(0..<25)) == .stored(records: 5, tooOld: 0, duplicateRecords: 20))
        #expect(try ScratchStore.bodies(reopened).count == 25)
    }

    @Test func aVersionOneManifestIsReadAndRewrittenAsVersionTwo() throws {
        let scratch = ScratchStore()
        do {
            let store = try scratch.open()
            try store.ingest(batchID: nil, records: ScratchStore.records(0..<3), now: ScratchStore.base)
            try store.flush()
        }
        let path = scratch.directory + "/manifest.json"
        var json = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        json["version"] = 1
        json["sources"] = nil
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        let reopened = try scratch.open()
        #expect(try ScratchStore.bodies(reopened).count == 3, "the segments of a version 1 catalog stay readable")
        #expect(reopened.statistics.sources == 0)
        let rewritten = try String(contentsOfFile: path, encoding: .utf8)
        #expect(rewritten.contains("\"version\":2"))
    }

    // MARK: - Retirement

    @Test func idleSourcesAreRetiredAndTheRestKept() {
        var memory = SourceMemory()
        let hour = ScratchStore.hour
        memory.record([Self.source(inode: 1): SourceOffset(end: 100)], at: 0)
        memory.record([Self.source(inode: 2): SourceOffset(end: 100)], at: 10 * hour)
        memory.record([Self.source(inode: 3): SourceOffset(end: 100)], at: 20 * hour)
        #expect(memory.retire(now: 20 * hour, idleNanos: 15 * hour, maxSources: 10) == 1, "idle for 20 h of 15")
        #expect(memory[Self.source(inode: 1)] == nil)
        #expect(memory[Self.source(inode: 2)] == SourceOffset(end: 100))
        #expect(memory.retire(now: 20 * hour, idleNanos: 15 * hour, maxSources: 1) == 1, "the cap retires the longest idle")
        #expect(memory[Self.source(inode: 2)] == nil && memory[Self.source(inode: 3)] == SourceOffset(end: 100))
        // A retired source starts over: its records are admitted again.
        #expect(memory.admit([RecordPosition(source: Self.source(inode: 1), offset: SourceOffset(end: 50))]).duplicates == 0)
    }

    @Test func aFlushRetiresIdleSourcesFromTheManifest() throws {
        let scratch = ScratchStore()
        let options = ScratchStore.options { $0.sourceIdleNanos = ScratchStore.hour }
        do {
            let store = try scratch.open(options)
            // Stored "now" minus two hours: idle beyond the hour allowed by the time of the flush.
            let old = Self.lines(0..<3)
            try store.ingest(
                batchID: nil, records: old.records, positions: old.positions,
                now: WallClock.nowNanos() - 2 * ScratchStore.hour)
            let fresh = Self.lines(0..<3, source: Self.source(inode: 9))
            try store.ingest(batchID: nil, records: fresh.records, positions: fresh.positions, now: WallClock.nowNanos())
            try store.flush()
            #expect(store.statistics.sources == 1)
            #expect(store.statistics.maintenance.retiredSources == 1)
        }
        let reopened = try scratch.open(options)
        #expect(reopened.statistics.sources == 1, "the manifest remembers only the fresh source")
    }

    @Test func positionsNeverMoveBack() {
        var memory = SourceMemory()
        memory.record([Self.source(): SourceOffset(end: 500)], at: 1)
        memory.record([Self.source(): SourceOffset(end: 300)], at: 2)
        #expect(memory[Self.source()] == SourceOffset(end: 500))
        let admission = memory.admit([
            RecordPosition(source: Self.source(), offset: SourceOffset(end: 600)),
            RecordPosition(source: Self.source(), offset: SourceOffset(end: 600)),
            RecordPosition(source: Self.source(), offset: SourceOffset(end: 550)),
        ])
        #expect(admission.keep == [true, false, false], "within a batch too, a repeated or earlier position is dropped")
        #expect(admission.advanced == [Self.source(): SourceOffset(end: 600)])
    }
}
