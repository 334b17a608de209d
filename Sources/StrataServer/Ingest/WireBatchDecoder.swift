import StrataCore

/// The agent's wire format (docs/WIRE.md): one frame, compressed and checksummed by itself.
struct WireBatchDecoder: IngestDecoder {
    func decode(_ request: IngestRequest, limits: IngestLimits) throws(IngestRejection) -> IngestBatch {
        // The header declares the payload's size and the decompressor never produces more, so a
        // frame is refused on its header alone when it could not fit; the checksum is only
        // known after expanding, which is why the expansion itself is bounded and claimed.
        let header: WireBatch.Header
        do {
            header = try WireBatch.header(of: request.body)
        } catch let error as WireError {
            throw .malformedBatch(error.description)
        } catch {
            throw .malformedBatch("\(error)")
        }
        guard header.payloadBytes <= limits.maxDecodedBytes else {
            throw .decodedTooLarge(
                "batch declares a \(header.payloadBytes)-byte payload; the limit is \(limits.maxDecodedBytes) bytes "
                    + "(ingest.max_decoded_size): send smaller batches (agent: batch.max_bytes)")
        }
        try IngestMemory.claimRecords(forText: header.payloadBytes, in: request.memory)
        let expansion = IngestMemory.Expansion(memory: request.memory)
        let batch: WireBatch
        do {
            batch = try WireBatch.decode(request.body, admit: expansion.admit)
        } catch let error as CompressionError where error.kind == .outputRefused {
            throw expansion.rejection()
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
