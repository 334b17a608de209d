import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataServer

extension CollectorTests {
    func testOpenPathsStayOpenAndEveryAPIRouteNeedsTheToken() async throws {
        let (_, url, task) = try await startCollector(tokens: ["s3cret", "other"])
        defer { task.cancel() }
        for path in ["/healthz", "/readyz", "/metrics"] {
            let (status, body) = try await get(url + path)
            XCTAssertEqual(status, 200, path + ": " + body)
        }
        for path in ["/api/v1/query?q=x", "/api/v1/stats", "/api/v1/labels", "/api/v1/templates", "/api/v1/incidents", "/api/v1/incidents/abc"] {
            let (status, body) = try await get(url + path)
            XCTAssertEqual(status, 401, path)
            XCTAssertEqual(
                body, "{\"code\":\"unauthorized\",\"message\":\"missing or wrong bearer token (Authorization: Bearer <token>)\"}\n", path)
        }
        let second = try await LoopbackHTTP.request(method: "GET", url: url + "/api/v1/query?q=x", headers: ["Authorization": "Bearer other"], body: [])
        XCTAssertEqual(second.0, 200, second.1)
        let incidents = try await LoopbackHTTP.request(method: "GET", url: url + "/api/v1/incidents", headers: ["Authorization": "Bearer s3cret"], body: [])
        XCTAssertEqual(incidents.0, 404, "past the token: continuous mode is off")
        XCTAssertTrue(incidents.1.contains("continuous_mode_off"), incidents.1)

        let refused = try await post(url, body: try frame(["x"]), headers: ["Authorization": "Bearer wrong"])
        XCTAssertEqual(refused.0, 401)
        let metrics = try await get(url + "/metrics")
        XCTAssertTrue(metrics.1.contains("strata_collector_batches_rejected_total{reason=\"unauthorized\"} 1"), metrics.1)
    }

    func testUnreadableBodiesAreRefusedWithTheirStatus() async throws {
        let (server, url, task) = try await startCollector { $0.maxDecodedBytes = 1024 }
        defer { task.cancel() }
        let ndjson = ["Content-Type": "application/x-ndjson"]
        let lines = Array(String(repeating: "{\"body\":\"same line again\"}\n", count: 1000).utf8)
        let bomb = try await post(url, body: try CompressionCodec.zstd.compress(lines), headers: ndjson.merging(["Content-Encoding": "zstd"]) { $1 })
        XCTAssertEqual(bomb.0, 413)
        XCTAssertTrue(bomb.1.contains("\"code\":\"body_too_large\"") && bomb.1.contains("1024 bytes"), bomb.1)
        let brotli = try await post(url, body: lines, headers: ndjson.merging(["Content-Encoding": "br"]) { $1 })
        XCTAssertEqual(brotli.0, 415)
        XCTAssertTrue(brotli.1.contains("\"code\":\"unsupported_encoding\""), brotli.1)
        let text = try await post(url, body: lines, headers: ["Content-Type": "text/plain"])
        XCTAssertEqual(text.0, 415)
        XCTAssertTrue(text.1.contains("\"code\":\"unsupported_media_type\""), text.1)
        let corrupt = try await post(url, body: Array("not gzip".utf8), headers: ndjson.merging(["Content-Encoding": "gzip"]) { $1 })
        XCTAssertEqual(corrupt.0, 400)
        XCTAssertTrue(corrupt.1.contains("\"code\":\"malformed_body\""), corrupt.1)
        XCTAssertEqual(try storedBodies(server), [])
    }

    func testEveryRefusalHasOneStatus() {
        let cases: [(IngestRejection, Int, String?)] = [
            (.bodyTooLarge(limit: 10), 413, nil), (.decodedTooLarge("m"), 413, nil), (.recordTooLarge("m"), 413, nil),
            (.unsupportedMediaType("m"), 415, nil), (.unsupportedEncoding("m"), 415, nil),
            (.malformedBatch("m"), 400, nil), (.malformedBody("m"), 400, nil), (.malformedRecord("m"), 400, nil),
            (.headFull("m"), 429, "1"), (.diskFull("m"), 503, "30"), (.storageFailed("m"), 503, "5"),
        ]
        for (rejection, status, retryAfter) in cases {
            let response = IngestEndpoint.response(for: rejection)
            XCTAssertEqual(response.status.code, status, "\(rejection)")
            XCTAssertEqual(response.headers[.retryAfter], retryAfter, "\(rejection)")
        }
    }
}
