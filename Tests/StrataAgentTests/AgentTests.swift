import Foundation
import StrataCore
import XCTest

@testable import StrataAgent

final class AgentReadingTests: XCTestCase {
    func testCRIAndDockerFilesBecomeRecordsWithKubernetesIdentity() async throws {
        let node = try ScratchNode()
        let cri = try node.makeContainer(namespace: "shop", pod: "cart-7f9c5d-abcde", container: "server")
        let docker = try node.makeContainer(namespace: "db", pod: "pg-0", container: "postgres")
        append(criLine("one") + criLine("part ", tag: "P") + criLine("two") + criLine("err", stream: "stderr"), to: cri)
        append(dockerLine("alpha") + dockerLine("beta ", newline: false) + dockerLine("gamma"), to: docker)
        let transport = RecordingTransport()
        try await runOnce(node, transport: transport)

        let byPod = Dictionary(grouping: transport.records) { $0.resource[ResourceKey.pod] ?? "?" }
        XCTAssertEqual(byPod["cart-7f9c5d-abcde"]?.map(\.body).sorted(), ["err", "one", "part two"])
        XCTAssertEqual(byPod["pg-0"]?.map(\.body), ["alpha", "beta gamma"])
        let record = try XCTUnwrap(byPod["pg-0"]?.first)
        XCTAssertEqual(record.resource[ResourceKey.namespace], "db")
        XCTAssertEqual(record.resource[ResourceKey.container], "postgres")
        XCTAssertEqual(record.resource[ResourceKey.podUID], "uid-pg-0")
        XCTAssertEqual(record.resource[ResourceKey.restartCount], "0")
        XCTAssertEqual(record.resource[ResourceKey.node], "test-node")
        XCTAssertNotNil(record.resource[ResourceKey.containerID])
        XCTAssertEqual(record.timestamp, 1_795_255_200_500_000_000)
        XCTAssertEqual(byPod["cart-7f9c5d-abcde"]?.first { $0.body == "err" }?.stream, .stderr)
    }

    func testCorruptEnvelopesAndInvalidUTF8AreKept() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "web-1")
        append(dockerLine("fine"), to: path)
        append("{\"log\":\"cut off in the mid\n", to: path)
        appendBytes(Array("{\"log\":\"bad \u{0}".utf8).dropLast() + [0xC3, 0x28] + Array("\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-21T10:00:00Z\"}\n".utf8), to: path)
        let transport = RecordingTransport()
        try await runOnce(node, transport: transport)
        let records = transport.records
        XCTAssertEqual(records.count, 3)
        XCTAssertEqual(records[0].body, "fine")
        XCTAssertEqual(records[1].body, "{\"log\":\"cut off in the mid")
        XCTAssertTrue(records[1].flags.contains(.parseError))
        XCTAssertEqual(records[1].stream, .unknown)
        XCTAssertTrue(records[2].flags.contains(.invalidUTF8))
        XCTAssertTrue(records[2].body.contains("\u{FFFD}"))
    }

    func testBinaryFilesAreSkippedAndCounted() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "bin-1")
        appendBytes([0x7F, 0x45, 0x4C, 0x46, 0, 0, 0, 1, 2, 3, 10], to: path)
        let text = try node.makeContainer(pod: "text-1")
        append(criLine("hello"), to: text)
        let transport = RecordingTransport()
        var configuration = node.configuration()
        configuration.once = true
        let agent = try Agent(configuration: configuration, logger: quietLogger, transport: transport)
        try await agent.run()
        XCTAssertEqual(transport.bodies, ["hello"])
        XCTAssertEqual(agent.metrics.value(of: "strata_agent_binary_files_skipped_total"), 1)
    }

    func testJavaStackTraceIsOneRecord() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "api-1")
        let trace = [
            "2026-11-21 10:00:00.000 ERROR 1 --- [main] c.e.Api : request failed",
            "java.lang.IllegalStateException: boom",
            "\tat com.example.Api.handle(Api.java:42)",
            "\tat com.example.Api.run(Api.java:7)",
            "Caused by: java.io.IOException: disk",
            "\t... 2 more",
        ]
        append(trace.map { criLine($0) }.joined() + criLine("2026-11-21 10:00:01.000  INFO 1 --- [main] c.e.Api : next"), to: path)
        let transport = RecordingTransport()
        try await runOnce(node, transport: transport)
        XCTAssertEqual(transport.bodies, [trace.joined(separator: "\n"), "2026-11-21 10:00:01.000  INFO 1 --- [main] c.e.Api : next"])
        XCTAssertTrue(transport.records[0].flags.contains(.multiline))
    }

    func testUserStartPatternPerSelector() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(namespace: "legacy", pod: "batch-1", container: "app")
        append(["[job 1] start", "  detail a", "detail b", "[job 2] start"].map { criLine($0) }.joined(), to: path)
        let transport = RecordingTransport()
        try await runOnce(node, transport: transport) { configuration in
            configuration.multilineRules = [
                .init(namespace: "legacy", pod: "*", container: "app", startPattern: #"^\[job \d+\]"#)
            ]
        }
        XCTAssertEqual(transport.bodies, ["[job 1] start\n  detail a\ndetail b", "[job 2] start"])
    }

    func testOversizedRecordIsSplitNotDropped() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "big-1")
        let big = String(repeating: "x", count: 5000)
        append(criLine(big), to: path)
        let transport = RecordingTransport()
        try await runOnce(node, transport: transport) { $0.maxRecordBytes = 2048 }
        XCTAssertEqual(transport.bodies.joined(), big)
        XCTAssertEqual(transport.records.count, 3)
        XCTAssertTrue(transport.records.allSatisfy { $0.flags.contains(.truncated) })
    }

    func testExcludeGlobs() async throws {
        let node = try ScratchNode()
        append(criLine("keep"), to: try node.makeContainer(pod: "keep-1"))
        append(criLine("drop"), to: try node.makeContainer(pod: "noisy-1"))
        let transport = RecordingTransport()
        try await runOnce(node, transport: transport) { $0.exclude = ["*/noisy-*"] }
        XCTAssertEqual(transport.bodies, ["keep"])
    }
}

final class AgentPositionTests: XCTestCase {
    func testRestartReadsOnlyNewLines() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "app-1")
        append((0..<100).map { criLine("line \($0)") }.joined(), to: path)
        let first = RecordingTransport()
        try await runOnce(node, transport: first)
        XCTAssertEqual(first.records.count, 100)

        append((100..<150).map { criLine("line \($0)") }.joined(), to: path)
        let second = RecordingTransport()
        try await runOnce(node, transport: second)
        XCTAssertEqual(second.bodies, (100..<150).map { "line \($0)" })

        let third = RecordingTransport()
        try await runOnce(node, transport: third)
        XCTAssertEqual(third.records.count, 0)
    }

    func testPendingStderrGroupDoesNotCauseStdoutDuplicatesAfterRestart() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "py-1")
        // A traceback on stderr is still open (its last line could continue) while stdout lines
        // after it are delivered; the restart must neither lose the traceback nor repeat stdout.
        append(
            criLine("Traceback (most recent call last):", stream: "stderr")
                + criLine("out 1") + criLine("  File \"a.py\", line 1, in <module>", stream: "stderr") + criLine("out 2"),
            to: path)
        let first = RecordingTransport()
        try await runOnce(node, transport: first)
        append(criLine("ValueError: bad", stream: "stderr") + criLine("out 3"), to: path)
        let second = RecordingTransport()
        try await runOnce(node, transport: second)
        let all = first.bodies + second.bodies
        XCTAssertEqual(all.filter { $0.hasPrefix("out") }.sorted(), ["out 1", "out 2", "out 3"])
        XCTAssertEqual(Set(all).count, all.count, "no duplicates: \(all)")
        XCTAssertTrue(all.contains { $0.hasPrefix("Traceback") })
    }

    func testInodeReuseIsDetectedByFingerprint() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "reuse-1")
        append((0..<20).map { criLine("new file line \($0)") }.joined(), to: path)
        let status = try XCTUnwrap(FileStatus.of(path: path))
        // A checkpoint left by an earlier file that had the same inode, 500 bytes in.
        let store = try CheckpointStore(directory: node.checkpointDirectory)
        try store.commit([
            FilePosition(
                key: status.key, path: path, fingerprint: FileHeadChecksum(checksum: 0xDEAD_BEEF, length: 256),
                stdoutOffset: 500, stderrOffset: 500)
        ])
        let transport = RecordingTransport()
        try await runOnce(node, transport: transport)
        XCTAssertEqual(transport.records.count, 20)
    }

    func testFileTruncatedWhileAgentWasAwayIsReadFromStart() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "trunc-1")
        append((0..<50).map { criLine("old \($0)") }.joined(), to: path)
        try await runOnce(node, transport: RecordingTransport())
        // copytruncate while stopped, then a few new lines: the same first bytes, but shorter.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.close()
        append(criLine("old 0") + criLine("after"), to: path)
        let transport = RecordingTransport()
        try await runOnce(node, transport: transport)
        XCTAssertEqual(transport.bodies, ["old 0", "after"])
    }

    func testReadFromEndSkipsExistingContentAtFirstStart() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "tail-1")
        append(criLine("history"), to: path)
        let transport = RecordingTransport()
        try await runFollowing(node, transport: transport, configure: { $0.readFrom = .end }) { _ in
            try await Task.sleep(for: .milliseconds(300))
            append(criLine("fresh"), to: path)
            try await eventually { transport.bodies == ["fresh"] }
        }
        XCTAssertEqual(transport.bodies, ["fresh"])
    }
}

final class AgentRotationTests: XCTestCase {
    func testRenameRotationReadsOldFileToItsEnd() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "rot-1")
        let transport = RecordingTransport()
        try await runFollowing(node, transport: transport) { _ in
            append((0..<100).map { criLine("a\($0)") }.joined(), to: path)
            try await eventually { transport.records.count == 100 }
            // Lines written just before the rename, then kubelet's rename-and-create.
            append((0..<50).map { criLine("b\($0)") }.joined(), to: path)
            try FileManager.default.moveItem(atPath: path, toPath: path + ".20261121-100000")
            FileManager.default.createFile(atPath: path, contents: nil)
            append((0..<30).map { criLine("c\($0)") }.joined(), to: path)
            try await eventually { transport.records.count >= 180 }
        }
        let expected = (0..<100).map { "a\($0)" } + (0..<50).map { "b\($0)" } + (0..<30).map { "c\($0)" }
        XCTAssertEqual(transport.bodies.sorted(), expected.sorted())
    }

    func testCopyTruncateRestartsAtZero() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "ct-1")
        let transport = RecordingTransport()
        try await runFollowing(node, transport: transport) { _ in
            append((0..<40).map { criLine("before \($0)") }.joined(), to: path)
            try await eventually { transport.records.count == 40 }
            let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
            try handle.truncate(atOffset: 0)
            try handle.close()
            append((0..<5).map { criLine("after \($0)") }.joined(), to: path)
            try await eventually { transport.records.count == 45 }
        }
        XCTAssertEqual(Array(transport.bodies.suffix(5)), (0..<5).map { "after \($0)" })
    }

    func testDeletedFileIsDrainedThenClosed() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "del-1")
        let transport = RecordingTransport()
        try await runFollowing(node, transport: transport) { agent in
            append(criLine("first"), to: path)
            try await eventually { transport.records.count == 1 }
            // Written and deleted before the agent's next read: the open descriptor still has them.
            append((0..<10).map { criLine("x\($0)") }.joined(), to: path)
            try FileManager.default.removeItem(atPath: path)
            try await eventually { transport.records.count == 11 }
            try await eventually(timeout: .seconds(10)) {
                agent.metrics.value(of: "strata_agent_files_tailed") == 0
            }
        }
    }

    func testNewFilesArePickedUpWithinASecond() async throws {
        let node = try ScratchNode()
        let transport = RecordingTransport()
        try await runFollowing(node, transport: transport) { _ in
            try await Task.sleep(for: .milliseconds(200))
            let path = try node.makeContainer(pod: "late-1")
            append(criLine("hello"), to: path)
            try await eventually(timeout: .seconds(1)) { transport.bodies == ["hello"] }
        }
    }
}

final class AgentDeliveryTests: XCTestCase {
    func testReceiverDownSpoolsThenReplaysInOrder() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "spool-1")
        let transport = RecordingTransport()
        transport.setMode(.fail)
        try await runFollowing(node, transport: transport) { agent in
            for round in 0..<5 {
                append((0..<20).map { criLine("r\(round) l\($0)") }.joined(), to: path)
                try await Task.sleep(for: .milliseconds(80))
            }
            try await eventually { transport.attempts > 3 }
            let spooled = try FileSystem.listDirectory(node.checkpointDirectory + "/spool")
            XCTAssertFalse(spooled.isEmpty, "batches wait on disk while the receiver is down")
            transport.setMode(.accept)
            try await eventually { transport.records.count == 100 }
            _ = agent
        }
        let expected = (0..<5).flatMap { round in (0..<20).map { "r\(round) l\($0)" } }
        XCTAssertEqual(transport.bodies, expected, "replayed in order, nothing lost or repeated")
        XCTAssertEqual(try FileSystem.listDirectory(node.checkpointDirectory + "/spool").filter { $0.hasSuffix(".spool") }, [])
    }

    func testSpooledBatchesSurviveARestartWithoutLossOrDuplicates() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "spool-2")
        let down = RecordingTransport()
        down.setMode(.fail)
        try await runFollowing(node, transport: down, configure: { $0.shutdownTimeout = .milliseconds(200) }) { _ in
            append((0..<30).map { criLine("s\($0)") }.joined(), to: path)
            try await eventually { down.attempts >= 2 }
            append((30..<40).map { criLine("s\($0)") }.joined(), to: path)
            try await Task.sleep(for: .milliseconds(300))
        }
        XCTAssertEqual(down.records.count, 0)
        XCTAssertFalse(try FileSystem.listDirectory(node.checkpointDirectory + "/spool").isEmpty)

        let up = RecordingTransport()
        try await runOnce(node, transport: up)
        XCTAssertEqual(up.bodies, (0..<40).map { "s\($0)" })
    }

    func testPermanentRejectionGoesToDeadLetterAndIsNotRetried() async throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "dl-1")
        append(criLine("refused"), to: path)
        let transport = RecordingTransport()
        transport.setMode(.reject(status: 400))
        try await runOnce(node, transport: transport)
        XCTAssertEqual(transport.attempts, 1)
        let files = try FileSystem.listDirectory(node.checkpointDirectory + "/dead-letter")
        XCTAssertEqual(files.filter { $0.hasSuffix(".batch") }.count, 1)
        let note = try XCTUnwrap(files.first { $0.hasSuffix(".json") })
        let text = String(decoding: try FileSystem.readFile(node.checkpointDirectory + "/dead-letter/" + note), as: UTF8.self)
        XCTAssertTrue(text.contains("\"status\":400") && text.contains("test receiver refuses"), text)
        let batchFile = try XCTUnwrap(files.first { $0.hasSuffix(".batch") })
        let frame = try FileSystem.readFile(node.checkpointDirectory + "/dead-letter/" + batchFile)
        XCTAssertEqual(try WireBatch.decode(frame).records.map(\.body), ["refused"])
        // The positions moved on: a restart does not send it again.
        let again = RecordingTransport()
        try await runOnce(node, transport: again)
        XCTAssertEqual(again.attempts, 0)
    }
}
