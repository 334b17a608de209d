import Foundation
import Logging
import StrataCore
import StrataDiagnosis
import StrataStore
import Testing

@testable import StrataServer

/// Diagnosis reading a real store: one record flushed into a segment, one left in the head.
@Test func snapshotSourcesPreferTheRuntimeClock() throws {
    let second: Int64 = 1_000_000_000
    let t0: Int64 = 1_700_000_000 * second
    func record(_ time: Int64, _ body: String) -> LogRecord {
        var resource = Resource()
        resource[ResourceKey.namespace] = "shop"
        resource[ResourceKey.pod] = "api-5f6c8d7b9d-k2x7p"
        resource[ResourceKey.container] = "main"
        resource[ResourceKey.restartCount] = "0"
        return LogRecord(timestamp: time, observedTimestamp: time, severity: .info, body: body, resource: resource)
    }
    var shifted = record(t0 + 8 * 3600 * second, "app stamped in local time")
    shifted.attributes = [Attribute(RecordClock.runtimeTimeKey, RFC3339.format(nanos: t0 + 5 * second))]
    let plain = record(t0 + 10 * second, "no shift")
    let outside = record(t0 + 120 * second, "outside")
    let range = TimeRange(from: t0, to: t0 + 60 * second)

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strata-diagnosis-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try LogStore(directory: directory, logger: Logger(label: "test"))
    _ = try store.ingest(batchID: nil, records: [shifted, outside], now: t0)
    try store.flush()
    _ = try store.ingest(batchID: nil, records: [plain], now: t0)
    let stored = try SnapshotRecordSource(snapshot: store.snapshot()).records(in: range)
    #expect(Set(stored.map(\.body)) == ["app stamped in local time", "no shift"])
    #expect(stored.first { $0.body == "app stamped in local time" }?.timestamp == t0 + 5 * second)
    #expect(try SnapshotRecordSource(snapshot: store.snapshot(), clock: .stored).records(in: range).map(\.body) == ["no shift"])
}

/// A diagnosis reads a snapshot a block at a time (docs/RELIABILITY.md, "Memory budget"): no
/// chunk is larger than a block, and together they are what `records(in:)` returns, in order.
@Test func snapshotSourcesHandOutOneBlockAtATime() throws {
    let second: Int64 = 1_000_000_000
    let t0: Int64 = 1_700_000_000 * second
    var resource = Resource()
    resource[ResourceKey.namespace] = "shop"
    resource[ResourceKey.pod] = "api-5f6c8d7b9d-k2x7p"
    let records = (0..<7000).map { i in
        LogRecord(timestamp: t0 + Int64(i) * 1_000_000, observedTimestamp: t0, severity: .info, body: "line \(i)", resource: resource)
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strata-chunks-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try LogStore(directory: directory, logger: Logger(label: "test"))
    _ = try store.ingest(batchID: nil, records: Array(records[..<4500]), now: t0)
    try store.flush()
    _ = try store.ingest(batchID: nil, records: Array(records[4500...]), now: t0)
    let source = SnapshotRecordSource(snapshot: store.snapshot(), clock: .stored)
    let range = TimeRange(from: t0 + 100 * 1_000_000, to: t0 + 6900 * 1_000_000)
    var chunks: [[LogRecord]] = []
    try source.forEachChunk(in: range) { chunks.append($0) }
    #expect(chunks.count > 3)
    #expect(chunks.allSatisfy { !$0.isEmpty && $0.count <= SegmentOptions().maxBlockRows })
    #expect(chunks.flatMap { $0 }.map(\.body) == (try source.records(in: range)).map(\.body))
    #expect(chunks.reduce(0) { $0 + $1.count } == 6800)
}
