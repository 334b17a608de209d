import StrataCore

/// Byte-level time stamp parsing (no Foundation formatters: these run for every record).
enum TimeScan {
    static let nanosPerSecond: Int64 = 1_000_000_000
    static let nanosPerDay: Int64 = 86_400 * 1_000_000_000
    static let daysInMonth: [Int] = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

    /// Nanoseconds since the epoch of a civil date and time at `offset` seconds from UTC.
    @inline(__always)
    static func nanos(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, fraction: Int64, offset: Int
    ) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth[month], hour < 24, minute < 60,
            second <= 60, year >= 1700, year <= 2200,
            month != 2 || day < 29 || year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        else { return nil }
        let days = RFC3339.daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offset)
        return seconds * nanosPerSecond + fraction
    }

    /// `.123`, `,123456`: the digits after the separator at `i` as nanoseconds (digits past
    /// the ninth are read and ignored). Returns (0, i) when there is no fraction.
    @inline(__always)
    static func fraction(_ b: Bytes, at i: Int, end: Int, separators: Bool = true) -> (Int64, Int) {
        var j = i
        if separators {
            guard j + 1 < end, b[j] == ASCII.dot || b[j] == ASCII.comma, isDigit(b[j + 1]) else { return (0, i) }
            j += 1
        }
        var value: Int64 = 0
        var count = 0
        while j < end, isDigit(b[j]) {
            if count < 9 {
                value = value * 10 + Int64(b[j] &- 0x30)
                count += 1
            }
            j += 1
        }
        while count < 9 {
            value *= 10
            count += 1
        }
        return (value, j)
    }

    /// A zone designator at `i`: `Z`, `+hh:mm`, `+hhmm` or `+hh`. Returns (seconds east of UTC, end).
    @inline(__always)
    static func zone(_ b: Bytes, at i: Int, end: Int) -> (Int, Int)? {
        guard i < end else { return nil }
        let c = b[i]
        if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") { return (0, i + 1) }
        guard c == ASCII.plus || c == ASCII.minus, let hours = b.digits(at: i + 1, count: 2), i + 3 <= end else {
            return nil
        }
        var j = i + 3
        var minutes = 0
        if j < end, b[j] == ASCII.colon, j + 3 <= end, let m = b.digits(at: j + 1, count: 2) {
            minutes = m
            j += 3
        } else if j + 2 <= end, let m = b.digits(at: j, count: 2) {
            minutes = m
            j += 2
        }
        guard hours <= 18, minutes < 60 else { return nil }
        if j < end, isDigit(b[j]) { return nil }
        let seconds = hours * 3600 + minutes * 60
        return (c == ASCII.minus ? -seconds : seconds, j)
    }

    /// `hh:mm:ss` with an optional `.fff`/`,fff` fraction: (nanoseconds of the day, end).
    @inline(__always)
    static func clock(_ b: Bytes, at i: Int, end: Int) -> (Int64, Int)? {
        guard i + 8 <= end, b[i + 2] == ASCII.colon, b[i + 5] == ASCII.colon,
            let hour = b.digits(at: i, count: 2), let minute = b.digits(at: i + 3, count: 2),
            let second = b.digits(at: i + 6, count: 2), hour < 24, minute < 60, second <= 60
        else { return nil }
        let (fraction, j) = fraction(b, at: i + 8, end: end)
        if j < end, isDigit(b[j]) { return nil }
        return (Int64(hour * 3600 + minute * 60 + second) * nanosPerSecond + fraction, j)
    }

    /// `YYYY-MM-DD[T ]hh:mm:ss[.,fraction][zone]` (also `YYYY/MM/DD`). A zone may follow a
    /// space when `spacedZone` (`2026-11-21 10:00:00 +0000`). Stamps without a zone are taken
    /// at `offset`. Returns (nanos, end, hadZone).
    @inline(__always)
    static func dateTime(_ b: Bytes, at i: Int, end: Int, offset: Int, spacedZone: Bool = true) -> (Int64, Int)? {
        guard i + 19 <= end, let year = b.digits(at: i, count: 4) else { return nil }
        let dateSeparator = b[i + 4]
        guard dateSeparator == ASCII.minus || dateSeparator == ASCII.slash, b[i + 7] == dateSeparator,
            let month = b.digits(at: i + 5, count: 2), let day = b.digits(at: i + 8, count: 2)
        else { return nil }
        let t = b[i + 10]
        guard t == UInt8(ascii: "T") || t == ASCII.space || t == UInt8(ascii: "t") || t == ASCII.underscore,
            let (timeOfDay, afterClock) = clock(b, at: i + 11, end: end)
        else { return nil }
        var zoneOffset = offset
        var j = afterClock
        if let (z, after) = zone(b, at: j, end: end) {
            zoneOffset = z
            j = after
        } else if spacedZone, j + 1 < end, b[j] == ASCII.space {
            if let (z, after) = zone(b, at: j + 1, end: end), b[j + 1] != UInt8(ascii: "Z"),
                after - j >= 5
            {
                zoneOffset = z
                j = after
            } else if b.hasLiteral(" UTC", at: j), j + 4 == end || !isLetter(b[j + 4]) {
                zoneOffset = 0
                j += 4
            }
        }
        let seconds = Int(timeOfDay / nanosPerSecond)
        guard
            let base = nanos(
                year: year, month: month, day: day, hour: 0, minute: 0, second: 0, fraction: 0, offset: zoneOffset)
        else { return nil }
        return (base + Int64(seconds) * nanosPerSecond + timeOfDay % nanosPerSecond, j)
    }

    /// The instant nearest to `runtime` whose local time of day (at `offset`) is `timeOfDay`:
    /// the date comes from the runtime time, shifted by a day when that puts the stamp more
    /// than 12 hours away (a line written at 23:59:59.9 and read at 00:00:00.1).
    static func nearestDay(timeOfDay: Int64, offset: Int, runtime: Int64) -> Int64 {
        let offsetNanos = Int64(offset) * nanosPerSecond
        let localRuntime = runtime + offsetNanos
        let day = floorDiv(localRuntime, nanosPerDay)
        var candidate = day * nanosPerDay + timeOfDay - offsetNanos
        let half = nanosPerDay / 2
        if candidate - runtime > half { candidate -= nanosPerDay }
        if runtime - candidate > half { candidate += nanosPerDay }
        return candidate
    }

    /// For stamps without a year (klog, RFC 3164): the year that puts the stamp nearest to
    /// the runtime time (December lines read in January belong to the previous year).
    static func nearestYear(month: Int, day: Int, timeOfDay: Int64, offset: Int, runtime: Int64) -> Int64? {
        let (runtimeYear, _, _) = RFC3339.civilFromDays(
            floorDiv(runtime + Int64(offset) * nanosPerSecond, nanosPerDay))
        var best: Int64?
        for year in [runtimeYear, runtimeYear - 1, runtimeYear + 1] {
            guard
                let base = nanos(
                    year: Int(year), month: month, day: day, hour: 0, minute: 0, second: 0, fraction: 0,
                    offset: offset)
            else { continue }
            let candidate = base + timeOfDay
            if let current = best {
                if (candidate - runtime).magnitude < (current - runtime).magnitude { best = candidate }
            } else {
                best = candidate
            }
        }
        return best
    }

    /// `Jan` … `Dec` (any case) at `i`: 1…12.
    @inline(__always)
    static func month(_ b: Bytes, at i: Int) -> Int? {
        guard i + 3 <= b.count else { return nil }
        let key = UInt32(lower(b[i])) << 16 | UInt32(lower(b[i + 1])) << 8 | UInt32(lower(b[i + 2]))
        switch key {
        case 0x6A616E: return 1  // jan
        case 0x666562: return 2  // feb
        case 0x6D6172: return 3  // mar
        case 0x617072: return 4  // apr
        case 0x6D6179: return 5  // may
        case 0x6A756E: return 6  // jun
        case 0x6A756C: return 7  // jul
        case 0x617567: return 8  // aug
        case 0x736570: return 9  // sep
        case 0x6F6374: return 10  // oct
        case 0x6E6F76: return 11  // nov
        case 0x646563: return 12  // dec
        default: return nil
        }
    }

    static let monthNames = ["january", "february", "march", "april", "may", "june", "july", "august",
                             "september", "october", "november", "december"]

    /// An epoch number (`1732183200`, `1732183200.123456`, `1732183200123`, `1.7321832e9`):
    /// the unit follows from the magnitude — below 1e11 seconds, below 1e14 milliseconds,
    /// below 1e17 microseconds, else nanoseconds.
    static func epoch(_ b: Bytes, _ range: Range<Int>) -> Int64? {
        var i = range.lowerBound
        let end = range.upperBound
        guard i < end else { return nil }
        var negative = false
        if b[i] == ASCII.minus {
            negative = true
            i += 1
        }
        var integer: Int64 = 0
        let start = i
        while i < end, isDigit(b[i]) {
            let (times10, o1) = integer.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(b[i] &- 0x30))
            guard !o1, !o2 else { return nil }
            integer = sum
            i += 1
        }
        guard i > start else { return nil }
        var fractionStart = i
        var fractionEnd = i
        if i < end, b[i] == ASCII.dot {
            fractionStart = i + 1
            i += 1
            while i < end, isDigit(b[i]) { i += 1 }
            fractionEnd = i
        }
        if i < end {
            // An exponent (or junk): fall back to floating point.
            guard b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E"),
                let value = Double(b.string(range)), value.isFinite, value.magnitude < 9e18
            else { return nil }
            return epoch(double: value)
        }
        let unitDigits: Int
        switch integer {
        case ..<100_000_000_000: unitDigits = 9
        case ..<100_000_000_000_000: unitDigits = 6
        case ..<100_000_000_000_000_000: unitDigits = 3
        default: unitDigits = 0
        }
        var scale: Int64 = 1
        for _ in 0..<unitDigits { scale *= 10 }
        var (result, overflow) = integer.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        var fraction: Int64 = 0
        var digits = 0
        var k = fractionStart
        while k < fractionEnd, digits < unitDigits {
            fraction = fraction * 10 + Int64(b[k] &- 0x30)
            digits += 1
            k += 1
        }
        while digits < unitDigits {
            fraction *= 10
            digits += 1
        }
        (result, overflow) = result.addingReportingOverflow(fraction)
        guard !overflow else { return nil }
        return negative ? -result : result
    }

    static func epoch(double value: Double) -> Int64? {
        let magnitude = value.magnitude
        let nanos: Double
        switch magnitude {
        case ..<1e11: nanos = value * 1e9
        case ..<1e14: nanos = value * 1e6
        case ..<1e17: nanos = value * 1e3
        default: nanos = value
        }
        guard nanos.magnitude < 9.2e18 else { return nil }
        return Int64(nanos)
    }

    /// Any time text a structured field may hold: RFC 3339 / ISO 8601 (with `T` or a space,
    /// `.` or `,` fraction, optional zone), an epoch number, nginx's `21/Nov/2026:10:00:00 +0000`.
    static func anyStamp(_ b: Bytes, _ range: Range<Int>, offset: Int) -> Int64? {
        let r = b.trimmed(range)
        guard !r.isEmpty else { return nil }
        if let (nanos, end) = dateTime(b, at: r.lowerBound, end: r.upperBound, offset: offset), end == r.upperBound {
            return nanos
        }
        let first = b[r.lowerBound]
        if isDigit(first) || first == ASCII.minus {
            if let nanos = epoch(b, r) { return nanos }
        }
        if let (nanos, end) = nginxStamp(b, at: r.lowerBound, end: r.upperBound), end == r.upperBound { return nanos }
        return nil
    }

    /// `21/Nov/2026:10:00:00 +0000` (nginx/apache `$time_local`).
    @inline(__always)
    static func nginxStamp(_ b: Bytes, at i: Int, end: Int) -> (Int64, Int)? {
        guard i + 20 <= end, let day = b.digits(at: i, count: 2), b[i + 2] == ASCII.slash,
            let month = month(b, at: i + 3), b[i + 6] == ASCII.slash, let year = b.digits(at: i + 7, count: 4),
            b[i + 11] == ASCII.colon, let (timeOfDay, afterClock) = clock(b, at: i + 12, end: end)
        else { return nil }
        var offset = 0
        var j = afterClock
        if j < end, b[j] == ASCII.space, let (z, after) = zone(b, at: j + 1, end: end) {
            offset = z
            j = after
        }
        guard
            let base = nanos(
                year: year, month: month, day: day, hour: 0, minute: 0, second: 0, fraction: 0, offset: offset)
        else { return nil }
        return (base + timeOfDay, j)
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
