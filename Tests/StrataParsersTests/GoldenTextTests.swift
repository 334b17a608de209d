import StrataCore
import XCTest

@testable import StrataParsers

let goldenTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
let goldenSpan = "00f067aa0ba902b7"

final class GoldenLogfmtTests: XCTestCase {
    let parser = LogfmtParser()

    func testSlog() {
        XCTAssertGolden(parser, Golden(
            line: "time=2026-11-21T10:00:00.123Z level=WARN msg=\"Retrying request to payments\" attempt=2 max_attempts=3 error=\"connection refused\" trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
            severity: .warn, time: "2026-11-21T10:00:00.123Z", body: "Retrying request to payments",
            trace: goldenTrace, span: goldenSpan,
            attributes: [("attempt", "2"), ("max_attempts", "3"), ("error", "connection refused")]))
    }

    func testLogrusText() {
        XCTAssertGolden(parser, Golden(
            line: "level=warning msg=\"Slow query detected\" table=orders duration_ms=1200",
            severity: .warn, time: nil, body: "Slow query detected",
            attributes: [("table", "orders"), ("duration_ms", "1200")]))
    }

    func testGoKit() {
        XCTAssertGolden(parser, Golden(
            line: "ts=2026-11-21T10:00:00.123Z caller=scrape.go:1234 level=info msg=\"Scrape pool synced\" scrape_pool=serviceMonitor/monitoring/orders/0 targets=3",
            severity: .info, time: "2026-11-21T10:00:00.123Z", body: "Scrape pool synced",
            attributes: [("caller", "scrape.go:1234"), ("scrape_pool", "serviceMonitor/monitoring/orders/0"), ("targets", "3")]))
    }

    func testGrafana() {
        XCTAssertGolden(parser, Golden(
            line: "logger=context userId=3 orgId=1 t=2026-11-21T10:00:00.123456Z level=error msg=\"Request Completed\" method=GET path=/api/dashboards/uid/abc status=500 time_ms=12",
            severity: .error, time: "2026-11-21T10:00:00.123456Z", body: "Request Completed",
            attributes: [("logger", "context"), ("userId", "3"), ("orgId", "1"), ("method", "GET"),
                         ("path", "/api/dashboards/uid/abc"), ("status", "500"), ("time_ms", "12")]))
    }

    func testQuotedEscapesEmptyValuesAndBareKeys() {
        XCTAssertGolden(parser, Golden(
            line: #"msg="say \"hi\"\tthere" path="C:\\x" empty="" query=a=b unicode="caf\u00e9" flag"#,
            severity: nil, time: nil, body: "say \"hi\"\tthere",
            attributes: [("path", "C:\\x"), ("empty", ""), ("query", "a=b"), ("unicode", "café"), ("flag", "")]))
    }

    func testFollowingLinesStayAfterTheMessage() {
        XCTAssertGolden(parser, Golden(
            line: "level=error msg=panic\ngoroutine 1 [running]:\nmain.main()",
            severity: .error, time: nil, body: "panic\ngoroutine 1 [running]:\nmain.main()"))
    }

    func testNotLogfmt() {
        for line in ["Starting server on port 8080 mode=prod", "msg=\"unterminated", "a=\"x\"y", "=value",
                     "one=1 two three four", "http://x/?a=b", "{\"a\":1}"] {
            var r = record(line)
            XCTAssertFalse(parser.parse(&r), line)
            XCTAssertEqual(r.body, line)
        }
    }
}

final class GoldenKlogTests: XCTestCase {
    let parser = KlogParser()

    func testUnstructured() {
        XCTAssertGolden(parser, Golden(
            line: "I1121 10:00:00.123456       1 controller.go:123] Successfully synced key=shop/orders",
            severity: .info, time: "2026-11-21T10:00:00.123456Z", body: "Successfully synced key=shop/orders",
            attributes: [("thread.id", "1"), ("code.file.path", "controller.go"), ("code.line.number", "123")]))
    }

    func testStructured() {
        XCTAssertGolden(parser, Golden(
            line: #"E1121 09:59:58.000001      42 reconciler.go:301] "Reconciler error" controller="order" namespace="shop" name="orders-7d9f" attempt=3 err="etcdserver: request \"timed\" out""#,
            severity: .error, time: "2026-11-21T09:59:58.000001Z", body: "Reconciler error",
            attributes: [("thread.id", "42"), ("code.file.path", "reconciler.go"), ("code.line.number", "301"),
                         ("controller", "order"), ("namespace", "shop"), ("name", "orders-7d9f"), ("attempt", "3"),
                         ("err", "etcdserver: request \"timed\" out"),
                         ("k8s.runtime.time", "2026-11-21T09:59:59.500000000Z")]))
    }

    func testYearComesFromTheRuntimeTime() {
        XCTAssertGolden(parser, Golden(
            line: "W1231 23:59:59.900000 7 leaderelection.go:330] failed to renew lease",
            severity: .warn, time: "2026-12-31T23:59:59.9Z", body: "failed to renew lease",
            attributes: [("thread.id", "7"), ("code.file.path", "leaderelection.go"), ("code.line.number", "330"),
                         ("k8s.runtime.time", "2027-01-01T00:00:01.000000000Z")],
            runtime: nanos("2027-01-01T00:00:01Z")))
    }

    func testFatalWithGoroutineDump() {
        XCTAssertGolden(parser, Golden(
            line: "F1121 10:00:00.000000       1 main.go:42] panic: boom\ngoroutine 1 [running]:\nmain.main()",
            severity: .fatal, time: "2026-11-21T10:00:00Z", body: "panic: boom\ngoroutine 1 [running]:\nmain.main()",
            attributes: [("thread.id", "1"), ("code.file.path", "main.go"), ("code.line.number", "42")]))
    }

    func testPathWithDirectories() {
        XCTAssertGolden(parser, Golden(
            line: "I1121 10:00:00.400000   12345 k8s.io/client-go/tools/cache/reflector.go:351] Caches populated",
            severity: .info, time: "2026-11-21T10:00:00.4Z", body: "Caches populated",
            attributes: [("thread.id", "12345"), ("code.file.path", "k8s.io/client-go/tools/cache/reflector.go"),
                         ("code.line.number", "351")]))
    }

    func testNotKlog() {
        for line in ["I1121 not klog", "Info 10:00:00", "I1121 10:00:00.123456 x main.go:1] y", "I1121 10:00:00.1 1 nobracket"] {
            var r = record(line)
            XCTAssertFalse(parser.parse(&r), line)
        }
    }
}

final class GoldenLogbackTests: XCTestCase {
    let parser = LogbackParser()

    func testSpringBoot2WithSleuth() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21 10:00:00.123  INFO [orders,4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7] 1 --- [nio-8080-exec-1] c.e.orders.web.OrderController          : Created order 42 for customer u-1",
            severity: .info, time: "2026-11-21T10:00:00.123Z", body: "Created order 42 for customer u-1",
            trace: goldenTrace, span: goldenSpan,
            attributes: [("process.pid", "1"), ("thread.name", "nio-8080-exec-1"), ("service.name", "orders"),
                         ("log.logger", "c.e.orders.web.OrderController")]))
    }

    func testSpringBoot2WithoutTrace() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21 10:00:00.123 ERROR [orders,,] 1 --- [           main] o.s.boot.SpringApplication               : Application run failed",
            severity: .error, time: "2026-11-21T10:00:00.123Z", body: "Application run failed",
            attributes: [("process.pid", "1"), ("thread.name", "main"), ("service.name", "orders"),
                         ("log.logger", "o.s.boot.SpringApplication")]))
    }

    func testSpringBootDefaultWithoutSleuth() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21 10:00:00.123  INFO 1 --- [nio-8080-exec-1] c.e.demo.OrderController : message",
            severity: .info, time: "2026-11-21T10:00:00.123Z", body: "message",
            attributes: [("process.pid", "1"), ("thread.name", "nio-8080-exec-1"), ("log.logger", "c.e.demo.OrderController")]))
    }

    func testSpringBoot3WithMicrometerIds() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21T10:00:00.123Z  WARN 1 --- [orders] [nio-8080-exec-2] [4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7] c.e.orders.web.OrderController : Slow query detected",
            severity: .warn, time: "2026-11-21T10:00:00.123Z", body: "Slow query detected",
            trace: goldenTrace, span: goldenSpan,
            attributes: [("process.pid", "1"), ("service.name", "orders"), ("thread.name", "nio-8080-exec-2"),
                         ("log.logger", "c.e.orders.web.OrderController")]))
    }

    func testSpringBoot3WithoutTraceAndCommaIds() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21T10:00:00.123Z  INFO 1 --- [orders] [           main] [                                                 ] o.s.b.StartupInfoLogger : Started",
            severity: .info, time: "2026-11-21T10:00:00.123Z", body: "Started",
            attributes: [("process.pid", "1"), ("service.name", "orders"), ("thread.name", "main"),
                         ("log.logger", "o.s.b.StartupInfoLogger")]))
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21T10:00:00.123Z  INFO 1 --- [orders] [main] [4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7] c.e.App : x",
            severity: .info, time: "2026-11-21T10:00:00.123Z", body: "x", trace: goldenTrace, span: goldenSpan,
            attributes: [("process.pid", "1"), ("service.name", "orders"), ("thread.name", "main"), ("log.logger", "c.e.App")]))
    }

    func testLog4jWithStackTrace() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21 10:00:00,123 ERROR [http-nio-8080-exec-5] com.example.orders.OrderService - Payment declined for order 42\njava.lang.IllegalStateException: declined\n\tat com.example.orders.OrderService.pay(OrderService.java:88)",
            severity: .error, time: "2026-11-21T10:00:00.123Z",
            body: "Payment declined for order 42\njava.lang.IllegalStateException: declined\n\tat com.example.orders.OrderService.pay(OrderService.java:88)",
            attributes: [("thread.name", "http-nio-8080-exec-5"), ("log.logger", "com.example.orders.OrderService")]))
    }

    func testLogbackDefaultTimeOnly() {
        XCTAssertGolden(parser, Golden(
            line: "10:00:00.123 [main] INFO  c.e.demo.Application - Started Application in 3.2 seconds",
            severity: .info, time: "2026-11-21T10:00:00.123Z", body: "Started Application in 3.2 seconds",
            attributes: [("thread.name", "main"), ("log.logger", "c.e.demo.Application")]))
    }

    func testTimeOnlyJustBeforeMidnightReadAfterIt() {
        XCTAssertGolden(parser, Golden(
            line: "23:59:59.900 [main] WARN  c.e.Foo - late",
            severity: .warn, time: "2026-11-21T23:59:59.9Z", body: "late",
            attributes: [("thread.name", "main"), ("log.logger", "c.e.Foo")],
            runtime: nanos("2026-11-22T00:00:00.2Z")))
    }

    func testTimeOnlyJustAfterMidnightReadBeforeIt() {
        // A clock running slightly ahead of the runtime's.
        XCTAssertGolden(parser, Golden(
            line: "00:00:00.100 INFO c.e.Foo - early",
            severity: .info, time: "2026-11-22T00:00:00.1Z", body: "early",
            attributes: [("log.logger", "c.e.Foo")],
            runtime: nanos("2026-11-21T23:59:59.95Z")))
    }

    func testLoggerWithLineNumber() {
        XCTAssertGolden(parser, Golden(
            line: "10:00:00.123 DEBUG c.e.demo.OrderRepository#42 select from orders",
            severity: .debug, time: "2026-11-21T10:00:00.123Z", body: "select from orders",
            attributes: [("log.logger", "c.e.demo.OrderRepository"), ("code.line.number", "42")]))
    }

    func testKafkaLog4j() {
        XCTAssertGolden(parser, Golden(
            line: "[2026-11-21 10:00:00,123] INFO [Partition orders.v1-3 broker=1] ISR updated to 1,2,3 and version updated to 7 (kafka.cluster.Partition)",
            severity: .info, time: "2026-11-21T10:00:00.123Z",
            body: "[Partition orders.v1-3 broker=1] ISR updated to 1,2,3 and version updated to 7",
            attributes: [("log.logger", "kafka.cluster.Partition")]))
    }

    func testIstioTabSeparated() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21T10:00:00.123456Z\tinfo\tads\tADS: new connection for node:sidecar~10.244.1.5",
            severity: .info, time: "2026-11-21T10:00:00.123456Z", body: "ADS: new connection for node:sidecar~10.244.1.5",
            attributes: [("log.logger", "ads")]))
    }

    func testConfiguredTimeZone() {
        let paris = LogbackParser(options: DecoderOptions(utcOffset: 3600))
        XCTAssertGolden(paris, Golden(
            line: "2026-11-21 11:00:00.123  WARN 1 --- [main] c.e.App : hi",
            severity: .warn, time: "2026-11-21T10:00:00.123Z", body: "hi",
            attributes: [("process.pid", "1"), ("thread.name", "main"), ("log.logger", "c.e.App")]))
        // An explicit offset wins over the configured zone.
        XCTAssertGolden(paris, Golden(
            line: "2026-11-21T10:00:00.123Z  WARN 1 --- [main] c.e.App : hi",
            severity: .warn, time: "2026-11-21T10:00:00.123Z", body: "hi",
            attributes: [("process.pid", "1"), ("thread.name", "main"), ("log.logger", "c.e.App")]))
    }

    func testImplausibleDateIsKeptAsText() {
        XCTAssertGolden(parser, Golden(
            line: "2019-01-01 10:00:00.123 ERROR [main] c.e.App - replayed",
            severity: .error, time: nil, body: "replayed",
            attributes: [("log.time.original", "2019-01-01 10:00:00.123"), ("thread.name", "main"), ("log.logger", "c.e.App")]))
    }

    func testNotLogback() {
        for line in ["2026-11-21 10:00:00.123 something without a level", "10:00 INFO x", "INFO 2026-11-21 x"] {
            var r = record(line)
            XCTAssertFalse(parser.parse(&r), line)
        }
    }
}

final class GoldenPythonTests: XCTestCase {
    let parser = PythonLoggingParser()

    func testCommonFormat() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21 10:00:00,123 - orders.api - ERROR - Request failed method=POST status=500",
            severity: .error, time: "2026-11-21T10:00:00.123Z", body: "Request failed method=POST status=500",
            attributes: [("log.logger", "orders.api")]))
    }

    func testBasicConfigDefault() {
        XCTAssertGolden(parser, Golden(
            line: "WARNING:urllib3.connectionpool:Retrying (Retry(total=2)) after connection broken",
            severity: .warn, time: nil, body: "Retrying (Retry(total=2)) after connection broken",
            attributes: [("log.logger", "urllib3.connectionpool")]))
        XCTAssertGolden(parser, Golden(
            line: "ERROR:root:msg", severity: .error, time: nil, body: "msg", attributes: [("log.logger", "root")]))
    }

    func testOpenTelemetryFormat() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21 10:00:00,123 INFO [orders.api] [views.py:42] [trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 resource.service.name=orders trace_sampled=True] - Created order 42",
            severity: .info, time: "2026-11-21T10:00:00.123Z", body: "Created order 42", trace: goldenTrace, span: goldenSpan,
            attributes: [("log.logger", "orders.api"), ("code.file.path", "views.py"), ("code.line.number", "42"),
                         ("service.name", "orders")]))
    }

    func testOpenTelemetryFormatUnsampled() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21 10:00:00,123 DEBUG [orders.db] [models.py:7] [trace_id=0 span_id=0 resource.service.name=orders trace_sampled=False] - Cache miss",
            severity: .debug, time: "2026-11-21T10:00:00.123Z", body: "Cache miss",
            attributes: [("log.logger", "orders.db"), ("code.file.path", "models.py"), ("code.line.number", "7"),
                         ("service.name", "orders")]))
    }

    func testColouredLevel() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21 10:00:00,123 \u{1B}[33mWARNING\u{1B}[0m orders.worker: Slow query detected",
            severity: .warn, time: "2026-11-21T10:00:00.123Z", body: "Slow query detected",
            attributes: [("log.logger", "orders.worker")]))
    }

    func testGunicorn() {
        XCTAssertGolden(parser, Golden(
            line: "[2026-11-21 10:00:00 +0000] [12] [INFO] Booting worker with pid: 12",
            severity: .info, time: "2026-11-21T10:00:00Z", body: "Booting worker with pid: 12",
            attributes: [("process.pid", "12")]))
    }

    func testTracebackStaysInTheBody() {
        XCTAssertGolden(parser, Golden(
            line: "2026-11-21 10:00:00,123 - orders.api - CRITICAL - Unhandled\nTraceback (most recent call last):\n  File \"x.py\", line 1",
            severity: .fatal, time: "2026-11-21T10:00:00.123Z",
            body: "Unhandled\nTraceback (most recent call last):\n  File \"x.py\", line 1",
            attributes: [("log.logger", "orders.api")]))
    }

    func testNotPython() {
        for line in ["2026-11-21 10:00:00,123 - orders.api - message", "Hello: world", "INFO message",
                     "2026-11-21 10:00:00.123  INFO 1 --- [main] c.e.App : hi"] {
            var r = record(line)
            XCTAssertFalse(parser.parse(&r), line)
        }
    }
}

final class GoldenAccessLogTests: XCTestCase {
    let parser = AccessLogParser()

    func testCombinedWithRequestTime() {
        let line = #"203.0.113.7 - alice [21/Nov/2026:10:00:00 +0000] "GET /api/v1/orders?page=2 HTTP/1.1" 200 512 "https://shop.example.com/" "curl/8.11.0" 0.012"#
        XCTAssertGolden(parser, Golden(
            line: line, severity: .info, time: "2026-11-21T10:00:00Z", body: line,
            attributes: [("client.address", "203.0.113.7"), ("user.name", "alice"), ("http.request.method", "GET"),
                         ("url.path", "/api/v1/orders"), ("url.query", "page=2"), ("network.protocol.name", "http"),
                         ("network.protocol.version", "1.1"), ("http.response.status_code", "200"),
                         ("http.response.body.size", "512"), ("http.request.header.referer", "https://shop.example.com/"),
                         ("user_agent.original", "curl/8.11.0"), ("http.server.request.duration", "0.012")]))
    }

    func testIngressNginxUpstreamInfo() {
        let line = #"10.0.3.4 - - [21/Nov/2026:10:00:00 +0000] "POST /api/v1/payments/123/capture HTTP/2.0" 502 150 "-" "okhttp/4.12.0" 512 0.031 [shop-payments-8080] [] 10.244.1.17:8080 150 0.030 502 7f3c2a9d1b4e4f6a8c0d2e1f3a5b7c9d "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01""#
        XCTAssertGolden(parser, Golden(
            line: line, severity: .error, time: "2026-11-21T10:00:00Z", body: line,
            attributes: [("client.address", "10.0.3.4"), ("http.request.method", "POST"),
                         ("url.path", "/api/v1/payments/123/capture"), ("network.protocol.name", "http"),
                         ("network.protocol.version", "2.0"), ("http.response.status_code", "502"),
                         ("http.response.body.size", "150"), ("user_agent.original", "okhttp/4.12.0"),
                         ("http.request.size", "512"), ("http.server.request.duration", "0.031"),
                         ("nginx.upstream.name", "shop-payments-8080"), ("nginx.upstream.address", "10.244.1.17:8080"),
                         ("nginx.upstream.response_size", "150"), ("nginx.upstream.response_time", "0.030"),
                         ("nginx.upstream.status", "502"), ("http.request.id", "7f3c2a9d1b4e4f6a8c0d2e1f3a5b7c9d")]))
    }

    func testCommonLogFormatWithOffset() {
        let line = #"192.168.1.20 - - [21/Nov/2026:10:00:00 +0100] "GET /index.html HTTP/1.0" 404 -"#
        XCTAssertGolden(parser, Golden(
            line: line, severity: .warn, time: "2026-11-21T09:00:00Z", body: line,
            attributes: [("client.address", "192.168.1.20"), ("http.request.method", "GET"), ("url.path", "/index.html"),
                         ("network.protocol.name", "http"), ("network.protocol.version", "1.0"),
                         ("http.response.status_code", "404"), ("k8s.runtime.time", "2026-11-21T09:20:00.500000000Z")],
            runtime: nanos("2026-11-21T09:20:00.5Z")))
    }

    func testApacheIPv6Probe() {
        let line = #"2001:db8::1 - - [21/Nov/2026:10:00:00 +0000] "HEAD / HTTP/1.1" 200 0 "-" "kube-probe/1.31""#
        XCTAssertGolden(AccessLogParser(name: "apache"), Golden(
            line: line, severity: .info, time: "2026-11-21T10:00:00Z", body: line,
            attributes: [("client.address", "2001:db8::1"), ("http.request.method", "HEAD"), ("url.path", "/"),
                         ("network.protocol.name", "http"), ("network.protocol.version", "1.1"),
                         ("http.response.status_code", "200"), ("http.response.body.size", "0"),
                         ("user_agent.original", "kube-probe/1.31")]))
    }

    func testGarbageRequest() {
        let line = #"10.0.0.1 - - [21/Nov/2026:10:00:00 +0000] "\x16\x03\x01" 400 157 "-" "-" rt=0.000 uct="-""#
        XCTAssertGolden(parser, Golden(
            line: line, severity: .warn, time: "2026-11-21T10:00:00Z", body: line,
            attributes: [("client.address", "10.0.0.1"), ("http.response.status_code", "400"),
                         ("http.response.body.size", "157"), ("http.server.request.duration", "0.000")]))
    }

    func testNotAccessLog() {
        for line in ["10.0.0.1 - - [21/Nov/2026:10:00:00 +0000] GET / 200", "a b c [x] \"GET /\" 200 1",
                     #"1.2.3.4 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 999 1"#] {
            var r = record(line)
            XCTAssertFalse(parser.parse(&r), line)
        }
    }
}

final class GoldenSyslogTests: XCTestCase {
    let parser = SyslogParser()

    func testRFC5424() {
        XCTAssertGolden(parser, Golden(
            line: #"<165>1 2026-11-21T10:00:00.003Z web-1 orders 4242 ID47 [origin@32473 ip="10.0.0.1" software="a\"pp"][meta seq="7"][flag@1] An application event"#,
            severity: .info, time: "2026-11-21T10:00:00.003Z", body: "An application event",
            attributes: [("syslog.facility", "20"), ("syslog.version", "1"), ("host.name", "web-1"),
                         ("syslog.app_name", "orders"), ("syslog.proc_id", "4242"), ("syslog.msg_id", "ID47"),
                         ("syslog.sd.origin@32473.ip", "10.0.0.1"), ("syslog.sd.origin@32473.software", "a\"pp"),
                         ("syslog.sd.meta.seq", "7"), ("syslog.sd.flag@1", "")]))
    }

    func testRFC5424NilFieldsAndBOM() {
        XCTAssertGolden(parser, Golden(
            line: "<11>1 2026-11-21T10:00:00Z - - - - - \u{FEFF}disk failure",
            severity: .error, time: "2026-11-21T10:00:00Z", body: "disk failure",
            attributes: [("syslog.facility", "1"), ("syslog.version", "1")]))
    }

    func testRFC3164() {
        XCTAssertGolden(parser, Golden(
            line: "<34>Nov 21 10:00:00 web-1 su[123]: 'su root' failed for alice on /dev/pts/8",
            severity: .fatal, time: "2026-11-21T10:00:00Z", body: "'su root' failed for alice on /dev/pts/8",
            attributes: [("syslog.facility", "4"), ("host.name", "web-1"), ("syslog.app_name", "su"),
                         ("syslog.proc_id", "123")]))
    }

    func testRFC3164PaddedDayWithoutHostAndDebug() {
        XCTAssertGolden(parser, Golden(
            line: "<15>Nov  1 09:00:00 cron: job started",
            severity: .debug, time: "2026-11-01T09:00:00Z", body: "job started",
            attributes: [("syslog.facility", "1"), ("syslog.app_name", "cron"),
                         ("k8s.runtime.time", "2026-11-01T09:00:01.500000000Z")],
            runtime: nanos("2026-11-01T09:00:01.5Z")))
    }

    func testRFC3164FarFromTheRuntimeTime() {
        XCTAssertGolden(parser, Golden(
            line: "<13>Nov  1 09:00:00 host app: msg",
            severity: .info, time: nil, body: "msg",
            attributes: [("syslog.facility", "1"), ("log.time.original", "Nov  1 09:00:00"), ("host.name", "host"),
                         ("syslog.app_name", "app")]))
    }

    func testNotSyslog() {
        for line in ["<html>", "<999>1 x", "<1>", "<34>1 notatime host app - - - msg"] {
            var r = record(line)
            XCTAssertFalse(parser.parse(&r), line)
        }
    }
}
