import StrataCore
import XCTest

@testable import StrataParsers

final class GoldenJSONTests: XCTestCase {
    let parser = JSONLogParser()
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    let span = "00f067aa0ba902b7"

    func testZapProductionEncoder() {
        XCTAssertGolden(parser, Golden(
            line: #"{"level":"info","ts":1795255200.123456,"logger":"orders.http","caller":"http/handler.go:87","msg":"Inbound request","method":"GET","path":"/api/v1/orders","status":200,"duration_ms":12,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
            severity: .info, time: "2026-11-21T10:00:00.123456Z", body: "Inbound request", trace: trace, span: span,
            attributes: [("logger", "orders.http"), ("caller", "http/handler.go:87"), ("method", "GET"),
                         ("path", "/api/v1/orders"), ("status", "200"), ("duration_ms", "12")]))
    }

    func testZapWithStacktraceAndISOTime() {
        XCTAssertGolden(parser, Golden(
            line: #"{"level":"error","ts":"2026-11-21T10:00:00.321Z","logger":"orders.controller","msg":"Reconciler error","error":"etcdserver: request timed out","stacktrace":"main.run\n\t/app/main.go:42"}"#,
            severity: .error, time: "2026-11-21T10:00:00.321Z", body: "Reconciler error",
            attributes: [("logger", "orders.controller"), ("error", "etcdserver: request timed out"),
                         ("stacktrace", "main.run\n\t/app/main.go:42")]))
    }

    func testZerologMessageLastAndRuntimeTimeKept() {
        XCTAssertGolden(parser, Golden(
            line: #"{"level":"warn","service":"payments","time":"2026-11-21T09:59:58Z","attempt":2,"error":"connection refused","message":"Retrying request to payments"}"#,
            severity: .warn, time: "2026-11-21T09:59:58Z", body: "Retrying request to payments",
            attributes: [("service", "payments"), ("attempt", "2"), ("error", "connection refused"),
                         ("k8s.runtime.time", "2026-11-21T09:59:59.500000000Z")]))
    }

    func testLogrusJSONWithOffset() {
        XCTAssertGolden(parser, Golden(
            line: #"{"level":"error","msg":"Failed to reserve stock","sku":"SKU-12345","time":"2026-11-21T10:00:00+01:00"}"#,
            severity: .error, time: "2026-11-21T09:00:00Z", body: "Failed to reserve stock",
            // 20 minutes from the runtime time: not a whole number of quarter hours, so the
            // stamp's own offset decides (docs/PARSERS.md, "Timestamps").
            attributes: [("sku", "SKU-12345"), ("k8s.runtime.time", "2026-11-21T09:20:00.500000000Z")],
            runtime: nanos("2026-11-21T09:20:00.5Z")))
    }

    func testPinoNumericLevelEpochMillisAndNestedObject() {
        XCTAssertGolden(parser, Golden(
            line: #"{"level":30,"time":1795255200123,"pid":1,"hostname":"cart-6d5b7c9f4b-zq9tn","req":{"id":7,"method":"POST","url":"/api/v1/cart"},"msg":"request completed","responseTime":18}"#,
            severity: .info, time: "2026-11-21T10:00:00.123Z", body: "request completed",
            attributes: [("pid", "1"), ("hostname", "cart-6d5b7c9f4b-zq9tn"), ("req.id", "7"), ("req.method", "POST"),
                         ("req.url", "/api/v1/cart"), ("responseTime", "18")]))
    }

    func testBunyan() {
        XCTAssertGolden(parser, Golden(
            line: #"{"name":"catalog","hostname":"catalog-5f7d8b9c6d-h4wpl","pid":12,"level":50,"msg":"db timeout","time":"2026-11-21T10:00:00.100Z","v":0}"#,
            severity: .error, time: "2026-11-21T10:00:00.1Z", body: "db timeout",
            attributes: [("name", "catalog"), ("hostname", "catalog-5f7d8b9c6d-h4wpl"), ("pid", "12"), ("v", "0")]))
    }

    func testECSDottedKeys() {
        XCTAssertGolden(parser, Golden(
            line: #"{"@timestamp":"2026-11-21T10:00:00.200Z","log.level":"WARN","message":"Slow query detected","ecs.version":"1.6.0","service.name":"orders","trace.id":"4bf92f3577b34da6a3ce929d0e0e4736","span.id":"00f067aa0ba902b7","event":{"dataset":"orders.log"}}"#,
            severity: .warn, time: "2026-11-21T10:00:00.2Z", body: "Slow query detected", trace: trace, span: span,
            attributes: [("ecs.version", "1.6.0"), ("service.name", "orders"), ("event.dataset", "orders.log")]))
    }

    func testECSNestedObjects() {
        XCTAssertGolden(parser, Golden(
            line: #"{"@timestamp":"2026-11-21T10:00:00.200Z","log":{"level":"error","logger":"OrderService"},"message":"boom","trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"},"span":{"id":"00f067aa0ba902b7"}}"#,
            severity: .error, time: "2026-11-21T10:00:00.2Z", body: "boom", trace: trace, span: span,
            attributes: [("log.logger", "OrderService")]))
    }

    func testLogstashLogbackEncoder() {
        XCTAssertGolden(parser, Golden(
            line: #"{"@timestamp":"2026-11-21T10:00:00.321+00:00","@version":"1","message":"Created order 42","logger_name":"com.example.orders.web.OrderController","thread_name":"http-nio-8080-exec-3","level":"INFO","level_value":20000,"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7"}"#,
            severity: .info, time: "2026-11-21T10:00:00.321Z", body: "Created order 42", trace: trace, span: span,
            attributes: [("@version", "1"), ("logger_name", "com.example.orders.web.OrderController"),
                         ("thread_name", "http-nio-8080-exec-3"), ("level_value", "20000")]))
    }

    func testOpenTelemetryRecord() {
        XCTAssertGolden(parser, Golden(
            line: #"{"timeUnixNano":"1795255200123000000","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"payment failed"},"attributes":[{"key":"order.id","value":{"stringValue":"A-1"}}],"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7"}"#,
            severity: .error, time: "2026-11-21T10:00:00.123Z", body: "payment failed", trace: trace, span: span,
            attributes: [("attributes", #"[{"key":"order.id","value":{"stringValue":"A-1"}}]"#)]))
    }

    func testOpenTelemetrySeverityNumberOnlyAndStringBody() {
        XCTAssertGolden(parser, Golden(
            line: #"{"timeUnixNano":1795255200123000000,"severityNumber":14,"body":"disk almost full"}"#,
            severity: .warn, time: "2026-11-21T10:00:00.123Z", body: "disk almost full"))
    }

    func testPythonJSONLogger() {
        XCTAssertGolden(parser, Golden(
            line: #"{"asctime": "2026-11-21 10:00:00,250", "levelname": "ERROR", "name": "orders.api", "message": "Request failed", "status": 500, "otelTraceID": "4bf92f3577b34da6a3ce929d0e0e4736", "otelSpanID": "00f067aa0ba902b7"}"#,
            severity: .error, time: "2026-11-21T10:00:00.25Z", body: "Request failed", trace: trace, span: span,
            attributes: [("name", "orders.api"), ("status", "500")]))
    }

    func testSerilogCompact() {
        XCTAssertGolden(parser, Golden(
            line: #"{"@t":"2026-11-21T10:00:00.1234567Z","@mt":"Processed {Count} items","@m":"Processed 5 items","@l":"Warning","Count":5}"#,
            severity: .warn, time: "2026-11-21T10:00:00.1234567Z", body: "Processed 5 items",
            attributes: [("@mt", "Processed {Count} items"), ("Count", "5")]))
    }

    func testNoMessageKeepsTheBody() {
        let line = #"{"level":"info","ts":"2026-11-21T10:00:00.1Z","event":"login","user":"u-1","ok":true,"quota":null}"#
        XCTAssertGolden(parser, Golden(
            line: line, severity: .info, time: "2026-11-21T10:00:00.1Z", body: line,
            attributes: [("event", "login"), ("user", "u-1"), ("ok", "true"), ("quota", "null")]))
    }

    func testEscapesAreDecoded() {
        XCTAssertGolden(parser, Golden(
            line: #"{"msg":"line1\nline2 \"quoted\" \u00e9 \ud83d\ude00 \/","path":"C:\\exports","k\u0065y":"v"}"#,
            severity: nil, time: nil, body: "line1\nline2 \"quoted\" é 😀 /",
            attributes: [("path", "C:\\exports"), ("key", "v")]))
    }

    func testImplausibleTimeStaysAnAttribute() {
        XCTAssertGolden(parser, Golden(
            line: #"{"msg":"old","time":"2020-01-01T00:00:00Z","level":"notalevel"}"#,
            severity: nil, time: nil, body: "old",
            attributes: [("time", "2020-01-01T00:00:00Z"), ("level", "notalevel")]))
    }

    func testArraysAndEmptyObjectsKeepTheirJSONText() {
        XCTAssertGolden(parser, Golden(
            line: #"{"msg":"batch","ids":[1, 2, 3],"tags":["a","b]"],"meta":{},"deep":{"a":{"b":{"c":1}}}}"#,
            severity: nil, time: nil, body: "batch",
            attributes: [("ids", "[1, 2, 3]"), ("tags", #"["a","b]"]"#), ("meta", "{}"), ("deep.a.b.c", "1")]))
    }

    func testMessagePrecedenceAndDuplicates() {
        // msg beats message; a repeated key keeps its last value.
        XCTAssertGolden(parser, Golden(
            line: #"{"message":"second","msg":"first","a":"1","a":"2"}"#,
            severity: nil, time: nil, body: "first", attributes: [("message", "second"), ("a", "2")]))
    }

    func testNotJSONObjects() {
        for line in [
            #"{"msg":"abc"#, #"{"a":1} trailing"#, #"{"msg":"bad \x escape"}"#, "[1,2]", "{", "{}}", #"{"a" 1}"#,
            #"{"a":tru}"#, #"{"a":1,}"#, "plain text", "",
        ] {
            var r = record(line)
            let before = r
            XCTAssertFalse(parser.parse(&r), line)
            XCTAssertEqual(r, before, line)
        }
    }

    func testEmptyObjectIsJSONButChangesNothing() {
        var r = record("{ }")
        XCTAssertTrue(parser.parse(&r))
        XCTAssertEqual(r.body, "{ }")
        XCTAssertEqual(r.attributes, [])
    }

    func testNumericLevels() {
        XCTAssertEqual(SeverityWords.numeric(-1), .debug)
        XCTAssertEqual(SeverityWords.numeric(0), .info)
        XCTAssertEqual(SeverityWords.numeric(1), .warn)
        XCTAssertEqual(SeverityWords.numeric(2), .error)
        XCTAssertEqual(SeverityWords.numeric(5), .fatal)
        XCTAssertEqual(SeverityWords.numeric(10), .trace)
        XCTAssertEqual(SeverityWords.numeric(20), .debug)
        XCTAssertEqual(SeverityWords.numeric(40), .warn)
        XCTAssertEqual(SeverityWords.numeric(60), .fatal)
        XCTAssertNil(SeverityWords.numeric(7))
        XCTAssertNil(SeverityWords.numeric(20000))
    }

    func testLevelWordsMatchSeverityTextInit() {
        for word in ["TRACE", "debug", "Info", "information", "NOTICE", "warning", "WRN", "err", "SEVERE", "alert",
                     "fatal", "CRITICAL", "emerg", "panic", "verbose", "E", "w"] {
            XCTAssertEqual(SeverityWords.match(word), Severity(text: word), word)
        }
        XCTAssertNil(SeverityWords.match("informative"))
        XCTAssertNil(SeverityWords.match(""))
    }
}
