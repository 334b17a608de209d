import Foundation
import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataStore

/// A fresh temporary directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) -> String {
    let directory = ScratchDirectory("store")
    test.addTeardownBlock { withExtendedLifetime(directory) {} }
    return directory.path
}

enum RecordFactory {
    static let words = [
        "GET", "POST", "order", "created", "user", "Payment", "failed", "timeout", "connecting", "to", "db",
        "retry", "ok", "INFO", "WARN", "ERROR", "cache", "miss", "hit", "ms", "latency", "élève", "日本語", "ünïcödé",
        "com.example.OrderService", "java.lang.IllegalStateException", "/api/v1/orders", "10.1.2.3:8080",
        "192.168.0.1", "04027d90-a300-4e50-b380-200e58bce4ff", "bob@example.com", "x=1", "key=value", "a.b",
        "0.5", "16:42:10.175", "2023-01-29T08:42:10.176365235Z", "http://svc.local:9000/health?x=1", "--", "::",
    ]
    static let attributeKeys = ["http.method", "http.status", "user.id", "Region", "code.line", "empty"]

    static func resource(_ rng: inout SeededRandom, _ i: Int) -> Resource {
        if i == 0 { return Resource() }
        var r = Resource()
        r[ResourceKey.namespace] = rng.pick(["shop", "Shop", "payments", "kube-system"])
        r[ResourceKey.pod] = "pod-\(i)-\(rng.int(0...3))"
        if rng.chance(0.8) { r[ResourceKey.container] = rng.pick(["app", "sidecar", "istio-proxy"]) }
        if rng.chance(0.5) { r[ResourceKey.node] = "node-\(rng.int(1...3))" }
        if rng.chance(0.3) { r.attributes.shuffle(using: &rng) }
        return r
    }

    static func body(_ rng: inout SeededRandom) -> String {
        switch rng.int(0...19) {
        case 0: return ""
        case 1: return String(repeating: "long line with words and 10.0.0.1 ", count: rng.int(100...3000))
        case 2: return "\(rng.pick(["tab\there", "new\nline", "\u{0}nul", "emoji 😀 ok", "CR\r\n"])) \(rng.int(0...9))"
        default:
            var parts: [String] = []
            for _ in 0..<rng.int(1...14) {
                if rng.chance(0.15) {
                    parts.append(String(format: "%016llx%016llx", rng.next(), rng.next()))
                } else if rng.chance(0.1) {
                    parts.append(String(rng.int(0...100_000)))
                } else {
                    parts.append(rng.pick(words))
                }
            }
            return parts.joined(separator: rng.pick([" ", " ", ", ", " | ", "\t"]))
        }
    }

    static func records(_ count: Int, seed: UInt64, resources resourceCount: Int = 5) -> [LogRecord] {
        var rng = SeededRandom(seed: seed)
        let resources = (0..<resourceCount).map { resource(&rng, $0) }
        let base: Int64 = 1_700_000_000_000_000_000
        var result: [LogRecord] = []
        for _ in 0..<count {
            let timestamp = rng.chance(0.1) ? base : base + Int64(rng.int(0...3_600_000_000_000))
            var attributes: [Attribute] = []
            if rng.chance(0.5) {
                for key in attributeKeys where rng.chance(0.4) {
                    attributes.append(Attribute(key, rng.chance(0.1) ? "" : "V\(rng.int(0...20))"))
                }
                if rng.chance(0.1) { attributes.shuffle(using: &rng) }
                if rng.chance(0.03), let first = attributes.first { attributes.append(first) }  // repeated key
            }
            let observed: Int64
            switch rng.int(0...3) {
            case 0: observed = timestamp
            case 1: observed = timestamp + Int64(rng.int(0...5_000_000))
            case 2: observed = timestamp - Int64(rng.int(0...1_000_000_000))
            default: observed = Int64(bitPattern: rng.next())
            }
            result.append(
                LogRecord(
                    timestamp: timestamp, observedTimestamp: observed,
                    stream: rng.pick(LogStream.allCases),
                    severity: rng.chance(0.2) ? nil : rng.pick(Severity.allCases),
                    body: body(&rng),
                    traceID: rng.chance(0.5) ? TraceID(high: rng.next(), low: rng.next() | 1) : nil,
                    spanID: rng.chance(0.4) ? SpanID(rng.next() | 1) : nil,
                    attributes: attributes,
                    resource: resources[rng.int(0...resourceCount - 1)],
                    flags: RecordFlags(rawValue: rng.chance(0.8) ? 0 : UInt32(truncatingIfNeeded: rng.next()) & 0x7F)))
        }
        return result
    }

    /// Records in the order a segment stores them: (resource, timestamp, input position).
    static func storedOrder(_ records: [LogRecord], templateIDs: [UInt32]? = nil) -> [(LogRecord, UInt32)] {
        let resources = Array(Set(records.map(\.resource))).sorted(by: resourceLess)
        let rank = Dictionary(uniqueKeysWithValues: resources.enumerated().map { ($1, $0) })
        let indexes = records.indices.sorted { a, b in
            let ra = rank[records[a].resource]!
            let rb = rank[records[b].resource]!
            if ra != rb { return ra < rb }
            if records[a].timestamp != records[b].timestamp { return records[a].timestamp < records[b].timestamp }
            return a < b
        }
        return indexes.map { (records[$0], templateIDs?[$0] ?? 0) }
    }

    /// The index terms of one record, computed independently of the writer.
    static func terms(of record: LogRecord, templateID: UInt32) -> Set<String> {
        var terms = Set(Tokenizer.tokens(of: record.body))
        for a in record.resource.attributes { terms.insert("\(a.key)=\(a.value)") }
        for a in record.attributes { terms.insert("\(a.key)=\(a.value)") }
        terms.insert("stream=\(record.stream.name)")
        if let s = record.severity { terms.insert("severity=\(s.name)") }
        for (flag, name) in RecordFlags.all where record.flags.contains(flag) { terms.insert("flag=\(name)") }
        let unnamed = record.flags.rawValue & ~RecordFlags.all.reduce(0) { $0 | $1.0.rawValue }
        for bit in 0..<32 where unnamed & (1 << UInt32(bit)) != 0 { terms.insert("flag=bit\(bit)") }
        if let t = record.traceID { terms.insert("trace_id=\(t)") }
        if let s = record.spanID { terms.insert("span_id=\(s)") }
        if templateID != 0 { terms.insert("template=\(templateID)") }
        return terms.filter { !$0.isEmpty && $0.utf8.count <= SegmentFormat.maxTermLength }
    }
}

func XCTAssertThrowsStoreError(
    _ kind: StoreError.Kind, containing fragments: [String] = [], file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
) {
    do {
        try body()
        XCTFail("expected StoreError(.\(kind))", file: file, line: line)
    } catch let error as StoreError {
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.description.contains(fragment), "'\(error)' lacks '\(fragment)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected StoreError, got \(error)", file: file, line: line)
    }
}
