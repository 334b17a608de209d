import Foundation
import StrataCore
import XCTest

@testable import StrataParsers

/// The repository root (for parsers/ and pipelines/).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

final class NormalizerTests: XCTestCase {
    func normalizer(_ yaml: String, registry: ParserRegistry = .builtins) throws -> Normalizer {
        try Normalizer(validating: NormalizerConfiguration(yaml: yaml), registry: registry)
    }

    func testDefaultsDetectExtractSniffAndRedact() throws {
        let n = try normalizer("")
        var json = record(#"{"level":"info","msg":"login password=hunter2","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#)
        XCTAssertEqual(n.normalize(&json), .kept)
        XCTAssertEqual(json.body, "login password=[REDACTED]")
        XCTAssertEqual(json.severity, .info)
        XCTAssertEqual(json.traceID?.description, "4bf92f3577b34da6a3ce929d0e0e4736")

        var plain = record("2026/11/21 10:00:00 handler.go:42: [WARN] slow TraceID: dad811a6f14846847bf2f220daa5e573 SpanID: 87d483062ec5fbaa")
        XCTAssertEqual(n.normalize(&plain), .kept)
        XCTAssertEqual(plain.severity, .warn)
        XCTAssertEqual(plain.traceID?.description, "dad811a6f14846847bf2f220daa5e573")
        XCTAssertEqual(plain.spanID?.description, "87d483062ec5fbaa")
        XCTAssertEqual(RFC3339.format(nanos: plain.timestamp), "2026-11-21T10:00:00.000000000Z")

        var nginx = record(#"10.0.3.4 - - [21/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8" "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01""#)
        XCTAssertEqual(n.normalize(&nginx), .kept)
        XCTAssertEqual(nginx.traceID?.description, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(nginx.spanID?.description, "00f067aa0ba902b7")
    }

    func testUnparseableRecordsAreKeptAsTheyCame() throws {
        let n = try normalizer("")
        for body in ["just text", "", "\u{FFFD}\u{0}\u{1}binary", "{\"truncated\":", String(repeating: "é", count: 1000)] {
            var r = record(body)
            XCTAssertEqual(n.normalize(&r), .kept)
            XCTAssertEqual(r.body, body)
            XCTAssertEqual(r.timestamp, runtimeTime)
        }
    }

    func testRulesChooseParsersBySelector() throws {
        let n = try normalizer("""
            normalize:
              rules:
                - match: {namespace: "legacy-*", container: "app"}
                  parser: logback
                - match: {namespace: "legacy-*"}
                  parser: none
                - match: {pod: "raw-?"}
                  parser: none
            """)
        let line = #"{"level":"warn","msg":"hi"}"#
        var legacyApp = record("2026-11-21 10:00:00.123 ERROR [main] c.e.App - boom", namespace: "legacy-billing", container: "app")
        _ = n.normalize(&legacyApp)
        XCTAssertEqual(legacyApp.body, "boom")

        var legacySidecar = record(line, namespace: "legacy-billing", container: "proxy")
        _ = n.normalize(&legacySidecar)
        XCTAssertEqual(legacySidecar.body, line)  // parser: none
        XCTAssertEqual(legacySidecar.severity, .warn)  // sniffed from `"level":"warn"`

        var raw = record(line, pod: "raw-1")
        _ = n.normalize(&raw)
        XCTAssertEqual(raw.body, line)

        var other = record(line, pod: "raw-12")
        _ = n.normalize(&other)
        XCTAssertEqual(other.body, "hi")
    }

    func testRenameDropAndCounts() throws {
        let n = try normalizer("""
            normalize:
              rules:
                - name: probes
                  match: {}
                  drop: {field: user_agent.original, regex: '^kube-probe/'}
                - match: {namespace: kube-system}
                  drop: [{severity_below: info}, {field: body, regex: 'noisy'}]
                - match: {namespace: shop}
                  rename: {thread.name: thread, missing: other}
            """)
        var probe = record(#"10.0.0.1 - - [21/Nov/2026:10:00:00 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.31""#)
        XCTAssertEqual(n.normalize(&probe), .dropped(reason: "rule 'probes': user_agent.original matches '^kube-probe/'"))
        var debug = record("D1121 x", namespace: "kube-system")
        debug.body = #"{"level":"debug","msg":"tick"}"#
        XCTAssertEqual(n.normalize(&debug), .dropped(reason: "rule 1: severity below info"))
        var noisy = record("level=info msg=\"noisy thing\"", namespace: "kube-system")
        XCTAssertEqual(n.normalize(&noisy), .dropped(reason: "rule 1: body matches 'noisy'"))
        var unknownSeverity = record("no level here", namespace: "kube-system")
        XCTAssertEqual(n.normalize(&unknownSeverity), .kept)
        var spring = record("2026-11-21 10:00:00.123  INFO 1 --- [main] c.e.App : hi")
        XCTAssertEqual(n.normalize(&spring), .kept)
        XCTAssertEqual(spring.attributes.map(\.key), ["process.pid", "thread", "log.logger"])
        var debug2 = record(#"{"level":"debug","msg":"tick"}"#, namespace: "kube-system")
        _ = n.normalize(&debug2)
        let stats = n.statistics
        XCTAssertEqual(stats.dropped, 4)
        XCTAssertEqual(stats.droppedByReason["rule 1: severity below info"], 2)
        XCTAssertEqual(stats.droppedByReason["rule 'probes': user_agent.original matches '^kube-probe/'"], 1)
    }

    func testGlobalAndRuleRedaction() throws {
        let n = try normalizer("""
            normalize:
              redact:
                builtin: [bearer]
                patterns: ['\\b\\d{4}-\\d{4}-\\d{4}-\\d{4}\\b']
              rules:
                - match: {namespace: legacy}
                  redact:
                    - {name: sessions, regex: 'JSESSIONID=(?P<secret>[0-9A-F]{8,})'}
            """)
        var r = record("card 4111-1111-1111-1111 Bearer abcdefghijkl password=kept JSESSIONID=ABCDEF0123456789")
        _ = n.normalize(&r)
        XCTAssertEqual(r.body, "card [REDACTED] Bearer [REDACTED] password=kept JSESSIONID=ABCDEF0123456789")
        var legacy = record("JSESSIONID=ABCDEF0123456789 x", namespace: "legacy")
        _ = n.normalize(&legacy)
        XCTAssertEqual(legacy.body, "JSESSIONID=[REDACTED] x")
        XCTAssertEqual(n.statistics.redactedRecords, 2)
        XCTAssertEqual(n.statistics.redactions, 3)
    }

    func testRedactionCoversParsedAttributes() throws {
        let n = try normalizer("")
        var r = record(#"{"msg":"connect","db":{"user":"app","password":"hunter2"},"url":"https://x/?token=abc"}"#)
        _ = n.normalize(&r)
        XCTAssertEqual(r.attributes.map { "\($0.key)=\($0.value)" }, ["db.user=app", "db.password=[REDACTED]", "url=https://x/?token=[REDACTED]"])
    }

    func testSwitchesOff() throws {
        let n = try normalizer("""
            normalize:
              default_parser: none
              trace_extraction: false
              severity_sniffing: no
              redact: {builtin: false}
            """)
        let line = "ERROR trace_id=4bf92f3577b34da6a3ce929d0e0e4736 password=x"
        var r = record(line)
        XCTAssertEqual(n.normalize(&r), .kept)
        XCTAssertEqual(r.body, line)
        XCTAssertNil(r.severity)
        XCTAssertNil(r.traceID)
    }

    func testShippedConfigurationAndParsersLoad() throws {
        let registry = try ParserRegistry.load(directory: repositoryRoot + "/parsers")
        for name in ParserRegistry.decoderNames + ["haproxy", "envoy", "nginx-error"] {
            XCTAssertNotNil(registry.parser(named: name), name)
        }
        let yaml = try String(contentsOfFile: repositoryRoot + "/pipelines/collector.yaml", encoding: .utf8)
        let configuration = try NormalizerConfiguration(yaml: yaml)
        XCTAssertEqual(configuration.rules.count, 5)
        let n = try Normalizer(validating: configuration, registry: registry)
        var probe = record(#"10.0.0.1 - - [21/Nov/2026:10:00:00 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.31""#,
                           namespace: "ingress-nginx", container: "controller")
        XCTAssertEqual(n.normalize(&probe), .dropped(reason: "rule 'kubelet probes': user_agent.original matches '^kube-probe/'"))
        var haproxy = record("10.0.0.1:56789 [21/Nov/2026:10:00:00.123] fe be/srv1 0/0/1/2/3 200 512 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"",
                             container: "haproxy")
        XCTAssertEqual(n.normalize(&haproxy), .kept)
        XCTAssertEqual(RFC3339.format(nanos: haproxy.timestamp), "2026-11-21T10:00:00.123000000Z")
        XCTAssertEqual(haproxy.body, "fe be/srv1 0/0/1/2/3 200 512 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"")
        XCTAssertEqual(haproxy.attributes.map { "\($0.key)=\($0.value)" },
                       ["client.address=10.0.0.1", "haproxy.frontend=fe", "haproxy.backend=be", "haproxy.server=srv1",
                        "http.response.status_code=200"])
        var legacy = record("2026-11-21 10:00:00,123 ERROR [main] c.e.App - JSESSIONID=0123456789ABCDEF0123 card 4111 1111 1111 1111",
                            namespace: "legacy-billing")
        XCTAssertEqual(n.normalize(&legacy), .kept)
        XCTAssertEqual(legacy.body, "JSESSIONID=[REDACTED] card [REDACTED]")
        XCTAssertEqual(legacy.attributes.map(\.key), ["thread", "logger"])
    }

    func testShippedCustomParsers() throws {
        let registry = try ParserRegistry.load(directory: repositoryRoot + "/parsers")
        XCTAssertGolden(registry.parser(named: "nginx-error")!, Golden(
            line: "2026/11/21 10:00:00 [error] 31#31: *123 upstream timed out (110: Operation timed out)",
            severity: .error, time: "2026-11-21T10:00:00Z", body: "upstream timed out (110: Operation timed out)",
            attributes: [("process.pid", "31"), ("thread.id", "31"), ("nginx.connection", "123")]))
        let envoyLine = #"[2026-11-21T10:00:00.123Z] "GET /api/v1/orders?page=2 HTTP/1.1" 503 UF upstream_reset - "-" 0 91 5 - "-" "curl/8.11.0""#
        XCTAssertGolden(registry.parser(named: "envoy")!, Golden(
            line: envoyLine, severity: nil, time: "2026-11-21T10:00:00.123Z", body: envoyLine,
            attributes: [("http.request.method", "GET"), ("url.path", "/api/v1/orders"), ("url.query", "page=2"),
                         ("http.response.status_code", "503"), ("envoy.response_flags", "UF")]))
    }

    func testUnknownParserFallsBackToAutoWithoutValidation() throws {
        let configuration = try NormalizerConfiguration(yaml: "normalize: {rules: [{match: {}, parser: nosuch}]}")
        let n = Normalizer(configuration: configuration, registry: .builtins)
        var r = record("level=info msg=hi")
        _ = n.normalize(&r)
        XCTAssertEqual(r.body, "hi")
    }

    func testConcurrentUse() throws {
        let n = try normalizer("")
        let lines = [#"{"level":"info","msg":"a"}"#, "level=warn msg=b", "I1121 10:00:00.000000 1 x.go:1] c", "plain d"]
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<2000 {
                var r = record(lines[(i + worker) % lines.count], containerID: "c\(i % 7)")
                XCTAssertEqual(n.normalize(&r), .kept)
                XCTAssertTrue(["a", "b", "c", "plain d"].contains(r.body))
            }
        }
    }
}
