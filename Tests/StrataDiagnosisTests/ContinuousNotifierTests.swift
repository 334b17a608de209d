import Foundation
import StrataCore
import Synchronization
import Testing

@testable import StrataDiagnosis

/// Answers from a script (then 200), and records every request it was given.
final class ScriptedTransport: WebhookTransport {
    enum Step: Sendable {
        case status(Int, retryAfter: Int? = nil)
        case connectionRefused
    }

    struct Refused: Error, CustomStringConvertible {
        var description: String { "connection refused" }
    }

    private let state: Mutex<(script: [Step], requests: [WebhookRequest])>

    init(_ script: [Step] = []) { state = Mutex((script, [])) }

    var requests: [WebhookRequest] { state.withLock { $0.requests } }

    func send(_ request: WebhookRequest) async throws -> WebhookResponse {
        let step: Step? = state.withLock { state in
            state.requests.append(request)
            return state.script.isEmpty ? nil : state.script.removeFirst()
        }
        switch step {
        case .none: return WebhookResponse(status: 200, bodyPrefix: "ok")
        case .status(let code, let retryAfter)?: return WebhookResponse(status: code, retryAfterSeconds: retryAfter, bodyPrefix: "busy")
        case .connectionRefused?: throw Refused()
        }
    }

    /// Requests answered 200: those after the script ran out, plus scripted 2xx answers.
    func successes(given script: [Step]) -> [WebhookRequest] {
        let all = requests
        var successes: [WebhookRequest] = []
        for (index, request) in all.enumerated() {
            if index < script.count {
                if case .status(let code, _) = script[index], (200..<300).contains(code) { successes.append(request) }
            } else {
                successes.append(request)
            }
        }
        return successes
    }
}

let hookSecret = Array("s3cret".utf8)

func webhook(_ name: String, _ kind: WebhookKind, maxAttempts: Int = 5) -> WebhookConfiguration {
    var webhook = WebhookConfiguration(name: name, url: "http://127.0.0.1:9/\(name)", kind: kind, secret: hookSecret)
    webhook.maxAttempts = maxAttempts
    webhook.initialBackoff = 1 * second
    webhook.maxBackoff = 8 * second
    webhook.headers = ["Authorization": "Bearer am-token", "X-Strata-Signature": "must not override"]
    return webhook
}

/// Opens an incident (db failing) and returns the monitor, the records and the time reached.
func monitorWithOpenIncident(directory: String, webhooks: [WebhookConfiguration]) throws -> (IncidentMonitor, SimulatedCollector) {
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(webhooks: webhooks), directory: directory, startedAt: t0, logger: quietLogger,
        templater: { MaskingTemplater() })
    let cluster = SimulatedCollector(monitor: monitor, start: t0)
    try cluster.run(until: t0 + 900 * second, traffic: healthy)
    try cluster.run(until: t0 + 1080 * second, traffic: dbFailing)
    #expect(cluster.changes.first?.event == .opened)
    return (monitor, cluster)
}

@Test func failuresAreRetriedWithBackoffAndDeliveredOnce() async throws {
    let directory = temporaryDirectory("notifier")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let (monitor, cluster) = try monitorWithOpenIncident(directory: directory, webhooks: [webhook("ops", .json)])
    let id = try #require(monitor.openIncidentID)
    let script: [ScriptedTransport.Step] = [.connectionRefused, .status(503), .status(429, retryAfter: 6)]
    let transport = ScriptedTransport(script)
    let notifier = WebhookNotifier(monitor: monitor, transport: transport, logger: quietLogger, jitter: { 0.5 })

    // Polled every 250 ms of simulated time for a minute: three failures, then one delivery.
    var now = cluster.now
    var attemptTimes: [Int64] = []
    while now < cluster.now + 60 * second {
        let before = transport.requests.count
        await notifier.deliverDue(now: now)
        if transport.requests.count > before { attemptTimes.append(now) }
        now += 250_000_000
    }
    let requests = transport.requests
    #expect(requests.count == 4)
    #expect(monitor.pendingNotifications().isEmpty)
    // Backoff with jitter 0.5: 1 s · 0.75, then 2 s · 0.75, then Retry-After 6 s beats 4 s · 0.75.
    let gaps = zip(attemptTimes.dropFirst(), attemptTimes).map { $0 - $1 }
    #expect(gaps == [750_000_000, 1_500_000_000, 6 * second])
    // Every attempt is the same notification, signed afresh, numbered.
    #expect(Set(requests.map(\.body)).count == 1)
    #expect(requests.map { $0.header("X-Strata-Delivery-Attempt") } == ["1", "2", "3", "4"])
    for request in requests {
        #expect(request.header("X-Strata-Idempotency-Key") == "\(id):1")
        #expect(request.header("X-Strata-Event") == "opened")
        #expect(request.header("Authorization") == "Bearer am-token")
        #expect(request.header("Content-Type") == "application/json")
        let timestamp = try #require(request.header(WebhookSignature.timestampHeader))
        let signature = try #require(request.header(WebhookSignature.signatureHeader))
        #expect(WebhookSignature.verify(
            body: request.body, timestamp: timestamp, signature: signature, secret: hookSecret, nowSeconds: Int64(timestamp) ?? 0))
        #expect(request.headers.filter { $0.name.lowercased() == "x-strata-signature" }.count == 1)
    }

    // The incident resolves: exactly one more delivery, for version 2.
    try cluster.run(until: t0 + 1500 * second, traffic: healthy)
    #expect(cluster.changes.map(\.event).last == .resolved)
    await notifier.deliverDue(now: cluster.now)
    await notifier.deliverDue(now: cluster.now + 3600 * second)
    let successes = transport.successes(given: script)
    let changes = try #require(monitor.incident(id: id)).history.count
    #expect(successes.count == changes)
    #expect(successes.map { $0.header("X-Strata-Idempotency-Key") } == (1...changes).map { "\(id):\($0)" })
    #expect(successes.last?.header("X-Strata-Event") == "resolved")
}

@Test func eachWebhookGetsEachStateChangeOnceInOrder() async throws {
    let directory = temporaryDirectory("notifier")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let hooks = [webhook("console", .json), webhook("am", .alertmanager), webhook("chat", .slack)]
    let (monitor, cluster) = try monitorWithOpenIncident(directory: directory, webhooks: hooks)
    // Nobody answers while the incident plays out: opened and resolved queue up.
    let transport = ScriptedTransport(Array(repeating: .connectionRefused, count: 2))
    let notifier = WebhookNotifier(monitor: monitor, transport: transport, logger: quietLogger, jitter: { 0 })
    try cluster.run(until: t0 + 1500 * second, traffic: healthy)
    #expect(monitor.pendingNotifications().count == 3 * cluster.changes.count)
    var now = cluster.now
    for _ in 0..<40 {
        await notifier.deliverDue(now: now)
        now += 1 * second
    }
    #expect(monitor.pendingNotifications().isEmpty)
    let delivered = Array(transport.requests.dropFirst(2))
    for hook in hooks {
        let mine = delivered.filter { $0.url.hasSuffix("/" + hook.name) }
        // Opened strictly before resolved, once each.
        #expect(mine.map { $0.header("X-Strata-Event") } == cluster.changes.map { $0.event.rawValue })
    }
    // The bodies are the three kinds.
    let am = try #require(delivered.first { $0.url.hasSuffix("/am") })
    #expect(String(decoding: am.body, as: UTF8.self).hasPrefix("[{\"annotations\""))
    let chat = try #require(delivered.first { $0.url.hasSuffix("/chat") })
    #expect(String(decoding: chat.body, as: UTF8.self).hasPrefix("{\"text\":\":rotating_light: *["))
}

@Test func pendingOutboxIsDeliveredOnceAfterARestart() async throws {
    let directory = temporaryDirectory("notifier")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let hooks = [webhook("ops", .json)]
    var id = ""
    do {
        let (monitor, cluster) = try monitorWithOpenIncident(directory: directory, webhooks: hooks)
        id = try #require(monitor.openIncidentID)
        // One failed attempt, then the process dies with the notification pending.
        let transport = ScriptedTransport([.status(502)])
        let notifier = WebhookNotifier(monitor: monitor, transport: transport, logger: quietLogger, jitter: { 0 })
        await notifier.deliverDue(now: cluster.now)
        #expect(transport.requests.count == 1)
        #expect(monitor.pendingNotifications().first?.attempts == 1)
    }
    // The new process finds the pending notification on disk, with its attempt count.
    let restarted = try IncidentMonitor(
        configuration: continuousConfiguration(webhooks: hooks), directory: directory, startedAt: t0 + 1100 * second,
        logger: quietLogger)
    let pending = restarted.pendingNotifications()
    #expect(pending.count == 1 && pending.first?.key == "\(id):1" && pending.first?.attempts == 1)
    let transport = ScriptedTransport()
    let notifier = WebhookNotifier(monitor: restarted, transport: transport, logger: quietLogger, jitter: { 0 })
    await notifier.deliverDue(now: t0 + 1100 * second)
    await notifier.deliverDue(now: t0 + 1200 * second)
    #expect(transport.requests.count == 1)
    #expect(transport.requests.first?.header("X-Strata-Delivery-Attempt") == "2")
    #expect(transport.requests.first?.header("X-Strata-Idempotency-Key") == "\(id):1")

    // And a third start has nothing left to send.
    let again = try IncidentMonitor(
        configuration: continuousConfiguration(webhooks: hooks), directory: directory, startedAt: t0 + 1300 * second,
        logger: quietLogger)
    #expect(again.pendingNotifications().isEmpty)
}

@Test func refusalsAndExhaustedAttemptsAreKeptAsFailed() async throws {
    let directory = temporaryDirectory("notifier")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let hooks = [webhook("strict", .json, maxAttempts: 3), webhook("flaky", .slack, maxAttempts: 3)]
    let (monitor, cluster) = try monitorWithOpenIncident(directory: directory, webhooks: hooks)
    let id = try #require(monitor.openIncidentID)
    // strict answers 400 (retrying cannot help); flaky is down for good.
    final class Router: WebhookTransport {
        let count = Mutex(0)
        func send(_ request: WebhookRequest) async throws -> WebhookResponse {
            count.withLock { $0 += 1 }
            if request.url.hasSuffix("/strict") { return WebhookResponse(status: 400, bodyPrefix: "bad payload") }
            throw ScriptedTransport.Refused()
        }
    }
    let transport = Router()
    let notifier = WebhookNotifier(monitor: monitor, transport: transport, logger: quietLogger, jitter: { 0 })
    var now = cluster.now
    for _ in 0..<30 {
        await notifier.deliverDue(now: now)
        now += 1 * second
    }
    #expect(cluster.changes.map(\.event) == [.opened])
    #expect(transport.count.withLock { $0 } == 1 + 3)
    #expect(monitor.pendingNotifications().isEmpty)
    let incident = try #require(monitor.incident(id: id))
    #expect(incident.failedNotifications.map(\.webhook).sorted() == ["flaky", "strict"])
    #expect(incident.failedNotifications.first { $0.webhook == "strict" }?.lastError == "HTTP 400 bad payload")
    #expect(incident.failedNotifications.first { $0.webhook == "flaky" }?.attempts == 3)
    #expect(incident.summary.failedNotifications == 2)
}

@Test func backoffIsExponentialCappedAndJittered() throws {
    let directory = temporaryDirectory("notifier")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let hook = webhook("ops", .json)
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(webhooks: [hook]), directory: directory, startedAt: t0, logger: quietLogger)
    let low = WebhookNotifier(monitor: monitor, transport: ScriptedTransport(), logger: quietLogger, jitter: { 0 })
    let high = WebhookNotifier(monitor: monitor, transport: ScriptedTransport(), logger: quietLogger, jitter: { 0.999999 })
    #expect((1...6).map { low.backoff(afterAttempt: $0, webhook: hook) } == [500, 1000, 2000, 4000, 4000, 4000].map { Int64($0) * 1_000_000 })
    for attempt in 1...6 {
        let floor = low.backoff(afterAttempt: attempt, webhook: hook)
        let ceiling = high.backoff(afterAttempt: attempt, webhook: hook)
        #expect(ceiling > floor && ceiling <= 2 * floor)
    }
    // No overflow however many attempts.
    #expect(low.backoff(afterAttempt: 500, webhook: hook) == 4 * second)
}
