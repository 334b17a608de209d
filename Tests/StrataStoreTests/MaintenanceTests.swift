#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import StrataCore
import Synchronization
import Testing

@testable import StrataStore

/// A data directory removed when the value goes away.
final class ScratchStore {
    let directory = NSTemporaryDirectory() + "strata-maint-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    deinit { try? FileManager.default.removeItem(atPath: directory) }

    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let hour: Int64 = 3_600_000_000_000
    static let base: Int64 = 1_795_255_200_000_000_000  // 2026-11-21T10:00:00Z

    static func options(_ configure: (inout StoreOptions) -> Void = { _ in }) -> StoreOptions {
        var options = StoreOptions()
        options.retentionNanos = .max / 2
        options.segment.durable = false
        options.headFlushBytes = .max
        configure(&options)
        return options
    }

    func open(_ options: StoreOptions = ScratchStore.options()) throws -> LogStore {
        try LogStore(directory: directory, options: options, logger: Self.logger)
    }

    static func records(
        _ range: Range<Int>, at time: Int64 = base, namespace: String = "shop", pod: String = "api-1"
    ) -> [LogRecord] {
        range.map { i in
            LogRecord(
                timestamp: time + Int64(i) * 1_000_000, observedTimestamp: time, body: "request \(i) done in \(namespace)",
                resource: Resource(attributes: [Attribute(ResourceKey.namespace, namespace), Attribute(ResourceKey.pod, pod)]))
        }
    }

    /// Every record a snapshot holds, as comparable text, sorted.
    static func contents(_ snapshot: LogStore.Snapshot) throws -> [String] {
        var all = snapshot.head.map { "\($0)" }
        for segment in snapshot.segments { all += try segment.readAllRecords().map { "\($0)" } }
        return all.sorted()
    }

    static func bodies(_ store: LogStore) throws -> [String] {
        let snapshot = store.snapshot()
        var all = snapshot.head.map(\.body)
        for segment in snapshot.segments { all += try segment.readAllRecords().map(\.body) }
        return all.sorted()
    }

    /// Files under segments/, relative to the data directory.
    func segmentFiles() -> [String] {
        let root = directory + "/segments"
        var result: [String] = []
        for partition in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + partition)) ?? [] {
                result.append("segments/\(partition)/\(name)")
            }
        }
        return result.sorted()
    }
}

@Suite struct FlushTests {
    @Test func ingestNeverWritesASegmentAndWakesTheFlusher() throws {
        let scratch = ScratchStore()
        let store = try scratch.open(ScratchStore.options { $0.headFlushBytes = 500 })
        for batch in 0..<10 {
            _ = try store.ingest(batchID: nil, records: ScratchStore.records(batch * 10..<batch * 10 + 10))
        }
        #expect(store.statistics.segments == 0, "ingest appends to the log and the head only")
        #expect(store.statistics.headRecords == 100)
        #expect(store.flushWanted.waitForSignal(timeout: .zero), "passing the threshold signals the flusher")

        let maintenance = StoreMaintenance(
            store: store, flushInterval: .seconds(3600), compactionInterval: .seconds(3600), logger: ScratchStore.logger)
        store.flushWanted.signal()
        maintenance.start()
        let deadline = ContinuousClock.now + .seconds(5)
        while store.statistics.headRecords > 0 && ContinuousClock.now < deadline { usleep(5_000) }
        #expect(store.statistics.headRecords == 0, "the background flusher ran without waiting for its interval")
        #expect(store.statistics.segments >= 1)
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(100..<105))
        maintenance.stop()
        #expect(store.statistics.headRecords == 0, "stop() flushes what is left")
        #expect(try ScratchStore.bodies(try scratch.open()).count == 105)
    }

    @Test func aFullHeadRefusesWhileTheFlusherIsBehindAndAcceptsAfter() throws {
        let scratch = ScratchStore()
        let store = try scratch.open(ScratchStore.options { $0.headLimitBytes = 1000 })
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(0..<20))
        #expect(throws: StoreFullError.self) { try store.ingest(batchID: nil, records: ScratchStore.records(20..<21)) }
        try store.flush()
        #expect(try store.ingest(batchID: nil, records: ScratchStore.records(20..<21)) == .stored(records: 1, tooOld: 0))
    }

    @Test func aRestartAfterTheLogWasEmptiedByAFlushKeepsNewEntries() throws {
        let scratch = ScratchStore()
        let first = try scratch.open()
        for batch in 0..<3 { _ = try first.ingest(batchID: nil, records: ScratchStore.records(batch * 5..<batch * 5 + 5)) }
        try first.flush()
        #expect(first.statistics.walBytes == 0)
        let second = try scratch.open()
        _ = try second.ingest(batchID: nil, records: ScratchStore.records(15..<20))
        // Not flushed: only the log holds them, numbered after what the manifest says is flushed.
        #expect(try ScratchStore.bodies(try scratch.open()).count == 20)
    }

    /// Batches acknowledged while a flush runs stay only in the log; the manifest written by
    /// that flush must not list their ids, or the replay after a crash would skip them.
    @Test func batchIDsIngestedDuringAFlushAreNotRememberedAsFlushed() async throws {
        let scratch = ScratchStore()
        let store = try scratch.open()
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(0..<30_000, pod: "bulk"))
        let flusher = Task.detached { try store.flush() }
        var lateIDs: [String: Int] = [:]
        for batch in 0..<40 {
            let id = BatchID.random()
            lateIDs[id.description] = batch
            _ = try store.ingest(batchID: id, records: ScratchStore.records(100_000 + batch * 3..<100_000 + batch * 3 + 3, pod: "late"))
        }
        try await flusher.value
        let flushedBodies = Set(try store.snapshot().segments.flatMap { try $0.readAllRecords().map(\.body) })
        let manifest = try Manifest.decode(try StoreFiles.read(scratch.directory + "/manifest.json"), path: "manifest.json")
        for entry in manifest.recentBatches {
            guard let batch = lateIDs[entry.id] else { continue }
            let body = ScratchStore.records(100_000 + batch * 3..<100_000 + batch * 3 + 1, pod: "late")[0].body
            #expect(flushedBodies.contains(body), "batch \(batch) is listed as stored but is not in a segment")
        }
        // As after a crash: every batch is there once.
        let reopened = try scratch.open()
        #expect(try ScratchStore.bodies(reopened).count == 30_000 + 40 * 3)
    }

    /// Ingest, flush, compaction and retention at once: every snapshot holds each record at
    /// most once, nothing acknowledged is missing at the end, and a reopened store agrees.
    @Test func concurrentIngestFlushAndCompactionKeepEveryRecordExactlyOnce() async throws {
        let scratch = ScratchStore()
        let options = ScratchStore.options {
            $0.headFlushBytes = 2_000
            $0.compaction.minInputs = 2
        }
        let store = try scratch.open(options)
        let maintenance = StoreMaintenance(
            store: store, flushInterval: .milliseconds(5), compactionInterval: .milliseconds(5), logger: ScratchStore.logger)
        maintenance.start()
        let writers = 3
        let batches = 60
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for batch in 0..<batches {
                        let first = (writer * batches + batch) * 5
                        _ = try store.ingest(batchID: nil, records: ScratchStore.records(first..<first + 5, pod: "w\(writer)"))
                    }
                }
            }
            group.addTask {
                for _ in 0..<40 {
                    let bodies = try ScratchStore.contents(store.snapshot())
                    #expect(Set(bodies).count == bodies.count, "a snapshot never shows a record twice")
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
            try await group.waitForAll()
        }
        maintenance.stop()
        let expected = writers * batches * 5
        #expect(try ScratchStore.bodies(store).count == expected)
        #expect(store.statistics.maintenance.flushes >= 2)
        let reopened = try scratch.open(options)
        let bodies = try ScratchStore.bodies(reopened)
        #expect(bodies.count == expected)
        #expect(Set(bodies).count == expected)
    }
}

@Suite struct SegmentLimitTests {
    /// Zstd packs the dictionary of 30,000 short numeric terms into fewer bytes than terms.
    @Test func aSegmentWithMoreTermsThanBytesOpens() throws {
        let scratch = ScratchStore()
        try FileManager.default.createDirectory(atPath: scratch.directory, withIntermediateDirectories: true)
        let records = ScratchStore.records(0..<30_000)
        let info = try SegmentWriter.write(records, to: scratch.directory + "/many.stsg")
        #expect(info.termCount > info.bytes)
        let reader = try SegmentReader(path: scratch.directory + "/many.stsg")
        #expect(try reader.count(term: "29999") == 1)
        #expect(try reader.count(term: "request") == 30_000)
    }
}

@Suite struct CompactionTests {
    /// Six flushes into one hour: six segments, merged into one with the same records.
    func storeWithSmallSegments(_ scratch: ScratchStore, count: Int = 6, options: StoreOptions? = nil) throws -> LogStore {
        let store = try scratch.open(options ?? ScratchStore.options { $0.compaction.minInputs = 4 })
        for i in 0..<count {
            _ = try store.ingest(batchID: nil, records: ScratchStore.records(i * 10..<i * 10 + 10, pod: "p\(i % 3)"))
            try store.flush()
        }
        return store
    }

    @Test func smallSegmentsOfAPartitionAreMergedIntoOne() throws {
        let scratch = ScratchStore()
        let store = try storeWithSmallSegments(scratch)
        let before = try ScratchStore.contents(store.snapshot())
        let inputs = store.snapshot().segments.map(\.path)
        #expect(inputs.count == 6)
        #expect(try store.compactOnce(now: ScratchStore.base))
        #expect(try !store.compactOnce(now: ScratchStore.base), "one segment left: nothing more to do")
        let after = store.snapshot()
        #expect(after.segments.count == 1)
        #expect(try ScratchStore.contents(after) == before)
        for path in inputs { #expect(!FileManager.default.fileExists(atPath: path), "inputs deleted after the swap") }
        #expect(scratch.segmentFiles().count == 1)
        #expect(store.statistics.maintenance.compactions == 1)
        #expect(store.statistics.maintenance.compactedInputSegments == 6)
        // The merged segment's index answers like the inputs did.
        #expect(try after.segments[0].count(term: "k8s.pod.name=p1") == 20)
        #expect(try ScratchStore.contents(try scratch.open().snapshot()) == before)
    }

    @Test func aSnapshotTakenBeforeCompactionStillReadsAfterTheInputsAreDeleted() throws {
        let scratch = ScratchStore()
        let store = try storeWithSmallSegments(scratch)
        let old = store.snapshot()
        let expected = try ScratchStore.contents(old)
        #expect(try store.compactOnce(now: ScratchStore.base))
        for segment in old.segments { #expect(!FileManager.default.fileExists(atPath: segment.path)) }
        // Readers hold their files open (pread on the descriptor, never reopened by path).
        #expect(try ScratchStore.contents(old) == expected)
        #expect(try old.segments[2].postings(term: "request").count >= 1)
    }

    @Test func templateIDsAndEveryColumnSurviveAMerge() throws {
        let scratch = ScratchStore()
        let store = try scratch.open(ScratchStore.options { $0.compaction.minInputs = 2 })
        let records = RecordFactory.records(600, seed: 7)
        var expected: [String] = []
        for part in 0..<2 {
            let slice = Array(records[part * 300..<(part + 1) * 300]).map { record -> LogRecord in
                var record = record
                record.timestamp = ScratchStore.base + (record.timestamp % ScratchStore.hour + ScratchStore.hour) % ScratchStore.hour
                return record
            }
            let templates = slice.indices.map { UInt32($0 % 7) }
            let relative = try store.segmentFile(partition: ScratchStore.base, number: store.allocateSegmentNumbers(1))
            let info = try SegmentWriter.write(slice, templateIDs: templates, to: scratch.directory + "/" + relative)
            let reader = try SegmentReader(path: scratch.directory + "/" + relative)
            try store.commit(scope: "test") { manifest in
                manifest.segments.append(.init(file: relative, partition: ScratchStore.base, info: info))
            } install: { state, _ in
                state.readers[relative] = reader
            }
            expected += zip(slice, templates).map { "\($0.0) template \($0.1)" }
        }
        #expect(try store.compactOnce(now: ScratchStore.base))
        let merged = store.snapshot().segments
        #expect(merged.count == 1)
        var actual: [String] = []
        for index in merged[0].blocks.indices {
            let block = try merged[0].readBlock(index)
            for row in 0..<block.rowCount { actual.append("\(block.record(at: row)) template \(block.templateID(at: row))") }
        }
        #expect(actual.sorted() == expected.sorted())
    }

    @Test func leftoversOfAnInterruptedCompactionAreRemovedAtStart() throws {
        let scratch = ScratchStore()
        let store = try storeWithSmallSegments(scratch, count: 2)
        let expected = try ScratchStore.bodies(store)
        let live = scratch.segmentFiles()
        // What a crash leaves: a merged file renamed into place but not in the manifest, and a
        // half-written temporary file.
        let orphan = live[0].replacingOccurrences(of: ".stsg", with: "9.stsg")
        try FileManager.default.copyItem(atPath: scratch.directory + "/" + live[0], toPath: scratch.directory + "/" + orphan)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: scratch.directory + "/" + live[1] + "9.tmp"))
        let reopened = try scratch.open()
        #expect(scratch.segmentFiles() == live)
        #expect(try ScratchStore.bodies(reopened) == expected, "each record once: the orphan copy is not served")
    }

    @Test func aDamagedInputIsQuarantinedAndTheOthersAreStillMerged() throws {
        let scratch = ScratchStore()
        let store = try storeWithSmallSegments(scratch, count: 5)
        let victim = store.snapshot().segments[1]
        // Damage the first block's body chunk: opening still works, reading the block fails.
        let fd = Glibc.open(victim.path, O_WRONLY)
        var garbage: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]
        _ = pwrite(fd, &garbage, 4, 12)
        close(fd)
        #expect(try !store.compactOnce(now: ScratchStore.base), "the merge is abandoned")
        #expect(store.statistics.quarantined == 1)
        #expect(try store.compactOnce(now: ScratchStore.base), "the remaining four are merged")
        #expect(store.snapshot().segments.count == 1)
        #expect(try ScratchStore.bodies(store).count == 40)
    }

    @Test func thePlannerMergesLikeSizedSegmentsAndSettledPartitions() {
        var options = CompactionOptions()
        options.minInputs = 4
        options.tierBaseBytes = 1000
        options.maxSegmentBytes = 100_000
        func segment(_ n: Int, bytes: Int, partition: Int64 = ScratchStore.base) -> Manifest.Segment {
            let info = SegmentInfo(
                id: "\(n)", path: "", rowCount: 0, minTime: partition, maxTime: partition, bytes: bytes, rawBytes: bytes,
                blockCount: 1, termCount: 0, resourceCount: 0, formatVersion: 1)
            return Manifest.Segment(file: "s\(n)", partition: partition, info: info)
        }
        #expect(CompactionPlanner.tier(999, options: options) == 0)
        #expect(CompactionPlanner.tier(1000, options: options) == 1)
        #expect(CompactionPlanner.tier(4000, options: options) == 2)
        let now = ScratchStore.base + 10 * 60 * 1_000_000_000
        // Three small ones and one big: no tier has four members yet.
        var segments = [segment(1, bytes: 500), segment(2, bytes: 600), segment(3, bytes: 5000), segment(4, bytes: 700)]
        #expect(CompactionPlanner.plan(segments, options: options, now: now) == nil)
        segments.append(segment(5, bytes: 800))
        #expect(CompactionPlanner.plan(segments, options: options, now: now)?.inputs == ["s1", "s2", "s4", "s5"])
        // Segments at the size cap are left alone.
        #expect(CompactionPlanner.plan([segment(1, bytes: 100_000), segment(2, bytes: 100_000)], options: options, now: now) == nil)
        // Settled: two hours later everything small in the partition is merged, whatever its tier.
        let later = ScratchStore.base + 2 * ScratchStore.hour + 1
        #expect(CompactionPlanner.plan(Array(segments.prefix(4)), options: options, now: later)?.inputs == ["s1", "s2", "s3", "s4"])
        // Never across partitions.
        let split = [segment(1, bytes: 10), segment(2, bytes: 10, partition: ScratchStore.base - ScratchStore.hour)]
        #expect(CompactionPlanner.plan(split, options: options, now: later) == nil)
    }
}

@Suite struct RetentionTests {
    let hour = ScratchStore.hour
    let base = ScratchStore.base

    @Test func partitionsOlderThanRetentionAreDeletedAndCounted() throws {
        let scratch = ScratchStore()
        let store = try scratch.open(ScratchStore.options { $0.retentionNanos = 6 * ScratchStore.hour })
        let now = base + hour / 2
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(0..<7, at: base - 5 * hour), now: now)
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(7..<10, at: base - 4 * hour), now: now)
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(10..<12, at: base), now: now)
        try store.flush()
        #expect(store.statistics.segments == 3)
        let oldest = store.snapshot().segments.first { $0.info.minTime < base - 4 * hour }?.info
        try store.applyRetention(now: now)
        #expect(store.statistics.segments == 3, "the 5-hours-old hour has not wholly passed retention yet")
        try store.applyRetention(now: base + 2 * hour)
        #expect(store.statistics.segments == 2)
        #expect(try ScratchStore.bodies(store).count == 5)
        let tally = store.statistics.maintenance.retention[.age]
        #expect(tally?.segments == 1)
        #expect(tally?.records == 7)
        #expect(tally?.bytes == Int64(oldest?.bytes ?? -1))
        #expect(scratch.segmentFiles().count == 2, "the file and its empty partition directory are gone")
        #expect(try ScratchStore.bodies(try scratch.open()).count == 5)
    }

    @Test func aShorterNamespaceRetentionRewritesSegmentsWithoutThatNamespace() throws {
        let scratch = ScratchStore()
        let store = try scratch.open(ScratchStore.options { $0.namespaceRetentionNanos = ["kube-system": ScratchStore.hour] })
        let at = base - 3 * hour
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(0..<5, at: at, namespace: "shop"), now: at)
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(5..<9, at: at, namespace: "kube-system", pod: "dns"), now: at)
        try store.flush()
        #expect(store.statistics.segments == 1)
        let before = store.snapshot()
        let beforeContents = try ScratchStore.contents(before)
        try store.applyRetention(now: base)
        let after = store.snapshot()
        #expect(after.segments.count == 1)
        #expect(after.segments[0].path != before.segments[0].path, "rewritten")
        #expect(try ScratchStore.bodies(store) == ScratchStore.records(0..<5, at: at).map(\.body).sorted())
        #expect(try after.segments[0].count(term: "k8s.namespace.name=kube-system") == 0)
        let tally = store.statistics.maintenance.retention[.namespaceAge]
        #expect(tally?.records == 4)
        #expect(tally?.segments == 0)
        // Nothing more to do the second time.
        try store.applyRetention(now: base)
        #expect(store.snapshot().segments[0].path == after.segments[0].path)
        #expect(try ScratchStore.contents(before) == beforeContents, "the old snapshot still reads the deleted input")
    }

    @Test func aLongerNamespaceRetentionKeepsItsRecordsPastTheDefault() throws {
        let scratch = ScratchStore()
        let store = try scratch.open(ScratchStore.options {
            $0.retentionNanos = ScratchStore.hour
            $0.namespaceRetentionNanos = ["audit": 10 * ScratchStore.hour]
        })
        let at = base - 3 * hour
        let refused = try store.ingest(
            batchID: nil,
            records: ScratchStore.records(0..<4, at: at, namespace: "shop") + ScratchStore.records(4..<6, at: at, namespace: "audit"),
            now: base)
        #expect(refused == .stored(records: 2, tooOld: 4), "the override moves the ingest cut-off too")
        // Written directly (as if ingested while still young): shop and audit in one old hour.
        _ = try store.ingest(batchID: nil, records: ScratchStore.records(10..<14, at: at, namespace: "shop"), now: at)
        _ = try store.ingest(
            batchID: nil, records: ScratchStore.records(20..<22, at: base - 5 * hour, namespace: "shop"), now: base - 5 * hour)
        try store.flush()
        try store.applyRetention(now: base)
        let bodies = try ScratchStore.bodies(store)
        #expect(bodies == (ScratchStore.records(4..<6, at: at, namespace: "audit")).map(\.body).sorted())
        #expect(store.statistics.maintenance.retention[.age]?.segments == 1)
        #expect(store.statistics.maintenance.retention[.namespaceAge]?.records == 4)
    }

    @Test func overTheSizeLimitTheOldestPartitionsGoFirstButNeverTheNewest() throws {
        let scratch = ScratchStore()
        var options = ScratchStore.options()
        let store = try scratch.open(options)
        for (n, hoursAgo) in [3, 2, 1, 0].enumerated() {
            _ = try store.ingest(batchID: nil, records: ScratchStore.records(n * 50..<n * 50 + 50, at: base - Int64(hoursAgo) * hour))
        }
        try store.flush()
        let segments = store.snapshot().segments.sorted { $0.info.minTime < $1.info.minTime }
        let newestTwo = Int64(segments[2].info.bytes + segments[3].info.bytes)
        options.retentionBytes = newestTwo + 10
        let limited = try scratch.open(options)
        try limited.applyRetention(now: base)
        let left = limited.snapshot().segments.map(\.info.minTime).sorted()
        #expect(left == [segments[2].info.minTime, segments[3].info.minTime])
        #expect(limited.statistics.maintenance.retention[.size]?.segments == 2)
        #expect(limited.statistics.maintenance.retention[.size]?.records == 100)
        options.retentionBytes = 1
        let tiny = try scratch.open(options)
        try tiny.applyRetention(now: base)
        #expect(tiny.snapshot().segments.map(\.info.minTime) == [segments[3].info.minTime], "the newest hour is kept")
    }
}

@Suite struct DiskBudgetTests {
    /// Refusing at the budget keeps what was acknowledged; space freed by retention lets ingest
    /// resume; a retried batch that was stored before is still acknowledged while refusing.
    @Test func ingestStopsAtTheBudgetAndResumesOnceRetentionFreesSpace() throws {
        let scratch = ScratchStore()
        let old = ScratchStore.base - 2 * ScratchStore.hour
        let retriedID = BatchID.random()
        do {
            let store = try scratch.open(ScratchStore.options { $0.minFreeDiskBytes = 0 })
            _ = try store.ingest(batchID: retriedID, records: ScratchStore.records(0..<3000, at: old))
            try store.flush()
            _ = try store.ingest(batchID: nil, records: ScratchStore.records(3000..<6000))
            try store.flush()
        }
        let oldPartitionBytes = try ScratchStore.segmentBytes(scratch, hour: old)
        let used = try scratch.open(ScratchStore.options { $0.minFreeDiskBytes = 0 }).statistics.segmentBytes
        let store = try scratch.open(ScratchStore.options {
            $0.minFreeDiskBytes = 0
            $0.diskBudgetBytes = used + 64
            $0.retentionBytes = used - oldPartitionBytes  // retention drops the old hour, keeps the new one
        })
        let refused = #expect(throws: DiskFullError.self) {
            try store.ingest(batchID: nil, records: ScratchStore.records(6000..<6100))
        }
        #expect(refused?.limit == .budget(used: used, budget: used + 64))
        #expect(refused?.description.contains("storage.disk_budget") == true)
        #expect(try ScratchStore.bodies(store).count == 6000, "nothing acknowledged was given up to make room")
        #expect(try store.ingest(batchID: retriedID, records: ScratchStore.records(0..<3000, at: old)) == .duplicate)

        try store.applyRetention(now: ScratchStore.base)
        #expect(store.statistics.segmentBytes < used)
        #expect(try store.ingest(batchID: nil, records: ScratchStore.records(6000..<6100)) == .stored(records: 100, tooOld: 0))
        #expect(try ScratchStore.bodies(store).count == 3100)
    }

    @Test func ingestStopsWhileTheFileSystemIsBelowItsFreeSpaceReserve() throws {
        let scratch = ScratchStore()
        let store = try scratch.open(ScratchStore.options { $0.minFreeDiskBytes = 0 })
        let storedID = BatchID.random()
        _ = try store.ingest(batchID: storedID, records: ScratchStore.records(0..<10))
        let available = try #require(store.statistics.availableDiskBytes)
        let starved = try scratch.open(ScratchStore.options { $0.minFreeDiskBytes = available * 2 })
        let refused = #expect(throws: DiskFullError.self) {
            try starved.ingest(batchID: nil, records: ScratchStore.records(10..<20))
        }
        guard case .freeSpace(_, let reserve) = refused?.limit else {
            Issue.record("expected the free-space reserve to refuse, got \(String(describing: refused))")
            return
        }
        #expect(reserve == available * 2)
        #expect(try starved.ingest(batchID: storedID, records: ScratchStore.records(0..<10)) == .duplicate)
        #expect(try ScratchStore.bodies(starved).count == 10)
    }
}

extension ScratchStore {
    /// Bytes of the live segments of the partition holding `hour`.
    static func segmentBytes(_ scratch: ScratchStore, hour: Int64) throws -> Int64 {
        let prefix = "segments/" + RFC3339.format(nanos: LogStore.partition(of: hour)).prefix(13).replacingOccurrences(of: ":", with: "")
        return scratch.segmentFiles().filter { $0.hasPrefix(prefix) }.reduce(0) {
            $0 + ((try? FileManager.default.attributesOfItem(atPath: scratch.directory + "/" + $1)[.size] as? Int).map(Int64.init) ?? 0)
        }
    }
}
