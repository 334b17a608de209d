import Foundation
import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataServer

/// The ingest memory budget (docs/RELIABILITY.md, "Memory budget"): bytes claimed across
/// requests, 429 beyond, and decompression bounded as it expands.
extension CollectorTests {
    func testTheBudgetAnswers429WhileALargeBodyIsInFlightAndAdmitsAgainAfter() async throws {
        let (server, url, task) = try await startCollector { configuration in
            configuration.maxBodyBytes = 512 << 10
            configuration.maxDecodedBytes = 512 << 10
            configuration.ingestMemoryBudgetBytes = 384 << 10
        }
        defer { task.cancel() }
        let port = try XCTUnwrap(URLComponents(string: url)?.port)
        // A sender that declares 300 KiB, sends 200 KiB of it and stalls: its body buffer is
        // claimed before it is allocated (all 300 KiB when the length is known, or as the
        // buffer doubles: 64, 128, 256 KiB, the old and the new held together) and stays claimed
        // while the request is in flight.
        let fd = try connectLoopback(port: port)
        var closed = false
        defer { if !closed { close(fd) } }
        let head = "POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
            + "Content-Length: \(300 << 10)\r\n\r\n"
        let stalled = Array(head.utf8) + [UInt8](repeating: 0x20, count: 200 << 10)
        var sent = 0
        while sent < stalled.count {
            let n = stalled[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            XCTAssertGreaterThan(n, 0)
            if n <= 0 { break }
            sent += n
        }
        try await waitUntil("the stalled body is claimed") { server.ingestBudget.inUse >= 300 << 10 }

        // 20 KiB of NDJSON claims 20 KiB for its body and 80 KiB for its records: 400 > 384.
        let line = "{\"body\":\"\(String(repeating: "x", count: 100))\"}\n"
        let batch = Array(String(repeating: line, count: (20 << 10) / line.utf8.count).utf8)
        let headers = ["Content-Type": "application/x-ndjson", "X-Strata-Batch-Id": BatchID.random().description]
        let busy = try await LoopbackHTTP.request(method: "POST", url: url + "/api/v1/ingest", headers: headers, body: batch)
        XCTAssertEqual(busy.0, 429, busy.1)
        XCTAssertTrue(busy.1.hasPrefix("{\"code\":\"ingest_busy\",\"message\":\"") && busy.1.contains("ingest.memory_budget"), busy.1)
        XCTAssertEqual(try storedBodies(server), [])
        let retryAfter = try await retryAfterHeader(url: url + "/api/v1/ingest", headers: headers, body: batch)
        XCTAssertEqual(retryAfter, "1")

        // The stalled sender goes away: its claim is given back and the same batch is stored.
        close(fd)
        closed = true
        try await waitUntil("the stalled body's claim is given back") { server.ingestBudget.inUse == 0 }
        let admitted = try await post(url, body: batch, headers: headers)
        XCTAssertEqual(admitted.0, 200, admitted.1)
        XCTAssertEqual(try storedBodies(server).count, batch.count / line.utf8.count)
        XCTAssertEqual(server.ingestBudget.inUse, 0, "every claim is given back once the answer is ready")
    }

    func testARequestThatCanNeverFitTheBudgetIs413NotRetriedForever() async throws {
        let (server, url, task) = try await startCollector { configuration in
            configuration.maxBodyBytes = 1 << 20
            configuration.maxDecodedBytes = 1 << 20
            configuration.ingestMemoryBudgetBytes = 256 << 10
        }
        defer { task.cancel() }
        // 100 KiB of text needs 100 KiB + 4 x 100 KiB of records: more than the whole budget.
        let line = "{\"body\":\"\(String(repeating: "y", count: 100))\"}\n"
        let batch = Array(String(repeating: line, count: (100 << 10) / line.utf8.count).utf8)
        let answer = try await post(url, body: batch, headers: ["Content-Type": "application/x-ndjson"])
        XCTAssertEqual(answer.0, 413, answer.1)
        XCTAssertTrue(answer.1.contains("\"code\":\"body_too_large\"") && answer.1.contains("raise ingest.memory_budget"), answer.1)
        XCTAssertEqual(server.ingestBudget.inUse, 0)
    }

    func testAWireBatchDeclaringAPayloadOverTheLimitIsRefusedOnItsHeader() async throws {
        let (server, url, task) = try await startCollector { $0.maxDecodedBytes = 64 << 10 }
        defer { task.cancel() }
        // A real frame of 200 KiB of bodies: its header declares more than the limit.
        let frame = try frame(Array(repeating: String(repeating: "z", count: 1000), count: 200))
        let answer = try await post(url, body: frame, headers: ["Content-Type": WireFormat.contentType])
        XCTAssertEqual(answer.0, 413, answer.1)
        XCTAssertTrue(answer.1.contains("\"code\":\"body_too_large\"") && answer.1.contains("ingest.max_decoded_size"), answer.1)
        XCTAssertEqual(try storedBodies(server), [])
    }

    func testEveryRefusalOfTheBudgetHasItsStatus() {
        let busy = IngestEndpoint.response(for: .ingestBusy("m"))
        XCTAssertEqual(busy.status.code, 429)
        XCTAssertEqual(busy.headers[.retryAfter], "1")
    }

    /// Polls a condition the server reaches on its own; fails after 10 s.
    private func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<1000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("timed out waiting until \(what)")
    }

    /// The Retry-After header of a POST answer, read over a raw socket (LoopbackHTTP returns
    /// only status and body).
    private func retryAfterHeader(url: String, headers: [String: String], body: [UInt8]) async throws -> String? {
        let components = try XCTUnwrap(URLComponents(string: url))
        let port = try XCTUnwrap(components.port)
        return try await onOwnThread {
            let fd = try connectLoopback(port: port)
            defer { close(fd) }
            var request = "POST \(components.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
            for (name, value) in headers { request += "\(name): \(value)\r\n" }
            let bytes = Array((request + "\r\n").utf8) + body
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw CrashTestError("send failed") }
                sent += n
            }
            var answer: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                answer += buffer[0..<n]
            }
            let text = String(decoding: answer, as: UTF8.self)
            for line in text.split(separator: "\r\n") where line.lowercased().hasPrefix("retry-after:") {
                return line.dropFirst("retry-after:".count).trimmingCharacters(in: .whitespaces)
            }
            return nil
        }
    }
}

final class IngestBudgetUnitTests: XCTestCase {
    func testClaimsAreGrantedUntilTheBudgetIsTakenAndGivenBackOnRelease() {
        let budget = IngestBudget(capacity: 1000)
        let first = budget.lease()
        let second = budget.lease()
        XCTAssertEqual(first.claim(600), .granted)
        XCTAssertEqual(second.claim(500), .busy, "600 + 500 > 1000 while the first holds its bytes")
        XCTAssertEqual(second.claim(400), .granted)
        XCTAssertEqual(budget.inUse, 1000)
        XCTAssertEqual(second.claim(601), .exceedsBudget, "400 held + 601 can never fit")
        first.release()
        XCTAssertEqual(budget.inUse, 400)
        XCTAssertEqual(second.claim(600), .granted)
        XCTAssertEqual(second.claim(Int.max), .exceedsBudget, "no overflow on a claim from input sizes")
        second.release()
        XCTAssertEqual(budget.inUse, 0)
    }

    func testADroppedLeaseGivesItsBytesBack() {
        let budget = IngestBudget(capacity: 100)
        do {
            let lease = budget.lease()
            XCTAssertEqual(lease.claim(100), .granted)
        }
        XCTAssertEqual(budget.inUse, 0)
    }

    /// A bomb decoded under a budget another request mostly holds: refused as busy once the
    /// expansion passes what is left, before more is allocated; the claim goes back with it.
    func testDecompressionClaimsItsOutputAsItExpandsAndStopsAtTheBudget() throws {
        let budget = IngestBudget(capacity: 1 << 20)
        let other = budget.lease()
        XCTAssertEqual(other.claim(700 << 10), .granted)
        // 512 KiB would fit the budget alone, not beside the other request's 700 KiB.
        let zeros = [UInt8](repeating: 0x20, count: 512 << 10)
        let bomb = try CompressionCodec.zstd.compress(zeros)
        let limits = IngestLimits(maxBodyBytes: 1 << 20, maxDecodedBytes: 16 << 20, maxRecordBytes: 1 << 20)
        for (encoding, body) in [("zstd", bomb), ("lz4", try CompressionCodec.lz4.compress(zeros))] {
            let lease = budget.lease()
            XCTAssertThrowsError(try BodyEncoding.decode(body, encoding: encoding, limits: limits, memory: lease)) { error in
                guard case .ingestBusy(let message) = error as? IngestRejection else {
                    return XCTFail("\(encoding): expected ingest_busy, got \(error)")
                }
                XCTAssertTrue(message.contains("ingest.memory_budget"), message)
            }
            XCTAssertLessThanOrEqual(lease.bytes, (1 << 20) - (700 << 10), "\(encoding): never claimed past the budget")
            lease.release()
            XCTAssertEqual(budget.inUse, 700 << 10)
        }
        // Alone, a body declaring 8 MiB of output can never fit 1 MiB: 413, not 429.
        other.release()
        let big = try CompressionCodec.zstd.compress([UInt8](repeating: 0x20, count: 8 << 20))
        XCTAssertThrowsError(try BodyEncoding.decode(big, encoding: "zstd", limits: limits, memory: budget.lease())) { error in
            guard case .decodedTooLarge = error as? IngestRejection else { return XCTFail("expected body_too_large, got \(error)") }
        }
        XCTAssertEqual(budget.inUse, 0)
    }
}
