import Foundation
import Logging
import StrataCore
import Synchronization
import Testing

@testable import StrataDiagnosis
@testable import StrataServer

/// An HTTP/1.1 server on a loopback port, one connection at a time, answering from a script
/// (then 200) and recording each request as received.
final class LoopbackWebhookReceiver: Sendable {
    struct Received: Sendable {
        var requestLine: String
        var headers: [String: String]
        var body: [UInt8]
    }

    struct Answer: Sendable {
        var status: Int
        var headers: [String: String] = [:]
        var body = "ok"
    }

    let port: Int
    private let listener: Int32
    private let state: Mutex<(script: [Answer], received: [Received])>

    init(script: [Answer] = []) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw CocoaError(.fileWriteUnknown)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        state = Mutex((script, []))
        Thread.detachNewThread { [self] in serve() }
    }

    var received: [Received] { state.withLock { $0.received } }
    var url: String { "http://127.0.0.1:\(port)/hooks/strata" }

    /// Only wakes `accept`: closing here could free the descriptor number for another test's
    /// receiver while this thread has not yet reached `accept`, which would then steal its
    /// connections. The serving thread closes the socket when `accept` fails.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                close(listener)
                return
            }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            if let end = headerEnd, data.count >= end + contentLength { break }
            let n = recv(connection, &buffer, buffer.count, 0)
            guard n > 0 else { return }
            data += buffer[0..<n]
            if headerEnd == nil, let range = findHeaderEnd(data) {
                headerEnd = range
                let head = String(decoding: data[0..<range], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
        }
        guard let end = headerEnd else { return }
        let head = String(decoding: data[0..<end - 4], as: UTF8.self).components(separatedBy: "\r\n")
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let answer = state.withLock { state -> Answer in
            state.received.append(Received(requestLine: head.first ?? "", headers: headers, body: Array(data[end..<end + contentLength])))
            return state.script.isEmpty ? Answer(status: 200) : state.script.removeFirst()
        }
        var response = "HTTP/1.1 \(answer.status) Status\r\nContent-Length: \(answer.body.utf8.count)\r\nConnection: close\r\n"
        for (name, value) in answer.headers { response += "\(name): \(value)\r\n" }
        response += "\r\n" + answer.body
        let bytes = Array(response.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return send(connection, base + sent, raw.count - sent, 0)
            }
            guard n > 0 else { return }
            sent += n
        }
    }

    private func findHeaderEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for index in 0...(data.count - 4) where data[index] == 13 && data[index + 1] == 10 && data[index + 2] == 13 && data[index + 3] == 10 {
            return index + 4
        }
        return nil
    }
}

let webhookSecret = Array("loopback-secret".utf8)

func signedRequest(url: String, body: String, timestamp: Int64, timeout: Int64 = 5_000_000_000) -> WebhookRequest {
    let bytes = Array(body.utf8)
    return WebhookRequest(
        url: url,
        headers: [
            .init("Content-Type", "application/json"),
            .init(WebhookSignature.timestampHeader, String(timestamp)),
            .init(WebhookSignature.signatureHeader, WebhookSignature.sign(body: bytes, timestamp: timestamp, secret: webhookSecret)),
        ],
        body: bytes, timeout: timeout)
}

@Test func transportPostsTheSignedBodyOverLoopback() async throws {
    let receiver = try LoopbackWebhookReceiver()
    defer { receiver.stop() }
    let body = "{\"event\":\"opened\",\"text\":\"ünïcödé & <tags>\"}"
    let response = try await HTTPWebhookTransport().send(signedRequest(url: receiver.url, body: body, timestamp: 1_700_000_000))
    #expect(response.status == 200)
    #expect(response.bodyPrefix == "ok")
    let received = try #require(receiver.received.first)
    #expect(received.requestLine == "POST /hooks/strata HTTP/1.1")
    #expect(received.body == Array(body.utf8))
    #expect(received.headers["content-type"] == "application/json")
    // What a receiver does with the two headers.
    let timestamp = try #require(received.headers["x-strata-timestamp"])
    let signature = try #require(received.headers["x-strata-signature"])
    #expect(WebhookSignature.verify(body: received.body, timestamp: timestamp, signature: signature, secret: webhookSecret, nowSeconds: 1_700_000_010))
}

@Test func transportReturnsStatusRetryAfterAndBody() async throws {
    let receiver = try LoopbackWebhookReceiver(script: [.init(status: 503, headers: ["Retry-After": "7"], body: "overloaded")])
    defer { receiver.stop() }
    let response = try await HTTPWebhookTransport().send(signedRequest(url: receiver.url, body: "{}", timestamp: 1))
    #expect(response.status == 503)
    #expect(response.retryAfterSeconds == 7)
    #expect(response.bodyPrefix == "overloaded")
}

@Test func transportThrowsWhenNobodyListens() async throws {
    let receiver = try LoopbackWebhookReceiver()
    let url = receiver.url
    receiver.stop()
    await #expect(throws: (any Error).self) {
        // AsyncHTTPClient retries refused connects until the deadline: keep it short.
        _ = try await HTTPWebhookTransport().send(signedRequest(url: url, body: "{}", timestamp: 1, timeout: 300_000_000))
    }
}

/// The real transport behind the notifier: a pending notification read from disk fails once
/// (500), is retried after its backoff, and arrives exactly once, verifiably signed.
@Test func notifierDeliversThePendingOutboxOnceOverLoopback() async throws {
    let receiver = try LoopbackWebhookReceiver(script: [.init(status: 500, body: "try later")])
    defer { receiver.stop() }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strata-webhook-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var hook = WebhookConfiguration(name: "ops", url: receiver.url, kind: .json, secret: webhookSecret)
    hook.initialBackoff = 1_000_000_000
    var configuration = ContinuousConfiguration()
    configuration.webhooks = [hook]
    let now: Int64 = 1_700_000_000_000_000_000
    let body = "{\"event\":\"opened\",\"incident\":\"inc-1\"}"
    let pending = PendingNotification(
        key: "inc-20231114T221320Z-1:1", webhook: "ops", incidentId: "inc-20231114T221320Z-1", version: 1, event: .opened, body: body,
        createdAt: IncidentTime(now), attempts: 0, nextAttemptAt: IncidentTime(now), lastError: nil)
    try IncidentStore(directory: directory).save(pendingIncident(id: "inc-20231114T221320Z-1", at: now, outbox: [pending]))

    let logger = Logger(label: "test.webhook", factory: { _ in SwiftLogNoOpLogHandler() })
    let monitor = try IncidentMonitor(configuration: configuration, directory: directory, startedAt: now, logger: logger)
    let notifier = WebhookNotifier(monitor: monitor, transport: HTTPWebhookTransport(), logger: logger, jitter: { 0 })
    let first = await notifier.deliverDue(now: now)
    #expect(first.retried == 1)
    let early = await notifier.deliverDue(now: now + 100_000_000)
    #expect(early.waiting == 1 && receiver.received.count == 1)
    let second = await notifier.deliverDue(now: now + 1_000_000_000)
    #expect(second.delivered == 1)
    #expect(await notifier.deliverDue(now: now + 10_000_000_000) == WebhookNotifier.Round())
    let received = receiver.received
    #expect(received.count == 2)
    #expect(received.map { $0.headers["x-strata-delivery-attempt"] } == ["1", "2"])
    #expect(received.allSatisfy { $0.body == Array(body.utf8) && $0.headers["x-strata-idempotency-key"] == "inc-20231114T221320Z-1:1" })
    let last = try #require(received.last)
    #expect(WebhookSignature.verify(
        body: last.body, timestamp: last.headers["x-strata-timestamp"] ?? "", signature: last.headers["x-strata-signature"] ?? "",
        secret: webhookSecret, nowSeconds: now / 1_000_000_000 + 1))
    #expect(monitor.pendingNotifications().isEmpty)
    // The delivery is on disk: a restart finds nothing to send.
    #expect(try IncidentMonitor(configuration: configuration, directory: directory, startedAt: now, logger: logger).pendingNotifications().isEmpty)
}

/// A minimal open incident carrying `outbox`.
func pendingIncident(id: String, at now: Int64, outbox: [PendingNotification]) -> Incident {
    let empty = DiagnosisReport(
        generatedAt: RFC3339.format(nanos: now), window: .init(from: "", to: "", seconds: 60), baseline: .init(from: "", to: "", seconds: 600),
        records: .init(window: 0, baseline: 0, workloads: 0, traces: 0),
        incident: .init(start: nil, end: nil, summary: "test", anomalousWorkloads: 0, failingTraces: 0, typicalChain: [], origin: nil),
        incidents: [], suspects: [], timeline: .init(start: "", bucketSeconds: 1, series: []), notes: [])
    return Incident(
        id: id, state: .open, version: 1, openedAt: IncidentTime(now), updatedAt: IncidentTime(now), resolvedAt: nil,
        start: IncidentTime(now), end: nil, lastAnomalyAt: IncidentTime(now),
        headline: IncidentHeadline(severity: .warning, topSuspect: nil, anomalousSuspects: [], summary: "test"), anomalies: [],
        report: empty, reportAt: IncidentTime(now), history: [],
        baseline: FrozenBaseline(from: IncidentTime(now - 600), to: IncidentTime(now), workloads: []), outbox: outbox,
        failedNotifications: [])
}

/// A redirect to another receiver (another port here: another origin) is not followed: the
/// signed body never reaches it, and the answer says where it pointed.
@Test func transportDoesNotFollowARedirectToAnotherOrigin() async throws {
    let elsewhere = try LoopbackWebhookReceiver()
    defer { elsewhere.stop() }
    for status in [301, 302, 307, 308] {
        let receiver = try LoopbackWebhookReceiver(script: [.init(status: status, headers: ["Location": elsewhere.url])])
        defer { receiver.stop() }
        let response = try await HTTPWebhookTransport().send(signedRequest(url: receiver.url, body: "{}", timestamp: 1))
        #expect(response.status == status)
        #expect(response.bodyPrefix.contains("redirect to \(elsewhere.url) not followed"), "\(response.bodyPrefix)")
        #expect(receiver.received.count == 1)
    }
    #expect(elsewhere.received.isEmpty)
}

/// A receiver that moved a path on the same host with 307/308 is followed, body and signature
/// intact; a 302 on the same host (a client may turn it into a GET) is not.
@Test func transportFollowsSameOriginRepeatRedirectsOnly() async throws {
    let receiver = try LoopbackWebhookReceiver(script: [.init(status: 308, headers: ["Location": "/hooks/moved"])])
    defer { receiver.stop() }
    let body = "{\"event\":\"opened\"}"
    let response = try await HTTPWebhookTransport().send(signedRequest(url: receiver.url, body: body, timestamp: 1_700_000_000))
    #expect(response.status == 200)
    let received = receiver.received
    #expect(received.map(\.requestLine) == ["POST /hooks/strata HTTP/1.1", "POST /hooks/moved HTTP/1.1"])
    #expect(received.last?.body == Array(body.utf8))
    #expect(received.last?.headers["x-strata-signature"] == received.first?.headers["x-strata-signature"])

    let found = try LoopbackWebhookReceiver(script: [.init(status: 302, headers: ["Location": "/hooks/moved"])])
    defer { found.stop() }
    let answer = try await HTTPWebhookTransport().send(signedRequest(url: found.url, body: body, timestamp: 1))
    #expect(answer.status == 302 && found.received.count == 1)

    // A receiver redirecting to itself forever is given up after a few hops.
    let loop = try LoopbackWebhookReceiver(script: Array(repeating: .init(status: 307, headers: ["Location": "/hooks/strata"]), count: 10))
    defer { loop.stop() }
    let looped = try await HTTPWebhookTransport().send(signedRequest(url: loop.url, body: body, timestamp: 1))
    #expect(looped.status == 307 && loop.received.count == HTTPWebhookTransport.maxRedirects + 1)
}

/// A collector whose configuration names a link-local webhook does not start, and says which
/// URL and what to do.
@Test func collectorRefusesToStartWithALinkLocalWebhook() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("strata-webhook-start-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    try "s3cret\n".write(toFile: root + "/secret", atomically: true, encoding: .utf8)
    let url = "http://169.254.169.254/latest/meta-data/"
    try """
        diagnosis:
          webhooks:
            - name: ops
              url: \(url)
              secret_file: \(root)/secret
        """.write(toFile: root + "/collector.yaml", atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: collectorExecutable())
    process.arguments = ["collector", "--data-dir", root + "/data", "--listen", "127.0.0.1:\(try freeLoopbackPort())", "--config", root + "/collector.yaml"]
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus != 0)
    #expect(message.contains(url) && message.contains("allow_link_local: true") && message.contains("webhooks"), "\(message)")
}
