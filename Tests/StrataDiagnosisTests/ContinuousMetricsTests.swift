import Foundation
import StrataCore
import Synchronization
import Testing

@testable import StrataDiagnosis

/// Keeps every report the monitor makes, in order.
final class RecordingMetrics: ContinuousMetrics {
    enum Event: Equatable {
        case observed(Int)
        case evaluated(EvaluationResult, anomalous: Int, timed: Bool)
        case incident(IncidentEvent)
        case delivery(DeliveryOutcome, webhook: String, kind: WebhookKind?)
        case backlog(open: Int, pending: Int)
    }

    private let state = Mutex<[Event]>([])
    var events: [Event] { state.withLock { $0 } }

    func observed(records: Int) { state.withLock { $0.append(.observed(records)) } }
    func evaluated(_ result: EvaluationResult, anomalousWorkloads: Int, duration: Duration?) {
        state.withLock { $0.append(.evaluated(result, anomalous: anomalousWorkloads, timed: duration.map { $0 >= .zero } ?? false)) }
    }
    func incidentChanged(_ event: IncidentEvent) { state.withLock { $0.append(.incident(event)) } }
    func delivery(_ outcome: DeliveryOutcome, webhook: String, kind: WebhookKind?) {
        state.withLock { $0.append(.delivery(outcome, webhook: webhook, kind: kind)) }
    }
    func backlog(openIncidents: Int, pendingNotifications: Int) {
        state.withLock { $0.append(.backlog(open: openIncidents, pending: pendingNotifications)) }
    }

    var observedRecords: Int { events.reduce(0) { if case .observed(let n) = $1 { $0 + n } else { $0 } } }
    var evaluations: [EvaluationResult] { events.compactMap { if case .evaluated(let result, _, _) = $0 { result } else { nil } } }
    var incidentEvents: [IncidentEvent] { events.compactMap { if case .incident(let event) = $0 { event } else { nil } } }
    var deliveries: [Event] { events.filter { if case .delivery = $0 { true } else { false } } }
    var lastBacklog: Event? { events.last { if case .backlog = $0 { true } else { false } } }
}

/// Opens a file it cannot read: the evaluation that needs the records fails.
struct UnreadableSource: RecordSource {
    struct Unreadable: Error {}
    func records(in range: TimeRange) throws -> [LogRecord] { throw Unreadable() }
}

/// Starts another evaluation of the same monitor while the first reads its records.
final class ReentrantSource: RecordSource {
    let monitor: IncidentMonitor
    let inner: InMemoryRecordSource
    let now: Int64
    var nested: [IncidentMonitor.Outcome.Status] = []

    init(monitor: IncidentMonitor, records: [LogRecord], now: Int64) {
        self.monitor = monitor
        inner = InMemoryRecordSource(records: records)
        self.now = now
    }

    func records(in range: TimeRange) throws -> [LogRecord] {
        nested.append(try monitor.evaluate(now: now, source: inner).status)
        return try inner.records(in: range)
    }
}

@Test func theMonitorReportsObservationsEvaluationsAndStateChanges() throws {
    let directory = temporaryDirectory("metrics")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let metrics = RecordingMetrics()
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(webhooks: [webhook("console", .json), webhook("chat", .slack)]), directory: directory,
        startedAt: t0, logger: quietLogger, templater: { MaskingTemplater() }, metrics: metrics)
    // At start: nothing open, nothing pending.
    #expect(metrics.events == [.backlog(open: 0, pending: 0)])

    let cluster = SimulatedCollector(monitor: monitor, start: t0)
    try cluster.run(until: t0 + 900 * second, traffic: healthy)
    try cluster.run(until: t0 + 1080 * second, traffic: dbFailing)
    #expect(cluster.changes.first?.event == .opened)
    #expect(metrics.lastBacklog == .backlog(open: 1, pending: 2 * cluster.changes.count))
    try cluster.run(until: t0 + 1500 * second, traffic: healthy)
    #expect(cluster.changes.last?.event == .resolved)

    // Every record observed, every evaluation with its result and the anomalies it judged.
    #expect(metrics.observedRecords == cluster.records.count)
    let expected = cluster.outcomes.map { outcome -> RecordingMetrics.Event in
        switch outcome.status {
        case .evaluated: .evaluated(.evaluated, anomalous: outcome.anomalies.count, timed: true)
        case .warmingUp: .evaluated(.warmingUp, anomalous: 0, timed: true)
        case .busy: .evaluated(.busy, anomalous: 0, timed: false)
        }
    }
    #expect(metrics.events.filter { if case .evaluated = $0 { true } else { false } } == expected)
    #expect(metrics.evaluations.contains(.warmingUp) && metrics.evaluations.contains(.evaluated))
    // One report per state change, in order; nothing delivered, so the outbox holds them all.
    #expect(metrics.incidentEvents == cluster.changes.map(\.event))
    #expect(metrics.lastBacklog == .backlog(open: 0, pending: 2 * cluster.changes.count))
    #expect(metrics.deliveries.isEmpty)
}

@Test func failedAndOverlappingEvaluationsAreReportedAsSuch() throws {
    let directory = temporaryDirectory("metrics")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let metrics = RecordingMetrics()
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(), directory: directory, startedAt: t0, logger: quietLogger,
        templater: { MaskingTemplater() }, metrics: metrics)
    let cluster = SimulatedCollector(monitor: monitor, start: t0)
    try cluster.run(until: t0 + 900 * second, traffic: healthy)
    try cluster.run(until: t0 + 1080 * second, traffic: dbFailing)
    let before = metrics.evaluations.count

    // The window is anomalous, so the records are read back: unreadable, the evaluation fails.
    #expect(throws: UnreadableSource.Unreadable.self) { try monitor.evaluate(now: cluster.now, source: UnreadableSource()) }
    // An evaluation started while another reads its records is skipped as busy, and untimed.
    let reentrant = ReentrantSource(monitor: monitor, records: cluster.records, now: cluster.now)
    #expect(try monitor.evaluate(now: cluster.now, source: reentrant).status == .evaluated)
    #expect(reentrant.nested.first == .busy)
    let after = metrics.events.filter { if case .evaluated = $0 { true } else { false } }.suffix(metrics.evaluations.count - before)
    #expect(after.first == .evaluated(.failed, anomalous: 0, timed: true))
    #expect(Array(after.dropFirst().prefix(2)) == [.evaluated(.busy, anomalous: 0, timed: false), .evaluated(.busy, anomalous: 0, timed: false)])
    #expect(after.count == 2 + reentrant.nested.count)
    if case .evaluated(.evaluated, let anomalous, true)? = after.last {
        #expect(anomalous > 0)
    } else {
        Issue.record("the outer evaluation is reported last, as evaluated: \(after)")
    }
}

@Test func deliveriesAreReportedByWebhookKindAndOutcome() async throws {
    let directory = temporaryDirectory("metrics")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let metrics = RecordingMetrics()
    let hooks = [webhook("console", .json), webhook("chat", .slack, maxAttempts: 1)]
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(webhooks: hooks), directory: directory, startedAt: t0, logger: quietLogger,
        templater: { MaskingTemplater() }, metrics: metrics)
    let cluster = SimulatedCollector(monitor: monitor, start: t0)
    try cluster.run(until: t0 + 900 * second, traffic: healthy)
    try cluster.run(until: t0 + 1080 * second, traffic: dbFailing)
    let pending = monitor.pendingNotifications().count
    #expect(pending == 2 * cluster.changes.count)

    // chat (first by name) refuses once and has no attempts left; console is busy once.
    let transport = ScriptedTransport([.status(500), .status(503)])
    let notifier = WebhookNotifier(monitor: monitor, transport: transport, logger: quietLogger, jitter: { 0 })
    await notifier.deliverDue(now: cluster.now)
    #expect(metrics.deliveries.prefix(2) == [
        .delivery(.failed, webhook: "chat", kind: .slack), .delivery(.retried, webhook: "console", kind: .json),
    ])
    var now = cluster.now
    while !monitor.pendingNotifications().isEmpty && now < cluster.now + 600 * second {
        now += 1 * second
        await notifier.deliverDue(now: now)
    }
    #expect(monitor.pendingNotifications().isEmpty)
    // Each notification ends exactly once: delivered or failed; retries come on top.
    let finals = metrics.deliveries.filter { $0 != .delivery(.retried, webhook: "console", kind: .json) }
    #expect(finals.count == pending)
    #expect(metrics.deliveries.count == transport.requests.count)
    #expect(finals.filter { $0 == .delivery(.failed, webhook: "chat", kind: .slack) }.count == 1)
    #expect(finals.filter { $0 == .delivery(.delivered, webhook: "console", kind: .json) }.count == cluster.changes.count)
    #expect(metrics.lastBacklog == .backlog(open: 1, pending: 0))

    // A restart reports what it read back: the open incident, and its pending notifications.
    let notified = cluster.changes.count
    try cluster.run(until: t0 + 1500 * second, traffic: healthy)
    #expect(cluster.changes.last?.event == .resolved)
    let restarted = RecordingMetrics()
    _ = try IncidentMonitor(
        configuration: continuousConfiguration(webhooks: hooks), directory: directory, startedAt: cluster.now, logger: quietLogger,
        metrics: restarted)
    #expect(restarted.events == [.backlog(open: 0, pending: 2 * (cluster.changes.count - notified))])
}

@Test func aResultForAWebhookNotConfiguredIsReportedWithoutAKind() throws {
    let directory = temporaryDirectory("metrics")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let metrics = RecordingMetrics()
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(webhooks: [webhook("console", .json)]), directory: directory, startedAt: t0,
        logger: quietLogger, templater: { MaskingTemplater() }, metrics: metrics)
    let cluster = SimulatedCollector(monitor: monitor, start: t0)
    try cluster.run(until: t0 + 900 * second, traffic: healthy)
    try cluster.run(until: t0 + 1080 * second, traffic: dbFailing)
    var notification = try #require(monitor.pendingNotifications().first)
    monitor.record(.retry(at: cluster.now + second, attempts: 1, error: "busy"), for: notification)
    notification.webhook = "retired"
    monitor.record(.failed(attempts: 1, error: "webhook 'retired' is not configured"), for: notification)
    #expect(metrics.deliveries == [
        .delivery(.retried, webhook: "console", kind: .json), .delivery(.failed, webhook: "retired", kind: nil),
    ])
    // The unknown one changed nothing: console's notification is still pending.
    #expect(metrics.lastBacklog == .backlog(open: 1, pending: cluster.changes.count))
}
