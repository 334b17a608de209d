#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// Which segments of one partition to merge (relative file names, in manifest order).
public struct CompactionPlan: Sendable, Equatable {
    public var partition: Int64
    public var inputs: [String]
}

/// Size-tiered selection (docs/FORMAT.md, "Compaction"). Pure, so it can be tested alone.
public enum CompactionPlanner {
    /// The head's accounting of a segment's size: body bytes + 64 per record.
    public static func estimatedBytes(_ info: SegmentInfo) -> Int { info.rawBytes + 64 * info.rowCount }

    /// Tier 0 below `tierBaseBytes`, then one tier per factor of `minInputs`.
    public static func tier(_ bytes: Int, options: CompactionOptions) -> Int {
        let factor = max(2, options.minInputs)
        var tier = 0
        var bound = max(1, options.tierBaseBytes)
        while bytes >= bound {
            tier += 1
            let (next, overflow) = bound.multipliedReportingOverflow(by: factor)
            if overflow { break }
            bound = next
        }
        return tier
    }

    /// The first merge worth doing, oldest partition first, or nil. Every plan has at least two
    /// inputs, so repeated compaction ends.
    static func plan(_ segments: [Manifest.Segment], options: CompactionOptions, now: Int64) -> CompactionPlan? {
        let minInputs = max(2, options.minInputs)
        let maxInputs = max(2, options.maxInputs)
        var byPartition: [Int64: [Manifest.Segment]] = [:]
        for segment in segments { byPartition[segment.partition, default: []].append(segment) }
        for partition in byPartition.keys.sorted() {
            let candidates = (byPartition[partition] ?? []).filter { estimatedBytes($0.info) < options.maxSegmentBytes }
            guard candidates.count >= 2 else { continue }
            // Within a tier, segments of similar size: merging them costs O(log) rewrites per record.
            var tiers: [Int: [Manifest.Segment]] = [:]
            for segment in candidates { tiers[tier(estimatedBytes(segment.info), options: options), default: []].append(segment) }
            for tier in tiers.keys.sorted() {
                guard let members = tiers[tier], members.count >= minInputs else { continue }
                let chosen = take(members, maxInputs: maxInputs, maxBytes: options.maxSegmentBytes)
                if chosen.count >= 2 { return CompactionPlan(partition: partition, inputs: chosen.map(\.file)) }
            }
            // A settled partition (its hour ended long ago) is merged down as far as the size cap
            // allows, smallest first.
            if partition.addingSaturated(LogStore.hourNanos).addingSaturated(options.settleNanos) <= now {
                let smallestFirst = candidates.sorted { estimatedBytes($0.info) < estimatedBytes($1.info) }
                let chosen = take(smallestFirst, maxInputs: maxInputs, maxBytes: options.maxSegmentBytes)
                if chosen.count >= 2 {
                    let names = Set(chosen.map(\.file))
                    return CompactionPlan(partition: partition, inputs: candidates.filter { names.contains($0.file) }.map(\.file))
                }
            }
        }
        return nil
    }

    private static func take(_ segments: [Manifest.Segment], maxInputs: Int, maxBytes: Int) -> [Manifest.Segment] {
        var chosen: [Manifest.Segment] = []
        var total = 0
        for segment in segments where chosen.count < maxInputs {
            let size = estimatedBytes(segment.info)
            if total + size > maxBytes { continue }
            chosen.append(segment)
            total += size
        }
        return chosen
    }
}

extension LogStore {
    /// The next compaction the policy asks for, without doing it.
    public func compactionPlan(now: Int64 = WallClock.nowNanos()) -> CompactionPlan? {
        let segments = state.withLock { $0.manifest.segments }
        return CompactionPlanner.plan(segments, options: options.compaction, now: now)
    }

    /// Performs one merge if the policy asks for one; returns whether it did. Crash-safe: the
    /// merged segment is written to a temporary file, fsynced and renamed into place, the
    /// manifest is swapped atomically, and only then are the inputs deleted (a crash in between
    /// leaves orphan files that the next start removes).
    @discardableResult
    public func compactOnce(now: Int64 = WallClock.nowNanos()) throws -> Bool {
        try rewriteLock.withLock { _ in
            guard let plan = compactionPlan(now: now) else { return false }
            let outcome = try rewrite(plan.inputs, partition: plan.partition, scope: "compaction", dropping: nil)
            guard let outcome else { return false }
            state.withLock { state in
                state.counters.compactions += 1
                state.counters.compactedInputSegments += plan.inputs.count
                state.counters.compactedRecords += outcome.keptRecords
                state.counters.compactionBytesWritten += Int64(outcome.output?.info.bytes ?? 0)
            }
            logger.debug("compacted \(plan.inputs.count) segments of \(RFC3339.format(nanos: plan.partition)) into \(outcome.output?.file ?? "nothing")")
            return true
        }
    }

    struct RewriteOutcome {
        var output: Manifest.Segment?
        var inputBytes: Int64
        var keptRecords: Int
        var droppedRecords: Int
    }

    /// Replaces `inputs` (live segments of one partition) by one segment holding their records
    /// except those whose resource `dropping` selects (none left: the inputs are just removed).
    /// Returns nil when an input is no longer live or failed its checks (then quarantined).
    /// Call with `rewriteLock` held.
    func rewrite(
        _ inputs: [String], partition: Int64, scope: String, dropping: ((Resource) -> Bool)?
    ) throws -> RewriteOutcome? {
        let (segments, readers) = state.withLock { state -> ([Manifest.Segment], [SegmentReader]) in
            let live = Dictionary(state.manifest.segments.map { ($0.file, $0) }, uniquingKeysWith: { a, _ in a })
            return (inputs.compactMap { live[$0] }, inputs.compactMap { state.readers[$0] })
        }
        guard segments.count == inputs.count, readers.count == inputs.count else { return nil }
        var records: [LogRecord] = []
        var templateIDs: [UInt32] = []
        var dropped = 0
        records.reserveCapacity(segments.reduce(0) { $0 + $1.info.rowCount })
        templateIDs.reserveCapacity(records.capacity)
        for (segment, reader) in zip(segments, readers) {
            let droppedResources = dropping.map { drop in Set(reader.resources.indices.filter { drop(reader.resources[$0]) }) } ?? []
            do {
                for index in reader.blocks.indices {
                    let block = try reader.readBlock(index)
                    for row in 0..<block.rowCount {
                        if !droppedResources.isEmpty && droppedResources.contains(Int(block.resourceIndexes[row])) {
                            dropped += 1
                            continue
                        }
                        records.append(block.record(at: row))
                        templateIDs.append(block.templateID(at: row))
                    }
                }
            } catch let error as StoreError where error.kind == .corrupt {
                quarantine(file: segment.file, reason: "\(error)")
                return nil
            }
        }
        var output: Manifest.Segment?
        if !records.isEmpty {
            let number = allocateSegmentNumbers(1)
            let relative = try segmentFile(partition: partition, number: number)
            var segmentOptions = options.segment
            segmentOptions.compressionLevel = max(segmentOptions.compressionLevel, options.compaction.compressionLevel)
            let info = try SegmentWriter.write(
                records, templateIDs: templateIDs, to: directory + "/" + relative, options: segmentOptions, faultScope: scope)
            output = Manifest.Segment(file: relative, partition: partition, info: info)
        }
        var reader: SegmentReader?
        if let output {
            do {
                reader = try SegmentReader(path: directory + "/" + output.file)
            } catch {
                unlink(directory + "/" + output.file)
                throw error
            }
        }
        let inputSet = Set(inputs)
        do {
            try commit(scope: scope) { manifest in
                let positions = manifest.segments.indices.filter { inputSet.contains(manifest.segments[$0].file) }
                guard positions.count == inputs.count, let first = positions.first else {
                    throw RewriteAbandoned()
                }
                var replaced = manifest.segments.filter { !inputSet.contains($0.file) }
                if let output { replaced.insert(output, at: min(first, replaced.count)) }
                manifest.segments = replaced
            } install: { state, _ in
                for file in inputs { state.readers[file] = nil }
                if let output, let reader { state.readers[output.file] = reader }
            }
        } catch is RewriteAbandoned {
            // An input was quarantined meanwhile; the inputs stay as they are.
            if let output { unlink(directory + "/" + output.file) }
            return nil
        } catch {
            if let output { unlink(directory + "/" + output.file) }
            throw error
        }
        FaultInjection.check(scope + ".before_delete")
        // Readers of older snapshots keep their open files; unlinking only removes the names.
        var directories: Set<String> = []
        for (index, file) in inputs.enumerated() {
            unlink(directory + "/" + file)
            directories.insert(String(file[..<(file.lastIndex(of: "/") ?? file.startIndex)]))
            if index == 0 { FaultInjection.check(scope + ".mid_delete") }
        }
        for relative in directories { try? StoreFiles.syncDirectory(directory + "/" + relative) }
        return RewriteOutcome(
            output: output, inputBytes: segments.fileBytes, keptRecords: records.count,
            droppedRecords: dropped)
    }
}

struct RewriteAbandoned: Error {}
