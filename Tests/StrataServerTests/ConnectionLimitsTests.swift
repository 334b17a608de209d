import Foundation
import Logging
import StrataConfiguration
import StrataCore
import StrataStore
import StrataTestSupport
import XCTest

@testable import StrataServer

/// Timeouts, the connection cap, the shutdown deadline, JSON answers to unparsable requests and
/// readiness, over real loopback connections (docs/RELIABILITY.md, "Connections and live tails").
/// Every blocking socket read runs on a thread of its own: the in-process collector shares the
/// two-thread cooperative pool.
final class ConnectionLimitsTests: XCTestCase {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    var root = ""

    override func setUp() { root = ScratchDirectory.uniquePath("connections") }
    override func tearDown() { ScratchDirectory.remove(root) }

    func startCollector(tokens: [String] = [], configure: (inout CollectorConfiguration) -> Void = { _ in }) async throws
        -> (server: CollectorServer, port: Int, task: Task<Void, Error>)
    {
        try await startInProcessCollector(dataDirectory: root + "/data", tokens: tokens, logger: logger, configure: configure)
    }

    func metrics(_ port: Int) async throws -> String {
        try await LoopbackHTTP.request(method: "GET", url: "http://127.0.0.1:\(port)/metrics").1
    }

    // MARK: Timeouts

    func testSilentAndHalfSentRequestsAreAnswered408AndClosedAfterTheHeaderTimeout() async throws {
        let (_, port, task) = try await startCollector { $0.http.headerTimeout = .milliseconds(500) }
        defer { task.cancel() }
        let silent = try RawConnection(port: port)
        let halfSent = try RawConnection(port: port)
        halfSent.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Partial: ")
        let started = Date()
        let (silentBytes, silentClosed) = try await onOwnThread { silent.readUntilClosed(timeout: 10) }
        let (halfBytes, halfClosed) = try await onOwnThread { halfSent.readUntilClosed(timeout: 10) }
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertTrue(silentClosed && halfClosed, "both closed within 10 s")
        XCTAssertGreaterThanOrEqual(elapsed, 0.4, "not before the header timeout")
        XCTAssertLessThan(elapsed, 5)
        for text in [String(decoding: silentBytes, as: UTF8.self), String(decoding: halfBytes, as: UTF8.self)] {
            XCTAssertEqual(statusCode(text), 408, text)
            XCTAssertTrue(responseBody(text).hasPrefix("{\"code\":\"request_timeout\",\"message\":\"no complete request head"), text)
        }
        let exposition = try await metrics(port)
        XCTAssertTrue(exposition.contains("strata_collector_connections_timed_out_total{phase=\"header\"} 2"), exposition)
    }

    func testAStalledUploadIsClosedAfterTheBodyTimeoutAndNothingIsStored() async throws {
        let (server, port, task) = try await startCollector {
            $0.http.bodyTimeout = .milliseconds(500)
            $0.http.idleTimeout = .seconds(60)
        }
        defer { task.cancel() }
        let upload = try RawConnection(port: port)
        upload.send(
            "POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n{\"body\":\"first")
        let started = Date()
        let (bytes, closed) = try await onOwnThread { upload.readUntilClosed(timeout: 10) }
        let elapsed = Date().timeIntervalSince(started)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(closed, "closed within 10 s")
        XCTAssertGreaterThanOrEqual(elapsed, 0.4)
        XCTAssertEqual(statusCode(text), 408, text)
        XCTAssertTrue(responseBody(text).contains("\"code\":\"request_timeout\""), text)
        XCTAssertTrue(responseBody(text).contains("http.body_timeout"), text)
        XCTAssertEqual(server.store.snapshot().head.count, 0)
        let exposition = try await metrics(port)
        XCTAssertTrue(exposition.contains("strata_collector_connections_timed_out_total{phase=\"body\"} 1"), exposition)
        XCTAssertFalse(exposition.contains("reason=\"body_too_large\""), "a stalled body is not a large one: \(exposition)")
    }

    func testAnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        let (_, port, task) = try await startCollector {
            $0.http.idleTimeout = .milliseconds(500)
            $0.http.headerTimeout = .seconds(30)
        }
        defer { task.cancel() }
        let connection = try RawConnection(port: port)
        connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let started = Date()
        let (bytes, closed) = try await onOwnThread { connection.readUntilClosed(timeout: 10) }
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertEqual(statusCode(text), 200, text)
        XCTAssertTrue(closed, "the keep-alive connection was closed")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.4)
    }

    // MARK: The connection cap

    func testConnectionsBeyondTheCapAreRefusedWhileIngestAndFlushesGoOn() async throws {
        let (server, port, task) = try await startCollector {
            $0.http.maxConnections = 4
            $0.http.headerTimeout = .seconds(60)
            $0.flushInterval = .milliseconds(50)
        }
        defer { task.cancel() }
        // Three idle connections, and an agent's keep-alive connection that has been served.
        var idle: [RawConnection] = []
        for _ in 0..<3 { idle.append(try RawConnection(port: port)) }
        let agent = try RawConnection(port: port)
        agent.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let served = try await onOwnThread { agent.read(until: "ok\n", timeout: 10) }
        XCTAssertEqual(statusCode(served), 200, served)
        try await waitUntil("four connections are open") { server.connections.current == 4 }

        let beyond = try RawConnection(port: port)
        let (bytes, closed) = try await onOwnThread { beyond.readUntilClosed(timeout: 10) }
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(closed)
        XCTAssertEqual(statusCode(text), 503, text)
        XCTAssertTrue(responseBody(text).hasPrefix("{\"code\":\"too_many_connections\""), text)
        XCTAssertTrue(text.contains("http.max_connections"), text)

        // The agent's connection still serves ingest, and the store still writes segments.
        let body = (0..<50).map { "{\"body\":\"capped \($0)\"}\n" }.joined()
        agent.send(
            "POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                + body)
        let answer = try await onOwnThread { agent.read(until: "}\n", timeout: 10) }
        XCTAssertEqual(statusCode(answer), 200, answer)
        XCTAssertTrue(answer.contains("\"accepted\":50"), answer)
        try await waitUntil("the batch is flushed into a segment") { server.store.statistics.segmentRecords == 50 }

        // A closed idle connection frees its place.
        idle.removeLast().close()
        try await waitUntil("the place is free") { server.connections.current == 3 }
        let (status, _) = try await LoopbackHTTP.request(method: "GET", url: "http://127.0.0.1:\(port)/healthz")
        XCTAssertEqual(status, 200)
        let exposition = try await metrics(port)
        XCTAssertTrue(exposition.contains("strata_collector_connections_refused_total 1"), exposition)
    }

    func testTheDefaultCapLeavesTheStoreAReserveOfDescriptors() throws {
        XCTAssertEqual(ConnectionBudget.defaultMaxConnections(descriptorLimit: 1024), 768)
        XCTAssertEqual(ConnectionBudget.defaultMaxConnections(descriptorLimit: 65536), 49152)
        XCTAssertEqual(ConnectionBudget.defaultMaxConnections(descriptorLimit: 200), 16)
        var configuration = CollectorConfiguration(dataDirectory: root + "/data")
        configuration.port = 0
        configuration.http.maxConnections = ConnectionBudget.descriptorLimit()
        XCTAssertThrowsError(try CollectorServer(configuration: configuration, logger: logger)) { error in
            XCTAssertTrue("\(error)".contains("ulimit -n"), "\(error)")
        }
    }

    func testTheHTTPSectionIsReadAndChecked() throws {
        var configuration = CollectorConfiguration(dataDirectory: root)
        var tree = ConfigTree()
        try tree.set("http.header_timeout=2s")
        try tree.set("http.max_connections=100")
        try tree.set("http.max_tails_per_caller=3")
        try configuration.read(tree)
        XCTAssertEqual(configuration.http.headerTimeout, .seconds(2))
        XCTAssertEqual(configuration.http.maxConnections, 100)
        XCTAssertEqual(configuration.http.maxTailsPerCaller, 3)
        XCTAssertEqual(configuration.http.idleTimeout, .seconds(60), "defaults stay")
        var unknown = ConfigTree()
        try unknown.set("http.read_timeout=2s")
        XCTAssertThrowsError(try configuration.read(unknown)) { error in
            XCTAssertTrue("\(error)".contains("http.read_timeout"), "\(error)")
        }
    }

    // MARK: Shutdown

    func testSIGTERMWithAStalledUploadExitsWithinTheShutdownTimeout() async throws {
        let child = try CollectorChild(config: "http:\n  shutdown_timeout: 1s\n  body_timeout: 5m\n  idle_timeout: 5m\n")
        try await child.start()
        let upload = try RawConnection(port: child.port)
        upload.send("POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n{\"body\":")
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        try await child.stop()
        let took = ContinuousClock.now - started
        XCTAssertLessThan(took, .seconds(8), "SIGTERM took \(took) with a stalled upload open")
        XCTAssertGreaterThanOrEqual(took, .milliseconds(900), "the upload got its shutdown_timeout")
    }

    // MARK: Unparsable requests

    func testUnparsableRequestsGetJSONAnswers() async throws {
        let (_, port, task) = try await startCollector()
        defer { task.cancel() }
        let longURL = try RawConnection(port: port)
        longURL.send("GET /api/v1/query?q=" + String(repeating: "a", count: 100_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let longHeader = try RawConnection(port: port)
        longHeader.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + String(repeating: "b", count: 100_000) + "\r\n\r\n")
        let garbage = try RawConnection(port: port)
        garbage.send("HELLO there\r\n\r\n")
        for (connection, status, code) in [(longURL, 414, "query_too_long"), (longHeader, 414, "query_too_long"), (garbage, 400, "bad_request")] {
            let (bytes, closed) = try await onOwnThread { connection.readUntilClosed(timeout: 10) }
            let text = String(decoding: bytes, as: UTF8.self)
            XCTAssertTrue(closed)
            XCTAssertEqual(statusCode(text), status, text)
            XCTAssertTrue(text.contains("Content-Type: application/json"), text)
            XCTAssertTrue(responseBody(text).hasPrefix("{\"code\":\"\(code)\",\"message\":\""), text)
        }
        // A body whose chunked framing breaks: the ingest route answers, once, and nothing is stored.
        let brokenBody = try RawConnection(port: port)
        brokenBody.send(
            "POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZZ\r\n\r\n")
        let (brokenBytes, _) = try await onOwnThread { brokenBody.readUntilClosed(timeout: 10) }
        let broken = String(decoding: brokenBytes, as: UTF8.self)
        XCTAssertEqual(statusCode(broken), 400, broken)
        XCTAssertTrue(responseBody(broken).hasPrefix("{\"code\":\"bad_request\",\"message\":\"the request body is not valid HTTP/1.1"), broken)
        XCTAssertEqual(broken.components(separatedBy: "\r\nServer: strata\r\n").count - 1, 1, "one answer: \(broken)")
        let exposition = try await metrics(port)
        XCTAssertTrue(exposition.contains("strata_collector_requests_unparsable_total 4"), exposition)
    }

    // MARK: Readiness

    func testReadyzTurnsNotReadyWhenTheDataDirectoryIsRemovedAndBackWhenItReturns() async throws {
        let (_, port, task) = try await startCollector()
        defer { task.cancel() }
        let url = "http://127.0.0.1:\(port)/readyz"
        let ready = try await LoopbackHTTP.request(method: "GET", url: url)
        XCTAssertEqual(ready.0, 200)
        XCTAssertEqual(ready.1, "{\"ready\":true}\n")
        try FileManager.default.removeItem(atPath: root + "/data")
        let removed = try await LoopbackHTTP.request(method: "GET", url: url)
        XCTAssertEqual(removed.0, 503)
        XCTAssertTrue(removed.1.hasPrefix("{\"code\":\"storage_unwritable\",\"message\":\"the store cannot write: creating "), removed.1)
        XCTAssertTrue(removed.1.contains("No such file or directory"), removed.1)
        try FileManager.default.createDirectory(atPath: root + "/data/wal", withIntermediateDirectories: true)
        let back = try await LoopbackHTTP.request(method: "GET", url: url)
        XCTAssertEqual(back.0, 200, back.1)
    }

    func testAFailedWriteAheadLogAppendMakesTheCollectorUnreadyUntilOneSucceeds() async throws {
        let (server, _, task) = try await startCollector()
        defer { task.cancel() }
        XCTAssertNil(server.readiness.check().code)
        server.readiness.writeFailed("fdatasync of wal-00000001.log failed: Input/output error")
        let verdict = server.readiness.check()
        XCTAssertEqual(verdict.code, "storage_error")
        XCTAssertTrue(verdict.message.contains("Input/output error"), verdict.message)
        server.readiness.writeSucceeded()
        XCTAssertNil(server.readiness.check().code)
    }

    func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                XCTFail("timed out waiting until \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
