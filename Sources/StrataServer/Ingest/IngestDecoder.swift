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
    /// The request's claim on the collector's ingest memory budget: a decoder claims what it
    /// expands and decodes before allocating it (`IngestMemory`). Nil: not bounded (tests).
    public var memory: IngestBudget.Lease?

    public init(body: [UInt8], contentEncoding: String?, batchID: String?, memory: IngestBudget.Lease? = nil) {
        self.body = body
        self.contentEncoding = contentEncoding
        self.batchID = batchID
        self.memory = memory
    }
}

/// How decoders charge a request's lease (docs/RELIABILITY.md, "Memory budget").
enum IngestMemory {
    /// Decoded records take about four times the bytes of the NDJSON text they come from: each
    /// holds its body as a String and its resource and attributes as collections of Strings,
    /// each key on the heap, besides a few hundred bytes of fixed fields (measured: one 50 MiB
    /// NDJSON batch of benchmarks/resources/bench.py's records left 188.5 MiB of records, 3.8x;
    /// docs/RELIABILITY.md, "Memory budget"). Wire payloads share resources within a batch, so
    /// the same factor over-charges them a little.
    static let recordsPerTextByte = 4

    /// Claims the records `textBytes` of text will decode into, before decoding them.
    static func claimRecords(forText textBytes: Int, in memory: IngestBudget.Lease?) throws(IngestRejection) {
        guard let memory else { return }
        let (bytes, overflow) = textBytes.multipliedReportingOverflow(by: recordsPerTextByte)
        try check(memory.claim(overflow ? Int.max : bytes), memory: memory, what: "decoding \(textBytes) bytes of records")
    }

    static func check(_ claim: IngestBudget.Claim, memory: IngestBudget.Lease, what: String) throws(IngestRejection) {
        switch claim {
        case .granted: return
        case .busy: throw IngestRejection.ingestBusy(memory.busyMessage(what))
        case .exceedsBudget: throw IngestRejection.decodedTooLarge(memory.exceedsMessage(what))
        }
    }

    /// An `admit` hook for a decompressor that claims the output's growth from `memory`, and
    /// remembers why it said no.
    final class Expansion {
        let memory: IngestBudget.Lease?
        private var charged = 0
        private(set) var refusal: IngestBudget.Claim = .granted

        init(memory: IngestBudget.Lease?) { self.memory = memory }

        var admit: ((Int) -> Bool)? {
            guard let memory else { return nil }
            return { [self] total in
                guard total > charged else { return true }
                let answer = memory.claim(total - charged)
                guard answer == .granted else {
                    refusal = answer
                    return false
                }
                charged = total
                return true
            }
        }

        /// The rejection for a decompression the hook stopped.
        func rejection() -> IngestRejection {
            rejection(what: "decompressing the body beyond \(charged) bytes")
        }

        /// The rejection for a body buffer of `bytes` the hook refused.
        func rejection(reading bytes: Int) -> IngestRejection {
            rejection(what: "a \(bytes)-byte body buffer")
        }

        private func rejection(what: String) -> IngestRejection {
            guard let memory else { return .decodedTooLarge("\(what) was refused") }
            return refusal == .busy
                ? .ingestBusy(memory.busyMessage(what)) : .decodedTooLarge(memory.exceedsMessage(what))
        }
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
    /// Every decompressor stops at `limits.maxDecodedBytes` + 1 bytes and claims its output from
    /// `memory` before each allocation, so neither limit is checked after the fact.
    static func decode(
        _ body: [UInt8], encoding: String?, limits: IngestLimits, memory: IngestBudget.Lease? = nil
    ) throws(IngestRejection) -> [UInt8] {
        let encoding = encoding ?? "identity"
        let expansion = IngestMemory.Expansion(memory: memory)
        do {
            switch encoding {
            case "identity", "":
                return body
            case "zstd":
                return try CompressionCodec.zstd.decompress(body, maxOutputSize: limits.maxDecodedBytes, admit: expansion.admit)
            case "lz4":
                return try CompressionCodec.lz4.decompress(body, maxOutputSize: limits.maxDecodedBytes, admit: expansion.admit)
            case "gzip", "x-gzip", "deflate":
                return try Gzip.decompress(body, maxOutputSize: limits.maxDecodedBytes, admit: expansion.admit)
            default:
                throw IngestRejection.unsupportedEncoding(
                    "Content-Encoding '\(encoding)' is not supported (use zstd, gzip or identity)")
            }
        } catch let rejection as IngestRejection {
            throw rejection
        } catch let error as CompressionError {
            if error.kind == .outputRefused { throw expansion.rejection() }
            throw error.kind == .outputLimitExceeded ? .decodedTooLarge(error.message) : .malformedBody(error.message)
        } catch let error as GzipError {
            if error.kind == .outputRefused { throw expansion.rejection() }
            throw error.kind == .outputLimitExceeded ? .decodedTooLarge(error.message) : .malformedBody(error.message)
        } catch {
            throw .malformedBody("\(error)")
        }
    }
}
