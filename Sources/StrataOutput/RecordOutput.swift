import StrataCore
import StrataQuery
import StrataStore

/// How `strata query` prints records.
public enum RecordFormat: String, Sendable, CaseIterable {
    /// One line per record: time, pod, body (newlines shown as ⏎), matched terms highlighted
    /// when colour is on.
    case text
    /// The record model, one JSON object per line (docs/WIRE.md, "JSON record").
    case json
    /// The body exactly as stored.
    case raw
}

/// Renders records, tables and charts for a terminal. Pure functions of their input, so the
/// CLI's output is testable here.
public struct OutputFormatter: Sendable {
    public var colour: Bool
    public var highlighter: Highlighter?

    public init(colour: Bool, query: QueryNode? = nil) {
        self.colour = colour
        highlighter = query.map(Highlighter.init)
    }

    public enum ANSI {
        public static let reset = "\u{1B}[0m"
        public static let dim = "\u{1B}[2m"
        public static let bold = "\u{1B}[1m"
        public static let cyan = "\u{1B}[36m"
        public static let red = "\u{1B}[31m"
        public static let yellow = "\u{1B}[33m"
        public static let highlight = "\u{1B}[1;4;33m"
    }

    public func line(_ record: LogRecord, format: RecordFormat) -> String {
        switch format {
        case .json: return record.jsonLine
        case .raw: return record.body
        case .text: return text(record)
        }
    }

    /// `2026-11-21T10:00:00.123Z  api-1  body`; the time to the millisecond (UTC), `-` for a
    /// record without a pod.
    public func text(_ record: LogRecord) -> String {
        let full = RFC3339.format(nanos: record.timestamp)
        let time = full.count >= 23 ? String(full.prefix(23)) + "Z" : full
        let pod = record.resource[ResourceKey.pod] ?? "-"
        var body = record.body
        if body.contains("\n") || body.contains("\r") {
            body = body.replacingNewlines()
        }
        guard colour else { return "\(time)  \(pod)  \(body)" }
        var painted = highlighter.map { $0.paint(body, on: ANSI.highlight, off: ANSI.reset) } ?? body
        switch record.severity {
        case .some(.error), .some(.fatal): painted = ANSI.red + painted + ANSI.reset
        case .some(.warn): painted = ANSI.yellow + painted + ANSI.reset
        default: break
        }
        return "\(ANSI.dim)\(time)\(ANSI.reset)  \(ANSI.cyan)\(pod)\(ANSI.reset)  \(painted)"
    }

    /// `count by ...` as an aligned table, largest first, with a total line.
    public func table(_ stats: StatsResult) -> String {
        let blanks = Array(repeating: "", count: max(0, stats.fields.count - 1))
        var table = TextTable(
            header: stats.fields.map(\.displayName) + ["count"],
            alignments: Array(repeating: .left, count: stats.fields.count) + [.right])
        for group in stats.groups { table.append(group.values.map { $0 ?? "-" } + [String(group.count)]) }
        if stats.otherGroups > 0 { table.append(["(\(stats.otherGroups) more)"] + blanks + [String(stats.otherCount)]) }
        table.append(["total"] + blanks + [String(stats.total)])
        var lines = table.lines()
        if colour { lines[0] = ANSI.bold + lines[0] + ANSI.reset }
        return lines.joined(separator: "\n")
    }

    /// A horizontal bar chart, one line per bucket: `10:01:00  ████▌      42`.
    public func chart(_ histogram: HistogramResult, width: Int = 50) -> String {
        let peak = histogram.buckets.map(\.count).max() ?? 0
        let countWidth = String(peak).count
        let showDate = (histogram.buckets.first.map { RFC3339.format(nanos: $0.start).prefix(10) })
            != (histogram.buckets.last.map { RFC3339.format(nanos: $0.start).prefix(10) })
        let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        var lines: [String] = []
        for bucket in histogram.buckets {
            let stamp = RFC3339.format(nanos: bucket.start)
            let label = showDate ? String(stamp.prefix(10)) + " " + String(stamp.dropFirst(11).prefix(8)) : String(stamp.dropFirst(11).prefix(8))
            let units = peak == 0 ? 0 : bucket.count * width * 8 / peak
            var bar = String(repeating: "█", count: units / 8) + eighths[units % 8]
            if bucket.count > 0 && bar.isEmpty { bar = "▏" }
            let padded = bar.rightPadded(to: width)
            let count = String(bucket.count).leftPadded(to: countWidth)
            lines.append(colour ? "\(ANSI.dim)\(label)\(ANSI.reset)  \(ANSI.cyan)\(padded)\(ANSI.reset)  \(count)" : "\(label)  \(padded)  \(count)")
        }
        lines.append("total \(histogram.total), \(Self.durationText(histogram.interval)) buckets")
        return lines.joined(separator: "\n")
    }

    static func durationText(_ nanos: Int64) -> String {
        for (unit, size) in [("d", Int64(86_400_000_000_000)), ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000)]
        where nanos % size == 0 {
            return "\(nanos / size)\(unit)"
        }
        return "\(nanos)ns"
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        var previousCR = false
        for scalar in unicodeScalars {
            if scalar == "\n" {
                if !previousCR { result += " ⏎ " }
                previousCR = false
            } else if scalar == "\r" {
                result += " ⏎ "
                previousCR = true
            } else {
                result.unicodeScalars.append(scalar)
                previousCR = false
            }
        }
        return result
    }
}

/// Finds what a query matched in a body, for highlighting: tokens and phrase words as whole
/// words (case-insensitive), prefixes to the end of their word, regex matches. Negated parts
/// are not highlighted.
public struct Highlighter: Sendable {
    let words: Set<String>
    let prefixes: [String]
    let regexes: [String]

    public init(_ node: QueryNode) {
        var words = Set<String>()
        var prefixes: [String] = []
        var regexes: [String] = []
        func walk(_ node: QueryNode) {
            switch node {
            case .all, .not: return
            case .and(let children), .or(let children): children.forEach(walk)
            case .predicate(let predicate):
                switch predicate {
                case .token(let token): words.insert(token)
                case .phrase(let phrase): words.formUnion(phrase)
                case .tokenPrefix(let prefix): prefixes.append(prefix)
                case .bodyRegex(let pattern): regexes.append(pattern)
                case .field: return
                }
            }
        }
        walk(node)
        self.words = words
        self.prefixes = prefixes
        self.regexes = regexes
    }

    /// Byte ranges of `text` to highlight, sorted and merged.
    public func ranges(in text: String) -> [Range<Int>] {
        let bytes = Array(text.utf8)
        let lower = bytes.map { $0 &- 0x41 < 26 ? $0 | 0x20 : $0 }
        var found: [Range<Int>] = []
        func isWordByte(_ b: UInt8) -> Bool { b >= 0x80 || (b | 0x20) &- 0x61 < 26 || b &- 0x30 < 10 }
        for needle in words.map({ Array($0.utf8) }) + prefixes.map({ Array($0.utf8) }) where !needle.isEmpty {
            let isPrefix = prefixes.contains(String(decoding: needle, as: UTF8.self)) && !words.contains(String(decoding: needle, as: UTF8.self))
            var start = 0
            while start + needle.count <= lower.count {
                if lower[start..<start + needle.count].elementsEqual(needle) {
                    let before = start == 0 || !isWordByte(lower[start - 1]) || !isWordByte(needle[0])
                    var end = start + needle.count
                    let after = end == lower.count || !isWordByte(lower[end]) || !isWordByte(needle[needle.count - 1])
                    if before && (after || isPrefix) {
                        if isPrefix { while end < lower.count && isWordByte(lower[end]) { end += 1 } }
                        found.append(start..<end)
                        start = end
                        continue
                    }
                }
                start += 1
            }
        }
        for pattern in regexes {
            guard let regex = try? RE2Regex(pattern) else { continue }
            found += regex.allMatchRanges(in: bytes).filter { !$0.isEmpty }
        }
        found.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for range in found {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// `text` with `on`/`off` around each highlighted range.
    public func paint(_ text: String, on: String, off: String) -> String {
        let ranges = ranges(in: text)
        guard !ranges.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + ranges.count * (on.utf8.count + off.utf8.count))
        var position = 0
        for range in ranges {
            out += bytes[position..<range.lowerBound]
            out += on.utf8
            out += bytes[range]
            out += off.utf8
            position = range.upperBound
        }
        out += bytes[position...]
        return String(decoding: out, as: UTF8.self)
    }
}
