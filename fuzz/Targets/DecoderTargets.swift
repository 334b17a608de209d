import StrataAgent
import StrataCore
import StrataQuery
import StrataParsers
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
    /// The input's first byte chooses how the rest is read: even, as a whole frame (header
    /// checks, decompression, checksum); odd, as an uncompressed payload that the target frames
    /// with a valid header and checksum, with the second byte as the record count and bit 1 of
    /// the first as the positions flag, so mutations reach the record and position decoders
    /// instead of stopping at the checksum.
    static let frameMode: UInt8 = 0
    static let payloadMode: UInt8 = 1

    static let positionsBit: UInt8 = 2

    static func sampleEncoder(positions: Bool) -> BatchEncoder {
        var encoder = BatchEncoder()
        let resource = encoder.resourceIndex(source: 1) {
            Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, "orders-1")])
        }
        let source = FileSource(node: "node-1", device: 2049, inode: 131_072, headChecksum: 0xDEAD_BEEF, headLength: 80, sequence: 0)
        for (index, record) in QueryTargets.records.enumerated() {
            let position = positions && index != 1 ? RecordPosition(source: source, offset: SourceOffset(end: UInt64(100 * (index + 1)), piece: UInt32(index))) : nil
            encoder.append(record, resourceIndex: resource, position: position)
        }
        return encoder
    }

    static let seeds: [[UInt8]] = {
        let id = BatchID(high: 0x0123_4567_89AB_CDEF, low: 42)
        var seeds: [[UInt8]] = []
        for positions in [false, true] {
            let encoder = sampleEncoder(positions: positions)
            seeds += CompressionCodec.allCases.compactMap { try? encoder.encode(id: id, codec: $0) }.map { [frameMode] + $0 }
            seeds.append([payloadMode | (positions ? positionsBit : 0), UInt8(encoder.recordCount)] + encoder.payload())
        }
        return seeds
    }()

    static func frame(payload: ArraySlice<UInt8>, recordCount: UInt8, flags: UInt16) -> [UInt8] {
        var out = ByteWriter(capacity: WireFormat.headerSize + payload.count)
        out.writeBytes(WireFormat.magic)
        out.writeByte(WireFormat.version)
        out.writeByte(CompressionCodec.none.rawValue)
        out.writeUInt16(flags)
        out.writeBytes(BatchID(high: 1, low: 2).bytes)
        out.writeUInt32(UInt32(recordCount))
        out.writeUInt32(UInt32(payload.count))
        out.writeUInt32(crc32c(payload))
        out.writeUInt32(UInt32(payload.count))
        out.writeBytes(Array(payload))
        return out.bytes
    }

    /// The agent's wire batches: what decodes encodes again to the same records.
    static let batch = FuzzTarget(
        name: "wire", summary: "agent wire batches (header, checksum, zstd/lz4 payload, records); accepted batches round-trip",
        seeds: seeds, dictionary: [Array("STRB".utf8), [1], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
        maxInputBytes: 8192
    ) { input throws(FuzzViolation) in
        guard let mode = input.first else { return "empty" }
        let frame = mode & 1 == payloadMode
            ? frame(
                payload: input.dropFirst(2), recordCount: input.count > 1 ? input[1] : 0,
                flags: mode & positionsBit != 0 ? WireFormat.positionsFlag : 0)
            : Array(input.dropFirst())
        let batch: WireBatch
        do {
            batch = try WireBatch.decode(frame)
        } catch {
            return "refused: \(error)"
        }
        var encoder = BatchEncoder()
        for (index, record) in batch.records.enumerated() {
            let position = index < batch.positions.count ? batch.positions[index] : nil
            encoder.append(record, resourceIndex: encoder.resourceIndex(source: index) { record.resource }, position: position)
        }
        do {
            let again = try WireBatch.decode(try encoder.encode(id: batch.id, codec: batch.codec))
            try require(again.records == batch.records, "an accepted batch's records change when encoded and decoded again")
            try require(
                again.positions == batch.positions || (batch.positions.allSatisfy { $0 == nil } && again.positions.isEmpty),
                "an accepted batch's positions change when encoded and decoded again")
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

enum NormalizerTargets {
    /// One normalizer per built-in parser, and one that detects the format itself.
    static let normalizers: [Normalizer] = (["auto"] + ParserRegistry.decoderNames).map {
        Normalizer(configuration: NormalizerConfiguration(defaultParser: $0), registry: .builtins)
    }

    /// A record's body is whatever the application wrote: every built-in parser, the format
    /// detector, trace extraction, severity sniffing and redaction run over it.
    static let body = FuzzTarget(
        name: "normalize", summary: "the collector's normalization of a record body by every built-in parser",
        seeds: [
            "{\"level\":\"error\",\"ts\":1780272000.5,\"msg\":\"failed\",\"trace_id\":\"0123456789abcdef0123456789abcdef\",\"password\":\"x\"}",
            "level=warn ts=2026-12-01T10:00:00Z msg=\"slow query\" duration=1.5s",
            "E1201 10:00:00.123456    1 controller.go:42] sync failed: timeout",
            "2026-12-01 10:00:00.123 ERROR [main] c.e.Service - boom\n\tat c.e.Service.run(Service.java:42)",
            "127.0.0.1 - - [01/Dec/2026:10:00:00 +0000] \"GET /api?token=abc HTTP/1.1\" 503 12 \"-\" \"curl/8\"",
            "<34>1 2026-12-01T10:00:00Z host app 1 ID47 - message",
            "ERROR:root:Traceback (most recent call last):",
        ].map(\.bytes),
        dictionary: ["{", "}", "\"", "=", ":", " ", "level", "ts", "time", "msg", "trace_id", "span_id", "1e30", "-1e30", "[", "]", "<", ">", "\n\tat ", "password", "token", "Bearer ", "E1201"].map(\.bytes),
        maxInputBytes: 2048
    ) { input throws(FuzzViolation) in
        var outcomes: [String] = []
        for normalizer in normalizers {
            var record = LogRecord(
                timestamp: fuzzNow, observedTimestamp: fuzzNow, body: String(decoding: input, as: UTF8.self),
                resource: Resource(attributes: [Attribute(ResourceKey.namespace, "fuzz"), Attribute(ResourceKey.pod, "p")]))
            let outcome = normalizer.normalize(&record)
            let keys = record.attributes.map(\.key)
            try require(Set(keys).count == keys.count, "the normalized record has duplicate attribute keys: \(keys)")
            // What the parser made of the body, in letters (the campaign folds digits away).
            let attributes = String(repeating: "a", count: min(record.attributes.count, 6))
            let timed = record.timestamp != fuzzNow ? "t" : ""
            let traced = record.traceID != nil ? "x" : ""
            outcomes.append("\(outcome)/\(record.severity.map { "\($0)" } ?? "-")/\(attributes)\(timed)\(traced)")
        }
        return outcomes.joined(separator: ",")
    }
}
