/// A W3C / OpenTelemetry trace id: 16 bytes, written as 32 lowercase hex digits.
public struct TraceID: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses exactly 32 hex digits (either case). An all-zero id is invalid per W3C.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 32, let high = parseHex64(utf8[0..<16]), let low = parseHex64(utf8[16..<32]),
            high != 0 || low != 0
        else { return nil }
        self.high = high
        self.low = low
    }

    public var description: String { hex16(high) + hex16(low) }

    public var bytes: [UInt8] { bigEndianBytes(high) + bigEndianBytes(low) }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let array = Array(bytes)
        self.high = readBigEndian64(array[0..<8])
        self.low = readBigEndian64(array[8..<16])
    }
}

/// A W3C / OpenTelemetry span id: 8 bytes, written as 16 lowercase hex digits.
public struct SpanID: Sendable, Hashable, CustomStringConvertible {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value }

    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 16, let value = parseHex64(utf8[...]), value != 0 else { return nil }
        self.value = value
    }

    public var description: String { hex16(value) }
    public var bytes: [UInt8] { bigEndianBytes(value) }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 8 else { return nil }
        self.value = readBigEndian64(Array(bytes)[...])
    }
}

@inline(__always)
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

func parseHex64(_ digits: ArraySlice<UInt8>) -> UInt64? {
    guard digits.count <= 16, !digits.isEmpty else { return nil }
    var value: UInt64 = 0
    for byte in digits {
        guard let nibble = hexValue(byte) else { return nil }
        value = value << 4 | UInt64(nibble)
    }
    return value
}

private let hexDigits = Array("0123456789abcdef".utf8)

func hex16(_ value: UInt64) -> String {
    var chars = [UInt8](repeating: 0, count: 16)
    var v = value
    for index in stride(from: 15, through: 0, by: -1) {
        chars[index] = hexDigits[Int(v & 0xF)]
        v >>= 4
    }
    return String(decoding: chars, as: UTF8.self)
}

func bigEndianBytes(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
}

func readBigEndian64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    bytes.reduce(0) { $0 << 8 | UInt64($1) }
}
