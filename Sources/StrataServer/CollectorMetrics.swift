import Prometheus
import StrataStore
import Synchronization

/// The collector's Prometheus metrics; store gauges are refreshed at each scrape.
final class CollectorMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let records: Counter
    let bytes: Counter
    let batches: Counter
    let duplicates: Counter
    let tooOld: Counter
    let dropped: Counter
    let duplicateRecords: Counter
    let sources: Gauge
    let segments: Gauge
    let segmentBytes: Gauge
    let walBytes: Gauge
    let headBytes: Gauge
    let quarantined: Gauge
    let segmentRecords: Gauge
    let partitions: Gauge
    let diskAvailable: Gauge
    let connectionsOpen: Gauge
    let connectionsRefused: Counter
    let requestsUnparsable: Counter
    let tailStreams: Gauge
    let tailStalled: Counter
    let tailGaps: Counter
    /// Store counters are cumulative values read at each scrape; the Prometheus counters are
    /// advanced by the difference to the last scrape.
    private let storeCounters: [(read: @Sendable (MaintenanceCounters) -> Int64, counter: Counter)]
    private let lastValues: Mutex<[Int64]>

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
        duplicateRecords = counter(
            "records_duplicate",
            "Records not stored again: at or below the highest position stored for their file and stream (an agent re-read them after a restart).")
        sources = gauge("sources", "", "Sources (file and stream) whose highest stored position is remembered.")
        segments = gauge("segments", "", "Live segments.")
        segmentBytes = gauge("segment", "bytes", "Bytes in live segments.")
        walBytes = gauge("wal", "bytes", "Bytes in the write-ahead log.")
        headBytes = gauge("head", "bytes", "Bytes held in the in-memory head.")
        quarantined = gauge("segments_quarantined", "", "Segments moved aside because they failed their checks.")
        segmentRecords = gauge("segment_records", "", "Records in live segments.")
        partitions = gauge("partitions", "", "Hour partitions with live segments.")
        diskAvailable = gauge("disk_available", "bytes", "Free bytes on the data directory's file system; ingest stops below storage.min_free_disk.")
        connectionsOpen = gauge("connections_open", "", "HTTP connections open now (at most http.max_connections).")
        connectionsRefused = counter(
            "connections_refused", "Connections answered 503 too_many_connections and closed: http.max_connections were open.")
        requestsUnparsable = counter("requests_unparsable", "Requests NIO's HTTP parser refused (answered 400 or 414 and closed).")
        tailStreams = gauge("tail_streams", "", "Live tail streams open now.")
        tailStalled = counter("tail_stalled", "Tail streams disconnected because their client took nothing for http.tail_stall_timeout.")
        tailGaps = counter("tail_gaps", "Gap events sent to tail streams that lagged behind what the collector holds.")
        for phase in ["header", "body", "shutdown"] {
            registry.makeCounter(
                descriptor: .init(
                    namespace: "strata", subsystem: "collector", metricName: "connections_timed_out", unitName: "total",
                    helpText: "Connections closed by a timeout, by phase (header, body, shutdown)."),
                labels: [("phase", phase)])
        }
        for reason in ["caller", "total"] {
            registry.makeCounter(
                descriptor: .init(
                    namespace: "strata", subsystem: "collector", metricName: "tail_refused", unitName: "total",
                    helpText: "Tail requests answered 429 too_many_tails, by the limit reached (caller, total)."),
                labels: [("limit", reason)])
        }
        func labelled(_ name: String, _ help: String, _ label: String, _ value: String) -> Counter {
            registry.makeCounter(
                descriptor: .init(namespace: "strata", subsystem: "collector", metricName: name, unitName: "total", helpText: help),
                labels: [(label, value)])
        }
        var storeCounters: [(read: @Sendable (MaintenanceCounters) -> Int64, counter: Counter)] = [
            ({ Int64($0.flushes) }, counter("flushes", "Flushes of the head into segments.")),
            ({ Int64($0.flushedSegments) }, counter("flushed_segments", "Segments written by flushes.")),
            ({ Int64($0.compactions) }, counter("compactions", "Merges of small segments of one partition into one.")),
            ({ Int64($0.compactedInputSegments) }, counter("compaction_input_segments", "Segments replaced by compaction.")),
            ({ $0.compactionBytesWritten }, counter("compaction_written_bytes", "Bytes of the segments compaction wrote.")),
            ({ Int64($0.retiredSources) }, counter("sources_retired", "Sources forgotten after storing nothing for storage's source idle time.")),
        ]
        for reason in RetentionReason.allCases {
            storeCounters.append(({ Int64($0.retention[reason]?.segments ?? 0) },
                labelled("retention_deleted_segments", "Segments deleted whole by retention, by reason (age, namespace_age, size).", "reason", reason.rawValue)))
            storeCounters.append(({ Int64($0.retention[reason]?.records ?? 0) },
                labelled("retention_deleted_records", "Records removed by retention, by reason.", "reason", reason.rawValue)))
            storeCounters.append(({ $0.retention[reason]?.bytes ?? 0 },
                labelled("retention_deleted_bytes", "Segment bytes released by retention, by reason.", "reason", reason.rawValue)))
        }
        for operation in ["flush", "compaction", "retention"] {
            storeCounters.append(({ Int64($0.failures[operation] ?? 0) },
                labelled("maintenance_failures", "Failed background operations (retried), by operation.", "operation", operation)))
        }
        self.storeCounters = storeCounters
        lastValues = Mutex([Int64](repeating: 0, count: storeCounters.count))
    }

    func rejected(reason: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "strata", subsystem: "collector", metricName: "batches_rejected", unitName: "total", helpText: "Batches refused, by reason."),
            labels: [("reason", reason)]
        ).increment()
    }

    func duplicate() { duplicates.increment() }

    func connectionOpened() { connectionsOpen.increment() }
    func connectionClosed() { connectionsOpen.decrement() }
    func connectionRefused() { connectionsRefused.increment() }
    func requestUnparsable() { requestsUnparsable.increment() }

    func connectionTimedOut(phase: String) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "strata", subsystem: "collector", metricName: "connections_timed_out", unitName: "total",
                helpText: "Connections closed by a timeout, by phase (header, body, shutdown)."),
            labels: [("phase", phase)]
        ).increment()
    }

    func tailRefused(limit: String) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "strata", subsystem: "collector", metricName: "tail_refused", unitName: "total",
                helpText: "Tail requests answered 429 too_many_tails, by the limit reached (caller, total)."),
            labels: [("limit", limit)]
        ).increment()
    }

    func accepted(records count: Int, bytes size: Int, tooOld old: Int, dropped drops: Int, duplicates: Int) {
        batches.increment()
        if duplicates > 0 { duplicateRecords.increment(by: Int64(duplicates)) }
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
        segmentRecords.set(Int64(statistics.segmentRecords))
        partitions.set(Int64(statistics.partitions))
        sources.set(Int64(statistics.sources))
        if let available = statistics.availableDiskBytes { diskAvailable.set(available) }
        lastValues.withLock { last in
            for (index, entry) in storeCounters.enumerated() {
                let value = entry.read(statistics.maintenance)
                if value > last[index] { entry.counter.increment(by: value - last[index]) }
                last[index] = max(last[index], value)
            }
        }
        return registry.emitToString()
    }
}
