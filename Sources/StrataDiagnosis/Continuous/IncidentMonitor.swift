import Foundation
import Logging
import StrataCore
import Synchronization

/// Continuous mode (docs/DIAGNOSIS.md, "Continuous mode"). The collector calls `observe` after
/// every acknowledged ingest: it only counts, per workload and time bucket, into a ring that
/// covers the window plus the baseline. A periodic `evaluate` tests the sliding window against
/// the baseline on those counts, and only when something is anomalous reads the records back
/// (from the store, through a `RecordSource`) for a full diagnosis that ranks the suspects.
/// The incident state machine: open on an anomaly; update when the headline (top suspect,
/// severity, anomalous top suspects) changes materially; resolve after a quiet period. Every
/// state change is persisted together with one pending notification per webhook.
///
/// At most one incident is open at a time: the diagnosis already groups and ranks every
/// anomalous workload, so a second fault while one is open shows as an update.
public final class IncidentMonitor: Sendable {
    public let configuration: ContinuousConfiguration
    let store: IncidentStore
    let logger: Logger
    let makeTemplater: @Sendable () -> any MessageTemplating
    /// Told what happens, for monitoring (the collector exports it to Prometheus).
    let metrics: any ContinuousMetrics

    struct Activity {
        var ring: ActivityRing
        var directory: WorkloadDirectory
        /// Counts are complete from here on (the first bucket boundary after the start).
        var coveredSince: Int64
        var observedRecords = 0
    }

    struct Book {
        var incidents: [String: Incident] = [:]
        var openID: String?
        var sequence = 0
        /// The end of the first window of the current run of anomalous evaluations.
        var anomalousSince: Int64?
        /// The last request check: when it ran and what it found (kept until the next one, so
        /// that its anomalies can last `openAfter` between checks).
        var requestCheck: (at: Int64, anomalies: [WorkloadAnomaly])?
        /// Incidents whose last save failed; retried at every evaluation and delivery.
        var unsaved: Set<String> = []
    }

    /// The counts one evaluation judges, copied out of the lock.
    struct Counts {
        var window: [Int: WorkloadActivity]
        var baseline: [Int: WorkloadActivity]
        var baselineRange: TimeRange
        var identities: [WorkloadIdentity]
    }

    private let activity: Mutex<Activity>
    private let book: Mutex<Book>
    private let evaluating = Mutex(false)

    /// - Parameters:
    ///   - directory: where incidents are kept (`IncidentStore.directory(inDataDirectory:)`).
    ///   - startedAt: counts are complete from the first bucket after this time.
    ///   - templater: a fresh templater per diagnosis (the default is the product's miner).
    ///   - metrics: what to tell about observations, evaluations, state changes and deliveries.
    public init(
        configuration: ContinuousConfiguration, directory: String, startedAt: Int64, logger: Logger,
        templater: @escaping @Sendable () -> any MessageTemplating = { DiagnosisTemplater.make() },
        metrics: any ContinuousMetrics = NoContinuousMetrics()
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        makeTemplater = templater
        self.metrics = metrics
        store = try IncidentStore(directory: directory)
        let bucket = configuration.bucket
        activity = Mutex(Activity(
            ring: ActivityRing(
                bucketNanos: bucket, span: configuration.window + configuration.baseline,
                maxShapesPerBucket: configuration.maxShapesPerBucket),
            directory: WorkloadDirectory(maxWorkloads: configuration.maxWorkloads),
            coveredSince: Self.ceiling(startedAt, to: bucket)))

        var loadedBook = Book()
        let loaded = store.loadAll()
        for problem in loaded.problems { logger.error("incident store: \(problem)") }
        let webhookNames = Set(configuration.webhooks.map(\.name))
        for var incident in loaded.incidents {
            // Notifications for a webhook no longer configured cannot be sent; keep them visible.
            let orphans = incident.outbox.filter { !webhookNames.contains($0.webhook) }
            if !orphans.isEmpty {
                incident.outbox.removeAll { !webhookNames.contains($0.webhook) }
                incident.failedNotifications += orphans.map { orphan in
                    var failed = orphan
                    failed.lastError = "webhook '\(orphan.webhook)' is no longer configured"
                    return failed
                }
                loadedBook.unsaved.insert(incident.id)
                logger.warning("dropping \(orphans.count) pending notification(s) of incident \(incident.id) for webhooks no longer configured")
            }
            loadedBook.incidents[incident.id] = incident
            loadedBook.sequence = max(loadedBook.sequence, Self.sequence(of: incident.id))
        }
        let open = loadedBook.incidents.values.filter { $0.state == .open }.sorted { $0.openedAt < $1.openedAt }
        loadedBook.openID = open.last?.id
        if open.count > 1 {
            // Only one incident is ever open; several mean the files were edited or mixed.
            logger.error("\(open.count) incidents are open in \(directory); continuing \(open.last?.id ?? "") and leaving the others as they are")
        }
        book = Mutex(loadedBook)
        flushUnsaved()
        reportBacklog()
    }

    // MARK: ingest path

    /// Counts records per workload and bucket. Called after every acknowledged ingest; costs a
    /// level check per record (a body scan only when the record has no severity), a shape and a
    /// signature scan only for errors and warnings.
    public func observe(_ records: [LogRecord], now: Int64) {
        guard !records.isEmpty else { return }
        struct Classified {
            var level: RecordLevel
            var shape: String?
            var signatures: [FailureSignature]
        }
        // Classification runs outside the lock; only the counting is serialized.
        let classified = records.map { record -> Classified in
            let level = RecordLevel.of(severity: record.severity, body: record.body)
            guard level >= .warning else { return Classified(level: level, shape: nil, signatures: []) }
            return Classified(
                level: level, shape: MessageShape.key(of: record),
                signatures: BodySignals.signatures(in: record.body).map(\.signature))
        }
        activity.withLock { state in
            var previousResource: Resource?
            var previousIndex = 0
            for (record, info) in zip(records, classified) {
                // Batches come file by file, so consecutive records mostly share a resource.
                let index: Int
                if let previousResource, previousResource == record.resource {
                    index = previousIndex
                } else {
                    index = state.directory.index(of: record.resource)
                    previousResource = record.resource
                    previousIndex = index
                }
                state.ring.add(
                    time: record.timestamp, now: now, workload: index, level: info.level, shape: info.shape,
                    signatures: info.signatures)
            }
            state.observedRecords += records.count
        }
        metrics.observed(records: records.count)
    }

    /// Counts records that arrived before this process started (read back from the store), so
    /// detection does not wait for a full baseline after a restart. `from` is where those
    /// records start to be complete.
    public func warmUp(_ records: [LogRecord], completeFrom from: Int64, now: Int64) {
        observe(records, now: now)
        let aligned = Self.ceiling(from, to: configuration.bucket)
        activity.withLock { $0.coveredSince = min($0.coveredSince, aligned) }
    }

    // MARK: evaluation

    public struct Change: Sendable, Equatable {
        public var incidentId: String
        public var version: Int
        public var event: IncidentEvent
    }

    public struct Outcome: Sendable {
        public enum Status: Sendable, Equatable {
            case evaluated
            /// Counts do not yet cover the window (or, with no incident open, the minimum
            /// baseline) since the start: nothing is judged until `until`.
            case warmingUp(until: Int64)
            /// Another evaluation is still running.
            case busy
        }
        public var status: Status
        public var window: TimeRange?
        public var anomalies: [WorkloadAnomaly] = []
        /// Since when evaluations have found anomalies without a break (nil: this one found none).
        public var anomalousSince: Int64?
        public var changes: [Change] = []
    }

    /// Judges the window ending at the start of the current bucket and drives the state
    /// machine. `source` is read only when an anomaly is found (window and baseline). Throws
    /// when the source cannot be read; nothing changes then, and the next evaluation retries.
    @discardableResult
    public func evaluate(now: Int64, source: some RecordSource) throws -> Outcome {
        guard evaluating.withLock({ busy in
            if busy { return false }
            busy = true
            return true
        }) else {
            metrics.evaluated(.busy, anomalousWorkloads: 0, duration: nil)
            return Outcome(status: .busy)
        }
        defer { evaluating.withLock { $0 = false } }
        let started = ContinuousClock.now
        let outcome: Outcome
        do {
            outcome = try evaluateExclusively(now: now, source: source)
        } catch {
            metrics.evaluated(.failed, anomalousWorkloads: 0, duration: started.duration(to: .now))
            throw error
        }
        let result: EvaluationResult = outcome.status == .evaluated ? .evaluated : .warmingUp
        metrics.evaluated(result, anomalousWorkloads: outcome.anomalies.count, duration: started.duration(to: .now))
        for change in outcome.changes { metrics.incidentChanged(change.event) }
        reportBacklog()
        return outcome
    }

    /// `evaluate` once it holds the right to run.
    private func evaluateExclusively(now: Int64, source: some RecordSource) throws -> Outcome {
        flushUnsaved()

        let bucket = configuration.bucket
        let end = Self.floor(now, to: bucket)
        let window = TimeRange(from: end - configuration.window, to: end)
        let (open, runningSince) = book.withLock { book in (book.openID.flatMap { book.incidents[$0] }, book.anomalousSince) }
        // While an anomaly waits for `openAfter`, the baseline stays before its first window,
        // so the incident is not compared with its own beginning.
        let baselineEnd = min(window.from, (runningSince ?? end) - configuration.window)

        let counts: Counts? = activity.withLock { state in
            guard window.from >= state.coveredSince else { return nil }
            var baselineRange: TimeRange
            var baseline: [Int: WorkloadActivity] = [:]
            if let open {
                baselineRange = TimeRange(from: open.baseline.from.nanos, to: open.baseline.to.nanos)
                for entry in open.baseline.workloads {
                    let identity = WorkloadIdentity(
                        workload: Workload(namespace: entry.namespace, name: entry.workload),
                        kind: WorkloadKind(rawValue: entry.kind) ?? .pod)
                    baseline[state.directory.index(of: identity), default: WorkloadActivity()].merge(entry.activity)
                }
            } else {
                baselineRange = TimeRange(from: max(baselineEnd - configuration.baseline, state.coveredSince), to: baselineEnd)
                guard baselineRange.to - baselineRange.from >= configuration.minimumBaseline else { return nil }
                baseline = state.ring.totals(from: baselineRange.from, to: baselineRange.to)
            }
            return Counts(
                window: state.ring.totals(from: window.from, to: window.to), baseline: baseline,
                baselineRange: baselineRange, identities: state.directory.identities)
        }
        guard let counts else {
            let covered = activity.withLock { $0.coveredSince }
            let until = open == nil ? covered + configuration.minimumBaseline + configuration.window : covered + configuration.window
            return Outcome(status: .warmingUp(until: until), window: window)
        }

        let detector = AnomalyDetector(thresholds: configuration.detection)
        var anomalies = detector.anomalies(
            window: counts.window, windowSeconds: window.seconds, baseline: counts.baseline,
            baselineSeconds: counts.baselineRange.seconds, identity: { counts.identities[$0] })
        if anomalies.isEmpty {
            anomalies = try requestCheck(window: window, baselineEnd: counts.baselineRange.to, now: now, end: end, source: source, detector: detector)
        }
        var outcome = Outcome(status: .evaluated, window: window, anomalies: anomalies)
        // No incident opens on one evaluation alone: the anomaly must last `openAfter`, which
        // also gives the ranking more than the first few failing requests to go on.
        let anomalousSince: Int64? = book.withLock { book in
            book.anomalousSince = anomalies.isEmpty ? nil : (book.anomalousSince ?? end)
            return book.anomalousSince
        }
        outcome.anomalousSince = anomalousSince
        let confirmed = open != nil || anomalousSince.map { end - $0 >= configuration.openAfter } == true

        // The full diagnosis reads the records back; it runs only when the counts say so.
        let report: DiagnosisReport?
        if anomalies.isEmpty || !confirmed {
            report = nil
        } else {
            let windowRecords = try source.records(in: window)
            let baselineRecords = try source.records(in: counts.baselineRange)
            let diagnoser = Diagnoser(configuration: configuration.diagnosis, templater: makeTemplater())
            report = diagnoser.diagnose(
                window: window, windowRecords: windowRecords, baseline: counts.baselineRange, baselineRecords: baselineRecords,
                generatedAt: now)
        }

        let frozen: FrozenBaseline? = open == nil && report != nil
            ? FrozenBaseline(
                from: IncidentTime(counts.baselineRange.from), to: IncidentTime(counts.baselineRange.to),
                workloads: counts.baseline.sorted { $0.key < $1.key }.map { index, activity in
                    let identity = counts.identities[index]
                    return FrozenBaseline.Entry(
                        namespace: identity.workload.namespace, workload: identity.workload.name, kind: identity.kind.rawValue,
                        activity: activity)
                })
            : nil

        outcome.changes = book.withLock { book -> [Change] in
            var changes: [Change] = []
            if let openID = book.openID, var incident = book.incidents[openID] {
                if let report {
                    incident.lastAnomalyAt = IncidentTime(end)
                    incident.anomalies = anomalies
                    incident.report = report
                    incident.reportAt = IncidentTime(now)
                    var fresh = headline(of: report, anomalies: anomalies)
                    // Severity only escalates within an incident: a score hovering around
                    // `criticalScore` must not page with every wobble.
                    if incident.headline.severity == .critical { fresh.severity = .critical }
                    if fresh.differsMaterially(from: incident.headline), now - incident.updatedAt.nanos >= configuration.updateInterval {
                        let previous = incident.headline
                        incident.headline = fresh
                        let reason = Self.changeReason(from: previous, to: fresh)
                        transition(&incident, event: .updated, at: now, reason: reason, previous: previous)
                        changes.append(Change(incidentId: incident.id, version: incident.version, event: .updated))
                    }
                } else if end - incident.lastAnomalyAt.nanos >= configuration.quietPeriod {
                    incident.state = .resolved
                    incident.resolvedAt = IncidentTime(now)
                    incident.end = incident.lastAnomalyAt
                    incident.anomalies = []
                    let quiet = WebhookPayload.durationText(end - incident.lastAnomalyAt.nanos)
                    transition(&incident, event: .resolved, at: now, reason: "no anomaly for \(quiet)", previous: nil)
                    changes.append(Change(incidentId: incident.id, version: incident.version, event: .resolved))
                    book.openID = nil
                } else {
                    return changes
                }
                book.incidents[incident.id] = incident
                save(incident, book: &book)
            } else if let report, let frozen {
                book.sequence += 1
                let id = Self.incidentID(at: now, sequence: book.sequence)
                let start = report.incident.start.flatMap(RFC3339Parser.parse).map { min($0, window.to) } ?? window.from
                var incident = Incident(
                    id: id, state: .open, version: 0, openedAt: IncidentTime(now), updatedAt: IncidentTime(now),
                    resolvedAt: nil, start: IncidentTime(start), end: nil, lastAnomalyAt: IncidentTime(end),
                    headline: headline(of: report, anomalies: anomalies), anomalies: anomalies, report: report,
                    reportAt: IncidentTime(now), history: [], baseline: frozen, outbox: [], failedNotifications: [])
                transition(&incident, event: .opened, at: now, reason: anomalies.first.map(Self.anomalyText) ?? "anomaly", previous: nil)
                book.incidents[id] = incident
                book.openID = id
                changes.append(Change(incidentId: id, version: incident.version, event: .opened))
                save(incident, book: &book)
            }
            prune(&book, now: now)
            return changes
        }
        for change in outcome.changes {
            logger.notice("incident \(change.incidentId) \(change.event.rawValue) (version \(change.version))")
        }
        return outcome
    }

    /// Records a state change: version, history, and one pending notification per webhook.
    private func transition(_ incident: inout Incident, event: IncidentEvent, at now: Int64, reason: String, previous: IncidentHeadline?) {
        incident.version += 1
        incident.updatedAt = IncidentTime(now)
        incident.history.append(IncidentTransition(
            version: incident.version, event: event, at: IncidentTime(now), severity: incident.headline.severity,
            topSuspect: incident.headline.topSuspect, reason: reason))
        for webhook in configuration.webhooks {
            do {
                let body = try WebhookPayload.render(
                    kind: webhook.kind, event: event, incident: incident, previous: previous, at: now,
                    externalURL: configuration.externalURL)
                incident.outbox.append(PendingNotification(
                    key: "\(incident.id):\(incident.version)", webhook: webhook.name, incidentId: incident.id,
                    version: incident.version, event: event, body: body, createdAt: IncidentTime(now), attempts: 0,
                    nextAttemptAt: IncidentTime(now), lastError: nil))
            } catch {
                logger.error("cannot render the \(webhook.kind.rawValue) notification for incident \(incident.id): \(error)")
            }
        }
    }

    /// The request check (`requestCheckEvery`): errors and message counts cannot see a service
    /// that fails silently, so every so often the window's requests are read back and compared
    /// with those just before it, step by step. What it finds stands until the next check.
    private func requestCheck(
        window: TimeRange, baselineEnd: Int64, now: Int64, end: Int64, source: some RecordSource, detector: AnomalyDetector
    ) throws -> [WorkloadAnomaly] {
        guard configuration.requestCheckEvery > 0 else { return [] }
        let previous = book.withLock { $0.requestCheck }
        if let previous, end - previous.at < configuration.requestCheckEvery { return previous.anomalies }
        let baseline = TimeRange(from: baselineEnd - min(configuration.requestBaseline, configuration.baseline), to: baselineEnd)
        let covered = activity.withLock { $0.coveredSince }
        guard baseline.from >= covered else { return [] }
        let windowRecords = try source.records(in: window)
        let baselineRecords = try source.records(in: baseline)
        var diagnosis = configuration.diagnosis
        diagnosis.maxSuspects = max(diagnosis.maxSuspects, 50)
        let report = Diagnoser(configuration: diagnosis, templater: makeTemplater()).diagnose(
            window: window, windowRecords: windowRecords, baseline: baseline, baselineRecords: baselineRecords, generatedAt: now)
        let found = detector.requestAnomalies(report)
        book.withLock { $0.requestCheck = (end, found) }
        return found
    }

    func headline(of report: DiagnosisReport, anomalies: [WorkloadAnomaly]) -> IncidentHeadline {
        func ref(_ suspect: DiagnosisReport.Suspect) -> IncidentHeadline.SuspectRef {
            .init(namespace: suspect.namespace, workload: suspect.workload, score: suspect.score)
        }
        let top = report.suspects.first.map(ref)
            ?? anomalies.first.map { IncidentHeadline.SuspectRef(namespace: $0.namespace, workload: $0.workload, score: 0) }
        let threshold = configuration.diagnosis.anomalyThreshold
        let anomalous = report.suspects.prefix(3).filter { $0.score >= threshold }.map(ref)
        let selfBlame = (report.suspects.first?.scoreComponents.signatures ?? 0) > 0
        let severity: IncidentSeverity = (top?.score ?? 0) >= configuration.criticalScore || selfBlame ? .critical : .warning
        return IncidentHeadline(severity: severity, topSuspect: top, anomalousSuspects: anomalous, summary: report.incident.summary)
    }

    static func changeReason(from old: IncidentHeadline, to new: IncidentHeadline) -> String {
        var parts: [String] = []
        if old.topSuspect?.name != new.topSuspect?.name {
            parts.append("top suspect \(old.topSuspect?.name ?? "none") → \(new.topSuspect?.name ?? "none")")
        }
        if old.severity != new.severity { parts.append("severity \(old.severity.rawValue) → \(new.severity.rawValue)") }
        let before = old.anomalousSuspects.map(\.name)
        let after = new.anomalousSuspects.map(\.name)
        if Set(before) != Set(after) {
            parts.append("anomalous suspects [\(before.joined(separator: ", "))] → [\(after.joined(separator: ", "))]")
        }
        return parts.joined(separator: "; ")
    }

    static func anomalyText(_ anomaly: WorkloadAnomaly) -> String {
        let name = anomaly.namespace.isEmpty ? anomaly.workload : "\(anomaly.namespace)/\(anomaly.workload)"
        return "\(name): \(anomaly.reasons.first ?? "anomalous")"
    }

    /// Forgets resolved incidents past `keepResolved`, or beyond `maxResolved`, once nothing is
    /// pending for them.
    private func prune(_ book: inout Book, now: Int64) {
        let resolved = book.incidents.values.filter { $0.state == .resolved && $0.outbox.isEmpty }
            .sorted { ($0.resolvedAt ?? $0.updatedAt) > ($1.resolvedAt ?? $1.updatedAt) }
        for (rank, incident) in resolved.enumerated() {
            let age = now - (incident.resolvedAt ?? incident.updatedAt).nanos
            guard age > configuration.keepResolved || rank >= configuration.maxResolved else { continue }
            do {
                try store.remove(id: incident.id)
                book.incidents[incident.id] = nil
                book.unsaved.remove(incident.id)
            } catch {
                logger.error("cannot forget incident \(incident.id): \(error)")
            }
        }
    }

    private func save(_ incident: Incident, book: inout Book) {
        do {
            try store.save(incident)
            book.unsaved.remove(incident.id)
        } catch {
            // Kept in memory and retried; notifications still go out from memory meanwhile.
            book.unsaved.insert(incident.id)
            logger.error("cannot save incident \(incident.id) (retried at the next evaluation): \(error)")
        }
    }

    private func flushUnsaved() {
        book.withLock { book in
            for id in book.unsaved.sorted() {
                guard let incident = book.incidents[id] else {
                    book.unsaved.remove(id)
                    continue
                }
                save(incident, book: &book)
            }
        }
    }

    // MARK: outbox

    /// What happened to one delivery attempt.
    public enum DeliveryResult: Sendable, Equatable {
        case delivered(attempts: Int)
        case retry(at: Int64, attempts: Int, error: String)
        /// Given up: attempts exhausted, or a refusal that retrying cannot fix.
        case failed(attempts: Int, error: String)
    }

    /// Every pending notification, oldest state change first.
    public func pendingNotifications() -> [PendingNotification] {
        book.withLock { book in
            book.incidents.values.flatMap(\.outbox).sorted {
                ($0.createdAt, $0.incidentId, $0.version, $0.webhook) < ($1.createdAt, $1.incidentId, $1.version, $1.webhook)
            }
        }
    }

    /// Applies a delivery attempt's result to the outbox and persists the incident.
    public func record(_ result: DeliveryResult, for notification: PendingNotification) {
        let kind = configuration.webhooks.first { $0.name == notification.webhook }?.kind
        switch result {
        case .delivered: metrics.delivery(.delivered, webhook: notification.webhook, kind: kind)
        case .retry: metrics.delivery(.retried, webhook: notification.webhook, kind: kind)
        case .failed: metrics.delivery(.failed, webhook: notification.webhook, kind: kind)
        }
        defer { reportBacklog() }
        book.withLock { book in
            guard var incident = book.incidents[notification.incidentId],
                let index = incident.outbox.firstIndex(where: { $0.key == notification.key && $0.webhook == notification.webhook })
            else { return }
            switch result {
            case .delivered:
                incident.outbox.remove(at: index)
            case .retry(let at, let attempts, let error):
                incident.outbox[index].attempts = attempts
                incident.outbox[index].nextAttemptAt = IncidentTime(at)
                incident.outbox[index].lastError = error
            case .failed(let attempts, let error):
                var failed = incident.outbox.remove(at: index)
                failed.attempts = attempts
                failed.lastError = error
                incident.failedNotifications.append(failed)
                // The body is the bulk of an entry and is no longer needed to show the failure.
                if incident.failedNotifications.count > 50 { incident.failedNotifications.removeFirst() }
            }
            book.incidents[incident.id] = incident
            save(incident, book: &book)
        }
    }

    /// Reads and reports under the lock, so that of two concurrent reports the last one set is
    /// never older than the state it follows.
    private func reportBacklog() {
        book.withLock { book in
            metrics.backlog(
                openIncidents: book.openID == nil ? 0 : 1,
                pendingNotifications: book.incidents.values.reduce(0) { $0 + $1.outbox.count })
        }
    }

    // MARK: reading

    /// Newest first; `state` nil means all.
    public func incidents(state: IncidentState? = nil) -> [IncidentSummary] {
        book.withLock { book in
            book.incidents.values.filter { state == nil || $0.state == state }
                .sorted { ($0.openedAt, $0.id) > ($1.openedAt, $1.id) }
                .map(\.summary)
        }
    }

    public func incident(id: String) -> Incident? { book.withLock { $0.incidents[id] } }

    public var openIncidentID: String? { book.withLock { $0.openID } }

    public struct Statistics: Sendable, Equatable {
        public var observedRecords: Int
        public var droppedTooOld: Int
        public var workloads: Int
        public var ring: RingFootprint
        public var openIncidents: Int
        public var pendingNotifications: Int
    }

    public var statistics: Statistics {
        let (observed, dropped, workloads, ring) = activity.withLock {
            ($0.observedRecords, $0.ring.droppedTooOld, $0.directory.count, $0.ring.footprint)
        }
        let (open, pending) = book.withLock { ($0.openID == nil ? 0 : 1, $0.incidents.values.reduce(0) { $0 + $1.outbox.count }) }
        return Statistics(
            observedRecords: observed, droppedTooOld: dropped, workloads: workloads, ring: ring, openIncidents: open,
            pendingNotifications: pending)
    }

    // MARK: helpers

    static func floor(_ time: Int64, to step: Int64) -> Int64 {
        time >= 0 ? time / step * step : (time - step + 1) / step * step
    }

    static func ceiling(_ time: Int64, to step: Int64) -> Int64 {
        let floored = floor(time, to: step)
        return floored == time ? time : floored + step
    }

    /// `inc-20261121T100500Z-7`: when it opened, then a sequence number that never repeats
    /// within one data directory's memory of incidents.
    static func incidentID(at nanos: Int64, sequence: Int) -> String {
        let text = RFC3339.format(nanos: nanos)  // 2026-11-21T10:05:00.000000000Z
        let compact = text.prefix(19).filter { $0 != "-" && $0 != ":" }
        return "inc-\(compact)Z-\(sequence)"
    }

    static func sequence(of id: String) -> Int {
        id.split(separator: "-").last.flatMap { Int($0) } ?? 0
    }
}
