import Hummingbird
import NIOCore
import Synchronization

/// Live tails open at once: at most `HTTPLimits.maxTails` in all and `maxTailsPerCaller` per
/// caller. A caller is its credential and peer address together (`Caller.description`,
/// "token 1 from 10.0.0.7"): with one token shared by every user, each host still gets its own
/// allowance, and one host cannot take every place.
final class TailAdmission: Sendable {
    let limits: HTTPLimits
    private let metrics: CollectorMetrics
    private struct Open {
        var total = 0
        var byCaller: [String: Int] = [:]
    }
    private let open = Mutex(Open())

    init(limits: HTTPLimits, metrics: CollectorMetrics) {
        self.limits = limits
        self.metrics = metrics
    }

    /// Streams open now.
    var openCount: Int { open.withLock { $0.total } }

    enum Decision {
        case admitted(Ticket)
        /// The message of the 429 answer.
        case refused(String)
    }

    func admit(_ caller: Caller) -> Decision {
        let key = caller.description
        let refusal: (limit: String, message: String)? = open.withLock { open in
            if open.byCaller[key, default: 0] >= limits.maxTailsPerCaller {
                return (
                    "caller",
                    "\(key) has \(limits.maxTailsPerCaller) tail streams open (http.max_tails_per_caller); close one or retry later"
                )
            }
            if open.total >= limits.maxTails {
                return ("total", "the collector serves \(limits.maxTails) tail streams already (http.max_tails); retry later")
            }
            open.total += 1
            open.byCaller[key, default: 0] += 1
            return nil
        }
        if let refusal {
            metrics.tailRefused(limit: refusal.limit)
            return .refused(refusal.message)
        }
        metrics.tailStreams.increment()
        return .admitted(Ticket(admission: self, key: key))
    }

    fileprivate func release(_ key: String) {
        open.withLock { open in
            open.total -= 1
            let remaining = open.byCaller[key, default: 1] - 1
            open.byCaller[key] = remaining > 0 ? remaining : nil
        }
        metrics.tailStreams.decrement()
    }

    /// A stream's place, given back when the stream's body is released, however it ended
    /// (finished, failed, or never started because the connection closed first).
    final class Ticket: Sendable {
        private let admission: TailAdmission
        private let key: String

        fileprivate init(admission: TailAdmission, key: String) {
            self.admission = admission
            self.key = key
        }

        deinit { admission.release(key) }

        func countGap() { admission.metrics.tailGaps.increment() }
        func countStall() { admission.metrics.tailStalled.increment() }
    }
}

/// Closes the connection when one write of a stream waits longer than `timeout` for its client:
/// the write then fails, the stream ends, and what it held is released. Hummingbird's body
/// writer waits as long as the connection is not writable and has no timeout of its own.
struct StalledWrite: Sendable {
    let channel: any Channel
    let timeout: Duration
    let onStall: @Sendable () -> Void

    func guarding(_ write: () async throws -> Void) async throws {
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [channel, onStall] in
            onStall()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        try await write()
    }
}
