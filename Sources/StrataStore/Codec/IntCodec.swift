/// Integer sequence codec used by most columns (docs/FORMAT.md, "Integer sequences").
///
/// The writer picks, per sequence, the smallest of:
/// - `0` constant: `zigzag(v)` — every value equal (also used for the empty sequence);
/// - `1` frame of reference: `zigzag(min) varint(gcd) u8(width)` then `(v - min) / gcd` bit-packed;
/// - `2` delta: `zigzag(first) varint(gcd)` then `zigzag((v[i] - v[i-1]) / gcd)` varints.
/// All arithmetic wraps modulo 2^64, so any `Int64` sequence round-trips (including
/// `Int64.min ... Int64.max` jumps). The count is known to the caller and not stored.
enum IntCodec {
    static let modeConstant: UInt8 = 0
    static let modeFrameOfReference: UInt8 = 1
    static let modeDelta: UInt8 = 2

    @inline(__always)
    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var x = a
        var y = b
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }

    static func encode(_ values: [Int64], into out: inout [UInt8]) {
        values.withUnsafeBufferPointer { encode($0, into: &out) }
    }

    static func encode(_ values: UnsafeBufferPointer<Int64>, into out: inout [UInt8]) {
        let n = values.count
        guard n > 0 else {
            out.append(modeConstant)
            out.appendZigZag(0)
            return
        }
        var minV = values[0]
        var maxV = values[0]
        for v in values {
            if v < minV { minV = v }
            if v > maxV { maxV = v }
        }
        if minV == maxV {
            out.append(modeConstant)
            out.appendZigZag(minV)
            return
        }
        // Frame of reference.
        var forGCD: UInt64 = 0
        for v in values {
            let d = UInt64(bitPattern: v) &- UInt64(bitPattern: minV)
            if d != 0 { forGCD = gcd(d, forGCD) }
            if forGCD == 1 { break }
        }
        let range = (UInt64(bitPattern: maxV) &- UInt64(bitPattern: minV)) / forGCD
        let width = BitPacking.width(forMax: range)
        let forSize = varintLength(forGCD) + 1 + BitPacking.byteCount(count: n, width: width)!

        // Delta: gcd over the signed deltas' magnitudes.
        var deltaGCD: UInt64 = 0
        var previous = values[0]
        for i in 1..<n {
            let d = values[i] &- previous
            previous = values[i]
            if d != 0 { deltaGCD = gcd(d.magnitude, deltaGCD) }
            if deltaGCD == 1 { break }
        }
        if deltaGCD == 0 || deltaGCD > UInt64(Int64.max) { deltaGCD = 1 }
        var deltaSize = varintLength(deltaGCD)
        previous = values[0]
        let g = Int64(deltaGCD)
        for i in 1..<n {
            let d = (values[i] &- previous) / g
            previous = values[i]
            deltaSize += varintLength(ZigZag.encode(d))
            if deltaSize >= forSize { break }
        }

        if forSize <= deltaSize {
            out.append(modeFrameOfReference)
            out.appendZigZag(minV)
            out.appendVarint(forGCD)
            out.append(UInt8(width))
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n) { scratch in
                for i in 0..<n {
                    scratch[i] = (UInt64(bitPattern: values[i]) &- UInt64(bitPattern: minV)) / forGCD
                }
                BitPacking.pack(UnsafeBufferPointer(scratch), width: width, into: &out)
            }
        } else {
            out.append(modeDelta)
            out.appendZigZag(values[0])
            out.appendVarint(deltaGCD)
            previous = values[0]
            for i in 1..<n {
                out.appendZigZag((values[i] &- previous) / g)
                previous = values[i]
            }
        }
    }

    /// Decodes `count` values written by `encode`.
    static func decode(_ cursor: inout ByteCursor, count: Int) throws -> [Int64] {
        guard count >= 0 else { throw FormatError("has a negative count") }
        let mode = try cursor.byte()
        switch mode {
        case modeConstant:
            let v = try cursor.zigzag()
            return [Int64](repeating: v, count: count)
        case modeFrameOfReference:
            let minV = try cursor.zigzag()
            let gcd = try cursor.varint()
            guard gcd >= 1 else { throw FormatError("has a zero frame-of-reference divisor") }
            let width = Int(try cursor.byte())
            guard width <= 64 else { throw FormatError("has an invalid bit width \(width)") }
            guard let need = BitPacking.byteCount(count: count, width: width) else {
                throw FormatError("has an impossible value count \(count)")
            }
            let range = try cursor.skip(need)
            var result = try cursor.bytes.withUnsafeBytes { raw in
                try BitPacking.unpack(UnsafeRawBufferPointer(rebasing: raw[range]), count: count, width: width)
            }
            return result.withUnsafeMutableBufferPointer { buffer in
                let base = UInt64(bitPattern: minV)
                return [Int64](unsafeUninitializedCapacity: count) { out, initialized in
                    for i in 0..<count { out[i] = Int64(bitPattern: base &+ buffer[i] &* gcd) }
                    initialized = count
                }
            }
        case modeDelta:
            let first = try cursor.zigzag()
            let gcd = try cursor.varint()
            guard gcd >= 1, gcd <= UInt64(Int64.max) else { throw FormatError("has an invalid delta divisor \(gcd)") }
            // Each delta takes at least one byte.
            guard count <= cursor.remaining + 1 else {
                throw FormatError("ends early: \(count) deltas need more than \(cursor.remaining) bytes")
            }
            let g = Int64(gcd)
            var result = [Int64]()
            result.reserveCapacity(count)
            if count > 0 { result.append(first) }
            var v = first
            for _ in 1..<max(count, 1) {
                v = v &+ (try cursor.zigzag() &* g)
                result.append(v)
            }
            return result
        default:
            throw FormatError("has an unknown integer encoding \(mode)")
        }
    }

    /// Decodes and checks every value lies in `range`.
    static func decode(_ cursor: inout ByteCursor, count: Int, in range: ClosedRange<Int64>, _ what: String) throws -> [Int64] {
        let values = try decode(&cursor, count: count)
        for v in values where !range.contains(v) {
            throw FormatError("has \(what) \(v) outside \(range.lowerBound)...\(range.upperBound)")
        }
        return values
    }
}

/// Run-length encoding of a sequence of small unsigned integers:
/// `varint(runs)` then `runs` × `varint(value) varint(length ≥ 1)`.
enum RunLength {
    static func encode(_ values: [UInt32], into out: inout [UInt8]) {
        var runs: [(UInt32, Int)] = []
        for v in values {
            if let last = runs.last, last.0 == v {
                runs[runs.count - 1].1 += 1
            } else {
                runs.append((v, 1))
            }
        }
        out.appendVarint(runs.count)
        for (v, n) in runs {
            out.appendVarint(UInt64(v))
            out.appendVarint(n)
        }
    }

    static func decode(_ cursor: inout ByteCursor, count: Int, maxValue: UInt32) throws -> [UInt32] {
        let runs = try cursor.count(limit: min(count, cursor.remaining / 2), "run count")
        var result = [UInt32]()
        result.reserveCapacity(count)
        for _ in 0..<runs {
            let v = try cursor.varint()
            guard v <= UInt64(maxValue) else { throw FormatError("has run value \(v) above \(maxValue)") }
            let n = try cursor.count(limit: count - result.count, "run length")
            guard n >= 1 else { throw FormatError("has an empty run") }
            result.append(contentsOf: repeatElement(UInt32(v), count: n))
        }
        guard result.count == count else { throw FormatError("runs cover \(result.count) rows, expected \(count)") }
        return result
    }
}

/// Presence bitmap: `u8 mode` — `0` none present, `1` all present, `2` then `ceil(n/8)` bytes,
/// bit `i` (LSB first) set when row `i` has a value.
enum PresenceBitmap {
    static func encode(_ present: [Bool], into out: inout [UInt8]) {
        let set = present.reduce(0) { $0 + ($1 ? 1 : 0) }
        if set == 0 {
            out.append(0)
        } else if set == present.count {
            out.append(1)
        } else {
            out.append(2)
            let start = out.appendZeros((present.count + 7) / 8)
            for (i, p) in present.enumerated() where p {
                out[start + (i >> 3)] |= 1 << UInt8(i & 7)
            }
        }
    }

    static func decode(_ cursor: inout ByteCursor, count: Int) throws -> [Bool] {
        let mode = try cursor.byte()
        switch mode {
        case 0: return [Bool](repeating: false, count: count)
        case 1: return [Bool](repeating: true, count: count)
        case 2:
            let range = try cursor.skip((count + 7) / 8)
            let bytes = cursor.bytes
            var result = [Bool](repeating: false, count: count)
            for i in 0..<count {
                result[i] = bytes[range.lowerBound + (i >> 3)] & (1 << UInt8(i & 7)) != 0
            }
            // Padding bits must be zero (catches a wrong count).
            if count % 8 != 0, bytes[range.upperBound - 1] >> UInt8(count % 8) != 0 {
                throw FormatError("has presence bits set past row \(count)")
            }
            return result
        default:
            throw FormatError("has an unknown presence encoding \(mode)")
        }
    }
}

/// An array of byte strings: lengths as an `IntCodec` sequence, then the bytes back to back.
/// Bytes are stored exactly (no UTF-8 validation); readers decide how to interpret them.
enum StringArray {
    /// Appends strings given as ranges of `storage`.
    static func encode(lengths: [Int64], bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        IntCodec.encode(lengths, into: &out)
        out.append(contentsOf: bytes)
    }

    static func encode(_ strings: [[UInt8]], into out: inout [UInt8]) {
        IntCodec.encode(strings.map { Int64($0.count) }, into: &out)
        for s in strings { out.append(contentsOf: s) }
    }

    static func encode(_ strings: [String], into out: inout [UInt8]) {
        IntCodec.encode(strings.map { Int64($0.utf8.count) }, into: &out)
        for var s in strings { s.withUTF8 { out.append(contentsOf: $0) } }
    }

    /// Returns `count + 1` offsets into `cursor.bytes`; string `i` is `offsets[i]..<offsets[i+1]`.
    static func decode(_ cursor: inout ByteCursor, count: Int) throws -> [Int] {
        let lengths = try IntCodec.decode(&cursor, count: count)
        var offsets = [Int]()
        offsets.reserveCapacity(count + 1)
        var position = cursor.position
        offsets.append(position)
        var total = 0
        for length in lengths {
            guard length >= 0, length <= cursor.remaining - total else {
                throw FormatError("has a string length \(length) beyond the \(cursor.remaining - total) bytes left")
            }
            total += Int(length)
            position += Int(length)
            offsets.append(position)
        }
        _ = try cursor.skip(total)
        return offsets
    }

    static func decodeStrings(_ cursor: inout ByteCursor, count: Int) throws -> [String] {
        let offsets = try decode(&cursor, count: count)
        return cursor.bytes.withUnsafeBufferPointer { raw in
            (0..<count).map { String(decoding: UnsafeBufferPointer(rebasing: raw[offsets[$0]..<offsets[$0 + 1]]), as: UTF8.self) }
        }
    }

    static func decodeByteArrays(_ cursor: inout ByteCursor, count: Int) throws -> [[UInt8]] {
        let offsets = try decode(&cursor, count: count)
        return (0..<count).map { Array(cursor.bytes[offsets[$0]..<offsets[$0 + 1]]) }
    }
}
