import StrataCore

/// One block's rows split into columns, then serialized one chunk per column (docs/FORMAT.md,
/// "Blocks"). The writer appends rows in stored order; `encodedColumns()` gives the
/// uncompressed chunk payloads in `ColumnID` order, nil for a column the block leaves out.
struct BlockColumns {
    private(set) var rowCount = 0
    private var timestamps: [Int64] = []
    private var observed: [Int64] = []
    private var resources: [UInt32] = []
    private var streams: [Int64] = []
    private var severities: [Int64] = []
    private var flags: [Int64] = []
    private var traceIDs: [TraceID?] = []
    private var spanIDs: [SpanID?] = []
    private var templates: [Int64] = []
    private var bodyLengths: [Int64] = []
    private var bodies: [UInt8] = []
    private var attributes: [[Attribute]] = []
    private var anyAttributes = false

    private(set) var minTime = Int64.max
    private(set) var maxTime = Int64.min
    private(set) var minResource = UInt32.max
    private(set) var maxResource = UInt32.min

    /// Sum of the UTF-8 body bytes of the rows so far.
    var bodyByteCount: Int { bodies.count }

    init(rowCapacity: Int, bodyBytes: Int) {
        timestamps.reserveCapacity(rowCapacity)
        observed.reserveCapacity(rowCapacity)
        resources.reserveCapacity(rowCapacity)
        streams.reserveCapacity(rowCapacity)
        severities.reserveCapacity(rowCapacity)
        flags.reserveCapacity(rowCapacity)
        traceIDs.reserveCapacity(rowCapacity)
        spanIDs.reserveCapacity(rowCapacity)
        templates.reserveCapacity(rowCapacity)
        bodyLengths.reserveCapacity(rowCapacity)
        attributes.reserveCapacity(rowCapacity)
        bodies.reserveCapacity(bodyBytes)
    }

    /// Adds a row; `body` is the record's body as UTF-8 (the caller holds it open for the index too).
    @inline(__always)
    mutating func append(_ record: LogRecord, resource: UInt32, template: UInt32, body: UnsafeRawBufferPointer) {
        let timestamp = record.timestamp
        timestamps.append(timestamp)
        observed.append(record.observedTimestamp)
        resources.append(resource)
        streams.append(Int64(record.stream.rawValue))
        severities.append(Int64(record.severity?.rawValue ?? 0))
        flags.append(Int64(record.flags.rawValue))
        traceIDs.append(record.traceID)
        spanIDs.append(record.spanID)
        templates.append(Int64(template))
        bodies.append(contentsOf: body)
        bodyLengths.append(Int64(body.count))
        if !record.attributes.isEmpty { anyAttributes = true }
        attributes.append(record.attributes)
        if timestamp < minTime { minTime = timestamp }
        if timestamp > maxTime { maxTime = timestamp }
        if resource < minResource { minResource = resource }
        if resource > maxResource { maxResource = resource }
        rowCount += 1
    }

    /// The uncompressed chunk of each column, indexed by `ColumnID`.
    func encodedColumns() -> [[UInt8]?] {
        var payloads = [[UInt8]?](repeating: nil, count: SegmentFormat.columnCount)
        payloads[ColumnID.timestamp] = ColumnCodecs.encodeTimestamps(timestamps)
        payloads[ColumnID.observed] = ColumnCodecs.encodeObserved(observed, timestamps: timestamps)
        payloads[ColumnID.resource] = ColumnCodecs.encodeResources(resources)
        payloads[ColumnID.stream] = ColumnCodecs.encodeSmallInts(streams)
        payloads[ColumnID.severity] = ColumnCodecs.encodeSmallInts(severities)
        payloads[ColumnID.flags] = ColumnCodecs.encodeSmallInts(flags)
        payloads[ColumnID.traceID] = ColumnCodecs.encodeTraceIDs(traceIDs)
        payloads[ColumnID.spanID] = ColumnCodecs.encodeSpanIDs(spanIDs)
        payloads[ColumnID.templateID] = ColumnCodecs.encodeSmallInts(templates)
        payloads[ColumnID.body] = encodedBodies()
        payloads[ColumnID.attributes] = anyAttributes ? ColumnCodecs.encodeAttributes(attributes) : nil
        return payloads
    }

    /// A block whose bodies are all empty stores no body chunk.
    private func encodedBodies() -> [UInt8]? {
        if bodies.isEmpty { return nil }
        var out = [UInt8]()
        out.reserveCapacity(bodies.count + 2 * rowCount + 16)
        bodies.withUnsafeBytes { StringArray.encode(lengths: bodyLengths, bytes: $0, into: &out) }
        return out
    }
}
