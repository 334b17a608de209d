import Foundation
import StrataCore
import Testing

@testable import StrataDiagnosis

// Golden payloads for one hand-built incident, so a change of shape is a visible diff.

func sampleReport() -> DiagnosisReport {
    let rates = DiagnosisReport.Rates(
        windowRecords: 180, baselineRecords: 900, windowErrors: 30, baselineErrors: 0, windowWarnings: 0, baselineWarnings: 0,
        windowErrorRate: 15, baselineErrorRate: 0, errorPValue: 1e-21, warningPValue: 1)
    let components = DiagnosisReport.ScoreComponents(
        errors: 30, warnings: 0, templates: 1, signatures: 0, latency: 0, traces: 6, onset: 2, references: 2.2)
    let db = DiagnosisReport.Suspect(
        rank: 1, namespace: "shop", workload: "db", kind: "statefulset", score: 41.2, scoreComponents: components,
        onset: "2023-11-14T22:28:25.000000000Z",
        evidence: .init(
            rates: rates,
            templates: [
                .init(id: "17", template: "ERROR deadlock detected on table <*> & `x` <y>", level: "error", windowCount: 30, baselineCount: 0,
                      change: "new", pValue: 1e-21)
            ],
            examples: [], traces: [], signatures: [], restarts: [], latency: nil, referencedBy: ["api"],
            query: "ns:shop pod:db* level:error"))
    var api = db
    api.rank = 2
    api.workload = "api"
    api.kind = "deployment"
    api.score = 12
    api.evidence.templates = []
    api.evidence.query = "ns:shop pod:api* level:error"
    return DiagnosisReport(
        generatedAt: "2023-11-14T22:29:20.000000000Z",
        window: .init(from: "2023-11-14T22:28:20.000000000Z", to: "2023-11-14T22:29:20.000000000Z", seconds: 60),
        baseline: .init(from: "2023-11-14T22:18:20.000000000Z", to: "2023-11-14T22:28:20.000000000Z", seconds: 600),
        records: .init(window: 400, baseline: 3000, workloads: 3, traces: 30),
        incident: .init(
            start: "2023-11-14T22:28:25.000000000Z", end: "2023-11-14T22:29:19.000000000Z",
            summary: "2 workload(s) anomalous; most likely origin shop/db (score 41.2)", anomalousWorkloads: 2, failingTraces: 30,
            typicalChain: ["frontend", "api", "db"], origin: "db"),
        incidents: [], suspects: [db, api],
        timeline: .init(start: "2023-11-14T22:28:20.000000000Z", bucketSeconds: 1.5, series: []), notes: [])
}

func sampleIncident(event: IncidentEvent = .opened) -> Incident {
    let opened = t0 + 960 * second
    let headline = IncidentHeadline(
        severity: .critical, topSuspect: .init(namespace: "shop", workload: "db", score: 41.2),
        anomalousSuspects: [.init(namespace: "shop", workload: "db", score: 41.2), .init(namespace: "shop", workload: "api", score: 12)],
        summary: "2 workload(s) anomalous; most likely origin shop/db (score 41.2)")
    var incident = Incident(
        id: "inc-20231114T222920Z-1", state: .open, version: 1, openedAt: IncidentTime(opened), updatedAt: IncidentTime(opened),
        resolvedAt: nil, start: IncidentTime(t0 + 905 * second), end: nil, lastAnomalyAt: IncidentTime(opened),
        headline: headline,
        anomalies: [.init(namespace: "shop", workload: "db", surprise: 21, reasons: ["errors 30 vs 0 in the baseline (p=1.0e-21)"])],
        report: sampleReport(), reportAt: IncidentTime(opened),
        history: [.init(version: 1, event: .opened, at: IncidentTime(opened), severity: .critical, topSuspect: headline.topSuspect, reason: "shop/db: errors 30 vs 0")],
        baseline: FrozenBaseline(from: IncidentTime(t0 + 300 * second), to: IncidentTime(t0 + 900 * second), workloads: []),
        outbox: [], failedNotifications: [])
    if event == .resolved {
        incident.state = .resolved
        incident.version = 2
        incident.resolvedAt = IncidentTime(opened + 600 * second)
        incident.end = IncidentTime(opened + 420 * second)
        incident.updatedAt = IncidentTime(opened + 600 * second)
        incident.history.append(.init(version: 2, event: .resolved, at: IncidentTime(opened + 600 * second), severity: .critical, topSuspect: headline.topSuspect, reason: "no anomaly for 3m 0s"))
    }
    return incident
}

@Test func alertmanagerPayloadIsAnAlertsArray() throws {
    let incident = sampleIncident()
    let body = try WebhookPayload.render(
        kind: .alertmanager, event: .opened, incident: incident, previous: nil, at: incident.openedAt.nanos,
        externalURL: "http://collector.example:4180/")
    let expected = """
        [{"annotations":{"description":"2 workload(s) anomalous; most likely origin shop/db (score 41.2)\\nSuspects: 1. shop/db 41.2, 2. shop/api 12.0\\nEvidence: ERROR deadlock detected on table <*> & `x` <y> 30 in the window vs 0 in the baseline (new)",\
        "query":"ns:shop pod:db* level:error","report_url":"http://collector.example:4180/api/v1/incidents/inc-20231114T222920Z-1",\
        "summary":"Incident inc-20231114T222920Z-1 opened: most likely origin shop/db (score 41.2)"},\
        "endsAt":"2023-11-15T22:29:20.000000000Z","generatorURL":"http://collector.example:4180/api/v1/incidents/inc-20231114T222920Z-1",\
        "labels":{"alertname":"StrataIncident","incident_id":"inc-20231114T222920Z-1","namespace":"shop","severity":"critical","source":"strata","workload":"db"},\
        "startsAt":"2023-11-14T22:28:25.000000000Z"}]
        """
    #expect(body == expected)

    // Resolved: endsAt is the resolution time, so Alertmanager resolves the alert.
    let resolved = sampleIncident(event: .resolved)
    let done = try WebhookPayload.render(
        kind: .alertmanager, event: .resolved, incident: resolved, previous: nil, at: resolved.resolvedAt?.nanos ?? 0, externalURL: nil)
    let alerts = try JSONDecoder().decode([WebhookPayload.AlertmanagerAlert].self, from: Data(done.utf8))
    #expect(alerts.count == 1)
    #expect(alerts[0].endsAt == "2023-11-14T22:39:20.000000000Z")
    #expect(alerts[0].generatorURL == nil)
    #expect(alerts[0].annotations["summary"]?.contains("resolved") == true)
}

@Test func alertmanagerEndsTheAlertOfAFormerTopSuspect() throws {
    var incident = sampleIncident()
    let previous = incident.headline
    incident.headline.topSuspect = .init(namespace: "shop", workload: "cache", score: 50)
    incident.version = 2
    let body = try WebhookPayload.render(
        kind: .alertmanager, event: .updated, incident: incident, previous: previous, at: t0 + 1000 * second, externalURL: nil)
    let alerts = try JSONDecoder().decode([WebhookPayload.AlertmanagerAlert].self, from: Data(body.utf8))
    #expect(alerts.map { $0.labels["workload"] } == ["cache", "db"])
    #expect(alerts[1].endsAt == RFC3339.format(nanos: t0 + 1000 * second))
    #expect(alerts[0].endsAt == RFC3339.format(nanos: t0 + 1000 * second + WebhookPayload.alertmanagerHold))
}

@Test func slackPayloadIsEscapedMrkdwn() throws {
    let incident = sampleIncident()
    let body = try WebhookPayload.render(
        kind: .slack, event: .opened, incident: incident, previous: nil, at: incident.openedAt.nanos,
        externalURL: "http://collector.example:4180")
    let expected = """
        {"text":":rotating_light: *[CRITICAL] Strata incident inc-20231114T222920Z-1 opened*\\nMost likely origin: *shop/db* (score 41.2)\\n\
        Suspects: 1. shop/db 41.2 · 2. shop/api 12.0\\n2 workload(s) anomalous; most likely origin shop/db (score 41.2)\\n\
        Evidence: `ERROR deadlock detected on table &lt;*&gt; &amp; 'x' &lt;y&gt;` 30 in the window vs 0 in the baseline (new)\\n\
        Query: `ns:shop pod:db* level:error`\\n<http://collector.example:4180/api/v1/incidents/inc-20231114T222920Z-1|Incident details>"}
        """
    #expect(body == expected)

    let resolved = sampleIncident(event: .resolved)
    let done = try WebhookPayload.render(kind: .slack, event: .resolved, incident: resolved, previous: nil, at: 0, externalURL: nil)
    let text = try JSONDecoder().decode(WebhookPayload.SlackBody.self, from: Data(done.utf8)).text
    #expect(text.hasPrefix(":white_check_mark: *Strata incident inc-20231114T222920Z-1 resolved* after 7m 55s\n"))
    #expect(!text.contains("Incident details"))
}

@Test func jsonPayloadCarriesTheIncidentAndItsReport() throws {
    let incident = sampleIncident()
    let body = try WebhookPayload.render(
        kind: .json, event: .opened, incident: incident, previous: nil, at: incident.openedAt.nanos, externalURL: nil)
    // The envelope, exactly (the report inside is docs/REPORT.md's JSON, checked by decoding).
    let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    #expect(object.keys.sorted() == ["anomalies", "event", "history", "idempotency_key", "incident", "report", "version"])
    #expect(object["event"] as? String == "opened")
    #expect(object["idempotency_key"] as? String == "inc-20231114T222920Z-1:1")
    let summary = try #require(object["incident"] as? [String: Any])
    let expectedSummary = """
        {"anomalous_workloads":2,"failed_notifications":0,"id":"inc-20231114T222920Z-1","opened_at":"2023-11-14T22:29:20.000000000Z",\
        "pending_notifications":0,"severity":"critical","start":"2023-11-14T22:28:25.000000000Z","state":"open",\
        "summary":"2 workload(s) anomalous; most likely origin shop/db (score 41.2)","top_suspect":{"namespace":"shop","score":41.2,"workload":"db"},\
        "updated_at":"2023-11-14T22:29:20.000000000Z","version":1}
        """
    let encoded = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys, .withoutEscapingSlashes])
    #expect(String(decoding: encoded, as: UTF8.self) == expectedSummary)
    let decoded = try Incident.decoder().decode(WebhookPayload.JSONBody.self, from: Data(body.utf8))
    #expect(decoded.report == sampleReport())
    #expect(decoded.history == incident.history)
    #expect(decoded.anomalies == incident.anomalies)
    // Keys of the embedded report are the report's own (snake_case).
    let report = try #require(object["report"] as? [String: Any])
    #expect(report["generated_at"] as? String == "2023-11-14T22:29:20.000000000Z")
    #expect(((report["suspects"] as? [[String: Any]])?.first?["score_components"] as? [String: Any])?["references"] as? Double == 2.2)
}

@Test func incidentAPIListsFiltersAndShows() throws {
    let directory = temporaryDirectory("api")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try IncidentStore(directory: directory)
    var older = sampleIncident(event: .resolved)
    older.id = "inc-20231114T222920Z-1"
    var newer = sampleIncident()
    newer.id = "inc-20231114T232920Z-2"
    newer.openedAt = IncidentTime(newer.openedAt.nanos + 3600 * second)
    try store.save(older)
    try store.save(newer)
    let monitor = try IncidentMonitor(configuration: continuousConfiguration(), directory: directory, startedAt: t0, logger: quietLogger)

    let all = IncidentAPI.list(monitor, parameters: [:])
    #expect(all.status == 200)
    let list = try IncidentAPI.decodeList(Data(all.body))
    #expect(list.incidents.map(\.id) == ["inc-20231114T232920Z-2", "inc-20231114T222920Z-1"])
    #expect(list.count == 2)
    let open = try IncidentAPI.decodeList(Data(IncidentAPI.list(monitor, parameters: ["state": "open"]).body))
    #expect(open.incidents.map(\.id) == ["inc-20231114T232920Z-2"])
    let limited = try IncidentAPI.decodeList(Data(IncidentAPI.list(monitor, parameters: ["limit": "1"]).body))
    #expect(limited.incidents.count == 1 && limited.count == 2)

    let bad = IncidentAPI.list(monitor, parameters: ["state": "closed"])
    #expect(bad.status == 400)
    #expect(String(decoding: bad.body, as: UTF8.self) == "{\"code\":\"bad_parameter\",\"message\":\"state must be open, resolved or all, found 'closed'\"}\n")
    #expect(IncidentAPI.list(monitor, parameters: ["limit": "0"]).status == 400)
    #expect(IncidentAPI.list(monitor, parameters: ["stat": "open"]).status == 400)

    let shown = IncidentAPI.show(monitor, id: "inc-20231114T222920Z-1")
    #expect(shown.status == 200)
    let detail = try IncidentAPI.decodeDetail(Data(shown.body))
    #expect(detail.incident.state == .resolved)
    #expect(detail.history.map(\.event) == [.opened, .resolved])
    #expect(detail.report == sampleReport())
    let missing = IncidentAPI.show(monitor, id: "inc-nope")
    #expect(missing.status == 404)
    #expect(String(decoding: missing.body, as: UTF8.self).hasPrefix("{\"code\":\"not_found\""))
}
