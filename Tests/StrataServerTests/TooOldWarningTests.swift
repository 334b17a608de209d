import Foundation
import Logging
import StrataAgent
import StrataCore
import StrataTestSupport
import Synchronization
import Testing

@testable import StrataAgent
@testable import StrataServer

/// Keeps what is logged through it, for tests to read.
final class RecordingLogHandler: LogHandler, Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let entries = Mutex<[Entry]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        entries.withLock { $0.append(Entry(level: event.level, message: "\(event.message)")) }
    }

    var logged: [Entry] { entries.withLock { $0 } }
    func warnings(containing text: String) -> [String] {
        logged.filter { $0.level == .warning && $0.message.contains(text) }.map(\.message)
    }
}

/// Records older than the collector's retention are acknowledged, not stored — and said so: by
/// the agent, naming the files, and by the collector, at most once a minute, naming the setting.
@Suite(.serialized) struct TooOldWarningTests {
    @Test func occasionalWarningSpeaksOncePerIntervalWithTheCountSince() {
        let warning = OccasionalWarning(intervalNanos: 60_000_000_000)
        #expect(warning.note(3, now: 1_000) == 3)
        #expect(warning.note(2, now: 2_000) == nil)
        #expect(warning.note(4, now: 60_000_000_999) == nil)
        #expect(warning.note(1, now: 60_000_001_000) == 7)
        #expect(warning.note(5, now: 60_000_001_001) == nil)
        #expect(warning.note(Int.max, now: 60_000_001_002) == nil)
        #expect(warning.note(1, now: 200_000_000_000) == Int.max)
    }

    @Test func agentReadsTooOldFromTheAcknowledgement() {
        #expect(HTTPBatchTransport.tooOldCount(acknowledgement: #"{"batch_id":"b","accepted":3,"duplicate":false,"too_old":2,"dropped":0}"#) == 2)
        #expect(HTTPBatchTransport.tooOldCount(acknowledgement: #"{"extra":{"too_old":9},"too_old":4}"#) == 4)
        #expect(HTTPBatchTransport.tooOldCount(acknowledgement: #"{"batch_id":"b","duplicate":true}"#) == 0)
        #expect(HTTPBatchTransport.tooOldCount(acknowledgement: #"{"too_old":"many"}"#) == 0)
        #expect(HTTPBatchTransport.tooOldCount(acknowledgement: "ok") == 0)
    }

    @Test func agentAndCollectorBothWarnWhenRecordsAreOlderThanRetention() async throws {
        let root = ScratchDirectory.uniquePath("too-old")
        defer { ScratchDirectory.remove(root) }
        let collectorLog = RecordingLogHandler()
        var configuration = CollectorConfiguration(dataDirectory: root + "/data")
        configuration.port = 0
        configuration.store.retentionNanos = 3600 * 1_000_000_000
        configuration.store.namespaceRetentionNanos = ["audit": 30 * 86400 * 1_000_000_000]
        let server = try CollectorServer(configuration: configuration, logger: Logger(label: "collector") { _ in collectorLog })
        let task = Task { try await server.run() }
        defer { task.cancel() }
        var port = 0
        for await bound in server.boundPort.stream { port = bound }

        let node = root + "/node/var/log/containers"
        try FileManager.default.createDirectory(atPath: node, withIntermediateDirectories: true)
        let file = node + "/api-1_shop_server-" + String(repeating: "ab", count: 32) + ".log"
        let now = RFC3339.format(nanos: WallClock.nowNanos())
        let lines = (0..<3).map { "2020-01-01T00:00:00.00000000\($0)Z stdout F backfilled line \($0)\n" }
            + (0..<2).map { "\(now) stdout F fresh line \($0)\n" }
        try lines.joined().write(toFile: file, atomically: true, encoding: .utf8)

        let agentLog = RecordingLogHandler()
        var agentConfiguration = AgentConfiguration()
        agentConfiguration.paths = [node + "/*.log"]
        agentConfiguration.checkpointDirectory = root + "/agent"
        agentConfiguration.collector = "http://127.0.0.1:\(port)"
        agentConfiguration.once = true
        let agent = try Agent(configuration: agentConfiguration, logger: Logger(label: "agent") { _ in agentLog })
        try await agent.run()

        #expect(server.store.snapshot().head.map(\.body).sorted() == ["fresh line 0", "fresh line 1"])
        let agentWarnings = agentLog.warnings(containing: "older than its retention")
        #expect(agentWarnings.count == 1, "\(agentLog.logged.map(\.message))")
        let agentWarning = try #require(agentWarnings.first)
        #expect(agentWarning.contains("refused 3 of 5 records"), "\(agentWarning)")
        #expect(agentWarning.contains(file), "\(agentWarning)")
        #expect(agentWarning.contains("--retention-max-age"), "\(agentWarning)")

        let collectorWarnings = collectorLog.warnings(containing: "older than the retention")
        #expect(collectorWarnings.count == 1, "\(collectorLog.logged.map(\.message))")
        let collectorWarning = try #require(collectorWarnings.first)
        #expect(collectorWarning.contains("refused 3 record(s)"), "\(collectorWarning)")
        #expect(collectorWarning.contains("retention.max_age is 1h"), "\(collectorWarning)")
        #expect(collectorWarning.contains("audit: 30d"), "\(collectorWarning)")
        #expect(collectorWarning.contains("--retention-max-age"), "\(collectorWarning)")

        // A second refusal within the minute is counted, not said again.
        let record = LogRecord(timestamp: 1, observedTimestamp: 1, body: "ancient")
        _ = try server.pipeline.ingest(IngestBatch(id: nil, records: [record], receivedBytes: 10), from: Caller())
        #expect(collectorLog.warnings(containing: "older than the retention").count == 1)
    }
}
