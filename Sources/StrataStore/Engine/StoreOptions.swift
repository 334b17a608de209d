import StrataCore

public struct StoreOptions: Sendable {
    /// The background flusher is woken once the head holds this many uncompressed bytes...
    public var headFlushBytes = 64 << 20
    /// ... and ingest refuses new batches (the server answers 429) beyond this many. Both count
    /// the records' estimated memory (`LogStore.accountedBytes`); 128 MiB is the head's share of
    /// the collector's 512 MiB budget (docs/RELIABILITY.md, "Memory budget").
    public var headLimitBytes = 128 << 20
    /// Batch ids remembered for deduplication.
    public var dedupWindowNanos: Int64 = 24 * 3600 * 1_000_000_000
    public var dedupMaxBatches = 500_000
    /// Sources (file + stream) whose highest stored position is remembered, so that an agent's
    /// re-read after a crash stores nothing twice (`SourceMemory`): a source nothing was stored
    /// for in this long is forgotten. An agent that stays down longer with an unacknowledged
    /// batch could store its records again after that; 7 days is well past any restart.
    public var sourceIdleNanos: Int64 = 7 * 24 * 3600 * 1_000_000_000
    /// At most this many sources are remembered (an estimated 150 bytes each in memory and in the
    /// manifest); beyond it the longest idle are forgotten first.
    public var maxSources = 250_000
    public var segment = SegmentOptions()
    /// Records older than this (by timestamp) are refused at ingest and removed by retention.
    public var retentionNanos: Int64 = 7 * 24 * 3600 * 1_000_000_000
    /// Records stamped further ahead of the clock than this are kept at their observed time and
    /// flagged `future_timestamp` (docs/FORMAT.md, "Accepted time range").
    public var maxFutureSkewNanos: Int64 = 24 * 3600 * 1_000_000_000
    /// Live segments may take at most this many bytes; beyond it retention deletes whole hour
    /// partitions, oldest first (never the newest one).
    public var retentionBytes: Int64 = .max
    /// Per-namespace retention (`k8s.namespace.name` → ns), replacing `retentionNanos` for the
    /// records of that namespace, whether shorter or longer.
    public var namespaceRetentionNanos: [String: Int64] = [:]
    /// Segments plus write-ahead log may take at most this many bytes. Past it, ingest is refused
    /// (the server answers 503 with Retry-After) until retention or compaction has freed space:
    /// refusing keeps every acknowledged record, where deleting to make room would not.
    public var diskBudgetBytes: Int64 = .max
    /// Ingest is also refused while the file system holding the data directory has less free
    /// space than this, so that a full disk never interrupts a log append, a flush or a merge.
    public var minFreeDiskBytes: Int64 = 256 << 20
    public var compaction = CompactionOptions()
    /// Records a flush took from the head that stay in memory for followers
    /// (`LogStore.arrivals(after:)`), while someone follows.
    public var arrivalsKept = 200_000
    public init() {}

    /// The retention of records of `namespace` (nil: records without one).
    public func retentionNanos(forNamespace namespace: String?) -> Int64 {
        guard let namespace, let override = namespaceRetentionNanos[namespace] else { return retentionNanos }
        return override
    }
}

/// Size-tiered compaction within one hour partition (docs/FORMAT.md, "Compaction").
public struct CompactionOptions: Sendable, Equatable {
    public var enabled = true
    /// A size tier of a partition is merged once it holds this many segments (also the factor
    /// between tiers).
    public var minInputs = 4
    /// At most this many segments go into one merge.
    public var maxInputs = 32
    /// A merge produces at most this many uncompressed bytes (body bytes + 64 per record): it
    /// bounds the memory a merge takes and the size of a segment. A merge holds all its records
    /// at once, and a record takes about 6 times this estimate in memory (measured, see
    /// `LogStore.accountedBytes`), so 32 MiB keeps a merge near 200 MiB, its share of the
    /// collector's memory budget (docs/RELIABILITY.md, "Memory budget"); 256 MiB let one merge
    /// take over a gigabyte.
    public var maxSegmentBytes = 32 << 20
    /// Segments below this size are tier 0; tier k holds sizes in [base·f^(k-1), base·f^k).
    public var tierBaseBytes = 4 << 20
    /// Once a partition's hour ended this long ago it is "settled": few late records still
    /// arrive, so all its small segments are merged regardless of tier.
    public var settleNanos: Int64 = 3600 * 1_000_000_000
    /// zstd level of merged segments (at least the flush level). Merges run in the background,
    /// off the ingest path, so they can afford a stronger level than flushes: the data settles
    /// into fewer bytes as it ages.
    public var compressionLevel = 9
    public init() {}
}

/// Why retention removed data (the label of the retention metrics).
public enum RetentionReason: String, Sendable, CaseIterable, Hashable {
    /// The whole segment was older than the retention of every namespace in it.
    case age
    /// Records of a namespace whose own retention had passed were removed by rewriting the segment.
    case namespaceAge = "namespace_age"
    /// Live segments exceeded `retentionBytes`; the oldest partitions went first.
    case size
}

public struct RetentionTally: Sendable, Equatable {
    /// Segments deleted whole.
    public var segments = 0
    public var records = 0
    /// Segment file bytes released (for a rewrite: input size minus output size).
    public var bytes: Int64 = 0
    public init() {}
}

/// What the store's background work has done since the process started (for /metrics).
public struct MaintenanceCounters: Sendable, Equatable {
    public var flushes = 0
    public var flushedSegments = 0
    public var flushedRecords = 0
    public var compactions = 0
    public var compactedInputSegments = 0
    public var compactedRecords = 0
    /// Bytes of the segments compaction wrote.
    public var compactionBytesWritten: Int64 = 0
    public var retention: [RetentionReason: RetentionTally] = [:]
    /// Segments quarantined since start (the statistics' `quarantined` counts every one on record).
    public var quarantinedSegments = 0
    /// Failed background operations by kind (`flush`, `compaction`, `retention`).
    public var failures: [String: Int] = [:]
    /// Sources forgotten by `SourceMemory.retire` since start.
    public var retiredSources = 0
    public init() {}
}
