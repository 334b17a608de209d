/// Fast RFC 3339 timestamp parsing to nanoseconds since the Unix epoch (UTC), without
/// Foundation. Formatting lives in `StrataCore.RFC3339`.
///
/// Accepted: `YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|+hh:mm|-hh:mm)`.
/// The fraction may have any number of digits (Go's RFC3339Nano trims trailing zeros, so
/// container runtimes write 1 to 9); digits past the ninth are ignored (truncated).
/// A leap second (`:60`) is accepted and counts as the first second of the next minute.
/// Anything else, including out-of-range fields and times outside what Int64 nanoseconds
/// can hold (about 1677...2262), gives nil.
public enum RFC3339Parser {
    public static func parse(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    public static func parse(_ bytes: some Collection<UInt8>) -> Int64? {
        if let result = bytes.withContiguousStorageIfAvailable({ parse(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { parse($0) }
    }

    @inline(__always)
    public static func parse(_ buffer: UnsafeRawBufferPointer) -> Int64? {
        guard let base = buffer.baseAddress else { return nil }
        return parse(base.assumingMemoryBound(to: UInt8.self), count: buffer.count)
    }

    /// Parses exactly `count` bytes at `p`.
    public static func parse(_ p: UnsafePointer<UInt8>, count n: Int) -> Int64? {
        // Shortest valid form: 2006-01-02T15:04:05Z (20 bytes).
        guard n >= 20 else { return nil }
        @inline(__always) func digit(_ i: Int) -> Int64? {
            let d = p[i] &- 0x30
            return d < 10 ? Int64(d) : nil
        }
        @inline(__always) func two(_ i: Int) -> Int64? {
            guard let a = digit(i), let b = digit(i + 1) else { return nil }
            return a * 10 + b
        }
        guard let y0 = two(0), let y1 = two(2), p[4] == UInt8(ascii: "-"),
            let month = two(5), p[7] == UInt8(ascii: "-"),
            let day = two(8),
            p[10] == UInt8(ascii: "T") || p[10] == UInt8(ascii: "t") || p[10] == UInt8(ascii: " "),
            let hour = two(11), p[13] == UInt8(ascii: ":"),
            let minute = two(14), p[16] == UInt8(ascii: ":"),
            let second = two(17)
        else { return nil }
        let year = y0 * 100 + y1
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }

        var i = 19
        var fraction: Int64 = 0
        if p[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            var scale: Int64 = 100_000_000
            while i < n {
                let d = p[i] &- 0x30
                if d >= 10 { break }
                fraction += Int64(d) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < n else { return nil }
        var offsetSeconds: Int64 = 0
        switch p[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard n - i >= 6, let oh = two(i + 1), p[i + 3] == UInt8(ascii: ":"), let om = two(i + 4),
                oh <= 23, om <= 59
            else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (p[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        default:
            return nil
        }
        guard i == n else { return nil }

        let days = RFC3339.daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        let (scaled, overflow1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(fraction)
        guard !overflow1, !overflow2 else { return nil }
        return total
    }

    @inline(__always)
    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
