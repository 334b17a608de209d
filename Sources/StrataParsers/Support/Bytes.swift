import StrataCore

/// The UTF-8 bytes a parser scans. Parsers work on byte offsets into one buffer; Strings are
/// made only for what ends up in the record.
typealias Bytes = UnsafeBufferPointer<UInt8>

enum ASCII {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let escape: UInt8 = 0x1B
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let apostrophe: UInt8 = 0x27
    static let openParen: UInt8 = 0x28
    static let closeParen: UInt8 = 0x29
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let colon: UInt8 = 0x3A
    static let lessThan: UInt8 = 0x3C
    static let equals: UInt8 = 0x3D
    static let greaterThan: UInt8 = 0x3E
    static let at: UInt8 = 0x40
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let underscore: UInt8 = 0x5F
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
}

@inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
@inline(__always) func isUpper(_ b: UInt8) -> Bool { b &- 0x41 < 26 }
@inline(__always) func isLower(_ b: UInt8) -> Bool { b &- 0x61 < 26 }
@inline(__always) func isLetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
@inline(__always) func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isLetter(b) }
@inline(__always) func isBlank(_ b: UInt8) -> Bool { b == ASCII.space || b == ASCII.tab }
@inline(__always) func isSpaceOrControl(_ b: UInt8) -> Bool { b <= ASCII.space }
@inline(__always) func lower(_ b: UInt8) -> UInt8 { isUpper(b) ? b | 0x20 : b }
/// `[0-9A-Fa-f]`, from a 128-bit map (no table, no branches to mispredict).
@inline(__always) func isHexDigit(_ b: UInt8) -> Bool {
    let word: UInt64 = b < 64 ? 0x03FF_0000_0000_0000 : 0x0000_007E_0000_007E
    return b < 128 && (word >> UInt64(b & 63)) & 1 != 0
}
/// The value of a hex digit, or 0xFF.
@inline(__always) func hexNibble(_ b: UInt8) -> UInt8 {
    let digit = b &- 0x30
    let letter = ((b | 0x20) &- 0x61) &+ 10
    return isHexDigit(b) ? (digit < 10 ? digit : letter) : 0xFF
}

extension String {
    /// Runs `body` on the string's UTF-8 bytes without copying (native strings are contiguous).
    @inline(__always)
    func withBytes<R>(_ body: (Bytes) -> R) -> R {
        if let result = utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable(body)!
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// A String from the bytes in `range` (invalid UTF-8 becomes U+FFFD).
    @inline(__always)
    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: self[range]), as: UTF8.self)
    }

    @inline(__always)
    func string(_ start: Int, _ end: Int) -> String { string(start..<end) }

    /// Whether the bytes at `offset` equal the ASCII `literal`.
    @inline(__always)
    func hasLiteral(_ literal: StaticString, at offset: Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset >= 0, offset + count <= self.count else { return false }
        let p = literal.utf8Start
        for k in 0..<count where self[offset + k] != p[k] { return false }
        return true
    }

    /// Case-insensitive (ASCII) comparison with a lowercase `literal`.
    @inline(__always)
    func hasLiteralIgnoringCase(_ literal: StaticString, at offset: Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset >= 0, offset + count <= self.count else { return false }
        let p = literal.utf8Start
        for k in 0..<count where lower(self[offset + k]) != p[k] { return false }
        return true
    }

    /// Whether bytes `range` equal the ASCII `literal` exactly.
    @inline(__always)
    func equals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        range.count == literal.utf8CodeUnitCount && hasLiteral(literal, at: range.lowerBound)
    }

    /// The index of the first `byte` in `start..<end`, or nil.
    @inline(__always)
    func firstIndex(of byte: UInt8, from start: Int, to end: Int) -> Int? {
        var i = start
        while i < end {
            if self[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// The end of the first line (index of `\n`, or `count`).
    @inline(__always)
    func lineEnd(from start: Int = 0) -> Int {
        firstIndex(of: ASCII.newline, from: start, to: count) ?? count
    }

    @inline(__always)
    func skipBlanks(_ i: Int, _ end: Int) -> Int {
        var j = i
        while j < end, isBlank(self[j]) { j += 1 }
        return j
    }

    /// Parses `count` decimal digits at `offset`.
    @inline(__always)
    func digits(at offset: Int, count: Int) -> Int? {
        guard offset >= 0, offset + count <= self.count else { return nil }
        var value = 0
        for k in 0..<count {
            let d = self[offset + k] &- 0x30
            guard d < 10 else { return nil }
            value = value * 10 + Int(d)
        }
        return value
    }

    /// Parses a run of decimal digits at `offset`: (value, end); nil if there is none or it
    /// does not fit an Int.
    @inline(__always)
    func integer(at offset: Int, end: Int) -> (Int, Int)? {
        var i = offset
        var value = 0
        while i < end, isDigit(self[i]) {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(self[i] &- 0x30))
            guard !o1, !o2 else { return nil }
            value = sum
            i += 1
        }
        return i > offset ? (value, i) : nil
    }

    /// Trims blanks and CR from both ends of `range`.
    @inline(__always)
    func trimmed(_ range: Range<Int>) -> Range<Int> {
        var lo = range.lowerBound
        var hi = range.upperBound
        while lo < hi, isBlank(self[lo]) || self[lo] == ASCII.carriageReturn { lo += 1 }
        while hi > lo, isBlank(self[hi - 1]) || self[hi - 1] == ASCII.carriageReturn { hi -= 1 }
        return lo..<hi
    }
}

/// A cheap hash of an attribute key (length and three bytes) for the duplicate-key filter; a
/// collision only costs a linear look-up.
@inline(__always)
func fnv1a(_ bytes: Bytes, _ range: Range<Int>) -> UInt64 {
    let count = range.count
    guard count > 0 else { return 0 }
    return keyHash(count, bytes[range.lowerBound], bytes[range.lowerBound + count / 2], bytes[range.upperBound - 1])
}

@inline(__always)
func keyHash(_ count: Int, _ first: UInt8, _ middle: UInt8, _ last: UInt8) -> UInt64 {
    (UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(first) &* 0xBF58_476D_1CE4_E5B9
        ^ UInt64(middle) &* 0x94D0_49BB_1331_11EB ^ UInt64(last)) >> 7
}

extension String {
    @inline(__always)
    var fnv1aHash: UInt64 {
        var copy = self
        return copy.withUTF8 { b in fnv1a(b, 0..<b.count) }
    }
}
