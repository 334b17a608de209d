#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex around a value (the package still targets macOS 14, before `Mutex`).
final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// `*` and `?` wildcards over a whole value (`legacy-*`, `orders-?`).
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    private let bytes: [UInt8]
    private let kind: Kind

    private enum Kind: Hashable {
        case anything, exact, wildcard
    }

    public init(_ pattern: String) {
        self.pattern = pattern
        bytes = Array(pattern.utf8)
        if pattern == "*" {
            kind = .anything
        } else if bytes.contains(UInt8(ascii: "*")) || bytes.contains(UInt8(ascii: "?")) {
            kind = .wildcard
        } else {
            kind = .exact
        }
    }

    public var description: String { pattern }
    public var matchesEverything: Bool { kind == .anything }

    /// Whether `value` matches; a missing value matches only `*`.
    public func matches(_ value: String?) -> Bool {
        switch kind {
        case .anything: return true
        case .exact: return value == pattern
        case .wildcard:
            guard let value else { return false }
            return value.withBytes { text in
                bytes.withUnsafeBufferPointer { Self.match($0, text) }
            }
        }
    }

    private static func match(_ p: UnsafeBufferPointer<UInt8>, _ t: UnsafeBufferPointer<UInt8>) -> Bool {
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
