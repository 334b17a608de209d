import StrataCore

/// Records in the order the store acknowledged them, for followers (`/api/v1/tail`).
///
/// Every stored record gets an arrival number, from 1 for the life of the `LogStore` value
/// (numbers start over when the store is opened again). The head holds the latest arrivals in
/// order; records that a flush moves into segments are kept in memory a while longer, up to
/// `StoreOptions.arrivalsKept`, while someone follows (asked within `followerIdle`), so a
/// follower that reconnects misses nothing that a flush took from the head meanwhile.
public struct Arrivals: Sendable {
    /// Records after the asked number, in arrival order.
    public var records: [LogRecord]
    /// The arrival number of `records[0]`.
    public var first: UInt64
    /// Records after the asked number no longer held (flushed out of what is kept): they come
    /// before `records` and are not in it.
    public var missed: UInt64
    /// The last number covered by this answer (returned or missed): ask after it next.
    public var through: UInt64
}

/// The store's arrival bookkeeping, kept in `LogStore.State`.
struct ArrivalState {
    /// The number the next stored record gets.
    var next: UInt64 = 1
    /// Head entries a flush took, oldest first, while someone follows.
    var flushed: [LogStore.HeadEntry] = []
    var flushedRecords = 0
    /// When a follower last asked; nil before anyone did.
    var lastAsked: ContinuousClock.Instant?

    /// Numbers `count` records; returns the first number.
    mutating func number(_ count: Int) -> UInt64 {
        defer { next += UInt64(count) }
        return next
    }

    /// Keeps what a flush took from the head while a follower may still want it.
    mutating func keepFlushed(_ entries: ArraySlice<LogStore.HeadEntry>, upTo limit: Int) {
        guard let lastAsked, ContinuousClock.now - lastAsked < LogStore.followerIdle else {
            // Nobody follows: keeping records no one will ask for would only cost memory.
            flushed.removeAll()
            flushedRecords = 0
            return
        }
        flushed += entries
        flushedRecords += entries.reduce(0) { $0 + $1.records.count }
        var drop = 0
        while drop < flushed.count, flushedRecords - flushed[drop].records.count >= limit {
            flushedRecords -= flushed[drop].records.count
            drop += 1
        }
        flushed.removeFirst(drop)
    }
}

extension LogStore {
    /// Flushed records are kept for followers until none has asked for this long.
    static let followerIdle: Duration = .seconds(300)

    /// The number of the last record stored so far (0 before the first); following from now
    /// means asking after it. Asking counts as following.
    public var latestArrival: UInt64 {
        state.withLock { state in
            state.arrivals.lastAsked = ContinuousClock.now
            return state.arrivals.next - 1
        }
    }

    /// Up to `limit` records stored after arrival number `number`, in order. When records after
    /// `number` are no longer held, the answer says how many were missed and continues with the
    /// oldest held.
    public func arrivals(after number: UInt64, limit: Int = 10_000) -> Arrivals {
        state.withLock { state in
            state.arrivals.lastAsked = ContinuousClock.now
            let latest = state.arrivals.next - 1
            guard number < latest else { return Arrivals(records: [], first: number + 1, missed: 0, through: number) }
            let oldestHeld = (state.arrivals.flushed.first ?? state.head.first)?.firstArrival ?? state.arrivals.next
            let first = max(number + 1, oldestHeld)
            var records: [LogRecord] = []
            for entries in [state.arrivals.flushed, state.head] where records.count < limit {
                var index = Self.entryIndex(holding: first + UInt64(records.count), in: entries)
                while index < entries.count && records.count < limit {
                    let entry = entries[index]
                    let wanted = first + UInt64(records.count)
                    let skip = wanted > entry.firstArrival ? Int(wanted - entry.firstArrival) : 0
                    records += entry.records[skip..<min(entry.records.count, skip + limit - records.count)]
                    index += 1
                }
            }
            let missed = first - (number + 1)
            return Arrivals(records: records, first: first, missed: missed, through: first - 1 + UInt64(records.count))
        }
    }

    /// The index of the entry holding arrival `number` (`entries.count` when none does), by
    /// binary search: entries are in arrival order.
    private static func entryIndex(holding number: UInt64, in entries: [HeadEntry]) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].firstArrival + UInt64(entries[middle].records.count) <= number {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}
