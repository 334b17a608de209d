import Foundation
import StrataCore

/// Weights of the suspect score (docs/DIAGNOSIS.md, "Score"). One set for every cluster: none
/// of them refers to a service, a template or a data set.
public struct ScoreWeights: Sendable, Hashable {
    /// Per unit of error surprise (`-log10 p` of the workload's errors rising per unit of the
    /// cluster's traffic, capped at 30).
    public var errors = 1.0
    public var warnings = 0.3
    /// Per log2(1 + templates that appeared, vanished or shifted significantly).
    public var templates = 0.5
    /// Per kind of self-blaming signature (OOMKilled, CrashLoopBackOff, failed probe, restart).
    public var signature = 8.0
    /// Per unit of the strongest flow deviation (a step of the requests missing or new:
    /// reliability · -log10 p, capped at 30).
    public var flow = 2.0
    /// Per doubling of the workload's latency (shrunk log2 effect size over its edges).
    public var latency = 16.0
    /// Medians are raised by this many milliseconds before their ratio is taken.
    public var latencyFloorMs = 1.0
    /// Times the share of failing requests whose first error this workload logged.
    public var traceOrigin = 6.0
    /// Times the share of failing requests where it only passed an error on.
    public var tracePropagation = 2.0
    /// For the earliest onset among anomalous workloads, falling linearly to 0 for the latest.
    public var onset = 2.0
    /// Times the share of failing messages elsewhere that name this workload. Small on purpose:
    /// names in messages follow one cluster's conventions, so they only break ties.
    public var references = 0.01

    public init() {}
}

public struct DiagnosisConfiguration: Sendable {
    public var weights = ScoreWeights()
    public var maxSuspects = 10
    public var templatesPerSuspect = 8
    public var examplesPerSuspect = 3
    public var tracesPerSuspect = 3
    public var timelineBuckets = 40
    public var timelineWorkloads = 6
    /// Family-wise level for template frequency shifts (Bonferroni over all templates tested).
    public var significance = 0.01
    /// A workload counts as anomalous (for onsets and incident grouping) above this score.
    public var anomalyThreshold = 2.0
    /// Fewer requests (trace ids) than this in the baseline is reported as a weak baseline.
    public var minimumBaselineRequests = 50
    /// Longest example body kept in a report.
    public var maxExampleBytes = 2000

    public init() {}
}

/// Compares an incident window with a baseline, per workload, and ranks the workloads most
/// likely to be where the trouble started.
public struct Diagnoser {
    public var configuration: DiagnosisConfiguration
    let templater: MessageTemplating

    public init(configuration: DiagnosisConfiguration = DiagnosisConfiguration(), templater: MessageTemplating = MaskingTemplater()) {
        self.configuration = configuration
        self.templater = templater
    }

    public func diagnose(
        window: TimeRange, windowRecords: [LogRecord], baseline: TimeRange, baselineRecords: [LogRecord],
        generatedAt: Int64 = WallClock.nowNanos()
    ) -> DiagnosisReport {
        var table = WorkloadTable()
        var events = EventTable()
        var before = RangeProfile(range: baseline)
        before.add(baselineRecords, table: &table, events: &events, templater: templater, keepExamples: false)
        var during = RangeProfile(range: window)
        during.add(windowRecords, table: &table, events: &events, templater: templater, keepExamples: true)
        var analysis = Analysis(
            configuration: configuration, table: table, events: events, window: during, baseline: before,
            templater: templater)
        return analysis.report(generatedAt: generatedAt)
    }
}

/// One diagnosis in progress. Kept apart from `Diagnoser` so the public type stays small.
struct Analysis {
    let configuration: DiagnosisConfiguration
    let table: WorkloadTable
    let events: EventTable
    let window: RangeProfile
    let baseline: RangeProfile
    let templater: MessageTemplating
    var templateTexts: [String: String] = [:]

    init(
        configuration: DiagnosisConfiguration, table: WorkloadTable, events: EventTable, window: RangeProfile,
        baseline: RangeProfile, templater: MessageTemplating
    ) {
        self.configuration = configuration
        self.table = table
        self.events = events
        self.window = window
        self.baseline = baseline
        self.templater = templater
    }

    struct TemplateChange {
        var id: String
        var level: RecordLevel
        var windowCount: Int
        var baselineCount: Int
        var change: String
        var pValue: Double
        var first: Int64
        var example: WorkloadProfile.Example?
    }

    struct FailingTrace {
        var id: TraceID
        var chain: [Int]
        var firstError: Int
        var errorWorkloads: [Int]
        /// When the first error was logged, and the line before it (the error itself when it
        /// is the request's first line): the stretch where a callee without trace ids failed.
        var firstErrorTime: Int64 = 0
        var previousTime: Int64 = 0
        /// The events of the line before the first error and of the error.
        var previousEvent: Int?
        var firstErrorEvent: Int = -1
    }

    struct Candidate {
        var workload: Int
        var components = DiagnosisReport.ScoreComponents(
            errors: 0, warnings: 0, templates: 0, signatures: 0, latency: 0, traces: 0, onset: 0, references: 0, flow: 0)
        var changes: [TemplateChange] = []
        var onset: Int64?
        var errorP = 1.0
        var warningP = 1.0
        var latency: DiagnosisReport.LatencyEvidence?
        var flow: [FlowDeviation] = []
        var restarts: [DiagnosisReport.RestartEvidence] = []
        var referencedBy: [Int: Int] = [:]
        var originVotes = 0
        var propagationVotes = 0
        var score: Double { components.total }
    }

    mutating func report(generatedAt: Int64) -> DiagnosisReport {
        let weights = configuration.weights
        let workloads = Set(window.profiles.keys).union(baseline.profiles.keys).sorted()
        var candidates: [Int: Candidate] = [:]
        let empty = WorkloadProfile()
        let traffic = trafficExposure()

        // Template shifts: Bonferroni over every (workload, template) pair tested.
        let tested = workloads.reduce(0) { total, workload in
            total + Set((window.profiles[workload]?.templates.keys).map(Array.init) ?? [])
                .union((baseline.profiles[workload]?.templates.keys).map(Array.init) ?? []).count
        }
        let threshold = configuration.significance / Double(max(1, tested))

        for workload in workloads {
            let now = window.profiles[workload] ?? empty
            let then = baseline.profiles[workload] ?? empty
            var candidate = Candidate(workload: workload)
            // Errors and warnings per unit of the cluster's traffic (`traffic`), not per second: a
            // window busier than its baseline raises every count that scales with load. Not per
            // record of the workload itself: a failing service's log volume is driven by its
            // failures (a database writes a hint and the statement under every error).
            // Templates partition everything the workload logs: their shares are of its records.
            // A workload absent from the baseline has no share there; time is then the only
            // reference left.
            let shares = then.records > 0
            let allWindow = shares ? Double(now.records + 1) : window.range.seconds
            let allBaseline = shares ? Double(then.records + 1) : baseline.range.seconds
            candidate.errorP = RateTest.increasePValue(
                window: now.errors, baseline: then.errors, windowExposure: traffic.window, baselineExposure: traffic.baseline)
            candidate.warningP = RateTest.increasePValue(
                window: now.warnings, baseline: then.warnings, windowExposure: traffic.window, baselineExposure: traffic.baseline)
            // Only a significant rise (p < 0.05) counts: noise must not order the suspects.
            candidate.components.errors = weights.errors * significantSurprise(candidate.errorP)
            candidate.components.warnings = weights.warnings * significantSurprise(candidate.warningP)

            // Shifts of error and warning templates count fully; those of ordinary templates a
            // quarter, since they also move whenever the mix of user requests changes.
            var significant = 0.0
            for id in Set(now.templates.keys).union(then.templates.keys) {
                let a = now.templates[id]
                let b = then.templates[id]
                let windowCount = a?.count ?? 0
                let baselineCount = b?.count ?? 0
                let up = RateTest.increasePValue(
                    window: windowCount, baseline: baselineCount, windowExposure: allWindow, baselineExposure: allBaseline)
                let down = RateTest.decreasePValue(
                    window: windowCount, baseline: baselineCount, windowExposure: allWindow, baselineExposure: allBaseline)
                let level = max(a?.level ?? .normal, b?.level ?? .normal)
                var change: String?
                var p = 1.0
                if up < threshold || (baselineCount == 0 && windowCount > 0 && level >= .warning && up < 0.05) {
                    change = baselineCount == 0 ? "new" : "increased"
                    p = up
                } else if down < threshold {
                    change = windowCount == 0 ? "vanished" : "decreased"
                    p = down
                }
                guard let change else { continue }
                significant += level >= .warning && (change == "new" || change == "increased") ? 1 : 0.25
                candidate.changes.append(
                    TemplateChange(
                        id: id, level: level, windowCount: windowCount, baselineCount: baselineCount, change: change,
                        pValue: p, first: a?.first ?? .max, example: a?.example ?? b?.example))
                if level >= .warning, change == "new" || change == "increased", let first = a?.first {
                    candidate.onset = min(candidate.onset ?? .max, first)
                }
            }
            candidate.components.templates = weights.templates * log2(1 + significant)

            var selfBlame = Set<FailureSignature>()
            for (signature, stat) in now.signatures where signature.blamesReporter {
                // A signature already present in the baseline at the same rate is the weather;
                // one absent from the baseline counts at its first occurrence.
                let before = then.signatures[signature]?.count ?? 0
                let p = RateTest.increasePValue(
                    window: stat.count, baseline: before, windowExposure: allWindow, baselineExposure: allBaseline)
                if before == 0 || p < 0.05 {
                    selfBlame.insert(signature)
                    candidate.onset = min(candidate.onset ?? .max, stat.first)
                }
            }
            for (key, seen) in now.restarts {
                let previous = then.restarts[key]?.upperBound ?? seen.lowerBound
                if seen.upperBound > previous {
                    candidate.restarts.append(.init(
                        pod: String(key.split(separator: "/").first ?? ""),
                        container: String(key.split(separator: "/").dropFirst().first ?? ""),
                        from: previous, to: seen.upperBound))
                }
            }
            if !candidate.restarts.isEmpty { selfBlame.insert(.restarted) }
            candidate.components.signatures = weights.signature * Double(selfBlame.count)
            // Only a clear anomaly has an onset worth comparing: errors rising at p < 0.001 or
            // a self-blaming signature. Earlier warnings of a workload that is merely busier
            // than in the baseline are not where an incident starts.
            let clear = RateTest.surprise(candidate.errorP) >= 3 || !selfBlame.isEmpty
            if !clear {
                candidate.onset = nil
            } else if let first = now.firstError?.time, candidate.onset == nil {
                candidate.onset = first
            }
            candidates[workload] = candidate
        }

        // Requests: steps missing or new (each against the step before it), and latency as an
        // effect size per edge. Requests still running at the end of a range are left out.
        let completion = RequestFlow.completionTime(of: baseline.traces, range: baseline.range)
        let baselineFlow = RequestFlow(traces: baseline.traces, range: baseline.range, completion: completion)
        let windowFlow = RequestFlow(
            traces: window.traces, range: window.range, completion: completion, knownTypes: baselineFlow.entries)
        let silentFailures = UntracedFailures(window: window, clearlyFailing: Set(candidates.values.filter {
            RateTest.surprise($0.errorP) >= 3
        }.map(\.workload)))
        for var deviation in FlowAnalysis.deviations(window: windowFlow, baseline: baselineFlow, events: events) {
            // A step missing right where a callee without trace ids failed is that callee's.
            if deviation.kind == .missing, let culprit = silentFailures.culprit(of: deviation, in: window.traces) {
                deviation.workload = culprit
            }
            candidates[deviation.workload]?.flow.append(deviation)
        }
        for workload in workloads {
            guard var candidate = candidates[workload], !candidate.flow.isEmpty else { continue }
            candidate.flow.sort { ($0.strength, $1.event) > ($1.strength, $0.event) }
            candidate.components.flow = weights.flow * (candidate.flow.first?.strength ?? 0)
            candidates[workload] = candidate
        }
        let latencyConfiguration = LatencyAnalysis.Configuration(floorMs: weights.latencyFloorMs)
        let edges = LatencyAnalysis.edges(window: windowFlow, baseline: baselineFlow, configuration: latencyConfiguration)
        for (workload, latency) in LatencyAnalysis.perWorkload(edges, events: events) {
            guard candidates[workload] != nil else { continue }
            candidates[workload]?.latency = latencyEvidence(effect: latency.effect, edges: latency.edges)
            candidates[workload]?.components.latency = weights.latency * latency.effect
        }

        // Failing requests: the chain of workloads each crossed, and who logged the first error.
        // A workload that writes no trace ids (a database, a queue) cannot log a request's first
        // error as far as the traces can tell; when one that is clearly failing logged an error
        // between the request's first error and the line before it, the request broke there.
        let untraced = UntracedFailures(window: window, clearlyFailing: Set(candidates.values.filter {
            RateTest.surprise($0.errorP) >= 3
        }.map(\.workload)))
        let failing = failingTraces(of: window)
        var baselineOrigins: [Int: Int] = [:]
        for trace in failingTraces(of: baseline) { baselineOrigins[trace.firstError, default: 0] += 1 }
        // As for new events (docs/DIAGNOSIS.md, "Requests"): a first error saying that a call did
        // not get through, logged where the request reliably called into another workload, broke
        // in that callee; the error is the caller's reaction.
        let usualNext = baselineFlow.successors()
        func unansweredCall(_ trace: FailingTrace) -> Int? {
            guard let previous = trace.previousEvent, events.blamingCallee.contains(trace.firstErrorEvent),
                let call = baselineFlow.reliableCall(after: previous, successors: usualNext, events: events),
                call.workload != trace.firstError
            else { return nil }
            return call.workload
        }
        for trace in failing {
            let origin = untraced.culprit(from: trace.previousTime, to: trace.firstErrorTime) ?? unansweredCall(trace)
                ?? trace.firstError
            candidates[origin]?.originVotes += 1
            for workload in Set(trace.errorWorkloads) where workload != origin {
                candidates[workload]?.propagationVotes += 1
            }
        }
        if !failing.isEmpty {
            let total = Double(failing.count)
            for workload in workloads {
                guard var candidate = candidates[workload] else { continue }
                let origin = Double(candidate.originVotes) / total
                let propagated = Double(candidate.propagationVotes) / total
                // Requests that break first in this workload as often as in the baseline are
                // its usual failures, not the incident: the origin share counts in full only
                // when the number of such requests rose significantly (p < 0.001).
                let originP = RateTest.increasePValue(
                    window: candidate.originVotes, baseline: baselineOrigins[workload] ?? 0,
                    windowExposure: Double(window.traces.count + 1), baselineExposure: Double(baseline.traces.count + 1))
                let gate = min(1, RateTest.surprise(originP) / 3)
                candidate.components.traces = weights.traceOrigin * origin * gate - weights.tracePropagation * propagated * (1 - origin)
                candidates[workload] = candidate
            }
        }

        // References: failing messages that name another workload (host, DNS name, URL path)
        // point at it, the more so the more often they do.
        let resolver = ReferenceResolver(workloads: workloads.map { table.workload($0) })
        var indexByWorkload: [Workload: Int] = [:]
        for workload in workloads { indexByWorkload[table.workload(workload)] = workload }
        var referenceTotal = 0
        for workload in workloads {
            guard let candidate = candidates[workload], candidate.components.errors + candidate.components.warnings > 0,
                let profile = window.profiles[workload]
            else { continue }
            var named: [Int: Int] = [:]
            for (name, count) in profile.mentions {
                guard let target = resolver.resolve(name).flatMap({ indexByWorkload[$0] }), target != workload else { continue }
                named[target, default: 0] += count
            }
            for signature in [FailureSignature.connectionRefused, .connectionTimedOut] {
                for (host, count) in profile.signatures[signature]?.hosts ?? [:] {
                    guard let target = resolver.resolve(host).flatMap({ indexByWorkload[$0] }), target != workload else { continue }
                    named[target, default: 0] += count
                }
            }
            for (target, count) in named {
                candidates[target]?.referencedBy[workload, default: 0] += count
                referenceTotal += count
            }
        }
        if referenceTotal > 0 {
            for workload in workloads {
                let count = candidates[workload]?.referencedBy.values.reduce(0, +) ?? 0
                candidates[workload]?.components.references = weights.references * Double(count) / Double(referenceTotal)
            }
        }

        // Onset: the earliest among anomalous workloads is the likeliest start.
        let anomalous = candidates.values.filter { $0.score >= configuration.anomalyThreshold && $0.onset != nil }
        if let earliest = anomalous.compactMap(\.onset).min(), let latest = anomalous.compactMap(\.onset).max() {
            let spread = Double(max(1, latest - earliest))
            for candidate in anomalous {
                guard let onset = candidate.onset else { continue }
                candidates[candidate.workload]?.components.onset =
                    weights.onset * (latest == earliest ? 1 : 1 - Double(onset - earliest) / spread)
            }
        }

        let ranked = candidates.values.filter { $0.score > 0.0001 }.sorted {
            ($0.score, table.workload($1.workload)) > ($1.score, table.workload($0.workload))
        }
        let suspects = ranked.prefix(configuration.maxSuspects).enumerated().map { index, candidate in
            suspect(rank: index + 1, candidate: candidate, failing: failing)
        }
        let groups = incidentGroups(anomalous: Set(ranked.filter { $0.score >= configuration.anomalyThreshold }.map(\.workload)))
        return DiagnosisReport(
            generatedAt: RFC3339.format(nanos: generatedAt),
            window: span(window.range), baseline: span(baseline.range),
            records: .init(
                window: window.recordCount, baseline: baseline.recordCount, workloads: workloads.count,
                traces: window.traces.count),
            incident: summary(ranked: ranked, failing: failing, groups: groups),
            incidents: groups, suspects: suspects,
            timeline: timeline(ranked: ranked), notes: notes(failing: failing, windowFlow: windowFlow))
    }

    /// The cluster's traffic in each range: its requests (trace ids) when both ranges have
    /// enough of them to count, else all records of all workloads.
    func trafficExposure() -> (window: Double, baseline: Double) {
        let minimum = 30
        if window.traces.count >= minimum && baseline.traces.count >= minimum {
            return (Double(window.traces.count), Double(baseline.traces.count))
        }
        return (Double(window.recordCount + 1), Double(baseline.recordCount + 1))
    }

    // MARK: - Traces

    func failingTraces(of range: RangeProfile) -> [FailingTrace] {
        var result: [FailingTrace] = []
        for (id, events) in range.traces where events.contains(where: { $0.level == .error }) {
            let sorted = events.sorted { ($0.time, $0.workload) < ($1.time, $1.workload) }
            var chain: [Int] = []
            for event in sorted where !chain.contains(event.workload) { chain.append(event.workload) }
            let errors = sorted.filter { $0.level == .error }
            guard let first = errors.first, let position = sorted.firstIndex(where: { $0.level == .error }) else { continue }
            var errorWorkloads: [Int] = []
            for event in errors where !errorWorkloads.contains(event.workload) { errorWorkloads.append(event.workload) }
            result.append(FailingTrace(
                id: id, chain: chain, firstError: first.workload, errorWorkloads: errorWorkloads, firstErrorTime: first.time,
                previousTime: position > 0 ? sorted[position - 1].time : first.time,
                previousEvent: position > 0 ? sorted[position - 1].event : nil, firstErrorEvent: first.event))
        }
        return result.sorted { ($0.chain.count, $0.id.description) > ($1.chain.count, $1.id.description) }
    }

    // MARK: - Report pieces

    func name(_ workload: Int) -> String { table.workload(workload).name }

    func span(_ range: TimeRange) -> DiagnosisReport.Span {
        .init(from: RFC3339.format(nanos: range.from), to: RFC3339.format(nanos: range.to), seconds: range.seconds)
    }

    func clip(_ body: String) -> String {
        body.utf8.count <= configuration.maxExampleBytes
            ? body : String(decoding: body.utf8.prefix(configuration.maxExampleBytes), as: UTF8.self) + "…"
    }

    func suspect(rank: Int, candidate: Candidate, failing: [FailingTrace]) -> DiagnosisReport.Suspect {
        let workload = candidate.workload
        let identity = table.identities[workload]
        let now = window.profiles[workload] ?? WorkloadProfile()
        let then = baseline.profiles[workload] ?? WorkloadProfile()
        let perMinute = { (count: Int, range: TimeRange) in range.seconds > 0 ? Double(count) * 60 / range.seconds : 0 }
        // Errors and new things first, then by significance.
        let changes = candidate.changes.sorted {
            ($0.level.rawValue, $0.change == "new" ? 1 : 0, -$0.pValue.safeLog, $1.id) > ($1.level.rawValue, $1.change == "new" ? 1 : 0, -$1.pValue.safeLog, $0.id)
        }
        let templates = changes.prefix(configuration.templatesPerSuspect).map { change in
            DiagnosisReport.TemplateEvidence(
                id: change.id, template: templateText(change.id, example: change.example?.body), level: levelName(change.level),
                windowCount: change.windowCount, baselineCount: change.baselineCount, change: change.change,
                pValue: change.pValue)
        }
        var examples: [DiagnosisReport.Example] = []
        for change in changes where change.windowCount > 0 {
            guard let example = change.example, examples.count < configuration.examplesPerSuspect else { continue }
            examples.append(.init(time: RFC3339.format(nanos: example.time), pod: example.pod, body: clip(example.body)))
        }
        if examples.isEmpty, let first = now.firstError {
            examples.append(.init(time: RFC3339.format(nanos: first.time), pod: first.pod, body: clip(first.body)))
        }
        let traces = failing.filter { $0.errorWorkloads.contains(workload) || $0.chain.contains(workload) }
            .sorted { ($0.firstError == workload ? 1 : 0, $0.chain.count) > ($1.firstError == workload ? 1 : 0, $1.chain.count) }
            .prefix(configuration.tracesPerSuspect)
            .map { trace in
                DiagnosisReport.TraceEvidence(
                    traceId: trace.id.description, chain: trace.chain.map(name), firstError: name(trace.firstError),
                    errorWorkloads: trace.errorWorkloads.map(name))
            }
        let signatures = now.signatures.sorted { $0.key < $1.key }.map { signature, stat in
            DiagnosisReport.SignatureEvidence(
                signature: signature.rawValue, count: stat.count,
                hosts: stat.hosts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key),
                example: clip(stat.example))
        }
        let level = candidate.components.errors > 0 || now.errors > 0 ? " level:error" : ""
        let query = "ns:\(quoteIfNeeded(identity.workload.namespace)) pod:\(identity.workload.name)*\(level)"
        return DiagnosisReport.Suspect(
            rank: rank, namespace: identity.workload.namespace, workload: identity.workload.name, kind: identity.kind.rawValue,
            score: (candidate.score * 1000).rounded() / 1000, scoreComponents: rounded(candidate.components),
            onset: candidate.onset.map { RFC3339.format(nanos: $0) },
            evidence: .init(
                rates: .init(
                    windowRecords: now.records, baselineRecords: then.records, windowErrors: now.errors,
                    baselineErrors: then.errors, windowWarnings: now.warnings, baselineWarnings: then.warnings,
                    windowErrorRate: perMinute(now.errors, window.range), baselineErrorRate: perMinute(then.errors, baseline.range),
                    errorPValue: candidate.errorP, warningPValue: candidate.warningP),
                templates: templates, examples: examples, traces: Array(traces), signatures: signatures,
                restarts: candidate.restarts.sorted { ($0.pod, $0.container) < ($1.pod, $1.container) },
                latency: candidate.latency,
                flow: candidate.flow.isEmpty ? nil : candidate.flow.prefix(configuration.templatesPerSuspect).map(flowEvidence),
                referencedBy: candidate.referencedBy.sorted { ($0.value, name($1.key)) > ($1.value, name($0.key)) }.map { name($0.key) },
                query: query))
    }

    func templateText(_ id: String, example: String?) -> String {
        guard let example else { return id }
        return templater.template(for: templateMessage(of: example)).text
    }

    func levelName(_ level: RecordLevel) -> String {
        switch level {
        case .error: "error"
        case .warning: "warn"
        case .normal: "info"
        }
    }

    func quoteIfNeeded(_ text: String) -> String {
        text.isEmpty || text.contains(where: { $0 == " " || $0 == ":" || $0 == "\"" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : text
    }

    func rounded(_ components: DiagnosisReport.ScoreComponents) -> DiagnosisReport.ScoreComponents {
        func r(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
        return .init(
            errors: r(components.errors), warnings: r(components.warnings), templates: r(components.templates),
            signatures: r(components.signatures), latency: r(components.latency), traces: r(components.traces),
            onset: r(components.onset), references: r(components.references), flow: r(components.flow ?? 0))
    }

    // MARK: - Request evidence

    func describe(_ event: Int) -> DiagnosisReport.EventDescription {
        let key = events.keys[event]
        return .init(workload: name(key.workload), location: key.location, template: events.texts[event])
    }

    func latencyEvidence(effect: Double, edges: [EdgeLatency]) -> DiagnosisReport.LatencyEvidence {
        let ordered = edges.sorted { ($0.shrunk, $1.transition.next) > ($1.shrunk, $0.transition.next) }
        let top = ordered.first
        func r(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
        return .init(
            effect: r(effect), windowMedianMs: top.map { r($0.windowMedianMs) } ?? 0,
            baselineMedianMs: top.map { r($0.baselineMedianMs) } ?? 0, windowSamples: top?.windowSamples ?? 0,
            baselineSamples: top?.baselineSamples ?? 0,
            edges: ordered.prefix(5).map { edge in
                .init(
                    from: describe(edge.transition.previous), to: describe(edge.transition.next),
                    windowMedianMs: r(edge.windowMedianMs), baselineMedianMs: r(edge.baselineMedianMs),
                    windowSamples: edge.windowSamples, baselineSamples: edge.baselineSamples, effect: r(edge.effect))
            })
    }

    func flowEvidence(_ deviation: FlowDeviation) -> DiagnosisReport.FlowEvidence {
        let paths = examplePaths(of: deviation)
        return .init(
            change: deviation.kind.rawValue, event: describe(deviation.event), after: describe(deviation.after),
            windowCount: deviation.windowCount, baselineCount: deviation.baselineCount,
            windowAfterCount: deviation.windowAfterCount, baselineAfterCount: deviation.baselineAfterCount,
            reliability: (deviation.reliability * 1000).rounded() / 1000, pValue: deviation.pValue,
            strength: (deviation.strength * 1000).rounded() / 1000, traces: paths,
            query: paths.first.map { "trace_id:" + $0.traceId })
    }

    /// Requests of the window that show a deviation: for a missing step, requests where its
    /// usual predecessor was not directly followed by it; for a new one, requests that took it.
    func examplePaths(of deviation: FlowDeviation) -> [DiagnosisReport.TracePath] {
        var found: [DiagnosisReport.TracePath] = []
        for (id, trace) in window.traces.sorted(by: { $0.key.description < $1.key.description }) {
            let ordered = trace.sorted(by: TraceEvent.precedes)
            var shows = false
            for (index, event) in ordered.enumerated() where event.event == deviation.after {
                let next = index + 1 < ordered.count ? ordered[index + 1].event : nil
                switch deviation.kind {
                case .missing: shows = shows || next != deviation.event
                case .new: shows = shows || next == deviation.event
                }
            }
            guard shows else { continue }
            var path: [Int] = []
            for event in ordered where path.last != event.workload { path.append(event.workload) }
            found.append(.init(traceId: id.description, path: path.map(name)))
            if found.count >= configuration.tracesPerSuspect { break }
        }
        return found
    }

    /// Errors of anomalous workloads, grouped wherever the stream pauses for longer than a
    /// twentieth of the window (at least 30 s).
    func incidentGroups(anomalous: Set<Int>) -> [DiagnosisReport.IncidentGroup] {
        var events: [(time: Int64, workload: Int)] = []
        for workload in anomalous {
            for time in window.profiles[workload]?.errorTimes ?? [] { events.append((time, workload)) }
            for stat in window.profiles[workload]?.signatures.values.map({ $0 }) ?? [] where stat.first != .max {
                events.append((stat.first, workload))
            }
        }
        events.sort { ($0.time, $0.workload) < ($1.time, $1.workload) }
        let gap = max(Int64(30e9), (window.range.to - window.range.from) / 20)
        var groups: [DiagnosisReport.IncidentGroup] = []
        var current: [(time: Int64, workload: Int)] = []
        func close() {
            guard let first = current.first, let last = current.last else { return }
            var order: [Int] = []
            for event in current where !order.contains(event.workload) { order.append(event.workload) }
            groups.append(.init(
                start: RFC3339.format(nanos: first.time), end: RFC3339.format(nanos: last.time), events: current.count,
                workloads: order.map(name)))
            current = []
        }
        for event in events {
            if let last = current.last, event.time - last.time > gap { close() }
            current.append(event)
        }
        close()
        return groups
    }

    func summary(ranked: [Candidate], failing: [FailingTrace], groups: [DiagnosisReport.IncidentGroup]) -> DiagnosisReport.IncidentSummary {
        let anomalous = ranked.filter { $0.score >= configuration.anomalyThreshold }
        var chains: [[Int]: Int] = [:]
        for trace in failing { chains[trace.chain, default: 0] += 1 }
        let typical = chains.max { ($0.value, $1.key.count) < ($1.value, $0.key.count) }?.key.map(name) ?? []
        let main = groups.max { $0.events < $1.events }
        let text: String
        if let top = anomalous.first {
            let errors = window.profiles[top.workload]?.errors ?? 0
            text = "\(anomalous.count) workload(s) anomalous; most likely origin \(table.workload(top.workload)) "
                + "(score \(String(format: "%.1f", top.score)), \(errors) error(s) in the window, "
                + "first error in \(top.originVotes) of \(failing.count) failing request(s))"
        } else {
            text = "no workload deviates significantly from the baseline"
        }
        return .init(
            start: main?.start, end: main?.end, summary: text, anomalousWorkloads: anomalous.count,
            failingTraces: failing.count, typicalChain: typical, origin: anomalous.first.map { name($0.workload) })
    }

    func timeline(ranked: [Candidate]) -> DiagnosisReport.Timeline {
        let buckets = max(1, configuration.timelineBuckets)
        let width = max(1, (window.range.to - window.range.from + Int64(buckets) - 1) / Int64(buckets))
        let seconds = Double(width) / 1e9
        let series = ranked.prefix(configuration.timelineWorkloads).map { candidate in
            var counts = [Double](repeating: 0, count: buckets)
            for time in window.profiles[candidate.workload]?.errorTimes ?? [] {
                let index = Int((time - window.range.from) / width)
                if index >= 0 && index < buckets { counts[index] += 1 }
            }
            return DiagnosisReport.Timeline.Series(
                workload: name(candidate.workload), errorRate: counts.map { ($0 * 60 / seconds * 100).rounded() / 100 })
        }
        return .init(start: RFC3339.format(nanos: window.range.from), bucketSeconds: seconds, series: series)
    }

    func notes(failing: [FailingTrace], windowFlow: RequestFlow) -> [String] {
        var notes: [String] = []
        let judged = windowFlow.requests + windowFlow.unknownTypes
        if judged > 0, windowFlow.unknownTypes * 20 > judged {
            notes.append(
                "\(windowFlow.unknownTypes) of the window's \(judged) requests are of types the baseline never saw (their first "
                    + "line differs): their steps could not be checked; a baseline that covers them makes the request model see them")
        }
        if baseline.recordCount == 0 {
            notes.append("the baseline holds no records: every template looks new; choose --baseline-from/--baseline-to where the cluster was healthy")
        }
        if window.recordCount == 0 { notes.append("the window holds no records") }
        if window.traces.isEmpty && window.recordCount > 0 {
            notes.append("no trace ids in the window: call chains, missing steps and latencies could not be rebuilt")
        }
        // A weak baseline makes every comparison weak; say so instead of ranking quietly.
        if !window.traces.isEmpty && baseline.traces.count < configuration.minimumBaselineRequests {
            notes.append(
                "the baseline holds only \(baseline.traces.count) request(s) with trace ids: missing steps and latencies are "
                    + "judged on few samples; a longer baseline (--baseline-from) makes them firmer")
        }
        let baselineFailing = failingTraces(of: baseline).count
        if baseline.traces.count > 0, Double(baselineFailing) > 0.05 * Double(baseline.traces.count) {
            notes.append(
                "\(baselineFailing) of the baseline's \(baseline.traces.count) requests logged an error: the baseline is not "
                    + "healthy, so failures it already had do not count as new")
        }
        let absent = window.profiles.keys.filter { baseline.profiles[$0] == nil }.map(name).sorted()
        if !absent.isEmpty && baseline.recordCount > 0 {
            let shown = absent.prefix(5).joined(separator: ", ") + (absent.count > 5 ? ", …" : "")
            notes.append("\(absent.count) workload(s) log in the window but not in the baseline (\(shown)): everything they log looks new")
        }
        return notes
    }
}

/// `-log10 p` when p < 0.05, else 0.
func significantSurprise(_ p: Double) -> Double {
    p < 0.05 ? RateTest.surprise(p) : 0
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    let value = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    return (value * 1000).rounded() / 1000
}

extension Double {
    /// log10 that treats 0 as the smallest double, for ordering p-values.
    var safeLog: Double { Foundation.log10(Swift.max(self, Double.leastNonzeroMagnitude)) }
}

/// Errors of workloads that write no trace ids and are clearly failing (errors rising at
/// p < 0.001), by time: a request whose traced lines break right where one of them logged an
/// error broke there. Background errors of a healthy untraced workload are not used.
struct UntracedFailures {
    private var errorTimes: [Int: [Int64]] = [:]

    init(window: RangeProfile, clearlyFailing: Set<Int>) {
        var traced = Set<Int>()
        for (_, events) in window.traces { for event in events { traced.insert(event.workload) } }
        for workload in clearlyFailing where !traced.contains(workload) {
            let times = (window.profiles[workload]?.errorTimes ?? []).sorted()
            if !times.isEmpty { errorTimes[workload] = times }
        }
    }

    var isEmpty: Bool { errorTimes.isEmpty }

    /// The untraced workload with an error in `[from, to]`, the latest such error winning.
    func culprit(from: Int64, to: Int64) -> Int? {
        var best: (time: Int64, workload: Int)?
        for (workload, times) in errorTimes {
            // The last error at or before `to`.
            var low = 0
            var high = times.count
            while low < high {
                let middle = (low + high) / 2
                if times[middle] <= to { low = middle + 1 } else { high = middle }
            }
            guard low > 0 else { continue }
            let time = times[low - 1]
            guard time >= from else { continue }
            if best == nil || (time, workload) > (best?.time ?? .min, best?.workload ?? .min) { best = (time, workload) }
        }
        return best?.workload
    }

    /// For a missing step: the untraced workload that failed between its predecessor and the
    /// next line in at least half of the requests where the step went missing.
    func culprit(of deviation: FlowDeviation, in traces: [TraceID: [TraceEvent]]) -> Int? {
        guard !isEmpty else { return nil }
        var votes: [Int: Int] = [:]
        var missed = 0
        for (_, trace) in traces {
            let ordered = trace.sorted(by: TraceEvent.precedes)
            for (index, event) in ordered.enumerated() where event.event == deviation.after {
                let next = index + 1 < ordered.count ? ordered[index + 1] : nil
                guard next?.event != deviation.event else { continue }
                missed += 1
                if let culprit = culprit(from: event.time, to: next?.time ?? event.time) { votes[culprit, default: 0] += 1 }
            }
        }
        guard let (workload, count) = votes.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), 2 * count >= missed else {
            return nil
        }
        return workload
    }
}
