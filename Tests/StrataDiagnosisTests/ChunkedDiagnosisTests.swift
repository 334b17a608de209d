import Foundation
import StrataCore
import StrataDiagnosis
import StrataSampleData
import StrataTestSupport
import Testing

/// A source that hands its records a few at a time, as a store snapshot does per block.
private struct ChunkedSource: RecordSource {
    var inner: InMemoryRecordSource
    var size: Int

    func records(in range: TimeRange) throws -> [LogRecord] { try inner.records(in: range) }

    func forEachChunk(in range: TimeRange, _ body: ([LogRecord]) throws -> Void) throws {
        let all = try inner.records(in: range)
        var start = 0
        while start < all.count {
            try body(Array(all[start..<min(all.count, start + size)]))
            start += size
        }
    }
}

/// A diagnosis aggregates a source chunk by chunk instead of loading every record
/// (docs/RELIABILITY.md, "Memory budget"): the report must be the one the whole arrays give.
@Test func aDiagnosisFedInChunksEqualsOneFedEveryRecordAtOnce() throws {
    var spec = IncidentScenarioSpec()
    spec.seed = 17
    spec.faultWorkload = IncidentScenarioSpec.faultableWorkloads[0]
    spec.faultKind = .exceptions
    spec.requestsPerSecond = 1.5
    spec.baselineSeconds = 600
    spec.faultSeconds = 180
    spec.recoverySeconds = 60
    let directory = NSTemporaryDirectory() + "strata-chunked-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let incident = try IncidentScenarioGenerator.generate(spec, into: directory, collectRecords: true)
    let window = TimeRange(from: incident.scenario.window.fromNs, to: incident.scenario.window.toNs)
    let baseline = TimeRange(from: incident.scenario.baseline.fromNs, to: incident.scenario.baseline.toNs)
    let memory = InMemoryRecordSource(records: incident.records.map(\.logRecord))

    let whole = Diagnoser(templater: DiagnosisTemplater.make()).diagnose(
        window: window, windowRecords: try memory.records(in: window), baseline: baseline,
        baselineRecords: try memory.records(in: baseline))
    #expect(!whole.suspects.isEmpty, "the scenario must give the comparison something to compare")
    for size in [1, 97, 2048] {
        var chunked = try Diagnoser(templater: DiagnosisTemplater.make()).diagnose(
            window: window, baseline: baseline, source: ChunkedSource(inner: memory, size: size))
        chunked.generatedAt = whole.generatedAt
        #expect(chunked.markdown() == whole.markdown(), "chunks of \(size)")
        #expect(chunked.records == whole.records)
    }
}
