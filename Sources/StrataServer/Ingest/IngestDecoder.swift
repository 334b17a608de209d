import StrataCore

/// The size limits every decoder enforces (`CollectorConfiguration`).
public struct IngestLimits: Sendable {
    public var maxBodyBytes: Int
    public var maxDecodedBytes: Int
    public var maxRecordBytes: Int

    public init(maxBodyBytes: Int, maxDecodedBytes: Int, maxRecordBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxDecodedBytes = maxDecodedBytes
        self.maxRecordBytes = maxRecordBytes
    }
}

/// What a decoder may need from the request besides its body, as plain values (no HTTP types).
public struct IngestRequest: Sendable {
    public var body: [UInt8]
    /// `Content-Encoding`, lowercased; nil when absent.
    public var contentEncoding: String?
    /// A batch id the sender gave outside the body (`X-Strata-Batch-Id`).
    public var batchID: String?

    public init(body: [UInt8], contentEncoding: String?, batchID: String?) {
        self.body = body
        self.contentEncoding = contentEncoding
        self.batchID = batchID
    }
}

/// Turns the body of one protocol into records for `IngestPipeline`. A new protocol (Loki push,
/// Elasticsearch bulk, OTLP) is one more conforming type in this folder; its route reads the
/// body and hands both to `IngestEndpoint` (docs/ARCHITECTURE.md, "StrataServer").
public protocol IngestDecoder: Sendable {
    func decode(_ request: IngestRequest, limits: IngestLimits) throws(IngestRejection) -> IngestBatch
}

/// `Content-Encoding` of bodies that do not compress themselves (the wire format does).
enum BodyEncoding {
    static func decode(_ body: [UInt8], encoding: String?, limits: IngestLimits) throws(IngestRejection) -> [UInt8] {
        let encoding = encoding ?? "identity"
        do {
            switch encoding {
            case "identity", "":
                return body
            case "zstd":
                return try CompressionCodec.zstd.decompress(body, maxOutputSize: limits.maxDecodedBytes)
            case "lz4":
                return try CompressionCodec.lz4.decompress(body, maxOutputSize: limits.maxDecodedBytes)
            case "gzip", "x-gzip", "deflate":
                return try Gzip.decompress(body, maxOutputSize: limits.maxDecodedBytes)
            default:
                throw IngestRejection.unsupportedEncoding(
                    "Content-Encoding '\(encoding)' is not supported (use zstd, gzip or identity)")
            }
        } catch let rejection as IngestRejection {
            throw rejection
        } catch let error as CompressionError {
            throw error.kind == .outputLimitExceeded ? .decodedTooLarge(error.message) : .malformedBody(error.message)
        } catch let error as GzipError {
            throw error.kind == .outputLimitExceeded ? .decodedTooLarge(error.message) : .malformedBody(error.message)
        } catch {
            throw .malformedBody("\(error)")
        }
    }
}
