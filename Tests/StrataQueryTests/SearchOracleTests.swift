import Foundation
import Logging
import StrataCore
import StrataStore
import XCTest

@testable import StrataQuery

final class SearchOracleTests: XCTestCase {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    var directory = ""
    override func setUp() { directory = NSTemporaryDirectory() + "search-" + UUID().uuidString }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    let words = ["GET", "POST", "/api/v1/orders", "timeout", "connection", "refused", "order", "created", "10.1.2.3:8080", "user", "Error", "ok"]
    let pods = ["api-1", "api-2", "db-0"]
    let base: Int64 = 1_795_255_200_000_000_000

    func randomRecords(_ count: Int, using generator: inout some RandomNumberGenerator) -> [LogRecord] {
        (0..<count).map { i in
            let body = (0..<Int.random(in: 1...8, using: &generator)).map { _ in words.randomElement(using: &generator)! }
                .joined(separator: " ")
            return LogRecord(
                timestamp: base + Int64(i) * 7_000_000 + Int64.random(in: 0..<1000, using: &generator),
                observedTimestamp: base, stream: Bool.random(using: &generator) ? .stdout : .stderr,
                severity: [Severity.info, .warn, .error].randomElement(using: &generator), body: body,
                resource: Resource(attributes: [
                    Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, pods.randomElement(using: &generator)!),
                ]))
        }
    }

    func randomQuery(using generator: inout some RandomNumberGenerator) -> String {
        var parts: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: parts.append(words.randomElement(using: &generator)!.lowercased())
            case 1: parts.append("\"\(words.randomElement(using: &generator)!) \(words.randomElement(using: &generator)!)\"")
            case 2: parts.append("k8s.pod.name:" + pods.randomElement(using: &generator)!)
            default: parts.append("severity:" + ["info", "warn", "error"].randomElement(using: &generator)!)
            }
        }
        return parts.joined(separator: " ")
    }

    func testIndexedSearchEqualsBruteForceAcrossHeadAndSegments() throws {
        var generator = SystemRandomNumberGenerator()
        var options = StoreOptions()
        options.retentionNanos = .max / 2
        options.segment.maxBlockRows = 64
        let store = try LogStore(directory: directory, options: options, logger: logger)
        var all: [LogRecord] = []
        for round in 0..<4 {
            let batch = randomRecords(400, using: &generator).map { record -> LogRecord in
                var record = record
                record.timestamp += Int64(round) * 3_600_000_000_000
                return record
            }
            all += batch
            _ = try store.ingest(batchID: nil, records: batch)
            if round < 3 { try store.flush() }  // the last round stays in the head
        }
        let snapshot = store.snapshot()
        XCTAssertGreaterThan(snapshot.segments.count, 1)
        XCTAssertFalse(snapshot.head.isEmpty)
        for _ in 0..<150 {
            let query = randomQuery(using: &generator)
            let from = base + Int64.random(in: 0..<(4 * 3_600_000_000_000), using: &generator) / 2
            let to = from + Int64.random(in: 1...(3 * 3_600_000_000_000), using: &generator)
            let limit = Int.random(in: 1...50, using: &generator)
            let request = try SearchRequest(query: query, from: from, to: to, limit: limit)
            let expected = all.filter(request.matches).sorted { $0.timestamp > $1.timestamp }
            let result = Search.run(request, on: snapshot)
            XCTAssertEqual(result.records.map(\.timestamp), Array(expected.prefix(limit)).map(\.timestamp), query)
            XCTAssertEqual(try Search.count(request, on: snapshot), expected.count, query)
        }
        // A single term over everything takes the index's counts.
        let everything = try SearchRequest(query: "timeout")
        XCTAssertEqual(try Search.count(everything, on: snapshot), all.filter(everything.matches).count)
    }

    func testParsing() throws {
        let request = try SearchRequest(query: #"Timeout "Connection refused" k8s.pod.name:api-1 severity:ERROR"#)
        XCTAssertEqual(request.terms, ["timeout"])
        XCTAssertEqual(request.phrases, [["connection", "refused"]])
        XCTAssertEqual(request.fields, [.init("k8s.pod.name", "api-1"), .init("severity", "ERROR")])
        XCTAssertThrowsError(try SearchRequest(query: #"a "open"#)) { error in
            XCTAssertEqual("\(error)", "unclosed quote at column 3: a phrase needs a closing \"")
        }
    }
}
