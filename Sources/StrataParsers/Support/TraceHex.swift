import StrataCore

/// Trace and span ids straight from bytes (the StrataCore initializers take strings).
enum TraceHex {
    @inline(__always)
    static func hex64(_ b: Bytes, at i: Int, count: Int) -> UInt64? {
        guard count > 0, count <= 16, i >= 0, i + count <= b.count else { return nil }
        var value: UInt64 = 0
        var valid = true
        for k in i..<(i + count) {
            let c = b[k]
            valid = valid && isHexDigit(c)
            let digit = c &- 0x30
            value = value << 4 | UInt64(digit < 10 ? digit : ((c | 0x20) &- 0x61) &+ 10) & 0xF
        }
        return valid ? value : nil
    }

    /// 32 hex digits, or 16 (a 64-bit id, zero-padded on the left as W3C asks). All-zero ids
    /// are invalid.
    @inline(__always)
    static func traceID(_ b: Bytes, _ range: Range<Int>) -> TraceID? {
        switch range.count {
        case 32:
            guard let high = hex64(b, at: range.lowerBound, count: 16),
                let low = hex64(b, at: range.lowerBound + 16, count: 16), high != 0 || low != 0
            else { return nil }
            return TraceID(high: high, low: low)
        case 16:
            guard let low = hex64(b, at: range.lowerBound, count: 16), low != 0 else { return nil }
            return TraceID(high: 0, low: low)
        default:
            return nil
        }
    }

    @inline(__always)
    static func spanID(_ b: Bytes, _ range: Range<Int>) -> SpanID? {
        guard range.count == 16, let value = hex64(b, at: range.lowerBound, count: 16), value != 0 else { return nil }
        return SpanID(value)
    }
}
