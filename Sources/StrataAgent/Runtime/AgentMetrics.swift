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
    public let recordsTooOld: Counter
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
        linesRead = registry.makeCounter(descriptor: Self.descriptor("lines_read", unit: "total", help: "Log lines read from files."))
        bytesRead = registry.makeCounter(descriptor: Self.descriptor("bytes_read", unit: "total", help: "Bytes read from files."))
        recordsShipped = registry.makeCounter(descriptor: Self.descriptor("records_shipped", unit: "total", help: "Records acknowledged by the receiver."))
        recordsTooOld = registry.makeCounter(
            descriptor: Self.descriptor("records_too_old", unit: "total", help: "Records the collector acknowledged but refused as older than its retention."))
        batchesAcknowledged = registry.makeCounter(descriptor: Self.descriptor("batches_acknowledged", unit: "total", help: "Batches the receiver acknowledged."))
        batchesRetried = registry.makeCounter(descriptor: Self.descriptor("batches_retried", unit: "total", help: "Delivery attempts that failed and will be retried."))
        batchesRejected = registry.makeCounter(descriptor: Self.descriptor("batches_rejected", unit: "total", help: "Batches permanently refused by the receiver and moved to the dead-letter directory."))
        recordsDropped = registry.makeCounter(descriptor: Self.descriptor("records_dropped", unit: "total", help: "Records dropped by a configured drop policy."))
        recordsInvalidUTF8 = registry.makeCounter(descriptor: Self.descriptor("records_invalid_utf8", unit: "total", help: "Records whose invalid UTF-8 was replaced."))
        envelopeErrors = registry.makeCounter(descriptor: Self.descriptor("envelope_errors", unit: "total", help: "Lines whose CRI or docker envelope was corrupt; kept whole with parse_error."))
        binaryFilesSkipped = registry.makeCounter(descriptor: Self.descriptor("binary_files_skipped", unit: "total", help: "Matched files skipped because they hold binary data."))
        rotations = registry.makeCounter(descriptor: Self.descriptor("rotations", unit: "total", help: "File rotations detected."))
        truncations = registry.makeCounter(descriptor: Self.descriptor("truncations", unit: "total", help: "Files found truncated (copytruncate) and re-read from 0."))
        spoolBytes = registry.makeGauge(descriptor: Self.descriptor("spool", unit: "bytes", help: "Bytes waiting in the on-disk spool."))
        filesTailed = registry.makeGauge(descriptor: Self.descriptor("files_tailed", unit: "", help: "Files currently open."))
    }

    public func lagGauge(path: String) -> Gauge {
        registry.makeGauge(
            descriptor: Self.descriptor("file_lag", unit: "bytes", help: "Bytes written to a file but not read yet."),
            labels: [("path", path)])
    }

    static func descriptor(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "strata", subsystem: "agent", metricName: name, unitName: unit, helpText: help)
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
