/// Why the collector refused a batch. Each case carries the message for the sender; the HTTP
/// front end maps cases to status codes in one place (`IngestEndpoint.response(for:)`).
public enum IngestRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request body is over the configured limit (`max_body_bytes`).
    case bodyTooLarge(limit: Int)
    /// The body expands beyond the decoded limit (`max_decoded_bytes`) when decompressed.
    case decodedTooLarge(String)
    /// One record's body is over `max_record_bytes`.
    case recordTooLarge(String)
    /// The body is in no format the collector reads.
    case unsupportedMediaType(String)
    /// The body is compressed with an encoding the collector does not read.
    case unsupportedEncoding(String)
    /// A wire-format frame that does not decode (checksum, truncation, version).
    case malformedBatch(String)
    /// A compressed body that does not decompress.
    case malformedBody(String)
    /// A record that does not decode (NDJSON: bad JSON or a bad field on a line).
    case malformedRecord(String)
    /// The in-memory head is full while it is flushed.
    case headFull(String)
    /// Requests in flight hold the ingest memory budget (`ingest.memory_budget`).
    case ingestBusy(String)
    /// The disk budget or the free-space reserve is reached.
    case diskFull(String)
    /// The store could not make the batch durable.
    case storageFailed(String)

    /// The stable code in the answer's `code` field and the metrics' `reason` label.
    public var code: String {
        switch self {
        case .bodyTooLarge, .decodedTooLarge: return "body_too_large"
        case .recordTooLarge: return "record_too_large"
        case .unsupportedMediaType: return "unsupported_media_type"
        case .unsupportedEncoding: return "unsupported_encoding"
        case .malformedBatch: return "malformed_batch"
        case .malformedBody: return "malformed_body"
        case .malformedRecord: return "malformed_record"
        case .headFull: return "head_full"
        case .ingestBusy: return "ingest_busy"
        case .diskFull: return "disk_full"
        case .storageFailed: return "storage_error"
        }
    }

    public var message: String {
        switch self {
        case .bodyTooLarge(let limit): return "request body exceeds the \(limit)-byte limit"
        case .decodedTooLarge(let message), .recordTooLarge(let message), .unsupportedMediaType(let message),
            .unsupportedEncoding(let message), .malformedBatch(let message), .malformedBody(let message),
            .malformedRecord(let message), .headFull(let message), .ingestBusy(let message), .diskFull(let message),
            .storageFailed(let message):
            return message
        }
    }

    /// How soon a retry may succeed, for refusals that are about the collector's state rather
    /// than the batch: the head drains within a second, and so do the requests holding the ingest
    /// memory budget (a batch within the limits is decoded and stored in well under a second);
    /// retention or compaction frees disk space within seconds to minutes.
    public var retryAfterSeconds: Int? {
        switch self {
        case .headFull, .ingestBusy: return 1
        case .diskFull: return 30
        case .storageFailed: return 5
        default: return nil
        }
    }

    public var description: String { "\(code): \(message)" }
}
