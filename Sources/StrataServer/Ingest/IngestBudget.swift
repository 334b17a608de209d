import Synchronization

/// The bytes that ingest requests may hold in memory at once, across every request
/// (`ingest.memory_budget`, docs/RELIABILITY.md "Memory budget"). Per-request limits alone let
/// eight concurrent 200 MiB batches take 3.9 GB; here each request claims its bytes as they
/// appear — the body as it arrives, the decompressed text as it expands, the decoded records
/// before they are built — and a claim that does not fit is refused at once (429, retry later)
/// instead of waiting, so a stalled sender cannot hold others' memory hostage.
public final class IngestBudget: Sendable {
    public let capacity: Int
    private let used = Mutex(0)

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Bytes claimed by requests in flight now.
    public var inUse: Int { used.withLock { $0 } }

    /// A new, empty claim for one request; it gives its bytes back when released or dropped.
    public func lease() -> Lease { Lease(budget: self) }

    /// What a claim of more bytes came to.
    public enum Claim: Sendable, Equatable {
        case granted
        /// Other requests hold the rest of the budget now; retrying later may succeed.
        case busy
        /// This request alone would need more than the whole budget: retrying cannot succeed.
        case exceedsBudget
    }

    fileprivate func claim(_ bytes: Int, alreadyHeld: Int) -> Claim {
        guard bytes > 0 else { return .granted }
        // Saturating: a claim is never negative, but held + bytes comes from input sizes.
        let (total, overflow) = alreadyHeld.addingReportingOverflow(bytes)
        if overflow || total > capacity { return .exceedsBudget }
        return used.withLock { used in
            guard used + bytes <= capacity else { return .busy }
            used += bytes
            return .granted
        }
    }

    fileprivate func giveBack(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.withLock { $0 -= bytes }
    }

    /// One request's claim. Sendable because the request hands it to its decoder inside
    /// `IngestRequest`; it is used by one request at a time, the lock only guards the count.
    public final class Lease: Sendable {
        private let budget: IngestBudget
        private let held = Mutex(0)

        fileprivate init(budget: IngestBudget) { self.budget = budget }

        /// Bytes this request holds now.
        public var bytes: Int { held.withLock { $0 } }

        /// Claims `bytes` more; on `.granted` they are held until `release()`.
        public func claim(_ bytes: Int) -> Claim {
            held.withLock { held in
                let answer = budget.claim(bytes, alreadyHeld: held)
                if answer == .granted { held += bytes }
                return answer
            }
        }

        /// Why a claim found the budget taken by other requests, for the 429 answer.
        func busyMessage(_ what: String) -> String {
            "the collector's ingest memory budget (ingest.memory_budget, \(budget.capacity) bytes) is taken by other "
                + "requests in flight (\(budget.inUse) bytes): \(what) did not fit; retry after the Retry-After delay"
        }

        /// Why this request can never fit, for the 413 answer.
        func exceedsMessage(_ what: String) -> String {
            "\(what) would take this one request past the whole ingest memory budget (ingest.memory_budget, "
                + "\(budget.capacity) bytes): send smaller batches or raise ingest.memory_budget"
        }

        /// Gives every held byte back; the lease can claim again afterwards.
        public func release() {
            held.withLock { held in
                budget.giveBack(held)
                held = 0
            }
        }

        deinit { release() }
    }
}
