/// The text of generated log lines as bytes, with the few append operations the generator needs,
/// written so the inner loop never builds a `String` or calls Foundation formatting.
struct LineWriter {
    var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }
    var isEmpty: Bool { bytes.isEmpty }

    @inline(__always) mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    @inline(__always) mutating func append(_ byte: UInt8) { bytes.append(byte) }

    @inline(__always) mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }

    @inline(__always) mutating func append(_ other: ArraySlice<UInt8>) { bytes.append(contentsOf: other) }

    @inline(__always) mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// For the rare dynamic strings (names chosen once per file); not for the inner loop.
    mutating func append(string: String) { bytes.append(contentsOf: string.utf8) }

    @inline(__always) mutating func append(repeating byte: UInt8, count: Int) {
        var n = count
        while n > 0 {
            bytes.append(byte)
            n -= 1
        }
    }

    /// Decimal, left-padded with `pad` to at least `width` characters.
    mutating func append(decimal value: Int, width: Int = 0, pad: UInt8 = UInt8(ascii: "0")) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            append(decimal: -value, width: width - 1, pad: pad)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var v = value
            var i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(truncatingIfNeeded: v % 10) &+ 48
                v /= 10
            } while v > 0
            append(repeating: pad, count: width - (20 - i))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    /// Exactly `digits` lowercase hex digits of the low bits of `value`.
    @inline(__always) mutating func append(hex value: UInt64, digits: Int) {
        assert(digits <= 16)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { out in
            var v = value
            var i = digits
            while i > 0 {
                i -= 1
                let d = UInt8(truncatingIfNeeded: v & 0xF)
                out[i] = d < 10 ? d &+ 48 : d &+ 87
                v >>= 4
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: out[..<digits]))
        }
    }

    /// Right-aligns (`width > 0`) or left-aligns (`width < 0`) `text` in a field, truncating
    /// from the left like logback's `%15.15t` when it is too long.
    mutating func append(field text: [UInt8], width: Int) {
        let w = abs(width)
        if text.count >= w {
            bytes.append(contentsOf: text[(text.count - w)...])
        } else if width > 0 {
            append(repeating: UInt8(ascii: " "), count: w - text.count)
            bytes.append(contentsOf: text)
        } else {
            bytes.append(contentsOf: text)
            append(repeating: UInt8(ascii: " "), count: w - text.count)
        }
    }
}

extension Array where Element == UInt8 {
    init(_ text: StaticString) {
        self = text.withUTF8Buffer { Array($0) }
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
