import StrataCore

/// Calendar fields of a UTC instant, computed with integer arithmetic (StrataCore's
/// days-from-civil inverse) so timestamps can be formatted without Foundation.
struct CivilTime {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    var nanosecond: Int

    init(nanosSinceEpoch ns: Int64) {
        var seconds = ns / 1_000_000_000
        var nanos = ns % 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (civilYear, civilMonth, civilDay) = RFC3339.civilFromDays(days)
        year = Int(civilYear)
        month = Int(civilMonth)
        day = Int(civilDay)
        hour = Int(secondOfDay / 3600)
        minute = Int(secondOfDay / 60 % 60)
        second = Int(secondOfDay % 60)
        nanosecond = Int(nanos)
    }
}

private let monthNames: [[UInt8]] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
].map { Array($0.utf8) }

extension LineWriter {
    /// `2026-11-21` (or with another separator, `2026/11/21`).
    mutating func append(date c: CivilTime, separator: UInt8 = UInt8(ascii: "-")) {
        append(decimal: c.year, width: 4)
        append(separator)
        append(decimal: c.month, width: 2)
        append(separator)
        append(decimal: c.day, width: 2)
    }

    /// `10:00:00`
    mutating func append(clock c: CivilTime) {
        append(decimal: c.hour, width: 2)
        append(UInt8(ascii: ":"))
        append(decimal: c.minute, width: 2)
        append(UInt8(ascii: ":"))
        append(decimal: c.second, width: 2)
    }

    /// The first `digits` digits of the fraction of a second, without the separator.
    mutating func append(fraction c: CivilTime, digits: Int) {
        var divisor = 1
        for _ in 0..<(9 - digits) { divisor *= 10 }
        append(decimal: c.nanosecond / divisor, width: digits)
    }

    /// Go's `time.RFC3339Nano` in UTC, which is what containerd, CRI-O and dockerd write:
    /// trailing zeros of the fraction are dropped, and so is the dot when the fraction is zero.
    mutating func append(rfc3339Nano c: CivilTime) {
        append(date: c)
        append(UInt8(ascii: "T"))
        append(clock: c)
        if c.nanosecond != 0 {
            var fraction = c.nanosecond
            var digits = 9
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            append(UInt8(ascii: "."))
            append(decimal: fraction, width: digits)
        }
        append(UInt8(ascii: "Z"))
    }

    /// `2026-11-21T10:00:00.123Z` with a fixed number of fraction digits (0 for none).
    mutating func append(iso c: CivilTime, digits: Int) {
        append(date: c)
        append(UInt8(ascii: "T"))
        append(clock: c)
        if digits > 0 {
            append(UInt8(ascii: "."))
            append(fraction: c, digits: digits)
        }
        append(UInt8(ascii: "Z"))
    }

    /// klog's header time: `1121 10:00:00.123456` (the severity letter is written by the caller).
    mutating func append(klog c: CivilTime) {
        append(decimal: c.month, width: 2)
        append(decimal: c.day, width: 2)
        append(UInt8(ascii: " "))
        append(clock: c)
        append(UInt8(ascii: "."))
        append(fraction: c, digits: 6)
    }

    /// nginx `$time_local` on a UTC node: `21/Nov/2026:10:00:00 +0000`.
    mutating func append(nginx c: CivilTime) {
        append(decimal: c.day, width: 2)
        append(UInt8(ascii: "/"))
        append(monthNames[c.month - 1])
        append(UInt8(ascii: "/"))
        append(decimal: c.year, width: 4)
        append(UInt8(ascii: ":"))
        append(clock: c)
        append(" +0000")
    }

    /// Seconds since the epoch with a fraction, like zap's default `ts`: `1795255200.123456`.
    mutating func append(epochSeconds ns: Int64, digits: Int) {
        append(decimal: Int(ns / 1_000_000_000))
        append(UInt8(ascii: "."))
        var divisor: Int64 = 1
        for _ in 0..<(9 - digits) { divisor *= 10 }
        append(decimal: Int(ns % 1_000_000_000 / divisor), width: digits)
    }
}
