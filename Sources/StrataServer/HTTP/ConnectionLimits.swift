import Glibc
import Synchronization

/// How long the collector waits on a connection, how many it keeps, and how many live tails it
/// serves (`http:` in the configuration, docs/API.md "Connections").
public struct HTTPLimits: Sendable {
    /// A new connection must deliver a complete request head within this.
    public var headerTimeout: Duration = .seconds(10)
    /// A request body may pause this long between two reads; a stalled upload is closed after it.
    public var bodyTimeout: Duration = .seconds(30)
    /// A keep-alive connection with no request in progress is closed after this.
    public var idleTimeout: Duration = .seconds(60)
    /// At SIGTERM, requests in progress get this long to finish; then their connections close.
    public var shutdownTimeout: Duration = .seconds(10)
    /// Open connections at most; nil derives it from the descriptor limit
    /// (`ConnectionBudget.defaultMaxConnections`).
    public var maxConnections: Int?
    /// Live tails (`/api/v1/tail`) open at once, and per caller (token and peer address).
    public var maxTails = 64
    public var maxTailsPerCaller = 8
    /// A tail whose client has not taken what was written for this long is disconnected.
    public var tailStallTimeout: Duration = .seconds(30)

    public init() {}

    /// `maxConnections`, or the default for this process's descriptor limit.
    public var effectiveMaxConnections: Int {
        maxConnections ?? ConnectionBudget.defaultMaxConnections(descriptorLimit: ConnectionBudget.descriptorLimit())
    }
}

/// Connections take file descriptors from the same limit (RLIMIT_NOFILE) as the store's
/// write-ahead log, segments, flushes and template saves; when connections take them all, a
/// flush fails with "Too many open files". The connection cap leaves the store a reserve.
public enum ConnectionBudget {
    /// Descriptors kept for the store and everything else that is not a connection: at least
    /// 256, or a quarter of the limit.
    public static func reserve(descriptorLimit: Int) -> Int { max(256, descriptorLimit / 4) }

    /// The fewest descriptors a configured cap must leave to the store.
    public static let minimumReserve = 128

    /// The process's soft descriptor limit (what `open` and `accept` are held to).
    public static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        // RLIM_INFINITY is huge; any count we could hold is below it.
        return limit.rlim_cur > rlim_t(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
    }

    public static func defaultMaxConnections(descriptorLimit: Int) -> Int {
        max(16, descriptorLimit - reserve(descriptorLimit: descriptorLimit))
    }
}

/// Open connections counted across event loops; the per-connection `ConnectionGuard` takes a
/// place when it starts and gives it back when its connection closes.
final class ConnectionCount: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    var current: Int { open.load(ordering: .relaxed) }

    /// Takes a place; false (and nothing taken) when all are taken.
    func admit() -> Bool {
        var seen = open.load(ordering: .relaxed)
        while seen < limit {
            let (exchanged, original) = open.compareExchange(expected: seen, desired: seen + 1, ordering: .relaxed)
            if exchanged { return true }
            seen = original
        }
        return false
    }

    func release() { open.subtract(1, ordering: .relaxed) }
}
