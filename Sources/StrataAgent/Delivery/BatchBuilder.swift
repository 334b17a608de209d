import StrataCore

/// Accumulates records into the next batch, in the format the sink ships.
protocol BatchBuilder: AnyObject {
    var recordCount: Int { get }
    var payloadBytes: Int { get }
    func append(_ record: LogRecord, source: Int)
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

    func append(_ record: LogRecord, source: Int) {
        let index = encoder.resourceIndex(source: source) { record.resource }
        encoder.append(record, resourceIndex: index)
    }

    func seal(positions: [FilePosition]) throws -> SealedBatch {
        let id = BatchID.random()
        let frame = encoder.recordCount == 0 ? [] : try encoder.encode(id: id, compressor: compressor)
        let batch = SealedBatch(
            id: id, frame: frame, recordCount: encoder.recordCount, payloadBytes: encoder.payloadBytes,
            positions: positions)
        encoder.reset()
        return batch
    }
}

/// One JSON object per line, for `--sink stdout`.
final class JSONLinesBatchBuilder: BatchBuilder {
    private var json = JSONWriter(capacity: 1 << 20)
    private(set) var recordCount = 0
    var payloadBytes: Int { json.bytes.count }

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
