import Foundation
import StrataSampleData
import Testing

// Random topologies and the silent fault classes: what the generator promises the diagnosis
// evaluation (the faulty workload logs nothing new, its usual events vanish, the load and the
// background errors are as scenario.json says).

private func randomSpec(seed: UInt64, kind: IncidentFaultKind = .exceptions) -> IncidentScenarioSpec {
    var spec = IncidentScenarioSpec()
    spec.seed = seed
    spec.topology = .random(seed: seed)
    spec.faultWorkload = ""
    spec.faultKind = kind
    spec.requestsPerSecond = 2
    // Small, to keep the tests fast; the window outlasts the longest period of the
    // background errors (120 s, with jitter).
    spec.baselineSeconds = 300
    spec.faultSeconds = 150
    spec.recoverySeconds = 20
    return spec
}

private func generate(_ spec: IncidentScenarioSpec) throws -> GeneratedIncident {
    let directory = NSTemporaryDirectory() + "strata-random-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try IncidentScenarioGenerator.generate(spec, into: directory, collectRecords: true)
}

/// A line's template, roughly as a miner would see it: digits and hex runs masked.
private func shape(_ body: String) -> String {
    var text = body.replacingOccurrences(of: #"[0-9a-f]{8,}"#, with: "<hex>", options: .regularExpression)
    text = text.replacingOccurrences(of: #"[0-9]+"#, with: "<n>", options: .regularExpression)
    return text
}

private enum Range { case baseline, window }

private func records(_ incident: GeneratedIncident, _ range: Range) -> [ScenarioRecord] {
    let s = incident.scenario
    switch range {
    case .baseline: return incident.records.filter { $0.time >= s.baseline.fromNs && $0.time < s.baseline.toNs }
    case .window: return incident.records.filter { $0.time >= s.window.fromNs && $0.time < s.window.toNs }
    }
}

private func workload(of record: ScenarioRecord, in scenario: IncidentScenario) -> String? {
    scenario.workloads.first { $0.namespace == record.namespace && $0.pods.contains(record.pod) }?.name
}

@Test func sameSeedSameRandomScenario() throws {
    let first = try generate(randomSpec(seed: 11, kind: .swallowedException))
    let second = try generate(randomSpec(seed: 11, kind: .swallowedException))
    #expect(first.scenario == second.scenario)
    #expect(first.records == second.records)
    let other = try generate(randomSpec(seed: 12, kind: .swallowedException))
    #expect(other.scenario.workloads != first.scenario.workloads)
}

@Test func topologyVariesWithTheSeed() throws {
    var counts = Set<Int>()
    var names = Set<String>()
    var formats = Set<String>()
    var untraced = 0
    for seed in UInt64(1)...12 {
        let services = IncidentScenarioGenerator.randomTopologyServices(seed: seed)
        #expect(!services.isEmpty)
        var spec = randomSpec(seed: seed)
        spec.baselineSeconds = 60
        spec.faultSeconds = 30
        spec.recoverySeconds = 0
        let scenario = try generate(spec).scenario
        let serviceWorkloads = scenario.workloads.filter { $0.role == "service" }
        #expect((6...20).contains(serviceWorkloads.count), "seed \(seed): \(serviceWorkloads.count) services")
        #expect(scenario.workloads.filter { $0.role == "edge" }.count == 1)
        counts.insert(serviceWorkloads.count)
        for w in serviceWorkloads {
            names.insert(w.name)
            formats.insert(w.format)
            if !w.traced { untraced += 1 }
        }
        // The faulty workload is a service some request reaches, never the edge.
        #expect(services.contains(scenario.fault.workload))
        #expect(scenario.fault.workload != "ingress-nginx-controller")
        #expect(scenario.topologySeed == seed)
    }
    #expect(counts.count >= 4, "service counts \(counts.sorted())")
    #expect(names.count >= 80, "names repeat across seeds: \(names.count)")
    #expect(formats.count >= 5, "formats \(formats.sorted())")
    #expect(untraced > 0, "some services log no trace ids")
}

/// In the silent classes nobody logs a warning or error whose template was not already in the
/// baseline: not the faulty workload, not its callers, not the edge.
@Test(arguments: [IncidentFaultKind.swallowedException, .wrongReturn, .networkDelay, .cpuContention], [UInt64(21), 22, 23])
func silentFaultsLogNothingNew(kind: IncidentFaultKind, seed: UInt64) throws {
    let incident = try generate(randomSpec(seed: seed, kind: kind))
    let scenario = incident.scenario
    #expect(scenario.fault.type == kind)
    #expect(scenario.faults.first?.faultType == kind.rawValue)
    let loud: (ScenarioRecord) -> Bool = { $0.severity == "warn" || $0.severity == "error" || $0.severity == "fatal" }
    let before = Set(records(incident, .baseline).filter(loud).map { "\(workload(of: $0, in: scenario) ?? "?") \(shape($0.body))" })
    let new = records(incident, .window).filter(loud).map { "\(workload(of: $0, in: scenario) ?? "?") \(shape($0.body))" }
        .filter { !before.contains($0) }
    #expect(new.isEmpty, "\(kind.rawValue) seed \(seed): new warnings/errors \(Set(new).prefix(3))")
    #expect(scenario.requests.failedInWindow == 0 && scenario.requests.failedInBaseline == 0)
}

/// Lines the faulty workload writes per request entering the cluster, baseline and window.
private func faultyLinesPerRequest(_ incident: GeneratedIncident) -> (baseline: Double, window: Double) {
    let scenario = incident.scenario
    let pods = Set(scenario.fault.pods)
    func rate(_ range: Range, requests: Int) -> Double {
        Double(records(incident, range).filter { $0.namespace == scenario.fault.namespace && pods.contains($0.pod) }.count) / Double(max(1, requests))
    }
    return (rate(.baseline, requests: scenario.requests.baseline), rate(.window, requests: scenario.requests.window))
}

@Test(arguments: [UInt64(31), 32, 33, 34])
func swallowedExceptionsMakeUsualEventsVanish(seed: UInt64) throws {
    var spec = randomSpec(seed: seed, kind: .swallowedException)
    spec.faultIntensity = 0.8
    let incident = try generate(spec)
    let (baseline, window) = faultyLinesPerRequest(incident)
    #expect(baseline > 0)
    #expect(window < 0.9 * baseline, "seed \(seed): \(incident.scenario.fault.workload) wrote \(baseline) lines per request before, \(window) during")
}

@Test(arguments: [UInt64(41), 42, 43])
func wrongReturnsSkipTheLastSteps(seed: UInt64) throws {
    var spec = randomSpec(seed: seed, kind: .wrongReturn)
    spec.faultIntensity = 0.8
    let incident = try generate(spec)
    let (baseline, window) = faultyLinesPerRequest(incident)
    #expect(window < baseline, "seed \(seed): \(baseline) lines per request before, \(window) during")
}

@Test(arguments: [UInt64(51), 52])
func slowdownsStretchTheRequests(seed: UInt64) throws {
    // The edge's request time (after the user agent and the request length) grows with
    // either slowdown.
    func meanRequestSeconds(_ incident: GeneratedIncident, _ range: Range) -> Double {
        let times = records(incident, range).filter { $0.container == "controller" && $0.body.contains("HTTP/2.0") }
            .compactMap { r -> Double? in
                guard let match = r.body.range(of: #"" [0-9]+ [0-9.]+ \["#, options: .regularExpression) else { return nil }
                let fields = r.body[match].split(separator: " ")
                return fields.count == 4 ? Double(fields[2]) : nil
            }
        return times.reduce(0, +) / Double(max(1, times.count))
    }
    var delay = randomSpec(seed: seed, kind: .networkDelay)
    delay.faultIntensity = 1
    delay.networkDelayMs = 800
    let delayed = try generate(delay)
    #expect(delayed.scenario.faultParameters?.networkDelayMs == 800)
    // Not every request passes through the faulty service; those that do take 1.6 s longer.
    #expect(meanRequestSeconds(delayed, .window) > meanRequestSeconds(delayed, .baseline) + 0.1)

    var cpu = randomSpec(seed: seed, kind: .cpuContention)
    cpu.cpuSlowdown = 15
    let starved = try generate(cpu)
    #expect(starved.scenario.faultParameters?.cpuSlowdown == 15)
    #expect(meanRequestSeconds(starved, .window) > meanRequestSeconds(starved, .baseline))
}

@Test func windowLoadFactorHolds() throws {
    var calm = randomSpec(seed: 61, kind: .cpuContention)
    calm.windowLoadFactor = 1
    var busy = calm
    busy.windowLoadFactor = 3
    let a = try generate(calm).scenario
    let b = try generate(busy).scenario
    #expect(a.windowLoadFactor == 1 && b.windowLoadFactor == 3)
    // Same seed, same baseline; three times the window's requests (Poisson noise aside).
    #expect(a.requests.baseline == b.requests.baseline)
    let ratio = Double(b.requests.window) / Double(a.requests.window)
    #expect(ratio > 2.5 && ratio < 3.5, "window requests \(a.requests.window) then \(b.requests.window)")

    // Left to the seed, the factor lies in [1, 3] and varies.
    var factors = Set<Double>()
    for seed in UInt64(62)...66 {
        var spec = randomSpec(seed: seed)
        spec.baselineSeconds = 60
        spec.faultSeconds = 30
        let drawn = try #require(try generate(spec).scenario.windowLoadFactor)
        #expect(drawn >= 1 && drawn <= 3)
        factors.insert(drawn)
    }
    #expect(factors.count == 5)
}

@Test(arguments: [UInt64(71), 72, 73])
func backgroundErrorsAppearAllDay(seed: UInt64) throws {
    let incident = try generate(randomSpec(seed: seed, kind: .networkDelay))
    let noise = try #require(incident.scenario.backgroundNoise)
    #expect(!noise.isEmpty)
    #expect(noise.contains { $0.periodSeconds != nil })
    for source in noise {
        let prefix = String(source.message.prefix { $0 != "<" })
        func count(_ range: Range) -> Int {
            records(incident, range).filter {
                $0.namespace == source.namespace && workload(of: $0, in: incident.scenario) == source.workload
                    && $0.severity == source.level && $0.body.contains(prefix)
            }.count
        }
        // Periodic noise shows in both ranges whatever the traffic; per-request noise only
        // where enough requests pass (it rises with the load, like any per-request line).
        if source.periodSeconds != nil {
            #expect(count(.baseline) > 0 && count(.window) > 0, "seed \(seed): \(source.workload) '\(source.message)'")
        }
    }
}

@Test func loudClassesStillWorkOnRandomTopologies() throws {
    for kind in [IncidentFaultKind.exceptions, .latency, .crash] {
        var spec = randomSpec(seed: 81, kind: kind)
        spec.faultIntensity = 0.8
        let incident = try generate(spec)
        let s = incident.scenario
        #expect(s.requests.failedInWindow > 0, "\(kind.rawValue): no failed request in the window")
        #expect(s.requests.failedInBaseline == 0)
        if kind == .crash { #expect(!s.fault.restarts.isEmpty) }
    }
}

@Test func silentClassesNeedARandomTopology() {
    var spec = IncidentScenarioSpec()
    spec.faultKind = .wrongReturn
    spec.baselineSeconds = 60
    spec.faultSeconds = 30
    #expect(throws: IncidentScenarioError.self) {
        try IncidentScenarioGenerator.generate(spec, into: NSTemporaryDirectory() + "strata-random-\(UUID().uuidString)")
    }
    var named = randomSpec(seed: 5)
    named.faultWorkload = "no-such-service"
    #expect(throws: IncidentScenarioError.self) {
        try IncidentScenarioGenerator.generate(named, into: NSTemporaryDirectory() + "strata-random-\(UUID().uuidString)")
    }
}

/// CPU contention stretches the gaps between the faulty workload's own consecutive lines of
/// one request (checked on traced faulty services, where lines group by trace).
@Test func cpuContentionWidensTheGapsBetweenOwnLines() throws {
    var checked = 0
    for seed in UInt64(91)...99 where checked < 2 {
        var spec = randomSpec(seed: seed, kind: .cpuContention)
        spec.cpuSlowdown = 10
        let incident = try generate(spec)
        let scenario = incident.scenario
        guard scenario.workloads.first(where: { $0.name == scenario.fault.workload })?.traced == true else { continue }
        let pods = Set(scenario.fault.pods)
        func meanGap(_ range: Range) -> Double {
            var byTrace: [String: [Int64]] = [:]
            for r in records(incident, range) where pods.contains(r.pod) && r.namespace == scenario.fault.namespace {
                if let trace = r.traceID { byTrace[trace, default: []].append(r.time) }
            }
            var gaps: [Int64] = []
            for times in byTrace.values where times.count > 1 {
                let sorted = times.sorted()
                for i in 1..<sorted.count { gaps.append(sorted[i] - sorted[i - 1]) }
            }
            return Double(gaps.reduce(0, +)) / Double(max(1, gaps.count))
        }
        let before = meanGap(.baseline)
        let during = meanGap(.window)
        // Gaps that hold a downstream call do not stretch; the others grow tenfold.
        #expect(during > 2 * before, "seed \(seed): mean gap \(before / 1e6) ms before, \(during / 1e6) ms during")
        checked += 1
    }
    #expect(checked == 2, "no traced faulty service among seeds 91...99")
}
