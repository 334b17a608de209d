import Foundation
import Logging
import StrataCore
import StrataTestSupport
import Synchronization
import XCTest

@testable import StrataAgent

/// A scratch node: a log tree in the kubelet layout plus a checkpoint directory.
final class ScratchNode {
    let root: String
    var podsDirectory: String { root + "/var/log/pods" }
    var containersDirectory: String { root + "/var/log/containers" }
    var checkpointDirectory: String { root + "/state" }

    init() throws {
        root = ScratchDirectory.uniquePath("test")
        try FileManager.default.createDirectory(atPath: podsDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: containersDirectory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Creates `var/log/pods/<ns>_<pod>_<uid>/<container>/0.log` and its containers symlink.
    @discardableResult
    func makeContainer(namespace: String = "shop", pod: String, container: String = "app", restart: Int = 0) throws -> String {
        let directory = "\(podsDirectory)/\(namespace)_\(pod)_uid-\(pod)/\(container)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/\(restart).log"
        FileManager.default.createFile(atPath: path, contents: nil)
        let id = String(repeating: String(format: "%02x", abs(pod.hashValue) % 256), count: 32)
        try? FileManager.default.createSymbolicLink(
            atPath: "\(containersDirectory)/\(pod)_\(namespace)_\(container)-\(id).log", withDestinationPath: path)
        return path
    }

    func configuration(once: Bool = true) -> AgentConfiguration {
        var configuration = AgentConfiguration()
        configuration.paths = [containersDirectory + "/*.log"]
        configuration.checkpointDirectory = checkpointDirectory
        configuration.sink = .http
        configuration.collector = "http://127.0.0.1:9"
        configuration.once = once
        configuration.nodeName = "test-node"
        configuration.rescanInterval = .milliseconds(100)
        configuration.batchMaxAge = .milliseconds(50)
        configuration.multilineFlushTimeout = .milliseconds(100)
        configuration.retryInitial = .milliseconds(5)
        configuration.retryMax = .milliseconds(50)
        configuration.shutdownTimeout = .seconds(5)
        return configuration
    }
}

func append(_ text: String, to path: String) {
    let handle = FileHandle(forWritingAtPath: path)!
    handle.seekToEndOfFile()
    handle.write(text.data(using: .utf8)!)
    try? handle.close()
}

func appendBytes(_ bytes: [UInt8], to path: String) {
    let handle = FileHandle(forWritingAtPath: path)!
    handle.seekToEndOfFile()
    handle.write(Data(bytes))
    try? handle.close()
}

func criLine(_ message: String, stream: String = "stdout", tag: String = "F", second: Int = 0) -> String {
    "2026-11-21T10:00:\(String(format: "%02d", second % 60)).000000001Z \(stream) \(tag) \(message)\n"
}

func dockerLine(_ message: String, stream: String = "stdout", newline: Bool = true) -> String {
    let escaped = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    return "{\"log\":\"\(escaped)\(newline ? "\\n" : "")\",\"stream\":\"\(stream)\",\"time\":\"2026-11-21T10:00:00.5Z\"}\n"
}

/// An in-process receiver: decodes every frame like the collector would, and can be told to
/// fail or refuse.
final class RecordingTransport: BatchTransport, @unchecked Sendable {
    enum Mode: Sendable {
        case accept
        case fail
        case reject(status: Int)
    }

    private let state = Mutex<(records: [LogRecord], batches: [BatchID], attempts: Int, mode: Mode)>(([], [], 0, .accept))

    func setMode(_ mode: Mode) { state.withLock { $0.mode = mode } }

    var records: [LogRecord] { state.withLock { $0.records } }
    var bodies: [String] { records.map(\.body) }
    var batchIDs: [BatchID] { state.withLock { $0.batches } }
    var attempts: Int { state.withLock { $0.attempts } }

    func deliver(_ batch: SealedBatch) async -> DeliveryOutcome {
        state.withLock { state in
            state.attempts += 1
            switch state.mode {
            case .fail:
                return .retry(reason: "test receiver is down", after: nil)
            case .reject(let status):
                return .rejected(status: status, message: "test receiver refuses")
            case .accept:
                guard let decoded = try? WireBatch.decode(batch.frame) else {
                    return .rejected(status: 400, message: "undecodable frame")
                }
                if !state.batches.contains(decoded.id) {
                    state.batches.append(decoded.id)
                    state.records += decoded.records
                }
                return .accepted(tooOld: 0)
            }
        }
    }

    func shutdown() async {}
}

func runOnce(_ node: ScratchNode, transport: RecordingTransport, configure: (inout AgentConfiguration) -> Void = { _ in })
    async throws
{
    var configuration = node.configuration()
    configure(&configuration)
    let agent = try Agent(configuration: configuration, logger: quietLogger, transport: transport)
    try await agent.run()
}

/// Runs an agent in the background until `stop` returns.
func runFollowing(
    _ node: ScratchNode, transport: RecordingTransport, configure: (inout AgentConfiguration) -> Void = { _ in },
    while body: (Agent) async throws -> Void
) async throws {
    var configuration = node.configuration(once: false)
    configure(&configuration)
    let agent = try Agent(configuration: configuration, logger: quietLogger, transport: transport)
    let running = Task { try await agent.run() }
    do {
        try await body(agent)
    } catch {
        agent.stop()
        _ = try? await running.value
        throw error
    }
    agent.stop()
    try await running.value
}

/// Polls until `condition` holds or the timeout passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now > deadline {
            XCTFail("condition not met within \(timeout)")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
