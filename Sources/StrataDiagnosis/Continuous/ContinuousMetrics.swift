/// What continuous mode reports about its own work, for monitoring it: the collector exports
/// these as Prometheus metrics (`strata_diagnosis_*` on `/metrics`, docs/API.md). The monitor
/// calls them on the ingest path, in evaluations and for every delivery attempt, sometimes
/// while holding its locks: implementations must be cheap, must not block and must not call
/// back into the monitor.
public protocol ContinuousMetrics: Sendable {
    /// Records counted by `observe` (every acknowledged batch, and what a warm-up reads back).
    func observed(records: Int)
    /// One call of `evaluate`: what came of it, how many workloads were anomalous (0 unless it
    /// was judged) and how long it took (nil when it did not run because another one was).
    func evaluated(_ result: EvaluationResult, anomalousWorkloads: Int, duration: Duration?)
    /// An incident state change (one per `IncidentMonitor.Change`).
    func incidentChanged(_ event: IncidentEvent)
    /// One delivery attempt of a notification to the webhook `webhook` (`kind` nil: it is no
    /// longer configured).
    func delivery(_ outcome: DeliveryOutcome, webhook: String, kind: WebhookKind?)
    /// The incidents open and the notifications waiting in the outboxes, reported after every
    /// change to either (and once at start, with what was read back from disk).
    func backlog(openIncidents: Int, pendingNotifications: Int)
}

/// How an evaluation ended.
public enum EvaluationResult: String, Sendable, Hashable, CaseIterable {
    /// The window was judged against the baseline.
    case evaluated
    /// The counts do not cover a window and the minimum baseline yet.
    case warmingUp = "warming_up"
    /// Skipped: the previous evaluation was still running.
    case busy
    /// The records could not be read back for the diagnosis; retried at the next one.
    case failed
}

/// What one delivery attempt did to its notification.
public enum DeliveryOutcome: String, Sendable, Hashable, CaseIterable {
    /// 2xx: out of the outbox.
    case delivered
    /// Failed, and will be attempted again after a backoff.
    case retried
    /// Given up (attempts exhausted, or a refusal that retrying cannot fix).
    case failed
}

/// Reports nothing: the default when no one exports metrics.
public struct NoContinuousMetrics: ContinuousMetrics {
    public init() {}
    public func observed(records: Int) {}
    public func evaluated(_ result: EvaluationResult, anomalousWorkloads: Int, duration: Duration?) {}
    public func incidentChanged(_ event: IncidentEvent) {}
    public func delivery(_ outcome: DeliveryOutcome, webhook: String, kind: WebhookKind?) {}
    public func backlog(openIncidents: Int, pendingNotifications: Int) {}
}
