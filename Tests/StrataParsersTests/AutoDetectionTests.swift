import StrataCore
import XCTest

@testable import StrataParsers

final class AutoDetectionTests: XCTestCase {
    let samples: [(String, LogFormat?, String)] = [
        (#"{"level":"info","msg":"hi"}"#, .json, "json"),
        ("time=2026-11-21T10:00:00Z level=info msg=hi", .logfmt, "logfmt"),
        ("I1121 10:00:00.123456       1 main.go:1] hi", .klog, "klog"),
        ("2026-11-21 10:00:00.123  INFO 1 --- [main] c.e.App : hi", .logback, "logback"),
        ("10:00:00.123 [main] INFO  c.e.App - hi", .logback, "logback"),
        ("[2026-11-21 10:00:00,123] INFO hi (kafka.Kafka)", .logback, "logback"),
        ("2026-11-21 10:00:00,123 - app - INFO - hi", .python, "python"),
        ("ERROR:root:hi", .python, "python"),
        ("[2026-11-21 10:00:00 +0000] [12] [INFO] hi", .python, "python"),
        (#"10.0.0.1 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-""#, .access, "nginx"),
        (#"shop.example.com - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1"#, .access, "nginx"),
        ("<34>Nov 21 10:00:00 host su: hi", .syslog, "syslog"),
        ("<165>1 2026-11-21T10:00:00Z host app - - - hi", .syslog, "syslog"),
    ]

    func testFirstBytesDecideTheCandidates() {
        for (line, format, _) in samples {
            XCTAssertTrue(AutoDetector.candidates(for: line).contains(format!), line)
        }
        XCTAssertEqual(AutoDetector.candidates(for: "2026-11-21 10:00:00,123 x"), [.python, .logback])
        for line in ["plain text", "", "x", "   indented", "Hello: world", "<html>", "[main] hi"] {
            XCTAssertEqual(AutoDetector.candidates(for: line), [], line)
        }
    }

    func testEachSampleIsParsedAndRemembered() {
        for (index, (line, format, _)) in samples.enumerated() {
            let detector = AutoDetector()
            var r = record(line, containerID: "c\(index)")
            XCTAssertTrue(detector.parse(&r), line)
            XCTAssertEqual(r.body, format == .access ? line : "hi", line)
            XCTAssertEqual(detector.rememberedFormat(for: r), format, line)
        }
    }

    func testLeadingDatePrefersPythonThenLogback() {
        let detector = AutoDetector()
        var spring = record("2026-11-21 10:00:00,123 ERROR [main] c.e.App - boom")
        XCTAssertTrue(detector.parse(&spring))
        XCTAssertEqual(detector.rememberedFormat(for: spring), .logback)
        XCTAssertEqual(spring.body, "boom")
    }

    func testFormatIsRecheckedOnlyOnFailure() {
        let detector = AutoDetector()
        var first = record(#"{"level":"warn","msg":"one"}"#)
        XCTAssertTrue(detector.parse(&first))
        XCTAssertEqual(detector.rememberedFormat(for: first), .json)
        // A klog line from the same container (client-go inside a zap service) is detected anew...
        var klog = record("E1121 10:00:00.000000       1 reflector.go:1] watch failed")
        XCTAssertTrue(detector.parse(&klog))
        XCTAssertEqual(klog.severity, .error)
        XCTAssertEqual(detector.rememberedFormat(for: klog), .klog)
        // ...and JSON again after it.
        var second = record(#"{"level":"info","msg":"two"}"#)
        XCTAssertTrue(detector.parse(&second))
        XCTAssertEqual(second.body, "two")
        XCTAssertEqual(detector.rememberedFormat(for: second), .json)
        // Streams of one container are remembered apart.
        var stderr = record("I1121 10:00:00.000000       1 main.go:1] x", stream: .stderr)
        XCTAssertTrue(detector.parse(&stderr))
        XCTAssertEqual(detector.rememberedFormat(for: stderr), .klog)
        XCTAssertEqual(detector.rememberedFormat(for: record("")), .json)
    }

    func testUnknownTextIsKeptAsItCame() {
        let detector = AutoDetector()
        for line in ["just some text", "   Traceback (most recent call last):", "\u{FFFD}\u{FFFD}", ""] {
            var r = record(line)
            let before = r
            XCTAssertFalse(detector.parse(&r), line)
            XCTAssertEqual(r, before, line)
        }
    }

    func testLeadingStampAloneIsTakenButNotRemembered() {
        let detector = AutoDetector()
        var goLog = record("2026/11/21 10:00:00 handler.go:42: [INFO] Inbound request")
        XCTAssertTrue(detector.parse(&goLog))
        XCTAssertEqual(RFC3339.format(nanos: goLog.timestamp), "2026-11-21T10:00:00.000000000Z")
        XCTAssertEqual(goLog.body, "2026/11/21 10:00:00 handler.go:42: [INFO] Inbound request")
        XCTAssertNil(detector.rememberedFormat(for: goLog))
    }

    func testRecordsWithoutSourceAreStillDetected() {
        let detector = AutoDetector()
        var r = LogRecord(timestamp: runtimeTime, observedTimestamp: runtimeTime, body: "level=info msg=x")
        XCTAssertTrue(detector.parse(&r))
        XCTAssertEqual(r.body, "x")
    }

    func testRegistryOverridesApplyToDetection() {
        var registry = ParserRegistry.builtins
        registry.register(LogbackParser(name: "logback", options: DecoderOptions(utcOffset: 3600)))
        let detector = AutoDetector(registry: registry)
        var r = record("2026-11-21 11:00:00.123  INFO 1 --- [main] c.e.App : hi")
        XCTAssertTrue(detector.parse(&r))
        XCTAssertEqual(RFC3339.format(nanos: r.timestamp), "2026-11-21T10:00:00.123000000Z")
    }
}
