import StrataCore

/// Continuous mode (docs/DIAGNOSIS.md, "Continuous mode"): how incidents are detected as
/// records arrive, and where they are reported. Durations are nanoseconds.
public struct ContinuousConfiguration: Sendable {
    public static let second: Int64 = 1_000_000_000

    /// The sliding window judged at every evaluation: the last `window` up to the start of the
    /// current bucket.
    public var window: Int64 = 300 * second
    /// What the window is compared with: the `baseline` before the window. While an incident is
    /// open its baseline stays the one it opened against, so a long outage does not become its
    /// own normal.
    public var baseline: Int64 = 3600 * second
    /// Aggregation granularity on the ingest path; the ring holds (window + baseline) / bucket.
    public var bucket: Int64 = 10 * second
    /// How often the host calls `evaluate` (the monitor itself does not schedule).
    public var evaluateEvery: Int64 = 30 * second
    /// An incident opens once evaluations have found anomalies for this long without a break
    /// (0: at the first anomalous evaluation). Like Prometheus' `for:`, it keeps one unlucky
    /// window from paging anyone, and lets the ranking see more than the first failures.
    public var openAfter: Int64 = 30 * second
    /// An open incident resolves after this long without an anomalous evaluation.
    public var quietPeriod: Int64 = 300 * second
    /// No incident opens before the ring has seen this much baseline (after a first start;
    /// restarts keep nothing of the ring, so the same holds after every start).
    public var minimumBaseline: Int64 = 600 * second
    /// Updates of one incident are notified at most this often (a material change in between
    /// is kept and sent when the interval has passed).
    public var updateInterval: Int64 = 60 * second
    /// The top suspect's score from which an incident is `critical` rather than `warning`.
    public var criticalScore = 20.0
    public var detection = DetectionThresholds()
    /// The diagnosis that ranks suspects once an anomaly is detected.
    public var diagnosis = DiagnosisConfiguration()
    /// Resolved incidents are forgotten (their files removed) this long after they resolved...
    public var keepResolved: Int64 = 7 * 86400 * second
    /// ...or beyond this many, oldest first.
    public var maxResolved = 1000
    /// Distinct workloads tracked; further ones are counted together as `(other)`.
    public var maxWorkloads = 5000
    /// Distinct error/warning message shapes per workload per bucket; the excess counts as one.
    public var maxShapesPerBucket = 64
    /// Records stamped further than this ahead of `now` are counted in the current bucket
    /// (node clocks drift); older than the ring, they are dropped and counted.
    public var futureTolerance: Int64 = 120 * second
    /// How often the window's requests are checked for steps that went missing or appeared
    /// (the diagnosis' request model, read back from the store), so that a fault whose service
    /// logs no error is detected too. 0 turns the check off. It reads the window and
    /// `requestBaseline` before it, so it runs less often than the count test.
    public var requestCheckEvery: Int64 = 120 * second
    /// The baseline of the request check: the stretch right before the window (at most
    /// `baseline`).
    public var requestBaseline: Int64 = 900 * second
    public var webhooks: [WebhookConfiguration] = []
    /// Base URL of the collector as the ops console reaches it, for links in notifications
    /// (`generatorURL`, Slack links): `<external_url>/api/v1/incidents/<id>`.
    public var externalURL: String?
    /// Where the collector's continuous mode reads the time (nanoseconds since the epoch). Not
    /// a setting: tests substitute a clock they advance by hand, so that windows, quiet periods
    /// and backoff play out without waiting. (`IncidentMonitor` and `WebhookNotifier` take the
    /// time as an argument and never read it.)
    public var clock: @Sendable () -> Int64 = { WallClock.nowNanos() }

    public init() {}

    /// Checks the relations between settings; the message names the setting to change.
    public func validate() throws {
        func fail(_ message: String) -> ContinuousConfigurationError { ContinuousConfigurationError(message) }
        guard bucket >= Self.second / 10 else { throw fail("diagnosis.bucket must be at least 100ms") }
        guard window >= 2 * bucket else { throw fail("diagnosis.window must span at least two buckets (\(bucket / Self.second)s each)") }
        guard baseline >= window else { throw fail("diagnosis.baseline must be at least as long as diagnosis.window") }
        guard (window + baseline) / bucket <= 100_000 else {
            throw fail("diagnosis.window + diagnosis.baseline is more than 100000 buckets: raise diagnosis.bucket")
        }
        guard quietPeriod > 0, evaluateEvery > 0 else { throw fail("diagnosis.quiet_period and diagnosis.evaluate_every must be positive") }
        guard openAfter >= 0 else { throw fail("diagnosis.open_after must not be negative") }
        guard minimumBaseline <= baseline else { throw fail("diagnosis.minimum_baseline must not exceed diagnosis.baseline") }
        guard requestCheckEvery >= 0 else { throw fail("diagnosis.request_check_every must not be negative (0 turns the check off)") }
        guard requestBaseline > 0 else { throw fail("diagnosis.request_baseline must be positive") }
        var names = Set<String>()
        for webhook in webhooks {
            guard names.insert(webhook.name).inserted else {
                throw fail("diagnosis.webhooks: the name '\(webhook.name)' is used twice; names key the outbox and must be unique")
            }
            try webhook.validate()
        }
    }
}

/// When the aggregates of a workload count as anomalous (docs/DIAGNOSIS.md, "Continuous mode").
/// Surprise is `-log10 p` of the conditional binomial test the diagnosis uses for rates.
public struct DetectionThresholds: Sendable, Hashable {
    /// Errors rose with p below 10^-errorSurprise...
    public var errorSurprise = 6.0
    /// ...and the window holds at least this many.
    public var minimumErrors = 5
    /// An error or warning message shape absent from the baseline (or rising) with p below
    /// 10^-shapeSurprise and at least `minimumShapeCount` occurrences.
    public var shapeSurprise = 4.0
    public var minimumShapeCount = 5
    /// A self-blaming signature (OOMKilled, CrashLoopBackOff, failed probe) rose with p below
    /// 10^-signatureSurprise; one absent from the baseline counts from its second occurrence.
    public var signatureSurprise = 3.0
    /// A step of the requests missing or new with `reliability · -log10 p` at least this
    /// (the request check; as strict as `errorSurprise`, for the same reason)...
    public var requestSurprise = 6.0
    /// ...in at least this many requests.
    public var minimumRequestCount = 5

    public init() {}
}

/// One receiver of incident notifications.
public struct WebhookConfiguration: Sendable, Hashable {
    /// Keys the outbox: pending notifications of a webhook renamed or removed are dropped.
    public var name: String
    public var url: String
    public var kind: WebhookKind
    /// The HMAC-SHA256 key (docs/REPORT.md, "Webhook signatures").
    public var secret: [UInt8]
    public var timeout: Int64 = 10 * ContinuousConfiguration.second
    /// Attempts per notification before it is given up (and kept as failed on the incident).
    public var maxAttempts = 8
    /// Backoff before the second attempt; doubles per attempt up to `maxBackoff`, with jitter.
    public var initialBackoff: Int64 = 1 * ContinuousConfiguration.second
    public var maxBackoff: Int64 = 300 * ContinuousConfiguration.second
    /// Extra request headers (e.g. `Authorization` for an Alertmanager behind a proxy).
    public var headers: [String: String] = [:]
    /// Lets the URL point at a link-local or metadata service address (`WebhookURL`), refused
    /// otherwise.
    public var allowLinkLocal = false

    public init(name: String, url: String, kind: WebhookKind, secret: [UInt8]) {
        self.name = name
        self.url = url
        self.kind = kind
        self.secret = secret
    }

    public func validate() throws {
        try validateURL()
        guard !secret.isEmpty else {
            throw ContinuousConfigurationError("webhook '\(name)': the signing secret is empty; put one in its secret_file")
        }
        guard maxAttempts >= 1 else { throw ContinuousConfigurationError("webhook '\(name)': max_attempts must be at least 1") }
        guard timeout > 0, initialBackoff > 0, maxBackoff >= initialBackoff else {
            throw ContinuousConfigurationError("webhook '\(name)': timeout and backoff must be positive, max_backoff at least initial_backoff")
        }
    }

    /// The URL's shape and address class (`WebhookURL`); the error names the URL and what to write.
    public func validateURL() throws(ContinuousConfigurationError) {
        let parsed: WebhookURL
        do {
            parsed = try WebhookURL.parse(url)
        } catch {
            throw ContinuousConfigurationError("webhook '\(name)': \(error)")
        }
        switch parsed.hostClass {
        case .ordinary:
            break
        case .linkLocal where !allowLinkLocal:
            throw ContinuousConfigurationError(
                "webhook '\(name)': url '\(url)' points at a link-local address (169.254.0.0/16 or fe80::/10, where cloud metadata services answer); write the receiver's own address or name, or set allow_link_local: true on this webhook if the receiver really listens there")
        case .metadataService where !allowLinkLocal:
            throw ContinuousConfigurationError(
                "webhook '\(name)': url '\(url)' points at a cloud metadata service address; write the receiver's own address or name, or set allow_link_local: true on this webhook if the receiver really listens there")
        case .linkLocal, .metadataService:
            break
        }
    }
}

/// The payload a webhook receives (docs/REPORT.md, "Webhook payloads").
public enum WebhookKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The incident and its full report.
    case json
    /// An Alertmanager v2 `POST /api/v2/alerts` body.
    case alertmanager
    /// A Slack incoming-webhook message, `{"text": ...}` in mrkdwn.
    case slack
}

public struct ContinuousConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
