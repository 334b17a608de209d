import StrataCore

/// Times and durations as users type them: `15m`, `2h`, `7d`; `now`, `now-2h`; RFC 3339;
/// nanoseconds since the epoch.
public enum TimeExpression {
    /// A duration like `15m`, `2h`, `1h30m`, `500ms`, `7d`, `1w` in nanoseconds.
    public static func duration(_ text: String) -> Int64? {
        var total: Int64 = 0
        var rest = Substring(text.trimmingCharacters(in: " "))
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let number = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unitText.count)
            let unit: Int64
            switch unitText {
            case "ns": unit = 1
            case "us": unit = 1_000
            case "ms": unit = 1_000_000
            case "s": unit = 1_000_000_000
            case "m": unit = 60_000_000_000
            case "h": unit = 3_600_000_000_000
            case "d": unit = 86_400_000_000_000
            case "w": unit = 604_800_000_000_000
            default: return nil
            }
            let (product, overflow) = number.multipliedReportingOverflow(by: unit)
            guard !overflow else { return nil }
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow2 else { return nil }
            total = sum
        }
        return total
    }

    /// An instant: `now`, `now-2h`, `now+5m`, RFC 3339 (`2026-11-21T10:00:00Z`) or nanoseconds.
    public static func instant(_ text: String, now: Int64) -> Int64? {
        let trimmed = text.trimmingCharacters(in: " ")
        if trimmed == "now" { return now }
        if trimmed.hasPrefix("now-") || trimmed.hasPrefix("now+") {
            guard let offset = duration(String(trimmed.dropFirst(4))) else { return nil }
            // An offset that leaves the nanosecond range (now+15250w) is not an instant.
            let (value, overflow) =
                trimmed.dropFirst(3).first == "-" ? now.subtractingReportingOverflow(offset) : now.addingReportingOverflow(offset)
            return overflow ? nil : value
        }
        if let nanos = Int64(trimmed) { return nanos }
        return RFC3339Parser.parse(trimmed)
    }

    /// The time range of a query from the user's `since`, `from` and `to` (strings as typed):
    /// `since` is a duration back from now; `from`/`to` are instants; the default is the last
    /// hour. The end is exclusive (`to` itself is included by adding 1 ns).
    public static func range(since: String?, from: String?, to: String?, now: Int64) throws -> TimeRange {
        func startBefore(_ end: Int64, by window: Int64, _ windowText: String) throws -> Int64 {
            let (start, overflow) = end.subtractingReportingOverflow(window)
            guard !overflow else {
                throw QueryError(.badRange, "to is too early to look \(windowText) back from it (before year 1677); give a later to or a from")
            }
            return start
        }
        func parse(_ text: String, _ name: String) throws -> Int64 {
            guard let value = instant(text, now: now) else {
                let trimmed = text.trimmingCharacters(in: " ")
                if trimmed.hasPrefix("now+") || trimmed.hasPrefix("now-"), duration(String(trimmed.dropFirst(4))) != nil {
                    throw QueryError(.badRange, "\(name) '\(text)' lies outside the years 1677-2262 that times can express")
                }
                throw QueryError(.badRange, "\(name) must be RFC 3339 (2026-11-21T10:00:00Z), now-2h, or nanoseconds; found '\(text)'")
            }
            return value
        }
        var end = now
        if let to, !to.isEmpty { end = try parse(to, "to") }
        let start: Int64
        if let since, !since.isEmpty {
            guard from == nil || from?.isEmpty == true else {
                throw QueryError(.badRange, "give either since or from, not both")
            }
            guard let window = duration(since), window > 0 else {
                throw QueryError(.badRange, "since must be a duration like 15m, 2h or 7d; found '\(since)'")
            }
            start = try startBefore(end, by: window, since)
        } else if let from, !from.isEmpty {
            start = try parse(from, "from")
        } else {
            start = try startBefore(end, by: 3_600_000_000_000, "1h")
        }
        guard start <= end else {
            throw QueryError(.badRange, "the range starts (\(RFC3339.format(nanos: start))) after it ends (\(RFC3339.format(nanos: end)))")
        }
        // The last nanosecond of the scale cannot be included (the end is exclusive); no record
        // is stored there (far-future stamps are clamped), so a range that starts there too is
        // widened by that one nanosecond rather than left empty.
        guard end < .max else { return TimeRange(from: min(start, .max - 1), to: .max) }
        return TimeRange(from: start, to: end + 1)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var result = Substring(self)
        while result.first?.isWhitespace == true { result = result.dropFirst() }
        while result.last?.isWhitespace == true { result = result.dropLast() }
        return String(result)
    }
}
