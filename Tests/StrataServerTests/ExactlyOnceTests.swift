import Foundation
import Logging
import StrataCore
import StrataStore
import StrataTestSupport
import Testing

@testable import StrataServer

/// Exactly once from file to store (docs/RELIABILITY.md): records an agent re-reads after a
/// restart are recognised by their positions, across collector crashes too, and a kill -9 loop
/// over the real agent and collector ends with every line stored once.
@Suite(.serialized) struct ExactlyOnceTests {
    static let source = FileSource(node: "crash-node", device: 1, inode: 42, headChecksum: 0xFEED, headLength: 60, sequence: 0)

    /// A batch of lines `range` of one file, each line 100 bytes, under a fresh id.
    static func positionedFrame(_ range: Range<Int>) throws -> [UInt8] {
        var encoder = BatchEncoder()
        let resource = Resource(attributes: [Attribute(ResourceKey.namespace, "crash"), Attribute(ResourceKey.pod, "once")])
        let now = WallClock.nowNanos()
        for line in range {
            let index = encoder.resourceIndex(source: 0) { resource }
            encoder.append(
                LogRecord(timestamp: now, observedTimestamp: now, body: "file line \(line)", resource: resource),
                resourceIndex: index,
                position: RecordPosition(source: source, offset: SourceOffset(end: UInt64(line + 1) * 100)))
        }
        return try encoder.encode(id: BatchID.random(), codec: .zstd)
    }

    static func send(_ frame: [UInt8], to url: String) async -> (status: Int, answer: [String: Any])? {
        guard
            let (status, body) = try? await LoopbackHTTP.request(
                method: "POST", url: url + "/api/v1/ingest", headers: ["Content-Type": WireFormat.contentType], body: frame)
        else { return nil }
        let answer = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
        return (status, answer)
    }

    static func storedBodies(_ dataDirectory: String) throws -> [String: Int] {
        let view = try LogStore.openReadOnly(directory: dataDirectory)
        var counts: [String: Int] = [:]
        for record in view.snapshot.head { counts[record.body, default: 0] += 1 }
        for segment in view.snapshot.segments {
            for record in try segment.readAllRecords() { counts[record.body, default: 0] += 1 }
        }
        return counts
    }

    /// The collector dies after the third batch reached its write-ahead log, before answering;
    /// the sender (like a restarted agent) sends those lines again in batches cut differently,
    /// under new ids. The restarted collector knows their positions from the log's replay.
    @Test func aCollectorKilledAfterTheLogAppendStoresTheResentLinesOnce() async throws {
        let child = try CollectorChild(config: "storage: {flush_interval: 1h}")
        try await child.start(fault: "ingest.after_wal@3")
        #expect(await Self.send(try Self.positionedFrame(0..<10), to: child.url)?.status == 200)
        #expect(await Self.send(try Self.positionedFrame(10..<20), to: child.url)?.status == 200)
        #expect(await Self.send(try Self.positionedFrame(20..<30), to: child.url) == nil, "no answer: killed")
        #expect(try await child.waitForDeath(), "SIGKILL after the log append: \(child.stderr())")

        try await child.start()
        let again = await Self.send(try Self.positionedFrame(15..<35), to: child.url)
        #expect(again?.status == 200)
        #expect(again?.answer["accepted"] as? Int == 5, "\(String(describing: again?.answer))")
        #expect(again?.answer["duplicate_records"] as? Int == 15, "dropped, counted, and not an error")
        let metrics = try await child.get("/metrics").1
        #expect(metrics.contains("strata_collector_records_duplicate_total 15"), "\(metrics)")
        try await child.stop()

        let counts = try Self.storedBodies(child.dataDirectory)
        #expect(counts.keys.sorted() == (0..<35).map { "file line \($0)" }.sorted())
        #expect(counts.values.allSatisfy { $0 == 1 }, "\(counts.filter { $0.value > 1 })")
        // And once more after the clean stop flushed everything into segments.
        try await child.start()
        #expect(await Self.send(try Self.positionedFrame(0..<35), to: child.url)?.answer["duplicate_records"] as? Int == 35)
        try await child.stop()
        #expect(try Self.storedBodies(child.dataDirectory).count == 35)
    }

    /// The real agent and collector, killed with SIGKILL at seeded random moments while lines
    /// are written: the agent alone, the collector alone, or both. Rounds and seed come from
    /// STRATA_KILL_LOOP_ROUNDS and STRATA_KILL_LOOP_SEED (scripts/kill-loop.sh runs a long loop).
    @Test func killLoopEndsWithEveryLineStoredOnce() async throws {
        let environment = ProcessInfo.processInfo.environment
        let rounds = environment["STRATA_KILL_LOOP_ROUNDS"].flatMap(Int.init) ?? 20
        let seed = environment["STRATA_KILL_LOOP_SEED"].flatMap(UInt64.init) ?? 11
        let loop = try KillLoop(seed: seed)
        let report = try await loop.run(rounds: rounds)
        print("kill-loop: \(report)")
        #expect(report.agentKills > 0 && report.collectorKills > 0, "both processes were killed: \(report)")
        #expect(report.missing == 0, "\(report)")
        #expect(report.storedTwice == 0, "\(report)")
        #expect(report.strangers == 0, "\(report)")
    }
}

/// The kill -9 loop: a node directory with container logs, a `strata agent` and a `strata
/// collector` child, and a seeded schedule of writes and kills.
final class KillLoop {
    struct Report: CustomStringConvertible {
        var seed: UInt64
        var rounds = 0
        var agentKills = 0
        var collectorKills = 0
        var records = 0
        /// Records the collector dropped as already stored (its metric, summed over its lives).
        var duplicatesDropped = 0
        var storedTwice = 0
        var missing = 0
        var strangers = 0
        var seconds = 0.0

        var description: String {
            "seed \(seed), \(rounds) rounds, \(agentKills) agent kills, \(collectorKills) collector kills, "
                + "\(records) records, \(duplicatesDropped) re-sent records dropped, \(storedTwice) stored twice, "
                + "\(missing) missing, \(strangers) unknown, \(String(format: "%.1f", seconds)) s"
        }
    }

    let root: String
    let collector: CollectorChild
    var random: SeededRandom
    var report: Report
    var agent: Process?
    var files: [String] = []
    var written: [String] = []
    var lineNumber = 0

    var containers: String { root + "/var/log/containers" }

    init(seed: UInt64) throws {
        root = ScratchDirectory.uniquePath("kill-loop")
        random = SeededRandom(seed: seed)
        report = Report(seed: seed)
        // Flushes every few hundred milliseconds, so kills also land around flushes.
        collector = try CollectorChild(config: "storage: {flush_interval: 300ms, head_flush_size: 64KiB}")
        for pod in ["alpha", "beta", "gamma"] {
            let directory = "\(root)/var/log/pods/loop_\(pod)_uid-\(pod)/app"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: containers, withIntermediateDirectories: true)
            let path = directory + "/0.log"
            FileManager.default.createFile(atPath: path, contents: nil)
            try FileManager.default.createSymbolicLink(
                atPath: "\(containers)/\(pod)_loop_app-\(String(repeating: "ab", count: 32)).log", withDestinationPath: path)
            files.append(path)
        }
    }

    deinit {
        if let agent, agent.isRunning {
            kill(agent.processIdentifier, SIGKILL)
            agent.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    func startAgent() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: collectorExecutable())
        process.arguments = [
            "agent", "--path", containers + "/*.log", "--checkpoint-dir", root + "/agent-state", "--collector",
            collector.url, "--set", "batch.max_age=20ms", "--set", "batch.max_bytes=4KiB", "--set",
            "inputs.rescan_interval=100ms", "--set", "retry.initial=10ms", "--set", "retry.max=200ms", "--log-level", "error",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["NODE_NAME"] = "loop-node"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        agent = process
    }

    func killAgent() {
        guard let agent, agent.isRunning else { return }
        kill(agent.processIdentifier, SIGKILL)
        agent.waitUntilExit()
        report.agentKills += 1
    }

    /// Appends `count` lines spread over the files (some on stderr), stamped now so that
    /// retention keeps them.
    func writeLines(_ count: Int) throws {
        var perFile = [String](repeating: "", count: files.count)
        for _ in 0..<count {
            let file = Int(random.next() % UInt64(files.count))
            let body = "loop line \(lineNumber) " + String(repeating: "w", count: Int(random.next() % 80))
            lineNumber += 1
            let stream = random.next() % 5 == 0 ? "stderr" : "stdout"
            perFile[file] += "\(RFC3339.format(nanos: WallClock.nowNanos())) \(stream) F \(body)\n"
            written.append(body)
        }
        for (index, text) in perFile.enumerated() where !text.isEmpty {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: files[index]))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        }
    }

    /// The collector's count of dropped re-sent records so far in its current life.
    func duplicatesDroppedNow() async -> Int {
        guard let (status, metrics) = try? await collector.get("/metrics"), status == 200 else { return 0 }
        let name = "strata_collector_records_duplicate_total "
        for line in metrics.split(separator: "\n") where line.hasPrefix(name) {
            return Int(Double(line.dropFirst(name.count)) ?? 0)
        }
        return 0
    }

    func killCollector() async {
        report.duplicatesDropped += await duplicatesDroppedNow()
        collector.killHard()
        report.collectorKills += 1
    }

    func run(rounds: Int) async throws -> Report {
        let started = ContinuousClock.now
        try await collector.start()
        let port = collector.port
        try startAgent()
        for _ in 0..<rounds {
            report.rounds += 1
            // Lines arrive before and during the round, so kills find batches in flight.
            try writeLines(150 + Int(random.next() % 150))
            try await Task.sleep(for: .milliseconds(20 + Int(random.next() % 120)))
            try writeLines(100 + Int(random.next() % 100))
            try await Task.sleep(for: .milliseconds(20 + Int(random.next() % 250)))
            switch random.next() % 3 {
            case 0:
                killAgent()
            case 1:
                await killCollector()
            default:
                // Both, in either order.
                if random.next() % 2 == 0 {
                    killAgent()
                    await killCollector()
                } else {
                    await killCollector()
                    killAgent()
                }
            }
            if !(collector.process?.isRunning ?? false) { try await collector.start(port: port) }
            if !(agent?.isRunning ?? false) { try startAgent() }
        }
        try writeLines(200)
        report.records = written.count
        // Everything written must arrive; then both stop cleanly and the store is read whole.
        let expected = Set(written)
        let deadline = ContinuousClock.now + .seconds(40)
        while ContinuousClock.now < deadline {
            let stored = (try? ExactlyOnceTests.storedBodies(collector.dataDirectory)) ?? [:]
            if expected.isSubset(of: stored.keys) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        agent?.terminate()
        agent?.waitUntilExit()
        report.duplicatesDropped += await duplicatesDroppedNow()
        try await collector.stop()
        let stored = try ExactlyOnceTests.storedBodies(collector.dataDirectory)
        report.missing = expected.subtracting(stored.keys).count
        report.storedTwice = stored.values.filter { $0 > 1 }.count
        report.strangers = Set(stored.keys).subtracting(expected).count
        report.seconds = Double((ContinuousClock.now - started).components.seconds)
        return report
    }
}
