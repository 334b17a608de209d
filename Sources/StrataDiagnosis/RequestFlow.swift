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
    /// Requests counted.
    var requests = 0

    struct Transition: Hashable {
        var previous: Int
        var next: Int
    }

    /// Counts the requests of `traces` that started early enough to have finished inside
    /// `range`: a request cut off by the end of the range would look as if its last steps were
    /// missing. `completion` is how long requests usually take (a high percentile, from the
    /// baseline).
    init(traces: [TraceID: [TraceEvent]], range: TimeRange, completion: Int64) {
        let lastStart = range.to - completion
        for (_, events) in traces {
            guard let first = events.first, events.count >= 1 else { continue }
            let ordered = events.count > 1 ? events.sorted(by: TraceEvent.precedes) : events
            guard (ordered.first?.time ?? first.time) <= lastStart else { continue }
            requests += 1
            var previous: TraceEvent?
            for event in ordered {
                occurrences[event.event, default: 0] += 1
                if let previous {
                    let transition = Transition(previous: previous.event, next: event.event)
                    transitions[transition, default: 0] += 1
                    gaps[transition, default: []].append(Double(event.time - previous.time) / 1e6)
                }
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
            durations.append(high - low)
        }
        guard !durations.isEmpty else { return 0 }
        durations.sort()
        let p95 = durations[min(durations.count - 1, durations.count * 95 / 100)]
        return min(p95, (range.to - range.from) / 4)
    }

    /// For every event, the event that most often directly precedes it.
    func predecessors() -> [Int: (event: Int, count: Int)] {
        mostFrequent { ($0.next, $0.previous) }
    }

    /// For every event, the event that most often directly follows it.
    func successors() -> [Int: (event: Int, count: Int)] {
        mostFrequent { ($0.previous, $0.next) }
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
/// A deviation belongs to the workload whose step went missing. A skipped step shows twice — the
/// step is missing after its predecessor, and the predecessor is now directly followed by
/// something else, a transition the baseline never saw — so a new transition is attributed to
/// the workload of the step that reliably came next in the baseline (the earliest deviation of
/// the request), and only to the workload of the new event when nothing reliably came next.
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
            guard strength > 0 else { continue }
            result.append(FlowDeviation(
                kind: .missing, workload: events.workload(of: event), event: event, after: after, windowCount: windowCount, baselineCount: baselineCount,
                windowAfterCount: windowAfter, baselineAfterCount: baselineAfter, reliability: reliability,
                pValue: p, strength: strength))
        }
        // New: a step the baseline never took after a step it knows.
        for (transition, windowCount) in window.transitions where baseline.transitions[transition] == nil {
            guard transition.previous != transition.next, let baselineAfter = baseline.occurrences[transition.previous],
                baselineAfter > 0, let windowAfter = window.occurrences[transition.previous]
            else { continue }
            let p = RateTest.increasePValue(
                window: windowCount, baseline: 0, windowExposure: Double(windowAfter), baselineExposure: Double(baselineAfter))
            let strength = RateTest.surprise(p)
            guard strength > 0 else { continue }
            var owner = events.workload(of: transition.next)
            if let usual = successors[transition.previous], 2 * usual.count >= baselineAfter {
                owner = events.workload(of: usual.event)
            }
            result.append(FlowDeviation(
                kind: .new, workload: owner, event: transition.next, after: transition.previous, windowCount: windowCount,
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
    /// sqrt(min(samples)): how far the medians can be trusted.
    var weight: Double
}

/// Latency as an effect size, not a test statistic: a z value grows with the number of
/// samples, so a busy service going from 2 to 3 ms would beat a quiet one going from 3 ms to
/// 1 s. Per edge, log2 of window median over baseline median (both raised by a floor, so that
/// 0.1 → 0.3 ms is no tripling); per workload, the weighted mean effect over every edge it takes
/// part in (hand-offs to and from it, and gaps between its own lines), shrunk toward zero by a
/// prior weight so that one edge with few samples cannot carry a workload alone.
enum LatencyAnalysis {
    struct Configuration {
        var floorMs = 5.0
        var minimumSamples = 3
        /// Prior weight at effect 0, in the units of `EdgeLatency.weight`.
        var shrinkage = 2.0
    }

    static func edges(window: RequestFlow, baseline: RequestFlow, configuration: Configuration) -> [EdgeLatency] {
        var result: [EdgeLatency] = []
        for (transition, before) in baseline.gaps {
            guard before.count >= configuration.minimumSamples, let after = window.gaps[transition],
                after.count >= configuration.minimumSamples
            else { continue }
            let windowMedian = median(after)
            let baselineMedian = median(before)
            let effect = log2((windowMedian + configuration.floorMs) / (baselineMedian + configuration.floorMs))
            result.append(EdgeLatency(
                transition: transition, windowMedianMs: windowMedian, baselineMedianMs: baselineMedian,
                windowSamples: after.count, baselineSamples: before.count, effect: effect,
                weight: Double(min(after.count, before.count)).squareRoot()))
        }
        return result
    }

    /// Per workload: the shrunk weighted mean effect (0 when not slower) and its edges.
    static func perWorkload(_ edges: [EdgeLatency], events: EventTable, configuration: Configuration) -> [Int: (effect: Double, edges: [EdgeLatency])] {
        var sums: [Int: (weighted: Double, weight: Double, edges: [EdgeLatency])] = [:]
        for edge in edges {
            let from = events.workload(of: edge.transition.previous)
            let to = events.workload(of: edge.transition.next)
            for workload in from == to ? [from] : [from, to] {
                var entry = sums[workload] ?? (0, 0, [])
                entry.weighted += edge.effect * edge.weight
                entry.weight += edge.weight
                entry.edges.append(edge)
                sums[workload] = entry
            }
        }
        return sums.mapValues { entry in
            (max(0, entry.weighted / (entry.weight + configuration.shrinkage)), entry.edges)
        }
    }
}

extension TraceEvent {
    /// Time order; lines stamped alike keep the order they were read in.
    static func precedes(_ a: TraceEvent, _ b: TraceEvent) -> Bool {
        (a.time, a.sequence) < (b.time, b.sequence)
    }
}
