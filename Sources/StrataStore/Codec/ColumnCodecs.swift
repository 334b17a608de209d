import StrataCore

/// Payload encodings of the block columns (before compression). docs/FORMAT.md, "Columns".
/// Each encoder returns nil when every row holds the column's default, in which case the
/// column is absent from the block (stored length 0).
enum ColumnCodecs {
    // MARK: Timestamps

    static func encodeTimestamps(_ values: [Int64]) -> [UInt8] {
        var out = [UInt8]()
        IntCodec.encode(values, into: &out)
        return out
    }

    static func decodeTimestamps(_ bytes: [UInt8], count: Int) throws -> [Int64] {
        var c = ByteCursor(bytes)
        let values = try IntCodec.decode(&c, count: count)
        try c.expectEnd("the timestamps")
        return values
    }

    /// How a version-2 observed column is based (its first byte).
    enum ObservedBase: UInt8 {
        /// `observed - timestamp` per row (wrapping): small when records are read as written.
        case timestamp = 0
        /// The observed times themselves: an agent catching up reads thousands of lines
        /// written over hours within milliseconds, so consecutive observed times barely differ
        /// while `observed - timestamp` carries all of the timestamps' entropy.
        case absolute = 1
    }

    /// Observed timestamps, based on whichever of the two encodes smaller; absent when every
    /// observed time equals its timestamp.
    static func encodeObserved(_ observed: [Int64], timestamps: [Int64]) -> [UInt8]? {
        var allEqual = true
        var deltas = [Int64](repeating: 0, count: observed.count)
        for i in 0..<observed.count {
            deltas[i] = observed[i] &- timestamps[i]
            if deltas[i] != 0 { allEqual = false }
        }
        if allEqual { return nil }
        var relative = [ObservedBase.timestamp.rawValue]
        IntCodec.encode(deltas, into: &relative)
        var absolute = [ObservedBase.absolute.rawValue]
        IntCodec.encode(observed, into: &absolute)
        return absolute.count < relative.count ? absolute : relative
    }

    /// `formatVersion` 1 has no base byte: always relative to the timestamps.
    static func decodeObserved(_ bytes: [UInt8], timestamps: [Int64], formatVersion: Int) throws -> [Int64] {
        var c = ByteCursor(bytes)
        var base = ObservedBase.timestamp
        if formatVersion >= 2 {
            let byte = try c.byte()
            guard let known = ObservedBase(rawValue: byte) else {
                throw FormatError("has an unknown observed-time base \(byte)")
            }
            base = known
        }
        var values = try IntCodec.decode(&c, count: timestamps.count)
        try c.expectEnd("the observed timestamps")
        if base == .timestamp {
            for i in 0..<values.count { values[i] = timestamps[i] &+ values[i] }
        }
        return values
    }

    // MARK: Small integers (stream, severity, flags, template id)

    /// Absent when every value is `defaultValue`.
    static func encodeSmallInts(_ values: [Int64], defaultValue: Int64 = 0) -> [UInt8]? {
        if values.allSatisfy({ $0 == defaultValue }) { return nil }
        var out = [UInt8]()
        IntCodec.encode(values, into: &out)
        return out
    }

    static func decodeSmallInts(_ bytes: [UInt8], count: Int, in range: ClosedRange<Int64>, _ what: String) throws -> [Int64] {
        var c = ByteCursor(bytes)
        let values = try IntCodec.decode(&c, count: count, in: range, what)
        try c.expectEnd(what)
        return values
    }

    // MARK: Resource index

    static func encodeResources(_ indexes: [UInt32]) -> [UInt8] {
        var out = [UInt8]()
        RunLength.encode(indexes, into: &out)
        return out
    }

    static func decodeResources(_ bytes: [UInt8], count: Int, resourceCount: Int) throws -> [UInt32] {
        guard resourceCount > 0 else { throw FormatError("refers to resources, but the segment has none") }
        var c = ByteCursor(bytes)
        let values = try RunLength.decode(&c, count: count, maxValue: UInt32(resourceCount - 1))
        try c.expectEnd("the resource runs")
        return values
    }

    // MARK: Trace and span ids

    static func encodeTraceIDs(_ ids: [TraceID?]) -> [UInt8]? {
        guard ids.contains(where: { $0 != nil }) else { return nil }
        var out = [UInt8]()
        PresenceBitmap.encode(ids.map { $0 != nil }, into: &out)
        for case let id? in ids {
            appendBigEndian(id.high, to: &out)
            appendBigEndian(id.low, to: &out)
        }
        return out
    }

    static func decodeTraceIDs(_ bytes: [UInt8], count: Int) throws -> [TraceID?] {
        var c = ByteCursor(bytes)
        let present = try PresenceBitmap.decode(&c, count: count)
        var result = [TraceID?](repeating: nil, count: count)
        for i in 0..<count where present[i] {
            let r = try c.skip(16)
            result[i] = TraceID(high: readBigEndian(bytes, r.lowerBound), low: readBigEndian(bytes, r.lowerBound + 8))
        }
        try c.expectEnd("the trace ids")
        return result
    }

    static func encodeSpanIDs(_ ids: [SpanID?]) -> [UInt8]? {
        guard ids.contains(where: { $0 != nil }) else { return nil }
        var out = [UInt8]()
        PresenceBitmap.encode(ids.map { $0 != nil }, into: &out)
        for case let id? in ids { appendBigEndian(id.value, to: &out) }
        return out
    }

    static func decodeSpanIDs(_ bytes: [UInt8], count: Int) throws -> [SpanID?] {
        var c = ByteCursor(bytes)
        let present = try PresenceBitmap.decode(&c, count: count)
        var result = [SpanID?](repeating: nil, count: count)
        for i in 0..<count where present[i] {
            let r = try c.skip(8)
            result[i] = SpanID(readBigEndian(bytes, r.lowerBound))
        }
        try c.expectEnd("the span ids")
        return result
    }

    @inline(__always)
    static func appendBigEndian(_ v: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    @inline(__always)
    static func readBigEndian(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[at + i]) }
        return v
    }

    // MARK: Body

    /// Decodes the body column in place: returns `count + 1` offsets into `bytes`.
    static func decodeBodies(_ bytes: [UInt8], count: Int) throws -> [Int] {
        var c = ByteCursor(bytes)
        let offsets = try StringArray.decode(&c, count: count)
        try c.expectEnd("the bodies")
        return offsets
    }

    // MARK: Attributes

    /// Sparse attribute columns: the keys present in the block, which rows have which keys, and
    /// per key its values in row order.
    ///
    /// `varint K`, K × string key, `u8 layout`; layout 0: K presence bitmaps (each row's
    /// attributes are in key order without repeats); layout 1: per row `varint n` + n × `varint
    /// key index` (any order, repeats allowed); then per key a `StringArray` of its values.
    static func encodeAttributes(_ rows: [[Attribute]]) -> [UInt8]? {
        guard rows.contains(where: { !$0.isEmpty }) else { return nil }
        var keyIndex: [String: Int] = [:]
        var keys: [String] = []
        var rowKeys: [[Int]] = []
        rowKeys.reserveCapacity(rows.count)
        var ordered = true
        for attributes in rows {
            var indexes: [Int] = []
            indexes.reserveCapacity(attributes.count)
            for attribute in attributes {
                let k: Int
                if let existing = keyIndex[attribute.key] {
                    k = existing
                } else {
                    k = keys.count
                    keyIndex[attribute.key] = k
                    keys.append(attribute.key)
                }
                if let last = indexes.last, last >= k { ordered = false }
                indexes.append(k)
            }
            rowKeys.append(indexes)
        }
        var values = [[String]](repeating: [], count: keys.count)
        for (r, attributes) in rows.enumerated() {
            for (j, attribute) in attributes.enumerated() { values[rowKeys[r][j]].append(attribute.value) }
        }
        var out = [UInt8]()
        out.appendVarint(keys.count)
        for key in keys { out.appendString(key) }
        if ordered {
            out.append(0)
            for k in 0..<keys.count {
                var present = [Bool](repeating: false, count: rows.count)
                for r in 0..<rows.count where rowKeys[r].contains(k) { present[r] = true }
                PresenceBitmap.encode(present, into: &out)
            }
        } else {
            out.append(1)
            for indexes in rowKeys {
                out.appendVarint(indexes.count)
                for k in indexes { out.appendVarint(k) }
            }
        }
        for k in 0..<keys.count { StringArray.encode(values[k], into: &out) }
        return out
    }

    static func decodeAttributes(_ bytes: [UInt8], count: Int) throws -> AttributeColumns {
        var c = ByteCursor(bytes)
        let keyCount = try c.count(limit: c.remaining, "key count")
        var keys: [String] = []
        keys.reserveCapacity(keyCount)
        for _ in 0..<keyCount { keys.append(try c.string()) }
        let layout = try c.byte()
        // Per row: (key, occurrence index within the key's values).
        var rowStarts = [Int](repeating: 0, count: count + 1)
        var entryKeys: [Int] = []
        var occurrences = [Int](repeating: 0, count: keyCount)
        var entryValues: [Int] = []
        switch layout {
        case 0:
            var present: [[Bool]] = []
            for _ in 0..<keyCount { present.append(try PresenceBitmap.decode(&c, count: count)) }
            for r in 0..<count {
                for k in 0..<keyCount where present[k][r] {
                    entryKeys.append(k)
                    entryValues.append(occurrences[k])
                    occurrences[k] += 1
                }
                rowStarts[r + 1] = entryKeys.count
            }
        case 1:
            for r in 0..<count {
                let n = try c.count(limit: c.remaining, "attribute count")
                for _ in 0..<n {
                    let k = try c.count(limit: keyCount - 1, "key index")
                    entryKeys.append(k)
                    entryValues.append(occurrences[k])
                    occurrences[k] += 1
                }
                rowStarts[r + 1] = entryKeys.count
            }
        default:
            throw FormatError("has an unknown attribute layout \(layout)")
        }
        var values: [[String]] = []
        values.reserveCapacity(keyCount)
        for k in 0..<keyCount { values.append(try StringArray.decodeStrings(&c, count: occurrences[k])) }
        try c.expectEnd("the attributes")
        return AttributeColumns(
            keys: keys, values: values, rowStarts: rowStarts, entryKeys: entryKeys, entryValues: entryValues)
    }
}

/// Decoded sparse attribute columns of a block.
public struct AttributeColumns: Sendable {
    /// Keys present in the block.
    public let keys: [String]
    /// Per key, its values in row order.
    public let values: [[String]]
    let rowStarts: [Int]
    let entryKeys: [Int]
    let entryValues: [Int]

    static func empty(rows: Int) -> AttributeColumns {
        AttributeColumns(keys: [], values: [], rowStarts: [Int](repeating: 0, count: rows + 1), entryKeys: [], entryValues: [])
    }

    /// The attributes of `row`, in their original order.
    public func attributes(at row: Int) -> [Attribute] {
        guard row + 1 < rowStarts.count else { return [] }
        return (rowStarts[row]..<rowStarts[row + 1]).map {
            Attribute(keys[entryKeys[$0]], values[entryKeys[$0]][entryValues[$0]])
        }
    }

    /// The value of `key` in `row` (the first, should the key repeat).
    public func value(forKey key: String, at row: Int) -> String? {
        guard row + 1 < rowStarts.count else { return nil }
        for e in rowStarts[row]..<rowStarts[row + 1] where keys[entryKeys[e]] == key {
            return values[entryKeys[e]][entryValues[e]]
        }
        return nil
    }
}
