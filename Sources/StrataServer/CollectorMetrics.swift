import Prometheus
import StrataStore

/// The collector's Prometheus metrics; store gauges are refreshed at each scrape.
final class CollectorMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let records: Counter
    let bytes: Counter
    let batches: Counter
    let duplicates: Counter
    let tooOld: Counter
    let dropped: Counter
    let segments: Gauge
    let segmentBytes: Gauge
    let walBytes: Gauge
    let headBytes: Gauge
    let quarantined: Gauge

    init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: .init(namespace: "strata", subsystem: "collector", metricName: name, unitName: "total", helpText: help))
        }
        func gauge(_ name: String, _ unit: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: .init(namespace: "strata", subsystem: "collector", metricName: name, unitName: unit, helpText: help))
        }
        records = counter("records_ingested", "Records stored.")
        bytes = counter("ingest_bytes", "Request body bytes of accepted batches.")
        batches = counter("batches_accepted", "Batches stored.")
        duplicates = counter("batches_duplicate", "Batches acknowledged without storing: their id was stored before.")
        tooOld = counter("records_too_old", "Records refused because they are older than retention.")
        dropped = counter("records_dropped", "Records dropped by normalization drop rules.")
        segments = gauge("segments", "", "Live segments.")
        segmentBytes = gauge("segment", "bytes", "Bytes in live segments.")
        walBytes = gauge("wal", "bytes", "Bytes in the write-ahead log.")
        headBytes = gauge("head", "bytes", "Bytes held in the in-memory head.")
        quarantined = gauge("segments_quarantined", "", "Segments moved aside because they failed their checks.")
    }

    func rejected(reason: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "strata", subsystem: "collector", metricName: "batches_rejected", unitName: "total", helpText: "Batches refused, by reason."),
            labels: [("reason", reason)]
        ).increment()
    }

    func duplicate() { duplicates.increment() }

    func accepted(records count: Int, bytes size: Int, tooOld old: Int, dropped drops: Int) {
        batches.increment()
        records.increment(by: Int64(count))
        bytes.increment(by: Int64(size))
        if old > 0 { tooOld.increment(by: Int64(old)) }
        if drops > 0 { dropped.increment(by: Int64(drops)) }
    }

    func exposition(_ statistics: LogStore.Statistics) -> String {
        segments.set(Int64(statistics.segments))
        segmentBytes.set(statistics.segmentBytes)
        walBytes.set(statistics.walBytes)
        headBytes.set(Int64(statistics.headBytes))
        quarantined.set(Int64(statistics.quarantined))
        return registry.emitToString()
    }
}
