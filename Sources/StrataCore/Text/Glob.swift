/// A selector wildcard over a whole value (`legacy-*`, `orders-?`, `web-[0-9]*`), the one
/// language for namespace, pod and container selectors of the agent and the collector
/// (docs/PARSERS.md, "Selectors"):
///
/// - `*` any run of bytes, none included (names hold no `/`, so nothing special about it);
/// - `?` exactly one byte;
/// - `[abc]`, `[a-z]`, `[!a-z]` or `[^a-z]` one byte in (or not in) the set; a `]` right after
///   `[` or `[!` belongs to the set; a `[` without a closing `]` is an ordinary character;
/// - every other byte stands for itself; there is no escape character (Kubernetes names
///   cannot hold `*`, `?`, `[` or `\` anyway).
///
/// File path globs (`inputs.paths`, `inputs.exclude`) are not selectors: they use the libc
/// glob language (`glob(3)`, `fnmatch(3)`), as the shell does.
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
        } else if bytes.contains(where: { $0 == Self.star || $0 == Self.question || $0 == Self.open }) {
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
            guard var value else { return false }
            return value.withUTF8 { text in
                bytes.withUnsafeBufferPointer { Self.match($0, text) }
            }
        }
    }

    private static let star = UInt8(ascii: "*")
    private static let question = UInt8(ascii: "?")
    private static let open = UInt8(ascii: "[")
    private static let close = UInt8(ascii: "]")

    /// Left to right, remembering the last `*` to retry from: linear in practice, never
    /// exponential, whatever the pattern.
    private static func match(_ p: UnsafeBufferPointer<UInt8>, _ t: UnsafeBufferPointer<UInt8>) -> Bool {
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count {
                let c = p[pi]
                if c == Self.star {
                    star = pi
                    mark = ti
                    pi += 1
                    continue
                }
                if c == Self.question {
                    pi += 1
                    ti += 1
                    continue
                }
                if c == Self.open, let set = bracket(p, at: pi, contains: t[ti]) {
                    if set.contains {
                        pi = set.end
                        ti += 1
                        continue
                    }
                } else if c == t[ti] {
                    pi += 1
                    ti += 1
                    continue
                }
            }
            guard star >= 0 else { return false }
            pi = star + 1
            mark += 1
            ti = mark
        }
        while pi < p.count, p[pi] == Self.star { pi += 1 }
        return pi == p.count
    }

    /// The set opened by the `[` at `start`: whether it holds `byte`, and where the pattern
    /// goes on after its `]`; nil when no `]` closes it.
    private static func bracket(
        _ p: UnsafeBufferPointer<UInt8>, at start: Int, contains byte: UInt8
    ) -> (contains: Bool, end: Int)? {
        var i = start + 1
        var negated = false
        if i < p.count, p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^") {
            negated = true
            i += 1
        }
        var found = false
        var first = true
        while i < p.count {
            let c = p[i]
            if c == Self.close, !first { return (found != negated, i + 1) }
            first = false
            if i + 2 < p.count, p[i + 1] == UInt8(ascii: "-"), p[i + 2] != Self.close {
                if c <= byte, byte <= p[i + 2] { found = true }
                i += 3
            } else {
                if c == byte { found = true }
                i += 1
            }
        }
        return nil
    }
}
