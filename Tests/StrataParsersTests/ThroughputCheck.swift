import Foundation
import StrataCore
import XCTest

@testable import StrataParsers

/// A throughput check to run by hand in release mode (not a timed test):
///
///     STRATA_PARSERS_THROUGHPUT=1 swift test -c release --filter ThroughputCheck
///
/// Prints MB/s (10^6 bytes of body per second of this thread's CPU time) per parser and for the whole
/// normalizer. Skipped unless STRATA_PARSERS_THROUGHPUT is set.
final class ThroughputCheck: XCTestCase {
    static let enabled = ProcessInfo.processInfo.environment["STRATA_PARSERS_THROUGHPUT"] != nil

    /// Distinct realistic lines per format (ids, numbers and times vary).
    static func lines(_ format: String, count: Int = 20_000) -> [String] {
        (0..<count).map { i in
            let ms = String(format: "%03d", i % 1000)
            let hex = String(format: "%016llx%016llx", UInt64(i) &* 0x9E37_79B9_7F4A_7C15, UInt64(i) &+ 77)
            let span = String(format: "%016llx", UInt64(i) &* 0xBF58_476D_1CE4_E5B9 | 1)
            switch format {
            case "json":
                return #"{"level":"info","ts":1795255200.\#(ms)456,"logger":"orders.http","caller":"http/handler.go:\#(i % 400)","msg":"Outbound request completed","service":"payments","method":"GET","path":"/api/v1/orders/\#(100000 + i)","status":200,"duration_ms":\#(i % 900),"trace_id":"\#(hex)","span_id":"\#(span)"}"#
            case "logfmt":
                return #"time=2026-11-21T10:00:00.\#(ms)Z level=INFO msg="Outbound request completed" service=payments method=GET path=/api/v1/orders/\#(100000 + i) status=200 duration_ms=\#(i % 900) trace_id=\#(hex) span_id=\#(span)"#
            case "klog":
                return #"I1121 10:00:00.\#(ms)456       1 controller.go:\#(i % 900)] "Reconciling" controller="order" namespace="shop" name="orders-\#(i)" reconcileID="\#(hex)""#
            case "logback":
                return "2026-11-21 10:00:00.\(ms)  INFO [orders,\(hex),\(span)] 1 --- [nio-8080-exec-\(i % 12)] c.e.orders.web.OrderController          : Created order \(i) for customer u-\(10000 + i % 90000) total=\(i % 999).99 currency=EUR items=\(i % 12)"
            case "python":
                return "2026-11-21 10:00:00,\(ms) - orders.api - WARNING - Retrying request to payments attempt=\(i % 3) max_attempts=3 backoff_ms=\(i % 900) error=connection refused"
            case "nginx":
                return #"203.0.\#(i % 256).\#(i % 254 + 1) - - [21/Nov/2026:10:00:00 +0000] "GET /api/v1/products?category=shoes&page=\#(i % 20) HTTP/1.1" 200 \#(i % 60000) "https://shop.example.com/" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36" 734 0.\#(ms) [shop-catalog-8080] [] 10.244.1.17:8080 \#(i % 60000) 0.\#(ms) 200 \#(hex)"#
            case "syslog":
                return #"<165>1 2026-11-21T10:00:00.\#(ms)Z web-\#(i % 9) orders \#(4000 + i % 999) ID47 [origin@32473 ip="10.0.0.\#(i % 254)"] An application event number \#(i) happened while processing the order"#
            default:  // plain text with ids (trace scan, sniffing, redaction)
                return "2026/11/21 10:00:00 http/handler.go:\(i % 400): [INFO] Inbound request method=GET path=/api/v1/orders/\(100000 + i) status=200 duration_ms=\(i % 900) TraceID: \(hex) SpanID: \(span)"
            }
        }
    }

    /// CPU time of this thread (other processes building on the machine do not count).
    static func threadCPUNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Runs `body` over the records until about `target` bytes were processed; MB/s.
    static func measure(_ records: [LogRecord], target: Int = 400_000_000, _ body: (inout LogRecord) -> Void) -> Double {
        let bytesPerPass = records.reduce(0) { $0 + $1.body.utf8.count }
        // Warm up.
        for record in records.prefix(2000) {
            var r = record
            body(&r)
        }
        let passes = max(1, target / bytesPerPass)
        let start = Self.threadCPUNanos()
        for _ in 0..<passes {
            for record in records {
                var r = record
                body(&r)
            }
        }
        let seconds = Double(Self.threadCPUNanos() - start) / 1e9
        return Double(passes * bytesPerPass) / seconds / 1e6
    }

    func testThroughput() throws {
        try XCTSkipUnless(Self.enabled, "set STRATA_PARSERS_THROUGHPUT=1 (and use -c release)")
        let registry = ParserRegistry.builtins
        let normalizer = Normalizer(configuration: NormalizerConfiguration(), registry: registry)
        var report: [String] = []
        for format in ["json", "logfmt", "klog", "logback", "python", "nginx", "syslog"] {
            let records = Self.lines(format).map { record($0) }
            let parser = registry.parser(named: format)!
            var failures = 0
            for record in records.prefix(100) {
                var r = record
                if !parser.parse(&r) { failures += 1 }
            }
            XCTAssertEqual(failures, 0, format)
            let average = records.reduce(0) { $0 + $1.body.utf8.count } / records.count
            let parse = Self.measure(records) { _ = parser.parse(&$0) }
            let full = Self.measure(records) { _ = normalizer.normalize(&$0) }
            report.append(String(format: "%-8@ %4d B/line  parser %7.0f MB/s   normalizer (auto+trace+sniff+redact) %7.0f MB/s",
                                 format as NSString, average, parse, full))
        }
        let plain = Self.lines("plain").map { record($0) }
        let average = plain.reduce(0) { $0 + $1.body.utf8.count } / plain.count
        let trace = Self.measure(plain) { var r = $0; r.traceID = nil; TraceExtractor.extract(&r) }
        let sniff = Self.measure(plain) { _ = SeveritySniffer.apply(&$0) }
        let redactor = Redactor()
        let redact = Self.measure(plain) { redactor.redact(&$0) }
        let full = Self.measure(plain) { _ = normalizer.normalize(&$0) }
        report.append(String(format: "plain    %4d B/line  trace scan %7.0f MB/s   sniff %7.0f MB/s   redact %7.0f MB/s   normalizer %7.0f MB/s",
                             average, trace, sniff, redact, full))
        print("\n" + report.joined(separator: "\n"))
    }
}
