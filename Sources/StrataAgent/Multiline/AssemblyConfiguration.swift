/// A user-supplied test on a whole (partials already joined) line, e.g. a compiled RE2 pattern.
public protocol LinePredicate: Sendable {
    func matches(_ line: UnsafeRawBufferPointer) -> Bool
}

/// Stack trace shapes the assembler recognizes without configuration (see `MultilineRules`).
public enum BuiltinMultilineRule: String, Sendable, Hashable, CaseIterable {
    case java
    case python
    case go
}

public struct AssemblyConfiguration: Sendable {
    /// No record body is longer than this; longer content is split into pieces flagged `.truncated`.
    public var maxRecordBytes: Int
    /// A pending group (or partial line) whose last line arrived this long ago is emitted.
    /// Measured on the `now` clock the caller passes in (a monotonic clock is best).
    public var flushTimeoutNanos: Int64
    /// Built-in stack trace rules; empty (and no `startPattern`) means every line is its own
    /// record and nothing is held back.
    public var builtinRules: Set<BuiltinMultilineRule>
    /// A user start-of-record pattern. When set it replaces the built-in rules: a line matching
    /// it starts a record, any other line continues the pending one.
    public var startPattern: (any LinePredicate)?

    public init(
        maxRecordBytes: Int = 1 << 20, flushTimeoutNanos: Int64 = 1_000_000_000,
        builtinRules: Set<BuiltinMultilineRule> = [.java, .python, .go], startPattern: (any LinePredicate)? = nil
    ) {
        self.maxRecordBytes = max(4, maxRecordBytes)
        self.flushTimeoutNanos = flushTimeoutNanos
        self.builtinRules = builtinRules
        self.startPattern = startPattern
    }
}
