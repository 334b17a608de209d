import Foundation
import Logging
import StrataAgent
import StrataCore
import StrataQuery
import StrataStore
import StrataTestSupport
import XCTest

@testable import StrataServer

final class CollectorTests: XCTestCase {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    var root = ""

    override func setUp() { root = ScratchDirectory.uniquePath("collector") }
    override func tearDown() { ScratchDirectory.remove(root) }

    /// Starts a collector on a free loopback port; returns it, its URL and the running task.
    func startCollector(tokens: [String] = [], configure: (inout CollectorConfiguration) -> Void = { _ in }) async throws
        -> (CollectorServer, String, Task<Void, Error>)
    {
        let (server, port, task) = try await startInProcessCollector(
            dataDirectory: root + "/data", tokens: tokens, durable: true, logger: logger, configure: configure)
        return (server, "http://127.0.0.1:\(port)", task)
    }

    func post(_ url: String, body: [UInt8], headers: [String: String]) async throws -> (Int, String) {
        try await LoopbackHTTP.post(url: url + "/api/v1/ingest", headers: headers, body: body)
    }

    func storedBodies(_ server: CollectorServer) throws -> [String] {
        let snapshot = server.store.snapshot()
        var bodies = snapshot.head.map(\.body)
        for segment in snapshot.segments { bodies += try segment.readAllRecords().map(\.body) }
        return bodies.sorted()
    }

    func frame(_ bodies: [String], id: BatchID = .random()) throws -> [UInt8] {
        var encoder = BatchEncoder()
        let resource = Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, "api-1")])
        for body in bodies {
            let index = encoder.resourceIndex(source: 0) { resource }
            encoder.append(LogRecord(timestamp: WallClock.nowNanos(), observedTimestamp: WallClock.nowNanos(), body: body, resource: resource), resourceIndex: index)
        }
        return try encoder.encode(id: id, codec: .zstd)
    }

    func testAgentToCollectorEndToEnd() async throws {
        let (server, url, task) = try await startCollector()
        defer { task.cancel() }
        let node = root + "/node/var/log/containers"
        try FileManager.default.createDirectory(atPath: node, withIntermediateDirectories: true)
        let lines = (0..<500).map { "2026-11-21T10:00:00.000000001Z stdout F 2026-11-21 10:00:00.000 ERROR 1 --- [main] c.e.Api : request \($0) failed\n" }
        try lines.joined().write(toFile: node + "/api-1_shop_server-" + String(repeating: "ab", count: 32) + ".log", atomically: true, encoding: .utf8)

        var configuration = AgentConfiguration()
        configuration.paths = [node + "/*.log"]
        configuration.checkpointDirectory = root + "/agent"
        configuration.collector = url
        configuration.once = true
        let agent = try Agent(configuration: configuration, logger: logger)
        try await agent.run()

        let stored = server.store.snapshot().head
        XCTAssertEqual(stored.count, 500)
        XCTAssertEqual(stored.first?.resource[ResourceKey.pod], "api-1")
        XCTAssertEqual(stored.first?.severity, .error, "normalized by the logback parser")
        XCTAssertEqual(stored.map(\.body).sorted(), (0..<500).map { "request \($0) failed" }.sorted())
    }

    func testDuplicateBatchIsAcknowledgedOnce() async throws {
        let (server, url, task) = try await startCollector()
        defer { task.cancel() }
        let batch = try frame(["a", "b"])
        let first = try await post(url, body: batch, headers: ["Content-Type": WireFormat.contentType])
        let second = try await post(url, body: batch, headers: ["Content-Type": WireFormat.contentType])
        XCTAssertEqual(first.0, 200)
        XCTAssertEqual(second.0, 200)
        XCTAssertTrue(second.1.contains("\"duplicate\":true"), second.1)
        XCTAssertEqual(try storedBodies(server), ["a", "b"])
    }

    func testAFullDiskBudgetAnswers503AndKeepsWhatWasAcknowledged() async throws {
        let (server, url, task) = try await startCollector { $0.store.diskBudgetBytes = 16 << 10 }
        defer { task.cancel() }
        let headers = ["Content-Type": WireFormat.contentType]
        // Random UUIDs barely compress: each batch takes about 10 KiB of write-ahead log.
        let first = try frame((0..<400).map { "kept \($0) \(UUID().uuidString)" })
        let accepted = try await post(url, body: first, headers: headers)
        XCTAssertEqual(accepted.0, 200, accepted.1)
        let refused = try await post(url, body: try frame((0..<400).map { "refused \($0) \(UUID().uuidString)" }), headers: headers)
        XCTAssertEqual(refused.0, 503)
        XCTAssertTrue(refused.1.contains("\"code\":\"disk_full\""), refused.1)
        XCTAssertTrue(refused.1.contains("storage.disk_budget"), refused.1)
        let retried = try await post(url, body: first, headers: headers)
        XCTAssertEqual(retried.0, 200, "a retry of an acknowledged batch is still acknowledged")
        XCTAssertEqual(try storedBodies(server).count, 400)
        let metrics = try await get(url + "/metrics")
        XCTAssertTrue(metrics.1.contains("strata_collector_batches_rejected_total{reason=\"disk_full\"} 1"), metrics.1)
        XCTAssertTrue(metrics.1.contains("strata_collector_disk_available_bytes"), metrics.1)
    }

    func testAuthLimitsAndMalformedBatchesStoreNothing() async throws {
        let (server, url, task) = try await startCollector(tokens: ["s3cret"]) { $0.maxBodyBytes = 4096 }
        defer { task.cancel() }
        let batch = try frame(["x"])
        let unauthorized = try await post(url, body: batch, headers: [:])
        XCTAssertEqual(unauthorized.0, 401)
        let wrong = try await post(url, body: batch, headers: ["Authorization": "Bearer s3creT"])
        XCTAssertEqual(wrong.0, 401)
        var corrupt = batch
        corrupt[corrupt.count - 3] ^= 0xFF
        let malformed = try await post(url, body: corrupt, headers: ["Authorization": "Bearer s3cret"])
        XCTAssertEqual(malformed.0, 400)
        XCTAssertTrue(malformed.1.contains("\"code\":\"malformed_batch\""), malformed.1)
        let big = try frame((0..<200).map { "random \($0) \(UUID().uuidString) \(UUID().uuidString)" })
        let tooLarge = try await post(url, body: big, headers: ["Authorization": "Bearer s3cret"])
        XCTAssertEqual(tooLarge.0, 413)
        XCTAssertTrue(tooLarge.1.contains("4096"), tooLarge.1)
        XCTAssertEqual(try storedBodies(server), [])
        let ok = try await post(url, body: batch, headers: ["Authorization": "Bearer s3cret"])
        XCTAssertEqual(ok.0, 200)
        XCTAssertEqual(try storedBodies(server), ["x"])
    }

    func testNDJSONIdentityZstdAndGzip() async throws {
        let (server, url, task) = try await startCollector()
        defer { task.cancel() }
        let ndjson = Array(
            """
            {"timestamp":"2026-11-21T10:00:00Z","body":"plain","resource":{"k8s.namespace.name":"web"}}
            {"body":"zstd one","severity":"warn","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}

            """.utf8)
        let plain = try await post(url, body: Array(ndjson.prefix(while: { $0 != 10 })) + [10], headers: ["Content-Type": "application/x-ndjson"])
        XCTAssertEqual(plain.0, 200, plain.1)
        let zstd = try await post(
            url, body: try CompressionCodec.zstd.compress(Array(ndjson.drop(while: { $0 != 10 }).dropFirst())),
            headers: ["Content-Type": "application/x-ndjson", "Content-Encoding": "zstd"])
        XCTAssertEqual(zstd.0, 200, zstd.1)
        // gzip of {"body":"gzipped"}\n, made with Python's gzip.compress(mtime=0)
        let gzipped: [UInt8] = [
            31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 74, 202, 79, 169, 84, 178, 82, 74, 175, 202, 44, 40, 72, 77, 81,
            170, 229, 2, 0, 128, 163, 37, 229, 19, 0, 0, 0,
        ]
        let gzip = try await post(url, body: gzipped, headers: ["Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"])
        XCTAssertEqual(gzip.0, 200, gzip.1)
        let bad = try await post(url, body: Array("{\"body\": 5}\n".utf8), headers: ["Content-Type": "application/x-ndjson"])
        XCTAssertEqual(bad.0, 400)
        XCTAssertTrue(bad.1.contains("line 1"), bad.1)
        XCTAssertEqual(try storedBodies(server), ["gzipped", "plain", "zstd one"])
    }

    func testNoTokenMeansLoopbackOnly() throws {
        var configuration = CollectorConfiguration(dataDirectory: root + "/data")
        configuration.host = "0.0.0.0"
        XCTAssertThrowsError(try CollectorServer(configuration: configuration, logger: logger)) { error in
            XCTAssertTrue("\(error)".contains("without a token"), "\(error)")
        }
    }

    func testAcknowledgedRecordsSurviveARestart() async throws {
        let (server, url, task) = try await startCollector { $0.flushInterval = .seconds(3600) }
        _ = try await post(url, body: try frame(["kept"]), headers: [:])
        task.cancel()
        _ = try? await task.value
        _ = server
        let reopened = try LogStore(directory: root + "/data", logger: logger)
        let snapshot = reopened.snapshot()
        var bodies = snapshot.head.map(\.body)
        for segment in snapshot.segments { bodies += try segment.readAllRecords().map(\.body) }
        XCTAssertEqual(bodies, ["kept"])
    }
}

extension CollectorTests {
    func get(_ url: String) async throws -> (Int, String) {
        try await LoopbackHTTP.request(method: "GET", url: url, headers: [:], body: [])
    }

    func testEveryStoredRecordCarriesItsTemplateAndTemplatesAreListed() async throws {
        let (server, url, task) = try await startCollector()
        defer { task.cancel() }
        _ = try await post(
            url, body: try frame(["Connection to 10.0.0.7:5432 refused", "Connection to 10.0.0.9:5432 refused", "cache warmed"]),
            headers: [:])
        let stored = server.store.snapshot().head
        let ids = stored.map { $0.attributes.first { $0.key == TemplateAnnotator.attributeKey }?.value }
        XCTAssertEqual(ids.count, 3)
        XCTAssertNotNil(ids[0])
        XCTAssertEqual(ids[0], ids[1], "one template for both refusals")
        XCTAssertNotEqual(ids[0], ids[2])

        let (status, body) = try await get(url + "/api/v1/templates?since=1h")
        XCTAssertEqual(status, 200, body)
        let listing = try XCTUnwrap(try JSONValue.parse(body)["templates"]?.array)
        XCTAssertEqual(listing.first?["count"]?.int, 2, body)
        XCTAssertEqual(listing.first?["id"]?.string, ids[0] ?? "")
        XCTAssertEqual(listing.first?["template"]?.string, "Connection to <*> refused", body)
        XCTAssertEqual(listing.first?["sample"]?.string, "Connection to 10.0.0.9:5432 refused", body)
        XCTAssertNotNil(try JSONValue.parse(body)["took_ms"]?.number, body)

        let query = "template:" + (ids[0] ?? "")
        let counted = try await get(url + "/api/v1/query?count=true&q=" + query)
        XCTAssertTrue(counted.1.hasPrefix("{\"count\":2,"), counted.1)
    }

    func testTemplateIDsRetiredByAMergeStillFindTheirRecords() async throws {
        // Names first look like words (one template each), then keep changing: the miner decides
        // they are values and merges them, retiring the earlier ids. Records stored before keep
        // their ids; queries and the listing see one template.
        let (server, url, task) = try await startCollector()
        defer { task.cancel() }
        let users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
        for user in users { _ = try await post(url, body: try frame(["user \(user) signed out"]), headers: [:]) }
        let stored = server.store.snapshot().head.compactMap { $0.attributes.first { $0.key == TemplateAnnotator.attributeKey }?.value }
        XCTAssertEqual(stored.count, users.count)
        XCTAssertGreaterThan(Set(stored).count, 1, "the first messages were stored before the merge, under their own ids")
        let live = try XCTUnwrap(stored.last)

        let counted = try await get(url + "/api/v1/query?count=true&q=template:" + live)
        XCTAssertTrue(counted.1.hasPrefix("{\"count\":\(users.count),"), counted.1)
        let early = try await get(url + "/api/v1/query?count=true&q=template:" + stored[0])
        XCTAssertTrue(early.1.hasPrefix("{\"count\":\(users.count),"), early.1)

        let (status, body) = try await get(url + "/api/v1/templates?since=1h")
        XCTAssertEqual(status, 200, body)
        let listing = try XCTUnwrap(try JSONValue.parse(body)["templates"]?.array)
        XCTAssertEqual(listing.count, 1, body)
        XCTAssertEqual(listing.first?["id"]?.string, live, body)
        XCTAssertEqual(listing.first?["count"]?.int, users.count, body)
        XCTAssertEqual(listing.first?["template"]?.string, "user <*> signed out", body)
    }

    func testQueryEndpoint() async throws {
        let (_, url, task) = try await startCollector()
        defer { task.cancel() }
        _ = try await post(url, body: try frame(["connection refused to db:5432", "all good", "connection reset"]), headers: [:])
        let found = try await get(url + "/api/v1/query?q=connection&limit=10")
        XCTAssertEqual(found.0, 200)
        XCTAssertTrue(found.1.contains("connection refused") && found.1.contains("connection reset") && !found.1.contains("all good"), found.1)
        let counted = try await get(url + "/api/v1/query?q=%22connection%20refused%22&count=true")
        XCTAssertTrue(counted.1.hasPrefix("{\"count\":1,"), counted.1)
        // Form encoding, as Python's urlencode and browsers send it: '+' is a space, %2B a plus.
        let plusSpaced = try await get(url + "/api/v1/query?q=%22connection+refused%22&count=true")
        XCTAssertTrue(plusSpaced.1.hasPrefix("{\"count\":1,"), plusSpaced.1)
        let regex = try await get(url + "/api/v1/query?q=%2Fdb%3A%5B0-9%5D%2B%2F&count=true")
        XCTAssertTrue(regex.1.hasPrefix("{\"count\":1,"), regex.1)
        let bad = try await get(url + "/api/v1/query?q=%22open&count=true")
        XCTAssertEqual(bad.0, 400)
        XCTAssertTrue(bad.1.contains("column 6: expected") && bad.1.contains("to close the phrase"), bad.1)
        let badLimit = try await get(url + "/api/v1/query?q=x&limit=0")
        XCTAssertEqual(badLimit.0, 400)
    }
}
