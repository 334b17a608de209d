import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataDiagnosis
import StrataStore

/// Continuous mode in the collector (docs/DIAGNOSIS.md, "Continuous mode"): one object the
/// server holds when `diagnosis:` is configured. `observe` after every stored batch; `run`
/// evaluates every `evaluate_every` and sends the outbox; the incident routes read it
/// (IncidentRoutes.swift).
public final class ContinuousDiagnosis: Service, Sendable {
    public let monitor: IncidentMonitor
    let notifier: WebhookNotifier
    let store: LogStore
    let logger: Logger
    /// Read back the records of the last window + baseline at start, so detection does not wait
    /// for a new baseline after every restart.
    let warmUpAtStart: Bool

    /// Opens (or creates) `<data-dir>/incidents` and reads the incidents and the outbox kept
    /// there. Throws on a contradictory configuration or an unusable directory.
    public init(
        configuration: ContinuousConfiguration, dataDirectory: String, store: LogStore, logger: Logger,
        transport: (any WebhookTransport)? = nil, warmUpAtStart: Bool = true
    ) throws {
        monitor = try IncidentMonitor(
            configuration: configuration, directory: IncidentStore.directory(inDataDirectory: dataDirectory),
            startedAt: Clock.nowNanos(), logger: logger)
        notifier = WebhookNotifier(monitor: monitor, transport: transport ?? HTTPWebhookTransport(), logger: logger)
        self.store = store
        self.logger = logger
        self.warmUpAtStart = warmUpAtStart
    }

    /// Counts a stored batch (call after the store acknowledged it, not for duplicates).
    public func observe(_ records: [LogRecord]) {
        monitor.observe(records, now: Clock.nowNanos())
    }

    /// Evaluates periodically and delivers notifications until cancelled or until graceful
    /// shutdown. Neither loop ever throws: a failed evaluation is logged and retried at the next
    /// tick, undelivered notifications stay in the outbox on disk.
    public func run() async throws {
        let configuration = monitor.configuration
        logger.info(
            "continuous diagnosis: window \(configuration.window / 1_000_000_000)s against \(configuration.baseline / 1_000_000_000)s, every \(configuration.evaluateEvery / 1_000_000_000)s, \(configuration.webhooks.count) webhook(s)")
        await cancelWhenGracefulShutdown {
            if self.warmUpAtStart { await self.warmUp() }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.evaluationLoop() }
                group.addTask { await self.deliveryLoop() }
            }
        }
    }

    /// One evaluation now, off the cooperative pool (it may read the store and diagnose).
    @discardableResult
    public func evaluateNow() async -> IncidentMonitor.Outcome? {
        let monitor = self.monitor
        let store = self.store
        let task = Task.detached { () -> Result<IncidentMonitor.Outcome, any Error> in
            Result { try monitor.evaluate(now: Clock.nowNanos(), source: SnapshotRecordSource(snapshot: store.snapshot(), clock: .stored)) }
        }
        switch await task.value {
        case .success(let outcome):
            return outcome
        case .failure(let error):
            logger.error("continuous diagnosis: evaluation failed (retried at the next one): \(error)")
            return nil
        }
    }

    private func evaluationLoop() async {
        let interval = monitor.configuration.evaluateEvery
        while !Task.isCancelled {
            do { try await Task.sleep(for: .nanoseconds(interval)) } catch { return }
            await evaluateNow()
        }
    }

    /// Polls the outbox every second (cheap: it is in memory); the notifier decides what is due.
    private func deliveryLoop() async {
        while !Task.isCancelled {
            await notifier.deliverDue(now: Clock.nowNanos())
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }

    /// Counts what the store already holds for the last window + baseline, five minutes at a
    /// time so memory stays bounded. Counts are complete from the first record found (a fresh
    /// store must not pass for a quiet baseline).
    private func warmUp() async {
        let monitor = self.monitor
        let store = self.store
        let logger = self.logger
        let configuration = monitor.configuration
        await Task.detached {
            let now = Clock.nowNanos()
            let from = now - configuration.window - configuration.baseline
            let source = SnapshotRecordSource(snapshot: store.snapshot(), clock: .stored)
            let step: Int64 = 300 * 1_000_000_000
            var earliest = Int64.max
            var count = 0
            var start = from
            while start < now && !Task.isCancelled {
                let range = TimeRange(from: start, to: min(now, start + step))
                do {
                    let records = try source.records(in: range)
                    if let first = records.map(\.timestamp).min() { earliest = min(earliest, first) }
                    count += records.count
                    monitor.observe(records, now: now)
                } catch {
                    logger.error("continuous diagnosis: warm-up could not read \(RFC3339.format(nanos: range.from)): \(error); counting from now on")
                    return
                }
                start = range.to
            }
            if earliest != .max { monitor.warmUp([], completeFrom: earliest, now: now) }
            logger.info("continuous diagnosis: warm-up counted \(count) stored record(s)")
        }.value
    }
}
