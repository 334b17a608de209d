/// A cluster drawn from a seed, so that a diagnosis can be evaluated on topologies, names,
/// log formats and message templates it has never seen: an nginx ingress in front of 6-20
/// services with pronounceable random names, a call DAG between them, and per service a few
/// operations, each a fixed ordered sequence of events. Because every request type always
/// walks the same steps in the same order, "which usual event is missing from this request"
/// (swallowed exceptions, wrong return values) is a well-posed question for the diagnosis.
struct RandomCluster: Sendable {
    /// Index 0 is the edge (the ingress controller); the services follow, callers before
    /// callees (every call goes from a lower index to a higher one, so the graph is a DAG).
    var workloads: [ScenarioWorkload]
    /// The program of each workload, by the same index (the edge's is empty).
    var programs: [ServiceProgram]
    /// Request types entering at the edge: the operation of a front-line service they reach.
    var entries: [Entry]
    /// Errors and warnings unrelated to any fault, logged all day (baseline and window alike).
    var backgroundNoise: [BackgroundNoise]

    struct Entry: Sendable {
        var service: Int
        var operation: Int
        /// Relative share of the traffic.
        var weight: Double
    }

    static let edge = 0

    /// Workloads some request passes through, the edge excepted: where a fault can be injected.
    var reachableServices: [Int] {
        var reached = Set<Int>()
        var stack = entries.map { ($0.service, $0.operation) }
        var seen = Set<[Int]>()
        while let (service, operation) = stack.popLast() {
            guard seen.insert([service, operation]).inserted else { continue }
            reached.insert(service)
            for case .call(let call) in programs[service].operations[operation].steps {
                stack.append((call.callee, call.operation))
            }
        }
        return reached.sorted()
    }

    /// Services calling `service` in some reachable operation (the edge is not a service).
    func serviceCallers(of service: Int) -> [Int] {
        let reachable = Set(reachableServices)
        return programs.indices.filter { caller in
            caller != Self.edge && reachable.contains(caller)
                && programs[caller].operations.contains { $0.steps.contains { if case .call(let c) = $0 { c.callee == service } else { false } } }
        }
    }

    /// Workloads whose requests pass through `workload` (its callers, their callers...),
    /// nearest first, the edge last.
    func upstream(of workload: Int) -> [Int] {
        var result: [Int] = []
        var frontier = [workload]
        while !frontier.isEmpty {
            var next: [Int] = []
            for target in frontier {
                let name = workloads[target].name
                for (i, w) in workloads.enumerated() where w.calls.contains(name) && !result.contains(i) {
                    result.append(i)
                    next.append(i)
                }
            }
            frontier = next
        }
        return result
    }
}

/// What a service does for each of its operations.
struct ServiceProgram: Sendable {
    var operations: [ServiceOperation] = []
    /// Where the service's log lines say they come from: Java's `Class#line`, Go's
    /// `file.go:line`, Python's logger and `file.py:line`.
    var sourceRoot = ""
    /// The line a service logs when it finished a request (method, path, status, duration), or
    /// nil when it logs none (many don't).
    var logsCompletion = true
    /// The periodic info line every service logs (cache stats, a refreshed index...).
    var housekeeping: EventTemplate?
    var housekeepingSeconds = 300.0
}

/// One endpoint of a service: its events and calls in a fixed order.
struct ServiceOperation: Sendable {
    var method: String
    var path: String
    var steps: [OperationStep]
}

enum OperationStep: Sendable {
    /// Work for `work` milliseconds, then log `template`.
    case event(EventTemplate)
    case call(OutgoingCall)
}

struct OutgoingCall: Sendable {
    var callee: Int
    var operation: Int
    /// The caller gives up after this long; long enough that added network delay or a slow
    /// CPU rarely reaches it, so those faults stay silent.
    var timeoutMs: Int64
    /// What the caller logs (info) when the callee answers with nothing (an empty list, a
    /// null field); it then skips the rest of its own work for the request. Happens at a low
    /// rate in any healthy day.
    var onEmpty: EventTemplate
}

/// A message template: constant text with variable parts, at a level, from a source location.
struct EventTemplate: Sendable {
    enum Part: Sendable {
        case text(String)
        /// The request's own id (the same in every service's lines for one request).
        case requestID
        /// A fresh id with this prefix, e.g. `ord-8812734`.
        case id(String)
        case count(ClosedRange<Int>)
        case amount
        /// The milliseconds the step took.
        case durationMs
        case hex
    }

    var level: String
    var parts: [Part]
    /// `c.e.kovar.BasketHandler#57`, `internal/basket/store.go:88`, `views.py:41`.
    var location: String
    var logger: String
    /// Typical work before the line, in milliseconds (its own per template, so the gaps
    /// between a request's consecutive lines have a characteristic size).
    var work: ClosedRange<Double>
}

/// Errors and warnings a service logs all day, unrelated to the incident: a dependency that
/// is never there, retries that usually succeed, a failing health check of something else.
struct BackgroundNoise: Sendable {
    var service: Int
    var template: EventTemplate
    /// Logged every this many seconds (with jitter), whatever the load; nil for per-request noise.
    var periodSeconds: Double?
    /// Share of the service's requests that log it (scales with the load); 0 for periodic noise.
    var requestShare: Double
}

enum RandomTopologyBuilder {
    static let consonants: [String] = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr", "st", "ch", "sh", "pl"]
    static let vowels: [String] = ["a", "e", "i", "o", "u", "ai", "ou"]
    static let codas: [String] = ["", "", "", "n", "r", "l", "s", "x", "m"]

    /// A pronounceable word that means nothing: `kovar`, `tresimul`, `plaide`.
    static func word(_ rng: inout SplitMix64, syllables: ClosedRange<Int> = 2...3) -> String {
        var word = ""
        for _ in 0..<rng.int(syllables) {
            word += rng.pick(consonants) + rng.pick(vowels)
        }
        return word + rng.pick(codas)
    }

    static func capitalized(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

    static let verbs = ["loaded", "validated", "stored", "resolved", "computed", "fetched", "enqueued", "matched",
                        "applied", "updated", "scored", "saved", "reserved", "published", "checked", "merged"]

    static func build(seed: UInt64) -> RandomCluster {
        var rng = SplitMix64(seed: seed, stream: 8_000)
        let serviceCount = rng.int(6...20)
        var used = Set(["payments", "ingress-nginx-controller"])
        func uniqueName(_ rng: inout SplitMix64, suffixes: [String]) -> String {
            while true {
                let name = word(&rng) + rng.pick(suffixes)
                if used.insert(name).inserted { return name }
            }
        }
        let namespaces = (0..<rng.int(1...3)).map { _ in uniqueName(&rng, suffixes: ["", "", "-apps", "-prod"]) }

        // Formats as in a real cluster: mostly Java and Go, some Python and Node.
        let formats: [ScenarioFormat] = [.javaLogback, .goZap, .goSlog, .pythonOTel, .pythonJSON, .nodePino]
        let formatWeights = [0.3, 0.25, 0.1, 0.12, 0.12, 0.11]

        var workloads: [ScenarioWorkload] = [
            .init(name: "ingress-nginx-controller", namespace: "ingress-nginx", kind: .deployment, replicas: 1, container: "controller",
                  format: .nginxIngress, port: 80, role: .edge, calls: []),
        ]
        for _ in 0..<serviceCount {
            let name = uniqueName(&rng, suffixes: ["", "", "", "-api", "-svc", "-service", "-core", "-worker"])
            let format = formats[rng.weightedIndex(formatWeights)]
            var workload = ScenarioWorkload(
                name: name, namespace: rng.pick(namespaces), kind: .deployment, replicas: rng.int(1...2), container: name,
                format: format, port: format == .javaLogback ? 8080 : format == .nodePino ? 3000 : rng.pick([8000, 8080, 9090]),
                role: .service, calls: [])
            // Most services propagate trace context; some (an old library, a sidecar-less
            // batch job) log none.
            workload.tracing = rng.chance(0.8)
            workloads.append(workload)
        }
        let first = 1
        let last = workloads.count - 1

        // The call DAG: front-line services behind the ingress, every other service called by
        // at least one service before it, plus a few extra edges.
        let frontLine = rng.int(1...min(3, serviceCount))
        var callees = [[Int]](repeating: [], count: workloads.count)
        callees[RandomCluster.edge] = Array(first..<(first + frontLine))
        if first + frontLine <= last {
            for service in (first + frontLine)...last {
                let parent = rng.int(first...(service - 1))
                callees[parent].append(service)
            }
        }
        // Few extra edges: real request fan-out is modest, and every line costs generation
        // and diagnosis time in the benchmark.
        for caller in first...last where caller < last {
            for _ in 0..<(rng.chance(0.35) ? 1 : 0) where callees[caller].count < 3 {
                let callee = rng.int((caller + 1)...last)
                if !callees[caller].contains(callee) { callees[caller].append(callee) }
            }
            callees[caller].sort()
        }

        // Operations: each service gets one to three, built callees first (highest index
        // first) so a caller's calls can name the callee's operations.
        var programs = [ServiceProgram](repeating: ServiceProgram(), count: workloads.count)
        var nextCalleeOperation = [Int](repeating: 0, count: workloads.count)
        for service in stride(from: last, through: first, by: -1) {
            let w = workloads[service]
            var program = ServiceProgram()
            let nouns = (0..<3).map { _ in word(&rng, syllables: 1...2) }
            program.sourceRoot = word(&rng, syllables: 1...2)
            program.logsCompletion = rng.chance(0.75)
            let operationCount = max(1, min(3, rng.int(1...3)))
            var operations: [ServiceOperation] = []
            for op in 0..<operationCount {
                let noun = nouns[op % nouns.count]
                let method = rng.chance(0.6) ? "GET" : "POST"
                let path = "/api/v\(rng.int(1...3))/\(noun)s" + (rng.chance(0.5) ? "/{id}" : "") + (rng.chance(0.3) ? "/\(word(&rng, syllables: 1...2))" : "")
                var steps: [OperationStep] = []
                for _ in 0..<rng.int(1...3) {
                    steps.append(.event(eventTemplate(&rng, w, program.sourceRoot, nouns: nouns, level: rng.chance(0.25) ? "debug" : "info")))
                }
                operations.append(ServiceOperation(method: method, path: path, steps: steps))
            }
            // Every callee is called from at least one operation; some from several.
            for callee in callees[service] {
                var targets = [rng.below(operations.count)]
                if operations.count > 1 && rng.chance(0.15) { targets.append(rng.below(operations.count)) }
                for target in Set(targets).sorted() {
                    let calleeOperations = programs[callee].operations.count
                    let calleeOperation = nextCalleeOperation[callee] % max(1, calleeOperations)
                    nextCalleeOperation[callee] += 1
                    let emptyNoun = rng.pick(nouns)
                    let onEmpty = EventTemplate(
                        level: "info",
                        parts: [.text(rng.pick(["No \(emptyNoun)s returned for ", "Empty \(emptyNoun) list for ", "No \(emptyNoun) found for "])), .requestID,
                                .text(rng.pick([", skipping", "", "; nothing to do"]))],
                        location: location(&rng, w, program.sourceRoot), logger: logger(&rng, w, program.sourceRoot), work: 0.1...1)
                    let call = OutgoingCall(callee: callee, operation: calleeOperation, timeoutMs: Int64(rng.int(30...60)) * 1_000, onEmpty: onEmpty)
                    // Calls go between the first event and the last, in a random order.
                    let position = rng.int(1...max(1, operations[target].steps.count - 1))
                    operations[target].steps.insert(.call(call), at: min(position, operations[target].steps.count))
                }
            }
            // A last step after the final call, so "the last usual step" exists for every
            // operation that calls others ("saved", "published").
            for op in operations.indices {
                if case .call = operations[op].steps.last {
                    operations[op].steps.append(.event(eventTemplate(&rng, w, program.sourceRoot, nouns: nouns, level: "info")))
                }
            }
            program.operations = operations
            program.housekeeping = EventTemplate(
                level: "info",
                parts: [.text("\(capitalized(rng.pick(verbs))) \(rng.pick(nouns)) index: "), .count(50...5_000), .text(" entries")],
                location: location(&rng, w, program.sourceRoot), logger: logger(&rng, w, program.sourceRoot), work: 0...0)
            program.housekeepingSeconds = Double(rng.int(60...600))
            programs[service] = program
        }
        for (caller, list) in callees.enumerated() {
            workloads[caller].calls = list.map { workloads[$0].name }
        }

        // Request types: every operation of the front-line services, with uneven weights.
        var entries: [RandomCluster.Entry] = []
        for service in callees[RandomCluster.edge] {
            for op in programs[service].operations.indices {
                entries.append(.init(service: service, operation: op, weight: rng.logUniform(0.2, 3)))
            }
        }

        // Noise present all day in one to three services that serve requests (a service no
        // request reaches would not log per-request retries).
        var cluster = RandomCluster(workloads: workloads, programs: programs, entries: entries, backgroundNoise: [])
        let serving = cluster.reachableServices
        var noise: [BackgroundNoise] = []
        // Per-request noise goes to the busiest front-line service, so that it shows at a
        // steady share in the baseline too, not only once the window's load rises.
        var traffic = [Double](repeating: 0, count: workloads.count)
        for entry in entries { traffic[entry.service] += entry.weight }
        let busiest = traffic.indices.max { traffic[$0] < traffic[$1] } ?? first
        for n in 0..<rng.int(1...3) {
            // The first is periodic, so every cluster has noise whatever its traffic.
            let kind = n == 0 ? rng.pick([0, 2]) : rng.below(3)
            let drawn = serving.isEmpty ? rng.int(first...last) : rng.pick(serving)
            let service = kind == 1 ? busiest : drawn
            let w = workloads[service]
            let root = programs[service].sourceRoot
            let missing = word(&rng) + rng.pick(["", "-api", "-svc"])
            switch kind {
            case 0:
                noise.append(BackgroundNoise(
                    service: service,
                    template: EventTemplate(level: rng.chance(0.5) ? "error" : "warn", parts: [.text("No instances available for \(missing)")],
                                            location: location(&rng, w, root), logger: logger(&rng, w, root), work: 0...0),
                    periodSeconds: Double(rng.int(20...120)), requestShare: 0))
            case 1:
                noise.append(BackgroundNoise(
                    service: service,
                    template: EventTemplate(level: "warn", parts: [.text("Retrying call to \(missing) (attempt 2 of 3) after "), .durationMs, .text(" ms")],
                                            location: location(&rng, w, root), logger: logger(&rng, w, root), work: 0.5...3),
                    periodSeconds: nil, requestShare: rng.logUniform(0.02, 0.06)))
            default:
                noise.append(BackgroundNoise(
                    service: service,
                    template: EventTemplate(level: "error", parts: [.text("Health check of \(missing).\(w.namespace).svc:\(rng.pick([5432, 6379, 9092, 8080])) failed: connection timed out after 2000 ms")],
                                            location: location(&rng, w, root), logger: logger(&rng, w, root), work: 0...0),
                    periodSeconds: Double(rng.int(15...60)), requestShare: 0))
            }
        }
        cluster.backgroundNoise = noise
        return cluster
    }

    /// One usual event of an operation, with its variable parts.
    static func eventTemplate(_ rng: inout SplitMix64, _ w: ScenarioWorkload, _ root: String, nouns: [String], level: String) -> EventTemplate {
        let noun = rng.pick(nouns)
        let verb = rng.pick(verbs)
        let prefix = String(noun.prefix(3))
        let parts: [EventTemplate.Part]
        switch rng.below(6) {
        case 0: parts = [.text("\(capitalized(verb)) \(noun) "), .id(prefix), .text(" for request "), .requestID]
        case 1: parts = [.text("\(capitalized(verb)) "), .count(1...40), .text(" \(noun)s for "), .requestID]
        case 2: parts = [.text("\(capitalized(noun)) "), .id(prefix), .text(" \(verb) in "), .durationMs, .text(" ms")]
        case 3: parts = [.text("\(capitalized(verb)) \(noun) "), .id(prefix), .text(" amount="), .amount]
        case 4: parts = [.text("\(capitalized(noun)) cache \(rng.pick(["hit", "lookup", "refresh"])) key="), .hex]
        default: parts = [.text("\(capitalized(verb)) \(rng.pick(nouns)) \(noun) for "), .requestID, .text(" version="), .count(1...9)]
        }
        let low = rng.logUniform(0.3, 20)
        return EventTemplate(level: level, parts: parts, location: location(&rng, w, root), logger: logger(&rng, w, root), work: low...(low * 2.5))
    }

    /// Where a line says it comes from, in the conventions of the service's language.
    static func location(_ rng: inout SplitMix64, _ w: ScenarioWorkload, _ root: String) -> String {
        let line = rng.int(20...400)
        switch w.format {
        case .javaLogback, .springBoot2, .springBoot3:
            let simple = w.name.split(separator: "-").first.map(String.init) ?? w.name
            return "c.e.\(simple).\(capitalized(word(&rng, syllables: 1...2)))\(rng.pick(["Service", "Handler", "Repository", "Client", "Controller"]))#\(line)"
        case .goZap, .goSlog:
            return "\(rng.pick(["internal", "pkg"]))/\(root)/\(word(&rng, syllables: 1...2)).go:\(line)"
        case .pythonOTel, .pythonJSON:
            return "\(word(&rng, syllables: 1...2)).py:\(line)"
        default:
            return ""
        }
    }

    static func logger(_ rng: inout SplitMix64, _ w: ScenarioWorkload, _ root: String) -> String {
        let simple = w.name.split(separator: "-").first.map(String.init) ?? w.name
        return "\(simple).\(rng.pick(["api", "core", "store", "jobs", root]))"
    }
}
