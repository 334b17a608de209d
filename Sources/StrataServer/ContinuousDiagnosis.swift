import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import StrataCore
import StrataDiagnosis
import StrataStore

/// Continuous mode in the collector (docs/DIAGNOSIS.md, "Continuous mode"): one object the
/// server holds when `diagnosis:` is configured. `observe` after every stored batch; `run`
/// evaluates every `evaluate_every` and sends the outbox; the incident routes read it
/// (IncidentRoutes.swift). Every time it uses comes from `configuration.clock`.
public final class ContinuousDiagnosis: Service, Sendable {
    public let monitor: IncidentMonitor
    let notifier: WebhookNotifier
    /// `strata_diagnosis_*` (docs/API.md, "/metrics"), on the registry given at creation.
    public let metrics: PrometheusContinuousMetrics
    let store: LogStore
    let logger: Logger
    let clock: @Sendable () -> Int64
    /// Read back the records of the last window + baseline at start, so detection does not wait
    /// for a new baseline after every restart.
    let warmUpAtStart: Bool

    /// Opens (or creates) `<data-dir>/incidents` and reads the incidents and the outbox kept
    /// there. Throws on a contradictory configuration or an unusable directory.
    /// - Parameter metricsRegistry: where the metrics go; the collector passes the registry its
    ///   `/metrics` serves. Without one they are kept on a registry of their own
    ///   (`metrics.registry`).
    public init(
        configuration: ContinuousConfiguration, dataDirectory: String, store: LogStore, logger: Logger,
        transport: (any WebhookTransport)? = nil, warmUpAtStart: Bool = true,
        metricsRegistry: PrometheusCollectorRegistry? = nil
    ) throws {
        clock = configuration.clock
        metrics = PrometheusContinuousMetrics(
            registry: metricsRegistry ?? PrometheusCollectorRegistry(), webhooks: configuration.webhooks)
        monitor = try IncidentMonitor(
            configuration: configuration, directory: IncidentStore.directory(inDataDirectory: dataDirectory),
            startedAt: clock(), logger: logger, metrics: metrics)
        notifier = WebhookNotifier(monitor: monitor, transport: transport ?? HTTPWebhookTransport(), logger: logger)
        self.store = store
        self.logger = logger
        self.warmUpAtStart = warmUpAtStart
    }

    /// Counts a stored batch (call after the store acknowledged it, not for duplicates).
    public func observe(_ records: [LogRecord]) {
        monitor.observe(records, now: clock())
    }

    /// Evaluates periodically and delivers notifications until cancelled or until graceful
    /// shutdown. Neither loop ever throws: a failed evaluation is logged and retried at the next
    /// tick, undelivered notifications stay in the outbox on disk.
    public func run() async throws {
        let configuration = monitor.configuration
        logger.info(
            "continuous diagnosis: window \(configuration.window / 1_000_000_000)s against \(configuration.baseline / 1_000_000_000)s, every \(configuration.evaluateEvery / 1_000_000_000)s, \(configuration.webhooks.count) webhook(s)")
        await cancelWhenGracefulShutdown {
            if self.warmUpAtStart { await self.warmUp() }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.evaluationLoop() }
                group.addTask { await self.deliveryLoop() }
            }
        }
    }

    /// One evaluation now, off the cooperative pool (it may read the store and diagnose).
    @discardableResult
    public func evaluateNow() async -> IncidentMonitor.Outcome? {
        let monitor = self.monitor
        let store = self.store
        let now = clock()
        let task = Task.detached { () -> Result<IncidentMonitor.Outcome, any Error> in
            Result { try monitor.evaluate(now: now, source: SnapshotRecordSource(snapshot: store.snapshot(), clock: .stored)) }
        }
        switch await task.value {
        case .success(let outcome):
            return outcome
        case .failure(let error):
            logger.error("continuous diagnosis: evaluation failed (retried at the next one): \(error)")
            return nil
        }
    }

    private func evaluationLoop() async {
        let interval = monitor.configuration.evaluateEvery
        while !Task.isCancelled {
            do { try await Task.sleep(for: .nanoseconds(interval)) } catch { return }
            await evaluateNow()
        }
    }

    /// Attempts every notification due now (the delivery loop does this every second).
    @discardableResult
    public func deliverNow() async -> WebhookNotifier.Round {
        await notifier.deliverDue(now: clock())
    }

    /// Polls the outbox every second (cheap: it is in memory); the notifier decides what is due.
    private func deliveryLoop() async {
        while !Task.isCancelled {
            await deliverNow()
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }

    /// Counts what the store already holds for the last window + baseline, five minutes at a
    /// time so memory stays bounded. Counts are complete from the first record found (a fresh
    /// store must not pass for a quiet baseline).
    private func warmUp() async {
        let monitor = self.monitor
        let store = self.store
        let logger = self.logger
        let configuration = monitor.configuration
        let now = clock()
        await Task.detached {
            let from = now - configuration.window - configuration.baseline
            let source = SnapshotRecordSource(snapshot: store.snapshot(), clock: .stored)
            let step: Int64 = 300 * 1_000_000_000
            var earliest = Int64.max
            var count = 0
            var start = from
            while start < now && !Task.isCancelled {
                let range = TimeRange(from: start, to: min(now, start + step))
                do {
                    let records = try source.records(in: range)
                    if let first = records.map(\.timestamp).min() { earliest = min(earliest, first) }
                    count += records.count
                    monitor.observe(records, now: now)
                } catch {
                    logger.error("continuous diagnosis: warm-up could not read \(RFC3339.format(nanos: range.from)): \(error); counting from now on")
                    return
                }
                start = range.to
            }
            if earliest != .max { monitor.warmUp([], completeFrom: earliest, now: now) }
            logger.info("continuous diagnosis: warm-up counted \(count) stored record(s)")
        }.value
    }
}

/// Continuous mode's metrics (docs/API.md, "/metrics"), pushed as things happen: the gauges are
/// set whenever what they count changes, so a scrape needs nothing from the monitor.
public final class PrometheusContinuousMetrics: ContinuousMetrics {
    public let registry: PrometheusCollectorRegistry
    private let recordsObserved: Counter
    private let evaluations: [EvaluationResult: Counter]
    private let evaluationDuration: DurationHistogram
    private let anomalousWorkloads: Gauge
    private let incidentChanges: [IncidentEvent: Counter]
    private let incidentsOpen: Gauge
    private let notificationsPending: Gauge

    /// Creates every series up front (one per configured webhook for the delivery counters), so
    /// that rates and alerts see zeros rather than missing series.
    public init(registry: PrometheusCollectorRegistry, webhooks: [WebhookConfiguration]) {
        self.registry = registry
        func descriptor(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "strata", subsystem: "diagnosis", metricName: name, unitName: unit, helpText: help)
        }
        recordsObserved = registry.makeCounter(
            descriptor: descriptor("records_observed", "total", "Records counted by the incident detector (stored batches, and the warm-up read at start)."))
        var evaluations: [EvaluationResult: Counter] = [:]
        for result in EvaluationResult.allCases {
            evaluations[result] = registry.makeCounter(
                descriptor: descriptor("evaluations", "total", "Evaluations of the sliding window, by result (evaluated, warming_up, busy, failed)."),
                labels: [("result", result.rawValue)])
        }
        self.evaluations = evaluations
        evaluationDuration = registry.makeDurationHistogram(
            descriptor: descriptor(
                "evaluation_duration", "seconds", "Time one evaluation took, including the diagnosis when it found an anomaly."),
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1),
                .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60)])
        anomalousWorkloads = registry.makeGauge(
            descriptor: descriptor("anomalous_workloads", "", "Workloads the last judged evaluation found anomalous."))
        incidentChanges = [
            .opened: registry.makeCounter(descriptor: descriptor("incidents_opened", "total", "Incidents opened.")),
            .updated: registry.makeCounter(descriptor: descriptor("incidents_updated", "total", "Notified updates of open incidents.")),
            .resolved: registry.makeCounter(descriptor: descriptor("incidents_resolved", "total", "Incidents resolved.")),
        ]
        incidentsOpen = registry.makeGauge(descriptor: descriptor("incidents_open", "", "Incidents open (0 or 1)."))
        notificationsPending = registry.makeGauge(
            descriptor: descriptor("notifications_pending", "", "Notifications in the outboxes, not yet delivered nor given up."))
        for webhook in webhooks {
            for outcome in DeliveryOutcome.allCases { _ = deliveryCounter(outcome, webhook: webhook.name, kind: webhook.kind) }
        }
    }

    public func observed(records: Int) { recordsObserved.increment(by: Int64(records)) }

    public func evaluated(_ result: EvaluationResult, anomalousWorkloads count: Int, duration: Duration?) {
        evaluations[result]?.increment()
        if let duration { evaluationDuration.record(duration) }
        if result == .evaluated { anomalousWorkloads.set(Int64(count)) }
    }

    public func incidentChanged(_ event: IncidentEvent) { incidentChanges[event]?.increment() }

    public func delivery(_ outcome: DeliveryOutcome, webhook: String, kind: WebhookKind?) {
        deliveryCounter(outcome, webhook: webhook, kind: kind).increment()
    }

    public func backlog(openIncidents: Int, pendingNotifications: Int) {
        incidentsOpen.set(Int64(openIncidents))
        notificationsPending.set(Int64(pendingNotifications))
    }

    /// Final outcomes and retries are two metrics: attempts = notifications + retries.
    private func deliveryCounter(_ outcome: DeliveryOutcome, webhook: String, kind: WebhookKind?) -> Counter {
        let labels = [("webhook", webhook), ("kind", kind?.rawValue ?? "unconfigured")]
        if outcome == .retried {
            return registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "strata", subsystem: "diagnosis", metricName: "notification_retries", unitName: "total",
                    helpText: "Delivery attempts that failed and will be retried after a backoff, by webhook."),
                labels: labels)
        }
        return registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "strata", subsystem: "diagnosis", metricName: "notifications", unitName: "total",
                helpText: "Notifications delivered or given up, by webhook and outcome (delivered, failed)."),
            labels: labels + [("outcome", outcome.rawValue)])
    }
}
