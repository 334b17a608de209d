import StrataCore
import XCTest

@testable import StrataParsers

/// Bad input never crashes a parser and never loses a record.
final class RobustnessTests: XCTestCase {
    let parsers: [any LogParser] = ParserRegistry.decoderNames.map { ParserRegistry.builtins.parser(named: $0)! }
        + [AutoDetector()]

    /// Runs every parser and the whole normalizer on `body`: a parser that declines must leave
    /// the record untouched, and normalization must keep it.
    func exercise(_ body: String, file: StaticString = #filePath, line: UInt = #line) {
        for parser in parsers {
            var r = record(body)
            let before = r
            if !parser.parse(&r) {
                XCTAssertEqual(r, before, "\(parser.name) changed a record it declined", file: file, line: line)
            }
        }
        var r = record(body)
        XCTAssertEqual(Normalizer(configuration: NormalizerConfiguration(), registry: .builtins).normalize(&r), .kept,
                       file: file, line: line)
        TraceExtractor.extract(&r)
        _ = SeveritySniffer.sniff(body)
        _ = Redactor().redact(body)
    }

    func testBinaryGarbage() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 3, 7, 16, 31, 32, 33, 100, 4096] {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                exercise(String(decoding: bytes, as: UTF8.self))
            }
        }
        exercise(String(decoding: [0, 0, 0, 0x7B, 0, 0x22], as: UTF8.self))
    }

    func testEveryPrefixOfRealisticLines() {
        let lines = [
            #"{"level":"info","ts":1795255200.123456,"msg":"a \"b\" \u00e9","req":{"id":[1,{"x":"}"}]},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#,
            #"time=2026-11-21T10:00:00.123Z level=WARN msg="x \"y\"" trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7"#,
            #"E1121 09:59:59.000001      42 reconciler.go:301] "Reconciler error" controller="order" err="x \"y\"""#,
            "2026-11-21 10:00:00.123  INFO [orders,4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7] 1 --- [nio-8080-exec-1] c.e.OrderController : hi",
            "[2026-11-21 10:00:00,123] INFO x (kafka.cluster.Partition)",
            "2026-11-21 10:00:00,123 INFO [a] [b.py:1] [trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 resource.service.name=x trace_sampled=True] - m",
            #"10.0.3.4 - - [21/Nov/2026:10:00:00 +0000] "POST /x HTTP/2.0" 502 150 "-" "ok" 512 0.031 [a] [] 1.2.3.4:80 150 0.030 502 abc"#,
            #"<165>1 2026-11-21T10:00:00.003Z web-1 orders 4242 ID47 [origin@32473 ip="10.0.0.1"] msg"#,
            "<34>Nov 21 10:00:00 web-1 su[123]: x",
            "password=hunter2 Bearer abcdefghijkl AKIAIOSFODNN7EXAMPLE -----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- eyJabcdefghij.eyJabc.sig",
        ]
        for line in lines {
            let utf8 = Array(line.utf8)
            for end in 0...utf8.count {
                exercise(String(decoding: utf8[0..<end], as: UTF8.self))
            }
        }
    }

    func testInvalidEscapesAndStructures() {
        for body in [
            #"{"msg":"bad \x escape"}"#, #"{"msg":"\u12"}"#, #"{"msg":"\ud800 lone"}"#, #"{"msg":"\udc00"}"#,
            #"{"msg":"x\"#, "{\"a\":\"\u{1}\u{2}\"}", #"msg="\x" a="\u12""#, #"msg="\"#, #"{"a":-}"#, #"{"a":1e999999}"#,
            #"{"ts":1e400,"msg":"x"}"#, #"{"ts":-99999999999999999999,"msg":"x"}"#, #"{"time":"9999-12-31T23:59:59Z"}"#,
            "I1321 25:61:61.000000 1 x.go:1] bad date", "2026-02-30 10:00:00.000 INFO x - y",
            "<191>1 9999-99-99T99:99:99Z h a p m - x", "[]", "[", "]", "<>", "<1", "=", "==", "\"", "\\",
        ] {
            exercise(body)
        }
        var r = record(#"{"msg":"\ud800 lone \udc00 x"}"#)
        XCTAssertTrue(JSONLogParser().parse(&r))
        XCTAssertEqual(r.body, "\u{FFFD} lone \u{FFFD} x")
    }

    func testDeepNesting() {
        exercise(String(repeating: "[", count: 200_000))
        exercise(String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000))
        let deep = String(repeating: "{\"a\":", count: 40) + "1" + String(repeating: "}", count: 40)
        var r = record(deep)
        XCTAssertTrue(JSONLogParser().parse(&r))
        XCTAssertEqual(r.attributes.count, 1)
        XCTAssertTrue(r.attributes[0].key.hasPrefix("a.a.a."))
    }

    func testOneMebibyteLines() {
        let mib = 1 << 20
        let payload = String(repeating: "abcdefgh ", count: mib / 9)
        exercise(payload)
        exercise(#"{"level":"info","msg":""# + payload + #"","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#)
        exercise("level=info msg=\"" + payload + "\" password=x")
        exercise("2026-11-21 10:00:00.123  INFO 1 --- [main] c.e.App : " + payload)
        exercise(String(repeating: "a=b ", count: mib / 4))
        exercise(String(repeating: "=", count: mib))
        exercise(String(repeating: "e", count: mib))
        exercise(String(repeating: "4bf92f3577b34da6", count: mib / 16))
        exercise(String(repeating: "-----BEGIN ", count: mib / 11))
        exercise(String(repeating: "{\"a\":1,", count: mib / 7))
        var r = record(#"{"msg":""# + payload + #""}"#)
        XCTAssertTrue(JSONLogParser().parse(&r))
        XCTAssertEqual(r.body, payload)
    }

    func testByteFlipsOfJSON() {
        let line = Array(#"{"level":"info","ts":1795255200.1,"msg":"a\nb","n":{"x":[1,2]},"s":"\u00e9"}"#.utf8)
        for index in line.indices {
            for replacement: UInt8 in [0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x3A, 0x2C, 0x00, 0xFF] {
                var mutated = line
                mutated[index] = replacement
                exercise(String(decoding: mutated, as: UTF8.self))
            }
        }
    }
}

final class TimestampRuleTests: XCTestCase {
    func testAStampTheRuntimeTimeOnlyTruncatesIsNotTaken() {
        // Runtime 09:59:59.5: a whole-second 09:59:59 is the same instant, less precise.
        for (appTime, taken) in [("2026-11-21T09:59:59Z", false), ("2026-11-21T09:59:58Z", true),
                                 ("2026-11-21T10:00:00Z", true), ("2026-11-21T09:59:59.499Z", true)] {
            var r = record(#"{"msg":"x","time":"\#(appTime)"}"#)
            XCTAssertTrue(JSONLogParser().parse(&r))
            XCTAssertEqual(r.timestamp, taken ? nanos(appTime) : runtimeTime, appTime)
        }
    }

    func testRuntimeTimeIsKeptOnlyBeyondOneSecond() {
        let parser = JSONLogParser()
        for (appTime, keepsRuntime) in [("2026-11-21T09:59:59.5Z", false), ("2026-11-21T09:59:58.5Z", false),
                                        ("2026-11-21T09:59:58.4Z", true), ("2026-11-21T10:00:00.6Z", true)] {
            var r = record(#"{"msg":"x","time":"\#(appTime)"}"#)
            XCTAssertTrue(parser.parse(&r))
            XCTAssertEqual(r.timestamp, nanos(appTime))
            XCTAssertEqual(r.attributes.contains { $0.key == "k8s.runtime.time" }, keepsRuntime, appTime)
        }
    }

    /// Runtime 09:59:59.5Z. Stamps off by whole quarter hours (±1 min) were written in another
    /// zone; the runtime clock wins. Anything else keeps the stamp as written.
    func testAStampOffByWholeQuarterHoursIsReadInTheRuntimeClock() {
        let parser = JSONLogParser()
        for (appTime, expected) in [
            ("2026-11-21 17:59:59.123", "2026-11-21T09:59:59.123Z"),  // UTC+8 local time without an offset
            ("2026-11-21T17:59:59.123Z", "2026-11-21T09:59:59.123Z"),  // local time with a wrong 'Z'
            ("2026-11-21T15:29:59.2", "2026-11-21T09:59:59.2Z"),  // UTC+5:30
            ("2026-11-21T04:59:58.9", "2026-11-21T09:59:58.9Z"),  // UTC-5
            ("2026-11-21T18:00:58.000", "2026-11-21T10:00:58Z"),  // 8 h and 58.5 s: within a minute
            ("2026-11-21T18:01:01.000", "2026-11-21T18:01:01Z"),  // 8 h and 61.5 s: as written
            ("2026-11-21T10:13:00.000", "2026-11-21T10:13:00Z"),  // 13 minutes: as written
        ] {
            var r = record(#"{"msg":"x","time":"\#(appTime)"}"#)
            XCTAssertTrue(parser.parse(&r))
            XCTAssertEqual(RFC3339.format(nanos: r.timestamp), RFC3339.format(nanos: nanos(expected)), appTime)
            let keepsRuntime = (nanos(expected) - runtimeTime).magnitude > 1_000_000_000
            XCTAssertEqual(r.attributes.contains { $0.key == "k8s.runtime.time" }, keepsRuntime, appTime)
        }
    }

    func testApplicationTimeMustBeWithinADay() {
        let parser = JSONLogParser()
        for (appTime, taken) in [("2026-11-20T09:59:59.5Z", true), ("2026-11-20T09:59:59.4Z", false),
                                 ("2026-11-22T09:59:59.5Z", true), ("2026-11-22T09:59:59.6Z", false)] {
            var r = record(#"{"msg":"x","time":"\#(appTime)"}"#)
            XCTAssertTrue(parser.parse(&r))
            XCTAssertEqual(r.timestamp, taken ? nanos(appTime) : runtimeTime, appTime)
        }
    }

    func testEpochUnits() {
        func epoch(_ text: String) -> Int64? { text.withBytes { TimeScan.epoch($0, 0..<$0.count) } }
        XCTAssertEqual(epoch("1795255200"), nanos("2026-11-21T10:00:00Z"))
        XCTAssertEqual(epoch("1795255200.5"), nanos("2026-11-21T10:00:00.5Z"))
        XCTAssertEqual(epoch("1795255200500"), nanos("2026-11-21T10:00:00.5Z"))
        XCTAssertEqual(epoch("1795255200500000"), nanos("2026-11-21T10:00:00.5Z"))
        XCTAssertEqual(epoch("1795255200500000000"), nanos("2026-11-21T10:00:00.5Z"))
        XCTAssertEqual(epoch("1.7952552005e9"), nanos("2026-11-21T10:00:00.5Z"))
        XCTAssertNil(epoch("abc"))
        XCTAssertNil(epoch("99999999999999999999999"))
    }

    func testStampShapes() {
        func stamp(_ text: String) -> String? {
            text.withBytes { TimeScan.anyStamp($0, 0..<$0.count, offset: 0) }.map { RFC3339.format(nanos: $0) }
        }
        XCTAssertEqual(stamp("2026-11-21T10:00:00Z"), "2026-11-21T10:00:00.000000000Z")
        XCTAssertEqual(stamp("2026-11-21 10:00:00,123"), "2026-11-21T10:00:00.123000000Z")
        XCTAssertEqual(stamp("2026-11-21T12:00:00.123456789123+02:00"), "2026-11-21T10:00:00.123456789Z")
        XCTAssertEqual(stamp("2026-11-21T05:00:00-0500"), "2026-11-21T10:00:00.000000000Z")
        XCTAssertEqual(stamp("2026/11/21 10:00:00"), "2026-11-21T10:00:00.000000000Z")
        XCTAssertEqual(stamp("2026-11-21 10:00:00 UTC"), "2026-11-21T10:00:00.000000000Z")
        XCTAssertEqual(stamp("21/Nov/2026:11:00:00 +0100"), "2026-11-21T10:00:00.000000000Z")
        XCTAssertNil(stamp("2026-02-29T10:00:00Z"))
        XCTAssertNil(stamp("2026-11-21T24:00:00Z"))
        XCTAssertNil(stamp("yesterday"))
    }
}
