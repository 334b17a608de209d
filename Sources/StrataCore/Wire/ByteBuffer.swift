/// Appends little-endian integers, LEB128 varints and length-prefixed strings.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
    }

    @inline(__always)
    public mutating func writeByte(_ value: UInt8) { bytes.append(value) }

    @inline(__always)
    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always)
    public mutating func writeZigZag(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    public mutating func writeUInt32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    public mutating func writeUInt64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    public mutating func writeBytes(_ data: some Sequence<UInt8>) { bytes.append(contentsOf: data) }

    public mutating func writeBytes(_ data: UnsafeRawBufferPointer) { bytes.append(contentsOf: data) }

    /// Varint length, then the UTF-8 bytes.
    public mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func writeLengthPrefixed(_ data: UnsafeRawBufferPointer) {
        writeVarint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    public mutating func writeLengthPrefixed(_ data: [UInt8]) {
        writeVarint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }
}

/// Reads what `ByteWriter` wrote; every read checks bounds and throws instead of trapping.
public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var position: Int
    /// Names the structure being read, so errors say where the input went wrong.
    public var context: String

    public init(_ bytes: [UInt8], context: String = "input") {
        self.bytes = bytes
        self.position = 0
        self.context = context
    }

    public var remaining: Int { bytes.count - position }
    public var isAtEnd: Bool { position >= bytes.count }

    public struct Truncated: Error, CustomStringConvertible {
        public var context: String
        public var position: Int
        public var wanted: String
        public var description: String { "\(context) is truncated or corrupt at byte \(position): expected \(wanted)" }
    }

    private func truncated(_ wanted: String) -> Truncated {
        Truncated(context: context, position: position, wanted: wanted)
    }

    public mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw truncated("1 byte") }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readVarint() throws -> UInt64 {
        do throws(Varint.Failure) {
            return try Varint.decode(bytes, at: &position, end: bytes.count)
        } catch .truncated {
            throw truncated("a varint")
        } catch {
            throw truncated("a varint of at most 64 bits")
        }
    }

    public mutating func readZigZag() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// A varint that must fit in `Int` and not exceed `limit`.
    public mutating func readCount(limit: Int, what: String) throws -> Int {
        let raw = try readVarint()
        guard raw <= UInt64(limit) else { throw truncated("\(what) of at most \(limit), found \(raw)") }
        return Int(raw)
    }

    public mutating func readUInt16() throws -> UInt16 {
        guard remaining >= 2 else { throw truncated("2 bytes") }
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }

    public mutating func readUInt32() throws -> UInt32 {
        guard remaining >= 4 else { throw truncated("4 bytes") }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << UInt32(8 * i) }
        position += 4
        return value
    }

    public mutating func readUInt64() throws -> UInt64 {
        guard remaining >= 8 else { throw truncated("8 bytes") }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += 8
        return value
    }

    public mutating func readBytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw truncated("\(count) bytes") }
        defer { position += count }
        return bytes[position..<position + count]
    }

    public mutating func readLengthPrefixed() throws -> ArraySlice<UInt8> {
        let length = try readCount(limit: remaining, what: "a length")
        return try readBytes(length)
    }

    /// A length-prefixed string; invalid UTF-8 is repaired (U+FFFD), never fatal.
    public mutating func readString() throws -> String {
        let slice = try readLengthPrefixed()
        return slice.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
    }
}
