#if canImport(Glibc)
import Glibc
#endif
import StrataCore

extension LogStore {
    /// Applies retention (docs/FORMAT.md, "Retention"), at hour-partition granularity:
    /// 1. by age: namespace `n` has expired from a segment when the segment's whole hour is older
    ///    than `n`'s retention (its override, else the default). A segment whose namespaces have
    ///    all expired is deleted; one where only some have is rewritten without their records.
    /// 2. by size: while live segments take more than `retentionBytes`, the oldest partition is
    ///    deleted whole — never the newest, which holds what is being written now.
    /// Deletions are counted by reason in `statistics.maintenance.retention`.
    public func applyRetention(now: Int64 = WallClock.nowNanos()) throws {
        try rewriteLock.withLock { _ in
            try expireByAge(now: now)
            try expireBySize()
        }
    }

    private func expireByAge(now: Int64) throws {
        let (segments, readers) = state.withLock { ($0.manifest.segments, $0.readers) }
        var deletions: [Manifest.Segment] = []
        var rewrites: [(Manifest.Segment, Set<String?>)] = []
        for segment in segments {
            guard let reader = readers[segment.file] else { continue }
            let partitionEnd = segment.partition.addingSaturated(Self.hourNanos)
            let namespaces = Set(reader.resources.map { $0[ResourceKey.namespace] })
            let expired = namespaces.filter { partitionEnd <= now.subtractingSaturated(options.retentionNanos(forNamespace: $0)) }
            if expired.isEmpty { continue }
            if expired.count == namespaces.count {
                deletions.append(segment)
            } else {
                rewrites.append((segment, expired))
            }
        }
        if !deletions.isEmpty {
            try delete(deletions, reason: .age)
        }
        for (segment, expired) in rewrites {
            let outcome = try rewrite([segment.file], partition: segment.partition, scope: "retention") {
                expired.contains($0[ResourceKey.namespace])
            }
            guard let outcome else { continue }
            state.withLock { state in
                var tally = state.counters.retention[.namespaceAge] ?? RetentionTally()
                tally.records += outcome.droppedRecords
                tally.bytes += max(0, outcome.inputBytes - Int64(outcome.output?.info.bytes ?? 0))
                if outcome.output == nil { tally.segments += 1 }
                state.counters.retention[.namespaceAge] = tally
            }
            logger.info("retention removed \(outcome.droppedRecords) records of expired namespaces from \(segment.file)")
        }
    }

    private func expireBySize() throws {
        guard options.retentionBytes < .max else { return }
        let segments = state.withLock { $0.manifest.segments }
        var total = segments.fileBytes
        guard total > options.retentionBytes else { return }
        let partitions = Set(segments.map(\.partition)).sorted()
        var deletions: [Manifest.Segment] = []
        for partition in partitions.dropLast() where total > options.retentionBytes {
            let members = segments.filter { $0.partition == partition }
            deletions += members
            total -= members.reduce(0) { $0 + Int64($1.info.bytes) }
        }
        if total > options.retentionBytes {
            logger.warning("the newest partition alone holds \(total) bytes, over the retention size of \(options.retentionBytes); it is kept")
        }
        if !deletions.isEmpty { try delete(deletions, reason: .size) }
    }

    /// Removes whole segments: manifest first, then the files (a crash in between leaves orphan
    /// files that the next start removes).
    private func delete(_ segments: [Manifest.Segment], reason: RetentionReason) throws {
        let files = Set(segments.map(\.file))
        var removed: [Manifest.Segment] = []
        try commit(scope: "retention") { manifest in
            removed = manifest.segments.filter { files.contains($0.file) }
            manifest.segments.removeAll { files.contains($0.file) }
        } install: { state, _ in
            for file in files { state.readers[file] = nil }
            var tally = state.counters.retention[reason] ?? RetentionTally()
            tally.segments += removed.count
            tally.records += removed.reduce(0) { $0 + $1.info.rowCount }
            tally.bytes += removed.reduce(0) { $0 + Int64($1.info.bytes) }
            state.counters.retention[reason] = tally
        }
        FaultInjection.check("retention.before_delete")
        var directories: Set<String> = []
        for segment in removed {
            unlink(directory + "/" + segment.file)
            directories.insert(String(segment.file[..<(segment.file.lastIndex(of: "/") ?? segment.file.startIndex)]))
        }
        for relative in directories {
            // Succeeds only when the partition is now empty.
            if rmdir(directory + "/" + relative) != 0 { try? StoreFiles.syncDirectory(directory + "/" + relative) }
        }
        if !removed.isEmpty {
            logger.info("retention (\(reason.rawValue)) deleted \(removed.count) segments holding \(removed.reduce(0) { $0 + $1.info.rowCount }) records")
        }
    }
}
