import Foundation
import StrataCore
import Testing

@testable import StrataDiagnosis

// MARK: - Synthetic cluster

let second: Int64 = 1_000_000_000
let t0: Int64 = 1_700_000_000 * second

func record(
    _ time: Int64, _ pod: String, _ body: String, severity: Severity? = .info, trace: TraceID? = nil,
    namespace: String = "shop", restart: Int = 0
) -> LogRecord {
    var resource = Resource()
    resource[ResourceKey.namespace] = namespace
    resource[ResourceKey.pod] = pod
    resource[ResourceKey.container] = "main"
    resource[ResourceKey.restartCount] = String(restart)
    return LogRecord(timestamp: time, observedTimestamp: time, severity: severity, body: body, traceID: trace, resource: resource)
}

func traceID(_ n: Int) -> TraceID { TraceID(high: 0xabc, low: UInt64(n) + 1) }

let frontend = "frontend-6d9f7b8c5d-bq2xz"
let api = "api-5f6c8d7b9d-k2x7p"
let database = "db-0"

/// One request through frontend -> api -> db, with millisecond gaps; `failing` makes db fail
/// first and the error propagate up, each caller logging it a little later.
func request(at start: Int64, id: Int, failing: Bool, dbDelayMs: Int64 = 2) -> [LogRecord] {
    let ms: Int64 = 1_000_000
    let trace = traceID(id)
    var records = [
        record(start, frontend, "GET /checkout user=\(id)", trace: trace),
        record(start + 1 * ms, api, "checkout for cart \(id) items=3", trace: trace),
        record(start + (2 + dbDelayMs) * ms, database, "query orders took \(id % 7) ms", trace: trace),
    ]
    if failing {
        records += [
            record(start + (3 + dbDelayMs) * ms, database, "ERROR deadlock detected on table orders", severity: .error, trace: trace),
            record(start + (5 + dbDelayMs) * ms, api, "call to http://db:5432/orders failed: 500", severity: .error, trace: trace),
            record(start + (6 + dbDelayMs) * ms, frontend, "checkout failed for user \(id): upstream error", severity: .error, trace: trace),
            record(start + (7 + dbDelayMs) * ms, frontend, "returning 502 to client \(id)", severity: .error, trace: trace),
        ]
    } else {
        records += [
            record(start + (4 + dbDelayMs) * ms, api, "checkout ok for cart \(id)", trace: trace),
            record(start + (5 + dbDelayMs) * ms, frontend, "200 /checkout in \(5 + dbDelayMs) ms", trace: trace),
        ]
    }
    return records
}

/// Baseline: 10 healthy minutes. Window: 2 minutes whose second half fails in db.
func cascade() -> (window: TimeRange, windowRecords: [LogRecord], baseline: TimeRange, baselineRecords: [LogRecord]) {
    let baseline = TimeRange(from: t0, to: t0 + 600 * second)
    let window = TimeRange(from: t0 + 600 * second, to: t0 + 720 * second)
    var baselineRecords: [LogRecord] = []
    for i in 0..<300 { baselineRecords += request(at: baseline.from + Int64(i) * 2 * second, id: i, failing: false) }
    var windowRecords: [LogRecord] = []
    for i in 0..<60 {
        windowRecords += request(at: window.from + Int64(i) * 2 * second, id: 1000 + i, failing: i >= 30)
    }
    return (window, windowRecords, baseline, baselineRecords)
}

// MARK: - Statistics

@Test func binomialTailMatchesClosedForms() {
    // P(X >= 3), X ~ Bin(3, 0.5) = 1/8; P(X >= 0) = 1; P(X >= 4) = 0.
    #expect(abs(RateTest.binomialUpperTail(successes: 3, trials: 3, probability: 0.5) - 0.125) < 1e-12)
    #expect(RateTest.binomialUpperTail(successes: 0, trials: 3, probability: 0.5) == 1)
    #expect(RateTest.binomialUpperTail(successes: 4, trials: 3, probability: 0.5) == 0)
    // P(X >= 1), X ~ Bin(10, 0.1) = 1 - 0.9^10.
    #expect(abs(RateTest.binomialUpperTail(successes: 1, trials: 10, probability: 0.1) - (1 - pow(0.9, 10))) < 1e-12)
    // The normal approximation for large n stays close to the exact value near the mean.
    let exact = RateTest.binomialUpperTail(successes: 2050, trials: 4000, probability: 0.5)
    let approximate = RateTest.binomialUpperTail(successes: 4100, trials: 8000, probability: 0.5)
    #expect(exact > 0.05 && exact < 0.08)
    #expect(approximate > 0.01 && approximate < 0.02)
}

@Test func rateTestNormalizesByWindowLength() {
    // 10 errors in 1 minute against 100 in 10 minutes: the same rate, not significant.
    let same = RateTest.increasePValue(window: 10, baseline: 100, windowSeconds: 60, baselineSeconds: 600)
    #expect(same > 0.3)
    // 30 in 1 minute against 100 in 10 minutes: three times the rate with these counts is real.
    let tripled = RateTest.increasePValue(window: 30, baseline: 100, windowSeconds: 60, baselineSeconds: 600)
    #expect(tripled < 1e-5)
    // The same ratio on tiny counts is noise: 3 against 1 per equal window.
    let small = RateTest.increasePValue(window: 3, baseline: 1, windowSeconds: 60, baselineSeconds: 60)
    #expect(small > 0.05)
    // A vanished template: 0 in the window against 50 over the same length.
    #expect(RateTest.decreasePValue(window: 0, baseline: 50, windowSeconds: 60, baselineSeconds: 60) < 1e-10)
    #expect(RateTest.surprise(1e-5) == 5)
    #expect(RateTest.surprise(0) == 30)
}

// MARK: - Signals

@Test func levelsComeFromSeverityOrBodyWords() {
    #expect(RecordLevel.of(severity: .error, body: "fine") == .error)
    #expect(RecordLevel.of(severity: .info, body: "Exception in thread") == .normal)
    #expect(RecordLevel.of(severity: nil, body: "java.lang.IllegalStateException: boom") == .error)
    #expect(RecordLevel.of(severity: nil, body: "dial tcp 10.0.0.1:80: connect: connection refused") == .error)
    #expect(RecordLevel.of(severity: nil, body: "all good, no terrors here") == .normal)
    #expect(RecordLevel.of(severity: nil, body: "WARNING: disk 91% full") == .warning)
}

@Test func failureSignaturesNameTheirHost() {
    let refused = BodySignals.signatures(in: "dial tcp cart.shop.svc.cluster.local:8080: connect: connection refused")
    #expect(refused == [SignatureMatch(signature: .connectionRefused, host: "cart")])
    let timeout = BodySignals.signatures(in: "Get \"http://payments:9000/charge\": context deadline exceeded")
    #expect(timeout.contains(SignatureMatch(signature: .connectionTimedOut, host: "payments")))
    #expect(BodySignals.signatures(in: "Last State: Terminated Reason: OOMKilled").map(\.signature) == [.oomKilled])
    #expect(BodySignals.signatures(in: "Back-off restarting failed container app").map(\.signature) == [.crashLoopBackOff])
    #expect(BodySignals.signatures(in: "Readiness probe failed: HTTP probe failed with statuscode: 503").map(\.signature) == [.probeFailed])
    #expect(BodySignals.signatures(in: "GET /healthz 200").isEmpty)
}

@Test func referencesResolveToWorkloads() {
    let resolver = ReferenceResolver(workloads: [
        Workload(namespace: "t", name: "ts-basic-service"), Workload(namespace: "t", name: "ts-travel-service"),
        Workload(namespace: "t", name: "cart"),
    ])
    #expect(resolver.resolve("cart")?.name == "cart")
    #expect(resolver.resolve("basicservice")?.name == "ts-basic-service")
    #expect(resolver.resolve("service") == nil)
    #expect(HostReferences.hosts(in: "POST http://ts-basic-service:8080/api/v1/x failed") == ["ts-basic-service"])
    #expect(HostReferences.pathSegments(in: "\"path\":\"/api/v1/basicservice/basic/travels\"").contains("basicservice"))
}

@Test func traceContextIsReadFromMessageText() {
    let body = "17:20:11.371 ERROR o.a.c.C#175 TraceID: 9e8a820408225258ebe1050dd8d91d8c SpanID: 1800e2de3287b1c6 boom"
    let (trace, span) = TextTraceContext.extract(from: body)
    #expect(trace?.description == "9e8a820408225258ebe1050dd8d91d8c")
    #expect(span?.description == "1800e2de3287b1c6")
    let w3c = TextTraceContext.extract(from: "traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    #expect(w3c.trace?.description == "4bf92f3577b34da6a3ce929d0e0e4736")
    #expect(TextTraceContext.extract(from: "trace_id=123 short").trace == nil)
}

// MARK: - Detection

@Test func newAndVanishedTemplatesAreReported() throws {
    let baseline = TimeRange(from: t0, to: t0 + 600 * second)
    let window = TimeRange(from: t0 + 600 * second, to: t0 + 720 * second)
    var before: [LogRecord] = []
    var during: [LogRecord] = []
    for i in 0..<600 {
        before.append(record(baseline.from + Int64(i) * second, api, "heartbeat sent to peer \(i % 5)"))
        before.append(record(baseline.from + Int64(i) * second + 1, api, "cache refreshed in \(i % 9) ms"))
    }
    for i in 0..<120 {
        during.append(record(window.from + Int64(i) * second, api, "heartbeat sent to peer \(i % 5)"))
        during.append(record(window.from + Int64(i) * second + 1, api, "disk quota exceeded on volume \(i % 3)", severity: .error))
    }
    let report = Diagnoser().diagnose(window: window, windowRecords: during, baseline: baseline, baselineRecords: before)
    let suspect = try #require(report.suspects.first)
    #expect(suspect.workload == "api")
    let changes = Dictionary(uniqueKeysWithValues: suspect.evidence.templates.map { ($0.template, $0) })
    let new = try #require(changes["disk quota exceeded on volume <*>"])
    #expect(new.change == "new" && new.windowCount == 120 && new.baselineCount == 0 && new.level == "error")
    let vanished = try #require(changes["cache refreshed in <*> ms"])
    #expect(vanished.change == "vanished" && vanished.windowCount == 0 && vanished.baselineCount == 600)
    // The steady template is not evidence.
    #expect(changes["heartbeat sent to peer <*>"] == nil)
    #expect(suspect.evidence.rates.windowErrors == 120 && suspect.evidence.rates.baselineErrors == 0)
    #expect(suspect.evidence.query == "ns:shop pod:api* level:error")
}

@Test func steadyErrorsAreNotAnAnomaly() {
    // The same error rate before and during: nothing to report about errors.
    let baseline = TimeRange(from: t0, to: t0 + 600 * second)
    let window = TimeRange(from: t0 + 600 * second, to: t0 + 720 * second)
    let before = (0..<600).map { record(baseline.from + Int64($0) * second, api, "retrying job \($0)", severity: .error) }
    let during = (0..<120).map { record(window.from + Int64($0) * second, api, "retrying job \($0)", severity: .error) }
    let report = Diagnoser().diagnose(window: window, windowRecords: during, baseline: baseline, baselineRecords: before)
    #expect(report.suspects.allSatisfy { $0.scoreComponents.errors == 0 })
    #expect(report.incident.anomalousWorkloads == 0)
}

@Test func restartsAndCrashSignaturesBlameTheWorkload() throws {
    let baseline = TimeRange(from: t0, to: t0 + 600 * second)
    let window = TimeRange(from: t0 + 600 * second, to: t0 + 720 * second)
    var before: [LogRecord] = []
    var during: [LogRecord] = []
    for i in 0..<60 {
        before.append(record(baseline.from + Int64(i) * 10 * second, "worker-x7k2p", "processed batch \(i)", restart: 1))
        before.append(record(baseline.from + Int64(i) * 10 * second, api, "served \(i)"))
    }
    during.append(record(window.from + 5 * second, "worker-x7k2p", "processed batch 1", restart: 1))
    during.append(record(window.from + 30 * second, "worker-x7k2p", "java.lang.OutOfMemoryError: Java heap space", severity: .error, restart: 1))
    during.append(record(window.from + 40 * second, "worker-x7k2p", "starting worker", restart: 2))
    for i in 0..<12 { during.append(record(window.from + Int64(i) * 10 * second, api, "served \(i)")) }
    let report = Diagnoser().diagnose(window: window, windowRecords: during, baseline: baseline, baselineRecords: before)
    let suspect = try #require(report.suspects.first)
    #expect(suspect.workload == "worker")
    #expect(suspect.evidence.restarts == [.init(pod: "worker-x7k2p", container: "main", from: 1, to: 2)])
    #expect(suspect.evidence.signatures.map(\.signature) == ["oom_killed"])
    #expect(suspect.scoreComponents.signatures >= 16)
}

// MARK: - Correlation

@Test func callChainsAreRebuiltFromTraceIDs() throws {
    let data = cascade()
    let report = Diagnoser().diagnose(
        window: data.window, windowRecords: data.windowRecords, baseline: data.baseline, baselineRecords: data.baselineRecords)
    #expect(report.incident.failingTraces == 30)
    #expect(report.incident.typicalChain == ["frontend", "api", "db"])
    let db = try #require(report.suspects.first { $0.workload == "db" })
    let trace = try #require(db.evidence.traces.first)
    #expect(trace.chain == ["frontend", "api", "db"])
    #expect(trace.firstError == "db")
    #expect(trace.errorWorkloads == ["db", "api", "frontend"])
}

@Test func traceIDsInMessageTextAreUsedWhenFieldsAreEmpty() {
    let window = TimeRange(from: t0, to: t0 + 60 * second)
    let trace = "TraceID: 0123456789abcdef0123456789abcdef SpanID: 0123456789abcdef"
    let records = [
        record(t0 + 1, frontend, "\(trace) GET /x", severity: nil),
        record(t0 + 2, api, "\(trace) handling /x", severity: nil),
        record(t0 + 3, api, "\(trace) java.lang.IllegalStateException: boom", severity: nil),
    ]
    let report = Diagnoser().diagnose(
        window: window, windowRecords: records, baseline: TimeRange(from: t0 - 60 * second, to: t0), baselineRecords: [])
    #expect(report.incident.failingTraces == 1)
    #expect(report.incident.typicalChain == ["frontend", "api"])
}

@Test func rankingPrefersTheOriginOverPropagation() throws {
    let data = cascade()
    let report = Diagnoser().diagnose(
        window: data.window, windowRecords: data.windowRecords, baseline: data.baseline, baselineRecords: data.baselineRecords)
    // Frontend logs twice as many errors as db, yet db is where every failing request broke first.
    #expect(report.suspects.first { $0.workload == "frontend" }?.evidence.rates.windowErrors == 60)
    #expect(report.suspects.first?.workload == "db")
    #expect(Set(report.suspects.prefix(3).map(\.workload)) == ["db", "api", "frontend"])
    let db = report.suspects[0]
    #expect(db.scoreComponents.traces > 0)
    #expect(report.suspects.first { $0.workload == "frontend" }!.scoreComponents.traces < 0)
    #expect(db.rank == 1 && report.incident.origin == "db")
    #expect(db.evidence.referencedBy == ["api"])
    #expect(report.incidents.count == 1)
    #expect(report.incidents[0].workloads.first == "db")
}

@Test func slowHandOffsPointAtTheSlowWorkload() throws {
    // No errors at all: db answers 40 ms slower in the window.
    let baseline = TimeRange(from: t0, to: t0 + 600 * second)
    let window = TimeRange(from: t0 + 600 * second, to: t0 + 720 * second)
    var before: [LogRecord] = []
    for i in 0..<300 { before += request(at: baseline.from + Int64(i) * 2 * second, id: i, failing: false, dbDelayMs: Int64(i % 3)) }
    var during: [LogRecord] = []
    for i in 0..<60 { during += request(at: window.from + Int64(i) * 2 * second, id: 1000 + i, failing: false, dbDelayMs: 40 + Int64(i % 3)) }
    let report = Diagnoser().diagnose(window: window, windowRecords: during, baseline: baseline, baselineRecords: before)
    let top = try #require(report.suspects.first)
    #expect(top.workload == "db")
    #expect((top.evidence.latency?.effect ?? 0) > 1, "40 ms against 2 ms is more than a doubling")
}

// MARK: - Reports

@Test func jsonReportHasTheDocumentedFields() throws {
    let data = cascade()
    let report = Diagnoser().diagnose(
        window: data.window, windowRecords: data.windowRecords, baseline: data.baseline, baselineRecords: data.baselineRecords,
        generatedAt: t0)
    let json = try report.jsonData()
    let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    for key in ["version", "generated_at", "window", "baseline", "suspects", "incident", "incidents", "timeline", "records", "notes"] {
        #expect(object[key] != nil, "missing \(key)")
    }
    let window = try #require(object["window"] as? [String: Any])
    #expect(window["from"] as? String == RFC3339.format(nanos: data.window.from))
    let suspects = try #require(object["suspects"] as? [[String: Any]])
    let first = try #require(suspects.first)
    for key in ["rank", "namespace", "workload", "score", "evidence", "score_components"] {
        #expect(first[key] != nil, "suspect lacks \(key)")
    }
    let scores = suspects.compactMap { $0["score"] as? Double }
    #expect(scores == scores.sorted(by: >))
    let evidence = try #require(first["evidence"] as? [String: Any])
    for key in ["templates", "examples", "traces", "query", "rates"] {
        #expect(evidence[key] != nil, "evidence lacks \(key)")
    }
    let template = try #require((evidence["templates"] as? [[String: Any]])?.first)
    for key in ["template", "window_count", "baseline_count", "change", "p_value"] {
        #expect(template[key] != nil, "template evidence lacks \(key)")
    }
    let incident = try #require(object["incident"] as? [String: Any])
    #expect(incident["summary"] is String)
    // Round trip.
    #expect(try DiagnosisReport.decode(json: json) == report)
}

@Test func htmlAndMarkdownEscapeLogText() throws {
    let hostile = "<script>alert('x')</script> & \"quoted\" | `tick` **bold** [link](http://evil)"
    let baseline = TimeRange(from: t0, to: t0 + 600 * second)
    let window = TimeRange(from: t0 + 600 * second, to: t0 + 720 * second)
    let during = (0..<20).map { record(window.from + Int64($0) * second, "evil-pod-bcdfg-x7k2p", hostile, severity: .error) }
    let report = Diagnoser().diagnose(window: window, windowRecords: during, baseline: baseline, baselineRecords: [])
    #expect(report.suspects.first?.evidence.examples.first?.body == hostile)

    let html = report.html()
    #expect(!html.contains("<script>"))
    #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"))
    #expect(html.contains("<svg"))
    #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<link"))

    // In Markdown the line sits in a code span (shown literally by every renderer), fenced by
    // more backticks than it contains, with its pipe escaped; nowhere else.
    let markdown = report.markdown()
    let span = "``<script>alert('x')</script> & \"quoted\" \\| `tick` **bold** [link](http://evil)``"
    #expect(markdown.contains(span))
    #expect(!markdown.replacingOccurrences(of: span, with: "").contains("<script>"))
    // Code spans use a fence longer than any backtick run inside, and pipes cannot split cells.
    #expect(Escape.markdownCode("a `b` c") == "``a `b` c``")
    #expect(Escape.markdownCode("x|y") == "`x\\|y`")
    #expect(Escape.markdownText("<b>*x*</b>") == "&lt;b&gt;\\*x\\*&lt;/b&gt;")
    #expect(Escape.html("a\u{1}b") == "a&#1;b")
}

@Test func sourcesPreferTheRuntimeClock() throws {
    var shifted = record(t0 + 8 * 3600 * second, api, "app stamped in local time")
    shifted.attributes = [Attribute(RecordClock.runtimeTimeKey, RFC3339.format(nanos: t0 + 5 * second))]
    let plain = record(t0 + 10 * second, api, "no shift")
    let outside = record(t0 + 120 * second, api, "outside")
    let range = TimeRange(from: t0, to: t0 + 60 * second)

    #expect(try InMemoryRecordSource(records: [shifted, plain, outside]).records(in: range).map(\.body) == ["no shift"])
    let runtime = try InMemoryRecordSource(records: [shifted, plain, outside], clock: .runtime()).records(in: range)
    #expect(runtime.map(\.body) == ["app stamped in local time", "no shift"])
    #expect(runtime[0].timestamp == t0 + 5 * second)
    // The same through a real store: StrataServerTests, SnapshotRecordSourceTests.
}
