import Foundation
import Logging
import StrataCore
import StrataStore
import StrataTestSupport
import Testing

/// The built `strata` executable next to the test bundle (`swift test` builds it).
func collectorExecutable() -> String {
    let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("strata").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return bundleDirectory.appendingPathComponent("strata").path
}

/// A loopback port nobody listens on right now.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CrashTestError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
        }
    }
    guard bound else { throw CrashTestError("bind to a loopback port failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Runs blocking work on a thread of its own and awaits its result, leaving the threads of the
/// cooperative pool to the in-process collector.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// A TCP socket connected to 127.0.0.1:`port`, for the caller to close. `receiveBuffer` sets
/// SO_RCVBUF before connecting (where it also fixes the advertised window).
func connectLoopback(port: Int, receiveBuffer: Int? = nil) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CrashTestError("socket() failed") }
    if var size = receiveBuffer.map(Int32.init) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw CrashTestError("connection to port \(port) refused")
    }
    return fd
}

struct CrashTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One `strata collector` child process on a scratch data directory.
final class CollectorChild {
    let root: String
    let dataDirectory: String
    let configPath: String
    private(set) var process: Process?
    private(set) var port = 0
    private(set) var launches = 0

    /// `config` is the YAML given with --config (storage: and retention: sections).
    init(config: String) throws {
        root = ScratchDirectory.uniquePath("crash")
        dataDirectory = root + "/data"
        configPath = root + "/collector.yaml"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Starts the collector (with `STRATA_FAULT=fault` when given) and waits until it answers.
    /// `port` keeps the address of a previous start, for clients that cannot be told a new one.
    func start(fault: String? = nil, arguments: [String] = [], port fixedPort: Int? = nil) async throws {
        port = try fixedPort ?? freeLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: collectorExecutable())
        process.arguments =
            ["collector", "--data-dir", dataDirectory, "--listen", "127.0.0.1:\(port)", "--config", configPath, "--log-level", "error"]
            + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["STRATA_FAULT"] = fault
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        launches += 1
        _ = FileManager.default.createFile(atPath: root + "/stderr-\(launches).log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: root + "/stderr-\(launches).log")
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let (status, _) = try? await LoopbackHTTP.request(method: "GET", url: url + "/healthz"), status == 200 {
                return
            }
            guard process.isRunning else { throw CrashTestError("the collector exited at start: \(stderr())") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CrashTestError("the collector did not answer /healthz within 20 s: \(stderr())")
    }

    func stderr() -> String {
        (try? String(contentsOfFile: root + "/stderr-\(launches).log", encoding: .utf8)) ?? ""
    }

    /// Waits for the child to die (after a fault) and tells whether SIGKILL ended it.
    func waitForDeath(timeout: Duration = .seconds(20)) async throws -> Bool {
        guard let process else { return false }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        guard !process.isRunning else { throw CrashTestError("the collector did not die at its fault point") }
        return process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    }

    func killHard() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM: the collector stops its background work and flushes.
    func stop() async throws {
        guard let process, process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        guard !process.isRunning else { throw CrashTestError("the collector did not stop on SIGTERM") }
        #expect(process.terminationStatus == 0, "clean exit after SIGTERM: \(stderr())")
    }

    func get(_ path: String) async throws -> (Int, String) {
        try await LoopbackHTTP.request(method: "GET", url: url + path)
    }
}

/// Sends numbered batches and remembers which ones the collector acknowledged.
final class IngestLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var acknowledgedBodies: [String] = []
    private var uncertainBodies: [String] = []
    private var next = 0
    let recordsPerBatch: Int
    let bodyPadding: String

    init(recordsPerBatch: Int = 20, bodyBytes: Int = 40) {
        self.recordsPerBatch = recordsPerBatch
        bodyPadding = String(repeating: "x", count: bodyBytes)
    }

    var acknowledged: [String] { lock.withLock { acknowledgedBodies } }
    /// Bodies of batches whose answer never came (the child died): each may be stored or not,
    /// but never twice.
    var uncertain: [String] { lock.withLock { uncertainBodies } }

    struct Batch {
        var id: BatchID
        var bodies: [String]
        var frame: [UInt8]
    }

    func makeBatch() throws -> Batch {
        let number = lock.withLock { () -> Int in
            next += 1
            return next
        }
        let bodies = (0..<recordsPerBatch).map { "batch \(number) record \($0) \(bodyPadding)" }
        var encoder = BatchEncoder()
        let resource = Resource(attributes: [Attribute(ResourceKey.namespace, "crash"), Attribute(ResourceKey.pod, "pod-\(number % 3)")])
        let now = WallClock.nowNanos()
        for (index, body) in bodies.enumerated() {
            let resourceIndex = encoder.resourceIndex(source: 0) { resource }
            encoder.append(LogRecord(timestamp: now + Int64(index), observedTimestamp: now, body: body, resource: resource), resourceIndex: resourceIndex)
        }
        let id = BatchID.random()
        return Batch(id: id, bodies: bodies, frame: try encoder.encode(id: id, codec: .zstd))
    }

    enum Outcome { case acknowledged, refused, died }

    /// Sends one batch. A refusal (429/503) leaves it unstored; no answer leaves it uncertain.
    func send(_ batch: Batch, to url: String) async -> Outcome {
        let answer = try? await LoopbackHTTP.request(
            method: "POST", url: url + "/api/v1/ingest", headers: ["Content-Type": WireFormat.contentType], body: batch.frame)
        switch answer?.0 {
        case 200:
            lock.withLock { acknowledgedBodies += batch.bodies }
            return .acknowledged
        case 429, 503:
            return .refused
        default:
            lock.withLock { uncertainBodies += batch.bodies }
            return .died
        }
    }

    /// Sends batches one after another until the child dies or `limit` batches were acknowledged.
    @discardableResult
    func sendUntilDeath(to url: String, limit: Int = 5000) async throws -> Int {
        var sent = 0
        while sent < limit {
            let batch = try makeBatch()
            switch await send(batch, to: url) {
            case .acknowledged: sent += 1
            case .refused: try await Task.sleep(for: .milliseconds(5))
            case .died: return sent
            }
        }
        return sent
    }
}

/// The checks after a crash: the manifest names only complete segments, and a store opened
/// on the directory holds every acknowledged record exactly once (uncertain ones at most once).
enum DurabilityCheck {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Files the manifest lists, each opened and read in full (every block checksum checked).
    static func manifestSegmentsAreComplete(_ dataDirectory: String) throws -> [String] {
        let path = dataDirectory + "/manifest.json"
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let segments = (json?["segments"] as? [[String: Any]]) ?? []
        var files: [String] = []
        for segment in segments {
            guard let file = segment["file"] as? String else { throw CrashTestError("a manifest entry without a file") }
            let reader = try SegmentReader(path: dataDirectory + "/" + file)
            _ = try reader.readAllRecords()
            files.append(file)
        }
        return files
    }

    /// Opens the store as a restart would and checks the records.
    static func verify(_ dataDirectory: String, ledger: IngestLedger, comment: String) throws {
        _ = try manifestSegmentsAreComplete(dataDirectory)
        var options = StoreOptions()
        options.headFlushBytes = .max
        let store = try LogStore(directory: dataDirectory, options: options, logger: logger)
        #expect(store.statistics.quarantined == 0, "no segment failed its checks (\(comment))")
        let snapshot = store.snapshot()
        var counts: [String: Int] = [:]
        for record in snapshot.head { counts[record.body, default: 0] += 1 }
        for segment in snapshot.segments {
            for record in try segment.readAllRecords() { counts[record.body, default: 0] += 1 }
        }
        let acknowledged = ledger.acknowledged
        let missing = acknowledged.filter { counts[$0] == nil }
        #expect(missing.isEmpty, "\(missing.count) of \(acknowledged.count) acknowledged records are missing (\(comment)), e.g. \(missing.prefix(3))")
        let twice = counts.filter { $0.value > 1 }
        #expect(twice.isEmpty, "\(twice.count) records are stored more than once (\(comment)), e.g. \(twice.keys.prefix(3))")
        let known = Set(acknowledged).union(ledger.uncertain)
        let strangers = counts.keys.filter { !known.contains($0) }
        #expect(strangers.isEmpty, "records nobody sent (\(comment)): \(strangers.prefix(3))")
    }

    /// After a clean stop: no temporary file, and every segment file is one the manifest lists.
    static func noLeftovers(_ dataDirectory: String) throws {
        let listed = Set(try manifestSegmentsAreComplete(dataDirectory))
        var onDisk: Set<String> = []
        let root = dataDirectory + "/segments"
        for partition in try FileManager.default.contentsOfDirectory(atPath: root) {
            for name in try FileManager.default.contentsOfDirectory(atPath: root + "/" + partition) {
                onDisk.insert("segments/\(partition)/\(name)")
            }
        }
        #expect(onDisk == listed, "segment files on disk are exactly those the manifest lists")
    }
}
