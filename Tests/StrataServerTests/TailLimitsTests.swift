import Foundation
import Logging
import StrataCore
import StrataStore
import StrataTestSupport
import XCTest

@testable import StrataServer

/// Live tails are capped per caller and in total, and a client that does not read costs the
/// collector a bounded buffer: it gets a `gap` event when it lagged behind what the store holds,
/// and is disconnected when it takes nothing for `http.tail_stall_timeout`.
final class TailLimitsTests: XCTestCase {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    var root = ""

    override func setUp() { root = ScratchDirectory.uniquePath("tails") }
    override func tearDown() { ScratchDirectory.remove(root) }

    func startCollector(tokens: [String] = [], configure: (inout CollectorConfiguration) -> Void = { _ in }) async throws
        -> (server: CollectorServer, port: Int, task: Task<Void, Error>)
    {
        try await startInProcessCollector(dataDirectory: root + "/data", tokens: tokens, logger: logger, configure: configure)
    }

    func openTail(port: Int, token: String?, receiveBuffer: Int? = nil) throws -> RawConnection {
        let connection = try RawConnection(port: port, receiveBuffer: receiveBuffer)
        var head = "GET /api/v1/tail HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        connection.send(head + "\r\n")
        return connection
    }

    /// Stores `count` records of `bodyBytes` each through the HTTP ingest route.
    func ingest(port: Int, count: Int, bodyBytes: Int, label: String, token: String? = nil) async throws {
        let padding = String(repeating: "p", count: bodyBytes)
        let body = Array((0..<count).map { "{\"body\":\"\(label) \($0) \(padding)\"}\n" }.joined().utf8)
        var headers = ["Content-Type": "application/x-ndjson"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        let (status, answer) = try await LoopbackHTTP.post(url: "http://127.0.0.1:\(port)/api/v1/ingest", headers: headers, body: body)
        XCTAssertEqual(status, 200, answer)
    }

    func testTailsAreCappedPerCallerAndInTotalWith429() async throws {
        let (server, port, task) = try await startCollector(tokens: ["a", "b", "c"]) {
            $0.http.maxTails = 2
            $0.http.maxTailsPerCaller = 1
        }
        defer { task.cancel() }
        let first = try openTail(port: port, token: "a")
        let firstHead = try await onOwnThread { first.read(until: ": following", timeout: 10) }
        XCTAssertEqual(statusCode(firstHead), 200, firstHead)

        let sameCaller = try openTail(port: port, token: "a")
        let refused = try await onOwnThread { sameCaller.read(until: "\"}\n", timeout: 10) }
        XCTAssertEqual(statusCode(refused), 429, refused)
        XCTAssertTrue(refused.contains("{\"code\":\"too_many_tails\",\"message\":\"token 1 from 127.0.0.1 has 1 tail streams open"), refused)
        XCTAssertTrue(refused.contains("Retry-After: 10"), refused)

        let second = try openTail(port: port, token: "b")
        let secondHead = try await onOwnThread { second.read(until: ": following", timeout: 10) }
        XCTAssertEqual(statusCode(secondHead), 200, secondHead)

        let third = try openTail(port: port, token: "c")
        let total = try await onOwnThread { third.read(until: "\"}\n", timeout: 10) }
        XCTAssertEqual(statusCode(total), 429, total)
        XCTAssertTrue(total.contains("http.max_tails)"), total)

        // A client that hangs up gives its place back without waiting for a write to fail.
        first.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while server.tails.openCount > 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let replacement = try openTail(port: port, token: "c")
        let replacementHead = try await onOwnThread { replacement.read(until: ": following", timeout: 10) }
        XCTAssertEqual(statusCode(replacementHead), 200, replacementHead)

        let metrics = try await LoopbackHTTP.request(method: "GET", url: "http://127.0.0.1:\(port)/metrics").1
        XCTAssertTrue(metrics.contains("strata_collector_tail_refused_total{limit=\"caller\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("strata_collector_tail_refused_total{limit=\"total\"} 1"), metrics)
        XCTAssertEqual(server.tails.openCount, 2)
    }

    func testAnUnreadTailStaysWithinItsBufferAndGetsAGapNamingWhatItMissed() async throws {
        let (server, port, task) = try await startCollector {
            $0.store.arrivalsKept = 200
            $0.flushInterval = .milliseconds(50)
            $0.http.tailStallTimeout = .seconds(60)
        }
        defer { task.cancel() }
        let tail = try openTail(port: port, token: nil, receiveBuffer: 4096)
        let head = try await onOwnThread { tail.read(until: ": following", timeout: 10) }
        XCTAssertEqual(statusCode(head), 200, head)
        // 8 MiB of records while the client reads nothing: far beyond what the sockets hold, so
        // the stream waits on its first write and the store moves on without it.
        for batch in 0..<4 {
            try await ingest(port: port, count: 1000, bodyBytes: 2048, label: "batch\(batch)")
        }
        let flushedDeadline = ContinuousClock.now + .seconds(10)
        while server.store.statistics.segmentRecords < 4000, ContinuousClock.now < flushedDeadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertEqual(server.store.statistics.segmentRecords, 4000)
        try await ingest(port: port, count: 1, bodyBytes: 10, label: "after")

        let text = try await onOwnThread { tail.read(until: "\"body\":\"after 0", timeout: 30) }
        guard let gapRange = text.range(of: "event: gap\ndata: {\"code\":\"gap\",\"message\":\"") else {
            return XCTFail("no gap event among \(text.utf8.count) bytes")
        }
        let missed = Int(text[gapRange.upperBound...].prefix { $0.isNumber }) ?? 0
        let delivered = text.components(separatedBy: "\ndata: {\"timestamp\"").count - 1
        XCTAssertGreaterThan(missed, 0)
        XCTAssertTrue(text[gapRange.upperBound...].hasPrefix("\(missed) records passed while this stream lagged behind"), text)
        XCTAssertEqual(delivered + missed, 4001, "every record is delivered or counted as missed, once")
        let metrics = try await LoopbackHTTP.request(method: "GET", url: "http://127.0.0.1:\(port)/metrics").1
        XCTAssertTrue(metrics.contains("strata_collector_tail_gaps_total 1"), metrics)
    }

    func testATailWhoseClientTakesNothingIsDisconnectedAfterTheStallTimeout() async throws {
        let (server, port, task) = try await startCollector { $0.http.tailStallTimeout = .milliseconds(500) }
        defer { task.cancel() }
        let tail = try openTail(port: port, token: nil, receiveBuffer: 4096)
        let head = try await onOwnThread { tail.read(until: ": following", timeout: 10) }
        XCTAssertEqual(statusCode(head), 200, head)
        for batch in 0..<4 {
            try await ingest(port: port, count: 1000, bodyBytes: 2048, label: "batch\(batch)")
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while server.tails.openCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        XCTAssertEqual(server.tails.openCount, 0, "the stalled stream ended")
        let (_, closed) = try await onOwnThread { tail.readUntilClosed(timeout: 20) }
        XCTAssertTrue(closed, "the collector closed the connection")
        let metrics = try await LoopbackHTTP.request(method: "GET", url: "http://127.0.0.1:\(port)/metrics").1
        XCTAssertTrue(metrics.contains("strata_collector_tail_stalled_total 1"), metrics)
    }
}
