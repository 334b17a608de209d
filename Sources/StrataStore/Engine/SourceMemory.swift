import StrataCore

/// Per source (one line sequence of one file on one node), the highest position stored: the
/// rule that makes an agent's re-read after a restart store nothing twice (docs/FORMAT.md,
/// "Source positions"; docs/RELIABILITY.md, "Exactly once from file to store").
///
/// An agent sends the records of a source in increasing position order and re-reads a file only
/// from a position it committed after an acknowledgement. A record at or below the highest
/// position stored is therefore one the store already holds — in the same record, or, when a
/// restart re-assembled a file differently, inside records whose positions cover it — and is
/// dropped. Records without a position are never dropped here.
struct SourceMemory: Sendable {
    struct Entry: Sendable, Equatable {
        var highest: SourceOffset
        /// When a record of the source was last stored (ns, the collector's clock): idle sources
        /// are retired by it.
        var lastStored: Int64
    }

    private(set) var entries: [FileSource: Entry] = [:]

    init() {}

    init(entries: [FileSource: Entry]) {
        self.entries = entries
    }

    var count: Int { entries.count }

    subscript(source: FileSource) -> SourceOffset? { entries[source]?.highest }

    /// What storing a batch with these positions would change: which records to keep (`keep` is
    /// empty when every record is kept), how many are dropped, and the new highest position of
    /// each source that moves. Records are judged in order, so a batch that repeats a position
    /// keeps its first occurrence only.
    struct Admission: Equatable {
        var keep: [Bool]
        var duplicates: Int
        var advanced: [FileSource: SourceOffset]
    }

    func admit(_ positions: [RecordPosition?]) -> Admission {
        var advanced: [FileSource: SourceOffset] = [:]
        var keep: [Bool] = []
        var duplicates = 0
        for (index, position) in positions.enumerated() {
            guard let position else {
                if !keep.isEmpty { keep.append(true) }
                continue
            }
            let highest = advanced[position.source] ?? entries[position.source]?.highest
            if let highest, position.offset <= highest {
                if keep.isEmpty { keep = Array(repeating: true, count: index) }
                keep.append(false)
                duplicates += 1
            } else {
                advanced[position.source] = position.offset
                if !keep.isEmpty { keep.append(true) }
            }
        }
        return Admission(keep: keep, duplicates: duplicates, advanced: advanced)
    }

    /// Records that `advanced` is stored, at `now`. Never moves a source back.
    mutating func record(_ advanced: [FileSource: SourceOffset], at now: Int64) {
        for (source, offset) in advanced {
            if let entry = entries[source], entry.highest >= offset {
                entries[source]?.lastStored = max(entry.lastStored, now)
            } else {
                entries[source] = Entry(highest: offset, lastStored: max(entries[source]?.lastStored ?? now, now))
            }
        }
    }

    /// Merges another memory (the later of two: positions and times only move forward).
    mutating func merge(_ other: SourceMemory) {
        for (source, entry) in other.entries {
            guard let mine = entries[source] else {
                entries[source] = entry
                continue
            }
            entries[source] = Entry(highest: max(mine.highest, entry.highest), lastStored: max(mine.lastStored, entry.lastStored))
        }
    }

    /// Forgets sources nothing was stored for in `idleNanos` and, beyond `maxSources`, the
    /// longest idle ones. An agent re-sends a stored record only when it did not get the
    /// acknowledgement, and then within its restart (or its batch retries), so a source that
    /// stored nothing for that long has no record left that can come back — unless an agent
    /// stays down longer than `idleNanos` with an unacknowledged batch (StoreOptions documents
    /// the bound). Returns how many were retired.
    @discardableResult
    mutating func retire(now: Int64, idleNanos: Int64, maxSources: Int) -> Int {
        let before = entries.count
        entries = entries.filter { now.subtractingSaturated($0.value.lastStored) < idleNanos }
        if entries.count > maxSources {
            let kept = entries.sorted { $0.value.lastStored > $1.value.lastStored }.prefix(max(0, maxSources))
            entries = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        }
        return before - entries.count
    }
}

extension SourceMemory.Admission {
    /// The elements of `values` (aligned with the admitted positions) that are kept.
    func kept<T>(_ values: [T]) -> [T] {
        guard !keep.isEmpty else { return values }
        var result: [T] = []
        result.reserveCapacity(values.count - duplicates)
        for (value, keep) in zip(values, keep) where keep { result.append(value) }
        return result
    }
}
