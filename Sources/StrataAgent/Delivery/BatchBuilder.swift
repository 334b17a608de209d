import StrataCore

/// Accumulates records into the next batch, in the format the sink ships.
protocol BatchBuilder: AnyObject {
    var recordCount: Int { get }
    var payloadBytes: Int { get }
    func append(_ record: LogRecord, source: Int)
    /// Appends a record of the reader (no severity, trace context or attributes) straight from
    /// its bytes: a body that is not valid UTF-8 is repaired (U+FFFD) and flagged
    /// `.invalidUTF8`. Returns false in that case. `resource` is called only when needed.
    /// `position` is the record's place in its file, which lets the collector drop a record it
    /// stored before the agent restarted (docs/WIRE.md, "Positions").
    func append(
        timestamp: Int64, observedTimestamp: Int64, stream: LogStream, flags: RecordFlags,
        body: UnsafeRawBufferPointer, source: Int, position: RecordPosition?, resource: () -> Resource
    ) -> Bool
    /// Produces the frame and starts a new batch. `source` identifies the record's resource
    /// (the file it came from), so the wire format writes each resource once per batch.
    func seal(positions: [FilePosition]) throws -> SealedBatch
}

/// Wire-format batches for the collector (docs/WIRE.md).
/// A class so the reader mutates it in place through the existential, rather than copying
/// its buffers on every call.
final class WireBatchBuilder: BatchBuilder {
    private var encoder = BatchEncoder()
    private let compressor: BatchCompressor

    init(codec: CompressionCodec, level: Int) throws {
        compressor = try BatchCompressor(codec: codec, level: level)
    }

    var recordCount: Int { encoder.recordCount }
    var payloadBytes: Int { encoder.payloadBytes }

    /// The resource index of the last source appended in this batch (most records come in runs
    /// from one file), saving the encoder's dictionary lookup.
    private var lastSource = -1
    private var lastResourceIndex = 0

    func append(_ record: LogRecord, source: Int) {
        let index = encoder.resourceIndex(source: source) { record.resource }
        encoder.append(record, resourceIndex: index)
    }

    func append(
        timestamp: Int64, observedTimestamp: Int64, stream: LogStream, flags: RecordFlags,
        body: UnsafeRawBufferPointer, source: Int, position: RecordPosition?, resource: () -> Resource
    ) -> Bool {
        if source != lastSource {
            lastResourceIndex = encoder.resourceIndex(source: source, resource: resource)
            lastSource = source
        }
        return encoder.append(
            timestamp: timestamp, observedTimestamp: observedTimestamp, stream: stream, flags: flags, body: body,
            resourceIndex: lastResourceIndex, position: position)
    }

    func seal(positions: [FilePosition]) throws -> SealedBatch {
        let id = BatchID.random()
        let frame = encoder.recordCount == 0 ? [] : try encoder.encode(id: id, compressor: compressor)
        let batch = SealedBatch(
            id: id, frame: frame, recordCount: encoder.recordCount, payloadBytes: encoder.payloadBytes,
            positions: positions)
        encoder.reset()
        lastSource = -1
        return batch
    }
}

/// One JSON object per line, for `--sink stdout`.
final class JSONLinesBatchBuilder: BatchBuilder {
    private var json = JSONWriter(capacity: 1 << 20)
    private(set) var recordCount = 0
    var payloadBytes: Int { json.bytes.count }

    func append(
        timestamp: Int64, observedTimestamp: Int64, stream: LogStream, flags: RecordFlags,
        body: UnsafeRawBufferPointer, source: Int, position: RecordPosition?, resource: () -> Resource
    ) -> Bool {
        // JSON lines go to stdout, where no receiver deduplicates: the position is not written.
        var flags = flags
        let text: String
        var valid = true
        if let decoded = String(validating: body, as: UTF8.self) {
            text = decoded
        } else {
            text = String(decoding: body, as: UTF8.self)
            flags.insert(.invalidUTF8)
            valid = false
        }
        append(
            LogRecord(
                timestamp: timestamp, observedTimestamp: observedTimestamp, stream: stream, body: text,
                resource: resource(), flags: flags),
            source: source)
        return valid
    }

    func append(_ record: LogRecord, source: Int) {
        record.writeJSON(into: &json)
        json.raw("\n")
        recordCount += 1
    }

    func seal(positions: [FilePosition]) throws -> SealedBatch {
        let batch = SealedBatch(
            id: BatchID.random(), frame: json.bytes, recordCount: recordCount, payloadBytes: json.bytes.count,
            positions: positions)
        json.bytes.removeAll(keepingCapacity: true)
        recordCount = 0
        return batch
    }
}
