import Foundation
import StrataCore
import XCTest

@testable import StrataAgent

/// The agent as a separate process, over real HTTP: SIGKILL at any moment loses nothing.
final class AgentProcessTests: XCTestCase {
    func launchAgent(_ node: ScratchNode, receiver: TestReceiver, extra: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: strataExecutable())
        process.arguments =
            [
                "agent", "--path", node.containersDirectory + "/*.log", "--checkpoint-dir", node.checkpointDirectory,
                "--collector", receiver.url, "--set", "batch.max_age=20ms", "--set", "batch.max_bytes=16KiB",
                "--set", "inputs.rescan_interval=100ms", "--set", "retry.initial=10ms", "--set", "retry.max=100ms",
                "--log-level", "error",
            ] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func testSIGKILLMidStreamLosesNothingAndDuplicatesLittle() async throws {
        let receiver = TestReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "kill-1")
        let lineCount = 20_000
        append((0..<lineCount / 2).map { criLine("line \($0) " + String(repeating: "p", count: $0 % 50)) }.joined(), to: path)

        let first = try launchAgent(node, receiver: receiver)
        try await eventually(timeout: .seconds(30)) { receiver.records.count >= 2000 }
        // More lines while it runs, then a hard kill mid-stream.
        append((lineCount / 2..<lineCount).map { criLine("line \($0) " + String(repeating: "p", count: $0 % 50)) }.joined(), to: path)
        try await Task.sleep(for: .milliseconds(50))
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertEqual(first.terminationReason, .uncaughtSignal)
        let deliveredBeforeKill = receiver.records.count
        XCTAssertLessThan(deliveredBeforeKill, lineCount, "the kill should land mid-stream")

        let second = try launchAgent(node, receiver: receiver, extra: ["--once"])
        second.waitUntilExit()
        XCTAssertEqual(second.terminationStatus, 0)

        let bodies = receiver.records.map(\.body)
        let expected = Set((0..<lineCount).map { "line \($0) " + String(repeating: "p", count: $0 % 50) })
        XCTAssertEqual(Set(bodies), expected, "every line arrives")
        let duplicates = bodies.count - Set(bodies).count
        // At most the batches in flight when killed: 8 in memory of at most 16 KiB each.
        XCTAssertLessThanOrEqual(duplicates, 8 * 16 * 1024 / 60, "duplicates bounded by the unacknowledged batches")
    }

    func testRetryAfterIsHonouredAndPermanentRejectionDeadLetters() async throws {
        let receiver = TestReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        receiver.setMode(.unavailable(retryAfterSeconds: 1))
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "retry-1")
        append(criLine("wait for me"), to: path)
        let agent = try launchAgent(node, receiver: receiver, extra: ["--once"])
        try await eventually { receiver.requests >= 1 }
        try await Task.sleep(for: .milliseconds(500))
        XCTAssertEqual(receiver.requests, 1, "Retry-After: 1 holds the next attempt back for a second")
        receiver.setMode(.accept)
        agent.waitUntilExit()
        XCTAssertEqual(agent.terminationStatus, 0)
        XCTAssertEqual(receiver.records.map(\.body), ["wait for me"])

        receiver.setMode(.reject(status: 422))
        append(criLine("unwanted"), to: path)
        let again = try launchAgent(node, receiver: receiver, extra: ["--once"])
        again.waitUntilExit()
        XCTAssertEqual(again.terminationStatus, 0)
        let deadLetters = try FileSystem.listDirectory(node.checkpointDirectory + "/dead-letter")
        XCTAssertEqual(deadLetters.filter { $0.hasSuffix(".batch") }.count, 1)
    }

    func testBearerTokenIsSentAndMetricsAreServed() async throws {
        let receiver = TestReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "token-1")
        append(criLine("hi"), to: path)
        let tokenFile = node.root + "/token"
        try "s3cret\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let port = 20_000 + Int(getpid() % 20_000)
        let agent = try launchAgent(node, receiver: receiver, extra: ["--token-file", tokenFile, "--metrics-listen", "127.0.0.1:\(port)"])
        defer {
            agent.terminate()
            agent.waitUntilExit()
        }
        try await eventually { receiver.records.count == 1 }
        XCTAssertEqual(receiver.state.withLock { $0.tokens.first ?? nil }, "Bearer s3cret")
        var metrics = ""
        try await eventually {
            metrics = httpGet(port: port, path: "/metrics")?.body ?? ""
            return metrics.contains("strata_agent_records_shipped_total 1")
        }
        XCTAssertTrue(metrics.contains("strata_agent_file_lag_bytes{path="), metrics)
        XCTAssertEqual(httpGet(port: port, path: "/healthz")?.status, 200)
    }

    func testSIGTERMFlushesAndExitsCleanly() async throws {
        let receiver = TestReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let node = try ScratchNode()
        let path = try node.makeContainer(pod: "term-1")
        // A traceback still waiting for its flush timeout when SIGTERM arrives.
        append(criLine("Traceback (most recent call last):") + criLine("  File \"x.py\", line 1, in <module>"), to: path)
        let agent = try launchAgent(node, receiver: receiver, extra: ["--set", "multiline.flush_timeout=60s"])
        try await Task.sleep(for: .milliseconds(700))
        agent.terminate()
        agent.waitUntilExit()
        XCTAssertEqual(agent.terminationStatus, 0)
        XCTAssertEqual(receiver.records.map(\.body), ["Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>"])
    }

    func testInvalidConfigurationFailsAtStartNamingTheKey() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: strataExecutable())
        process.arguments = ["agent", "--sink", "stdout", "--set", "batch.max_age=forever"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertTrue(message.contains("batch.max_age"), message)
    }

    func testStdoutSinkWritesJSONLines() throws {
        let node = try ScratchNode()
        let path = try node.makeContainer(namespace: "web", pod: "front-1")
        append(criLine("hello \"world\"") + criLine("bye", stream: "stderr"), to: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: strataExecutable())
        process.arguments = [
            "agent", "--sink", "stdout", "--once", "--path", node.containersDirectory + "/*.log",
            "--checkpoint-dir", node.checkpointDirectory,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["body"] as? String, "hello \"world\"")
        XCTAssertEqual(first["stream"] as? String, "stdout")
        XCTAssertEqual((first["resource"] as? [String: String])?["k8s.namespace.name"], "web")
        XCTAssertEqual(
            Set(first.keys),
            ["timestamp", "observed_timestamp", "stream", "body", "severity", "trace_id", "span_id", "attributes", "resource", "flags"])
    }
}
