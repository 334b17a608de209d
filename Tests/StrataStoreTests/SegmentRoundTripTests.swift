import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataStore

final class SegmentRoundTripTests: XCTestCase {
    /// Writes, reopens and checks every record, the block metadata and the whole index
    /// against a brute-force computation.
    private func checkRoundTrip(
        _ records: [LogRecord], templateIDs: [UInt32]? = nil, options: SegmentOptions, file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let dir = makeTemporaryDirectory(self)
        let path = dir + "/seg.stsg"
        let info = try SegmentWriter.write(records, templateIDs: templateIDs, to: path, options: options)
        let reader = try SegmentReader(path: path)
        XCTAssertEqual(reader.info, info, file: file, line: line)
        XCTAssertEqual(info.rowCount, records.count, file: file, line: line)
        XCTAssertEqual(info.rawBytes, records.reduce(0) { $0 + $1.body.utf8.count }, file: file, line: line)
        XCTAssertEqual(info.id, "seg")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
        if !records.isEmpty {
            XCTAssertEqual(info.minTime, records.map(\.timestamp).min(), file: file, line: line)
            XCTAssertEqual(info.maxTime, records.map(\.timestamp).max(), file: file, line: line)
        }

        // Records, in (resource, timestamp, input position) order.
        let expected = RecordFactory.storedOrder(records, templateIDs: templateIDs)
        var actual: [LogRecord] = []
        var actualTemplates: [UInt32] = []
        var blockOfRow: [Int] = []
        for (b, meta) in reader.blocks.enumerated() {
            XCTAssertLessThanOrEqual(meta.rowCount, options.maxBlockRows, file: file, line: line)
            let block = try reader.readBlock(b)
            XCTAssertEqual(block.rowCount, meta.rowCount)
            for row in 0..<block.rowCount {
                actual.append(block.record(at: row))
                actualTemplates.append(block.templateID(at: row))
                blockOfRow.append(b)
                XCTAssertGreaterThanOrEqual(block.timestamps[row], meta.minTime)
                XCTAssertLessThanOrEqual(block.timestamps[row], meta.maxTime)
                XCTAssertTrue((meta.minResource...meta.maxResource).contains(Int(block.resourceIndexes[row])))
            }
            if meta.rowCount > 1 {
                XCTAssertLessThanOrEqual(meta.rawBodyBytes, options.maxBlockBodyBytes, "block \(b)", file: file, line: line)
            }
            XCTAssertEqual(block.timestamps.min(), meta.minTime)
            XCTAssertEqual(block.timestamps.max(), meta.maxTime)
        }
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for i in 0..<min(actual.count, expected.count) where actual[i] != expected[i].0 {
            XCTFail("row \(i) differs:\n\(actual[i])\n\(expected[i].0)", file: file, line: line)
            break
        }
        XCTAssertEqual(actualTemplates, expected.map(\.1), file: file, line: line)
        XCTAssertEqual(Set(reader.resources), Set(records.map(\.resource)), file: file, line: line)

        // The whole index, brute force.
        var expectedPostings: [String: [Posting]] = [:]
        for (row, (record, template)) in expected.enumerated() {
            let b = blockOfRow[row]
            for term in RecordFactory.terms(of: record, templateID: template) {
                var list = expectedPostings[term, default: []]
                if list.last?.block == b {
                    list[list.count - 1].rows += 1
                } else {
                    list.append(Posting(block: b, rows: 1))
                }
                expectedPostings[term] = list
            }
        }
        let all = try reader.postings(prefix: "")
        XCTAssertEqual(all.count, expectedPostings.count, file: file, line: line)
        XCTAssertEqual(reader.termCount, expectedPostings.count, file: file, line: line)
        XCTAssertEqual(all.map(\.term), expectedPostings.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) },
                       file: file, line: line)
        for (term, postings) in all where expectedPostings[term] != postings {
            XCTFail("postings of \(term): \(postings) expected \(expectedPostings[term] ?? [])", file: file, line: line)
            break
        }
        // Point lookups, present and absent terms.
        var rng = SeededRandom(seed: UInt64(records.count))
        let terms = Array(expectedPostings.keys)
        for _ in 0..<min(200, terms.count) {
            let term = rng.pick(terms)
            XCTAssertEqual(try reader.postings(term: term), expectedPostings[term], term, file: file, line: line)
            XCTAssertEqual(try reader.count(term: term), expectedPostings[term]!.reduce(0) { $0 + $1.rows })
        }
        for absent in ["", "\u{0}", "zzzzzzzzzz-absent", "severity=unknown", "~", "INFO"] where expectedPostings[absent] == nil {
            XCTAssertEqual(try reader.postings(term: absent), [], absent, file: file, line: line)
        }
        // Prefix lookups.
        for prefix in ["k8s.namespace.name=", "trace_id=", "severity=", "a", "stream=std", "1", "é", "~"] {
            let got = try reader.postings(prefix: prefix)
            let want = expectedPostings.filter { $0.key.utf8.starts(with: prefix.utf8) }
            XCTAssertEqual(got.count, want.count, prefix, file: file, line: line)
            for (term, postings) in got { XCTAssertEqual(postings, want[term], term, file: file, line: line) }
            if got.count > 2 { XCTAssertEqual(try reader.postings(prefix: prefix, limit: 2).map(\.term), got.prefix(2).map(\.term)) }
        }
    }

    func testRandomSegmentsRoundTrip() throws {
        for seed: UInt64 in 1...6 {
            let records = RecordFactory.records(Int(seed) * 150, seed: seed, resources: Int(seed) + 1)
            var rng = SeededRandom(seed: seed)
            let templates = records.map { _ in rng.chance(0.3) ? 0 : UInt32(rng.int(1...5000)) }
            try checkRoundTrip(
                records, templateIDs: seed % 2 == 0 ? templates : nil,
                options: SegmentOptions(maxBlockRows: [1, 7, 64, 2048][Int(seed) % 4], maxBlockBodyBytes: 64 * 1024,
                                        termsPerDictionaryBlock: [1, 3, 64, 128][Int(seed) % 4], durable: false))
        }
    }

    func testEveryCodecRoundTrips() throws {
        let records = RecordFactory.records(300, seed: 42)
        for codec in CompressionCodec.allCases {
            try checkRoundTrip(records, options: SegmentOptions(codec: codec, compressionLevel: codec == .lz4 ? 0 : 1,
                                                                maxBlockRows: 50, durable: false))
        }
    }

    func testEmptySegment() throws {
        try checkRoundTrip([], options: SegmentOptions(durable: false))
        let dir = makeTemporaryDirectory(self)
        try SegmentWriter.write([], to: dir + "/e.stsg")
        let reader = try SegmentReader(path: dir + "/e.stsg")
        XCTAssertEqual(reader.blocks.count, 0)
        XCTAssertEqual(try reader.postings(term: "x"), [])
        XCTAssertEqual(reader.blocks(overlapping: .min, .max), [])
    }

    func testEdgeValues() throws {
        var records: [LogRecord] = []
        for (i, t) in [Int64.max, .min, 0, -1, .max, .min].enumerated() {
            records.append(LogRecord(timestamp: t, observedTimestamp: i % 2 == 0 ? .min : .max, body: i == 0 ? "" : "x \(i)"))
        }
        records.append(LogRecord(timestamp: 5, observedTimestamp: 5, body: String(repeating: "é", count: 300_000)))
        records.append(LogRecord(timestamp: 5, observedTimestamp: 5, body: String(repeating: "a", count: 1000), flags: RecordFlags(rawValue: .max)))
        try checkRoundTrip(records, templateIDs: records.indices.map { $0 == 3 ? .max : 0 },
                           options: SegmentOptions(maxBlockRows: 3, maxBlockBodyBytes: 1000, durable: false))
    }

    func testAllEqualTimestampsKeepInputOrder() throws {
        let records = (0..<500).map { LogRecord(timestamp: 7, observedTimestamp: 7, body: "line \($0)") }
        try checkRoundTrip(records, options: SegmentOptions(maxBlockRows: 100, durable: false))
        let dir = makeTemporaryDirectory(self)
        try SegmentWriter.write(records, to: dir + "/s.stsg", options: SegmentOptions(durable: false))
        XCTAssertEqual(try SegmentReader(path: dir + "/s.stsg").readAllRecords().map(\.body), records.map(\.body))
    }

    func testManyResourcesAndAttributes() throws {
        var rng = SeededRandom(seed: 77)
        var records: [LogRecord] = []
        for i in 0..<1500 {
            var resource = Resource()
            resource[ResourceKey.namespace] = "ns\(i % 7)"
            resource[ResourceKey.pod] = "pod-\(i % 211)"
            var attributes: [Attribute] = []
            for k in 0..<rng.int(0...30) { attributes.append(Attribute("attr.\(k * 3 % 31)", "Value-\(rng.int(0...5))")) }
            records.append(LogRecord(timestamp: Int64(rng.int(0...1_000_000)), observedTimestamp: 0, body: "b \(i % 13)",
                                     attributes: attributes, resource: resource))
        }
        try checkRoundTrip(records, options: SegmentOptions(maxBlockRows: 128, durable: false))
    }

    func testLongTokensAreNotIndexed() throws {
        let long = String(repeating: "q", count: SegmentFormat.maxTermLength + 1)
        let exact = String(repeating: "w", count: SegmentFormat.maxTermLength)
        let records = [LogRecord(timestamp: 1, observedTimestamp: 1, body: "\(long) \(exact) short")]
        try checkRoundTrip(records, options: SegmentOptions(durable: false))
        let dir = makeTemporaryDirectory(self)
        try SegmentWriter.write(records, to: dir + "/l.stsg", options: SegmentOptions(durable: false))
        let reader = try SegmentReader(path: dir + "/l.stsg")
        XCTAssertEqual(try reader.postings(term: long), [])
        XCTAssertEqual(try reader.postings(term: exact), [Posting(block: 0, rows: 1)])
    }

    func testSegmentRecordAPIAndPartialColumns() throws {
        let records = RecordFactory.records(200, seed: 5)
        let dir = makeTemporaryDirectory(self)
        let path = dir + "/p.stsg"
        try SegmentWriter.write(records.enumerated().map { SegmentRecord(record: $1, templateID: UInt32($0)) }, to: path,
                                options: SegmentOptions(maxBlockRows: 64, durable: false))
        let reader = try SegmentReader(path: path)
        let full = try reader.readBlock(1)
        let partial = try reader.readBlock(1, columns: [.observed, .body])
        XCTAssertEqual(partial.columns, [.observed, .timestamp, .body])
        XCTAssertEqual(partial.timestamps, full.timestamps)
        XCTAssertEqual(partial.observedTimestamps, full.observedTimestamps)
        XCTAssertTrue(partial.severities.isEmpty)
        XCTAssertTrue(partial.resourceIndexes.isEmpty)
        for row in 0..<partial.rowCount {
            XCTAssertEqual(partial.body(at: row), full.body(at: row))
            let r = partial.record(at: row)
            XCTAssertNil(r.severity)
            XCTAssertEqual(r.resource, Resource())
            XCTAssertEqual(r.attributes, [])
        }
        let onlyTemplates = try reader.readBlock(0, columns: .templateID)
        XCTAssertEqual(onlyTemplates.templateIDs.count, onlyTemplates.rowCount)
        XCTAssertTrue(onlyTemplates.bodyBytes.isEmpty)
    }

    func testPruningByTimeAndResource() throws {
        var records: [LogRecord] = []
        for pod in 0..<4 {
            var resource = Resource()
            resource[ResourceKey.pod] = "pod-\(pod)"
            for i in 0..<300 {
                records.append(LogRecord(timestamp: Int64(i * 1000), observedTimestamp: 0, body: "m", resource: resource))
            }
        }
        let dir = makeTemporaryDirectory(self)
        try SegmentWriter.write(records.shuffled(), to: dir + "/r.stsg", options: SegmentOptions(maxBlockRows: 100, durable: false))
        let reader = try SegmentReader(path: dir + "/r.stsg")
        XCTAssertEqual(reader.blocks.count, 12)
        let pod2 = reader.resourceIndexes { $0[ResourceKey.pod] == "pod-2" }
        XCTAssertEqual(pod2.count, 1)
        let blocks = reader.blocks(withResources: pod2)
        XCTAssertEqual(blocks.count, 3)
        for b in blocks { XCTAssertTrue(try reader.readBlock(b, columns: .resource).resourceIndexes.allSatisfy { Int($0) == pod2[0] }) }
        // 0...99_000 is the first block of each pod.
        XCTAssertEqual(reader.blocks(overlapping: 0, 99_000).count, 4)
        XCTAssertEqual(reader.blocks(overlapping: 299_001, .max), [])
        XCTAssertEqual(Set(reader.blocks(overlapping: 100_000, 100_000)).count, 4)
        XCTAssertEqual(try reader.count(term: "k8s.pod.name=pod-2"), 300)
        XCTAssertEqual(try reader.postings(term: "k8s.pod.name=pod-2").map(\.block), blocks)
    }

    func testOverwritingAnExistingSegmentIsAtomic() throws {
        let dir = makeTemporaryDirectory(self)
        let path = dir + "/a.stsg"
        try SegmentWriter.write(RecordFactory.records(10, seed: 1), to: path)
        try SegmentWriter.write(RecordFactory.records(20, seed: 2), to: path)
        XCTAssertEqual(try SegmentReader(path: path).info.rowCount, 20)
        XCTAssertThrowsStoreError(.io, containing: ["/nonexistent-dir/"]) {
            try SegmentWriter.write(RecordFactory.records(1, seed: 1), to: "/nonexistent-dir/x.stsg")
        }
        XCTAssertThrowsStoreError(.io) { _ = try SegmentReader(path: dir + "/missing.stsg") }
    }

    func testConcurrentReads() throws {
        let records = RecordFactory.records(2000, seed: 9)
        let dir = makeTemporaryDirectory(self)
        try SegmentWriter.write(records, to: dir + "/c.stsg", options: SegmentOptions(maxBlockRows: 100, durable: false))
        let reader = try SegmentReader(path: dir + "/c.stsg")
        let expected = try reader.readAllRecords()
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            do {
                var all: [LogRecord] = []
                for b in reader.blocks.indices { all += try reader.readBlock(b).records() }
                if all != expected { failures.increment() }
                _ = try reader.postings(prefix: "trace_id=")
            } catch {
                failures.increment()
            }
        }
        XCTAssertEqual(failures.value, 0)
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
