/// The one rule for reading LEB128 varints: seven bits a byte, least significant first, at most
/// ten bytes, and the tenth may only hold the 64th bit. Anything else is refused rather than
/// wrapped, so a damaged length can never come back as a small, plausible number. `ByteReader`
/// (wire format, WAL, spool) calls it; the store's segment reader keeps the same loop in its own
/// module for speed, and StrataStoreTests' CodecTests check the two agree.
public enum Varint {
    public enum Failure: Error, Sendable {
        /// The input ended before the last byte (one without the high bit).
        case truncated
        /// More than 64 bits: a tenth byte above 1, or an eleventh byte.
        case overlong
    }

    /// Decodes the varint at `position` and moves `position` past it. On failure `position` is
    /// `end` (truncated) or just past the offending byte (overlong).
    @inlinable @inline(__always)
    public static func decode(_ bytes: [UInt8], at position: inout Int, end: Int) throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw .truncated }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 { throw .overlong }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }
}
