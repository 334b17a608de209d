import Synchronization

/// A warning that may concern every batch (records refused by retention during a backfill) is
/// said at most once per interval, with how often it happened since it was last said, so that
/// it is heard without flooding the log.
final class OccasionalWarning: Sendable {
    let intervalNanos: Int64
    private let state = Mutex<(lastSaid: Int64?, unsaid: Int)>((nil, 0))

    init(intervalNanos: Int64) { self.intervalNanos = intervalNanos }

    /// Adds `count` occurrences at monotonic time `now`; returns the count to say now (these and
    /// those held back since the last time), or nil while the interval has not passed.
    func note(_ count: Int, now: Int64) -> Int? {
        state.withLock { state in
            let (total, overflow) = state.unsaid.addingReportingOverflow(count)
            state.unsaid = overflow ? Int.max : total
            if let last = state.lastSaid, now.subtractingReportingOverflow(last).partialValue < intervalNanos { return nil }
            defer { state = (now, 0) }
            return state.unsaid
        }
    }
}
