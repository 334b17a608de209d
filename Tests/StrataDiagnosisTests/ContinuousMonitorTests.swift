import Foundation
import Logging
import StrataCore
import StrataTestSupport
import Testing

@testable import StrataDiagnosis

// MARK: - A simulated cluster with an injectable clock

/// Short windows so a whole incident plays out in simulated minutes: 60 s window, 600 s
/// baseline, 10 s buckets, 120 s quiet period.
func continuousConfiguration(webhooks: [WebhookConfiguration] = []) -> ContinuousConfiguration {
    var configuration = ContinuousConfiguration()
    configuration.window = 60 * second
    configuration.baseline = 600 * second
    configuration.bucket = 10 * second
    configuration.evaluateEvery = 30 * second
    configuration.minimumBaseline = 300 * second
    configuration.quietPeriod = 120 * second
    configuration.updateInterval = 0
    configuration.webhooks = webhooks
    configuration.externalURL = "http://collector.example:4180"
    return configuration
}

func temporaryDirectory(_ label: String) -> String {
    let path = ScratchDirectory.uniquePath(label)
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let quietLogger = Logger(label: "test.continuous", factory: { _ in SwiftLogNoOpLogHandler() })

/// Feeds the monitor as the collector would: every 2 s a batch (one request), an evaluation
/// every 30 s, with the records also kept for the diagnosis' record source.
final class SimulatedCollector {
    let monitor: IncidentMonitor
    var records: [LogRecord] = []
    var now: Int64
    var changes: [IncidentMonitor.Change] = []
    var outcomes: [IncidentMonitor.Outcome] = []
    private var requestID = 0
    private var nextEvaluation: Int64

    init(monitor: IncidentMonitor, start: Int64) {
        self.monitor = monitor
        now = start
        nextEvaluation = start + monitor.configuration.evaluateEvery
    }

    /// Runs until `end`, each request built by `traffic(time, id)`.
    func run(until end: Int64, traffic: (Int64, Int) -> [LogRecord]) throws {
        while now < end {
            let batch = traffic(now, requestID)
            requestID += 1
            records += batch
            monitor.observe(batch, now: now + 10_000_000)
            now += 2 * second
            if now >= nextEvaluation {
                let outcome = try monitor.evaluate(now: now, source: InMemoryRecordSource(records: records))
                outcomes.append(outcome)
                changes += outcome.changes
                nextEvaluation += monitor.configuration.evaluateEvery
            }
        }
    }
}

func healthy(_ time: Int64, _ id: Int) -> [LogRecord] { request(at: time, id: id, failing: false) }
func dbFailing(_ time: Int64, _ id: Int) -> [LogRecord] { request(at: time, id: id, failing: true) }

/// A fault of its own in `cache`: out of memory, restarting, failing probes, plus db healthy.
func cacheCrashing(_ time: Int64, _ id: Int) -> [LogRecord] {
    request(at: time, id: id, failing: false) + [
        record(time + 500_000_000, "cache-7c9d8f6b5d-x2x4z", "java.lang.OutOfMemoryError: Java heap space", severity: .error),
        record(time + 600_000_000, "cache-7c9d8f6b5d-x2x4z", "Liveness probe failed: HTTP probe failed with statuscode: 500", severity: .error),
        record(time + 700_000_000, "cache-7c9d8f6b5d-x2x4z", "cache shard \(id % 16) unavailable: evicting", severity: .error),
    ]
}

/// The cache's ordinary chatter, so it has a baseline.
func healthyWithCache(_ time: Int64, _ id: Int) -> [LogRecord] {
    request(at: time, id: id, failing: false) + [record(time + 500_000_000, "cache-7c9d8f6b5d-x2x4z", "cache hit ratio \(id % 100)")]
}

// MARK: - State machine

@Test func incidentOpensOnTheFaultAndResolvesAfterTheQuietPeriod() throws {
    let directory = temporaryDirectory("monitor")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(), directory: directory, startedAt: t0, logger: quietLogger,
        templater: { MaskingTemplater() })
    let cluster = SimulatedCollector(monitor: monitor, start: t0)

    // Healthy for 15 minutes: nothing opens (and nothing is judged before 5 minutes of baseline).
    try cluster.run(until: t0 + 900 * second, traffic: healthy)
    #expect(cluster.changes.isEmpty)
    #expect(cluster.outcomes.first?.status == .warmingUp(until: t0 + 360 * second))
    #expect(cluster.outcomes.last?.status == .evaluated)
    #expect(cluster.outcomes.allSatisfy { $0.anomalies.isEmpty })

    // db fails for 4 minutes: one incident opens within a window, naming db.
    try cluster.run(until: t0 + 1140 * second, traffic: dbFailing)
    let opened = try #require(cluster.changes.first)
    #expect(opened.event == .opened && opened.version == 1)
    let incident = try #require(monitor.incident(id: opened.incidentId))
    #expect(incident.state == .open)
    #expect(incident.headline.topSuspect?.workload == "db")
    #expect(incident.report.suspects.first?.workload == "db")
    #expect(incident.anomalies.contains { $0.workload == "db" })
    #expect(incident.openedAt.nanos <= t0 + 990 * second)
    #expect(incident.start.nanos >= t0 + 900 * second)
    // Frozen at opening: the baseline is the healthy stretch before the window.
    #expect(incident.baseline.to.nanos <= t0 + 930 * second)
    #expect(monitor.openIncidentID == opened.incidentId)

    // Healthy again: resolved once the window is clean for the quiet period, not before.
    try cluster.run(until: t0 + 1800 * second, traffic: healthy)
    let resolved = try #require(cluster.changes.last)
    #expect(resolved.event == .resolved && resolved.incidentId == opened.incidentId)
    let final = try #require(monitor.incident(id: opened.incidentId))
    #expect(final.state == .resolved)
    let resolvedAt = try #require(final.resolvedAt).nanos
    let end = try #require(final.end).nanos
    #expect(resolvedAt - end >= 120 * second)
    #expect(end > t0 + 1140 * second && end <= t0 + 1140 * second + 70 * second)
    #expect(monitor.openIncidentID == nil)
    // One incident; every state change is a version and a history entry, in order.
    #expect(Set(cluster.changes.map(\.incidentId)).count == 1)
    #expect(final.history.map(\.version) == Array(1...final.version))
    #expect(final.history.first?.event == .opened && final.history.last?.event == .resolved)
    #expect(monitor.incidents(state: .open).isEmpty)
    #expect(monitor.incidents(state: .resolved).map(\.id) == [opened.incidentId])
}

@Test func anotherWorkloadFailingUpdatesTheOpenIncident() throws {
    let directory = temporaryDirectory("monitor")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(), directory: directory, startedAt: t0, logger: quietLogger,
        templater: { MaskingTemplater() })
    let cluster = SimulatedCollector(monitor: monitor, start: t0)
    try cluster.run(until: t0 + 900 * second, traffic: healthyWithCache)
    try cluster.run(until: t0 + 1080 * second, traffic: dbFailing)
    #expect(cluster.changes.map(\.event) == [.opened])
    let id = try #require(cluster.changes.first?.incidentId)
    #expect(monitor.incident(id: id)?.headline.topSuspect?.workload == "db")

    // db recovers as the cache starts crashing: the same incident now blames the cache.
    try cluster.run(until: t0 + 1260 * second, traffic: cacheCrashing)
    let incident = try #require(monitor.incident(id: id))
    #expect(incident.state == .open)
    #expect(incident.headline.topSuspect?.workload == "cache")
    #expect(incident.headline.severity == .critical)
    let updates = cluster.changes.filter { $0.event == .updated }
    #expect(!updates.isEmpty)
    #expect(cluster.changes.allSatisfy { $0.incidentId == id })
    let update = try #require(incident.history.first { $0.event == .updated && $0.topSuspect?.workload == "cache" })
    #expect(update.reason.contains("top suspect shop/db → shop/cache"))
    // Versions count the notified state changes.
    #expect(incident.version == 1 + updates.count)
}

@Test func updatesWaitForTheUpdateInterval() throws {
    let directory = temporaryDirectory("monitor")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var configuration = continuousConfiguration()
    configuration.updateInterval = 3600 * second
    let monitor = try IncidentMonitor(
        configuration: configuration, directory: directory, startedAt: t0, logger: quietLogger, templater: { MaskingTemplater() })
    let cluster = SimulatedCollector(monitor: monitor, start: t0)
    try cluster.run(until: t0 + 900 * second, traffic: healthyWithCache)
    try cluster.run(until: t0 + 1080 * second, traffic: dbFailing)
    try cluster.run(until: t0 + 1260 * second, traffic: cacheCrashing)
    // The report follows the cache, the notified headline does not until the interval passes.
    let id = try #require(monitor.openIncidentID)
    let incident = try #require(monitor.incident(id: id))
    #expect(cluster.changes.map(\.event) == [.opened])
    #expect(incident.report.suspects.first?.workload == "cache")
    #expect(incident.headline.topSuspect?.workload == "db")
}

@Test func steadyErrorsOpenNothing() throws {
    let directory = temporaryDirectory("monitor")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(), directory: directory, startedAt: t0, logger: quietLogger,
        templater: { MaskingTemplater() })
    let cluster = SimulatedCollector(monitor: monitor, start: t0)
    // One request in ten fails, all along: the weather, not an incident.
    try cluster.run(until: t0 + 2400 * second) { time, id in request(at: time, id: id, failing: id % 10 == 0) }
    #expect(cluster.changes.isEmpty)
    #expect(cluster.outcomes.filter { $0.status == .evaluated }.count > 50)
}

@Test func openIncidentSurvivesARestart() throws {
    let directory = temporaryDirectory("monitor")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let configuration = continuousConfiguration()
    var records: [LogRecord] = []
    var id = ""
    do {
        let monitor = try IncidentMonitor(
            configuration: configuration, directory: directory, startedAt: t0, logger: quietLogger, templater: { MaskingTemplater() })
        let cluster = SimulatedCollector(monitor: monitor, start: t0)
        try cluster.run(until: t0 + 900 * second, traffic: healthy)
        try cluster.run(until: t0 + 1080 * second, traffic: dbFailing)
        id = try #require(monitor.openIncidentID)
        records = cluster.records
    }
    let before = try Data(contentsOf: URL(fileURLWithPath: directory + "/\(id).json"))

    // A new process: the incident is read back, still open, same id and version.
    let restartedAt = t0 + 1080 * second
    let monitor = try IncidentMonitor(
        configuration: configuration, directory: directory, startedAt: restartedAt, logger: quietLogger,
        templater: { MaskingTemplater() })
    let reloaded = try #require(monitor.incident(id: id))
    #expect(monitor.openIncidentID == id)
    #expect(reloaded.state == .open && reloaded.version == 1)
    #expect(try Incident.decoder().decode(Incident.self, from: before) == reloaded)
    // Nothing is judged until the counts cover a window again; the frozen baseline stands in
    // for the baseline the ring lost.
    let early = try monitor.evaluate(now: restartedAt + 30 * second, source: InMemoryRecordSource(records: records))
    #expect(early.status == .warmingUp(until: restartedAt + 60 * second))
    let cluster = SimulatedCollector(monitor: monitor, start: restartedAt)
    cluster.records = records
    try cluster.run(until: t0 + 1500 * second, traffic: healthy)
    #expect(cluster.changes.map(\.event) == [.resolved])
    #expect(cluster.changes.first?.version == 2 && cluster.changes.first?.incidentId == id)
    #expect(monitor.incident(id: id)?.state == .resolved)

    // A third start sees it resolved, and a new incident gets a new sequence number.
    let third = try IncidentMonitor(
        configuration: configuration, directory: directory, startedAt: t0 + 1500 * second, logger: quietLogger)
    #expect(third.openIncidentID == nil)
    #expect(third.incidents().map(\.id) == [id])
    #expect(IncidentMonitor.sequence(of: id) == 1)
}

@Test func warmUpLetsDetectionStartAtOnce() throws {
    let directory = temporaryDirectory("monitor")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var history: [LogRecord] = []
    for i in 0..<450 { history += healthy(t0 + Int64(i) * 2 * second, i) }
    let start = t0 + 900 * second
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(), directory: directory, startedAt: start, logger: quietLogger,
        templater: { MaskingTemplater() })
    #expect(try monitor.evaluate(now: start + 30 * second, source: InMemoryRecordSource(records: history)).status != .evaluated)
    monitor.warmUp(history, completeFrom: t0, now: start)
    let cluster = SimulatedCollector(monitor: monitor, start: start)
    cluster.records = history
    try cluster.run(until: start + 120 * second, traffic: dbFailing)
    #expect(cluster.outcomes.allSatisfy { $0.status == .evaluated })
    #expect(cluster.changes.map(\.event) == [.opened])
}

@Test func resolvedIncidentsAreForgottenAfterKeepResolved() throws {
    let directory = temporaryDirectory("monitor")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var configuration = continuousConfiguration()
    configuration.keepResolved = 600 * second
    let monitor = try IncidentMonitor(
        configuration: configuration, directory: directory, startedAt: t0, logger: quietLogger, templater: { MaskingTemplater() })
    let cluster = SimulatedCollector(monitor: monitor, start: t0)
    try cluster.run(until: t0 + 900 * second, traffic: healthy)
    try cluster.run(until: t0 + 1080 * second, traffic: dbFailing)
    try cluster.run(until: t0 + 1500 * second, traffic: healthy)
    let id = try #require(cluster.changes.last { $0.event == .resolved }?.incidentId)
    #expect(FileManager.default.fileExists(atPath: directory + "/\(id).json"))
    try cluster.run(until: t0 + 2200 * second, traffic: healthy)
    #expect(monitor.incident(id: id) == nil)
    #expect(!FileManager.default.fileExists(atPath: directory + "/\(id).json"))
}

// MARK: - Bounded memory

@Test func ringMemoryStaysBoundedWhateverTheStream() throws {
    let directory = temporaryDirectory("monitor")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var configuration = continuousConfiguration()
    configuration.maxWorkloads = 20
    configuration.maxShapesPerBucket = 8
    let monitor = try IncidentMonitor(
        configuration: configuration, directory: directory, startedAt: t0, logger: quietLogger, templater: { MaskingTemplater() })
    // 40 simulated minutes (the ring spans 11); 200 distinct workloads; every error message of its own shape.
    var now = t0
    var serial = 0
    while now < t0 + 2400 * second {
        var batch: [LogRecord] = []
        for _ in 0..<20 {
            serial += 1
            batch.append(record(now, "worker\(serial % 200)-0", "failed step \(serial) with code \(serial)", severity: .error))
            batch.append(record(now, "worker\(serial % 200)-0", "unexpected state \(["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "zeta", "eta", "theta"][serial % 10])x\(serial % 37 == 0 ? "y" : "") seen", severity: .warn))
        }
        monitor.observe(batch, now: now)
        now += 5 * second
    }
    // Records from before the ring are dropped and counted, not stored.
    monitor.observe([record(t0, "late-0", "ERROR stale", severity: .error)], now: now)
    let statistics = monitor.statistics
    let capacity = Int((configuration.window + configuration.baseline) / configuration.bucket) + 1
    #expect(statistics.ring.buckets == capacity)
    #expect(statistics.ring.filledBuckets <= capacity)
    #expect(statistics.workloads <= configuration.maxWorkloads)
    #expect(statistics.ring.workloadEntries <= capacity * configuration.maxWorkloads)
    #expect(statistics.ring.shapeEntries <= statistics.ring.workloadEntries * configuration.maxShapesPerBucket)
    #expect(statistics.droppedTooOld == 1)
    #expect(statistics.observedRecords == serial * 2 + 1)
}

@Test func ringCountsPerBucketAndSlidesOldBucketsOut() {
    var ring = ActivityRing(bucketNanos: 10 * second, span: 60 * second, maxShapesPerBucket: 3)
    #expect(ring.capacity == 7)
    for offset in stride(from: Int64(0), to: 70, by: 5) {
        ring.add(time: t0 + offset * second, now: t0 + offset * second, workload: 0, level: .error, shape: "s\(offset)", signatures: [])
    }
    // Buckets starting at t0, t0+10 ... t0+60: two records each.
    let all = ring.totals(from: t0, to: t0 + 70 * second)
    #expect(all[0]?.records == 14 && all[0]?.errors == 14)
    #expect(ring.totals(from: t0 + 20 * second, to: t0 + 40 * second)[0]?.records == 4)
    // Three shapes per bucket at most: the third distinct one in a bucket counts as overflow.
    ring.add(time: t0 + 61 * second, now: t0 + 61 * second, workload: 0, level: .error, shape: "x", signatures: [])
    let last = ring.totals(from: t0 + 60 * second, to: t0 + 70 * second)[0]
    #expect(last?.shapes.count == 3 && last?.shapes[WorkloadActivity.overflowShape] == 1)
    // Moving on 10 s evicts the oldest bucket; a record stamped in the future counts now.
    ring.add(time: t0 + 500 * second, now: t0 + 70 * second, workload: 1, level: .normal, shape: nil, signatures: [])
    #expect(ring.totals(from: t0, to: t0 + 10 * second).isEmpty)
    #expect(ring.totals(from: t0 + 70 * second, to: t0 + 80 * second)[1]?.records == 1)
    ring.add(time: t0, now: t0 + 70 * second, workload: 0, level: .error, shape: nil, signatures: [])
    #expect(ring.droppedTooOld == 1)
}

@Test func detectorUsesTheRateTestNotARatio() {
    let detector = AnomalyDetector(thresholds: DetectionThresholds())
    let identity: (Int) -> WorkloadIdentity = { _ in WorkloadIdentity(workload: Workload(namespace: "shop", name: "db"), kind: .statefulSet) }
    // Shares of the workload's own records are compared: the same traffic per second on both
    // sides, 1,000 records in the 60 s window and 10,000 in the 600 s baseline.
    func activity(errors: Int, records: Int, shapes: [String: Int] = [:], signatures: [String: Int] = [:]) -> WorkloadActivity {
        var value = WorkloadActivity()
        value.records = records
        value.errors = errors
        value.shapes = shapes
        value.signatures = signatures
        return value
    }
    // 3 errors against 1 in a baseline 10 times longer: noise.
    #expect(detector.anomalies(window: [0: activity(errors: 3, records: 1000)], windowSeconds: 60, baseline: [0: activity(errors: 1, records: 10000)], baselineSeconds: 600, identity: identity).isEmpty)
    // 300 against 100 in that baseline: an anomaly, for errors.
    let found = detector.anomalies(window: [0: activity(errors: 300, records: 1000)], windowSeconds: 60, baseline: [0: activity(errors: 100, records: 10000)], baselineSeconds: 600, identity: identity)
    #expect(found.count == 1 && found[0].workload == "db" && found[0].reasons[0].hasPrefix("errors 300 vs 100"))
    // The same rate in both: nothing.
    #expect(detector.anomalies(window: [0: activity(errors: 30, records: 1000)], windowSeconds: 60, baseline: [0: activity(errors: 300, records: 10000)], baselineSeconds: 600, identity: identity).isEmpty)
    // A new error shape, and a new self-blaming signature, each suffice.
    let shape = detector.anomalies(
        window: [0: activity(errors: 4, records: 1000, shapes: ["abc": 6])], windowSeconds: 60, baseline: [0: activity(errors: 40, records: 10000)], baselineSeconds: 600,
        identity: identity)
    #expect(shape.first?.reasons.contains { $0.hasPrefix("new error/warning message abc") } == true)
    let oom = detector.anomalies(
        window: [0: activity(errors: 2, records: 1000, signatures: ["oom_killed": 2])], windowSeconds: 60, baseline: [0: activity(errors: 20, records: 10000)],
        baselineSeconds: 600, identity: identity)
    #expect(oom.first?.reasons.contains { $0.hasPrefix("oom_killed 2 vs 0") } == true)
    // Connection errors blame someone else: not an anomaly of the reporter by themselves.
    #expect(detector.anomalies(
        window: [0: activity(errors: 2, records: 1000, signatures: ["connection_refused": 2])], windowSeconds: 60, baseline: [0: activity(errors: 20, records: 10000)],
        baselineSeconds: 600, identity: identity).isEmpty)
}

@Test func configurationRefusesContradictions() {
    var configuration = ContinuousConfiguration()
    configuration.window = 3600 * second
    configuration.baseline = 600 * second
    #expect(throws: ContinuousConfigurationError.self) { try configuration.validate() }
    configuration = ContinuousConfiguration()
    configuration.webhooks = [
        WebhookConfiguration(name: "a", url: "http://x", kind: .json, secret: [1]),
        WebhookConfiguration(name: "a", url: "http://y", kind: .slack, secret: [1]),
    ]
    #expect(throws: ContinuousConfigurationError.self) { try configuration.validate() }
    configuration.webhooks = [WebhookConfiguration(name: "a", url: "ftp://x", kind: .json, secret: [1])]
    #expect(throws: ContinuousConfigurationError.self) { try configuration.validate() }
    configuration.webhooks = [WebhookConfiguration(name: "a", url: "https://x", kind: .json, secret: [])]
    #expect(throws: ContinuousConfigurationError.self) { try configuration.validate() }
    configuration.webhooks = [WebhookConfiguration(name: "a", url: "https://x", kind: .json, secret: [1])]
    #expect(throws: Never.self) { try configuration.validate() }
}

@Test func unreadableIncidentFilesAreSetAsideNotFatal() throws {
    let directory = temporaryDirectory("monitor")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try Data("{not json".utf8).write(to: URL(fileURLWithPath: directory + "/inc-broken-1.json"))
    try Data("partial".utf8).write(to: URL(fileURLWithPath: directory + "/inc-x-2.json.tmp"))
    let monitor = try IncidentMonitor(
        configuration: continuousConfiguration(), directory: directory, startedAt: t0, logger: quietLogger)
    #expect(monitor.incidents().isEmpty)
    #expect(FileManager.default.fileExists(atPath: directory + "/inc-broken-1.json.unreadable"))
    #expect(!FileManager.default.fileExists(atPath: directory + "/inc-x-2.json.tmp"))
}

// MARK: - The request check

/// db stops logging its step (it answers from a stale cache after swallowing an exception);
/// api and frontend carry on and log success. No error, warning or new message anywhere.
func dbSilent(_ time: Int64, _ id: Int) -> [LogRecord] {
    request(at: time, id: id, failing: false).filter { !($0.resource[ResourceKey.pod] ?? "").hasPrefix("db") }
}

/// 15 healthy minutes, then 5 with db silent, on a monitor in a fresh directory.
func runSilentDatabase(_ configuration: ContinuousConfiguration) throws -> (monitor: IncidentMonitor, cluster: SimulatedCollector) {
    let directory = temporaryDirectory("monitor-requests")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let monitor = try IncidentMonitor(
        configuration: configuration, directory: directory, startedAt: t0, logger: quietLogger, templater: { MaskingTemplater() })
    let cluster = SimulatedCollector(monitor: monitor, start: t0)
    try cluster.run(until: t0 + 900 * second, traffic: healthy)
    #expect(cluster.changes.isEmpty)
    #expect(cluster.outcomes.allSatisfy { $0.anomalies.isEmpty })
    try cluster.run(until: t0 + 1200 * second, traffic: dbSilent)
    return (monitor, cluster)
}

@Test func aSilentFaultIsDetectedByTheRequestCheck() throws {
    let (monitor, cluster) = try runSilentDatabase(continuousConfiguration())
    let opened = try #require(cluster.changes.first, "no incident for a fault that logs nothing")
    #expect(opened.event == .opened)
    let incident = try #require(monitor.incident(id: opened.incidentId))
    #expect(incident.headline.topSuspect?.workload == "db")
    #expect(incident.anomalies.first?.workload == "db")
    #expect(incident.anomalies.first?.reasons.first?.hasPrefix("missing step") == true, "\(incident.anomalies)")
    #expect(incident.report.suspects.first?.evidence.flow?.first?.change == "missing")
}

@Test func theRequestCheckCanBeTurnedOff() throws {
    var configuration = continuousConfiguration()
    configuration.requestCheckEvery = 0
    let (_, cluster) = try runSilentDatabase(configuration)
    #expect(cluster.changes.isEmpty, "without the request check, counts alone cannot see it")
}
