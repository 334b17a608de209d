import Dispatch
import Foundation

/// Generates a directory tree shaped like a Kubernetes node's `/var/log/pods` and
/// `/var/log/containers`, filled with realistic, deterministic container logs.
public enum NodeLogTreeGenerator {
    /// Writes the tree under `root` (created if needed; existing files at the generated paths
    /// are replaced, nothing else is touched) and describes what it wrote. The same spec gives
    /// the same bytes.
    public static func generate(_ spec: NodeLogTreeSpec, into root: String) throws -> GeneratedTree {
        let root = absolute(root)
        let plans = plan(spec, root: root)
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/" + GeneratedTree.containersDirectory, withIntermediateDirectories: true)
        for plan in plans {
            try fm.createDirectory(
                atPath: (plan.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }

        let results = ResultSlots(count: plans.count)
        let tracePool = makeTracePool(seed: spec.seed)
        DispatchQueue.concurrentPerform(iterations: plans.count) { i in
            do {
                var generator = try FileGenerator(plan: plans[i], spec: spec, tracePool: tracePool)
                results.set(i, .success(try generator.run()))
            } catch {
                results.set(i, .failure(error))
            }
        }
        var files: [GeneratedFile] = []
        for (plan, result) in zip(plans, results.all) {
            files.append(try result.get())
            if fm.fileExists(atPath: plan.symlinkPath) || (try? fm.destinationOfSymbolicLink(atPath: plan.symlinkPath)) != nil {
                try fm.removeItem(atPath: plan.symlinkPath)
            }
            try fm.createSymbolicLink(atPath: plan.symlinkPath, withDestinationPath: plan.symlinkTarget)
        }
        files.sort { ($0.namespace, $0.pod, $0.container, $0.restart) < ($1.namespace, $1.pod, $1.container, $1.restart) }
        return GeneratedTree(root: root, nodeName: spec.nodeName, files: files)
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (full as NSString).standardizingPath
    }

    /// A few hundred trace ids shared by all containers, so some requests cross services.
    static func makeTracePool(seed: UInt64) -> [TraceContext] {
        var rng = SplitMix64(seed: seed, stream: 3)
        return (0..<512).map { _ in TraceContext(hi: rng.next(), lo: rng.next(), span: 0) }
    }

    /// Everything decided before writing: names, formats, budgets and time windows. Only the
    /// master seed is used here, so the plan does not depend on how files are scheduled.
    static func plan(_ spec: NodeLogTreeSpec, root: String) -> [FilePlan] {
        let count = max(0, spec.containers)
        guard count > 0 else { return [] }
        var planner = PodPlanner(namespaces: Names.namespaces(spec.namespaces), rng: SplitMix64(seed: spec.seed, stream: 1))
        let containers = planner.plan(containers: count)
        var rng = SplitMix64(seed: spec.seed, stream: 2)

        // Exact quotas (not coin flips) so that small trees still get both formats and a restart.
        var order = Array(0..<count)
        rng.shuffle(&order)
        let criCount = Int((Double(count) * min(max(spec.criFraction, 0), 1)).rounded())
        var isCRI = [Bool](repeating: false, count: count)
        for i in order.prefix(criCount) { isCRI[i] = true }
        rng.shuffle(&order)
        let restartCount = Int((Double(count) * min(max(spec.restartRate, 0), 1)).rounded())
        var restarted = [Bool](repeating: false, count: count)
        for i in order.prefix(restartCount) { restarted[i] = true }

        let weights = containers.map { $0.container.volume * rng.logUniform(0.4, 2.5) }
        let totalWeight = weights.reduce(0, +)
        let span = Int64(max(1, spec.spanSeconds)) * 1_000_000_000
        var plans: [FilePlan] = []
        for (i, container) in containers.enumerated() {
            let style = ContainerStyle(profile: container.container.profile, domain: container.container.domain, rng: &rng)
            let budget = Double(max(0, spec.totalBytes)) * weights[i] / totalWeight
            let start = spec.startTime + Int64(rng.below(1_000_000_000)) % max(1, span / 100)
            let end = spec.startTime + span
            let podIP = "10.244.\(1 + container.podIndex / 250).\(2 + container.podIndex % 250)"
            var windows: [(budget: Double, start: Int64, end: Int64, crash: Bool)]
            if restarted[i] {
                let fraction = 0.25 + 0.4 * rng.unit()
                let crashAt = start + Int64(Double(end - start) * fraction)
                let restartDelay = min(Int64(rng.int(2...30)) * 1_000_000_000, (end - crashAt) / 10)
                windows = [
                    (budget * fraction, start, crashAt, true),
                    (budget * (1 - fraction), crashAt + restartDelay + 1, end, false),
                ]
            } else {
                windows = [(budget, start, end, false)]
            }
            let podDirectory = "\(container.namespace)_\(container.pod)_\(container.podUID)"
            for (restart, window) in windows.enumerated() {
                let id = Names.containerID(&rng)
                let relative = "\(podDirectory)/\(container.container.name)/\(restart).log"
                plans.append(
                    FilePlan(
                        index: plans.count, container: container, style: style, podIP: podIP, restart: restart,
                        containerID: id, format: isCRI[i] ? .cri : .docker, budget: Int(window.budget),
                        start: window.start, end: window.end, crashAtEnd: window.crash,
                        path: "\(root)/\(GeneratedTree.podsDirectory)/\(relative)",
                        symlinkPath: "\(root)/\(GeneratedTree.containersDirectory)/\(container.pod)_\(container.namespace)_\(container.container.name)-\(id).log",
                        symlinkTarget: "../pods/\(relative)"))
            }
        }
        return plans
    }
}

struct FilePlan: Sendable {
    var index: Int
    var container: PlannedContainer
    var style: ContainerStyle
    var podIP: String
    var restart: Int
    var containerID: String
    var format: LogFormat
    var budget: Int
    var start: Int64
    var end: Int64
    var crashAtEnd: Bool
    var path: String
    var symlinkPath: String
    var symlinkTarget: String
}

/// Results of the parallel file writers, in plan order.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<GeneratedFile, Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ result: Result<GeneratedFile, Error>) {
        lock.lock()
        slots[i] = result
        lock.unlock()
    }

    var all: [Result<GeneratedFile, Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}

/// Writes one file record by record until its byte budget is spent, and counts the records
/// the way an agent should see them (see `GeneratedFile`).
struct FileGenerator {
    let plan: FilePlan
    let spec: NodeLogTreeSpec
    private var rng: SplitMix64
    private var factory: MessageFactory
    private var writer: LogFileWriter
    /// The record being written, and a second buffer for a line of the other stream that
    /// lands in its middle.
    private var message = LineWriter(capacity: 1 << 17)
    private var aside = LineWriter(capacity: 4096)
    private var now: Int64

    private var stdoutRecords = 0
    private var stderrRecords = 0
    private var multilineRecords = 0
    private var partialRecords = 0
    private var malformedLines = 0
    private var corruptRecords = 0

    init(plan: FilePlan, spec: NodeLogTreeSpec, tracePool: [TraceContext]) throws {
        self.plan = plan
        self.spec = spec
        rng = SplitMix64(seed: spec.seed, stream: 1_000 + UInt64(plan.index))
        factory = MessageFactory(
            container: plan.container, style: plan.style, podIP: plan.podIP, tracePool: tracePool,
            rng: SplitMix64(seed: spec.seed, stream: 1_000_000 + UInt64(plan.index)))
        writer = try LogFileWriter(path: plan.path, format: plan.format)
        now = plan.start
    }

    mutating func run() throws -> GeneratedFile {
        let corrupt = max(0, spec.corruptLineRate)
        let traces = corrupt + max(0, spec.stackTraceRate)
        let long = traces + max(0, spec.longLineRate)
        repeat {
            let x = rng.unit()
            if x < corrupt {
                try corruptRecord()
            } else if x < traces {
                try traceRecord(crash: false)
            } else if x < long {
                try ordinaryRecord(long: true)
            } else {
                try ordinaryRecord(long: false)
            }
        } while writer.bytes < plan.budget
        if plan.crashAtEnd { try traceRecord(crash: true) }
        try writer.close()

        let c = plan.container
        return GeneratedFile(
            path: plan.path, symlinkPath: plan.symlinkPath, namespace: c.namespace, pod: c.pod, podUID: c.podUID,
            container: c.container.name, containerID: plan.containerID, restart: plan.restart, format: plan.format,
            workload: c.workload, workloadKind: c.kind, profile: c.container.profile.rawValue,
            lineCount: writer.lines, recordCount: stdoutRecords + stderrRecords + malformedLines,
            stdoutRecords: stdoutRecords, stderrRecords: stderrRecords, stdoutLines: writer.stdoutLines,
            stderrLines: writer.stderrLines, multilineRecords: multilineRecords, partialRecords: partialRecords,
            malformedLines: malformedLines, corruptRecords: corruptRecords, bytes: writer.bytes,
            firstTimestamp: writer.firstTime, lastTimestamp: writer.lastTime)
    }

    // MARK: - Time

    /// Time of the next record: advances with the bytes written, so each file covers its
    /// window, with a little jitter; strictly increasing.
    private mutating func recordTime() -> Int64 {
        let progress = min(1, Double(writer.bytes) / Double(max(1, plan.budget)))
        let target = plan.start + Int64(progress * Double(plan.end - plan.start)) + Int64(rng.below(250_000))
        now = max(now + Int64(rng.int(1...2_000)), target)
        return now
    }

    /// Time of the next line within a record (trace lines, partial parts): microseconds later.
    private mutating func lineTime() -> Int64 {
        now += Int64(rng.int(1_000...30_000))
        return now
    }

    private mutating func count(_ stream: LogStream) {
        if stream == .stdout { stdoutRecords += 1 } else { stderrRecords += 1 }
    }

    // MARK: - Records

    private mutating func ordinaryRecord(long: Bool) throws {
        let (style, stream): (Style, LogStream)
        var filler = 0
        if long {
            // Long lines come from the main log style (all of them can carry a payload).
            style = plan.style.primary
            stream = style.fixedStream ?? (rng.chance(plan.style.primaryStderr) ? .stderr : .stdout)
            filler = Envelope.maxLineSize + 200 + Int(rng.logUniform(1, Double(4 * Envelope.maxLineSize)))
        } else {
            (style, stream) = factory.pickStyleAndStream()
            if rng.chance(0.03) && style != .jvmGC && style != .gunicorn { filler = rng.int(800...4_000) }
        }
        message.removeAll()
        let time = recordTime()
        factory.write(style, time: time, filler: filler, into: &message)
        if message.count > Envelope.maxLineSize && message.count % Envelope.maxLineSize == 0 {
            // An exact multiple would end in an empty part with docker but not with CRI
            // runtimes; keep the two formats comparable.
            message.append(UInt8(ascii: " "))
        }
        try emit(stream: stream, time: time)
    }

    /// Writes `message` as one record, split into 16 KiB parts when longer.
    private mutating func emit(stream: LogStream, time: Int64) throws {
        let parts = Envelope.parts(count: message.count)
        guard parts.count > 1 else {
            try writer.line(message.bytes[...], stream: stream, time: time, partial: false)
            count(stream)
            return
        }
        let interleaveAfter = rng.chance(spec.crossStreamInterleaveRate) ? rng.below(parts.count - 1) : -1
        for (i, range) in parts.enumerated() {
            let last = i == parts.count - 1
            try writer.line(message.bytes[range], stream: stream, time: i == 0 ? time : lineTime(), partial: !last)
            if i == interleaveAfter { try asideRecord(stream: stream.other) }
        }
        count(stream)
        partialRecords += 1
    }

    /// A short ordinary record on `stream`, written while another record is in progress.
    private mutating func asideRecord(stream: LogStream) throws {
        let primary = plan.style.primary
        var style = primary
        if let fixed = primary.fixedStream, fixed != stream,
            let other = plan.style.secondary.first(where: { ($0.style.fixedStream ?? stream) == stream })
        {
            style = other.style
        }
        aside.removeAll()
        let time = lineTime()
        factory.write(style, time: time, into: &aside)
        try writer.line(aside.bytes[...], stream: stream, time: time, partial: false)
        count(stream)
    }

    private mutating func traceRecord(crash: Bool) throws {
        let time = recordTime()
        let (lines, stream) = factory.trace(time: time, crash: crash)
        let interleaveAfter = lines.count >= 3 && rng.chance(spec.crossStreamInterleaveRate)
            ? rng.int(1...lines.count - 2) : -1
        for (i, line) in lines.enumerated() {
            try writer.line(line[...], stream: stream, time: i == 0 ? time : lineTime(), partial: false)
            if i == interleaveAfter { try asideRecord(stream: stream.other) }
        }
        count(stream)
        multilineRecords += 1
    }

    /// Invalid UTF-8 sequences: stray bytes, truncated sequences, an encoded surrogate.
    private static let invalidUTF8: [[UInt8]] = [
        [0xFF], [0xC3, 0x28], [0x80], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xED, 0xA0, 0x80], [0xC0, 0xAF],
    ]

    private mutating func corruptRecord() throws {
        let primary = plan.style.primary
        let stream = primary.fixedStream ?? (rng.chance(plan.style.primaryStderr) ? .stderr : .stdout)
        let time = recordTime()
        message.removeAll()
        switch rng.below(3) {
        case 0:
            factory.write(primary, time: time, into: &message)
            try writer.malformedLine(message.bytes[...], stream: stream, time: time, cut: rng.unit())
            malformedLines += 1
            return
        case 1:
            // A JSON log line cut short by the application (buffer limit, crash mid-write).
            let json: Style = [.zap, .zerolog, .logstash, .pythonJSON].contains(primary) ? primary : .zap
            factory.write(json, time: time, into: &message)
            message.bytes.removeLast(message.count - rng.int(12...message.count - 2))
        default:
            factory.write(primary, time: time, into: &message)
            let at = rng.int(8...message.count - 1)
            message.bytes.insert(contentsOf: rng.pick(FileGenerator.invalidUTF8), at: at)
        }
        try writer.line(message.bytes[...], stream: stream, time: time, partial: false)
        count(stream)
        corruptRecords += 1
    }
}
