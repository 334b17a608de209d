import StrataCore
import Testing

@testable import StrataStore

/// Times at the ends of the nanosecond scale (docs/FORMAT.md, "Accepted time range"): the store
/// clamps what lies too far ahead and computes with the rest without trapping.
@Suite struct TimeRangeTests {
    let hour = ScratchStore.hour
    let base = ScratchStore.base

    func record(_ body: String, at timestamp: Int64, observed: Int64) -> LogRecord {
        LogRecord(timestamp: timestamp, observedTimestamp: observed, body: body)
    }

    @Test func stampsBeyondTheSkewTakeTheObservedTimeAndAFlag() throws {
        let scratch = ScratchStore()
        let store = try scratch.open(
            ScratchStore.options {
                $0.maxFutureSkewNanos = 24 * hour
                $0.retentionNanos = 7 * 24 * hour
            })
        let farFuture = try #require(RFC3339Parser.parse("2262-04-11T23:30:00Z"))
        let result = try store.ingest(
            batchID: nil,
            records: [
                record("far", at: farFuture, observed: base), record("max", at: .max, observed: base),
                record("soon", at: base + 23 * hour, observed: base), record("observed ahead too", at: .max, observed: .max),
                record("observed long ago", at: .max, observed: 0),
            ],
            now: base)
        #expect(result == .stored(records: 5, tooOld: 0), "never dropped")
        let stored = Dictionary(uniqueKeysWithValues: store.snapshot().head.map { ($0.body, $0) })
        #expect(stored["far"]?.timestamp == base && stored["far"]?.flags == .futureTimestamp)
        #expect(stored["max"]?.timestamp == base && stored["max"]?.flags == .futureTimestamp)
        #expect(stored["soon"]?.timestamp == base + 23 * hour && stored["soon"]?.flags == [])
        #expect(stored["observed ahead too"]?.timestamp == base && stored["observed ahead too"]?.flags == .futureTimestamp)
        #expect(stored["observed long ago"]?.timestamp == base && stored["observed long ago"]?.flags == .futureTimestamp)
        #expect(RecordFlags.futureTimestamp.names == ["future_timestamp"])
    }

    @Test func partitionsRetentionAndCompactionSaturateAtTheEndsOfTheScale() throws {
        let scratch = ScratchStore()
        // The widest settings: nothing is clamped or refused, so the extremes reach the segments.
        let store = try scratch.open(
            ScratchStore.options {
                $0.maxFutureSkewNanos = .max
                $0.retentionNanos = .max
                $0.compaction.settleNanos = .max
                $0.compaction.minInputs = 2
            })
        #expect(LogStore.partition(of: .max) > .max - hour)
        #expect(LogStore.partition(of: .min) > .min)
        #expect(LogStore.partition(of: -1) == -hour)
        for round in 0..<2 {
            _ = try store.ingest(
                batchID: nil, records: [record("late \(round)", at: .max - Int64(round), observed: base)], now: base)
            _ = try store.ingest(batchID: nil, records: [record("early \(round)", at: .min + Int64(round), observed: base)], now: .min)
            try store.flush()
        }
        while try store.compactOnce(now: .max) {}
        try store.applyRetention(now: .min)
        #expect(try ScratchStore.bodies(store) == ["early 0", "early 1", "late 0", "late 1"])
        // Seen from the end of the scale, the hours of 1677 are past even the longest retention.
        try store.applyRetention(now: .max)
        #expect(try ScratchStore.bodies(store) == ["late 0", "late 1"])
    }
}
