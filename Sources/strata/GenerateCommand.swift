import ArgumentParser
import Foundation
import StrataAgent
import StrataConfiguration
import StrataCore
import StrataSampleData

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a realistic node log tree (kubelet layout, CRI and docker files) for demos and benchmarks.",
        discussion: """
            Creates <out>/var/log/pods/... and the /var/log/containers symlinks, with stack traces,
            16 KiB partial lines and mixed application formats. Deterministic for a given --seed.
            Prints a JSON summary with the exact number of records each file should produce.

            --scenario cascade writes a small cluster instead: an ingress, services in Go, Java and
            Python calling each other with propagated trace ids, PostgreSQL and Redis, over a healthy
            baseline, then one injected fault (--fault-workload, --fault-type) that cascades to the
            callers, then a short recovery. The ground truth goes to <out>/scenario.json (and
            labels.json); standard error shows the fault window and the baseline as
            `strata diagnose` arguments, and the JSON summary has them as windowFrom, windowTo,
            baselineFrom and baselineTo. Fault types: exceptions, crash, latency. Workloads:
            \(IncidentScenarioSpec.faultableWorkloads.joined(separator: ", ")).

            --scenario random plays the same story in a cluster drawn from --topology-seed (default
            --seed): 6-20 services with random names, formats and call graph. It also knows the
            silent fault types, where the faulty workload logs nothing new: swallowed_exception,
            wrong_return, network_delay, cpu_contention. Without --fault-workload the faulty
            service is drawn from --seed. Some services log errors all day, unrelated to the fault,
            and the window's load is 1-3x the baseline's (--window-load, default from --seed).

            Examples:
              strata generate --out /tmp/node --containers 50 --size 200MB
              strata generate --scenario cascade --out /tmp/shop --fault-workload payments --fault-type exceptions
              strata generate --scenario random --seed 7 --out /tmp/random --fault-type swallowed_exception
            """)

    @Option(name: .long, help: "Root directory of the tree.")
    var out: String

    @Option(name: .long, help: "Generate a scenario instead of a node tree: cascade (one fault in a small cluster) or random (a cluster drawn from a seed), see below.")
    var scenario: ScenarioChoice?

    @Option(name: .long, help: "Containers to create (default 10; not with --scenario).")
    var containers: Int?

    @Option(name: .long, help: "Namespaces to spread them over (default 3; not with --scenario).")
    var namespaces: Int?

    @Option(name: .long, help: "Approximate total size, e.g. 50MB, 1GiB (default 50MB; not with --scenario).")
    var size: String?

    @Option(name: .long, help: "Seed of the generator.")
    var seed: UInt64 = 42

    @Option(name: .long, help: "Fraction of lines that are corrupt (truncated envelopes, invalid UTF-8; not with --scenario).")
    var corruptRate: Double?

    @Option(name: .long, help: "Time of the first line (RFC 3339). Default: so that the lines end about now.")
    var start: String?

    @Option(name: .long, help: "Write the JSON summary to this file instead of standard output.")
    var summary: String?

    @Option(name: .long, help: "Scenario: the workload at fault (default payments; with --scenario random, drawn from --seed).")
    var faultWorkload: String?

    @Option(name: .long, help: "Scenario: exceptions, crash, latency; random only: swallowed_exception, wrong_return, network_delay, cpu_contention.")
    var faultType: IncidentFaultKind = .exceptions

    @Option(name: .long, help: "Scenario: share of the faulty workload's requests that fail (exceptions) or are slow (latency).")
    var faultIntensity = 0.6

    @Option(name: .long, help: "Scenario: length of the healthy baseline before the fault, e.g. 1h.")
    var baseline = "1h"

    @Option(name: .long, help: "Scenario: how long the fault lasts, e.g. 10m.")
    var faultDuration = "10m"

    @Option(name: .long, help: "Scenario: healthy time after the fault, e.g. 2m.")
    var recovery = "2m"

    @Option(name: .long, help: "Scenario: requests entering the cluster per second.")
    var rate = 3.0

    @Option(name: .long, help: "Random scenario: seed of the topology (default: --seed).")
    var topologySeed: UInt64?

    @Option(name: .long, help: "Scenario: the window's request rate over the baseline's, 1 to 3 (default 1 for cascade, from --seed for random).")
    var windowLoad: Double?

    @Option(name: .long, help: "Random scenario, network_delay: milliseconds added per hand-off (default from --seed, 200-2000).")
    var networkDelayMs: Int?

    @Option(name: .long, help: "Random scenario, cpu_contention: how many times slower each step is (default from --seed, 3-20).")
    var cpuSlowdown: Double?

    func run() async throws {
        if let scenario {
            guard scenario == .random || (topologySeed == nil && networkDelayMs == nil && cpuSlowdown == nil) else {
                throw ValidationError("--topology-seed, --network-delay-ms and --cpu-slowdown go with --scenario random")
            }
            guard containers == nil, namespaces == nil, size == nil, corruptRate == nil else {
                throw ValidationError("--containers, --namespaces, --size and --corrupt-rate shape the node tree; --scenario cascade has its own cluster (use --rate and the durations)")
            }
            try generateScenario(random: scenario == .random)
            return
        }
        let size = self.size ?? "50MB"
        guard let bytes = ByteSize.parse(size) else {
            throw ValidationError("--size expects a size like 50MB or 1GiB, found '\(size)'")
        }
        let containers = self.containers ?? 10
        let namespaces = self.namespaces ?? 3
        guard containers > 0, namespaces > 0 else { throw ValidationError("--containers and --namespaces must be positive") }
        var spec = NodeLogTreeSpec()
        spec.containers = containers
        spec.namespaces = namespaces
        spec.totalBytes = bytes
        spec.seed = seed
        spec.corruptLineRate = corruptRate ?? 0
        if let start {
            spec.startTime = try Self.parseStart(start)
        } else {
            let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
            spec.startTime = now - Int64(spec.spanSeconds) * 1_000_000_000
        }
        let tree = try NodeLogTreeGenerator.generate(spec, into: out)
        let json = try Self.encode(Summary(tree: tree))
        if let summary {
            try json.write(to: URL(fileURLWithPath: summary))
            FileHandle.standardError.write(
                Data("wrote \(tree.files.count) files, \(tree.totalBytes) bytes, \(tree.totalLines) lines, \(tree.totalRecords) records under \(out)\n".utf8))
        } else {
            FileHandle.standardOutput.write(json)
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
    }

    private func generateScenario(random: Bool) throws {
        var spec = IncidentScenarioSpec()
        spec.seed = seed
        if random { spec.topology = .random(seed: topologySeed ?? seed) }
        // Empty means "drawn from the seed" for a random topology.
        spec.faultWorkload = faultWorkload ?? (random ? "" : IncidentScenarioSpec.defaultFaultWorkload)
        spec.windowLoadFactor = windowLoad
        spec.networkDelayMs = networkDelayMs
        spec.cpuSlowdown = cpuSlowdown
        spec.faultKind = faultType
        spec.faultIntensity = faultIntensity
        spec.requestsPerSecond = rate
        spec.baselineSeconds = try Self.seconds(baseline, option: "--baseline")
        spec.faultSeconds = try Self.seconds(faultDuration, option: "--fault-duration")
        spec.recoverySeconds = try Self.seconds(recovery, option: "--recovery", allowZero: true)
        if let start {
            spec.startTime = try Self.parseStart(start)
        } else {
            // End about now: the collector refuses records older than its retention.
            let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
            spec.startTime = now - Int64(spec.totalSeconds) * 1_000_000_000
        }
        let incident: GeneratedIncident
        do {
            incident = try IncidentScenarioGenerator.generate(spec, into: out)
        } catch let error as IncidentScenarioError {
            throw ValidationError(error.description)
        }
        let s = incident.scenario
        let tree = incident.tree
        let diagnose = "--from \(s.window.from) --to \(s.window.to) --baseline-from \(s.baseline.from) --baseline-to \(s.baseline.to)"
        let text = """
            scenario \(random ? "random" : "cascade") (seed \(spec.seed)\(s.topologySeed.map { ", topology seed \($0)" } ?? "")): \(s.workloads.count) workloads, \(tree.files.count) files, \(tree.totalRecords) records, \(tree.totalBytes) bytes under \(out)
              baseline  \(s.baseline.from) .. \(s.baseline.to)  healthy, \(s.requests.baseline) requests, \(s.requests.failedInBaseline) failed
              fault     \(s.window.from) .. \(s.window.to)  \(s.fault.namespace)/\(s.fault.workload): \(s.fault.description)
                        \(s.requests.window) requests, \(s.requests.failedInWindow) failed\(s.fault.restarts.isEmpty ? "" : ", \(s.fault.restarts.count) container restart(s)")
              ground truth: \(tree.root)/\(IncidentScenarioGenerator.scenarioFile)
              diagnose: strata diagnose \(diagnose)

            """
        FileHandle.standardError.write(Data(text.utf8))
        let json = try Self.encode(ScenarioSummary(tree: tree, scenario: s))
        if let summary {
            try json.write(to: URL(fileURLWithPath: summary))
        } else {
            FileHandle.standardOutput.write(json)
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
    }

    static func parseStart(_ text: String) throws -> Int64 {
        guard let nanos = RFC3339Parser.parse(text) else { throw ValidationError("--start expects an RFC 3339 time, found '\(text)'") }
        return nanos
    }

    static let maxScenarioSeconds = 365 * 86_400

    static func seconds(_ text: String, option: String, allowZero: Bool = false) throws -> Int {
        guard let duration = DurationText.parse(text) else {
            throw ValidationError("\(option) expects a duration like 90s, 10m or 1h, found '\(text)'")
        }
        let seconds = Int(duration.components.seconds)
        guard seconds > 0 || (allowZero && seconds == 0) else {
            throw ValidationError("\(option) must be at least one second, found '\(text)'")
        }
        // A scenario is simulated request by request; a year is already more than any run
        // wants, and the bound keeps the start time (now minus the spans) on the time scale.
        guard seconds <= maxScenarioSeconds else {
            throw ValidationError("\(option) must be at most 365d, found '\(text)'")
        }
        return seconds
    }

    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }

    /// A scenario's tree with its totals, the ground truth, and the diagnosis ranges as flat
    /// keys a shell script can pick out with grep.
    struct ScenarioSummary: Encodable {
        var root: String
        var nodeName: String
        var totalBytes: Int
        var totalLines: Int
        var totalRecords: Int
        var windowFrom: String
        var windowTo: String
        var baselineFrom: String
        var baselineTo: String
        var faultNamespace: String
        var faultWorkload: String
        var faultType: String
        var scenario: IncidentScenario
        var files: [GeneratedFile]

        init(tree: GeneratedTree, scenario: IncidentScenario) {
            root = tree.root
            nodeName = tree.nodeName
            totalBytes = tree.totalBytes
            totalLines = tree.totalLines
            totalRecords = tree.totalRecords
            windowFrom = scenario.window.from
            windowTo = scenario.window.to
            baselineFrom = scenario.baseline.from
            baselineTo = scenario.baseline.to
            faultNamespace = scenario.fault.namespace
            faultWorkload = scenario.fault.workload
            faultType = scenario.fault.type.rawValue
            self.scenario = scenario
            files = tree.files
        }
    }

    /// The tree with its totals spelled out (they are computed properties of `GeneratedTree`).
    struct Summary: Encodable {
        var root: String
        var nodeName: String
        var totalBytes: Int
        var totalLines: Int
        var totalRecords: Int
        var files: [GeneratedFile]

        init(tree: GeneratedTree) {
            root = tree.root
            nodeName = tree.nodeName
            totalBytes = tree.totalBytes
            totalLines = tree.totalLines
            totalRecords = tree.totalRecords
            files = tree.files
        }
    }
}
