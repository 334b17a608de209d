import Foundation
import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataServer

extension CollectorTests {
    /// A far-future stamp used to be acknowledged and then abort retention on every start.
    func testFarFutureStampsAreStoredAtTheObservedTimeFlaggedAndFound() async throws {
        let (server, url, task) = try await startCollector()
        defer { task.cancel() }
        let soon = WallClock.nowNanos() + 3_600_000_000_000
        let lines = """
            {"body":"far future","timestamp":"2262-04-11T23:30:00Z"}
            {"body":"near the end","timestamp":9223372036854775000}
            {"body":"within skew","timestamp":\(soon)}

            """
        let answer = try await post(url, body: Array(lines.utf8), headers: ["Content-Type": "application/x-ndjson"])
        XCTAssertEqual(answer.0, 200, answer.1)
        try server.store.flush()
        try server.store.applyRetention()
        while try server.store.compactOnce(now: WallClock.nowNanos() + 86_400_000_000_000) {}

        let latest = WallClock.nowNanos() + 86_400_000_000_000
        var stored: [String: LogRecord] = [:]
        for segment in server.store.snapshot().segments {
            for record in try segment.readAllRecords() { stored[record.body] = record }
        }
        XCTAssertEqual(stored.count, 3)
        for body in ["far future", "near the end"] {
            XCTAssertEqual(stored[body]?.flags, .futureTimestamp, body)
            XCTAssertLessThanOrEqual(stored[body]?.timestamp ?? .max, latest, body)
        }
        XCTAssertEqual(stored["within skew"]?.timestamp, soon)
        XCTAssertEqual(stored["within skew"]?.flags, [])

        let (status, body) = try await get(url + "/api/v1/query?q=future+OR+end&since=1h")
        XCTAssertEqual(status, 200, body)
        XCTAssertTrue(body.contains("far future") && body.contains("near the end") && body.contains("future_timestamp"), body)
    }

    func testNumericTimestampsThatAreNoTimesAreRefusedByName() async throws {
        let (server, url, task) = try await startCollector()
        defer { task.cancel() }
        for value in ["1e30", "true", "18446744073709551615"] {
            let answer = try await post(
                url, body: Array("{\"body\":\"x\",\"timestamp\":\(value)}\n".utf8), headers: ["Content-Type": "application/x-ndjson"])
            XCTAssertEqual(answer.0, 400, value)
            XCTAssertTrue(answer.1.contains("\"code\":\"malformed_record\"") && answer.1.contains("\\\"timestamp\\\""), answer.1)
        }
        XCTAssertEqual(try storedBodies(server), [])
    }
}
