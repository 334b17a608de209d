import XCTest

@testable import StrataCore

final class WireFormatTests: XCTestCase {
    func sampleRecords() -> [LogRecord] {
        let podA = Resource(attributes: [
            Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, "cart-7f9c-abcde"),
            Attribute(ResourceKey.container, "server"),
        ])
        let podB = Resource(attributes: [Attribute(ResourceKey.namespace, "kube-system")])
        return [
            LogRecord(timestamp: 1_700_000_000_123_456_789, observedTimestamp: 1_700_000_001_000_000_000, body: "hello"),
            LogRecord(
                timestamp: -5, observedTimestamp: 0, stream: .stderr, severity: .error, body: "naïve ✓ \u{0}",
                traceID: TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736"), spanID: SpanID(hex: "00f067aa0ba902b7"),
                attributes: [Attribute("k", "v"), Attribute("empty", "")], resource: podA,
                flags: [.multiline, .truncated]),
            LogRecord(timestamp: 1, observedTimestamp: 2, stream: .unknown, body: "", resource: podB, flags: .parseError),
            LogRecord(timestamp: 3, observedTimestamp: 4, body: String(repeating: "x", count: 100_000), resource: podA),
        ]
    }

    func encode(_ records: [LogRecord], codec: CompressionCodec, id: BatchID = .random()) throws -> [UInt8] {
        var encoder = BatchEncoder()
        for (index, record) in records.enumerated() {
            let resourceIndex = encoder.resourceIndex(source: record.resource.hashValue) { record.resource }
            _ = index
            encoder.append(record, resourceIndex: resourceIndex)
        }
        return try encoder.encode(id: id, codec: codec)
    }

    func testRoundTripEveryCodec() throws {
        for codec in CompressionCodec.allCases {
            let id = BatchID.random()
            let frame = try encode(sampleRecords(), codec: codec, id: id)
            let batch = try WireBatch.decode(frame)
            XCTAssertEqual(batch.id, id)
            XCTAssertEqual(batch.codec, codec)
            XCTAssertEqual(batch.records, sampleRecords(), "codec \(codec)")
        }
    }

    func testResourcesAreWrittenOncePerBatch() throws {
        var encoder = BatchEncoder()
        let resource = Resource(attributes: [Attribute(ResourceKey.pod, String(repeating: "p", count: 200))])
        for _ in 0..<100 {
            let index = encoder.resourceIndex(source: 7) { resource }
            encoder.append(LogRecord(timestamp: 1, observedTimestamp: 1, body: "x", resource: resource), resourceIndex: index)
        }
        XCTAssertEqual(encoder.resourceCount, 1)
        XCTAssertLessThan(encoder.payloadBytes, 200 + 100 * 20)
    }

    func testRandomRecordsRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            var records: [LogRecord] = []
            for _ in 0..<Int.random(in: 0..<50, using: &generator) {
                let bodyBytes = (0..<Int.random(in: 0..<300)).map { _ in UInt8.random(in: 32...126) }
                records.append(
                    LogRecord(
                        timestamp: Int64.random(in: Int64.min...Int64.max), observedTimestamp: Int64.random(in: 0...Int64.max),
                        stream: LogStream.allCases.randomElement()!, severity: Severity.allCases.randomElement(),
                        body: String(decoding: bodyBytes, as: UTF8.self),
                        traceID: Bool.random() ? TraceID(high: .random(in: 1...UInt64.max), low: .random(in: 0...UInt64.max)) : nil,
                        spanID: Bool.random() ? SpanID(.random(in: 1...UInt64.max)) : nil,
                        attributes: Bool.random() ? [Attribute("a\(Int.random(in: 0..<9))", "v")] : [],
                        resource: Resource(attributes: [Attribute(ResourceKey.pod, "p\(Int.random(in: 0..<3))")]),
                        flags: RecordFlags(rawValue: UInt32.random(in: 0..<64))))
            }
            let decoded = try WireBatch.decode(try encode(records, codec: .zstd))
            XCTAssertEqual(decoded.records, records)
        }
    }

    func testCorruptFramesAreRejectedWithAReason() throws {
        let frame = try encode(sampleRecords(), codec: .zstd)
        func reason(_ bytes: [UInt8]) -> String {
            do {
                _ = try WireBatch.decode(bytes)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(reason([]).contains("shorter than"))
        XCTAssertTrue(reason(Array("GET / HTTP/1.1\r\n\r\n".utf8) + [UInt8](repeating: 0, count: 40)).contains("magic"))
        var badVersion = frame
        badVersion[4] = 9
        XCTAssertTrue(reason(badVersion).contains("version 9"))
        XCTAssertTrue(reason(Array(frame.dropLast(3))).contains("truncated"))
        var flipped = frame
        flipped[flipped.count - 5] ^= 0xFF
        XCTAssertNotEqual(reason(flipped), "accepted")
        var badCodec = frame
        badCodec[5] = 7
        XCTAssertTrue(reason(badCodec).contains("codec 7"))
    }

    func testChecksumCatchesPayloadCorruption() throws {
        let frame = try encode(sampleRecords(), codec: .none)
        var corrupted = frame
        corrupted[WireFormat.headerSize + 10] ^= 0x01
        XCTAssertThrowsError(try WireBatch.decode(corrupted)) { error in
            XCTAssertTrue("\(error)".contains("CRC-32C"), "\(error)")
        }
    }

    func testRecordCountMismatchIsAnError() throws {
        var frame = try encode(sampleRecords(), codec: .none)
        frame[24] = 9  // claims 9 records
        XCTAssertThrowsError(try WireBatch.decode(frame))
        frame[24] = 1  // claims fewer: trailing bytes
        XCTAssertThrowsError(try WireBatch.decode(frame)) { error in
            XCTAssertTrue("\(error)".contains("after its 1 records"), "\(error)")
        }
    }

    func testBatchIDText() {
        let id = BatchID.random()
        XCTAssertEqual(BatchID(string: id.description), id)
        XCTAssertEqual(id.description.count, 36)
        XCTAssertNil(BatchID(string: "not-a-uuid"))
        XCTAssertEqual(BatchID(bytes: id.bytes), id)
    }

    func testVarintsAndZigZag() throws {
        var writer = ByteWriter()
        let values: [Int64] = [0, 1, -1, 63, -64, 64, Int64.max, Int64.min, 1_700_000_000_000_000_000]
        for value in values { writer.writeZigZag(value) }
        writer.writeVarint(UInt64.max)
        var reader = ByteReader(writer.bytes)
        for value in values { XCTAssertEqual(try reader.readZigZag(), value) }
        XCTAssertEqual(try reader.readVarint(), UInt64.max)
        XCTAssertTrue(reader.isAtEnd)
        var overlong = ByteReader([UInt8](repeating: 0xFF, count: 11) + [0])
        XCTAssertThrowsError(try overlong.readVarint())
    }
}

final class RecordModelTests: XCTestCase {
    func testJSONLineHasTheDocumentedKeys() {
        let record = LogRecord(
            timestamp: 1_700_000_000_000_000_001, observedTimestamp: 0, stream: .stderr, severity: .warn,
            body: "quote \" backslash \\ newline \n tab \t bell \u{7} ünï",
            traceID: TraceID(hex: "4BF92F3577B34DA6A3CE929D0E0E4736"),
            attributes: [Attribute("http.status", "500")],
            resource: Resource(attributes: [Attribute(ResourceKey.namespace, "shop")]), flags: [.partial, .invalidUTF8])
        XCTAssertEqual(
            record.jsonLine,
            #"{"timestamp":"2023-11-14T22:13:20.000000001Z","observed_timestamp":"1970-01-01T00:00:00.000000000Z","stream":"stderr","body":"quote \" backslash \\ newline \n tab \t bell \u0007 ünï","severity":"warn","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":null,"attributes":{"http.status":"500"},"resource":{"k8s.namespace.name":"shop"},"flags":["partial","invalid_utf8"]}"#
        )
    }

    func testRFC3339FormattingAcrossEras() {
        XCTAssertEqual(RFC3339.format(nanos: 0), "1970-01-01T00:00:00.000000000Z")
        XCTAssertEqual(RFC3339.format(nanos: 951_782_400_000_000_000), "2000-02-29T00:00:00.000000000Z")
        XCTAssertEqual(RFC3339.format(nanos: -1), "1969-12-31T23:59:59.999999999Z")
        for days: Int64 in [-800_000, -1, 0, 59, 60, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = RFC3339.civilFromDays(days)
            XCTAssertEqual(RFC3339.daysFromCivil(year: y, month: m, day: d), days)
        }
    }

    func testSeverityNames() {
        XCTAssertEqual(Severity(text: "WARNING"), .warn)
        XCTAssertEqual(Severity(text: "Err"), .error)
        XCTAssertEqual(Severity(text: "CRITICAL"), .fatal)
        XCTAssertNil(Severity(text: "loud"))
        XCTAssertEqual(Severity(number: 11), .info)
        XCTAssertEqual(Severity(number: 24), .fatal)
        XCTAssertNil(Severity(number: 0))
    }

    func testTraceIDs() {
        XCTAssertNil(TraceID(hex: "00000000000000000000000000000000"), "all-zero ids are invalid")
        XCTAssertNil(TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e473"))
        XCTAssertNil(TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e473g"))
        let id = TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736")!
        XCTAssertEqual(TraceID(bytes: id.bytes), id)
        XCTAssertEqual(SpanID(hex: "00f067aa0ba902b7")?.description, "00f067aa0ba902b7")
        XCTAssertEqual(RecordFlags(names: ["multiline", "bogus", "truncated"]), [.multiline, .truncated])
    }

    /// The agent's byte-level append writes exactly what appending the equivalent LogRecord
    /// (body validated or repaired as a String) writes.
    func testRawAppendMatchesRecordAppend() {
        let resource = Resource(attributes: [Attribute(ResourceKey.namespace, "shop")])
        let bodies: [[UInt8]] = [
            [], Array("plain ascii line of some length".utf8), Array("héllo wörld ✓ 😀 日本".utf8),
            [0xFF], [0x61, 0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF],
            [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80], Array("0123456789abcdef\u{7f}".utf8) + [0x80] + Array("tail".utf8),
            Array(repeating: 0x41, count: 300), [0xF0, 0x9F, 0x98], Array("ok".utf8) + [0xF5, 0x80, 0x80, 0x80],
        ]
        var raw = BatchEncoder()
        var reference = BatchEncoder()
        for (i, body) in bodies.enumerated() {
            let flags: RecordFlags = i % 2 == 0 ? [] : [.multiline]
            let index = raw.resourceIndex(source: 1) { resource }
            let valid = body.withUnsafeBytes {
                raw.append(
                    timestamp: Int64(i) * 1_000_000_007, observedTimestamp: -Int64(i), stream: .stderr, flags: flags,
                    body: $0, resourceIndex: index)
            }
            let validated = String(validating: body, as: UTF8.self)
            XCTAssertEqual(valid, validated != nil, "body \(body)")
            XCTAssertEqual(body.withUnsafeBytes { BatchEncoder.isValidUTF8($0) }, validated != nil, "body \(body)")
            var recordFlags = flags
            if validated == nil { recordFlags.insert(.invalidUTF8) }
            let refIndex = reference.resourceIndex(source: 1) { resource }
            reference.append(
                LogRecord(
                    timestamp: Int64(i) * 1_000_000_007, observedTimestamp: -Int64(i), stream: .stderr,
                    body: validated ?? String(decoding: body, as: UTF8.self), resource: resource, flags: recordFlags),
                resourceIndex: refIndex)
        }
        XCTAssertEqual(raw.payload(), reference.payload())
        XCTAssertEqual(raw.recordCount, reference.recordCount)
    }

    func testUTF8ValidationAgreesWithTheStandardLibrary() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        for _ in 0..<20000 {
            let count = Int.random(in: 0...12, using: &generator)
            let bytes = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
            XCTAssertEqual(
                bytes.withUnsafeBytes { BatchEncoder.isValidUTF8($0) }, String(validating: bytes, as: UTF8.self) != nil,
                "\(bytes)")
        }
    }
}
