import StrataAgent
import StrataCore
import StrataQuery
import StrataServer

enum JSONTargets {
    /// JSON documents (query answers, webhook payloads, NDJSON values): what parses writes back
    /// to a document that parses to the same value.
    static let value = FuzzTarget(
        name: "json", summary: "JSON values through StrataCore's scanner; accepted documents survive writing and parsing",
        seeds: ["{}", "[]", "{\"a\":[1,2.5,-3e10,true,false,null,\"x\\u00e9\\n\"]}", "\"\\ud83d\\ude00\"", "-0", "1e400"].map(\.bytes),
        dictionary: ["{", "}", "[", "]", ",", ":", "\"", "\\u", "\\ud800", "true", "false", "null", "1e", "-", "."].map(\.bytes),
        maxInputBytes: 2048
    ) { input throws(FuzzViolation) in
        let value: JSONValue
        do {
            value = try JSONValue.parse(input)
        } catch {
            return "refused: \(error)"
        }
        var writer = JSONWriter()
        value.write(into: &writer)
        let again: JSONValue
        do {
            again = try JSONValue.parse(writer.bytes)
        } catch {
            throw FuzzViolation("an accepted document writes as \(String(decoding: writer.bytes, as: UTF8.self)), which does not parse: \(error)")
        }
        try require(again == value, "an accepted document changes when written and parsed again: \(String(decoding: writer.bytes, as: UTF8.self))")
        return "accepted"
    }
}

enum NDJSONTargets {
    static let maxRecordBytes = 1024

    /// NDJSON ingest bodies (after decompression): every line is a record or the batch is
    /// refused with a code; nothing traps.
    static let records = FuzzTarget(
        name: "ndjson", summary: "NDJSON ingest lines (times, attributes, ids, flags)",
        seeds: [
            "{\"body\":\"x\",\"timestamp\":\"2026-12-01T10:00:00Z\"}",
            "{\"message\":\"m\",\"timestamp\":1780272000000000000,\"observed_timestamp\":\"2262-04-11T23:30:00Z\",\"stream\":\"stderr\",\"severity\":\"WARN\"}\n{\"log\":\"l\"}",
            "{\"body\":\"b\",\"trace_id\":\"0123456789abcdef0123456789abcdef\",\"span_id\":\"0123456789abcdef\",\"attributes\":{\"a\":1,\"b\":[1,{\"c\":null}],\"t\":true},\"resource\":{\"k8s.namespace.name\":\"ns\"},\"flags\":[\"multiline\"]}",
            "\n  \n{\"body\":\"\\u00e9\\ud83d\\ude00\",\"timestamp\":1e30}",
        ].map(\.bytes),
        dictionary: ["{", "}", "\"body\":", "\"timestamp\":", "\"observed_timestamp\":", "\"attributes\":", "\"resource\":", "\"flags\":", "\"severity\":", "\"trace_id\":", "\"stream\":", "\n", ",", "\"", "1e30", "true", "null", "[", "]"].map(\.bytes),
        maxInputBytes: 4096
    ) { input throws(FuzzViolation) in
        let records: [LogRecord]
        do throws(IngestRejection) {
            records = try NDJSONDecoder.records(input, maxRecordBytes: maxRecordBytes, now: fuzzNow)
        } catch {
            return "refused: \(error)"
        }
        let lines = input.split(separator: 0x0A, omittingEmptySubsequences: true).count
        try require(records.count <= lines, "\(records.count) records from \(lines) lines")
        return "accepted"
    }
}

enum WireTargets {
    /// Frames as the agent writes them, one per codec.
    static let seeds: [[UInt8]] = {
        var encoder = BatchEncoder()
        let resource = encoder.resourceIndex(source: 1) {
            Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, "orders-1")])
        }
        for record in QueryTargets.records { encoder.append(record, resourceIndex: resource) }
        let id = BatchID(high: 0x0123_4567_89AB_CDEF, low: 42)
        return CompressionCodec.allCases.compactMap { try? encoder.encode(id: id, codec: $0) }
    }()

    /// The agent's wire batches: what decodes encodes again to the same records.
    static let batch = FuzzTarget(
        name: "wire", summary: "agent wire batches (header, checksum, zstd/lz4 payload, records); accepted batches round-trip",
        seeds: seeds, dictionary: [Array("STRB".utf8), [1], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]], maxInputBytes: 8192
    ) { input throws(FuzzViolation) in
        let batch: WireBatch
        do {
            batch = try WireBatch.decode(input)
        } catch {
            return "refused: \(error)"
        }
        var encoder = BatchEncoder()
        for (index, record) in batch.records.enumerated() {
            encoder.append(record, resourceIndex: encoder.resourceIndex(source: index) { record.resource })
        }
        do {
            let again = try WireBatch.decode(try encoder.encode(id: batch.id, codec: batch.codec))
            try require(again.records == batch.records, "an accepted batch's records change when encoded and decoded again")
        } catch let violation as FuzzViolation {
            throw violation
        } catch {
            throw FuzzViolation("an accepted batch does not encode and decode again: \(error)")
        }
        return "accepted"
    }
}

enum RuntimeTargets {
    static let runtimeWords: [[UInt8]] = ["stdout", "stderr", " F ", " P ", "P:", "\"log\":", "\"stream\":", "\"time\":", "\\n", "\\u0000", "\\ud800", "{", "}", "\""].map(\.bytes)

    static func check(_ format: RuntimeFormat, _ input: [UInt8]) throws(FuzzViolation) -> FuzzOutcome {
        let entry = format.decode(input)
        try require(entry.content.count <= input.count, "the content (\(entry.content.count) bytes) is longer than the line (\(input.count))")
        if entry.envelopeError {
            try require(entry.content == input, "a line with a corrupt envelope does not keep its raw bytes")
            return "envelope error"
        }
        return "\(entry.stream) partial:\(entry.isPartial)"
    }

    /// Container runtime envelopes as the agent reads them from files a container can fill.
    static let cri = FuzzTarget(
        name: "runtime-cri", summary: "CRI log lines (containerd, CRI-O)",
        seeds: ["2026-11-21T10:00:00.123456789Z stdout F hello", "2026-11-21T10:00:00Z stderr P part\r", "x"].map(\.bytes),
        dictionary: runtimeWords, maxInputBytes: 1024
    ) { input throws(FuzzViolation) in try check(.cri, input) }

    static let docker = FuzzTarget(
        name: "runtime-docker", summary: "docker json-file log lines",
        seeds: ["{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-21T10:00:00.1Z\"}", "{\"log\":\"\\u00e9\\t\\\"q\\\"\",\"stream\":\"stderr\",\"time\":\"x\"}"].map(\.bytes),
        dictionary: runtimeWords, maxInputBytes: 1024
    ) { input throws(FuzzViolation) in try check(.docker, input) }
}
