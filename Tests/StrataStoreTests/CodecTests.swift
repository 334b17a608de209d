import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataStore

final class CodecTests: XCTestCase {
    // MARK: Varints and zig-zag

    func testVarintAndZigZagRoundTrip() throws {
        var rng = SeededRandom(seed: 1)
        var values: [UInt64] = [0, 1, 127, 128, 255, 16383, 16384, UInt64(Int64.max), UInt64.max]
        for _ in 0..<2000 { values.append(rng.next() >> UInt64(rng.int(0...63))) }
        var out = [UInt8]()
        for v in values {
            out.appendVarint(v)
            out.appendZigZag(Int64(bitPattern: v))
        }
        var c = ByteCursor(out)
        for v in values {
            XCTAssertEqual(try c.varint(), v)
            XCTAssertEqual(try c.zigzag(), Int64(bitPattern: v))
        }
        XCTAssertTrue(c.isAtEnd)
        for v in values { XCTAssertEqual(varintLength(v), { var b = [UInt8](); b.appendVarint(v); return b.count }()) }
        for v: Int64 in [0, -1, 1, .min, .max] { XCTAssertEqual(ZigZag.decode(ZigZag.encode(v)), v) }
    }

    func testOverlongAndTruncatedVarintsThrow() {
        var c = ByteCursor([UInt8](repeating: 0xFF, count: 11))
        XCTAssertThrowsError(try c.varint())
        var d = ByteCursor([0x80, 0x80])
        XCTAssertThrowsError(try d.varint())
        var e = ByteCursor([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])  // 2^64
        XCTAssertThrowsError(try e.varint())
        var f = ByteCursor([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])  // UInt64.max
        XCTAssertEqual(try f.varint(), UInt64.max)
    }

    /// The segment reader's varint loop and the wire/WAL reader's (StrataCore's `Varint`) are one
    /// rule: every prefix of every case is accepted or refused alike, with the same value.
    func testSegmentAndWireReadersAgreeOnVarints() {
        var cases: [[UInt8]] = [[0], [0x7F], [0x80, 0x01], [0x80], [0x80, 0x80], [0x80, 0x00]]
        for tenth: UInt8 in [0x00, 0x01, 0x02, 0x7F, 0x80, 0xFF] {
            cases.append([UInt8](repeating: 0xFF, count: 9) + [tenth])
            cases.append([UInt8](repeating: 0xFF, count: 9) + [tenth, 0x00])
        }
        cases.append([UInt8](repeating: 0xFF, count: 11) + [0])
        var rng = SeededRandom(seed: 7)
        for _ in 0..<500 { cases.append((0..<rng.int(1...12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
        for bytes in cases {
            var cursor = ByteCursor(bytes)
            var reader = ByteReader(bytes)
            XCTAssertEqual(try? cursor.varint(), try? reader.readVarint(), "\(bytes)")
        }
    }

    // MARK: Bit packing

    func testBitPackingRoundTripsEveryWidth() throws {
        var rng = SeededRandom(seed: 2)
        for width in 0...64 {
            for count in [0, 1, 2, 7, 8, 9, 63, 64, 65, 100, 1000] {
                let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
                let values = (0..<count).map { i -> UInt64 in
                    switch i % 4 {
                    case 0: return mask
                    case 1: return 0
                    default: return rng.next() & mask
                    }
                }
                var out = [UInt8]()
                BitPacking.pack(values, width: width, into: &out)
                XCTAssertEqual(out.count, BitPacking.byteCount(count: count, width: width))
                let back = try out.withUnsafeBytes { try BitPacking.unpack($0, count: count, width: width) }
                XCTAssertEqual(back, values, "width \(width) count \(count)")
                // Truncated input throws.
                if out.count > 0 {
                    XCTAssertThrowsError(try out.dropLast().withUnsafeBytes { try BitPacking.unpack($0, count: count, width: width) })
                }
            }
        }
    }

    func testBitPackingMasksOversizedValues() throws {
        var out = [UInt8]()
        BitPacking.pack([0xFF, 0x1, 0x3], width: 1, into: &out)
        XCTAssertEqual(try out.withUnsafeBytes { try BitPacking.unpack($0, count: 3, width: 1) }, [1, 1, 1])
        XCTAssertThrowsError(try [UInt8]().withUnsafeBytes { try BitPacking.unpack($0, count: 1, width: 65) })
        XCTAssertEqual(BitPacking.width(forMax: 0), 0)
        XCTAssertEqual(BitPacking.width(forMax: 1), 1)
        XCTAssertEqual(BitPacking.width(forMax: UInt64.max), 64)
    }

    // MARK: Integer sequences

    private func roundTrip(_ values: [Int64], file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        var out = [UInt8]()
        IntCodec.encode(values, into: &out)
        var c = ByteCursor(out)
        let back = try IntCodec.decode(&c, count: values.count)
        XCTAssertEqual(back, values, file: file, line: line)
        XCTAssertTrue(c.isAtEnd, file: file, line: line)
        return out
    }

    func testIntCodecEdgeCases() throws {
        _ = try roundTrip([])
        _ = try roundTrip([42])
        _ = try roundTrip([-7, -7, -7])
        XCTAssertEqual(try roundTrip([Int64](repeating: 5, count: 1000)).count, 2)  // constant
        _ = try roundTrip([.min, .max])
        _ = try roundTrip([.max, .min, 0, .max, .min])
        _ = try roundTrip([0, -1, .min, 1, .max])
        _ = try roundTrip([10, 9, 8, 7, -100, 3])  // negative deltas
        // Millisecond timestamps: the divisor shrinks them to one byte per value.
        let ms = (0..<1000).map { Int64(1_700_000_000_000_000_000) + Int64($0) * 1_000_000 + Int64($0 % 3) * 1_000_000 }
        XCTAssertLessThan(try roundTrip(ms).count, 1020)
        // Random values at millisecond precision: frame of reference with the divisor.
        var rng = SeededRandom(seed: 12)
        let coarse = (0..<1000).map { _ in Int64(rng.int(0...1000)) * 1_000_000 }
        XCTAssertLessThan(try roundTrip(coarse).count, 1270)
        // Deltas picked for sorted data with one jump.
        let sorted = (0..<1000).map { Int64($0 * 3) } + (0..<1000).map { Int64(1 << 40) + Int64($0) }
        XCTAssertLessThan(try roundTrip(sorted).count, 2100)
    }

    func testIntCodecRandomProperty() throws {
        var rng = SeededRandom(seed: 3)
        for round in 0..<400 {
            let count = rng.int(0...600)
            let kind = round % 6
            let base = Int64(bitPattern: rng.next())
            let step = Int64(rng.int(1...1_000_000))
            let values: [Int64] = (0..<count).map { i in
                switch kind {
                case 0: return Int64(bitPattern: rng.next())
                case 1: return base &+ Int64(rng.int(0...1000)) &* step
                case 2: return base &+ Int64(i) &* step &+ Int64(rng.int(-3...3))
                case 3: return rng.chance(0.5) ? .min : .max
                case 4: return Int64(rng.int(0...3))
                default: return base &- Int64(i) &* step
                }
            }
            _ = try roundTrip(values)
        }
    }

    func testIntCodecRejectsDamage() {
        var out = [UInt8]()
        IntCodec.encode((0..<100).map { Int64($0 * 7919 % 1000) }, into: &out)
        for cut in 0..<out.count {
            var c = ByteCursor(Array(out[0..<cut]))
            XCTAssertThrowsError(try IntCodec.decode(&c, count: 100), "cut at \(cut)")
        }
        var bad = out
        bad[0] = 9
        var c = ByteCursor(bad)
        XCTAssertThrowsError(try IntCodec.decode(&c, count: 100))
        // Random garbage never traps.
        var rng = SeededRandom(seed: 4)
        for _ in 0..<2000 {
            let garbage = (0..<rng.int(0...40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var g = ByteCursor(garbage)
            _ = try? IntCodec.decode(&g, count: rng.int(0...50))
        }
    }

    // MARK: Run lengths, bitmaps, string arrays

    func testRunLengthRoundTrip() throws {
        var rng = SeededRandom(seed: 5)
        for _ in 0..<300 {
            var values: [UInt32] = []
            for _ in 0..<rng.int(0...20) {
                values.append(contentsOf: repeatElement(UInt32(rng.int(0...5)), count: rng.int(1...50)))
            }
            var out = [UInt8]()
            RunLength.encode(values, into: &out)
            var c = ByteCursor(out)
            XCTAssertEqual(try RunLength.decode(&c, count: values.count, maxValue: 5), values)
            XCTAssertTrue(c.isAtEnd)
            if !values.isEmpty {
                var short = ByteCursor(out)
                XCTAssertThrowsError(try RunLength.decode(&short, count: values.count + 1, maxValue: 5))
                var long = ByteCursor(out)
                XCTAssertThrowsError(try RunLength.decode(&long, count: values.count - 1, maxValue: 5))
                if values.contains(5) {
                    var limited = ByteCursor(out)
                    XCTAssertThrowsError(try RunLength.decode(&limited, count: values.count, maxValue: 4))
                }
            }
        }
    }

    func testPresenceBitmapRoundTrip() throws {
        var rng = SeededRandom(seed: 6)
        for count in [0, 1, 7, 8, 9, 100, 2048] {
            for density in [0.0, 0.3, 1.0] {
                let bits = (0..<count).map { _ in rng.chance(density) }
                var out = [UInt8]()
                PresenceBitmap.encode(bits, into: &out)
                var c = ByteCursor(out)
                XCTAssertEqual(try PresenceBitmap.decode(&c, count: count), bits)
                XCTAssertTrue(c.isAtEnd)
            }
        }
        // Bits set past the count are rejected.
        var c = ByteCursor([2, 0xFF])
        XCTAssertThrowsError(try PresenceBitmap.decode(&c, count: 3))
    }

    func testStringArrayStoresBytesExactly() throws {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<100 {
            var strings: [[UInt8]] = []
            for _ in 0..<rng.int(0...50) {
                switch rng.int(0...4) {
                case 0: strings.append([])
                case 1: strings.append([0xFF, 0xFE, 0xC0, 0x80, 0x00])  // invalid UTF-8, NUL
                case 2: strings.append(Array("ünïcödé 日本語 😀".utf8))
                case 3: strings.append((0..<rng.int(0...300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                default: strings.append(Array("plain \(rng.int(0...99))".utf8))
                }
            }
            var out = [UInt8]()
            StringArray.encode(strings, into: &out)
            var c = ByteCursor(out)
            XCTAssertEqual(try StringArray.decodeByteArrays(&c, count: strings.count), strings)
            XCTAssertTrue(c.isAtEnd)
        }
        // A huge string.
        let huge = [UInt8](repeating: 0x61, count: 5_000_000)
        var out = [UInt8]()
        StringArray.encode([huge, [], huge], into: &out)
        var c = ByteCursor(out)
        XCTAssertEqual(try StringArray.decodeByteArrays(&c, count: 3), [huge, [], huge])
        // A length beyond the data throws.
        var bad = [UInt8]()
        IntCodec.encode([10], into: &bad)
        bad += [1, 2, 3]
        var b = ByteCursor(bad)
        XCTAssertThrowsError(try StringArray.decode(&b, count: 1))
    }

    // MARK: Column codecs

    func testAttributeColumnsRoundTrip() throws {
        var rng = SeededRandom(seed: 8)
        let keys = ["a", "b", "c", "d", "", "ü"]
        for _ in 0..<200 {
            let rows: [[Attribute]] = (0..<rng.int(1...40)).map { _ in
                var row: [Attribute] = []
                for key in keys where rng.chance(0.4) { row.append(Attribute(key, rng.chance(0.2) ? "" : "v\(rng.int(0...9))")) }
                if rng.chance(0.2) { row.shuffle(using: &rng) }
                if rng.chance(0.1), let first = row.first { row.append(Attribute(first.key, "dup")) }
                return row
            }
            guard let payload = ColumnCodecs.encodeAttributes(rows) else {
                XCTAssertTrue(rows.allSatisfy(\.isEmpty))
                continue
            }
            let decoded = try ColumnCodecs.decodeAttributes(payload, count: rows.count)
            for (i, row) in rows.enumerated() {
                XCTAssertEqual(decoded.attributes(at: i), row)
                for a in row { XCTAssertEqual(decoded.value(forKey: a.key, at: i), row.first { $0.key == a.key }?.value) }
            }
        }
    }

    func testIDColumnsRoundTrip() throws {
        var rng = SeededRandom(seed: 9)
        for _ in 0..<50 {
            let n = rng.int(1...100)
            let traces: [TraceID?] = (0..<n).map { _ in rng.chance(0.5) ? TraceID(high: rng.next(), low: rng.next()) : nil }
            let spans: [SpanID?] = (0..<n).map { _ in rng.chance(0.5) ? SpanID(rng.next()) : nil }
            if let t = ColumnCodecs.encodeTraceIDs(traces) {
                XCTAssertEqual(try ColumnCodecs.decodeTraceIDs(t, count: n), traces)
            } else {
                XCTAssertTrue(traces.allSatisfy { $0 == nil })
            }
            if let s = ColumnCodecs.encodeSpanIDs(spans) {
                XCTAssertEqual(try ColumnCodecs.decodeSpanIDs(s, count: n), spans)
            } else {
                XCTAssertTrue(spans.allSatisfy { $0 == nil })
            }
        }
    }
}

final class ObservedColumnTests: XCTestCase {
    /// Catching up: lines written over an hour, read within a millisecond. Absolute wins.
    func testCatchUpReadsAreStoredAbsoluteAndRoundTrip() throws {
        let start: Int64 = 1_795_255_200_000_000_000
        let timestamps: [Int64] = (0..<1000).map { (i: Int) -> Int64 in start + Int64(i) * 3_600_000_000 + Int64(i * 7919 % 1000) }
        let observed: [Int64] = (0..<1000).map { (i: Int) -> Int64 in start + 40_000_000_000_000 + Int64(i / 100) }
        let bytes = try XCTUnwrap(ColumnCodecs.encodeObserved(observed, timestamps: timestamps))
        XCTAssertEqual(bytes.first, ColumnCodecs.ObservedBase.absolute.rawValue)
        XCTAssertEqual(try ColumnCodecs.decodeObserved(bytes, timestamps: timestamps, formatVersion: 2), observed)
    }

    /// Tailing: each line read a few milliseconds after it was written. Relative wins.
    func testTailedReadsAreStoredRelativeAndRoundTrip() throws {
        let start: Int64 = 1_795_255_200_000_000_000
        let timestamps: [Int64] = (0..<1000).map { (i: Int) -> Int64 in start + Int64(i) * 987_654_321 }
        let observed: [Int64] = (0..<1000).map { (i: Int) -> Int64 in timestamps[i] + 2_000_000 + Int64(i % 3) }
        let bytes = try XCTUnwrap(ColumnCodecs.encodeObserved(observed, timestamps: timestamps))
        XCTAssertEqual(bytes.first, ColumnCodecs.ObservedBase.timestamp.rawValue)
        XCTAssertEqual(try ColumnCodecs.decodeObserved(bytes, timestamps: timestamps, formatVersion: 2), observed)
        XCTAssertNil(ColumnCodecs.encodeObserved(timestamps, timestamps: timestamps), "absent when equal to the timestamps")
    }

    /// Version 1 segments have no base byte: their payload is the relative sequence alone.
    func testVersionOnePayloadsStayReadable() throws {
        let timestamps: [Int64] = [100, 200, 300]
        var payload = [UInt8]()
        IntCodec.encode([5, 6, 7], into: &payload)
        XCTAssertEqual(try ColumnCodecs.decodeObserved(payload, timestamps: timestamps, formatVersion: 1), [105, 206, 307])
        XCTAssertThrowsError(try ColumnCodecs.decodeObserved([9] + payload, timestamps: timestamps, formatVersion: 2))
    }
}
