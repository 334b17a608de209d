import StrataCore

/// Guesses the severity of a record no parser gave one, from the first 80 bytes of its body.
/// The first of these wins:
///
/// - a standalone upper-case level word: `TRACE`, `DEBUG`, `INFO`, `WARN`, `WARNING`, `ERROR`,
///   `FATAL`, `CRITICAL` (standalone: no letter, digit or `_` on either side; an ANSI colour
///   code just before counts as a boundary);
/// - a bracketed level word in any case: `[error]`, `[Warn]`, `[INFO]`;
/// - a level key: `level=error`, `lvl=WARN`, `severity: info`, `"level":"error"` (any case,
///   any spelling `Severity(text:)` knows).
///
/// Lower-case words in running text (`no error found`) are never taken.
public enum SeveritySniffer {
    public static let window = 80

    @discardableResult
    public static func apply(_ record: inout LogRecord) -> Bool {
        guard record.severity == nil else { return false }
        guard let severity = record.body.withBytes({ sniff($0) }) else { return false }
        record.severity = severity
        return true
    }

    public static func sniff(_ text: String) -> Severity? { text.withBytes { sniff($0) } }

    static func sniff(_ b: Bytes) -> Severity? {
        let n = b.count
        let limit = min(n, window)
        var i = 0
        while i < limit {
            let c = b[i]
            if isUpper(c) {
                if atBoundary(b, i), let (severity, end) = upperWord(b, i), end == n || !isWord(b[end]) {
                    return severity
                }
            } else if c == ASCII.openBracket {
                var j = i + 1
                while j < n, j - i <= 9, isLetter(b[j]) { j += 1 }
                if j < n, b[j] == ASCII.closeBracket, j - i >= 4, let severity = SeverityWords.match(b, (i + 1)..<j) {
                    return severity
                }
            } else if c == UInt8(ascii: "l") || c == UInt8(ascii: "L") || c == UInt8(ascii: "s") || c == UInt8(ascii: "S") {
                if atBoundary(b, i), let severity = keyed(b, i) { return severity }
            }
            i += 1
        }
        return nil
    }

    @inline(__always)
    static func isWord(_ c: UInt8) -> Bool { isAlnum(c) || c == ASCII.underscore }

    @inline(__always)
    static func atBoundary(_ b: Bytes, _ i: Int) -> Bool {
        guard i > 0 else { return true }
        let before = b[i - 1]
        if !isWord(before) { return true }
        // `\e[31mERROR`
        if before == UInt8(ascii: "m") {
            var k = i - 2
            while k >= 0, k >= i - 8, isDigit(b[k]) || b[k] == UInt8(ascii: ";") { k -= 1 }
            return k >= 1 && b[k] == ASCII.openBracket && b[k - 1] == ASCII.escape
        }
        return false
    }

    @inline(__always)
    static func upperWord(_ b: Bytes, _ i: Int) -> (Severity, Int)? {
        switch b[i] {
        case UInt8(ascii: "I"): if b.hasLiteral("INFO", at: i) { return (.info, i + 4) }
        case UInt8(ascii: "W"):
            if b.hasLiteral("WARNING", at: i) { return (.warn, i + 7) }
            if b.hasLiteral("WARN", at: i) { return (.warn, i + 4) }
        case UInt8(ascii: "E"): if b.hasLiteral("ERROR", at: i) { return (.error, i + 5) }
        case UInt8(ascii: "D"): if b.hasLiteral("DEBUG", at: i) { return (.debug, i + 5) }
        case UInt8(ascii: "T"): if b.hasLiteral("TRACE", at: i) { return (.trace, i + 5) }
        case UInt8(ascii: "F"): if b.hasLiteral("FATAL", at: i) { return (.fatal, i + 5) }
        case UInt8(ascii: "C"): if b.hasLiteral("CRITICAL", at: i) { return (.fatal, i + 8) }
        default: break
        }
        return nil
    }

    /// `level=error`, `lvl: warn`, `"severity":"INFO"`.
    @inline(__always)
    static func keyed(_ b: Bytes, _ i: Int) -> Severity? {
        var j: Int
        if b.hasLiteralIgnoringCase("level", at: i) {
            j = i + 5
        } else if b.hasLiteralIgnoringCase("lvl", at: i) {
            j = i + 3
        } else if b.hasLiteralIgnoringCase("severity", at: i) {
            j = i + 8
        } else {
            return nil
        }
        let n = b.count
        var separators = 0
        var sawAssignment = false
        while j < n, separators < 4 {
            let c = b[j]
            if c == ASCII.equals || c == ASCII.colon {
                sawAssignment = true
            } else if c != ASCII.quote && c != ASCII.space && c != ASCII.apostrophe {
                break
            }
            j += 1
            separators += 1
        }
        guard sawAssignment else { return nil }
        var end = j
        while end < n, end - j < 16, isLetter(b[end]) { end += 1 }
        guard end > j, end == n || !isWord(b[end]) else { return nil }
        return SeverityWords.match(b, j..<end)
    }
}
