/// Bit-packing of unsigned integers at a fixed width (0...64 bits), least significant bit first:
/// value `i` occupies bits `[i*width, (i+1)*width)` of the little-endian bit stream, and the last
/// byte is zero-padded. Width 0 takes no bytes (every value is 0).
enum BitPacking {
    /// The smallest width that holds `maxValue`.
    @inline(__always)
    static func width(forMax maxValue: UInt64) -> Int {
        64 - maxValue.leadingZeroBitCount
    }

    /// Bytes needed for `count` values at `width` bits, or nil on overflow.
    @inline(__always)
    static func byteCount(count: Int, width: Int) -> Int? {
        let (bits, overflow) = count.multipliedReportingOverflow(by: width)
        if overflow || count < 0 { return nil }
        return (bits + 7) / 8
    }

    /// Appends `values` packed at `width` bits to `out` (values are masked to `width`).
    static func pack(_ values: UnsafeBufferPointer<UInt64>, width: Int, into out: inout [UInt8]) {
        precondition(width >= 0 && width <= 64)
        guard width > 0, !values.isEmpty else { return }
        let total = byteCount(count: values.count, width: width)!
        let start = out.appendZeros(total)
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        out.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress! + start
            var acc: UInt64 = 0
            var bits = 0
            var pos = 0
            for v in values {
                let value = v & mask
                acc |= value << UInt64(bits)  // bits < 64 here
                bits += width
                if bits >= 64 {
                    (base + pos).storeBytes(of: acc.littleEndian, toByteOffset: 0, as: UInt64.self)
                    pos += 8
                    bits -= 64
                    // The part of `value` that did not fit.
                    acc = bits == 0 ? 0 : value >> UInt64(width - bits)
                }
            }
            var rest = acc
            while bits > 0 {
                base.storeBytes(of: UInt8(truncatingIfNeeded: rest), toByteOffset: pos, as: UInt8.self)
                rest >>= 8
                pos += 1
                bits -= 8
            }
        }
    }

    static func pack(_ values: [UInt64], width: Int, into out: inout [UInt8]) {
        values.withUnsafeBufferPointer { pack($0, width: width, into: &out) }
    }

    /// Reads 8 bytes little-endian at `offset`, treating bytes past the end as zero.
    @inline(__always)
    private static func load64(_ input: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        if offset + 8 <= input.count {
            return UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        var v: UInt64 = 0
        var i = offset
        var shift: UInt64 = 0
        while i < input.count {
            v |= UInt64(input[i]) << shift
            shift += 8
            i += 1
        }
        return v
    }

    /// Unpacks `output.count` values of `width` bits from `input`, which must hold at least
    /// `byteCount(count:width:)` bytes (checked; throws otherwise).
    static func unpack(_ input: UnsafeRawBufferPointer, width: Int, into output: UnsafeMutableBufferPointer<UInt64>) throws {
        guard width >= 0 && width <= 64 else { throw FormatError("has an invalid bit width \(width)") }
        let n = output.count
        if n == 0 { return }
        if width == 0 {
            output.update(repeating: 0)
            return
        }
        guard let need = byteCount(count: n, width: width), input.count >= need else {
            throw FormatError("ends early: \(n) values of \(width) bits need more than \(input.count) bytes")
        }
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        var bitPos = 0
        if width <= 56 {
            for i in 0..<n {
                let word = load64(input, bitPos >> 3)
                output[i] = (word >> UInt64(bitPos & 7)) & mask
                bitPos += width
            }
        } else {
            for i in 0..<n {
                let byte = bitPos >> 3
                let shift = bitPos & 7
                var v = load64(input, byte) >> UInt64(shift)
                if shift + width > 64 {
                    v |= UInt64(input[byte + 8]) << UInt64(64 - shift)
                }
                output[i] = v & mask
                bitPos += width
            }
        }
    }

    static func unpack(_ input: UnsafeRawBufferPointer, count: Int, width: Int) throws -> [UInt64] {
        try [UInt64](unsafeUninitializedCapacity: count) { buffer, initialized in
            try unpack(input, width: width, into: buffer)
            initialized = count
        }
    }
}
