import StrataCore

/// How a user-defined format's time field is written: `rfc3339` (also any ISO 8601 variant,
/// the default), `unix`, `unix_ms`, `unix_us`, `unix_ns`, or a strftime pattern such as
/// `%d/%b/%Y:%H:%M:%S.%f %z`.
///
/// Pattern directives: `%Y` `%y` `%m` `%d` `%e` `%H` `%I` `%M` `%S` `%f` (fraction digits, any
/// count) `%L` (milliseconds) `%b`/`%h` `%B` (month names) `%z` (`Z`, `+hh:mm`, `+hhmm`) `%Z`
/// (`UTC`/`GMT`/`Z`) `%p` (AM/PM) `%a`/`%A` (weekday names, skipped) `%s` (epoch seconds) `%T`
/// (`%H:%M:%S`) `%F` (`%Y-%m-%d`) `%%`. A space matches one or more blanks. Without a year the
/// year nearest the runtime time is taken; without a date, the nearest day.
public struct TimeFormat: Sendable, Hashable {
    enum Token: Sendable, Hashable {
        case literal(UInt8)
        case blanks
        case year, shortYear, month, monthName, fullMonthName, day, spacedDay, hour, hour12, minute, second
        case fraction, millis, zone, zoneName, meridiem, weekday, epochSeconds
    }

    enum Kind: Sendable, Hashable {
        case iso
        case epoch(digits: Int)  // unit: 10^-digits seconds
        case pattern([Token])
    }

    let kind: Kind
    public let text: String

    public static let rfc3339 = TimeFormat(kind: .iso, text: "rfc3339")

    init(kind: Kind, text: String) {
        self.kind = kind
        self.text = text
    }

    /// Reads a format; the error text says what is wrong.
    public init(_ text: String) throws(TimeFormatError) {
        self.text = text
        switch text.lowercased() {
        case "rfc3339", "iso8601", "iso", "auto": kind = .iso
        case "unix", "unix_s", "epoch": kind = .epoch(digits: 0)
        case "unix_ms", "epoch_ms": kind = .epoch(digits: 3)
        case "unix_us", "epoch_us": kind = .epoch(digits: 6)
        case "unix_ns", "epoch_ns": kind = .epoch(digits: 9)
        default:
            var tokens: [Token] = []
            var iterator = Array(text.utf8).makeIterator()
            while let c = iterator.next() {
                if c == ASCII.space {
                    if tokens.last != .blanks { tokens.append(.blanks) }
                    continue
                }
                guard c == UInt8(ascii: "%") else {
                    tokens.append(.literal(c))
                    continue
                }
                guard let d = iterator.next() else { throw TimeFormatError(message: "the format ends with a lone %") }
                switch d {
                case UInt8(ascii: "Y"): tokens.append(.year)
                case UInt8(ascii: "y"): tokens.append(.shortYear)
                case UInt8(ascii: "m"): tokens.append(.month)
                case UInt8(ascii: "d"): tokens.append(.day)
                case UInt8(ascii: "e"): tokens.append(.spacedDay)
                case UInt8(ascii: "H"): tokens.append(.hour)
                case UInt8(ascii: "I"): tokens.append(.hour12)
                case UInt8(ascii: "M"): tokens.append(.minute)
                case UInt8(ascii: "S"): tokens.append(.second)
                case UInt8(ascii: "f"): tokens.append(.fraction)
                case UInt8(ascii: "L"): tokens.append(.millis)
                case UInt8(ascii: "b"), UInt8(ascii: "h"): tokens.append(.monthName)
                case UInt8(ascii: "B"): tokens.append(.fullMonthName)
                case UInt8(ascii: "z"): tokens.append(.zone)
                case UInt8(ascii: "Z"): tokens.append(.zoneName)
                case UInt8(ascii: "p"): tokens.append(.meridiem)
                case UInt8(ascii: "a"), UInt8(ascii: "A"): tokens.append(.weekday)
                case UInt8(ascii: "s"): tokens.append(.epochSeconds)
                case UInt8(ascii: "T"): tokens += [.hour, .literal(ASCII.colon), .minute, .literal(ASCII.colon), .second]
                case UInt8(ascii: "F"): tokens += [.year, .literal(ASCII.minus), .month, .literal(ASCII.minus), .day]
                case UInt8(ascii: "%"): tokens.append(.literal(UInt8(ascii: "%")))
                default:
                    throw TimeFormatError(message: "unknown directive %\(Character(Unicode.Scalar(d)))")
                }
            }
            guard tokens.contains(where: { [.hour, .hour12, .epochSeconds].contains($0) }) else {
                throw TimeFormatError(message: "the format has no time of day (%H, %I, %T or %s)")
            }
            kind = .pattern(tokens)
        }
    }

    /// The time in `range`, or nil when it does not read as this format.
    func parse(_ b: Bytes, _ range: Range<Int>, offset: Int, runtime: Int64) -> Int64? {
        switch kind {
        case .iso:
            return TimeScan.anyStamp(b, range, offset: offset)
        case .epoch(let digits):
            return epoch(b, b.trimmed(range), digits: digits)
        case .pattern(let tokens):
            return pattern(tokens, b, range, offset: offset, runtime: runtime)
        }
    }

    func parse(_ text: String, offset: Int = 0, runtime: Int64) -> Int64? {
        text.withBytes { parse($0, 0..<$0.count, offset: offset, runtime: runtime) }
    }

    private func epoch(_ b: Bytes, _ r: Range<Int>, digits: Int) -> Int64? {
        guard !r.isEmpty else { return nil }
        var i = r.lowerBound
        var negative = false
        if b[i] == ASCII.minus {
            negative = true
            i += 1
        }
        guard let (integer, afterInteger) = b.integer(at: i, end: r.upperBound) else { return nil }
        var scale: Int64 = 1
        for _ in 0..<(9 - digits) { scale *= 10 }
        var (nanos, overflow) = Int64(integer).multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        if afterInteger < r.upperBound {
            guard b[afterInteger] == ASCII.dot else { return nil }
            var fraction: Int64 = 0
            var place = scale
            var k = afterInteger + 1
            while k < r.upperBound {
                guard isDigit(b[k]) else { return nil }
                place /= 10
                fraction += Int64(b[k] &- 0x30) * place
                k += 1
            }
            (nanos, overflow) = nanos.addingReportingOverflow(fraction)
            guard !overflow else { return nil }
        }
        return negative ? -nanos : nanos
    }

    private func pattern(_ tokens: [Token], _ b: Bytes, _ range: Range<Int>, offset: Int, runtime: Int64) -> Int64? {
        var i = range.lowerBound
        let end = range.upperBound
        var year: Int?
        var month: Int?
        var day: Int?
        var hour = 0
        var minute = 0
        var second = 0
        var fraction: Int64 = 0
        var zone: Int?
        var pm: Bool?
        var epochSeconds: Int?

        func number(maxDigits: Int) -> Int? {
            var value = 0
            var count = 0
            while i < end, count < maxDigits, isDigit(b[i]) {
                value = value * 10 + Int(b[i] &- 0x30)
                i += 1
                count += 1
            }
            return count > 0 ? value : nil
        }

        for token in tokens {
            switch token {
            case .literal(let c):
                guard i < end, b[i] == c else { return nil }
                i += 1
            case .blanks:
                guard i < end, isBlank(b[i]) else { return nil }
                while i < end, isBlank(b[i]) { i += 1 }
            case .year:
                guard let v = b.digits(at: i, count: 4), i + 4 <= end else { return nil }
                year = v
                i += 4
            case .shortYear:
                guard let v = b.digits(at: i, count: 2), i + 2 <= end else { return nil }
                year = 2000 + v
                i += 2
            case .month:
                guard let v = number(maxDigits: 2) else { return nil }
                month = v
            case .day:
                guard let v = number(maxDigits: 2) else { return nil }
                day = v
            case .spacedDay:
                if i < end, b[i] == ASCII.space { i += 1 }
                guard let v = number(maxDigits: 2) else { return nil }
                day = v
            case .hour, .hour12:
                guard let v = number(maxDigits: 2) else { return nil }
                hour = v
            case .minute:
                guard let v = number(maxDigits: 2) else { return nil }
                minute = v
            case .second:
                guard let v = number(maxDigits: 2) else { return nil }
                second = v
            case .fraction:
                guard i < end, isDigit(b[i]) else { return nil }
                let (value, after) = TimeScan.fraction(b, at: i, end: end, separators: false)
                fraction = value
                i = after
            case .millis:
                guard let v = b.digits(at: i, count: 3), i + 3 <= end else { return nil }
                fraction = Int64(v) * 1_000_000
                i += 3
            case .monthName, .fullMonthName:
                guard i + 3 <= end, let m = TimeScan.month(b, at: i) else { return nil }
                month = m
                i += 3
                if token == .fullMonthName {
                    while i < end, isLetter(b[i]) { i += 1 }
                }
            case .zone:
                guard let (z, after) = TimeScan.zone(b, at: i, end: end) else { return nil }
                zone = z
                i = after
            case .zoneName:
                if b.hasLiteral("UTC", at: i) || b.hasLiteral("GMT", at: i) {
                    zone = 0
                    i += 3
                } else if i < end, b[i] == UInt8(ascii: "Z") {
                    zone = 0
                    i += 1
                } else {
                    return nil
                }
            case .meridiem:
                if b.hasLiteralIgnoringCase("am", at: i) {
                    pm = false
                } else if b.hasLiteralIgnoringCase("pm", at: i) {
                    pm = true
                } else {
                    return nil
                }
                i += 2
            case .weekday:
                let start = i
                while i < end, isLetter(b[i]) { i += 1 }
                guard i > start else { return nil }
            case .epochSeconds:
                guard let (v, after) = b.integer(at: i, end: end) else { return nil }
                epochSeconds = v
                i = after
            }
        }
        guard i == end else { return nil }
        if let epochSeconds {
            let (nanos, overflow) = Int64(epochSeconds).multipliedReportingOverflow(by: TimeScan.nanosPerSecond)
            return overflow ? nil : nanos + fraction
        }
        if let pm {
            guard (1...12).contains(hour) else { return nil }
            hour = hour % 12 + (pm ? 12 : 0)
        }
        guard hour < 24, minute < 60, second <= 60 else { return nil }
        let zoneOffset = zone ?? offset
        let timeOfDay = Int64(hour * 3600 + minute * 60 + second) * TimeScan.nanosPerSecond + fraction
        if let month, let day {
            if let year {
                return TimeScan.nanos(
                    year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                    fraction: fraction, offset: zoneOffset)
            }
            return TimeScan.nearestYear(month: month, day: day, timeOfDay: timeOfDay, offset: zoneOffset, runtime: runtime)
        }
        guard year == nil, month == nil, day == nil else { return nil }
        return TimeScan.nearestDay(timeOfDay: timeOfDay, offset: zoneOffset, runtime: runtime)
    }
}

public struct TimeFormatError: Error, Sendable, Equatable {
    public var message: String
}
