import Logging
import Prometheus

/// The agent's Prometheus metrics. Each agent owns its registry (tests run several agents in
/// one process), served at `/metrics`.
public final class AgentMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let logger: Logger

    public let linesRead: Counter
    public let bytesRead: Counter
    public let recordsShipped: Counter
    public let batchesAcknowledged: Counter
    public let batchesRetried: Counter
    public let batchesRejected: Counter
    public let recordsDropped: Counter
    public let recordsInvalidUTF8: Counter
    public let envelopeErrors: Counter
    public let binaryFilesSkipped: Counter
    public let rotations: Counter
    public let truncations: Counter
    public let spoolBytes: Gauge
    public let filesTailed: Gauge

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), logger: Logger) {
        self.registry = registry
        self.logger = logger
        linesRead = registry.makeCounter(name: "strata_agent_lines_read_total", help: "Log lines read from files.")
        bytesRead = registry.makeCounter(name: "strata_agent_bytes_read_total", help: "Bytes read from files.")
        recordsShipped = registry.makeCounter(
            name: "strata_agent_records_shipped_total", help: "Records acknowledged by the receiver.")
        batchesAcknowledged = registry.makeCounter(
            name: "strata_agent_batches_acknowledged_total", help: "Batches the receiver acknowledged.")
        batchesRetried = registry.makeCounter(
            name: "strata_agent_batches_retried_total", help: "Delivery attempts that failed and will be retried.")
        batchesRejected = registry.makeCounter(
            name: "strata_agent_batches_rejected_total",
            help: "Batches permanently refused by the receiver and moved to the dead-letter directory.")
        recordsDropped = registry.makeCounter(
            name: "strata_agent_records_dropped_total", help: "Records dropped by a configured drop policy.")
        recordsInvalidUTF8 = registry.makeCounter(
            name: "strata_agent_records_invalid_utf8_total", help: "Records whose invalid UTF-8 was replaced.")
        envelopeErrors = registry.makeCounter(
            name: "strata_agent_envelope_errors_total",
            help: "Lines whose CRI or docker envelope was corrupt; kept whole with parse_error.")
        binaryFilesSkipped = registry.makeCounter(
            name: "strata_agent_binary_files_skipped_total", help: "Matched files skipped because they hold binary data.")
        rotations = registry.makeCounter(name: "strata_agent_rotations_total", help: "File rotations detected.")
        truncations = registry.makeCounter(
            name: "strata_agent_truncations_total", help: "Files found truncated (copytruncate) and re-read from 0.")
        spoolBytes = registry.makeGauge(name: "strata_agent_spool_bytes", help: "Bytes waiting in the on-disk spool.")
        filesTailed = registry.makeGauge(name: "strata_agent_files_tailed", help: "Files currently open.")
    }

    public func lagGauge(path: String) -> Gauge {
        registry.makeGauge(
            name: "strata_agent_file_lag_bytes", labels: [("path", path)], help: "Bytes written to a file but not read yet.")
    }

    public func removeLagGauge(_ gauge: Gauge) { registry.unregisterGauge(gauge) }

    /// The current value of an unlabelled metric, read from the exposition (tests, `--once` summaries).
    public func value(of name: String) -> Double? {
        for line in exposition().split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
