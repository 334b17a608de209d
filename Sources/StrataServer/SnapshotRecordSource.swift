import StrataCore
import StrataDiagnosis
import StrataStore

/// Reads a store snapshot directly: the segments' blocks whose time range overlaps, then the
/// in-memory head. Blocks are pruned by their time bounds, so a two-minute window in a day of
/// data decodes only the blocks that hold those minutes.
public struct SnapshotRecordSource: RecordSource {
    public var snapshot: LogStore.Snapshot
    public var clock: RecordClock

    public init(snapshot: LogStore.Snapshot, clock: RecordClock = .runtime()) {
        self.snapshot = snapshot
        self.clock = clock
    }

    /// The columns a diagnosis needs (the observed time is left on disk; attributes hold the
    /// runtime time when the collector replaced it).
    static let columns: ColumnSet = [.timestamp, .resource, .stream, .severity, .flags, .traceID, .spanID, .body, .attributes]

    public func records(in range: TimeRange) throws -> [LogRecord] {
        var result: [LogRecord] = []
        try forEachChunk(in: range) { result.append(contentsOf: $0) }
        return result
    }

    /// One chunk per segment block (about 2,000 rows), then the head in chunks of the same
    /// size: only one block's records are in memory at a time.
    public func forEachChunk(in range: TimeRange, _ body: ([LogRecord]) throws -> Void) throws {
        let margin = clock.margin
        var chunk: [LogRecord] = []
        for segment in snapshot.segments {
            for index in segment.blocks(overlapping: range.from.subtractingSaturated(margin), range.to.subtractingSaturated(1).addingSaturated(margin)) {
                let block: DecodedBlock
                do {
                    block = try segment.readBlock(index, columns: Self.columns)
                } catch {
                    throw DiagnosisError.unreadableSegment(path: segment.path, reason: "\(error)")
                }
                chunk.removeAll(keepingCapacity: true)
                for row in 0..<block.rowCount {
                    let stored = block.timestamp(at: row)
                    if margin == 0 {
                        if range.contains(stored) { chunk.append(block.record(at: row)) }
                        continue
                    }
                    let time = clock.time(stored: stored, runtime: block.attributeValue(forKey: RecordClock.runtimeTimeKey, at: row))
                    guard range.contains(time) else { continue }
                    var record = block.record(at: row)
                    record.timestamp = time
                    chunk.append(record)
                }
                if !chunk.isEmpty { try body(chunk) }
            }
        }
        chunk.removeAll(keepingCapacity: true)
        for record in snapshot.head {
            let time = clock.time(of: record)
            guard range.contains(time) else { continue }
            var copy = record
            copy.timestamp = time
            chunk.append(copy)
            if chunk.count >= Self.headChunk {
                try body(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty { try body(chunk) }
    }

    /// Head records per chunk: a segment block's default row limit, so chunks are alike.
    static let headChunk = SegmentOptions().maxBlockRows
}
