import StrataCore
import XCTest

@testable import StrataParsers

/// Runtime time of the test records: half a second before the whole-second stamps of the
/// golden lines, so those stamps are taken (a stamp the runtime time merely truncates is not).
let runtimeTime = nanos("2026-11-21T09:59:59.5Z")

/// Nanoseconds of an RFC 3339 time (test helper).
func nanos(_ text: String) -> Int64 {
    text.withBytes { b in TimeScan.dateTime(b, at: 0, end: b.count, offset: 0)!.0 }
}

func record(
    _ body: String, at time: Int64 = runtimeTime, stream: LogStream = .stdout, namespace: String = "shop",
    pod: String = "orders-7c9f8d6b5d-x8k2m", container: String = "orders", containerID: String = "containerd://abc123"
) -> LogRecord {
    LogRecord(
        timestamp: time, observedTimestamp: time + 1_000_000, stream: stream, body: body,
        resource: Resource(attributes: [
            Attribute(ResourceKey.namespace, namespace), Attribute(ResourceKey.pod, pod),
            Attribute(ResourceKey.container, container), Attribute(ResourceKey.containerID, containerID),
            Attribute(ResourceKey.node, "node-1"),
        ]))
}

/// The exact record a parser must produce from one line.
struct Golden {
    var line: String
    var severity: Severity?
    /// RFC 3339; nil: the runtime time is kept.
    var time: String?
    var body: String
    var trace: String? = nil
    var span: String? = nil
    var attributes: [(String, String)] = []
    var runtime: Int64 = runtimeTime
}

func XCTAssertGolden(
    _ parser: some LogParser, _ golden: Golden, file: StaticString = #filePath, line: UInt = #line
) {
    var r = record(golden.line, at: golden.runtime)
    XCTAssertTrue(parser.parse(&r), "\(parser.name) did not understand: \(golden.line)", file: file, line: line)
    XCTAssertRecord(r, golden, file: file, line: line)
}

func XCTAssertRecord(_ r: LogRecord, _ golden: Golden, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.severity, golden.severity, "severity of \(golden.line)", file: file, line: line)
    let expectedTime = golden.time.map(nanos) ?? golden.runtime
    XCTAssertEqual(
        RFC3339.format(nanos: r.timestamp), RFC3339.format(nanos: expectedTime), "timestamp of \(golden.line)",
        file: file, line: line)
    XCTAssertEqual(r.body, golden.body, "body of \(golden.line)", file: file, line: line)
    XCTAssertEqual(r.traceID?.description, golden.trace, "trace id of \(golden.line)", file: file, line: line)
    XCTAssertEqual(r.spanID?.description, golden.span, "span id of \(golden.line)", file: file, line: line)
    let actual = r.attributes.map { "\($0.key)=\($0.value)" }
    let expected = golden.attributes.map { "\($0.0)=\($0.1)" }
    XCTAssertEqual(actual, expected, "attributes of \(golden.line)", file: file, line: line)
}

/// Prints what a parser makes of a line (while writing golden cases).
func dump(_ parser: some LogParser, _ line: String) {
    var r = record(line)
    let ok = parser.parse(&r)
    print("[\(parser.name)] ok=\(ok) \(r.jsonLine)")
}
