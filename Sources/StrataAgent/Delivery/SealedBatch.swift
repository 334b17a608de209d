import StrataCore

/// A batch ready to ship: its framed bytes plus the file positions that become durable once
/// the receiver acknowledges it.
public struct SealedBatch: Sendable {
    public var id: BatchID
    /// What is sent: a wire-format frame (docs/WIRE.md), or JSON lines for the stdout sink.
    public var frame: [UInt8]
    public var recordCount: Int
    /// Uncompressed payload bytes, for metrics.
    public var payloadBytes: Int
    public var positions: [FilePosition]

    public init(id: BatchID, frame: [UInt8], recordCount: Int, payloadBytes: Int, positions: [FilePosition]) {
        self.id = id
        self.frame = frame
        self.recordCount = recordCount
        self.payloadBytes = payloadBytes
        self.positions = positions
    }
}

extension FilePosition {
    func encode(into writer: inout ByteWriter) {
        writer.writeVarint(key.device)
        writer.writeVarint(key.inode)
        writer.writeString(path)
        writer.writeUInt32(fingerprint.checksum)
        writer.writeVarint(UInt64(fingerprint.length))
        writer.writeVarint(UInt64(generation))
        writer.writeZigZag(stdoutOffset)
        writer.writeZigZag(stderrOffset)
    }

    static func decode(from reader: inout ByteReader) throws -> FilePosition {
        let key = FileKey(device: try reader.readVarint(), inode: try reader.readVarint())
        let path = try reader.readString()
        let checksum = try reader.readUInt32()
        let length = try reader.readCount(limit: FileHeadChecksum.maxLength, what: "a fingerprint length")
        let generation = try reader.readCount(limit: Int.max, what: "a generation")
        return FilePosition(
            key: key, path: path, fingerprint: FileHeadChecksum(checksum: checksum, length: length),
            generation: generation, stdoutOffset: try reader.readZigZag(), stderrOffset: try reader.readZigZag())
    }
}
