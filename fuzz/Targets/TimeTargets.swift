import StrataConfiguration
import StrataCore
import StrataQuery

/// A fixed "now" so a campaign is reproducible: 2026-06-01T00:00:00Z.
let fuzzNow: Int64 = 1_780_272_000_000_000_000

enum TimeTargets {
    static let timeWords: [[UInt8]] = ["now", "now-", "now+", "w", "d", "h", "m", "s", "ms", "us", "ns", "T", "Z", ":", "-", "+", ".", "15250w", "9223372036854775807", "-9223372036854775808", "2262-04-11T23:47:16.854775807Z", "1677-09-21T00:12:43.145224192Z"].map(\.bytes)

    /// `TimeExpression.instant` and `.duration`, what `?from=`, `?to=` and `--since` read.
    static let instant = FuzzTarget(
        name: "time-instant", summary: "query times and durations (now-2h, 15250w, RFC 3339, nanoseconds)",
        seeds: ["now", "now-2h", "now+5m", "1h30m", "2026-11-21T10:00:00Z", "1780272000000000000", "500ms"].map(\.bytes),
        dictionary: timeWords, maxInputBytes: 128
    ) { input throws(FuzzViolation) in
        let text = String(decoding: input, as: UTF8.self)
        let duration = TimeExpression.duration(text)
        try require(duration.map { $0 >= 0 } ?? true, "a duration is negative: \(duration ?? 0)")
        let instant = TimeExpression.instant(text, now: fuzzNow)
        return "duration:\(duration != nil) instant:\(instant != nil)"
    }

    /// RFC 3339 stamps from agents and NDJSON: what parses formats back to the same instant.
    static let rfc3339 = FuzzTarget(
        name: "time-rfc3339", summary: "RFC 3339 parsing; every accepted stamp survives format and parse",
        seeds: ["2026-11-21T10:00:00Z", "2026-11-21T10:00:00.123456789+05:30", "1970-01-01t00:00:60.5z", "2262-04-11T23:47:16.854775807Z"].map(\.bytes),
        dictionary: timeWords, maxInputBytes: 64
    ) { input throws(FuzzViolation) in
        guard let nanos = RFC3339Parser.parse(input) else { return "refused" }
        let formatted = RFC3339.format(nanos: nanos)
        let again = RFC3339Parser.parse(formatted)
        try require(again == nanos, "\(nanos) formats as \(formatted), which parses as \(again.map(String.init) ?? "nothing")")
        return "accepted"
    }

    /// The `since`/`from`/`to` triple of every query endpoint, given as three lines.
    static let range = FuzzTarget(
        name: "time-range", summary: "query ranges from since/from/to; an accepted range is non-empty and ordered",
        seeds: ["1h\n\n", "\nnow-2h\nnow", "\n\n-9223372036854775808", "1h\n\n-9223372036854775800", "\n\nnow+15250w", "\n2026-11-21T10:00:00Z\n2026-11-21T11:00:00Z", "\n9223372036854775807\n9223372036854775807"].map(\.bytes),
        dictionary: timeWords + [[0x0A]], maxInputBytes: 160
    ) { input throws(FuzzViolation) in
        let parts = input.split(separator: 0x0A, maxSplits: 2, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        func part(_ i: Int) -> String? { i < parts.count && !parts[i].isEmpty ? parts[i] : nil }
        do {
            let range = try TimeExpression.range(since: part(0), from: part(1), to: part(2), now: fuzzNow)
            try require(range.from < range.to, "the range [\(range.from), \(range.to)) is empty or reversed")
            return "accepted"
        } catch let error as QueryError {
            try require(error.code == .badRange, "a range error has code \(error.code.rawValue), not bad_range")
            return "refused: \(error.message)"
        } catch let violation as FuzzViolation {
            throw violation
        } catch {
            throw FuzzViolation("range threw \(type(of: error)), not a QueryError: \(error)")
        }
    }
}

enum UnitTargets {
    /// Sizes and durations in configurations and flags: what parses formats back to itself.
    static let sizesAndDurations = FuzzTarget(
        name: "units", summary: "ByteSize and DurationText; accepted values survive format and parse",
        seeds: ["4096", "512KiB", "1MiB", "10MB", "250ms", "1.5s", "7d", "1y", "106752d"].map(\.bytes),
        dictionary: ["KiB", "MiB", "GiB", "kb", "mb", "gb", "ms", "us", "µs", "ns", "s", "m", "h", "d", "y", ".", " "].map(\.bytes),
        maxInputBytes: 64
    ) { input throws(FuzzViolation) in
        let text = String(decoding: input, as: UTF8.self)
        var outcome = ""
        if let size = ByteSize.parse(text) {
            try require(size >= 0, "a size is negative: \(size)")
            let again = ByteSize.parse(ByteSize.format(size))
            try require(again == size, "\(size) bytes format as \(ByteSize.format(size)), which parses as \(again.map(String.init) ?? "nothing")")
            outcome += "size "
        }
        if let duration = DurationText.parse(text) {
            try require(duration >= .zero, "a duration is negative: \(duration)")
            let again = DurationText.parse(DurationText.format(duration))
            try require(again == duration, "\(duration) formats as \(DurationText.format(duration)), which parses as \(again.map { "\($0)" } ?? "nothing")")
            outcome += "duration"
        }
        return outcome.isEmpty ? "refused" : outcome
    }
}
