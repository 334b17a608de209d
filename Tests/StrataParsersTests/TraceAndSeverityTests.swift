import StrataCore
import XCTest

@testable import StrataParsers

final class TraceExtractionTests: XCTestCase {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    let span = "00f067aa0ba902b7"

    func extracted(_ body: String) -> (String?, String?) {
        var r = record(body)
        TraceExtractor.extract(&r)
        return (r.traceID?.description, r.spanID?.description)
    }

    func assertIDs(_ body: String, _ trace: String?, _ span: String?, file: StaticString = #filePath, line: UInt = #line) {
        let (t, s) = extracted(body)
        XCTAssertEqual(t, trace, "trace of \(body)", file: file, line: line)
        XCTAssertEqual(s, span, "span of \(body)", file: file, line: line)
    }

    func testW3CTraceparent() {
        assertIDs("GET /x traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 took 3ms", trace, span)
        assertIDs(#"... 7f3c2a9d1b4e4f6a8c0d2e1f3a5b7c9d "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01""#, trace, span)
        assertIDs("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-00", trace, span)
    }

    func testKeyValues() {
        assertIDs("msg=hi trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7", trace, span)
        assertIDs("span_id=00f067aa0ba902b7 then trace_id=4bf92f3577b34da6a3ce929d0e0e4736", trace, span)
        assertIDs("trace.id=4bf92f3577b34da6a3ce929d0e0e4736 span.id=00f067aa0ba902b7", trace, span)
        assertIDs("traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7'", trace, span)
        assertIDs("X-B3-TraceId: 4bf92f3577b34da6a3ce929d0e0e4736 X-B3-SpanId: 00f067aa0ba902b7", trace, span)
        // A 64-bit trace id after a key is zero-padded.
        assertIDs("trace_id=a3ce929d0e0e4736 span_id=00f067aa0ba902b7", "0000000000000000a3ce929d0e0e4736", span)
    }

    func testTrainTicketStyle() {
        assertIDs(
            "2026-11-21 10:00:00.123  INFO 1 --- [http-nio-12031-exec-1] f.s.OrderServiceImpl : [getOrderById][Get Order By Id] TraceID: dad811a6f14846847bf2f220daa5e573 SpanID: 87d483062ec5fbaa orderId: 5ad7750b",
            "dad811a6f14846847bf2f220daa5e573", "87d483062ec5fbaa")
    }

    func testSleuthAndMicrometer() {
        assertIDs("2026-11-21 10:00:00.123  INFO [orders,4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7,true] 1 --- x", trace, span)
        assertIDs("INFO [orders,a3ce929d0e0e4736,00f067aa0ba902b7,false] 1 --- x", "0000000000000000a3ce929d0e0e4736", span)
        assertIDs("INFO [orders] [main] [4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7] c.e.App : x", trace, span)
    }

    func testJSONInText() {
        assertIDs(#"payload {"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"} truncated"#, trace, span)
        assertIDs(#"{"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7""#, trace, span)
    }

    func testSpanWithoutTraceIsIgnored() {
        assertIDs("span_id=00f067aa0ba902b7 only", nil, nil)
    }

    func testNotTraceIDs() {
        for body in [
            "request 7f3c2a9d1b4e4f6a8c0d2e1f3a5b7c9d done",  // a bare 32-hex request id
            "order 123e4567-e89b-12d3-a456-426614174000 created",  // UUID
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "trace_id=00000000000000000000000000000000 span_id=0000000000000000",
            "trace_id=0 span_id=0",
            "xtrace_id=4bf92f3577b34da6a3ce929d0e0e4736",
            "trace_id=4bf92f3577b34da6a3ce929d0e0e4736z",
            "a3ce929d0e0e4736,00f067aa0ba902b7 outside brackets",
            "", "short", String(repeating: "abcdef0123", count: 50),
        ] {
            let (t, s) = extracted(body)
            XCTAssertNil(t, body)
            XCTAssertNil(s, body)
        }
    }

    func testParserSetTraceWins() {
        var r = record("trace_id=4bf92f3577b34da6a3ce929d0e0e4736")
        r.traceID = TraceID(high: 1, low: 2)
        XCTAssertFalse(TraceExtractor.extract(&r))
        XCTAssertEqual(r.traceID, TraceID(high: 1, low: 2))
    }
}

final class SeveritySniffingTests: XCTestCase {
    func testLevelWords() {
        let cases: [(String, Severity?)] = [
            ("2026/11/21 10:00:00 handler.go:42: [INFO] Inbound request", .info),
            ("2026/11/21 10:00:00 [error] 31#31: *123 upstream timed out", .error),
            ("[Warn] disk almost full", .warn),
            ("something ERROR happened", .error),
            ("WARNING: deprecated flag", .warn),
            ("panic: FATAL runtime error", .fatal),
            ("CRITICAL database unreachable", .fatal),
            ("DEBUG cache miss", .debug),
            ("TRACE entering", .trace),
            ("time=x level=error msg=boom", .error),
            ("lvl=WARN something", .warn),
            (#"{"severity": "info", broken json"#, .info),
            ("\u{1B}[31mERROR\u{1B}[0m colored", .error),
            ("no error found here", nil),
            ("ERRORS were counted", nil),
            ("INFORMATIONAL only", nil),
            ("MY_ERROR_CODE=5", nil),
            ("level is error", nil),
            ("ordinary text", nil),
            (String(repeating: "x", count: 90) + " ERROR", nil),  // beyond the first 80 bytes
            ("", nil),
        ]
        for (body, expected) in cases {
            XCTAssertEqual(SeveritySniffer.sniff(body), expected, body)
        }
    }

    func testParserSeverityWins() {
        var r = record("ERROR but the parser said info")
        r.severity = .info
        XCTAssertFalse(SeveritySniffer.apply(&r))
        XCTAssertEqual(r.severity, .info)
    }
}
