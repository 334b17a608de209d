import Foundation

/// Writes an incident scenario: a node log tree (kubelet layout, CRI and docker json-file
/// files, one directory per pod and container, a new `<n>.log` per restart) holding a small
/// cluster's logs — an ingress, services in Go, Java and Python calling each other with
/// propagated trace ids, PostgreSQL and Redis behind them — over a healthy baseline, one
/// injected fault that cascades to the callers, and a short recovery. Deterministic: the same
/// spec gives the same bytes. The ground truth goes to `scenario.json` (and `labels.json`)
/// in the root.
public enum IncidentScenarioGenerator {
    public static let scenarioFile = "scenario.json"
    public static let labelsFile = "labels.json"

    /// Generates the scenario under `root`. With `collectRecords`, the result also holds every
    /// record as the pipeline would deliver it (for tests; it costs memory on large runs).
    public static func generate(_ spec: IncidentScenarioSpec, into root: String, collectRecords: Bool = false) throws -> GeneratedIncident {
        try validate(spec)
        let root = NodeLogTreeGenerator.absolute(root)
        let cluster: PlayedCluster
        let outcome: SimulationOutcome
        switch spec.topology {
        case .cascade:
            guard let faulty = ScenarioTopology.index(of: spec.faultWorkload) else {
                throw IncidentScenarioError.unknownWorkload(spec.faultWorkload, known: IncidentScenarioSpec.faultableWorkloads)
            }
            var simulator = ScenarioSimulator(spec: spec, pods: planPods(spec, workloads: ScenarioTopology.workloads), faulty: faulty)
            simulator.run()
            cluster = PlayedCluster(workloads: ScenarioTopology.workloads, faulty: faulty, upstream: ScenarioTopology.upstream(of: faulty))
            outcome = SimulationOutcome(
                pods: simulator.pods, events: simulator.events, baselineRequests: simulator.baselineRequests,
                windowRequests: simulator.windowRequests, baselineFailures: simulator.baselineFailures,
                windowFailures: simulator.windowFailures)
        case .random(let topologySeed):
            let random = RandomTopologyBuilder.build(seed: topologySeed)
            let faulty = try faultyService(spec, random)
            let magnitude = RandomScenarioSimulator.FaultMagnitude(spec: spec)
            var simulator = RandomScenarioSimulator(
                spec: spec, cluster: random, pods: planPods(spec, workloads: random.workloads), faulty: faulty, parameters: magnitude)
            outcome = simulator.run()
            cluster = PlayedCluster(workloads: random.workloads, faulty: faulty, upstream: random.upstream(of: faulty), random: random,
                                    topologySeed: topologySeed, magnitude: magnitude)
        }
        let faulty = cluster.faulty
        var pods = outcome.pods
        var idRng = SplitMix64(seed: spec.seed, stream: 7_003)
        for i in pods.indices {
            pods[i].containerIDs = (0...pods[i].restarts.count).map { _ in Names.containerID(&idRng) }
        }

        // Records per file, in time order.
        var perFile: [[[ScenarioEvent]]] = pods.map { Array(repeating: [], count: $0.restarts.count + 1) }
        for event in outcome.events {
            guard let restart = pods[event.pod].restart(at: event.time) else { continue }
            perFile[event.pod][restart].append(event)
        }

        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/" + GeneratedTree.containersDirectory, withIntermediateDirectories: true)
        var files: [GeneratedFile] = []
        var records: [ScenarioRecord] = []
        let workloads = cluster.workloads
        for (podIndex, pod) in pods.enumerated() {
            let w = workloads[pod.workload]
            let podDirectory = "\(w.namespace)_\(pod.name)_\(pod.uid)"
            for restart in 0...pod.restarts.count {
                let id = pod.containerIDs[restart]
                let relative = "\(podDirectory)/\(w.container)/\(restart).log"
                let path = "\(root)/\(GeneratedTree.podsDirectory)/\(relative)"
                let symlink = "\(root)/\(GeneratedTree.containersDirectory)/\(pod.name)_\(w.namespace)_\(w.container)-\(id).log"
                try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                var writer = try LogFileWriter(path: path, format: pod.format)
                var stdoutRecords = 0
                var stderrRecords = 0
                var multiline = 0
                var last = Int64.min
                let events = perFile[podIndex][restart].sorted { ($0.time, $0.sequence) < ($1.time, $1.sequence) }
                for event in events {
                    // The runtime stamps lines in the order they arrive; a record's further
                    // lines a few microseconds after its first.
                    let first = max(event.time, last + 1_000)
                    var time = first
                    for line in event.lines {
                        try writer.line(Array(line.utf8)[...], stream: event.stream, time: time, partial: false)
                        last = time
                        time += Int64(1_000 + (line.utf8.count % 7) * 1_000)
                    }
                    if event.stream == .stdout { stdoutRecords += 1 } else { stderrRecords += 1 }
                    if event.lines.count > 1 { multiline += 1 }
                    if collectRecords {
                        records.append(ScenarioRecord(
                            time: first, namespace: w.namespace, pod: pod.name, container: w.container, restart: restart,
                            stream: event.stream == .stdout ? "stdout" : "stderr", body: event.lines.joined(separator: "\n"),
                            severity: event.severity, traceID: event.trace?.trace, spanID: event.trace?.span))
                    }
                }
                try writer.close()
                if (try? fm.destinationOfSymbolicLink(atPath: symlink)) != nil || fm.fileExists(atPath: symlink) {
                    try fm.removeItem(atPath: symlink)
                }
                try fm.createSymbolicLink(atPath: symlink, withDestinationPath: "../pods/\(relative)")
                files.append(GeneratedFile(
                    path: path, symlinkPath: symlink, namespace: w.namespace, pod: pod.name, podUID: pod.uid, container: w.container,
                    containerID: id, restart: restart, format: pod.format, workload: w.name, workloadKind: w.kind,
                    profile: w.format.rawValue, lineCount: writer.lines, recordCount: stdoutRecords + stderrRecords,
                    stdoutRecords: stdoutRecords, stderrRecords: stderrRecords, stdoutLines: writer.stdoutLines,
                    stderrLines: writer.stderrLines, multilineRecords: multiline, partialRecords: 0, malformedLines: 0,
                    corruptRecords: 0, bytes: writer.bytes, firstTimestamp: writer.firstTime, lastTimestamp: writer.lastTime))
            }
        }
        files.sort { ($0.namespace, $0.pod, $0.container, $0.restart) < ($1.namespace, $1.pod, $1.container, $1.restart) }
        records.sort { ($0.time, $0.pod) < ($1.time, $1.pod) }
        let tree = GeneratedTree(root: root, nodeName: spec.nodeName, files: files)
        let scenario = groundTruth(spec, cluster: cluster, pods: pods, outcome: outcome, tree: tree)

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(scenario).write(to: URL(fileURLWithPath: root + "/" + scenarioFile), options: .atomic)
        struct Labels: Encodable {
            var source: String
            var faults: [IncidentScenario.Label]
        }
        let source: String
        switch spec.topology {
        case .cascade: source = "strata generate --scenario cascade (seed \(spec.seed))"
        case .random(let topologySeed): source = "strata generate --scenario random (topology seed \(topologySeed), seed \(spec.seed))"
        }
        try encoder.encode(Labels(source: source, faults: scenario.faults))
            .write(to: URL(fileURLWithPath: root + "/" + labelsFile), options: .atomic)
        return GeneratedIncident(tree: tree, scenario: scenario, records: records)
    }

    static func validate(_ spec: IncidentScenarioSpec) throws {
        guard spec.baselineSeconds > 0, spec.faultSeconds > 0, spec.recoverySeconds >= 0 else {
            throw IncidentScenarioError.invalid("the baseline and the fault must last at least a second, and the recovery cannot be negative")
        }
        guard spec.requestsPerSecond > 0, spec.requestsPerSecond <= 10_000 else {
            throw IncidentScenarioError.invalid("requests per second must be above 0 and at most 10000, found \(spec.requestsPerSecond)")
        }
        guard spec.faultIntensity > 0, spec.faultIntensity <= 1 else {
            throw IncidentScenarioError.invalid("the fault intensity is a share of requests, above 0 and at most 1; found \(spec.faultIntensity)")
        }
        if let factor = spec.windowLoadFactor, !(factor >= 1 && factor <= 3) {
            throw IncidentScenarioError.invalid("the window's load factor is between 1 and 3, found \(factor)")
        }
        if let delay = spec.networkDelayMs, !(1...60_000).contains(delay) {
            throw IncidentScenarioError.invalid("the network delay is between 1 and 60000 ms, found \(delay)")
        }
        if let slowdown = spec.cpuSlowdown, !(slowdown >= 1 && slowdown <= 100) {
            throw IncidentScenarioError.invalid("the CPU slowdown is between 1 and 100, found \(slowdown)")
        }
        guard case .cascade = spec.topology else { return }
        guard spec.faultKind.playsOnCascade else {
            throw IncidentScenarioError.invalid(
                "the \(spec.faultKind.rawValue) fault needs a random topology (--topology-seed), whose requests walk fixed event sequences")
        }
        guard let index = ScenarioTopology.index(of: spec.faultWorkload), ScenarioTopology.workloads[index].faultable else {
            throw IncidentScenarioError.unknownWorkload(spec.faultWorkload, known: IncidentScenarioSpec.faultableWorkloads)
        }
    }

    /// The faulty service of a random topology: the one the spec names, or one drawn from
    /// the seed among the services some request passes through. A wrong return value only
    /// shows through a caller's branch, so that fault prefers services that services call.
    static func faultyService(_ spec: IncidentScenarioSpec, _ cluster: RandomCluster) throws -> Int {
        let reachable = cluster.reachableServices
        if !spec.faultWorkload.isEmpty && spec.faultWorkload != IncidentScenarioSpec.defaultFaultWorkload {
            guard let index = cluster.workloads.firstIndex(where: { $0.name == spec.faultWorkload }), reachable.contains(index) else {
                throw IncidentScenarioError.unknownWorkload(spec.faultWorkload, known: reachable.map { cluster.workloads[$0].name })
            }
            return index
        }
        var candidates = reachable
        if spec.faultKind == .wrongReturn {
            let called = reachable.filter { !cluster.serviceCallers(of: $0).isEmpty }
            if !called.isEmpty { candidates = called }
        }
        guard !candidates.isEmpty else { throw IncidentScenarioError.invalid("the random topology has no service behind its ingress") }
        // The class takes part in the draw, so one seed range exercises different services
        // for different classes.
        let kindIndex = UInt64(IncidentFaultKind.allCases.firstIndex(of: spec.faultKind) ?? 0)
        var rng = SplitMix64(seed: spec.seed, stream: 8_200 + kindIndex)
        return candidates[rng.below(candidates.count)]
    }

    /// Names the random topology's services (for `strata generate` and the bench).
    public static func randomTopologyServices(seed: UInt64) -> [String] {
        let cluster = RandomTopologyBuilder.build(seed: seed)
        return cluster.reachableServices.map { cluster.workloads[$0].name }
    }

    /// The cluster a scenario was played in, as the generator needs it to write the tree.
    struct PlayedCluster {
        var workloads: [ScenarioWorkload]
        var faulty: Int
        var upstream: [Int]
        var random: RandomCluster? = nil
        var topologySeed: UInt64? = nil
        var magnitude: RandomScenarioSimulator.FaultMagnitude? = nil
    }

    /// Pod names as their controllers make them, UIDs, addresses, and the runtime of each pod's
    /// node (both CRI and docker json-file appear).
    static func planPods(_ spec: IncidentScenarioSpec, workloads: [ScenarioWorkload]) -> [ScenarioPod] {
        var rng = SplitMix64(seed: spec.seed, stream: 7_000)
        var pods: [ScenarioPod] = []
        for (index, w) in workloads.enumerated() {
            let hash = Names.safeString(rng.int(9...10), &rng)
            for replica in 0..<w.replicas {
                let name: String
                switch w.kind {
                case .deployment: name = "\(w.name)-\(hash)-\(Names.safeString(5, &rng))"
                case .statefulSet: name = "\(w.name)-\(replica)"
                case .daemonSet: name = "\(w.name)-\(Names.safeString(5, &rng))"
                }
                pods.append(ScenarioPod(
                    workload: index, name: name, uid: Names.uuid(&rng), ip: "10.244.\(rng.int(0...3)).\(rng.int(2...250))",
                    format: rng.chance(0.5) ? .cri : .docker))
            }
        }
        if Set(pods.map(\.format)).count == 1 { pods[0].format = pods[0].format == .cri ? .docker : .cri }
        return pods
    }

    static func describe(_ workloads: [ScenarioWorkload], pods: [ScenarioPod]) -> [IncidentScenario.Workload] {
        return workloads.enumerated().map { index, workload in
            IncidentScenario.Workload(
                namespace: workload.namespace, name: workload.name,
                kind: workload.kind == .statefulSet ? "statefulset" : workload.kind == .daemonSet ? "daemonset" : "deployment",
                role: workload.role.rawValue, pods: pods.filter { $0.workload == index }.map(\.name), container: workload.container, format: workload.format.rawValue,
                traced: workload.traced,
                calls: workload.calls.compactMap { name in workloads.firstIndex { $0.name == name }.map { "\(workloads[$0].namespace)/\(name)" } })
        }
    }

    static func groundTruth(
        _ spec: IncidentScenarioSpec, cluster: PlayedCluster, pods: [ScenarioPod], outcome simulator: SimulationOutcome, tree: GeneratedTree
    ) -> IncidentScenario {
        let workloads = cluster.workloads
        let faulty = cluster.faulty
        let w = workloads[faulty]
        let faultPods = pods.filter { $0.workload == faulty }
        var restarts: [IncidentScenario.Restart] = []
        for pod in faultPods {
            for (i, r) in pod.restarts.enumerated() {
                restarts.append(.init(pod: pod.name, container: w.container, restart: i + 1, time: Stamp.rfc3339(r.start)))
            }
        }
        let description: String
        switch (spec.faultKind, w.format) {
        case (.exceptions, .postgres): description = "\(w.name): the data disk is full; every write fails with an ERROR (No space left on device) and its callers fail"
        case (.exceptions, .redis): description = "\(w.name): background saves fail (No space left on device) and Redis refuses every write (MISCONF); its callers fail"
        case (.latency, .postgres): description = "\(w.name): statements slow down by seconds; some hit statement_timeout and its callers time out"
        case (.networkDelay, _): description = "\(w.name) \(spec.faultKind.summary) (+\(cluster.magnitude?.networkDelayMs ?? 0) ms per hand-off)"
        case (.cpuContention, _): description = "\(w.name) \(spec.faultKind.summary) (\(Int(cluster.magnitude?.cpuSlowdown ?? 1))x)"
        default: description = "\(w.name) \(spec.faultKind.summary)"
        }
        let baseline = IncidentScenario.Span(from: spec.startTime, to: spec.faultStart)
        let window = IncidentScenario.Span(from: spec.faultStart, to: spec.faultEnd)
        let first = tree.files.map(\.firstTimestamp).filter { $0 > 0 }.min() ?? spec.startTime
        let last = tree.files.map(\.lastTimestamp).max() ?? spec.endTime
        let fault = IncidentScenario.Fault(
            namespace: w.namespace, workload: w.name, workloadKind: w.kind == .statefulSet ? "statefulset" : w.kind == .daemonSet ? "daemonset" : "deployment",
            type: spec.faultKind, description: description, start: window.from, end: window.to, startNs: spec.faultStart,
            endNs: spec.faultEnd, pods: faultPods.map(\.name), restarts: restarts,
            propagatesTo: cluster.upstream.map { workloads[$0].name })
        let described = describe(workloads, pods: pods)
        let label = IncidentScenario.Label(
            injectTime: window.from, injectPod: faultPods.first?.name ?? w.name, workload: w.name, namespace: w.namespace,
            faultType: spec.faultKind.rawValue, window: [window.from, window.to], baseline: [baseline.from, baseline.to])
        return IncidentScenario(
            seed: spec.seed, node: spec.nodeName, requestsPerSecond: spec.requestsPerSecond,
            range: .init(from: first, to: last), baseline: baseline, window: window, fault: fault, workloads: described,
            requests: .init(
                baseline: simulator.baselineRequests, window: simulator.windowRequests,
                failedInBaseline: simulator.baselineFailures, failedInWindow: simulator.windowFailures),
            records: tree.totalRecords, faults: [label],
            topologySeed: cluster.topologySeed, windowLoadFactor: cluster.magnitude?.loadFactor,
            faultParameters: cluster.magnitude.map { magnitude in
                IncidentScenario.FaultParameters(
                    intensity: spec.faultKind == .crash || spec.faultKind == .cpuContention ? 1 : spec.faultIntensity,
                    networkDelayMs: spec.faultKind == .networkDelay ? magnitude.networkDelayMs : nil,
                    cpuSlowdown: spec.faultKind == .cpuContention ? magnitude.cpuSlowdown : nil)
            },
            backgroundNoise: cluster.random.map { random in
                random.backgroundNoise.map { noise in
                    let w = random.workloads[noise.service]
                    let text = noise.template.parts.map { part -> String in
                        if case .text(let s) = part { return s }
                        return "<*>"
                    }.joined()
                    return IncidentScenario.Noise(
                        namespace: w.namespace, workload: w.name, level: noise.template.level, message: text,
                        periodSeconds: noise.periodSeconds, requestShare: noise.requestShare > 0 ? noise.requestShare : nil)
                }
            })
    }
}
