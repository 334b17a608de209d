import Foundation
import Logging
import StrataCore
import StrataQuery
import StrataTestSupport
import Testing

@testable import StrataServer

/// Secrets in each shape the redactor covers, sent as NDJSON to a collector over loopback: none
/// is stored (head, then segments after a flush) and none is found by a query for it, while
/// the rest of each record is.
@Suite(.serialized) struct RedactionEndToEndTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// One line per class: the body (or attributes) carrying it and the secret it must not keep.
    static let cases: [(body: String, attributes: [String: String], secret: String)] = [
        ("login attempt password: hunterColon7", [:], "hunterColon7"),
        ("upstream call Authorization: Basic QWxhZGRpbjpvcGVuc2VzYW1l", [:], "QWxhZGRpbjpvcGVuc2VzYW1l"),
        ("forwarded X-Api-Key: apiKeyHeader42 to billing", [:], "apiKeyHeader42"),
        ("fetching https://deploy:urlSecret99@charts.internal/index.yaml", [:], "urlSecret99"),
        (#"request body {\"api_key\":\"escapedSecret7\",\"user\":\"bob\"}"#, [:], "escapedSecret7"),
        ("db connect pass=passSecret5 host=db", [:], "passSecret5"),
        ("proxy headers logged", ["http.request.header.authorization": "Negotiate attrSecret3"], "attrSecret3"),
        ("proxy headers logged", ["note": "Authorization: Digest username=\"bob\", response=\"digestSecret1\""], "digestSecret1"),
    ]

    func start() async throws -> RunningCollector {
        let root = NSTemporaryDirectory() + "redaction-e2e-" + UUID().uuidString
        let (server, port, task) = try await startInProcessCollector(dataDirectory: root + "/data", logger: logger) {
            $0.flushInterval = .seconds(3600)
        }
        return RunningCollector(server: server, url: "http://127.0.0.1:\(port)", task: task, root: root)
    }

    func count(_ running: RunningCollector, _ query: String) async throws -> Int {
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "q", value: query), URLQueryItem(name: "count", value: "true"), URLQueryItem(name: "since", value: "1h")]
        let (status, body) = try await LoopbackHTTP.request(method: "GET", url: running.url + "/api/v1/query?" + (components.percentEncodedQuery ?? ""))
        #expect(status == 200, "\(query): \(body)")
        return try JSONValue.parse(body)["count"]?.int ?? -1
    }

    func storedText(_ running: RunningCollector) throws -> String {
        let snapshot = running.server.store.snapshot()
        var records = snapshot.head
        for segment in snapshot.segments { records += try segment.readAllRecords() }
        return records.map { record in ([record.body] + record.attributes.map { "\($0.key)=\($0.value)" }).joined(separator: " ") }
            .joined(separator: "\n")
    }

    @Test func noSecretIsStoredOrSearchable() async throws {
        let running = try await start()
        let lines = try Self.cases.map { item -> String in
            let object: [String: Any] = ["body": item.body, "attributes": item.attributes]
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let (status, answer) = try await LoopbackHTTP.post(
            url: running.url + "/api/v1/ingest", headers: ["Content-Type": "application/x-ndjson"], body: Array(lines.joined(separator: "\n").utf8))
        #expect(status == 200, "\(answer)")
        #expect(answer.contains("\"accepted\":\(Self.cases.count)"), "\(answer)")

        for phase in ["head", "segments"] {
            if phase == "segments" { try running.server.store.flush() }
            let stored = try storedText(running)
            #expect(stored.contains("[REDACTED]"), "\(phase): \(stored)")
            for item in Self.cases {
                #expect(!stored.contains(item.secret), "\(phase): \(item.secret) is stored: \(stored)")
                #expect(try await count(running, item.secret) == 0, "\(phase): a query finds \(item.secret)")
                #expect(try await count(running, "\"\(item.secret)\"") == 0, "\(phase): a phrase query finds \(item.secret)")
            }
            // The records themselves are there and found by their other words.
            #expect(try await count(running, "billing") == 1, "\(phase)")
            #expect(try await count(running, "upstream") == 1, "\(phase)")
        }
    }
}
