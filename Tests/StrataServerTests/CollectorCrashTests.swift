import Foundation
import Logging
import StrataCore
import StrataStore
import StrataTestSupport
import Testing

@testable import StrataServer

/// A `strata collector` child killed with SIGKILL during ingest, flush and compaction
/// (at named points through the test-only `STRATA_FAULT` hook, docs/FORMAT.md, and at random
/// moments), then restarted: every acknowledged record is there exactly once and no
/// half-written segment is ever listed.
@Suite(.serialized) struct CollectorCrashTests {
    /// Small flush threshold and fast timers so flushes and merges happen within milliseconds.
    static let busyConfig = """
        storage:
          flush_interval: 20ms
          head_flush_size: 4KiB
          head_limit: 4MiB
          compaction:
            interval: 20ms
            min_inputs: 2
        """

    /// Crash, check as a restart sees it, restart the child, ingest a little more, stop it
    /// cleanly, check again (including that nothing stray is left on disk).
    func crashAndRecover(fault: String, config: String = busyConfig) async throws {
        let child = try CollectorChild(config: config)
        let ledger = IngestLedger()
        try await child.start(fault: fault)
        try await ledger.sendUntilDeath(to: child.url, limit: 3000)
        #expect(try await child.waitForDeath(), "SIGKILL at \(fault): \(child.stderr())")
        #expect(!ledger.acknowledged.isEmpty, "batches were acknowledged before \(fault)")
        try DurabilityCheck.verify(child.dataDirectory, ledger: ledger, comment: "right after the kill at \(fault)")

        try await child.start()
        for _ in 0..<5 {
            let batch = try ledger.makeBatch()
            #expect(await ledger.send(batch, to: child.url) == .acknowledged)
        }
        try await child.stop()
        try DurabilityCheck.noLeftovers(child.dataDirectory)
        try DurabilityCheck.verify(child.dataDirectory, ledger: ledger, comment: "after a restart following \(fault)")
    }

    @Test func killedAfterTheLogAppendBeforeTheAcknowledgement() async throws {
        try await crashAndRecover(fault: "ingest.after_wal@25", config: "storage: {flush_interval: 1h}")
    }

    @Test(arguments: ["flush.after_temp", "flush.after_rename", "flush.before_manifest", "flush.after_manifest"])
    func killedDuringAFlush(point: String) async throws {
        try await crashAndRecover(fault: point + "@3")
    }

    @Test(arguments: [
        "compaction.after_temp", "compaction.after_rename", "compaction.before_manifest", "compaction.before_delete",
        "compaction.mid_delete",
    ])
    func killedDuringACompaction(point: String) async throws {
        try await crashAndRecover(fault: point + "@2")
    }

    /// Kills at arbitrary moments of a steady ingest stream (with flushes and merges going on),
    /// restarting each time; the kill times come from a fixed seed.
    @Test func killedAtRandomMomentsDuringSteadyIngest() async throws {
        let child = try CollectorChild(config: Self.busyConfig)
        let ledger = IngestLedger(recordsPerBatch: 10)
        var random = SeededRandom(seed: 42)
        for round in 0..<4 {
            try await child.start()
            let url = child.url
            let sender = Task {
                var sent = 0
                while !Task.isCancelled, let batch = try? ledger.makeBatch() {
                    switch await ledger.send(batch, to: url) {
                    case .acknowledged: sent += 1
                    case .refused: try? await Task.sleep(for: .milliseconds(5))
                    case .died: return sent
                    }
                }
                return sent
            }
            try await Task.sleep(for: .milliseconds(150 + Int(random.next() % 400)))
            child.killHard()
            let sent = await sender.value
            #expect(sent > 0, "round \(round): batches went through before the kill")
        }
        try DurabilityCheck.verify(child.dataDirectory, ledger: ledger, comment: "after four kills")
        try await child.start()
        try await child.stop()
        try DurabilityCheck.noLeftovers(child.dataDirectory)
        try DurabilityCheck.verify(child.dataDirectory, ledger: ledger, comment: "after a clean restart")
    }

    @Test func storageAndRetentionKeysAreCheckedByName() async throws {
        for (yaml, key) in [
            ("retention:\n  max_agee: 1d\n", "retention.max_agee"),
            ("storage:\n  compaction:\n    min_inputs: 1\n", "storage.compaction.min_inputs"),
            ("retention:\n  namespaces:\n    - {namespace: a, max_age: soon}\n", "retention.namespaces[0].max_age"),
            ("retention:\n  max_size: lots\n", "retention.max_size"),
            ("storage:\n  disk_budget: 10GiB\nretention:\n  max_size: 10GiB\n", "retention.max_size"),
            ("storage:\n  min_free_disk: -1\n", "storage.min_free_disk"),
        ] {
            let child = try CollectorChild(config: yaml)
            do {
                try await child.start()
                Issue.record("the collector started with \(yaml)")
            } catch {
                #expect(child.stderr().contains("\(key): "), "the error names \(key): \(child.stderr())")
            }
        }
    }
}

/// The storage metrics of an in-process collector after flushes and a compaction.
@Suite struct CollectorStorageMetricsTests {
    @Test func metricsReportSegmentsCompactionsAndRetention() async throws {
        let root = NSTemporaryDirectory() + "collector-metrics-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        var configuration = CollectorConfiguration(dataDirectory: root)
        configuration.port = 0
        configuration.flushInterval = .milliseconds(10)
        configuration.compactionInterval = .milliseconds(10)
        configuration.store.headFlushBytes = 2048
        configuration.store.compaction.minInputs = 2
        configuration.store.segment.durable = false
        let server = try CollectorServer(
            configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let task = Task { try await server.run() }
        var port = 0
        for await bound in server.boundPort.stream { port = bound }
        let ledger = IngestLedger()
        for _ in 0..<10 {
            #expect(await ledger.send(try ledger.makeBatch(), to: "http://127.0.0.1:\(port)") == .acknowledged)
            try await Task.sleep(for: .milliseconds(15))
        }
        var metrics = ""
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            metrics = (try await LoopbackHTTP.request(method: "GET", url: "http://127.0.0.1:\(port)/metrics")).1
            if let compactions = Self.value(metrics, "strata_collector_compactions_total"), compactions >= 1,
                Self.value(metrics, "strata_collector_segment_records") == 200
            {
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect((Self.value(metrics, "strata_collector_compactions_total") ?? 0) >= 1, "\(metrics)")
        #expect((Self.value(metrics, "strata_collector_flushes_total") ?? 0) >= 2)
        #expect((Self.value(metrics, "strata_collector_segments") ?? 0) >= 1)
        #expect((Self.value(metrics, "strata_collector_segment_bytes") ?? 0) > 0)
        #expect(Self.value(metrics, "strata_collector_segment_records") == 200)
        #expect(Self.value(metrics, "strata_collector_retention_deleted_segments_total{reason=\"age\"}") == 0)
        #expect(Self.value(metrics, "strata_collector_segments_quarantined") == 0)
        task.cancel()
        _ = try? await task.value
    }

    static func value(_ exposition: String, _ name: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }
}
