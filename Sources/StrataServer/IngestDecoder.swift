import Foundation
import StrataCore

/// A request the collector refuses, with the HTTP status and a message naming the problem.
public struct IngestRejection: Error, CustomStringConvertible, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    public var description: String { "\(status) \(code): \(message)" }
}

/// Turns an ingest request body into records: the agent's wire format (docs/WIRE.md) or NDJSON
/// in the record layout of the stdout sink, identity-, zstd- or gzip-encoded.
struct IngestDecoder {
    var maxBodyBytes: Int
    var maxDecodedBytes: Int
    var maxRecordBytes: Int

    struct Decoded {
        var batchID: BatchID?
        var records: [LogRecord]
    }

    func decode(body: [UInt8], contentType: String?, contentEncoding: String?, batchIDHeader: String?) throws
        -> Decoded
    {
        guard body.count <= maxBodyBytes else {
            throw IngestRejection(
                status: 413, code: "body_too_large",
                message: "request body is \(body.count) bytes; the limit is \(maxBodyBytes)")
        }
        if body.starts(with: WireFormat.magic) {
            do {
                let batch = try WireBatch.decode(body)
                try checkRecordSizes(batch.records)
                return Decoded(batchID: batch.id, records: batch.records)
            } catch let error as WireError {
                throw IngestRejection(status: 400, code: "malformed_batch", message: error.description)
            }
        }
        let type = (contentType ?? "").lowercased()
        guard type.isEmpty || type.contains("json") || type.contains("ndjson") else {
            throw IngestRejection(
                status: 415, code: "unsupported_media_type",
                message: "expected \(WireFormat.contentType) or application/x-ndjson, got '\(type)'")
        }
        let text = try decodeEncoding(body, encoding: (contentEncoding ?? "identity").lowercased())
        let records = try NDJSONRecords.parse(text, maxRecordBytes: maxRecordBytes)
        let id = batchIDHeader.flatMap { BatchID(string: $0) }
        return Decoded(batchID: id, records: records)
    }

    private func decodeEncoding(_ body: [UInt8], encoding: String) throws -> [UInt8] {
        do {
            switch encoding {
            case "identity", "":
                return body
            case "zstd":
                return try CompressionCodec.zstd.decompress(body, maxOutputSize: maxDecodedBytes)
            case "lz4":
                return try CompressionCodec.lz4.decompress(body, maxOutputSize: maxDecodedBytes)
            case "gzip", "x-gzip", "deflate":
                return try Gzip.decompress(body, maxOutputSize: maxDecodedBytes)
            default:
                throw IngestRejection(
                    status: 415, code: "unsupported_encoding",
                    message: "Content-Encoding '\(encoding)' is not supported (use zstd, gzip or identity)")
            }
        } catch let rejection as IngestRejection {
            throw rejection
        } catch {
            let tooLarge = "\(error)".contains("limit") || "\(error)".contains("beyond")
            throw IngestRejection(
                status: tooLarge ? 413 : 400, code: tooLarge ? "body_too_large" : "malformed_body", message: "\(error)")
        }
    }

    private func checkRecordSizes(_ records: [LogRecord]) throws {
        if let index = records.firstIndex(where: { $0.body.utf8.count > maxRecordBytes }) {
            throw IngestRejection(
                status: 413, code: "record_too_large",
                message: "record \(index) has a \(records[index].body.utf8.count)-byte body; the limit is \(maxRecordBytes)")
        }
    }
}

/// NDJSON records (`{"timestamp": ..., "body": ..., "resource": {...}, ...}` per line).
enum NDJSONRecords {
    static func parse(_ bytes: [UInt8], maxRecordBytes: Int) throws -> [LogRecord] {
        var records: [LogRecord] = []
        let now = Clock.nowNanos()
        for (number, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let object: [String: Any]
            do {
                guard let parsed = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    throw IngestRejection(status: 400, code: "malformed_record", message: "line \(number + 1) is not a JSON object")
                }
                object = parsed
            } catch let rejection as IngestRejection {
                throw rejection
            } catch {
                throw IngestRejection(status: 400, code: "malformed_record", message: "line \(number + 1) is not valid JSON")
            }
            records.append(try record(object, line: number + 1, now: now, maxRecordBytes: maxRecordBytes))
        }
        return records
    }

    static func record(_ object: [String: Any], line: Int, now: Int64, maxRecordBytes: Int) throws -> LogRecord {
        func fail(_ message: String) -> IngestRejection {
            IngestRejection(status: 400, code: "malformed_record", message: "line \(line): \(message)")
        }
        guard let body = object["body"] as? String ?? object["message"] as? String ?? object["log"] as? String else {
            throw fail("needs a string \"body\" (or \"message\"/\"log\")")
        }
        guard body.utf8.count <= maxRecordBytes else {
            throw IngestRejection(
                status: 413, code: "record_too_large",
                message: "line \(line): body of \(body.utf8.count) bytes exceeds the \(maxRecordBytes)-byte limit")
        }
        func time(_ key: String) throws -> Int64? {
            switch object[key] {
            case nil, is NSNull: return nil
            case let text as String:
                guard let nanos = RFC3339Parser.parse(text) else { throw fail("\"\(key)\" is not an RFC 3339 time: \(text)") }
                return nanos
            case let number as NSNumber:
                return number.int64Value
            default:
                throw fail("\"\(key)\" must be an RFC 3339 string or nanoseconds since the epoch")
            }
        }
        func strings(_ key: String) throws -> [Attribute] {
            guard let value = object[key], !(value is NSNull) else { return [] }
            guard let map = value as? [String: Any] else { throw fail("\"\(key)\" must be an object") }
            return map.keys.sorted().map { name in
                let item = map[name]!
                switch item {
                case let text as String: return Attribute(name, text)
                case let number as NSNumber: return Attribute(name, number.stringValue)
                default:
                    let data = (try? JSONSerialization.data(withJSONObject: item, options: [.fragmentsAllowed])) ?? Data()
                    return Attribute(name, String(decoding: data, as: UTF8.self))
                }
            }
        }
        var record = LogRecord(
            timestamp: try time("timestamp") ?? now, observedTimestamp: try time("observed_timestamp") ?? now, body: body)
        if let stream = object["stream"] as? String {
            guard let parsed = LogStream(name: stream) else { throw fail("\"stream\" must be stdout, stderr or unknown") }
            record.stream = parsed
        }
        if let severity = object["severity"] as? String {
            guard let parsed = Severity(text: severity) else { throw fail("unknown severity '\(severity)'") }
            record.severity = parsed
        }
        if let trace = object["trace_id"] as? String {
            guard let parsed = TraceID(hex: trace) else { throw fail("\"trace_id\" must be 32 hex digits") }
            record.traceID = parsed
        }
        if let span = object["span_id"] as? String {
            guard let parsed = SpanID(hex: span) else { throw fail("\"span_id\" must be 16 hex digits") }
            record.spanID = parsed
        }
        record.attributes = try strings("attributes")
        record.resource = Resource(attributes: try strings("resource"))
        if let flags = object["flags"] as? [String] { record.flags = RecordFlags(names: flags) }
        return record
    }
}
