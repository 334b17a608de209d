import Foundation
import Logging
import StrataCore
import StrataQuery
import StrataStore
import StrataTestSupport
import Testing

@testable import StrataServer

/// The query endpoints over real HTTP on loopback. Serialized: the test clients block a thread
/// on their sockets, and the collector shares the (two-thread) concurrency pool.
@Suite(.serialized) struct QueryAPITests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    typealias Running = RunningCollector

    func start(tokens: [String] = []) async throws -> Running {
        let root = NSTemporaryDirectory() + "query-api-" + UUID().uuidString
        let (server, port, task) = try await startInProcessCollector(dataDirectory: root + "/data", tokens: tokens, logger: logger) {
            $0.flushInterval = .seconds(3600)
        }
        return Running(server: server, url: "http://127.0.0.1:\(port)", task: task, root: root)
    }

    func record(_ body: String, pod: String, at timestamp: Int64, severity: Severity = .info, status: String? = nil) -> LogRecord {
        LogRecord(
            timestamp: timestamp, observedTimestamp: timestamp, severity: severity, body: body,
            attributes: status.map { [Attribute("status", $0)] } ?? [],
            resource: Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, pod)]))
    }

    func get(_ running: Running, _ path: String, _ query: [String: String], headers: [String: String] = [:]) async throws -> (Int, JSONValue) {
        var components = URLComponents()
        components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        let encoded = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let (status, body) = try await LoopbackHTTP.request(method: "GET", url: running.url + path + "?" + encoded, headers: headers, body: [])
        return (status, try JSONValue.parse(body))
    }

    /// Records spread over the last 50 minutes: half in segments, half in the head.
    func seeded() async throws -> (Running, [LogRecord]) {
        let running = try await start()
        let now = WallClock.nowNanos()
        var records: [LogRecord] = []
        for i in 0..<200 {
            let status = ["200", "404", "500", "503"][i % 4]
            records.append(
                record(
                    "GET /api/orders \(status) took \(i)ms" + (i % 10 == 0 ? " connection refused" : ""), pod: "api-\(i % 3)",
                    at: now - Int64(200 - i) * 15_000_000_000, severity: i % 4 >= 2 ? .error : .info, status: status))
        }
        _ = try running.server.store.ingest(batchID: nil, records: Array(records[..<100]))
        try running.server.store.flush()
        _ = try running.server.store.ingest(batchID: nil, records: Array(records[100...]))
        return (running, records)
    }

    @Test func queryReturnsRecordsNewestFirstWithCursorAndTook() async throws {
        let (running, records) = try await seeded()
        let (status, body) = try await get(running, "/api/v1/query", ["q": "status:>=500 \"connection refused\"", "limit": "3"])
        #expect(status == 200)
        let expected = records.filter { $0.body.contains("connection refused") && ($0.attributes.first?.value ?? "").hasPrefix("5") }
            .sorted { $0.timestamp > $1.timestamp }
        let bodies = body["records"]?.array?.compactMap { $0["body"]?.string }
        #expect(bodies == expected.prefix(3).map(\.body))
        #expect(body["took_ms"]?.number != nil)
        let cursor = try #require(body["next_cursor"]?.string)
        let (_, second) = try await get(running, "/api/v1/query", ["q": "status:>=500 \"connection refused\"", "limit": "3", "cursor": cursor])
        #expect(second["records"]?.array?.compactMap { $0["body"]?.string } == expected.dropFirst(3).prefix(3).map(\.body))

        let (_, ascending) = try await get(running, "/api/v1/query", ["q": "pod:api-1", "order": "asc", "limit": "2", "since": "2h"])
        #expect(ascending["records"]?.array?.compactMap { $0["body"]?.string } == records.filter { $0.resource[ResourceKey.pod] == "api-1" }.prefix(2).map(\.body))

        let (_, count) = try await get(running, "/api/v1/query", ["q": "level:error", "count": "true"])
        #expect(count["count"]?.int == 100)
    }

    @Test func statsHistogramAndLabels() async throws {
        let (running, records) = try await seeded()
        let (status, stats) = try await get(running, "/api/v1/stats", ["q": "", "by": "pod,level"])
        #expect(status == 200)
        #expect(stats["total"]?.int == records.count)
        #expect(stats["groups"]?.array?.count == 6)
        let (_, spec) = try await get(running, "/api/v1/stats", ["stats": "count by level"])
        #expect(spec["groups"]?.array?.map { $0["count"]?.int } == [100, 100])

        let (_, histogram) = try await get(running, "/api/v1/stats", ["q": "refused", "interval": "10m", "since": "1h"])
        let buckets = try #require(histogram["buckets"]?.array)
        #expect(buckets.count >= 6 && buckets.count <= 7)
        #expect(buckets.compactMap { $0["count"]?.int }.reduce(0, +) == 20)

        let (_, pods) = try await get(running, "/api/v1/labels", ["name": "pod"])
        #expect(pods["groups"]?.array?.compactMap { $0["key"]?.array?.first?.string }.sorted() == ["api-0", "api-1", "api-2"])
        let (_, labels) = try await get(running, "/api/v1/labels", [:])
        #expect(labels["labels"]?.array?.map { $0["label"]?.string ?? "" } == ["ns", "pod", "container", "node", "level"])
        #expect(labels["labels"]?.array?[1]["values"]?.int == 3)
    }

    @Test func errorsAreJSONWithStatusCodes() async throws {
        let running = try await start(tokens: ["s3cret"])
        let auth = ["Authorization": "Bearer s3cret"]
        let (unauthorized, body401) = try await get(running, "/api/v1/query", ["q": "x"])
        #expect(unauthorized == 401 && body401["code"]?.string == "unauthorized")
        let (bad, body400) = try await get(running, "/api/v1/query", ["q": "a AND (b"], headers: auth)
        #expect(bad == 400 && body400["code"]?.string == "bad_query")
        #expect(body400["message"]?.string == "column 9: expected ')' to close '(' opened at column 7")
        let (long, body414) = try await get(running, "/api/v1/query", ["q": String(repeating: "a ", count: 2100)], headers: auth)
        #expect(long == 414 && body414["code"]?.string == "query_too_long")
        let (limit, bodyLimit) = try await get(running, "/api/v1/query", ["q": "a", "limit": "0"], headers: auth)
        #expect(limit == 400 && bodyLimit["code"]?.string == "bad_parameter")
        let (cursor, bodyCursor) = try await get(running, "/api/v1/query", ["cursor": "nope"], headers: auth)
        #expect(cursor == 400 && bodyCursor["code"]?.string == "bad_cursor")
        let (range, bodyRange) = try await get(running, "/api/v1/query", ["from": "yesterday"], headers: auth)
        #expect(range == 400 && bodyRange["code"]?.string == "bad_range")
        let (buckets, bodyBuckets) = try await get(running, "/api/v1/stats", ["interval": "1ms", "since": "7d"], headers: auth)
        #expect(buckets == 400 && bodyBuckets["code"]?.string == "too_many_buckets")
        let (ok, _) = try await get(running, "/api/v1/labels", [:], headers: auth)
        #expect(ok == 200)
        // Paths and methods no route serves are JSON too, not Hummingbird's empty body.
        let (missing, bodyMissing) = try await get(running, "/api/v2/query", [:], headers: auth)
        #expect(missing == 404 && bodyMissing["code"]?.string == "not_found")
        #expect(bodyMissing["message"]?.string?.contains("GET /api/v2/query") == true)
        let (method, bodyMethod) = try await LoopbackHTTP.request(method: "DELETE", url: running.url + "/api/v1/query", headers: auth, body: [])
        let methodCode = try JSONValue.parse(bodyMethod)["code"]?.string
        #expect(method == 404 && methodCode == "not_found")
    }

    @Test func tailFollowsAndResumesWithoutDuplicates() async throws {
        let running = try await start()
        let stream = try EventStream(url: running.url, path: "/api/v1/tail?q=refused")
        defer { stream.close() }
        #expect(try await stream.awaitFollowing(timeout: 60))
        let store = running.server.store
        _ = try store.ingest(batchID: nil, records: [record("first connection refused", pod: "a", at: WallClock.nowNanos()), record("other", pod: "a", at: WallClock.nowNanos())])
        // Generous: CPU-bound suites running in parallel can hold both threads of the
        // cooperative pool for seconds, and the collector's tail polling runs there too (the
        // latency is not asserted here; an arriving record ends the wait at once).
        let first = try #require(try await stream.awaitRecord(timeout: 60))
        #expect(first.data.contains("first connection refused"))
        let id = try #require(first.id)

        // While disconnected: records arrive, one batch is flushed to a segment between polls.
        _ = try store.ingest(batchID: nil, records: [record("second connection refused", pod: "a", at: WallClock.nowNanos())])
        try store.flush()
        _ = try store.ingest(batchID: nil, records: [record("third connection refused", pod: "a", at: WallClock.nowNanos())])

        let resumed = try EventStream(url: running.url, path: "/api/v1/tail?q=refused", lastEventID: id)
        defer { resumed.close() }
        var bodies: [String] = []
        while bodies.count < 2, let event = try await resumed.awaitRecord(timeout: 60) { bodies.append(event.data) }
        #expect(bodies.count == 2)
        #expect(bodies.first?.contains("second connection refused") == true)
        #expect(bodies.last?.contains("third connection refused") == true)
        #expect(try await resumed.awaitRecord(timeout: 0.6) == nil, "nothing twice")

        let stale = try EventStream(url: running.url, path: "/api/v1/tail?q=refused", lastEventID: "unknown-5")
        defer { stale.close() }
        let gap = try #require(try await stale.awaitEvent(timeout: 60))
        #expect(gap.type == "gap")
    }
}

/// A blocking server-sent-events reader over a loopback socket. Used by one task at a time.
final class EventStream: @unchecked Sendable {
    let fd: Int32
    var parser = ServerSentEvents()
    var pending: [ServerSentEvents.Event] = []

    init(url: String, path: String, lastEventID: String? = nil) throws {
        guard let parsed = URL(string: url), let port = parsed.port else { throw CocoaError(.fileReadInvalidFileName) }
        fd = try connectLoopback(port: port)
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if let lastEventID { head += "Last-Event-ID: \(lastEventID)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        // Skip the response head; the body is chunked: strip chunk-size lines loosely by
        // feeding only lines that look like SSE.
    }

    private var closed = false
    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// The next event (comments excluded), or nil after `timeout` seconds.
    func next(timeout: Double) throws -> ServerSentEvents.Event? {
        let deadline = Date().addingTimeInterval(timeout)
        while pending.isEmpty {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(remaining * 1000)) > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return nil }
            // Chunked framing: drop chunk-size lines (hex digits only) and the HTTP head.
            let text = String(decoding: buffer[0..<n], as: UTF8.self)
            let cleaned = text.split(separator: "\r\n", omittingEmptySubsequences: false).filter { line in
                !(line.allSatisfy(\.isHexDigit) && !line.isEmpty) && !line.hasPrefix("HTTP/") && !line.contains(": ") || line.hasPrefix("data: ") || line.hasPrefix("id: ") || line.hasPrefix("event: ")
            }.joined(separator: "\n")
            pending += parser.feed(Array(cleaned.utf8))
        }
        return pending.removeFirst()
    }

    /// `nextRecord` on a thread of its own: blocking a thread of the (two-thread) cooperative
    /// pool while other suites run would starve the collector that has to send the event.
    func awaitRecord(timeout: Double) async throws -> ServerSentEvents.Event? {
        try await onOwnThread { try self.nextRecord(timeout: timeout) }
    }

    /// Waits for the collector's `: following` comment: records stored before the
    /// subscription are not the stream's to deliver, so a test must not store any before it.
    func awaitFollowing(timeout: Double) async throws -> Bool {
        try await onOwnThread {
            let deadline = Date().addingTimeInterval(timeout)
            var seen: [UInt8] = []
            while deadline.timeIntervalSinceNow > 0 {
                var poller = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, Int32(deadline.timeIntervalSinceNow * 1000)) > 0 else { return false }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = recv(self.fd, &buffer, buffer.count, 0)
                if n <= 0 { return false }
                seen += buffer[0..<n]
                if String(decoding: seen, as: UTF8.self).contains(": following") { return true }
            }
            return false
        }
    }

    /// `next` on a thread of its own, as `awaitRecord`.
    func awaitEvent(timeout: Double) async throws -> ServerSentEvents.Event? {
        try await onOwnThread { try self.next(timeout: timeout) }
    }

    /// The next event carrying a record.
    func nextRecord(timeout: Double) throws -> ServerSentEvents.Event? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, let event = try next(timeout: remaining) else { return nil }
            if event.type == nil, event.data.hasPrefix("{\"timestamp\"") { return event }
        }
    }
}

extension QueryAPITests {
    /// Times past either end of the nanosecond scale, on every route that takes a range.
    @Test func rangesBeyondTheNanosecondScaleAreBadRangeAnswers() async throws {
        let running = try await start()
        let ranges: [[String: String]] = [
            ["to": "-9223372036854775808"], ["to": "-9223372036854775800", "since": "1h"], ["to": "now+15250w"],
            ["to": "now-15251w"], ["from": "-9223372036854775808", "to": "9223372036854775807", "interval": "1h"],
            ["from": "-9223372036854775807", "to": "-9223372036854775000", "interval": "1h"],
            ["from": "-9000000000000000000", "to": "9000000000000000000", "interval": "1000000000000000000ns"],
        ]
        for path in ["/api/v1/query", "/api/v1/stats", "/api/v1/labels", "/api/v1/templates", "/api/v1/tail"] {
            for range in ranges where path == "/api/v1/stats" || range["interval"] == nil {
                let (status, body) = try await get(running, path, range)
                #expect(status == 400, "\(path) \(range)")
                #expect(body["code"]?.string == "bad_range" || body["code"]?.string == "too_many_buckets", "\(path) \(range)")
                #expect(body["message"]?.string?.isEmpty == false, "\(path) \(range)")
            }
        }
        let (ok, _) = try await get(running, "/api/v1/query", ["q": "x"])
        #expect(ok == 200, "the collector still answers")
    }
}
