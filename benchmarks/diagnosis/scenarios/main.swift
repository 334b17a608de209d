// Diagnosis accuracy on generated incidents: for each fault class and each seed, a random
// topology drawn from the seed, one injected fault, the diagnosis run in-process exactly as
// Tests/StrataDiagnosisTests/GeneratedIncidentTests.swift runs it, and the faulty workload's
// rank among the suspects. Prints AC@1, AC@3 and Avg@5 per class and overall, plus the mean
// diagnosis time. See README.md for which seeds are for development and which for evaluation.

import Foundation
import StrataCore
import StrataDiagnosis
import StrataSampleData
import StrataTestSupport

struct Options {
    var seeds: ClosedRange<UInt64> = 1...10
    var classes: [IncidentFaultKind] = IncidentFaultKind.allCases
    var jsonPath: String?
    var baselineSeconds = 1_080
    var windowSeconds = 210
    var rate = 2.0
    var verbose = false

    static let usage = """
        usage: DiagnosisScenarioBench [--seeds FIRST..LAST] [--classes all|a,b] [--json OUT]
                                      [--baseline SECONDS] [--window SECONDS] [--rate PER_SECOND] [--verbose]
          --seeds    seeds to generate, inclusive (default 1..10; 1..99 are for development)
          --classes  fault classes: all (default) or a comma-separated list of
                     \(IncidentFaultKind.allCases.map(\.rawValue).joined(separator: ", "))
          --json     also write every incident's result and the summary to this file
          --verbose  print one line per incident
        """

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw BenchError.usage("\(flag) needs a value") }
            return next
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--seeds":
                let text = try value(flag)
                let bounds = text.components(separatedBy: "..")
                if bounds.count == 2, let low = UInt64(bounds[0]), let high = UInt64(bounds[1]), low <= high {
                    options.seeds = low...high
                } else if bounds.count == 1, let single = UInt64(text) {
                    options.seeds = single...single
                } else {
                    throw BenchError.usage("--seeds expects FIRST..LAST (e.g. 1000..1099), found '\(text)'")
                }
            case "--classes":
                let text = try value(flag)
                if text == "all" {
                    options.classes = IncidentFaultKind.allCases
                } else {
                    options.classes = try text.split(separator: ",").map { name in
                        guard let kind = IncidentFaultKind(rawValue: String(name)) else {
                            throw BenchError.usage("unknown class '\(name)'; known: \(IncidentFaultKind.allCases.map(\.rawValue).joined(separator: ", "))")
                        }
                        return kind
                    }
                }
            case "--json": options.jsonPath = try value(flag)
            case "--baseline":
                guard let n = Int(try value(flag)), n > 0 else { throw BenchError.usage("--baseline expects seconds") }
                options.baselineSeconds = n
            case "--window":
                guard let n = Int(try value(flag)), n > 0 else { throw BenchError.usage("--window expects seconds") }
                options.windowSeconds = n
            case "--rate":
                guard let r = Double(try value(flag)), r > 0 else { throw BenchError.usage("--rate expects requests per second") }
                options.rate = r
            case "--verbose": options.verbose = true
            case "-h", "--help": throw BenchError.help
            default: throw BenchError.usage("unknown argument '\(flag)'")
            }
        }
        return options
    }
}

enum BenchError: Error {
    case usage(String)
    case help
}

struct IncidentResult: Encodable {
    var faultClass: String
    var seed: UInt64
    var workload: String
    var namespace: String
    var services: Int
    var records: Int
    /// 1-based rank of the faulty workload among the suspects; nil when not ranked at all.
    var rank: Int?
    var top: [String]
    var diagnosisSeconds: Double
    /// Score components of the first three suspects and of the faulty workload (`--verbose`).
    var components: [String] = []
}

struct Score: Encodable {
    var n = 0
    var ac1 = 0.0
    var ac3 = 0.0
    var avg5 = 0.0
    var meanDiagnosisSeconds = 0.0

    /// AC@k: share of incidents whose faulty workload is among the first k suspects; Avg@5:
    /// the mean of AC@1..AC@5.
    init(_ results: [IncidentResult]) {
        n = results.count
        guard n > 0 else { return }
        func ac(_ k: Int) -> Double { Double(results.filter { ($0.rank ?? Int.max) <= k }.count) / Double(n) }
        ac1 = ac(1)
        ac3 = ac(3)
        avg5 = (1...5).map(ac).reduce(0, +) / 5
        meanDiagnosisSeconds = results.map(\.diagnosisSeconds).reduce(0, +) / Double(n)
    }
}

func runIncident(kind: IncidentFaultKind, seed: UInt64, options: Options) throws -> IncidentResult {
    var spec = IncidentScenarioSpec()
    spec.seed = seed
    spec.topology = .random(seed: seed)
    spec.faultWorkload = ""  // drawn from the seed
    spec.faultKind = kind
    spec.requestsPerSecond = options.rate
    spec.baselineSeconds = options.baselineSeconds
    spec.faultSeconds = options.windowSeconds
    spec.recoverySeconds = 30
    let directory = NSTemporaryDirectory() + "strata-bench-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let incident = try IncidentScenarioGenerator.generate(spec, into: directory, collectRecords: true)
    let scenario = incident.scenario
    let records = incident.records.map(\.logRecord)
    let started = DispatchTime.now().uptimeNanoseconds
    let report = try Diagnoser(templater: DiagnosisTemplater.make()).diagnose(
        window: TimeRange(from: scenario.window.fromNs, to: scenario.window.toNs),
        baseline: TimeRange(from: scenario.baseline.fromNs, to: scenario.baseline.toNs),
        source: InMemoryRecordSource(records: records))
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    let fault = scenario.fault
    let position = report.suspects.firstIndex { $0.workload == fault.workload && $0.namespace == fault.namespace }
    return IncidentResult(
        faultClass: kind.rawValue, seed: seed, workload: fault.workload, namespace: fault.namespace,
        services: scenario.workloads.count - 1, records: incident.records.count, rank: position.map { $0 + 1 },
        top: report.suspects.prefix(5).map { "\($0.namespace)/\($0.workload)" }, diagnosisSeconds: seconds,
        components: (Array(report.suspects.prefix(3)) + report.suspects.dropFirst(3).filter { $0.workload == fault.workload })
            .map { suspect in
                let c = suspect.scoreComponents
                let parts: [(String, Double)] = [
                    ("errors", c.errors), ("warnings", c.warnings), ("templates", c.templates), ("signatures", c.signatures),
                    ("latency", c.latency), ("traces", c.traces), ("onset", c.onset), ("references", c.references),
                    ("flow", c.flow ?? 0),
                ]
                return "\(suspect.rank). \(suspect.workload) \(format(suspect.score)) = "
                    + parts.filter { $0.1 != 0 }.map { "\($0.0) \(format($0.1))" }.joined(separator: " + ")
            })
}

func format(_ x: Double) -> String { String(format: "%.2f", x) }

func main() -> Int32 {
    let options: Options
    do {
        options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
    } catch BenchError.help {
        print(Options.usage)
        return 0
    } catch BenchError.usage(let message) {
        FileHandle.standardError.write(Data("\(message)\n\(Options.usage)\n".utf8))
        return 2
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        return 2
    }
    var results: [IncidentResult] = []
    var failures = 0
    let wall = DispatchTime.now().uptimeNanoseconds
    for kind in options.classes {
        for seed in options.seeds {
            do {
                let result = try runIncident(kind: kind, seed: seed, options: options)
                results.append(result)
                if options.verbose {
                    print("\(kind.rawValue) seed \(seed): \(result.namespace)/\(result.workload) rank \(result.rank.map(String.init) ?? "-") of \(result.services) services; top \(result.top.prefix(3).joined(separator: ", "))")
                    for line in result.components { print("    " + line) }
                }
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("\(kind.rawValue) seed \(seed): \(error)\n".utf8))
            }
        }
    }
    var summary: [(String, Score)] = options.classes.map { kind in (kind.rawValue, Score(results.filter { $0.faultClass == kind.rawValue })) }
    let silent = Set(IncidentFaultKind.allCases.filter(\.isSilent).map(\.rawValue))
    if options.classes.contains(where: \.isSilent) && options.classes.contains(where: { !$0.isSilent }) {
        summary.append(("silent", Score(results.filter { silent.contains($0.faultClass) })))
        summary.append(("loud", Score(results.filter { !silent.contains($0.faultClass) })))
    }
    summary.append(("all", Score(results)))

    print("seeds \(options.seeds.lowerBound)..\(options.seeds.upperBound), baseline \(options.baselineSeconds) s, window \(options.windowSeconds) s, \(options.rate) requests/s")
    print("| class | n | AC@1 | AC@3 | Avg@5 | mean diagnosis s |")
    print("|---|---|---|---|---|---|")
    for (name, score) in summary {
        print("| \(name) | \(score.n) | \(format(score.ac1)) | \(format(score.ac3)) | \(format(score.avg5)) | \(String(format: "%.3f", score.meanDiagnosisSeconds)) |")
    }
    let wallSeconds = Double(DispatchTime.now().uptimeNanoseconds - wall) / 1e9
    print("\(results.count) incidents in \(String(format: "%.1f", wallSeconds)) s (generation included)\(failures > 0 ? ", \(failures) failed to generate or diagnose" : "")")

    if let path = options.jsonPath {
        struct Output: Encodable {
            var seeds: String
            var classes: [String]
            var summary: [String: Score]
            var incidents: [IncidentResult]
        }
        let output = Output(
            seeds: "\(options.seeds.lowerBound)..\(options.seeds.upperBound)", classes: options.classes.map(\.rawValue),
            summary: Dictionary(summary, uniquingKeysWith: { first, _ in first }), incidents: results)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(output).write(to: URL(fileURLWithPath: path))
        } catch {
            FileHandle.standardError.write(Data("could not write \(path): \(error)\n".utf8))
            return 1
        }
    }
    return failures > 0 ? 1 : 0
}

exit(main())
