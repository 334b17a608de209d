import StrataCore

/// The decoded columns of one block. Columns that were not requested are empty arrays, and the
/// per-row accessors return the column's default for them (timestamp 0, `.stdout`, no severity,
/// no flags, no ids, template 0, empty body, no attributes, an empty resource).
public struct DecodedBlock: Sendable {
    /// Index of the block in its segment.
    public let index: Int
    public let rowCount: Int
    /// The columns this value holds.
    public let columns: ColumnSet
    /// The segment's resource table (`resourceIndexes` point into it).
    public let resources: [Resource]

    public internal(set) var timestamps: [Int64] = []
    public internal(set) var observedTimestamps: [Int64] = []
    public internal(set) var resourceIndexes: [UInt32] = []
    public internal(set) var streams: [LogStream] = []
    public internal(set) var severities: [Severity?] = []
    public internal(set) var flags: [RecordFlags] = []
    public internal(set) var traceIDs: [TraceID?] = []
    public internal(set) var spanIDs: [SpanID?] = []
    public internal(set) var templateIDs: [UInt32] = []
    public internal(set) var attributeColumns: AttributeColumns
    /// Body bytes of all rows back to back; row `i` is `bodyBytes[bodyOffsets[i] ..< bodyOffsets[i+1]]`.
    public internal(set) var bodyBytes: [UInt8] = []
    public internal(set) var bodyOffsets: [Int] = []

    init(index: Int, rowCount: Int, columns: ColumnSet, resources: [Resource]) {
        self.index = index
        self.rowCount = rowCount
        self.columns = columns
        self.resources = resources
        self.attributeColumns = .empty(rows: 0)
    }

    @inline(__always)
    public func timestamp(at row: Int) -> Int64 { timestamps.isEmpty ? 0 : timestamps[row] }

    public func resource(at row: Int) -> Resource {
        resourceIndexes.isEmpty ? Resource() : resources[Int(resourceIndexes[row])]
    }

    /// The body of `row` as UTF-8 bytes (without copying).
    @inline(__always)
    public func withBody<R>(at row: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if bodyOffsets.isEmpty { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try bodyBytes.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[bodyOffsets[row]..<bodyOffsets[row + 1]]))
        }
    }

    public func body(at row: Int) -> String {
        withBody(at: row) { String(decoding: $0, as: UTF8.self) }
    }

    public func attributes(at row: Int) -> [Attribute] { attributeColumns.attributes(at: row) }

    public func attributeValue(forKey key: String, at row: Int) -> String? {
        attributeColumns.value(forKey: key, at: row)
    }

    public func templateID(at row: Int) -> UInt32 { templateIDs.isEmpty ? 0 : templateIDs[row] }

    /// The record of `row` (defaults for columns not loaded).
    public func record(at row: Int) -> LogRecord {
        LogRecord(
            timestamp: timestamp(at: row),
            observedTimestamp: observedTimestamps.isEmpty ? timestamp(at: row) : observedTimestamps[row],
            stream: streams.isEmpty ? .stdout : streams[row],
            severity: severities.isEmpty ? nil : severities[row],
            body: body(at: row),
            traceID: traceIDs.isEmpty ? nil : traceIDs[row],
            spanID: spanIDs.isEmpty ? nil : spanIDs[row],
            attributes: attributes(at: row),
            resource: resource(at: row),
            flags: flags.isEmpty ? [] : flags[row])
    }

    /// Every record of the block, in stored order.
    public func records() -> [LogRecord] { (0..<rowCount).map(record(at:)) }
}
