#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable whose timed waits run on the monotonic clock (a wall-clock
/// jump neither cuts a wait short nor stretches it), for threads that must block: the agent's
/// tail reader when the delivery queue is full, the store's flusher and compactor between
/// rounds. Async code uses `Mutex` and continuations instead.
///
/// Two ways to use it:
/// - as a guarded section: `lock()`, test the state, `wait()` / `wait(timeout:)` until another
///   thread changes it and calls `broadcast()`, `unlock()`;
/// - as a remembered wake-up: `signal()` is kept until the next `waitForSignal(timeout:)`, so a
///   signal sent while the waiting thread was busy is not lost.
public final class MonotonicCondition: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// A `signal()` no `waitForSignal` has taken yet; guarded by `mutex`.
    private var signalled = false

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deinitialize(count: 1)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// Wakes every thread waiting in `wait`; call it holding the lock, after changing the state.
    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Waits for a `broadcast` (or a spurious wake-up: re-test the state); the caller holds the lock.
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Like `wait()`, for at most `timeout`; false when the time ran out.
    @discardableResult
    public func wait(timeout: Duration) -> Bool {
        var deadline = Self.deadline(after: timeout)
        return pthread_cond_timedwait(condition, mutex, &deadline) == 0
    }

    /// Remembers a wake-up for the next `waitForSignal` and wakes a thread already waiting.
    public func signal() {
        lock()
        signalled = true
        broadcast()
        unlock()
    }

    /// Waits until `signal()` was called (before or during the wait) or `timeout` passed, and
    /// consumes the signal. True when signalled.
    @discardableResult
    public func waitForSignal(timeout: Duration) -> Bool {
        var deadline = Self.deadline(after: timeout)
        lock()
        defer { unlock() }
        while !signalled {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
        }
        let wasSignalled = signalled
        signalled = false
        return wasSignalled
    }

    private static func deadline(after timeout: Duration) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let (seconds, attoseconds) = max(timeout, .zero).components
        let nanos = Int(now.tv_nsec) + Int(attoseconds / 1_000_000_000)
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + Int(min(seconds, Int64(Int32.max))) + nanos / 1_000_000_000
        deadline.tv_nsec = nanos % 1_000_000_000
        return deadline
    }
}
