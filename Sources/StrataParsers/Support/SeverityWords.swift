import StrataCore

/// Level words to `Severity` without allocating (`Severity(text:)` lowercases into a String).
/// Accepts the same spellings as `Severity(text:)` plus `dpanic` (zap) and `eror`/`crit`.
enum SeverityWords {
    private struct Key: Hashable {
        var low: UInt64
        var high: UInt64
    }

    private static let table: [(Key, Severity)] = {
        let words: [(String, Severity)] = [
            ("trace", .trace), ("trc", .trace), ("t", .trace), ("finest", .trace), ("finer", .trace),
            ("debug", .debug), ("dbg", .debug), ("d", .debug), ("fine", .debug), ("verbose", .debug),
            ("debu", .debug),
            ("info", .info), ("inf", .info), ("i", .info), ("information", .info), ("informational", .info),
            ("notice", .info), ("config", .info),
            ("warn", .warn), ("warning", .warn), ("wrn", .warn), ("w", .warn),
            ("error", .error), ("err", .error), ("e", .error), ("severe", .error), ("alert", .error),
            ("eror", .error), ("dpanic", .error),
            ("fatal", .fatal), ("crit", .fatal), ("critical", .fatal), ("emerg", .fatal), ("emergency", .fatal),
            ("panic", .fatal), ("f", .fatal), ("c", .fatal),
        ]
        return words.map { word, severity in
            var key = Key(low: 0, high: 0)
            for (index, byte) in word.utf8.enumerated() {
                if index < 8 { key.low |= UInt64(byte) << (8 * UInt64(index)) } else {
                    key.high |= UInt64(byte) << (8 * UInt64(index - 8))
                }
            }
            return (key, severity)
        }
    }()

    /// The severity named by the bytes in `range` (ASCII case-insensitive), or nil.
    @inline(__always)
    static func match(_ b: Bytes, _ range: Range<Int>) -> Severity? {
        let count = range.count
        guard count > 0, count <= 16 else { return nil }
        var key = Key(low: 0, high: 0)
        var index = 0
        for i in range {
            let byte = lower(b[i])
            guard isLower(byte) else { return nil }
            if index < 8 { key.low |= UInt64(byte) << (8 * UInt64(index)) } else {
                key.high |= UInt64(byte) << (8 * UInt64(index - 8))
            }
            index += 1
        }
        for (candidate, severity) in table where candidate == key { return severity }
        return nil
    }

    static func match(_ text: String) -> Severity? {
        text.withBytes { match($0, 0..<$0.count) }
    }

    /// Numeric levels: zap (-1 debug … 5 fatal), pino/bunyan (10 trace, 20 debug, 30 info,
    /// 40 warn, 50 error, 60 fatal). Other numbers are not levels.
    static func numeric(_ value: Int) -> Severity? {
        switch value {
        case -1: .debug
        case 0: .info
        case 1: .warn
        case 2, 3: .error
        case 4, 5: .fatal
        case 10: .trace
        case 20: .debug
        case 30: .info
        case 40: .warn
        case 50: .error
        case 60: .fatal
        default: nil
        }
    }

    /// A level given as a JSON/logfmt value: a word, or a zap/pino number.
    @inline(__always)
    static func value(_ b: Bytes, _ range: Range<Int>) -> Severity? {
        let r = b.trimmed(range)
        guard !r.isEmpty else { return nil }
        let first = b[r.lowerBound]
        if isDigit(first) || first == ASCII.minus {
            var i = r.lowerBound
            var negative = false
            if first == ASCII.minus {
                negative = true
                i += 1
            }
            guard let (value, end) = b.integer(at: i, end: r.upperBound), end == r.upperBound else { return nil }
            return numeric(negative ? -value : value)
        }
        return match(b, r)
    }
}
