import StrataCore

/// The agent's wire format (docs/WIRE.md): one frame, compressed and checksummed by itself.
struct WireBatchDecoder: IngestDecoder {
    func decode(_ request: IngestRequest, limits: IngestLimits) throws(IngestRejection) -> IngestBatch {
        let batch: WireBatch
        do {
            batch = try WireBatch.decode(request.body)
        } catch let error as WireError {
            throw .malformedBatch(error.description)
        } catch {
            throw .malformedBatch("\(error)")
        }
        if let index = batch.records.firstIndex(where: { $0.body.utf8.count > limits.maxRecordBytes }) {
            throw .recordTooLarge(
                "record \(index) has a \(batch.records[index].body.utf8.count)-byte body; the limit is \(limits.maxRecordBytes)")
        }
        return IngestBatch(
            id: batch.id, records: batch.records, positions: batch.positions, receivedBytes: request.body.count)
    }
}
