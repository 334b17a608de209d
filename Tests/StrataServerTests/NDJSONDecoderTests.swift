import StrataCore
import Testing

@testable import StrataServer

/// NDJSON records through the collector's own scanner: what JSONSerialization accepted is
/// accepted with the same result, what it refused is refused with a message naming the line.
struct NDJSONDecoderTests {
    static let now: Int64 = 1_700_000_000_000_000_000

    func records(_ text: String, maxRecordBytes: Int = 1 << 20) throws(IngestRejection) -> [LogRecord] {
        try NDJSONDecoder.records(Array(text.utf8), maxRecordBytes: maxRecordBytes, now: Self.now)
    }

    func rejection(_ text: String, maxRecordBytes: Int = 1 << 20) -> IngestRejection? {
        do throws(IngestRejection) {
            _ = try records(text, maxRecordBytes: maxRecordBytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func theStdoutSinkLayoutRoundTrips() throws {
        var record = LogRecord(timestamp: Self.now - 5_000, observedTimestamp: Self.now - 1_000, body: "GET /a \"quoted\"\n\tat frame")
        record.stream = .stderr
        record.severity = .warn
        record.traceID = TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736")
        record.spanID = SpanID(hex: "00f067aa0ba902b7")
        record.attributes = [Attribute("http.method", "GET"), Attribute("user", "zoë")]
        record.resource = Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, "api-1")])
        record.flags = RecordFlags(names: ["truncated"])
        let decoded = try records(record.jsonLine + "\n")
        #expect(decoded == [record])
    }

    @Test func defaultsAndTheBodyFallbacks() throws {
        let decoded = try records(
            """
            {"message":"from message"}
            {"body":7,"log":"from log"}
            {"body":"b","message":"m","timestamp":null,"severity":null,"attributes":null,"flags":[1]}
            """)
        #expect(decoded.map(\.body) == ["from message", "from log", "b"])
        #expect(decoded.allSatisfy { $0.timestamp == Self.now && $0.observedTimestamp == Self.now && $0.severity == nil })
        #expect(decoded[2].attributes.isEmpty && decoded[2].flags == RecordFlags(names: []))
    }

    @Test func escapesAndUnicodeDecode() throws {
        let decoded = try records(#"{"body":"tab\there \"q\" back\\slash \/ \u00e9 \ud83d\ude00 ü","attributes":{"k\u00e9y":"v"}}"#)
        #expect(decoded.first?.body == "tab\there \"q\" back\\slash / é 😀 ü")
        #expect(decoded.first?.attributes == [Attribute("kéy", "v")])
    }

    @Test func attributeValuesBecomeTextAsBefore() throws {
        let decoded = try records(
            #"{"body":"x","attributes":{"f":1e3,"b":{"x":[1, 2],"y":"z"},"a":1.0,"c":true,"d":null,"e":-0,"g":12345678901234567890,"h":-12.50,"i":false}}"#)
        let values = decoded.first?.attributes.map { "\($0.key)=\($0.value)" }
        #expect(values == ["a=1.0", #"b={"x":[1,2],"y":"z"}"#, "c=1", "d=null", "e=0", "f=1000.0", "g=12345678901234567890", "h=-12.5", "i=0"])
    }

    @Test func theLastOfARepeatedNameCounts() throws {
        let decoded = try records(#"{"body":"first","body":"second","resource":{"k8s.pod.name":"a","k8s.pod.name":"b"},"stream":"bogus","stream":"stdout"}"#)
        #expect(decoded.first?.body == "second")
        #expect(decoded.first?.resource[ResourceKey.pod] == "b")
        #expect(decoded.first?.resource.attributes.count == 1)
        #expect(decoded.first?.stream == .stdout)
    }

    @Test func timesAsTextOrNanoseconds() throws {
        let decoded = try records(
            """
            {"body":"a","timestamp":"2026-11-21T10:00:00.5Z","observed_timestamp":1700000000000000001}
            {"body":"b","timestamp":1.7e18}
            """)
        #expect(decoded[0].timestamp == 1_795_255_200_500_000_000)
        #expect(decoded[0].observedTimestamp == 1_700_000_000_000_000_001)
        #expect(decoded[1].timestamp == 1_700_000_000_000_000_000)
    }

    @Test func numbersThatAreNoTimesAreRefusedByName() {
        for value in ["1e30", "-1e30", "18446744073709551615", "9223372036854775808"] {
            #expect(
                rejection("{\"body\":\"x\",\"timestamp\":\(value)}")
                    == .malformedRecord(
                        "line 1: \"timestamp\" is \(value), not a time: give nanoseconds since the epoch (at most 9223372036854775807) or an RFC 3339 string"))
        }
        #expect(
            rejection(#"{"body":"x","observed_timestamp":true}"#)
                == .malformedRecord(#"line 1: "observed_timestamp" must be an RFC 3339 string or nanoseconds since the epoch"#))
        #expect((try? records(#"{"body":"x","timestamp":-1.5,"observed_timestamp":9223372036854775807}"#))?.first?.timestamp == -1)
    }

    @Test func membersOfAnotherTypeAreIgnoredWhereTheyWereBefore() throws {
        let decoded = try records(#"{"body":"x","stream":5,"severity":true,"trace_id":[1],"span_id":{},"flags":"truncated"}"#)
        #expect(decoded.first?.stream == LogRecord(timestamp: 0, observedTimestamp: 0, body: "").stream)
        #expect(decoded.first?.severity == nil && decoded.first?.traceID == nil && decoded.first?.spanID == nil)
        #expect(decoded.first?.flags == RecordFlags(names: []))
    }

    @Test func blankLinesCRLFByteOrderMarksAndTrailingCommasAreAccepted() throws {
        let decoded = try records("\n  \r\n{\"body\":\"a\",}\r\n\u{FEFF}{\"body\":\"b\",\"attributes\":{\"k\":[1,],}}\n\n")
        #expect(decoded.map(\.body) == ["a", "b"])
        #expect(decoded[1].attributes == [Attribute("k", "[1,]")])
    }

    @Test func badJSONNamesTheLineAndTheProblem() {
        #expect(rejection("\n\n{\"body\":\"open}") == .malformedRecord("line 3 is not valid JSON: the string is not closed at column 9"))
        #expect(rejection(#"{"body":"x"} {"#) == .malformedRecord("line 1 is not valid JSON: unexpected text after the value at column 14"))
        #expect(rejection(#"{"body":"\ud800"}"#) == .malformedRecord(#"line 1 is not valid JSON: \ud800 is a high surrogate without a low one at column 10"#))
        #expect(rejection("{\"body\":\"a\u{01}b\"}") == .malformedRecord("line 1 is not valid JSON: unescaped control character in a string at column 11"))
        #expect(rejection(#"{"body":"x","n":01}"#) == .malformedRecord("line 1 is not valid JSON: number with a leading zero at column 18"))
        #expect(rejection("[]") == .malformedRecord("line 1 is not a JSON object"))
        #expect(rejection("5") == .malformedRecord("line 1 is not a JSON object"))
    }

    @Test func badFieldsNameTheLineAndTheField() {
        #expect(rejection(#"{"body": 5}"#) == .malformedRecord(#"line 1: needs a string "body" (or "message"/"log")"#))
        #expect(rejection(#"{"body":"x","timestamp":"yesterday"}"#) == .malformedRecord(#"line 1: "timestamp" is not an RFC 3339 time: yesterday"#))
        #expect(rejection(#"{"body":"x","observed_timestamp":{}}"#) == .malformedRecord(#"line 1: "observed_timestamp" must be an RFC 3339 string or nanoseconds since the epoch"#))
        #expect(rejection(#"{"body":"x","stream":"stdin"}"#) == .malformedRecord(#"line 1: "stream" must be stdout, stderr or unknown"#))
        #expect(rejection(#"{"body":"x","severity":"loud"}"#) == .malformedRecord("line 1: unknown severity 'loud'"))
        #expect(rejection(#"{"body":"x","trace_id":"abc"}"#) == .malformedRecord(#"line 1: "trace_id" must be 32 hex digits"#))
        #expect(rejection(#"{"body":"x","span_id":"abc"}"#) == .malformedRecord(#"line 1: "span_id" must be 16 hex digits"#))
        #expect(rejection(#"{"body":"x","attributes":[1]}"#) == .malformedRecord(#"line 1: "attributes" must be an object"#))
        #expect(rejection(#"{"body":"x","resource":"pod"}"#) == .malformedRecord(#"line 1: "resource" must be an object"#))
        #expect(rejection(#"{"body":"0123456789"}"#, maxRecordBytes: 9) == .recordTooLarge("line 1: body of 10 bytes exceeds the 9-byte limit"))
    }
}
