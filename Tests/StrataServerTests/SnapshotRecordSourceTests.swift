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
