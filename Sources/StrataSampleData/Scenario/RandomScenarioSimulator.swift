import Foundation

/// What a simulator hands the generator: the pods (with their restarts) and every line.
struct SimulationOutcome: Sendable {
    var pods: [ScenarioPod]
    var events: [ScenarioEvent]
    var baselineRequests = 0
    var windowRequests = 0
    var baselineFailures = 0
    var windowFailures = 0
}

/// Plays a scenario on a `RandomCluster`: requests of each type enter at the ingress and
/// walk their operations' steps, every service logging its usual events in its own format,
/// with the injected fault changing what the faulty service does. Single-threaded and
/// driven by seeded generators, so a spec always gives the same events.
struct RandomScenarioSimulator {
    let spec: IncidentScenarioSpec
    let cluster: RandomCluster
    var workloads: [ScenarioWorkload] { cluster.workloads }
    private(set) var pods: [ScenarioPod]
    let podsOf: [[Int]]
    let faulty: Int
    let loadFactor: Double
    let delayMs: Int64
    let slowdown: Double
    private var rng: SplitMix64
    private(set) var events: [ScenarioEvent] = []
    private var sequence = 0
    private(set) var outcome = SimulationOutcome(pods: [], events: [])
    private let serviceIPs: [String]

    static let ms: Int64 = 1_000_000
    static let second: Int64 = 1_000_000_000

    /// A request's own state as it crosses the services.
    struct Request {
        var traceID: String
        var requestID: String
        /// Whether this request's hand-offs through the faulty workload are delayed
        /// (`.networkDelay` touches a share of the requests).
        var delayed = false
    }

    struct Answer {
        var end: Int64
        var status: Int
        /// Why it failed, as the caller says it (nil on success).
        var failure: String?
        /// The answer holds nothing (an empty list, a null field): the caller takes its
        /// empty-result branch.
        var empty = false
    }

    init(spec: IncidentScenarioSpec, cluster: RandomCluster, pods: [ScenarioPod], faulty: Int, parameters: FaultMagnitude) {
        self.spec = spec
        self.cluster = cluster
        self.pods = pods
        self.faulty = faulty
        loadFactor = parameters.loadFactor
        delayMs = Int64(parameters.networkDelayMs)
        slowdown = parameters.cpuSlowdown
        var podsOf = [[Int]](repeating: [], count: cluster.workloads.count)
        for (i, pod) in pods.enumerated() { podsOf[pod.workload].append(i) }
        self.podsOf = podsOf
        var ipRng = SplitMix64(seed: spec.seed, stream: 8_102)
        serviceIPs = cluster.workloads.map { _ in "10.96.\(ipRng.int(0...255)).\(ipRng.int(2...254))" }
        rng = SplitMix64(seed: spec.seed, stream: 8_101)
    }

    /// The fault's magnitudes and the window's load, from the spec or drawn from its seed.
    struct FaultMagnitude: Sendable {
        var loadFactor: Double
        var networkDelayMs: Int
        var cpuSlowdown: Double

        init(spec: IncidentScenarioSpec) {
            var rng = SplitMix64(seed: spec.seed, stream: 8_100)
            let drawnLoad = 1 + 2 * rng.unit()
            let drawnDelay = rng.int(200...2_000)
            let drawnSlowdown = Double(rng.int(3...20))
            loadFactor = spec.windowLoadFactor ?? drawnLoad
            networkDelayMs = spec.networkDelayMs ?? drawnDelay
            cpuSlowdown = spec.cpuSlowdown ?? drawnSlowdown
        }
    }

    // MARK: - Running

    mutating func run() -> SimulationOutcome {
        outcome = SimulationOutcome(pods: [], events: [])
        scheduleCrashes()
        let weights = cluster.entries.map(\.weight)
        var t = spec.startTime + Int64(rng.int(0...500)) * Self.ms
        let phase = rng.unit() * 2 * Double.pi
        while t < spec.endTime, !cluster.entries.isEmpty {
            let entry = cluster.entries[rng.weightedIndex(weights)]
            ingress(entry, at: t)
            // A Poisson process whose rate drifts slowly, times the window's load factor.
            let elapsed = Double(t - spec.startTime) / 1e9
            let load = t >= spec.faultStart && t < spec.faultEnd ? loadFactor : 1
            let rate = max(0.01, spec.requestsPerSecond * load * (1 + 0.2 * sin(elapsed / 2400 * 2 * Double.pi + phase)))
            t += Int64(-log(1 - rng.unit()) / rate * 1e9) + 1
        }
        background()
        startups()
        outcome.pods = pods
        outcome.events = events
        return outcome
    }

    private func active(_ kind: IncidentFaultKind, _ workload: Int, at t: Int64) -> Bool {
        workload == faulty && spec.faultKind == kind && t >= spec.faultStart && t < spec.faultEnd
    }

    private mutating func millis(_ range: ClosedRange<Double>) -> Int64 {
        Int64((range.lowerBound + rng.unit() * (range.upperBound - range.lowerBound)) * 1e6)
    }

    private mutating func emit(_ pod: Int, _ time: Int64, _ lines: [String], severity: String?, trace: LineTrace?) {
        guard pods[pod].restart(at: time) != nil else { return }
        let stream: LogStream
        switch workloads[pods[pod].workload].format {
        case .javaLogback, .nodePino, .nginxIngress: stream = .stdout
        default: stream = .stderr
        }
        events.append(ScenarioEvent(time: time, pod: pod, stream: stream, lines: lines, severity: severity, trace: trace, sequence: sequence))
        sequence += 1
    }

    // MARK: - The edge

    private mutating func ingress(_ entry: RandomCluster.Entry, at t: Int64) {
        let edgePod = podsOf[RandomCluster.edge][0]
        var request = Request(
            traceID: HexNumber.digits(rng.next(), 16) + HexNumber.digits(rng.next(), 16),
            requestID: "req-\(HexNumber.digits(rng.next(), 12))")
        request.delayed = spec.faultKind == .networkDelay && rng.chance(spec.faultIntensity)
        let span = HexNumber.digits(rng.next(), 16)
        let operation = cluster.programs[entry.service].operations[entry.operation]
        let answer = call(from: RandomCluster.edge, OutgoingCall(
            callee: entry.service, operation: entry.operation, timeoutMs: 60_000,
            onEmpty: EventTemplate(level: "info", parts: [], location: "", logger: "", work: 0...0)),
            at: t + millis(0.1...0.4), request: &request)
        let status = answer.failure == nil ? answer.status : (answer.status >= 500 ? answer.status : 502)
        let end = answer.end + millis(0.05...0.3)
        let callee = workloads[entry.service]
        let client = rng.chance(0.5) ? "203.0.113.\(rng.int(1...254))" : "198.51.100.\(rng.int(1...254))"
        let agent = rng.pick(["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                              "okhttp/4.12.0", "python-requests/2.32.3"])
        let size = status < 400 ? rng.int(300...40_000) : rng.int(20...200)
        let seconds = String(format: "%.3f", Double(end - t) / 1e9)
        let upstreamSeconds = String(format: "%.3f", Double(answer.end - t) / 1e9)
        let upstream = "\(pods[podsOf[entry.service][0]].ip):\(callee.port)"
        let trace = LineTrace(trace: request.traceID, span: span)
        let path = operation.path.replacingOccurrences(of: "{id}", with: "\(rng.int(1_000...999_999))")
        let line = "\(client) - - [\(Stamp.nginx(end))] \"\(operation.method) \(path) HTTP/2.0\" \(status) \(size) \"-\" \"\(agent)\" \(rng.int(200...900)) \(seconds) [\(callee.namespace)-\(callee.name)-\(callee.port)] [] \(upstream) \(size) \(upstreamSeconds) \(status) \(HexNumber.digits(rng.next(), 16))\(HexNumber.digits(rng.next(), 16)) \"\(trace.traceparent)\""
        emit(edgePod, end, [line], severity: status >= 500 ? "error" : status >= 400 ? "warn" : "info", trace: trace)
        if t < spec.faultStart {
            outcome.baselineRequests += 1
            if status >= 500 { outcome.baselineFailures += 1 }
        } else if t < spec.faultEnd {
            outcome.windowRequests += 1
            if status >= 500 { outcome.windowFailures += 1 }
        }
    }

    // MARK: - Calls

    private mutating func pickPod(_ workload: Int, at t: Int64) -> Int {
        ScenarioPod.route(among: podsOf[workload], pods: pods, at: t, rng: &rng)
    }

    /// One hand-off over the network: sub-millisecond, plus the fault's delay when it
    /// touches the faulty workload in a delayed request.
    private mutating func handOff(_ a: Int, _ b: Int, at t: Int64, _ request: Request) -> Int64 {
        var time = millis(0.2...1.2)
        if request.delayed, a == faulty || b == faulty, active(.networkDelay, faulty, at: t) {
            time += delayMs * Self.ms + millis(0...(Double(delayMs) * 0.1))
        }
        return time
    }

    private mutating func call(from caller: Int, _ call: OutgoingCall, at t: Int64, request: inout Request) -> Answer {
        let callee = call.callee
        let inbound = handOff(caller, callee, at: t, request)
        let pod = pickPod(callee, at: t)
        if !pods[pod].isReady(at: t + inbound) {
            return Answer(end: t + inbound + millis(0.3...2), status: 503,
                          failure: "dial tcp \(serviceIPs[callee]):\(workloads[callee].port): connect: connection refused")
        }
        // The latency fault: the callee hangs for longer than this caller waits.
        var stall: Int64 = 0
        if active(.latency, callee, at: t), rng.chance(spec.faultIntensity) {
            stall = call.timeoutMs * Self.ms + millis(200...3_000)
        }
        var answer = serve(callee, operation: call.operation, pod: pod, at: t + inbound, stall: stall, request: &request)
        answer.end += handOff(callee, caller, at: answer.end, request)
        if let crash = pods[pod].crash(in: t, answer.end) {
            return Answer(end: crash + millis(0.2...1), status: 502, failure: "read: connection reset by peer")
        }
        if answer.end > t + call.timeoutMs * Self.ms {
            return Answer(end: t + call.timeoutMs * Self.ms, status: 504,
                          failure: "context deadline exceeded after \(call.timeoutMs) ms (Client.Timeout exceeded while awaiting headers)")
        }
        return answer
    }

    /// A service serving one request: its operation's steps in order, as the fault allows.
    private mutating func serve(_ service: Int, operation index: Int, pod: Int, at start: Int64, stall: Int64, request: inout Request) -> Answer {
        let w = workloads[service]
        let program = cluster.programs[service]
        let operation = program.operations[index]
        let trace = w.traced ? LineTrace(trace: request.traceID, span: HexNumber.digits(rng.next(), 16)) : nil
        // A starved CPU stretches every step of the faulty workload.
        let cpu = active(.cpuContention, service, at: start) ? slowdown : 1
        var t = start + stall + Int64(Double(millis(0.2...1.5)) * cpu)
        let steps = operation.steps

        // Which steps this request skips because of a silent fault.
        var stopBefore = steps.count
        var answersEmpty = false
        if active(.swallowedException, service, at: start), rng.chance(spec.faultIntensity) {
            // Caught and dropped somewhere in the handler: nothing after that point happens.
            stopBefore = rng.below(steps.count)
        } else if active(.wrongReturn, service, at: start), rng.chance(spec.faultIntensity) {
            // A wrong (empty) value: the usual last step(s) never run.
            stopBefore = max(0, steps.count - (steps.count > 2 && rng.chance(0.5) ? 2 : 1))
            answersEmpty = true
        } else if rng.chance(0.02) {
            // A healthy empty answer (nothing matched): the whole sequence runs.
            answersEmpty = true
        }
        var exceptionAt: Int? = nil
        if active(.exceptions, service, at: start), rng.chance(spec.faultIntensity) {
            exceptionAt = rng.below(steps.count)
        }

        var status = 200
        var failed = false
        stepLoop: for (i, step) in steps.enumerated() {
            if i >= stopBefore { break }
            if i == exceptionAt {
                t += Int64(Double(millis(0.2...3)) * cpu)
                exception(pod, t, operation, trace)
                status = 500
                failed = true
                break
            }
            switch step {
            case .event(let template):
                let work = Int64(Double(millis(template.work)) * cpu)
                t += work
                emit(pod, t, [render(service, pod, template, at: t, trace: trace, request: request, duration: work)], severity: template.level, trace: trace)
            case .call(let outgoing):
                t += Int64(Double(millis(0.1...0.8)) * cpu)
                let answer = call(from: service, outgoing, at: t, request: &request)
                t = answer.end
                if let failure = answer.failure {
                    t += Int64(Double(millis(0.1...0.5)) * cpu)
                    callFailed(pod, t, outgoing, failure: failure, trace: trace)
                    status = 502
                    failed = true
                    break stepLoop
                }
                if answer.empty {
                    t += Int64(Double(millis(outgoing.onEmpty.work)) * cpu)
                    emit(pod, t, [render(service, pod, outgoing.onEmpty, at: t, trace: trace, request: request, duration: 0)], severity: "info", trace: trace)
                    break stepLoop
                }
            }
            // Per-request noise unrelated to the fault (retries that succeed...).
            for noise in cluster.backgroundNoise where noise.service == service && noise.requestShare > 0 && i == 0 {
                if rng.chance(noise.requestShare) {
                    let pause = millis(noise.template.work)
                    emit(pod, t, [render(service, pod, noise.template, at: t, trace: trace, request: request, duration: pause)], severity: noise.template.level, trace: trace)
                    t += pause
                }
            }
        }
        t += Int64(Double(millis(0.1...1)) * cpu)
        if program.logsCompletion {
            completion(pod, t, operation, status: status, duration: t - start, trace: trace)
        }
        return Answer(end: t, status: status, failure: failed ? "unexpected status \(status) from \(operation.method) http://\(w.host):\(w.port)\(operation.path)" : nil,
                      empty: answersEmpty && !failed)
    }

    // MARK: - Lines

    private mutating func value(_ part: EventTemplate.Part, request: Request, duration: Int64) -> String {
        switch part {
        case .text(let s): return s
        case .requestID: return request.requestID
        case .id(let prefix): return "\(prefix)-\(rng.int(100_000...9_999_999))"
        case .count(let range): return "\(rng.int(range))"
        case .amount: return "\(rng.int(1...900)).\(rng.int(10...99))"
        case .durationMs: return "\(max(0, Int(duration / Self.ms)))"
        case .hex: return HexNumber.digits(rng.next(), 12)
        }
    }

    private mutating func render(_ service: Int, _ pod: Int, _ template: EventTemplate, at t: Int64, trace: LineTrace?, request: Request, duration: Int64) -> String {
        var message = ""
        for part in template.parts { message += value(part, request: request, duration: duration) }
        return line(service, pod, t, template.level, message, location: template.location, logger: template.logger, fields: [], trace: trace)
    }

    private static let pythonLevels = ["debug": "DEBUG", "info": "INFO", "warn": "WARNING", "error": "ERROR"]
    private static let pinoLevels = ["debug": 20, "info": 30, "warn": 40, "error": 50]

    /// One line in the service's format. `fields` are structured extras (key, value, numeric)
    /// for the formats that have them, appended as `key=value` text otherwise.
    private func line(_ service: Int, _ pod: Int, _ t: Int64, _ level: String, _ message: String, location: String, logger: String,
                      fields: [(String, String, Bool)], trace: LineTrace?) -> String {
        let w = workloads[service]
        switch w.format {
        case .javaLogback, .springBoot2, .springBoot3:
            let text = fields.isEmpty ? message : message + " " + fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            let ids = trace.map { "[\(w.name),\($0.trace),\($0.span)]" } ?? "[\(w.name),,]"
            let padded = level.uppercased().count < 5 ? " " + level.uppercased() : level.uppercased()
            // One request stays on one servlet thread.
            let thread = 1 + Int((trace.flatMap { UInt64($0.span.suffix(4), radix: 16) } ?? UInt64(t / Self.ms)) % 10)
            return "\(Stamp.spring(t)) \(padded) \(ids) 1 --- [nio-\(w.port)-exec-\(thread)] \(location) : \(text)"
        case .goZap:
            var line = "{\"level\":\"\(level)\",\"ts\":\(Stamp.epoch(t)),\"caller\":\"\(location)\",\"msg\":\"\(message.jsonEscaped)\""
            for (key, value, numeric) in fields { line += numeric ? ",\"\(key)\":\(value)" : ",\"\(key)\":\"\(value.jsonEscaped)\"" }
            if let trace { line += ",\"trace_id\":\"\(trace.trace)\",\"span_id\":\"\(trace.span)\"" }
            return line + "}"
        case .goSlog:
            var line = "time=\(Stamp.iso(t)) level=\(level.uppercased()) source=\(location) msg=\(message.logfmtValue)"
            for (key, value, _) in fields { line += " \(key)=\(value.logfmtValue)" }
            if let trace { line += " trace_id=\(trace.trace) span_id=\(trace.span)" }
            return line
        case .pythonOTel:
            let text = fields.isEmpty ? message : message + " " + fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            let ids = trace.map { "trace_id=\($0.trace) span_id=\($0.span) resource.service.name=\(w.name) trace_sampled=True" }
                ?? "trace_id=0 span_id=0 resource.service.name=\(w.name) trace_sampled=False"
            return "\(Stamp.python(t)) \(Self.pythonLevels[level] ?? level) [\(logger)] [\(location)] [\(ids)] - \(text)"
        case .pythonJSON:
            var line = "{\"asctime\": \"\(Stamp.python(t))\", \"levelname\": \"\(Self.pythonLevels[level] ?? level)\", \"name\": \"\(logger)\", \"message\": \"\(message.jsonEscaped)\""
            for (key, value, numeric) in fields { line += numeric ? ", \"\(key)\": \(value)" : ", \"\(key)\": \"\(value.jsonEscaped)\"" }
            if let trace { line += ", \"otelTraceID\": \"\(trace.trace)\", \"otelSpanID\": \"\(trace.span)\", \"otelServiceName\": \"\(w.name)\"" }
            return line + "}"
        default:
            // pino (Node.js); the edge never logs through here.
            var line = "{\"level\":\(Self.pinoLevels[level] ?? 30),\"time\":\(t / Self.ms),\"pid\":1,\"hostname\":\"\(pods[pod].name)\""
            if let trace { line += ",\"trace_id\":\"\(trace.trace)\",\"span_id\":\"\(trace.span)\",\"trace_flags\":\"01\"" }
            for (key, value, numeric) in fields { line += numeric ? ",\"\(key)\":\(value)" : ",\"\(key)\":\"\(value.jsonEscaped)\"" }
            return line + ",\"msg\":\"\(message.jsonEscaped)\"}"
        }
    }

    /// The line a service's framework writes when a request is done.
    private mutating func completion(_ pod: Int, _ t: Int64, _ operation: ServiceOperation, status: Int, duration: Int64, trace: LineTrace?) {
        let service = pods[pod].workload
        let level = status >= 500 ? "error" : "info"
        let ms = String(format: "%.1f", Double(duration) / 1e6)
        let program = cluster.programs[service]
        let text: String
        var fields: [(String, String, Bool)] = []
        switch workloads[service].format {
        case .goZap, .nodePino, .goSlog, .pythonJSON:
            text = "request completed"
            fields = [("method", operation.method, false), ("path", operation.path, false), ("status", "\(status)", true), ("duration_ms", ms, true)]
        case .javaLogback:
            text = "Completed \(operation.method) \(operation.path) with status \(status) in \(ms) ms"
        default:
            text = "\(operation.method) \(operation.path) \(status) \(ms)ms"
        }
        let location: String
        switch workloads[service].format {
        case .javaLogback: location = "c.e.\(program.sourceRoot).web.RequestLoggingFilter#42"
        case .pythonOTel, .pythonJSON: location = "middleware.py:42"
        default: location = "\(program.sourceRoot)/middleware.go:42"
        }
        emit(pod, t, [line(service, pod, t, level, text, location: location, logger: "\(program.sourceRoot).access",
                           fields: fields, trace: trace)], severity: level, trace: trace)
    }

    /// What the `.exceptions` fault makes the faulty service log: an error with its stack.
    private mutating func exception(_ pod: Int, _ t: Int64, _ operation: ServiceOperation, _ trace: LineTrace?) {
        let service = pods[pod].workload
        let w = workloads[service]
        let root = cluster.programs[service].sourceRoot
        let what = "\(root) \(rng.int(100_000...9_999_999)) in unexpected state"
        switch w.format {
        case .javaLogback:
            var lines = [line(service, pod, t, "error", "Request processing failed for \(operation.method) \(operation.path)",
                              location: "o.a.c.c.C.[.[.[/].[dispatcherServlet]#175", logger: "", fields: [], trace: trace)]
            lines += ["java.lang.IllegalStateException: \(what)",
                      "\tat com.example.\(root).\(RandomTopologyBuilder.capitalized(root))Service.handle(\(RandomTopologyBuilder.capitalized(root))Service.java:\(rng.int(40...300)))",
                      "\tat com.example.\(root).web.Controller.dispatch(Controller.java:\(rng.int(20...90)))",
                      "\tat org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
                      "\tat java.base/java.lang.Thread.run(Thread.java:1583)"]
            emit(pod, t, lines, severity: "error", trace: trace)
        case .pythonOTel, .pythonJSON:
            let header = line(service, pod, t, "error", "Exception on \(operation.path) [\(operation.method)]", location: "app.py:880",
                              logger: "\(root).app", fields: [], trace: trace)
            emit(pod, t, [header, "Traceback (most recent call last):",
                          "  File \"/app/\(root)/views.py\", line \(rng.int(20...200)), in handle",
                          "    return process(request)",
                          "ValueError: \(what)"], severity: "error", trace: trace)
        default:
            emit(pod, t, [line(service, pod, t, "error", "handler failed", location: "server/recover.go:31", logger: "",
                               fields: [("error", what, false), ("path", operation.path, false)], trace: trace)], severity: "error", trace: trace)
        }
    }

    /// A caller's line when a call failed (refused, reset, timed out, an error status).
    private mutating func callFailed(_ pod: Int, _ t: Int64, _ call: OutgoingCall, failure: String, trace: LineTrace?) {
        let service = pods[pod].workload
        let callee = workloads[call.callee]
        let operation = cluster.programs[call.callee].operations[call.operation]
        let target = "http://\(callee.host):\(callee.port)\(operation.path)"
        emit(pod, t, [line(service, pod, t, "error", "call to \(callee.name) failed: \(operation.method) \(target): \(failure)",
                           location: cluster.programs[service].sourceRoot + "/client:88", logger: "\(cluster.programs[service].sourceRoot).client",
                           fields: [], trace: trace)], severity: "error", trace: trace)
    }

    // MARK: - Lines not tied to requests

    private mutating func background() {
        for pod in pods.indices {
            let service = pods[pod].workload
            guard service != RandomCluster.edge else {
                every(pod, seconds: 600) { _, t in ("I\(Stamp.klog(t))       7 controller.go:213] \"Backend successfully reloaded\"", "info") }
                continue
            }
            let program = cluster.programs[service]
            if let housekeeping = program.housekeeping {
                every(pod, seconds: program.housekeepingSeconds) { s, t in
                    (s.render(service, pod, housekeeping, at: t, trace: nil, request: Request(traceID: "", requestID: ""), duration: 0), housekeeping.level)
                }
            }
            for noise in cluster.backgroundNoise where noise.service == service {
                guard let period = noise.periodSeconds else { continue }
                every(pod, seconds: period) { s, t in
                    (s.render(service, pod, noise.template, at: t, trace: nil, request: Request(traceID: "", requestID: ""), duration: 0), noise.template.level)
                }
            }
        }
    }

    private mutating func every(_ pod: Int, seconds: Double, _ line: (inout RandomScenarioSimulator, Int64) -> (String, String?)) {
        var t = spec.startTime + Int64(rng.unit() * seconds * 1e9)
        while t < spec.endTime {
            let (text, severity) = line(&self, t)
            emit(pod, t, [text], severity: severity, trace: nil)
            t += Int64(seconds * (0.9 + 0.2 * rng.unit()) * 1e9)
        }
    }

    // MARK: - Crashes

    private mutating func scheduleCrashes() {
        guard spec.faultKind == .crash else { return }
        let startup = workloads[faulty].format.startupSeconds
        for pod in podsOf[faulty] {
            var crash = spec.faultStart + millis(2_000...25_000)
            var backoff = 1.0
            while crash < spec.faultEnd {
                let start = crash + Int64(backoff * 1e9) + millis(200...900)
                let ready = start + millis(startup.lowerBound * 1000...startup.upperBound * 1000)
                pods[pod].restarts.append((crash, start, ready))
                backoff = backoff < 10 ? 10 : min(300, backoff * 2)
                crash = ready + millis(35_000...100_000)
            }
            for r in pods[pod].restarts {
                let t = r.crash - millis(40...1_500)
                emit(pod, t, [line(faulty, pod, t, "error", "out of memory: heap usage above limit, exiting", location: "runtime/memory:41",
                                   logger: "\(cluster.programs[faulty].sourceRoot).runtime", fields: [], trace: nil)], severity: "error", trace: nil)
            }
        }
    }

    private mutating func startups() {
        for pod in pods.indices {
            let service = pods[pod].workload
            for r in pods[pod].restarts {
                let program = cluster.programs[service]
                let started = r.start + millis(50...400)
                emit(pod, started, [line(service, pod, started, "info", "starting \(workloads[service].name)", location: "main:12",
                                                          logger: "\(program.sourceRoot).main", fields: [], trace: nil)], severity: "info", trace: nil)
                emit(pod, r.ready, [line(service, pod, r.ready, "info", "listening on :\(workloads[service].port)", location: "main:48",
                                         logger: "\(program.sourceRoot).main", fields: [], trace: nil)], severity: "info", trace: nil)
            }
        }
    }
}
