import Foundation

/// Sizes in configurations and flags: `4096`, `512KiB`, `1MiB`, `10MB`.
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let digits = trimmed.prefix { $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let unit = String(trimmed.dropFirst(digits.count)).trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let multiplier: Int
        switch unit {
        case "", "b": multiplier = 1
        case "k", "kb": multiplier = 1000
        case "kib", "ki": multiplier = 1 << 10
        case "m", "mb": multiplier = 1_000_000
        case "mib", "mi": multiplier = 1 << 20
        case "g", "gb": multiplier = 1_000_000_000
        case "gib", "gi": multiplier = 1 << 30
        default: return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    public static func format(_ bytes: Int) -> String {
        if bytes >= 1 << 30 && bytes % (1 << 30) == 0 { return "\(bytes >> 30)GiB" }
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10)KiB" }
        return "\(bytes)B"
    }
}

/// Durations in configurations and flags: `250ms`, `1.5s`, `5m`, `1h`, `7d`, `1y` (365 days);
/// a bare number is seconds.
public enum DurationText {
    static let units: [(name: String, nanoseconds: Int64)] = [
        ("y", 365 * 86_400_000_000_000), ("d", 86_400_000_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000),
        ("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1000), ("ns", 1),
    ]

    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        guard !digits.isEmpty, let number = Double(digits), number >= 0 else { return nil }
        var unit = String(trimmed.dropFirst(digits.count)).trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if unit.isEmpty { unit = "s" }
        if unit == "µs" { unit = "us" }
        guard let size = units.first(where: { $0.name == unit })?.nanoseconds else { return nil }
        let nanoseconds = number * Double(size)
        // Beyond what a Duration of nanoseconds holds (292 years) no setting makes sense.
        guard nanoseconds < 9.2e18 else { return nil }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// The largest unit that states `duration` exactly: `10ms`, `1m`, `7d`, `100y`; `0s`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let nanoseconds = overflow ? Int64.max : scaled + attoseconds / 1_000_000_000
        guard nanoseconds != 0 else { return "0s" }
        for unit in units where nanoseconds % unit.nanoseconds == 0 {
            return "\(nanoseconds / unit.nanoseconds)\(unit.name)"
        }
        return "\(nanoseconds)ns"
    }
}
