#if canImport(Glibc)
import Glibc
#endif

/// A batch's identity: 16 random bytes, written as a UUID. The agent assigns it once and keeps it
/// through retries, spooling and restarts, so the collector can drop a batch it has already stored.
public struct BatchID: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A version-4 UUID from the system's random generator.
    public static func random() -> BatchID {
        var generator = SystemRandomNumberGenerator()
        let randomHigh: UInt64 = generator.next()
        let randomLow: UInt64 = generator.next()
        let high = (randomHigh & ~UInt64(0xF000)) | 0x4000
        let low = (randomLow & ~UInt64(0xC000_0000_0000_0000)) | 0x8000_0000_0000_0000
        return BatchID(high: high, low: low)
    }

    public var description: String {
        let hex = hex16(high) + hex16(low)
        let chars = Array(hex)
        return String(chars[0..<8]) + "-" + String(chars[8..<12]) + "-" + String(chars[12..<16]) + "-"
            + String(chars[16..<20]) + "-" + String(chars[20..<32])
    }

    public init?(string: some StringProtocol) {
        let digits = string.utf8.filter { $0 != UInt8(ascii: "-") }
        guard digits.count == 32, string.utf8.count == 36 || string.utf8.count == 32,
            let high = parseHex64(digits[0..<16]), let low = parseHex64(digits[16..<32])
        else { return nil }
        self.high = high
        self.low = low
    }

    public var bytes: [UInt8] { bigEndianBytes(high) + bigEndianBytes(low) }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let array = Array(bytes)
        high = readBigEndian64(array[0..<8])
        low = readBigEndian64(array[8..<16])
    }
}
