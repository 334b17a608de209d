import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import StrataCore

/// The HTTP side of ingest: reads the body within the limit, hands it to a protocol decoder and
/// the result to `IngestPipeline`, and turns the outcome into an answer. Every ingest route goes
/// through `respond`, so a refusal gets the same status, code and headers whatever the protocol.
struct IngestEndpoint: Sendable {
    let pipeline: IngestPipeline
    let limits: IngestLimits
    /// Bytes all ingest requests may hold at once (`ingest.memory_budget`).
    let budget: IngestBudget

    /// `POST /api/v1/ingest`: the agent's wire format (recognised by its magic whatever the
    /// headers say) or NDJSON (docs/API.md).
    func ingest(_ request: Request, context: CollectorRequestContext) async -> Response {
        await respond(to: request, context: context) { (body) throws(IngestRejection) -> any IngestDecoder in
            if body.starts(with: WireFormat.magic) { return WireBatchDecoder() }
            let type = (request.headers[.contentType] ?? "").lowercased()
            guard type.isEmpty || type.contains("json") else {
                throw IngestRejection.unsupportedMediaType("expected \(WireFormat.contentType) or application/x-ndjson, got '\(type)'")
            }
            return NDJSONDecoder()
        }
    }

    /// Decodes with the decoder `choose` picks for the body, stores, and answers.
    func respond(
        to request: Request, context: CollectorRequestContext,
        choose: ([UInt8]) throws(IngestRejection) -> any IngestDecoder
    ) async -> Response {
        // Everything this request holds is claimed from the budget before it is allocated and
        // given back when the answer is ready (the records then belong to the head).
        let memory = budget.lease()
        defer { memory.release() }
        let body: [UInt8]
        do {
            body = try await Self.collect(
                request.body, declaredLength: request.headers[.contentLength].flatMap { Int($0) }, limit: limits.maxBodyBytes,
                memory: memory)
        } catch let rejection as IngestRejection {
            return refuse(rejection)
        } catch let broken as HTTPParserError {
            return ErrorAnswer.response(status: 400, code: "bad_request", message: "the request body is not valid HTTP/1.1 (\(broken)); resend it whole")
        } catch {
            // The connection broke or was closed (http.body_timeout) before the body ended:
            // nothing about the batch was refused, and no client is left to read this.
            return ErrorAnswer.response(status: 408, code: "request_timeout", message: "the request body did not arrive whole: \(error)")
        }
        let decoded = IngestRequest(
            body: body, contentEncoding: request.headers[.contentEncoding]?.lowercased(), batchID: request.headers[.strataBatchID],
            memory: memory)
        let batch: IngestBatch
        do throws(IngestRejection) {
            batch = try choose(decoded.body).decode(decoded, limits: limits)
        } catch {
            return refuse(error)
        }
        do throws(IngestRejection) {
            return Self.response(for: try pipeline.ingest(batch, from: context.caller))
        } catch {
            // The pipeline counted it.
            return Self.response(for: error)
        }
    }

    /// Reads a body into one array no larger than `limit`, claiming its buffer from `memory`
    /// before each allocation: all of a declared `Content-Length` at once (a body over the limit
    /// is refused before a byte is read), a chunked body as its buffer doubles.
    /// Throws an `IngestRejection`, or what reading the body threw (a broken chunked body, a
    /// connection closed by `http.body_timeout`), which `respond` answers as such.
    static func collect(
        _ body: RequestBody, declaredLength: Int?, limit: Int, memory: IngestBudget.Lease
    ) async throws -> [UInt8] {
        if let declaredLength, declaredLength > limit { throw IngestRejection.bodyTooLarge(limit: limit) }
        let buffer = IngestMemory.Expansion(memory: memory)
        var bytes: [UInt8] = []
        if let declaredLength, declaredLength > 0 {
            if let admit = buffer.admit, !admit(declaredLength) { throw buffer.rejection(reading: declaredLength) }
            bytes.reserveCapacity(declaredLength)
        }
        for try await chunk in body {
            let needed = bytes.count + chunk.readableBytes
            guard needed <= limit else { throw IngestRejection.bodyTooLarge(limit: limit) }
            if needed > bytes.capacity {
                let grown = min(limit, max(needed, bytes.capacity * 2, 64 * 1024))
                // While the bytes move, the old buffer and the new one are both held.
                if let admit = buffer.admit, !admit(bytes.capacity + grown) { throw buffer.rejection(reading: grown) }
                var larger: [UInt8] = []
                larger.reserveCapacity(grown)
                larger.append(contentsOf: bytes)
                bytes = larger
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }

    private func refuse(_ rejection: IngestRejection) -> Response {
        pipeline.countRefusal(reason: rejection.code)
        return Self.response(for: rejection)
    }

    /// The one place a refusal becomes an HTTP status.
    static func response(for rejection: IngestRejection) -> Response {
        let status: Int
        switch rejection {
        case .bodyTooLarge, .decodedTooLarge, .recordTooLarge: status = 413
        case .unsupportedMediaType, .unsupportedEncoding: status = 415
        case .malformedBatch, .malformedBody, .malformedRecord: status = 400
        case .headFull, .ingestBusy: status = 429
        case .diskFull, .storageFailed: status = 503
        }
        var response = ErrorAnswer.response(status: status, code: rejection.code, message: rejection.message)
        if let seconds = rejection.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    /// `{"batch_id": ..., "accepted": N, "duplicate": false, "too_old": N, "duplicate_records": N, "dropped": N}`.
    static func response(for acknowledgement: IngestAcknowledgement) -> Response {
        var json = JSONWriter()
        json.raw("{\"batch_id\":")
        if let id = acknowledgement.batchID { json.string(id.description) } else { json.raw("null") }
        switch acknowledgement.outcome {
        case .duplicate:
            json.raw(",\"accepted\":0,\"duplicate\":true")
        case .stored(let accepted, let tooOld, let duplicateRecords):
            json.raw(",\"accepted\":")
            json.integer(accepted)
            json.raw(",\"duplicate\":false,\"too_old\":")
            json.integer(tooOld)
            json.raw(",\"duplicate_records\":")
            json.integer(duplicateRecords)
        }
        json.raw(",\"dropped\":")
        json.integer(acknowledgement.dropped)
        json.raw("}\n")
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
}

extension HTTPField.Name {
    static let strataBatchID = HTTPField.Name("X-Strata-Batch-Id")!
}
