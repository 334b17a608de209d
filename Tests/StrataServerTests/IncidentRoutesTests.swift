import Foundation
import Logging
import StrataCore
import StrataTestSupport
import Synchronization
import Testing

@testable import StrataDiagnosis
@testable import StrataServer

/// Continuous mode through a real collector on loopback: batches over HTTP open and resolve an
/// incident, `/api/v1/incidents` shows it, webhook receivers on loopback get each state change
/// once, signed, and the `strata_diagnosis_*` metrics count it all. Time is a manual clock
/// (`ContinuousConfiguration.clock`): nothing sleeps, evaluations and deliveries are driven by
/// the test. Serialized: the test clients block threads of their own on sockets, and the
/// collector shares the (two-thread) concurrency pool.
@Suite(.serialized) struct IncidentRoutesTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let second: Int64 = 1_000_000_000
    /// 2023-11-14T22:13:20Z; retention is unlimited in these tests, so the past is fine.
    static let t0: Int64 = 1_700_000_000 * second

    final class ManualClock: Sendable {
        private let time: Mutex<Int64>
        init(_ start: Int64) { time = Mutex(start) }
        var now: Int64 { time.withLock { $0 } }
        func set(_ value: Int64) { time.withLock { $0 = value } }
    }

    typealias Running = RunningCollector

    /// Windows in seconds so an incident plays out in 80 simulated seconds: 1 s buckets, a 10 s
    /// window against up to 60 s of baseline (30 s at least), opening at the first anomalous
    /// evaluation, resolving after 20 s without one. Updates are held back for an hour, so the
    /// only state changes are opened and resolved.
    static func diagnosis(clock: ManualClock, webhooks: [WebhookConfiguration]) -> ContinuousConfiguration {
        var configuration = ContinuousConfiguration()
        configuration.bucket = 1 * second
        configuration.window = 10 * second
        configuration.baseline = 60 * second
        configuration.minimumBaseline = 30 * second
        configuration.openAfter = 0
        configuration.quietPeriod = 20 * second
        configuration.updateInterval = 3600 * second
        configuration.externalURL = "http://collector.test:4180"
        configuration.webhooks = webhooks
        configuration.clock = { clock.now }
        return configuration
    }

    func start(diagnosis: ContinuousConfiguration?) async throws -> Running {
        let root = NSTemporaryDirectory() + "incident-routes-" + UUID().uuidString
        var configuration = CollectorConfiguration(dataDirectory: root + "/data")
        configuration.port = 0
        configuration.store.retentionNanos = .max / 2
        configuration.store.segment.durable = false
        configuration.flushInterval = .seconds(3600)
        configuration.diagnosis = diagnosis
        let server = try CollectorServer(configuration: configuration, logger: logger)
        // Only the HTTP server runs: evaluations and deliveries are the test's to call.
        let task = Task { try await server.run() }
        var port = 0
        for await bound in server.boundPort.stream { port = bound }
        return Running(server: server, url: "http://127.0.0.1:\(port)", task: task, root: root)
    }

    // MARK: traffic

    static let pods = (frontend: "frontend-6d9f7b8c5d-bq2xz", api: "api-5f6c8d7b9d-k2x7p", db: "db-0")

    static func record(_ time: Int64, _ pod: String, _ body: String, severity: Severity = .info, trace: TraceID) -> LogRecord {
        var resource = Resource()
        resource[ResourceKey.namespace] = "shop"
        resource[ResourceKey.pod] = pod
        resource[ResourceKey.container] = "main"
        return LogRecord(timestamp: time, observedTimestamp: time, severity: severity, body: body, traceID: trace, resource: resource)
    }

    /// One checkout through frontend -> api -> db; `failing` makes db fail and the error travel up.
    static func checkout(at time: Int64, id: Int, failing: Bool) -> [LogRecord] {
        let ms: Int64 = 1_000_000
        let trace = TraceID(high: 0x5eed, low: UInt64(id) + 1)
        var records = [
            record(time, pods.frontend, "GET /checkout user=\(id)", trace: trace),
            record(time + 1 * ms, pods.api, "checkout for cart \(id) items=3", trace: trace),
            record(time + 2 * ms, pods.db, "query orders took \(id % 7) ms", trace: trace),
        ]
        if failing {
            records += [
                record(time + 3 * ms, pods.db, "ERROR deadlock detected on table orders", severity: .error, trace: trace),
                record(time + 5 * ms, pods.api, "call to http://db:5432/orders failed: 500", severity: .error, trace: trace),
                record(time + 6 * ms, pods.frontend, "checkout failed for user \(id): upstream error", severity: .error, trace: trace),
            ]
        } else {
            records += [
                record(time + 4 * ms, pods.api, "checkout ok for cart \(id)", trace: trace),
                record(time + 5 * ms, pods.frontend, "200 /checkout in 5 ms", trace: trace),
            ]
        }
        return records
    }

    /// Four checkouts a second over [from, to), sent as one wire-format batch with the clock at
    /// `to` (as if the agent shipped them as they were written). Returns the records sent.
    @discardableResult
    func send(_ running: Running, clock: ManualClock, from: Int64, to: Int64, failing: Bool) async throws -> Int {
        clock.set(to)
        var records: [LogRecord] = []
        var time = from
        while time < to {
            records += Self.checkout(at: time, id: Int((time - Self.t0) / 1_000_000), failing: failing)
            time += 250_000_000
        }
        var encoder = BatchEncoder()
        var indexes: [Resource: Int] = [:]
        for record in records {
            let index = indexes[record.resource] ?? encoder.resourceIndex(source: indexes.count) { record.resource }
            indexes[record.resource] = index
            encoder.append(record, resourceIndex: index)
        }
        let (status, body) = try await LoopbackHTTP.post(
            url: running.url + "/api/v1/ingest", headers: ["Content-Type": WireFormat.contentType],
            body: try encoder.encode(id: .random(), codec: .zstd))
        #expect(status == 200, "\(body)")
        return records.count
    }

    // MARK: HTTP

    func get(_ running: Running, _ path: String) async throws -> (Int, Data) {
        let (status, body) = try await LoopbackHTTP.request(method: "GET", url: running.url + path, headers: [:], body: [])
        return (status, Data(body.utf8))
    }

    /// The `{"code", "message"}` of an error answer.
    func errorCode(_ data: Data) -> String? {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["code"] as? String
    }

    func list(_ running: Running, _ query: String = "") async throws -> IncidentAPI.ListBody {
        let (status, data) = try await get(running, "/api/v1/incidents" + query)
        try #require(status == 200, "\(String(decoding: data, as: UTF8.self))")
        return try IncidentAPI.decodeList(data)
    }

    /// The value of one sample line of a Prometheus exposition (`name{labels} value`).
    static func sample(_ exposition: String, _ series: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    // MARK: tests

    @Test func anIncidentOpensResolvesIsListedNotifiedOnceAndCounted() async throws {
        let console = try LoopbackWebhookReceiver()
        // The Alertmanager is briefly unavailable: its first notification is retried.
        let alertmanager = try LoopbackWebhookReceiver(script: [.init(status: 503, body: "starting")])
        defer {
            console.stop()
            alertmanager.stop()
        }
        var consoleHook = WebhookConfiguration(name: "console", url: console.url, kind: .json, secret: webhookSecret)
        consoleHook.timeout = 5 * Self.second
        var alertmanagerHook = WebhookConfiguration(name: "am", url: alertmanager.url, kind: .alertmanager, secret: webhookSecret)
        alertmanagerHook.timeout = 5 * Self.second
        alertmanagerHook.initialBackoff = 1 * Self.second
        let clock = ManualClock(Self.t0)
        let running = try await start(diagnosis: Self.diagnosis(clock: clock, webhooks: [consoleHook, alertmanagerHook]))
        let diagnosis = try #require(running.server.continuous)
        let t0: Int64 = Self.t0
        let second: Int64 = Self.second
        var sent = 0

        // 40 healthy seconds: judged from 30 s of baseline on, nothing anomalous.
        for chunk: Int64 in 0..<4 {
            let from = t0 + chunk * 10 * second
            sent += try await send(running, clock: clock, from: from, to: from + 10 * second, failing: false)
        }
        let quiet = try #require(await diagnosis.evaluateNow())
        #expect(quiet.status == .evaluated)
        #expect(quiet.anomalies.isEmpty && quiet.changes.isEmpty)
        #expect(try await list(running).count == 0)

        // db fails for 10 s: the next evaluation opens an incident naming db.
        sent += try await send(running, clock: clock, from: t0 + 40 * second, to: t0 + 50 * second, failing: true)
        let failing = try #require(await diagnosis.evaluateNow())
        let opened = try #require(failing.changes.first)
        #expect(failing.changes.map(\.event) == [.opened])
        #expect(failing.anomalies.contains { $0.workload == "db" })
        let id = opened.incidentId

        let all = try await list(running)
        #expect(all.count == 1)
        let summary = try #require(all.incidents.first)
        #expect(summary.id == id && summary.state == .open && summary.version == 1)
        #expect(summary.topSuspect?.workload == "db")
        #expect(summary.openedAt.nanos == t0 + 50 * second)
        #expect(summary.pendingNotifications == 2)
        #expect(try await list(running, "?state=open").incidents.map(\.id) == [id])
        #expect(try await list(running, "?state=resolved").count == 0)
        #expect(try await list(running, "?state=all&limit=1").incidents.count == 1)

        let (detailStatus, detailData) = try await get(running, "/api/v1/incidents/\(id)")
        #expect(detailStatus == 200)
        let detail = try IncidentAPI.decodeDetail(detailData)
        #expect(detail.incident == summary)
        #expect(detail.history.map(\.event) == [.opened])
        #expect(detail.report.suspects.first?.workload == "db")

        // Errors: an unknown id is 404, bad parameters are 400, all as {"code", "message"}.
        let (missing, missingBody) = try await get(running, "/api/v1/incidents/inc-19700101T000000Z-99")
        #expect(missing == 404 && errorCode(missingBody) == "not_found")
        for bad in ["?state=closed", "?limit=0", "?limit=1001", "?limit=ten", "?since=1h"] {
            let (status, body) = try await get(running, "/api/v1/incidents" + bad)
            #expect(status == 400 && errorCode(body) == "bad_parameter", "\(bad): \(String(decoding: body, as: UTF8.self))")
        }

        // Delivery: the console gets it at once, the Alertmanager after one retry.
        let first = await diagnosis.deliverNow()
        #expect(first.delivered == 1 && first.retried == 1)
        #expect(await diagnosis.deliverNow().waiting == 1)
        clock.set(t0 + 52 * second)
        #expect(await diagnosis.deliverNow().delivered == 1)
        #expect(try await list(running).incidents.first?.pendingNotifications == 0)

        // Healthy again: still open 10 s after the last anomalous window, resolved after 20 s.
        sent += try await send(running, clock: clock, from: t0 + 50 * second, to: t0 + 60 * second, failing: false)
        #expect(try #require(await diagnosis.evaluateNow()).changes.isEmpty)
        sent += try await send(running, clock: clock, from: t0 + 60 * second, to: t0 + 70 * second, failing: false)
        let resolving = try #require(await diagnosis.evaluateNow())
        #expect(resolving.changes.map(\.event) == [.resolved])
        #expect(resolving.changes.first?.incidentId == id && resolving.changes.first?.version == 2)
        #expect(await diagnosis.deliverNow().delivered == 2)
        // Nothing more to send, however long one waits.
        clock.set(t0 + 3600 * second)
        #expect(await diagnosis.deliverNow() == WebhookNotifier.Round())

        let resolved = try await list(running, "?state=resolved")
        #expect(resolved.incidents.map(\.id) == [id])
        #expect(resolved.incidents.first?.version == 2)
        #expect(resolved.incidents.first?.end?.nanos == t0 + 50 * second)
        #expect(try await list(running, "?state=open").count == 0)
        let (_, finalData) = try await get(running, "/api/v1/incidents/\(id)")
        #expect(try IncidentAPI.decodeDetail(finalData).history.map(\.event) == [.opened, .resolved])

        // Each receiver: exactly one notification per state change, in order, verifiably signed.
        let deliveredToAlertmanager = Array(alertmanager.received.dropFirst())  // the first was answered 503
        #expect(alertmanager.received.first?.headers["x-strata-idempotency-key"] == "\(id):1")
        for (name, received) in [("console", console.received), ("am", deliveredToAlertmanager)] {
            #expect(received.map { $0.headers["x-strata-event"] } == ["opened", "resolved"], "\(name)")
            #expect(received.map { $0.headers["x-strata-idempotency-key"] } == ["\(id):1", "\(id):2"], "\(name)")
            #expect(received.allSatisfy { $0.headers["x-strata-incident"] == id }, "\(name)")
            for request in received {
                let timestamp = try #require(request.headers["x-strata-timestamp"])
                let signature = try #require(request.headers["x-strata-signature"])
                #expect(WebhookSignature.verify(
                    body: request.body, timestamp: timestamp, signature: signature, secret: webhookSecret,
                    nowSeconds: (Int64(timestamp) ?? 0) + 1), "\(name)")
                #expect(!WebhookSignature.verify(
                    body: request.body + [0x20], timestamp: timestamp, signature: signature, secret: webhookSecret,
                    nowSeconds: (Int64(timestamp) ?? 0) + 1), "\(name): a changed body must not verify")
            }
        }
        #expect(alertmanager.received.map { $0.headers["x-strata-delivery-attempt"] } == ["1", "2", "1"])
        let consoleBodies = try console.received.map { try JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] }
        #expect(consoleBodies.map { $0?["event"] as? String } == ["opened", "resolved"])

        // The metrics counted it all.
        let metrics = diagnosis.metrics.registry.emitToString()
        func value(_ series: String) -> Double? { Self.sample(metrics, series) }
        #expect(value("strata_diagnosis_records_observed_total") == Double(sent))
        #expect(value("strata_diagnosis_evaluations_total{result=\"evaluated\"}") == 4)
        #expect(value("strata_diagnosis_evaluations_total{result=\"failed\"}") == 0)
        #expect(value("strata_diagnosis_evaluation_duration_seconds_count") == 4)
        #expect(value("strata_diagnosis_incidents_opened_total") == 1)
        #expect(value("strata_diagnosis_incidents_updated_total") == 0)
        #expect(value("strata_diagnosis_incidents_resolved_total") == 1)
        #expect(value("strata_diagnosis_incidents_open") == 0)
        #expect(value("strata_diagnosis_anomalous_workloads") == 0)
        #expect(value("strata_diagnosis_notifications_pending") == 0)
        #expect(value("strata_diagnosis_notifications_total{webhook=\"console\",kind=\"json\",outcome=\"delivered\"}") == 2)
        #expect(value("strata_diagnosis_notifications_total{webhook=\"am\",kind=\"alertmanager\",outcome=\"delivered\"}") == 2)
        #expect(value("strata_diagnosis_notifications_total{webhook=\"am\",kind=\"alertmanager\",outcome=\"failed\"}") == 0)
        #expect(value("strata_diagnosis_notification_retries_total{webhook=\"am\",kind=\"alertmanager\"}") == 1)
        #expect(value("strata_diagnosis_notification_retries_total{webhook=\"console\",kind=\"json\"}") == 0)

        // The collector's /metrics serves them: continuous mode counts on the collector's registry.
        let (metricsStatus, scraped) = try await LoopbackHTTP.request(method: "GET", url: running.url + "/metrics", headers: [:], body: [])
        #expect(metricsStatus == 200)
        #expect(scraped.contains("strata_collector_records_ingested_total"))
        #expect(Self.sample(scraped, "strata_diagnosis_incidents_opened_total") == 1)
        #expect(Self.sample(scraped, "strata_diagnosis_records_observed_total") == Double(sent))
    }

    @Test func withoutContinuousModeTheRoutesSaySo() async throws {
        let running = try await start(diagnosis: nil)
        for path in ["/api/v1/incidents", "/api/v1/incidents/inc-20231114T221320Z-1"] {
            let (status, body) = try await get(running, path)
            #expect(status == 404 && errorCode(body) == "continuous_mode_off", "\(path)")
        }
    }
}
