/// The agent-to-collector batch, format version 1 (docs/WIRE.md is the specification).
public enum WireFormat {
    public static let magic: [UInt8] = Array("STRB".utf8)
    public static let version: UInt8 = 1
    public static let headerSize = 40
    public static let contentType = "application/vnd.strata.batch.v1"
    /// Largest uncompressed payload a reader accepts; larger claims are treated as corrupt.
    public static let maxPayloadBytes = 256 << 20
    /// Header flag: a positions section follows the records (docs/WIRE.md, "Positions").
    public static let positionsFlag: UInt16 = 1
    /// Every flag this build reads; a frame with another bit set is refused, not misread.
    public static let knownFlags: UInt16 = positionsFlag
}

public struct WireError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Builds one batch incrementally. Resources are interned in a table so a container's
/// identity is written once per batch, not once per record.
public struct BatchEncoder {
    private var records = ByteWriter(capacity: 1 << 20)
    private var resourceTable = ByteWriter(capacity: 4096)
    private var resourceIndexBySource: [Int: Int] = [:]
    private var positions = PositionsWriter()
    public private(set) var resourceCount = 0
    public private(set) var recordCount = 0
    /// Uncompressed bytes so far; batch size limits are checked against this.
    public var payloadBytes: Int {
        records.count + resourceTable.count + (positions.hasPositions ? positions.byteCount : 0)
    }

    public init() {}

    /// Interns a resource under a caller-chosen source key (the agent uses its file number);
    /// returns the index records refer to.
    public mutating func resourceIndex(source: Int, resource: () -> Resource) -> Int {
        if let index = resourceIndexBySource[source] { return index }
        let index = resourceCount
        let attributes = resource().attributes
        resourceTable.writeVarint(UInt64(attributes.count))
        for attribute in attributes {
            resourceTable.writeString(attribute.key)
            resourceTable.writeString(attribute.value)
        }
        resourceCount += 1
        resourceIndexBySource[source] = index
        return index
    }

    /// `position` (nil: none) is where the record came from; a batch whose records have none
    /// is the same frame as before positions existed.
    public mutating func append(_ record: LogRecord, resourceIndex: Int, position: RecordPosition? = nil) {
        positions.append(position)
        records.writeZigZag(record.timestamp)
        records.writeZigZag(record.observedTimestamp)
        records.writeVarint(UInt64(resourceIndex))
        records.writeByte(record.stream.rawValue)
        records.writeByte(record.severity?.rawValue ?? 0)
        records.writeVarint(UInt64(record.flags.rawValue))
        var presence: UInt8 = 0
        if record.traceID != nil { presence |= 1 }
        if record.spanID != nil { presence |= 2 }
        records.writeByte(presence)
        if let traceID = record.traceID {
            records.writeUInt64(traceID.high)
            records.writeUInt64(traceID.low)
        }
        if let spanID = record.spanID { records.writeUInt64(spanID.value) }
        records.writeString(record.body)
        records.writeVarint(UInt64(record.attributes.count))
        for attribute in record.attributes {
            records.writeString(attribute.key)
            records.writeString(attribute.value)
        }
        recordCount += 1
    }

    /// Appends a record without severity, trace context or attributes whose body is `body`:
    /// written as is when it is valid UTF-8, else repaired as `String(decoding:as:)` does (each
    /// ill-formed sequence becomes U+FFFD) with `.invalidUTF8` added to `flags`. Writes exactly
    /// what `append(_:resourceIndex:)` writes for the equivalent `LogRecord`, without building
    /// one. Returns false when the body was repaired.
    @discardableResult
    public mutating func append(
        timestamp: Int64, observedTimestamp: Int64, stream: LogStream, flags: RecordFlags,
        body: UnsafeRawBufferPointer, resourceIndex: Int, position: RecordPosition? = nil
    ) -> Bool {
        positions.append(position)
        let valid = Self.isValidUTF8(body)
        var flags = flags
        if !valid { flags.insert(.invalidUTF8) }
        records.writeZigZag(timestamp)
        records.writeZigZag(observedTimestamp)
        records.writeVarint(UInt64(resourceIndex))
        records.writeByte(stream.rawValue)
        records.writeByte(0)  // no severity
        records.writeVarint(UInt64(flags.rawValue))
        records.writeByte(0)  // no trace or span id
        if valid {
            records.writeLengthPrefixed(body)
        } else {
            records.writeString(String(decoding: body, as: UTF8.self))
        }
        records.writeByte(0)  // no attributes
        recordCount += 1
        return valid
    }

    /// Whether `bytes` is well-formed UTF-8 (the definition `String(validating:as:)` uses:
    /// no overlong forms, surrogates or scalars above U+10FFFF). ASCII runs go 8 bytes at a time.
    public static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let raw = bytes.baseAddress else { return true }
        let p = raw.assumingMemoryBound(to: UInt8.self)
        let n = bytes.count
        var i = 0
        while i < n {
            if i &+ 8 <= n {
                let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    i &+= 8
                    continue
                }
            }
            let b0 = p[i]
            if b0 < 0x80 {
                i &+= 1
                continue
            }
            if b0 < 0xC2 { return false }
            if b0 < 0xE0 {
                guard i &+ 1 < n, p[i &+ 1] & 0xC0 == 0x80 else { return false }
                i &+= 2
                continue
            }
            if b0 < 0xF0 {
                guard i &+ 2 < n else { return false }
                let b1 = p[i &+ 1]
                switch b0 {
                case 0xE0: guard b1 >= 0xA0 && b1 <= 0xBF else { return false }
                case 0xED: guard b1 >= 0x80 && b1 <= 0x9F else { return false }
                default: guard b1 & 0xC0 == 0x80 else { return false }
                }
                guard p[i &+ 2] & 0xC0 == 0x80 else { return false }
                i &+= 3
                continue
            }
            if b0 < 0xF5 {
                guard i &+ 3 < n else { return false }
                let b1 = p[i &+ 1]
                switch b0 {
                case 0xF0: guard b1 >= 0x90 && b1 <= 0xBF else { return false }
                case 0xF4: guard b1 >= 0x80 && b1 <= 0x8F else { return false }
                default: guard b1 & 0xC0 == 0x80 else { return false }
                }
                guard p[i &+ 2] & 0xC0 == 0x80, p[i &+ 3] & 0xC0 == 0x80 else { return false }
                i &+= 4
                continue
            }
            return false
        }
        return true
    }

    /// The uncompressed payload: resource table, then records.
    public func payload() -> [UInt8] {
        var out = ByteWriter(capacity: payloadBytes + 16)
        out.writeVarint(UInt64(resourceCount))
        out.writeBytes(resourceTable.bytes)
        out.writeBytes(records.bytes)
        if positions.hasPositions { positions.write(into: &out) }
        return out.bytes
    }

    /// The header flags the payload needs.
    public var flags: UInt16 { positions.hasPositions ? WireFormat.positionsFlag : 0 }

    /// Seals the batch: compresses the payload and frames it with the header.
    public func encode(id: BatchID, codec: CompressionCodec, level: Int = 3) throws -> [UInt8] {
        try encode(id: id, compressor: BatchCompressor(codec: codec, level: level))
    }

    /// Seals the batch with a compressor kept across batches (the agent's hot path: creating
    /// a zstd context allocates and clears megabytes of tables).
    public func encode(id: BatchID, compressor: BatchCompressor) throws -> [UInt8] {
        try WireBatch.frame(payload: payload(), recordCount: recordCount, id: id, flags: flags, compressor: compressor)
    }

    public mutating func reset() {
        records.removeAll()
        resourceTable.removeAll()
        resourceIndexBySource.removeAll(keepingCapacity: true)
        positions.reset()
        resourceCount = 0
        recordCount = 0
    }
}

/// A decoded batch.
public struct WireBatch: Sendable {
    public var id: BatchID
    public var codec: CompressionCodec
    public var records: [LogRecord]
    /// One per record when the frame has a positions section (nil for a record without one),
    /// else empty.
    public var positions: [RecordPosition?] = []

    public struct Header: Sendable, Equatable {
        public var version: UInt8
        public var flags: UInt16
        public var codec: CompressionCodec
        public var id: BatchID
        public var recordCount: Int
        public var payloadBytes: Int
        public var checksum: UInt32
        public var compressedBytes: Int
    }

    static func frame(payload: [UInt8], recordCount: Int, id: BatchID, flags: UInt16, compressor: BatchCompressor) throws
        -> [UInt8]
    {
        let codec = compressor.codec
        let compressed = try compressor.compress(payload)
        var out = ByteWriter(capacity: WireFormat.headerSize + compressed.count)
        out.writeBytes(WireFormat.magic)
        out.writeByte(WireFormat.version)
        out.writeByte(codec.rawValue)
        out.writeUInt16(flags)
        out.writeBytes(id.bytes)
        out.writeUInt32(UInt32(recordCount))
        out.writeUInt32(UInt32(payload.count))
        out.writeUInt32(payload.withUnsafeBytes { crc32c($0) })
        out.writeUInt32(UInt32(compressed.count))
        out.writeBytes(compressed)
        return out.bytes
    }

    /// Reads only the fixed header: enough to learn the batch id without decompressing.
    public static func header(of frame: [UInt8]) throws -> Header {
        guard frame.count >= WireFormat.headerSize else {
            throw WireError("batch is \(frame.count) bytes, shorter than the \(WireFormat.headerSize)-byte header")
        }
        guard Array(frame[0..<4]) == WireFormat.magic else {
            throw WireError("batch does not start with the magic 'STRB' (is it a Strata batch?)")
        }
        var reader = ByteReader(frame, context: "batch header")
        _ = try reader.readBytes(4)
        let version = try reader.readByte()
        guard version == WireFormat.version else {
            throw WireError("batch format version \(version) is not supported (this build reads version \(WireFormat.version))")
        }
        let codecByte = try reader.readByte()
        guard let codec = CompressionCodec(rawValue: codecByte) else {
            throw WireError("batch names unknown compression codec \(codecByte)")
        }
        let flags = try reader.readUInt16()
        guard flags & ~WireFormat.knownFlags == 0 else {
            throw WireError(
                "batch header has flags 0x\(String(flags, radix: 16)) this build does not know (it reads 0x\(String(WireFormat.knownFlags, radix: 16))); upgrade the collector"
            )
        }
        guard let id = BatchID(bytes: try reader.readBytes(16)) else { throw WireError("batch id is unreadable") }
        let recordCount = Int(try reader.readUInt32())
        let payloadBytes = Int(try reader.readUInt32())
        let checksum = try reader.readUInt32()
        let compressedBytes = Int(try reader.readUInt32())
        guard payloadBytes <= WireFormat.maxPayloadBytes else {
            throw WireError("batch claims a \(payloadBytes)-byte payload, above the \(WireFormat.maxPayloadBytes)-byte limit")
        }
        guard compressedBytes == frame.count - WireFormat.headerSize else {
            throw WireError(
                "batch header says \(compressedBytes) compressed bytes follow but \(frame.count - WireFormat.headerSize) do (truncated upload?)"
            )
        }
        return Header(
            version: version, flags: flags, codec: codec, id: id, recordCount: recordCount, payloadBytes: payloadBytes,
            checksum: checksum, compressedBytes: compressedBytes)
    }

    /// Decodes and verifies a framed batch. Throws a `WireError` naming the problem; never traps.
    /// `admit` is handed to the decompressor (a caller's memory budget); when it refuses, the
    /// decompressor's `CompressionError` of kind `.outputRefused` is thrown as is.
    public static func decode(_ frame: [UInt8], admit: ((Int) -> Bool)? = nil) throws -> WireBatch {
        let header = try header(of: frame)
        let payload: [UInt8]
        do {
            // Decompressed from the frame in place: no copy of the compressed bytes.
            payload = try frame.withUnsafeBytes { bytes in
                try header.codec.decompress(
                    UnsafeRawBufferPointer(rebasing: bytes[WireFormat.headerSize...]), maxOutputSize: header.payloadBytes,
                    admit: admit)
            }
        } catch let error as CompressionError where error.kind == .outputRefused {
            throw error
        } catch {
            throw WireError("batch payload could not be decompressed: \(error)")
        }
        guard payload.count == header.payloadBytes else {
            throw WireError("batch payload is \(payload.count) bytes, header says \(header.payloadBytes)")
        }
        guard payload.withUnsafeBytes({ crc32c($0) }) == header.checksum else {
            throw WireError("batch payload fails its CRC-32C checksum (corrupted in transit?)")
        }
        let (records, positions) = try decodePayload(
            payload, expectedRecords: header.recordCount,
            hasPositions: header.flags & WireFormat.positionsFlag != 0)
        return WireBatch(id: header.id, codec: header.codec, records: records, positions: positions)
    }

    static func decodePayload(_ payload: [UInt8], expectedRecords: Int, hasPositions: Bool) throws
        -> (records: [LogRecord], positions: [RecordPosition?])
    {
        var reader = ByteReader(payload, context: "batch payload")
        do {
            let resourceCount = try reader.readCount(limit: reader.remaining, what: "a resource count")
            var resources: [Resource] = []
            resources.reserveCapacity(resourceCount)
            for _ in 0..<resourceCount {
                let count = try reader.readCount(limit: reader.remaining, what: "an attribute count")
                var attributes: [Attribute] = []
                attributes.reserveCapacity(count)
                for _ in 0..<count { attributes.append(Attribute(try reader.readString(), try reader.readString())) }
                resources.append(Resource(attributes: attributes))
            }
            var records: [LogRecord] = []
            records.reserveCapacity(min(expectedRecords, reader.remaining / 8))
            for _ in 0..<expectedRecords {
                let timestamp = try reader.readZigZag()
                let observed = try reader.readZigZag()
                let resourceIndex = try reader.readCount(limit: Int.max, what: "a resource index")
                guard resourceIndex < resources.count else {
                    throw WireError("record \(records.count) refers to resource \(resourceIndex) of \(resources.count)")
                }
                let streamByte = try reader.readByte()
                guard let stream = LogStream(rawValue: streamByte) else {
                    throw WireError("record \(records.count) has unknown stream \(streamByte)")
                }
                let severityByte = try reader.readByte()
                let severity = severityByte == 0 ? nil : Severity(number: Int(severityByte))
                let flags = RecordFlags(rawValue: UInt32(truncatingIfNeeded: try reader.readVarint()))
                let presence = try reader.readByte()
                var traceID: TraceID?
                var spanID: SpanID?
                if presence & 1 != 0 { traceID = TraceID(high: try reader.readUInt64(), low: try reader.readUInt64()) }
                if presence & 2 != 0 { spanID = SpanID(try reader.readUInt64()) }
                let body = try reader.readString()
                let attributeCount = try reader.readCount(limit: reader.remaining, what: "an attribute count")
                var attributes: [Attribute] = []
                attributes.reserveCapacity(attributeCount)
                for _ in 0..<attributeCount {
                    attributes.append(Attribute(try reader.readString(), try reader.readString()))
                }
                records.append(
                    LogRecord(
                        timestamp: timestamp, observedTimestamp: observed, stream: stream, severity: severity,
                        body: body, traceID: traceID, spanID: spanID, attributes: attributes,
                        resource: resources[resourceIndex], flags: flags))
            }
            let positions =
                hasPositions ? try PositionsWriter.read(from: &reader, recordCount: expectedRecords) : []
            guard reader.isAtEnd else {
                throw WireError("batch payload has \(reader.remaining) bytes after its \(expectedRecords) records")
            }
            return (records, positions)
        } catch let error as ByteReader.Truncated {
            throw WireError(error.description)
        }
    }
}

/// Compresses batch payloads with contexts reused from one batch to the next. Not thread-safe:
/// one per writer.
public final class BatchCompressor {
    public let codec: CompressionCodec
    private let zstd: ZstdCompressor?
    private let lz4: LZ4FrameCompressor?

    /// `level` is zstd's (1...19); lz4 always uses its fast mode, since LZ4F levels above 2
    /// switch to the much slower high-compression algorithm.
    public init(codec: CompressionCodec, level: Int) throws {
        self.codec = codec
        zstd = codec == .zstd ? try ZstdCompressor(level: level) : nil
        lz4 = codec == .lz4 ? try LZ4FrameCompressor(level: 0) : nil
    }

    public func compress(_ payload: [UInt8]) throws -> [UInt8] {
        if let zstd { return try zstd.compress(payload) }
        if let lz4 { return try lz4.compress(payload) }
        return payload
    }
}
