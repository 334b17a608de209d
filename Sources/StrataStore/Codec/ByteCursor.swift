// Low-level byte helpers shared by the column codecs and the segment sections.
//
// Writing appends to a plain `[UInt8]`; reading goes through `ByteCursor`, which checks every
// bound and throws `FormatError` (never traps) so a damaged file can only ever produce an error.

/// A decoding failure inside one structure. The segment reader wraps it into a
/// `StoreError(.corrupt, "<file>: <structure> <problem>")`.
struct FormatError: Error, CustomStringConvertible {
    var problem: String
    init(_ problem: String) { self.problem = problem }
    var description: String { problem }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always)
    mutating func appendVarint(_ value: Int) { appendVarint(UInt64(value)) }

    @inline(__always)
    mutating func appendZigZag(_ value: Int64) { appendVarint(ZigZag.encode(value)) }

    mutating func appendUInt32LE(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 24))
    }

    mutating func appendUInt16LE(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    /// Varint length, then the bytes.
    mutating func appendLengthPrefixed(_ bytes: UnsafeRawBufferPointer) {
        appendVarint(UInt64(bytes.count))
        append(contentsOf: bytes)
    }

    mutating func appendString(_ string: String) {
        var s = string
        s.withUTF8 { appendLengthPrefixed(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `count` zero bytes and returns the index of the first one.
    @inline(__always)
    mutating func appendZeros(_ count: Int) -> Int {
        let start = self.count
        append(contentsOf: repeatElement(0, count: count))
        return start
    }
}

/// Number of bytes `value` takes as a LEB128 varint.
@inline(__always)
func varintLength(_ value: UInt64) -> Int {
    let bits = 64 - (value | 1).leadingZeroBitCount
    return (bits + 6) / 7
}

/// Bounds-checked reader over a byte array.
struct ByteCursor {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position >= end }

    @inline(__always)
    mutating func byte() throws -> UInt8 {
        guard position < end else { throw FormatError("ends early (wanted 1 byte at \(position))") }
        defer { position += 1 }
        return bytes[position]
    }

    /// StrataCore's `Varint` rule (checked equal by CodecTests), kept in this module: the segment
    /// decoders read one varint per value, and calling the shared decoder across modules measured
    /// about twice as slow on this loop (docs/PERFORMANCE.md, "One varint rule").
    @inline(__always)
    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw FormatError("ends early inside a varint at \(position)") }
            let b = bytes[position]
            position += 1
            if shift == 63 && b > 1 { throw FormatError("has an overlong varint at \(position - 1)") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always)
    mutating func zigzag() throws -> Int64 { ZigZag.decode(try varint()) }

    /// A varint that must be at most `limit`; returned as Int.
    @inline(__always)
    mutating func count(limit: Int, _ what: @autoclosure () -> String) throws -> Int {
        let v = try varint()
        guard v <= UInt64(max(0, limit)) else {
            throw FormatError("has \(what()) \(v), more than the possible \(limit)")
        }
        return Int(v)
    }

    mutating func uint32() throws -> UInt32 {
        guard remaining >= 4 else { throw FormatError("ends early (wanted 4 bytes at \(position))") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << UInt32(8 * i) }
        position += 4
        return v
    }

    mutating func uint16() throws -> UInt16 {
        guard remaining >= 2 else { throw FormatError("ends early (wanted 2 bytes at \(position))") }
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }

    /// Skips `count` bytes and returns their range in `bytes`.
    mutating func skip(_ count: Int) throws -> Range<Int> {
        guard count >= 0, remaining >= count else {
            throw FormatError("ends early (wanted \(count) bytes at \(position), \(remaining) left)")
        }
        defer { position += count }
        return position..<position + count
    }

    mutating func lengthPrefixed() throws -> Range<Int> {
        let n = try count(limit: remaining, "a length")
        return try skip(n)
    }

    mutating func string() throws -> String {
        let range = try lengthPrefixed()
        return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[range]), as: UTF8.self) }
    }

    func expectEnd(_ what: String) throws {
        if position != end { throw FormatError("has \(end - position) unexpected trailing bytes after \(what)") }
    }
}

enum ZigZag {
    @inline(__always)
    static func encode(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    @inline(__always)
    static func decode(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }
}
