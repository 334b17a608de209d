import Foundation
import StrataCore

/// What a workload logs at one place in its code: the workload, the source location when the
/// parser found one (logger, file:line, class#line) and the message template. Two lines with
/// the same text from two places are two events; one place whose message varies is one.
struct EventKey: Hashable {
    var workload: Int
    var location: String
    var template: String
}

/// The events of both ranges, numbered.
struct EventTable {
    private(set) var keys: [EventKey] = []
    /// The template text when the event was first seen, for reports.
    private(set) var texts: [String] = []
    private var index: [EventKey: Int] = [:]

    mutating func id(of key: EventKey, text: String) -> Int {
        if let existing = index[key] { return existing }
        let id = keys.count
        keys.append(key)
        texts.append(text)
        index[key] = id
        return id
    }

    func workload(of event: Int) -> Int { keys[event].workload }

    /// Events some of whose lines say a call failed to get through (connection refused, timed
    /// out): they blame whom they called, not the workload that logs them.
    private(set) var blamingCallee: Set<Int> = []

    mutating func markBlamesCallee(_ event: Int) { blamingCallee.insert(event) }
}

/// Record attributes that name the place in the code that logged a line (docs/PARSERS.md),
/// most specific first; their values are joined.
let sourceLocationKeys = ["log.logger", "code.file.path", "code.function.name", "code.line.number", "caller", "logger"]

func sourceLocation(of record: LogRecord) -> String {
    var parts: [String] = []
    for attribute in record.attributes where sourceLocationKeys.contains(attribute.key) {
        parts.append(attribute.value)
    }
    return parts.joined(separator: "#")
}

/// The steps requests take, counted over one range from its traces: how often each event
/// occurs, how often one event directly follows another within a request, and the time between
/// them. A request is the ordered lines that share a trace id, across workloads.
struct RequestFlow {
    /// Occurrences of each event in the requests counted.
    var occurrences: [Int: Int] = [:]
    /// `(previous, next)` → how often `next` directly followed `previous` in a request.
    var transitions: [Transition: Int] = [:]
    /// `(previous, next)` → the gaps between them, in milliseconds.
    var gaps: [Transition: [Double]] = [:]
    /// `(previous, next)` → how often `next`'s workload had already logged in that request: a
    /// hand-off back to a caller (a return) rather than into a callee (a call).
    var returns: [Transition: Int] = [:]
    /// Requests counted.
    var requests = 0
    /// The first events of the requests counted: their request types.
    var entries: Set<Int> = []
    /// Requests left out because the baseline never saw their type.
    var unknownTypes = 0

    struct Transition: Hashable {
        var previous: Int
        var next: Int
    }

    /// Counts the requests of `traces` that started early enough to have finished inside
    /// `range`: a request cut off by the end of the range would look as if its last steps were
    /// missing. `completion` is how long requests usually take (a high percentile, from the
    /// baseline). With `knownTypes`, requests whose first event is not among them are left out:
    /// a request type the baseline never saw has no expected steps to miss, and everything it
    /// logs would look new.
    init(traces: [TraceID: [TraceEvent]], range: TimeRange, completion: Int64, knownTypes: Set<Int>? = nil) {
        // Saturating: ranges come from user input.
        let (lastStart, overflow) = range.to.subtractingReportingOverflow(completion)
        let latestStart = overflow ? Int64.min : lastStart
        for (_, events) in traces {
            let ordered = events.count > 1 ? events.sorted(by: TraceEvent.precedes) : events
            guard let entry = ordered.first, entry.time <= latestStart else { continue }
            if let knownTypes, !knownTypes.contains(entry.event) {
                unknownTypes += 1
                continue
            }
            entries.insert(entry.event)
            requests += 1
            var previous: TraceEvent?
            var seen = Set<Int>()
            for event in ordered {
                occurrences[event.event, default: 0] += 1
                if let previous {
                    let transition = Transition(previous: previous.event, next: event.event)
                    transitions[transition, default: 0] += 1
                    gaps[transition, default: []].append((Double(event.time) - Double(previous.time)) / 1e6)
                    if event.workload != previous.workload && seen.contains(event.workload) {
                        returns[transition, default: 0] += 1
                    }
                }
                seen.insert(event.workload)
                previous = event
            }
        }
    }

    /// How long most requests take, from first to last line: the 95th percentile, at most a
    /// quarter of the range (a long-running stream is not a request).
    static func completionTime(of traces: [TraceID: [TraceEvent]], range: TimeRange) -> Int64 {
        var durations: [Int64] = []
        durations.reserveCapacity(traces.count)
        for (_, events) in traces where events.count > 1 {
            var low = Int64.max
            var high = Int64.min
            for event in events {
                low = min(low, event.time)
                high = max(high, event.time)
            }
            let (duration, overflow) = high.subtractingReportingOverflow(low)
            durations.append(overflow ? .max : duration)
        }
        guard !durations.isEmpty else { return 0 }
        durations.sort()
        let p95 = durations[min(durations.count - 1, durations.count * 95 / 100)]
        let (span, overflow) = range.to.subtractingReportingOverflow(range.from)
        return min(p95, overflow ? .max : max(0, span) / 4)
    }

    /// For every event, the event that most often directly precedes it.
    func predecessors() -> [Int: (event: Int, count: Int)] {
        mostFrequent { ($0.next, $0.previous) }
    }

    /// For every event, the event that most often directly follows it.
    func successors() -> [Int: (event: Int, count: Int)] {
        mostFrequent { ($0.previous, $0.next) }
    }

    /// The step that reliably (at least half the time) came right after `event` when it hands
    /// the request on to another workload that has not logged in it yet — a call into a
    /// callee — with that callee's workload.
    func reliableCall(after event: Int, successors: [Int: (event: Int, count: Int)], events: EventTable) -> (event: Int, workload: Int)? {
        guard let usual = successors[event], let seen = occurrences[event], 2 * usual.count >= seen else { return nil }
        let callee = events.workload(of: usual.event)
        guard callee != events.workload(of: event) else { return nil }
        let transition = Transition(previous: event, next: usual.event)
        guard 2 * (returns[transition] ?? 0) < (transitions[transition] ?? 0) else { return nil }
        return (usual.event, callee)
    }

    private func mostFrequent(_ pair: (Transition) -> (of: Int, neighbour: Int)) -> [Int: (event: Int, count: Int)] {
        var best: [Int: (event: Int, count: Int)] = [:]
        for (transition, count) in transitions {
            let (of, neighbour) = pair(transition)
            if let current = best[of], current.count > count || (current.count == count && current.event < neighbour) {
                continue
            }
            best[of] = (neighbour, count)
        }
        return best
    }
}

/// A step of the requests that went missing, or appeared, in the window.
struct FlowDeviation {
    enum Kind: String { case missing, new }
    var kind: Kind
    /// The workload the deviation is attributed to (see `FlowAnalysis`).
    var workload: Int
    var event: Int
    /// The step it usually follows (missing), or followed in the window (new).
    var after: Int
    var windowCount: Int
    var baselineCount: Int
    var windowAfterCount: Int
    var baselineAfterCount: Int
    /// How reliably `event` followed `after` in the baseline (missing), 1 for new.
    var reliability: Double
    var pValue: Double
    /// `reliability · -log10 p`: the evidence, in decimal digits of surprise.
    var strength: Double
}

/// Finds the steps that requests skip or take anew in the window, each conditioned on the step
/// before it. Conditioning on the predecessor does three things. It normalizes for load and for
/// the mix of requests (an event is compared with the step that leads to it, not with the clock).
/// It localizes a break: when a service stops half-way, its next step goes missing relative to
/// its last one, while every later step — its callees', its callers' — keeps following its own
/// (equally missing) predecessor, so only the first missing step stands out. And it needs no
/// error message: a service that swallows an exception and returns early is found by what it
/// no longer logs.
///
/// A deviation belongs to the workload whose step went missing. A new event takes the place of
/// the step that reliably came next after the line before it, and is charged to the workload
/// where the request deviated first:
/// - logged by another workload than the line before it: to the workload of the replaced step —
///   a callee that stopped short (a swallowed exception, an early return), whose caller only
///   reacted;
/// - logged by the same workload, saying that a call did not get through (connection refused,
///   timed out), where the replaced step was a call into a callee (a workload that had not
///   logged in the request yet): to that callee — it never answered (down, or too slow for a
///   caller that gave up). Without such words the line is the workload's own failure: an
///   exception thrown before the call looks the same in the trace;
/// - otherwise (the workload did something new where it used to hand the answer back): to the
///   workload that logged it.
/// Deviations count at p < 0.05, as error rises do.
enum FlowAnalysis {
    static func deviations(window: RequestFlow, baseline: RequestFlow, events: EventTable) -> [FlowDeviation] {
        var result: [FlowDeviation] = []
        let predecessors = baseline.predecessors()
        let successors = baseline.successors()
        // Missing: an event that usually follows its predecessor does so less in the window.
        for (event, baselineCount) in baseline.occurrences {
            guard let (after, pairCount) = predecessors[event], after != event,
                let baselineAfter = baseline.occurrences[after], baselineAfter > 0
            else { continue }
            let windowAfter = window.occurrences[after] ?? 0
            guard windowAfter > 0 else { continue }
            let windowCount = window.occurrences[event] ?? 0
            let p = RateTest.decreasePValue(
                window: windowCount, baseline: baselineCount,
                windowExposure: Double(windowAfter), baselineExposure: Double(baselineAfter))
            let reliability = min(1, Double(pairCount) / Double(baselineAfter))
            let strength = reliability * RateTest.surprise(p)
            guard p < 0.05, strength > 0 else { continue }
            result.append(FlowDeviation(
                kind: .missing, workload: events.workload(of: event), event: event, after: after, windowCount: windowCount, baselineCount: baselineCount,
                windowAfterCount: windowAfter, baselineAfterCount: baselineAfter, reliability: reliability,
                pValue: p, strength: strength))
        }
        // New: an event the baseline never logged, after a step it knows (the step that most
        // often led to it in the window). Only events that are new as such count: concurrent
        // lines of one request interleave differently when timings change, so a new order of
        // known events is no evidence.
        let windowPredecessors = window.predecessors()
        for (event, windowCount) in window.occurrences where baseline.occurrences[event] == nil {
            guard let (after, _) = windowPredecessors[event], after != event,
                let baselineAfter = baseline.occurrences[after], baselineAfter > 0,
                let windowAfter = window.occurrences[after]
            else { continue }
            let p = RateTest.increasePValue(
                window: windowCount, baseline: 0, windowExposure: Double(windowAfter), baselineExposure: Double(baselineAfter))
            let strength = RateTest.surprise(p)
            guard p < 0.05, strength > 0 else { continue }
            var owner = events.workload(of: event)
            if let usual = successors[after], 2 * usual.count >= baselineAfter, events.workload(of: after) != owner {
                owner = events.workload(of: usual.event)
            } else if events.blamingCallee.contains(event),
                let call = baseline.reliableCall(after: after, successors: successors, events: events)
            {
                // The workload was about to call another and logged, instead, that the call did
                // not get through: the callee never answered (down, too slow).
                owner = call.workload
            }
            result.append(FlowDeviation(
                kind: .new, workload: owner, event: event, after: after, windowCount: windowCount,
                baselineCount: 0, windowAfterCount: windowAfter, baselineAfterCount: baselineAfter, reliability: 1,
                pValue: p, strength: strength))
        }
        return result
    }
}

/// One hand-off or step whose timing changed: the gap between two consecutive lines of a
/// request, window median against baseline median.
struct EdgeLatency {
    var transition: RequestFlow.Transition
    var windowMedianMs: Double
    var baselineMedianMs: Double
    var windowSamples: Int
    var baselineSamples: Int
    /// log2 of the ratio of the medians, each raised by the floor.
    var effect: Double
    /// Squared standard error of `effect`.
    var variance: Double
    /// `effect` shrunk toward 0 by how well the samples determine it.
    var shrunk: Double = 0
    /// The share of `effect` kept, τ² / (τ² + variance).
    var reliability: Double = 0
}

/// Latency as an effect size, not a test statistic: a z value grows with the number of
/// samples, so a busy service going from 2 to 3 ms would beat a quiet one going from 3 ms to
/// 1 s. Per edge (two consecutive lines of a request: a hand-off between workloads, or a step
/// inside one), the effect is log2 of window median over baseline median, each raised by a
/// floor (the millisecond resolution of most application stamps, so that 0.1 → 0.3 ms is no
/// tripling).
///
/// Few samples make a median ratio noisy, so every effect is shrunk toward "no change" by
/// empirical Bayes, with no constant to tune: its squared standard error comes from the spread
/// of its own log gaps (that of a median is π/2 times that of a mean), the spread of true
/// effects τ² from all edges of this diagnosis (method of moments: mean effect² minus mean
/// squared error), and the shrunk effect is `effect · τ² / (τ² + error²)`. Workloads' own
/// slowdowns are then fitted to the shrunk edges (`perWorkload`).
enum LatencyAnalysis {
    struct Configuration {
        var floorMs = 1.0
        /// Samples needed on each side to estimate a spread.
        var minimumSamples = 2
    }

    static func edges(window: RequestFlow, baseline: RequestFlow, configuration: Configuration) -> [EdgeLatency] {
        var result: [EdgeLatency] = []
        let floor = configuration.floorMs
        for (transition, before) in baseline.gaps {
            guard before.count >= configuration.minimumSamples, let after = window.gaps[transition],
                after.count >= configuration.minimumSamples
            else { continue }
            let logBefore = before.map { log2($0 + floor) }
            let logAfter = after.map { log2($0 + floor) }
            let windowMedian = median(after)
            let baselineMedian = median(before)
            let effect = log2((windowMedian + floor) / (baselineMedian + floor))
            // Pooled spread of the log gaps (a slow window must not look noisy by being slow).
            let pooled = (sumOfSquares(logBefore) + sumOfSquares(logAfter)) / Double(max(1, before.count + after.count - 2))
            let variance = Double.pi / 2 * pooled * (1 / Double(before.count) + 1 / Double(after.count))
            result.append(EdgeLatency(
                transition: transition, windowMedianMs: windowMedian, baselineMedianMs: baselineMedian,
                windowSamples: after.count, baselineSamples: before.count, effect: effect, variance: variance))
        }
        guard !result.isEmpty else { return result }
        let meanSquare = result.reduce(0) { $0 + $1.effect * $1.effect } / Double(result.count)
        let meanVariance = result.reduce(0) { $0 + $1.variance } / Double(result.count)
        // At least a tenth of the average error: with no spread of true effects at all, every
        // edge would be shrunk to nothing and no slowdown could ever be seen.
        let spread = max(meanSquare - meanVariance, 0.1 * meanVariance, 1e-6)
        for index in result.indices {
            let reliability = spread / (spread + result[index].variance)
            result[index].reliability = reliability
            result[index].shrunk = result[index].effect * reliability
        }
        return result
    }

    /// Per workload: its own slowdown (0 when not slower) and its edges.
    ///
    /// The gap before a line is spent in two places: in the workload that logs it (processing
    /// what it received) and on the way from the workload that logged the line before (its
    /// network, sending). So an edge's effect is modelled as `processing(workload of the later
    /// line) + sending(workload of the earlier line)` for a hand-off, and `processing(workload)`
    /// for a step inside one workload. A busy CPU stretches the edges into a workload and its
    /// own steps; a slow network the edges out of it. The two slowdowns of every workload are
    /// fitted to all edges at once by non-negative least squares, weighted by reliability
    /// (coordinate descent), and a workload's slowdown is their sum. A neighbour of a slow
    /// workload sees only the edges it shares with it stretched, and those are explained by the
    /// slow workload's term, which its other edges support too.
    static func perWorkload(_ edges: [EdgeLatency], events: EventTable) -> [Int: (effect: Double, edges: [EdgeLatency])] {
        // Unknowns: 2·w is workload w's processing slowdown, 2·w + 1 its sending slowdown.
        var terms: [[Int]] = []
        var byUnknown: [Int: [Int]] = [:]
        var byWorkload: [Int: [Int]] = [:]
        for (index, edge) in edges.enumerated() {
            let from = events.workload(of: edge.transition.previous)
            let to = events.workload(of: edge.transition.next)
            let unknowns = from == to ? [2 * to] : [2 * to, 2 * from + 1]
            terms.append(unknowns)
            for unknown in unknowns { byUnknown[unknown, default: []].append(index) }
            byWorkload[to, default: []].append(index)
            if from != to { byWorkload[from, default: []].append(index) }
        }
        var value: [Int: Double] = byUnknown.mapValues { _ in 0 }
        let order = byUnknown.keys.sorted()
        // A ridge far below any edge's weight: it only splits a stretch that no other edge
        // can attribute (two workloads that talk only to each other) evenly between them.
        let ridge = 1e-3
        for _ in 0..<300 {
            var change = 0.0
            for unknown in order {
                var numerator = 0.0
                var denominator = ridge
                for index in byUnknown[unknown] ?? [] {
                    let others = terms[index].reduce(0.0) { $1 == unknown ? $0 : $0 + (value[$1] ?? 0) }
                    numerator += edges[index].reliability * (edges[index].shrunk - others)
                    denominator += edges[index].reliability
                }
                let updated = max(0, numerator / denominator)
                change = max(change, abs(updated - (value[unknown] ?? 0)))
                value[unknown] = updated
            }
            if change < 1e-9 { break }
        }
        var result: [Int: (effect: Double, edges: [EdgeLatency])] = [:]
        for (workload, indices) in byWorkload {
            result[workload] = ((value[2 * workload] ?? 0) + (value[2 * workload + 1] ?? 0), indices.map { edges[$0] })
        }
        return result
    }

    private static func sumOfSquares(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let mean = values.reduce(0, +) / Double(values.count)
        return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
    }
}

extension TraceEvent {
    /// Time order; lines stamped alike keep the order they were read in.
    static func precedes(_ a: TraceEvent, _ b: TraceEvent) -> Bool {
        (a.time, a.sequence) < (b.time, b.sequence)
    }
}
