import Foundation
import StrataCore
import Testing

@testable import StrataDiagnosis

// The request model (docs/DIAGNOSIS.md, "Requests"): steps missing or new against the step
// before them, attribution to the earliest deviation, load normalization, latency as an effect
// size. Small synthetic clusters where only one signal can point at the culprit.

private let ms: Int64 = 1_000_000
private let gateway = "gateway-6d9f7b8c5d-bq2xz"
private let orders = "orders-5f6c8d7b9d-k2x7p"
private let stock = "stock-7c8d9f6b5d-x2k9z"
private let ledger = "ledger-8b7c6d5f9d-p4q2w"

/// gateway → orders → stock → orders → ledger → gateway, every service logging a start and an
/// end. `stockSilent`: stock swallows an exception after its first line — it logs nothing more,
/// orders carries on. `ledgerDelayMs` slows ledger's hand-offs. `extra` adds a line in stock.
private func order(
    at start: Int64, id: Int, stockSilent: Bool = false, ledgerDelayMs: Int64 = 0, stockStepMs: Int64 = 1,
    ordersStepMs: Int64 = 1
) -> [LogRecord] {
    let trace = traceID(50_000 + id)
    var t = start
    var lines: [LogRecord] = []
    func log(_ pod: String, _ body: String, after gap: Int64) {
        t += gap * ms
        lines.append(record(t, pod, body, trace: trace))
    }
    log(gateway, "POST /orders user=\(id)", after: 0)
    log(orders, "creating order \(id) with 3 items", after: 1)
    log(stock, "reserving items for order \(id)", after: 1)
    if !stockSilent {
        log(stock, "reserved 3 items in warehouse w\(id % 4)", after: stockStepMs)
    }
    log(orders, "order \(id) reserved", after: ordersStepMs)
    log(ledger, "booking amount \(id * 3).50 for order \(id)", after: 1 + ledgerDelayMs)
    log(ledger, "booked entry e\(id)", after: 1)
    log(orders, "order \(id) complete", after: 1 + ledgerDelayMs)
    log(gateway, "201 /orders in \(t - start) ns", after: 1)
    return lines
}

private func requests(
    count: Int, from start: Int64, every gap: Int64 = 2 * second, idBase: Int,
    _ make: (Int64, Int, Int) -> [LogRecord]
) -> [LogRecord] {
    (0..<count).flatMap { i in make(start + Int64(i) * gap, idBase + i, i) }
}

private let baselineRange = TimeRange(from: t0, to: t0 + 600 * second)
private let windowRange = TimeRange(from: t0 + 600 * second, to: t0 + 720 * second)

private func diagnose(baseline: [LogRecord], window: [LogRecord]) -> DiagnosisReport {
    Diagnoser(configuration: {
        var c = DiagnosisConfiguration()
        c.maxSuspects = 100
        return c
    }()).diagnose(window: windowRange, windowRecords: window, baseline: baselineRange, baselineRecords: baseline)
}

private func healthyBaseline() -> [LogRecord] {
    requests(count: 290, from: baselineRange.from, idBase: 0) { start, id, _ in order(at: start, id: id) }
}

@Test func aSwallowedExceptionIsFoundByTheStepThatWentMissing() throws {
    // Half of the window's requests skip stock's second line; nobody logs an error.
    let window = requests(count: 55, from: windowRange.from, idBase: 1000) { start, id, i in
        order(at: start, id: id, stockSilent: i % 2 == 0)
    }
    let report = diagnose(baseline: healthyBaseline(), window: window)
    let top = try #require(report.suspects.first)
    #expect(top.workload == "stock", "ranking: \(report.suspects.prefix(3).map(\.workload))")
    let missing = try #require(top.evidence.flow?.first)
    #expect(missing.change == "missing")
    #expect(missing.event.workload == "stock")
    #expect(missing.event.template.contains("reserved"))
    #expect(missing.after.template.contains("reserving"))
    #expect(missing.reliability == 1)
    #expect(missing.windowCount < missing.windowAfterCount)
    #expect(!missing.traces.isEmpty)
    #expect(missing.traces[0].path.first == "gateway")
    #expect(missing.query == "trace_id:" + missing.traces[0].traceId)
    #expect(top.evidence.rates.windowErrors == 0)
}

@Test func aNewEventIsChargedToTheStepItReplaced() {
    // When stock gives up after its first line, orders logs a fallback line the baseline never
    // had, where stock's "reserved" used to come. The request deviated at stock's step, so the
    // new event is charged to stock, not to orders, which only reacted.
    var events = EventTable()
    let start = events.id(of: EventKey(workload: 0, location: "", template: "a"), text: "a")
    let reserving = events.id(of: EventKey(workload: 1, location: "", template: "b1"), text: "b1")
    let reserved = events.id(of: EventKey(workload: 1, location: "", template: "b2"), text: "b2")
    let after = events.id(of: EventKey(workload: 0, location: "", template: "a2"), text: "a2")
    let fallback = events.id(of: EventKey(workload: 0, location: "", template: "a3"), text: "a3")
    func trace(_ steps: [Int], id: Int, at: Int64) -> (TraceID, [TraceEvent]) {
        (traceID(id), steps.enumerated().map { index, event in
            TraceEvent(time: at + Int64(index) * ms, workload: events.workload(of: event), level: .normal, event: event, sequence: index)
        })
    }
    var baselineTraces: [TraceID: [TraceEvent]] = [:]
    for i in 0..<100 {
        let (id, steps) = trace([start, reserving, reserved, after], id: i, at: baselineRange.from + Int64(i) * second)
        baselineTraces[id] = steps
    }
    var windowTraces: [TraceID: [TraceEvent]] = [:]
    for i in 0..<40 {
        let steps = i % 2 == 0 ? [start, reserving, fallback, after] : [start, reserving, reserved, after]
        let (id, events) = trace(steps, id: 1000 + i, at: windowRange.from + Int64(i) * second)
        windowTraces[id] = events
    }
    let baseline = RequestFlow(traces: baselineTraces, range: baselineRange, completion: second)
    let window = RequestFlow(traces: windowTraces, range: windowRange, completion: second)
    let deviations = FlowAnalysis.deviations(window: window, baseline: baseline, events: events)
    let new = deviations.filter { $0.kind == .new }
    #expect(new.map(\.event) == [fallback])
    #expect(new.first?.after == reserving)
    #expect(new.first?.workload == 1, "charged to stock (workload 1), not to orders (0)")
    #expect(deviations.filter { $0.kind == .missing }.map(\.event) == [reserved])
    #expect(deviations.allSatisfy { $0.workload == 1 })
}

@Test func steadyErrorsDoNotRiseWithLoad() throws {
    // ledger logs a retry warning and an error on every fourth request, all day. The window
    // carries three times the baseline's traffic; stock really breaks.
    func withBackground(_ lines: [LogRecord], id: Int) -> [LogRecord] {
        guard id % 4 == 0, let last = lines.last else { return lines }
        return lines + [
            record(last.timestamp + ms, ledger, "WARN retrying booking \(id) after lock timeout", severity: .warn, trace: last.traceID),
            record(last.timestamp + 2 * ms, ledger, "ERROR booking retry \(id) gave up; kept for reconciliation", severity: .error, trace: last.traceID),
        ]
    }
    let baseline = requests(count: 290, from: baselineRange.from, idBase: 0) { start, id, _ in
        withBackground(order(at: start, id: id), id: id)
    }
    let window = requests(count: 170, from: windowRange.from, every: 700 * ms, idBase: 5000) { start, id, i in
        withBackground(order(at: start, id: id, stockSilent: i % 3 == 0), id: id)
    }
    let report = diagnose(baseline: baseline, window: window)
    #expect(report.suspects.first?.workload == "stock", "ranking: \(report.suspects.prefix(3).map(\.workload))")
    let ledgerSuspect = report.suspects.first { $0.workload == "ledger" }
    #expect((ledgerSuspect?.scoreComponents.errors ?? 0) == 0, "three times the errors at three times the load is no rise")
    #expect((ledgerSuspect?.scoreComponents.warnings ?? 0) == 0)
}

@Test func latencyIsAnEffectSizeNotASampleCount() throws {
    // orders (busy: every request, several steps) goes from 1 to 2 ms per step; ledger (quiet:
    // its hand-offs once per request) goes from 1 ms to 800 ms. A rank test's z would favour
    // the busy one; the effect size must not.
    let baseline = healthyBaseline()
    let window = requests(count: 55, from: windowRange.from, idBase: 1000) { start, id, _ in
        order(at: start, id: id, ledgerDelayMs: 800, ordersStepMs: 2)
    }
    let report = diagnose(baseline: baseline, window: window)
    let top = try #require(report.suspects.first)
    #expect(top.workload == "ledger", "ranking: \(report.suspects.prefix(3).map(\.workload))")
    let latency = try #require(top.evidence.latency)
    #expect((latency.effect ?? 0) > 2, "800 ms against 1 ms is far more than a doubling")
    let edge = try #require(latency.edges?.first)
    #expect(edge.windowMedianMs > 500 && edge.baselineMedianMs < 10)
}

@Test func aSlowStepInsideOneWorkloadPointsAtIt() throws {
    // CPU contention: the gap between stock's own two lines grows 20-fold; its hand-offs barely move.
    let window = requests(count: 55, from: windowRange.from, idBase: 1000) { start, id, _ in
        order(at: start, id: id, stockStepMs: 40)
    }
    let report = diagnose(baseline: healthyBaseline(), window: window)
    #expect(report.suspects.first?.workload == "stock", "ranking: \(report.suspects.prefix(3).map(\.workload))")
}

@Test func requestsCutOffByTheEndOfTheWindowAreNotCountedAsMissingSteps() {
    // Requests that start in the window's last moments have not finished when it ends.
    var records = healthyBaseline()
    let window = requests(count: 60, from: windowRange.from, idBase: 1000) { start, id, _ in order(at: start, id: id) }
    // The last request starts 1 ms before the end of the window: only its first lines are in it.
    let cut = order(at: windowRange.to - ms, id: 9999).filter { windowRange.contains($0.timestamp) }
    records = window + cut
    let report = diagnose(baseline: healthyBaseline(), window: records)
    #expect(report.suspects.allSatisfy { ($0.scoreComponents.flow ?? 0) < 2 }, "\(report.suspects.map { ($0.workload, $0.scoreComponents.flow ?? 0) })")
}

@Test func eventsAreKeyedByWorkloadLocationAndTemplate() {
    var attributes = LogRecord(timestamp: t0, observedTimestamp: t0, body: "x")
    attributes.attributes = [Attribute("log.logger", "c.s.OrderService"), Attribute("code.line.number", "42")]
    #expect(sourceLocation(of: attributes) == "c.s.OrderService#42")
    #expect(sourceLocation(of: LogRecord(timestamp: t0, observedTimestamp: t0, body: "x")) == "")
    var events = EventTable()
    let a = events.id(of: EventKey(workload: 0, location: "A#1", template: "t"), text: "t")
    let b = events.id(of: EventKey(workload: 0, location: "A#2", template: "t"), text: "t")
    let c = events.id(of: EventKey(workload: 1, location: "A#1", template: "t"), text: "t")
    let again = events.id(of: EventKey(workload: 0, location: "A#1", template: "t"), text: "t")
    #expect(Set([a, b, c]).count == 3)
    #expect(again == a)
}

@Test func requestsOfTypesTheBaselineNeverSawAreLeftOutAndSaidSo() {
    // Half of the window's requests start with a line the baseline never had (a new endpoint):
    // nothing is expected of them, so they cannot miss steps, and the report says they were
    // not checked.
    let window = requests(count: 50, from: windowRange.from, idBase: 1000) { start, id, i in
        var lines = order(at: start, id: id)
        if i % 2 == 0, let first = lines.first {
            lines[0] = record(first.timestamp, gateway, "PUT /carts session=\(id)", trace: first.traceID)
        }
        return lines
    }
    let report = diagnose(baseline: healthyBaseline(), window: window)
    #expect(report.notes.contains { $0.contains("types the baseline never saw") }, "\(report.notes)")
    #expect(report.suspects.allSatisfy { ($0.scoreComponents.flow ?? 0) < 2 }, "\(report.suspects.map { ($0.workload, $0.scoreComponents.flow ?? 0) })")
}
