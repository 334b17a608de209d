import Crypto
import Logging
import StrataCore
import Synchronization

/// One HTTP POST of a notification.
public struct WebhookRequest: Sendable, Equatable {
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var url: String
    public var headers: [Header]
    public var body: [UInt8]
    /// Nanoseconds for the whole exchange.
    public var timeout: Int64

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

public struct WebhookResponse: Sendable, Equatable {
    public var status: Int
    /// `Retry-After` in seconds, when the receiver sent one.
    public var retryAfterSeconds: Int?
    /// The start of the body, for error messages.
    public var bodyPrefix: String

    public init(status: Int, retryAfterSeconds: Int? = nil, bodyPrefix: String = "") {
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
        self.bodyPrefix = bodyPrefix
    }
}

/// The seam to HTTP. StrataDiagnosis links no HTTP client; the collector's implementation is
/// StrataServer's `HTTPWebhookTransport`, tests use fakes. Throw for failures below HTTP
/// (connection refused, timeout, TLS); answer any HTTP status as a response.
public protocol WebhookTransport: Sendable {
    func send(_ request: WebhookRequest) async throws -> WebhookResponse
}

/// Webhook request signatures (docs/REPORT.md, "Webhook signatures"):
/// `X-Strata-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>` with
/// `X-Strata-Timestamp: <unix seconds>`. Binding the timestamp lets a receiver refuse replays.
public enum WebhookSignature {
    public static let signatureHeader = "X-Strata-Signature"
    public static let timestampHeader = "X-Strata-Timestamp"

    public static func sign(body: [UInt8], timestamp: Int64, secret: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: signedBytes(body: body, timestamp: "\(timestamp)"), using: SymmetricKey(data: secret))
        return "sha256=" + Hex.encode(code)
    }

    /// What a receiver does: recompute, compare in constant time, and refuse timestamps more
    /// than `tolerance` seconds from its own clock.
    public static func verify(
        body: [UInt8], timestamp: String, signature: String, secret: [UInt8], nowSeconds: Int64, tolerance: Int64 = 300
    ) -> Bool {
        guard let seconds = Int64(timestamp), abs(nowSeconds - seconds) <= tolerance, signature.hasPrefix("sha256="),
            let presented = Hex.decode(String(signature.dropFirst(7)))
        else { return false }
        // swift-crypto compares in constant time, so a forger learns nothing from timing.
        return HMAC<SHA256>.isValidAuthenticationCode(
            presented, authenticating: signedBytes(body: body, timestamp: timestamp), using: SymmetricKey(data: secret))
    }

    private static func signedBytes(body: [UInt8], timestamp: String) -> [UInt8] { Array("\(timestamp).".utf8) + body }
}

/// Sends the outbox: each webhook's notifications in the order their state changes happened
/// (a failing one holds back the later ones of the same webhook, so a receiver never sees
/// `resolved` before `opened`), signed, retried with exponential backoff and jitter up to the
/// webhook's `maxAttempts`. Results go back to the monitor, which persists them.
///
/// Delivery is at least once: a crash after the receiver answered but before the outbox was
/// rewritten sends that notification again after the restart, with the same
/// `X-Strata-Idempotency-Key` (`<incident id>:<version>`) for the receiver to drop it.
public final class WebhookNotifier: Sendable {
    let monitor: IncidentMonitor
    let webhooks: [String: WebhookConfiguration]
    let transport: any WebhookTransport
    let logger: Logger
    /// Uniform in [0, 1); injectable so tests are deterministic.
    let jitter: @Sendable () -> Double
    /// One round at a time: two concurrent rounds would send the same notification twice.
    private let delivering = Mutex(false)

    public init(
        monitor: IncidentMonitor, transport: any WebhookTransport, logger: Logger,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.monitor = monitor
        var byName: [String: WebhookConfiguration] = [:]
        for webhook in monitor.configuration.webhooks { byName[webhook.name] = webhook }
        webhooks = byName
        self.transport = transport
        self.logger = logger
        self.jitter = jitter
    }

    public struct Round: Sendable, Equatable {
        public var delivered = 0
        public var retried = 0
        public var failed = 0
        /// Not yet due (backing off, or behind one that is).
        public var waiting = 0
    }

    /// Attempts every notification due at `now`.
    @discardableResult
    public func deliverDue(now: Int64) async -> Round {
        guard delivering.withLock({ busy in
            if busy { return false }
            busy = true
            return true
        }) else { return Round() }
        defer { delivering.withLock { $0 = false } }
        var round = Round()
        var blocked = Set<String>()
        for notification in monitor.pendingNotifications() {
            if blocked.contains(notification.webhook) {
                round.waiting += 1
                continue
            }
            guard let webhook = webhooks[notification.webhook] else {
                monitor.record(.failed(attempts: notification.attempts, error: "webhook '\(notification.webhook)' is not configured"), for: notification)
                round.failed += 1
                continue
            }
            guard notification.nextAttemptAt.nanos <= now else {
                blocked.insert(webhook.name)
                round.waiting += 1
                continue
            }
            let result = await attempt(notification, webhook: webhook, now: now)
            monitor.record(result, for: notification)
            switch result {
            case .delivered:
                round.delivered += 1
            case .retry(let at, let attempts, let error):
                round.retried += 1
                blocked.insert(webhook.name)
                logger.warning(
                    "webhook \(webhook.name): \(notification.key) (\(notification.event.rawValue)) attempt \(attempts) failed: \(error); retrying at \(RFC3339.format(nanos: at))")
            case .failed(let attempts, let error):
                round.failed += 1
                logger.error(
                    "webhook \(webhook.name): giving up \(notification.key) (\(notification.event.rawValue)) after \(attempts) attempt(s): \(error)")
            }
        }
        return round
    }

    /// The earliest time something in the outbox is due, if anything is pending.
    public func nextDue() -> Int64? {
        monitor.pendingNotifications().map(\.nextAttemptAt.nanos).min()
    }

    func attempt(_ notification: PendingNotification, webhook: WebhookConfiguration, now: Int64) async -> IncidentMonitor.DeliveryResult {
        let attempts = notification.attempts + 1
        let request = Self.request(for: notification, webhook: webhook, attempt: attempts, now: now)
        var retryAfter: Int64 = 0
        let error: String
        do {
            let response = try await transport.send(request)
            switch response.status {
            case 200..<300:
                return .delivered(attempts: attempts)
            case 408, 425, 429, 500...599:
                retryAfter = Int64(max(0, min(3600, response.retryAfterSeconds ?? 0))) * 1_000_000_000
                error = "HTTP \(response.status) \(response.bodyPrefix.prefix(200))"
            default:
                // The receiver refuses this request as such (bad URL, auth, payload): sending
                // it again cannot help.
                return .failed(attempts: attempts, error: "HTTP \(response.status) \(response.bodyPrefix.prefix(200))")
            }
        } catch let failure {
            error = "\(failure)"
        }
        guard attempts < webhook.maxAttempts else {
            return .failed(attempts: attempts, error: "\(attempts) attempt(s), the last: \(error)")
        }
        return .retry(at: now + max(backoff(afterAttempt: attempts, webhook: webhook), retryAfter), attempts: attempts, error: error)
    }

    /// Exponential (`initialBackoff · 2^(attempt-1)`, capped at `maxBackoff`), with "equal
    /// jitter": half fixed, half random, so receivers recovering from an outage are not hit by
    /// every collector at once.
    func backoff(afterAttempt attempt: Int, webhook: WebhookConfiguration) -> Int64 {
        let shift = Int64(min(40, max(0, attempt - 1)))
        let (scaled, overflow) = webhook.initialBackoff.multipliedReportingOverflow(by: Int64(1) << shift)
        let base = overflow ? webhook.maxBackoff : min(webhook.maxBackoff, scaled)
        return base / 2 + Int64(Double(base / 2) * min(1, max(0, jitter())))
    }

    static func request(for notification: PendingNotification, webhook: WebhookConfiguration, attempt: Int, now: Int64) -> WebhookRequest {
        let body = Array(notification.body.utf8)
        let timestamp = now >= 0 ? now / 1_000_000_000 : (now - 999_999_999) / 1_000_000_000
        let own: [WebhookRequest.Header] = [
            .init("Content-Type", "application/json"),
            .init("User-Agent", "strata-collector"),
            .init("X-Strata-Event", notification.event.rawValue),
            .init("X-Strata-Incident", notification.incidentId),
            .init("X-Strata-Idempotency-Key", notification.key),
            .init("X-Strata-Delivery-Attempt", String(attempt)),
            .init(WebhookSignature.timestampHeader, String(timestamp)),
            .init(WebhookSignature.signatureHeader, WebhookSignature.sign(body: body, timestamp: timestamp, secret: webhook.secret)),
        ]
        let reserved = Set(own.map { $0.name.lowercased() })
        let extra = webhook.headers.sorted { $0.key < $1.key }.filter { !reserved.contains($0.key.lowercased()) }
            .map { WebhookRequest.Header($0.key, $0.value) }
        return WebhookRequest(url: webhook.url, headers: own + extra, body: body, timeout: webhook.timeout)
    }
}
