/// RFC 3339 formatting in UTC with nanoseconds, without Foundation.
public enum RFC3339 {
    /// `2026-11-21T10:00:00.123456789Z`
    public static func format(nanos: Int64) -> String {
        let (seconds, fraction) = nanos.quotientAndRemainderFloor(dividingBy: 1_000_000_000)
        let (days, secondOfDay) = seconds.quotientAndRemainderFloor(dividingBy: 86_400)
        let (year, month, day) = civilFromDays(days)
        var out = [UInt8]()
        out.reserveCapacity(30)
        func digits(_ value: Int64, _ width: Int) {
            var buffer = [UInt8](repeating: UInt8(ascii: "0"), count: width)
            var v = value
            for i in stride(from: width - 1, through: 0, by: -1) {
                buffer[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            out.append(contentsOf: buffer)
        }
        digits(year, 4)
        out.append(UInt8(ascii: "-"))
        digits(month, 2)
        out.append(UInt8(ascii: "-"))
        digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2)
        out.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        out.append(UInt8(ascii: "."))
        digits(fraction, 9)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    // The one calendar conversion of the package (Howard Hinnant's days-from-civil and its
    // inverse): timestamp parsers, the agent's HTTP dates and the sample data all use these.
    // Inlinable because the log parsers convert a date per record.

    /// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
    @inlinable
    public static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// (year, month, day) to days since 1970-01-01.
    @inlinable
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Int64 {
    /// `self + other`, held at Int64.min / Int64.max instead of trapping: times come from
    /// input and can sit at either end of the nanosecond scale.
    @inlinable
    public func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, held at Int64.min / Int64.max instead of trapping.
    @inlinable
    public func subtractingSaturated(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : difference
    }

    func quotientAndRemainderFloor(dividingBy divisor: Int64) -> (Int64, Int64) {
        var (q, r) = quotientAndRemainder(dividingBy: divisor)
        if r < 0 {
            q -= 1
            r += divisor
        }
        return (q, r)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The system's clocks as nanosecond integers (records, the WAL and the manifest store time as
/// Int64 nanoseconds). Named apart from Swift's `Clock` protocol, which it is not.
public enum WallClock {
    /// Wall-clock time in nanoseconds since the epoch.
    public static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Monotonic nanoseconds, for timeouts and rates.
    public static func monotonicNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
