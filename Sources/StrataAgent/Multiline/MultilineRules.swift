/// The built-in stack trace rules: cheap byte checks deciding, for each whole line, whether it
/// continues the pending record of its stream or starts a new one.
///
/// An ordinary log line starts with a digit, `{`, `[`, a level word... and is rejected after a
/// look at its first byte or first word; only lines that look like part of a trace cost more.
///
/// Java (also Kotlin, Scala, and Node.js `at` frames):
/// - continuation: `<ws>+at <x>`, `<ws>*Caused by: `, `<ws>*Suppressed: `, `<ws>+... N more`,
///   `<ws>+... N common frames omitted`. They continue a pending plain line or Java trace; with
///   nothing else pending they start a Java trace.
/// - an exception header (`java.lang.IllegalStateException: msg`, `com.x.FooError`: a dotted
///   name whose last part ends in Exception/Error/Throwable, then `:` or the end of the line)
///   continues a pending *plain* line (a logger's ERROR line followed by its stack trace);
///   otherwise it starts a Java trace (`printStackTrace()` output), as does
///   `Exception in thread "..." ...`.
///
/// Python:
/// - `Traceback (most recent call last):` continues a pending plain line (`logger.exception`
///   output) or a chained traceback, otherwise starts a traceback.
/// - inside a traceback, indented and blank lines continue; the first unindented line shaped
///   like an exception (`ValueError: msg`, `pkg.mod.Error`, `KeyboardInterrupt`) continues and
///   ends it; any other unindented line starts a new record.
/// - after the exception line, blank lines and the chaining sentences ("During handling of the
///   above exception, another exception occurred:", "The above exception was the direct cause
///   of the following exception:") continue, and so does the next `Traceback` after them.
///
/// Go:
/// - `panic: ` and `fatal error: ` start a panic record.
/// - inside it, blank lines, tab-indented lines (`\t/path/file.go:12 +0x1d`, `\tpanic: ...`),
///   `goroutine N [...]:`, function lines (`pkg.(*T).fn(...)`), `created by ...`, lines
///   starting with `[` (`[recovered]`, `[signal SIGSEGV ...]`), `exit status N`,
///   `runtime stack:`, `...additional frames elided...`, `SIG...` and `PC=` continue; the first
///   other line ends it and starts a new record.
enum MultilineRules {
    enum Mode: UInt8, Sendable {
        /// An ordinary line (or user-pattern record with one line).
        case plain
        case java
        case pythonTrace
        case pythonEnded
        case pythonChain
        case go
        /// A record assembled by a user start pattern.
        case user

        /// A record in this mode is an unfinished trace: more lines could still have come.
        var expectsContinuation: Bool {
            switch self {
            case .plain, .user: false
            default: true
            }
        }
    }

    struct Rules: OptionSet, Sendable {
        let rawValue: UInt8
        static let java = Rules(rawValue: 1)
        static let python = Rules(rawValue: 2)
        static let go = Rules(rawValue: 4)

        init(rawValue: UInt8) { self.rawValue = rawValue }
        init(_ set: Set<BuiltinMultilineRule>) {
            var rules = Rules()
            if set.contains(.java) { rules.insert(.java) }
            if set.contains(.python) { rules.insert(.python) }
            if set.contains(.go) { rules.insert(.go) }
            self = rules
        }
    }

    /// Whether `line` continues a record pending in `pending` mode (nil: nothing pending), and
    /// the mode of the record it ends up in.
    static func decide(_ line: Line, pending: Mode?, rules: Rules) -> (continues: Bool, mode: Mode) {
        if let pending {
            switch pending {
            case .go:
                if rules.contains(.go), isGoContinuation(line) { return (true, .go) }
            case .pythonTrace:
                if rules.contains(.python) {
                    if line.startsWithWhitespace || line.isBlank { return (true, .pythonTrace) }
                    if isPythonExceptionLine(line) { return (true, .pythonEnded) }
                }
            case .pythonEnded:
                if rules.contains(.python) {
                    if line.isBlank { return (true, .pythonEnded) }
                    if isChainSentence(line) { return (true, .pythonChain) }
                }
            case .pythonChain:
                if rules.contains(.python) {
                    if line.isBlank || isChainSentence(line) { return (true, .pythonChain) }
                    if isTracebackHeader(line) { return (true, .pythonTrace) }
                }
            case .plain:
                if rules.contains(.python), isTracebackHeader(line) { return (true, .pythonTrace) }
                if rules.contains(.java), isJavaContinuation(line) || isJavaExceptionHeader(line) {
                    return (true, .java)
                }
                // A goroutine dump after a log line: net/http's "http: panic serving ...",
                // a SIGQUIT dump, a recovered panic logged by the application.
                if rules.contains(.go), isGoroutineHeader(line) { return (true, .go) }
            case .java:
                // Indented lines inside a trace: frames, and the further lines of a multi-line
                // exception message (PostgreSQL's "  Detail: ...", "  Hint: ...").
                if rules.contains(.java), isJavaContinuation(line) || (line.startsWithWhitespace && !line.isBlank) {
                    return (true, .java)
                }
            case .user:
                break
            }
        }
        return (false, startMode(line, rules: rules))
    }

    /// The mode of a record that `line` starts.
    @inline(__always)
    static func startMode(_ line: Line, rules: Rules) -> Mode {
        guard line.count > 0 else { return .plain }
        switch line[0] {
        case UInt8(ascii: "T"):
            if rules.contains(.python), isTracebackHeader(line) { return .pythonTrace }
        case UInt8(ascii: "p"), UInt8(ascii: "f"):
            if rules.contains(.go), line.hasPrefix("panic: ") || line.hasPrefix("fatal error: ") { return .go }
        case UInt8(ascii: "E"):
            if rules.contains(.java), line.hasPrefix("Exception in thread ") { return .java }
        default:
            break
        }
        if rules.contains(.java), isJavaContinuation(line) || isJavaExceptionHeader(line) { return .java }
        return .plain
    }

    // MARK: Java

    static func isJavaContinuation(_ line: Line) -> Bool {
        let ws = line.leadingWhitespace
        guard ws < line.count else { return false }
        switch line[ws] {
        case UInt8(ascii: "a"):
            // "\tat com.x.Y.f(Y.java:12)"
            return ws > 0 && line.count > ws + 3 && line[ws + 1] == UInt8(ascii: "t")
                && line[ws + 2] == UInt8(ascii: " ") && !Line.isSpace(line[ws + 3])
        case UInt8(ascii: "."):
            // "\t... 12 more", "\t... 12 common frames omitted"
            guard ws > 0, line.hasPrefix("... ", at: ws) else { return false }
            var i = ws + 4
            let digits = i
            while i < line.count, Line.isDigit(line[i]) { i += 1 }
            guard i > digits else { return false }
            return line.hasPrefix(" more", at: i) || line.hasPrefix(" common frames omitted", at: i)
        case UInt8(ascii: "C"):
            return line.hasPrefix("Caused by: ", at: ws)
        case UInt8(ascii: "S"):
            return line.hasPrefix("Suppressed: ", at: ws)
        default:
            return false
        }
    }

    /// `java.lang.IllegalStateException: msg`, `com.x.FooException`, `kotlin.x.Bar$BazError: m`.
    static func isJavaExceptionHeader(_ line: Line) -> Bool {
        guard line.count > 6, Line.isIdentifierStart(line[0]) else { return false }
        var i = 1
        var dots = 0
        while i < line.count {
            let b = line[i]
            if b == UInt8(ascii: ".") {
                dots += 1
            } else if !Line.isIdentifierPart(b) {
                break
            }
            i += 1
        }
        guard dots > 0, line[i - 1] != UInt8(ascii: ".") else { return false }
        if i < line.count {
            // The name must be followed by ": " or ":" at the end.
            guard line[i] == UInt8(ascii: ":"), i + 1 == line.count || line[i + 1] == UInt8(ascii: " ") else {
                return false
            }
        }
        return line.hasSuffix("Exception", end: i) || line.hasSuffix("Error", end: i)
            || line.hasSuffix("Throwable", end: i)
    }

    // MARK: Python

    @inline(__always)
    static func isTracebackHeader(_ line: Line) -> Bool {
        line.hasPrefix("Traceback (most recent call last):")
    }

    static func isChainSentence(_ line: Line) -> Bool {
        line.hasPrefix("During handling of the above exception, another exception occurred:")
            || line.hasPrefix("The above exception was the direct cause of the following exception:")
    }

    /// `ValueError: msg`, `requests.exceptions.ConnectionError: ...`, `KeyboardInterrupt`.
    static func isPythonExceptionLine(_ line: Line) -> Bool {
        guard line.count > 0, Line.isIdentifierStart(line[0]) else { return false }
        var i = 1
        while i < line.count, Line.isIdentifierPart(line[i]) || line[i] == UInt8(ascii: ".") { i += 1 }
        return i == line.count || line[i] == UInt8(ascii: ":")
    }

    // MARK: Go

    /// `goroutine 44663 [running]:`
    static func isGoroutineHeader(_ line: Line) -> Bool {
        line.hasPrefix("goroutine ") && line.count > 12 && Line.isDigit(line[10])
            && line.hasSuffix("]:", end: line.count)
    }

    static func isGoContinuation(_ line: Line) -> Bool {
        guard line.count > 0 else { return true }
        switch line[0] {
        case UInt8(ascii: "\t"), UInt8(ascii: "["):
            return true
        case UInt8(ascii: " "), UInt8(ascii: "\r"):
            return line.isBlank
        case UInt8(ascii: "g"):
            if line.hasPrefix("goroutine ") { return true }
        case UInt8(ascii: "c"):
            if line.hasPrefix("created by ") { return true }
        case UInt8(ascii: "e"):
            if line.hasPrefix("exit status ") { return true }
        case UInt8(ascii: "r"):
            if line.hasPrefix("runtime stack:") { return true }
        case UInt8(ascii: "."):
            return line.hasPrefix("...additional frames elided...")
        case UInt8(ascii: "S"):
            if line.hasPrefix("SIG") { return true }
        case UInt8(ascii: "P"):
            if line.hasPrefix("PC=") { return true }
        default:
            break
        }
        return isGoFunctionLine(line)
    }

    /// `main.main()`, `net/http.(*conn).serve(0xc000118000, {0x7d1f50, 0xc0000a2000})`,
    /// `panic({0x4a1b20?, 0x5a6d40?})`: no space before the first `(`, ends with `)`.
    static func isGoFunctionLine(_ line: Line) -> Bool {
        guard line.count >= 3, Line.isIdentifierStart(line[0]) else { return false }
        var end = line.count
        if line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        guard line[end - 1] == UInt8(ascii: ")") else { return false }
        var i = 1
        while i < end {
            let b = line[i]
            if b == UInt8(ascii: "(") { return true }
            if Line.isSpace(b) { return false }
            i += 1
        }
        return false
    }
}

/// A borrowed view of one whole line.
struct Line {
    let base: UnsafePointer<UInt8>
    let count: Int

    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        // An empty buffer may have no address; any non-null pointer does then (never read).
        base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!
        count = buffer.count
    }

    @inline(__always)
    init(_ buffer: UnsafeRawBufferPointer) {
        base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!
        count = buffer.count
    }

    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
    var isEmpty: Bool { count == 0 }

    @inline(__always)
    subscript(i: Int) -> UInt8 { base[i] }

    @inline(__always)
    func hasPrefix(_ literal: StaticString, at offset: Int = 0) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard count - offset >= n else { return false }
        let l = literal.utf8Start
        for j in 0..<n where base[offset + j] != l[j] { return false }
        return true
    }

    /// Whether `self[..<end]` ends with `literal`.
    @inline(__always)
    func hasSuffix(_ literal: StaticString, end: Int) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard end >= n else { return false }
        let l = literal.utf8Start
        for j in 0..<n where base[end - n + j] != l[j] { return false }
        return true
    }

    @inline(__always)
    var leadingWhitespace: Int {
        var i = 0
        while i < count, base[i] == 0x20 || base[i] == 0x09 { i += 1 }
        return i
    }

    @inline(__always)
    var startsWithWhitespace: Bool { count > 0 && (base[0] == 0x20 || base[0] == 0x09) }

    /// Empty or only spaces, tabs and a `\r`.
    var isBlank: Bool {
        for i in 0..<count where !Line.isSpace(base[i]) { return false }
        return true
    }

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    @inline(__always)
    static func isIdentifierStart(_ b: UInt8) -> Bool {
        (b | 0x20) &- 0x61 < 26 || b == UInt8(ascii: "_") || b == UInt8(ascii: "$")
    }
    @inline(__always)
    static func isIdentifierPart(_ b: UInt8) -> Bool { isIdentifierStart(b) || isDigit(b) }
}
