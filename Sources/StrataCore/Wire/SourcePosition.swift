/// Where a record came from, precisely enough that a receiver can tell a record it stored from
/// a new one after the sender restarted and re-read its input (docs/WIRE.md, "Positions").
///
/// A source is one line sequence of one file on one node: the agent assembles stdout and stderr
/// of a container log file independently, and each of them is read in file order.
public struct FileSource: Sendable, Hashable, CustomStringConvertible {
    /// The node the file is on (device and inode numbers are only unique on one machine).
    public var node: String
    public var device: UInt64
    public var inode: UInt64
    /// CRC-32C of the file's first line (at most its first 256 bytes) and how many bytes it
    /// covers: with the inode, it tells a file from a later one that reuses the inode, and a
    /// file from its own content after a copytruncate rotation.
    public var headChecksum: UInt32
    public var headLength: UInt32
    /// 0 stdout (with envelope errors), 1 stderr: the agent's checkpoint sequences.
    public var sequence: UInt8

    public init(node: String, device: UInt64, inode: UInt64, headChecksum: UInt32, headLength: UInt32, sequence: UInt8) {
        self.node = node
        self.device = device
        self.inode = inode
        self.headChecksum = headChecksum
        self.headLength = headLength
        self.sequence = sequence
    }

    public var description: String {
        "\(node):\(device):\(inode):\(String(headChecksum, radix: 16))/\(headLength):\(sequence == 1 ? "stderr" : "stdout")"
    }
}

/// A record's place in its source: the file offset just after the last line that contributed
/// bytes to it, and which piece it is among the records ending at that offset (a line longer than
/// the record size cap becomes several records). Records of one source are sent in increasing
/// order of this value, and re-reading a file from a line boundary gives every record the same
/// value again.
public struct SourceOffset: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var end: UInt64
    public var piece: UInt32

    public init(end: UInt64, piece: UInt32 = 0) {
        self.end = end
        self.piece = piece
    }

    public static func < (a: SourceOffset, b: SourceOffset) -> Bool {
        a.end != b.end ? a.end < b.end : a.piece < b.piece
    }

    public var description: String { piece == 0 ? "\(end)" : "\(end)#\(piece)" }
}

public struct RecordPosition: Sendable, Hashable {
    public var source: FileSource
    public var offset: SourceOffset

    public init(source: FileSource, offset: SourceOffset) {
        self.source = source
        self.offset = offset
    }
}

/// The positions section of a batch payload: a table of sources, then one entry per record.
/// Interns sources the way `BatchEncoder` interns resources.
struct PositionsWriter {
    private(set) var sources = ByteWriter(capacity: 256)
    private(set) var entries = ByteWriter(capacity: 4096)
    private var indexBySource: [FileSource: Int] = [:]
    /// Records come in runs from one source: the last one saves hashing the source (and its
    /// node name) per record.
    private var lastSource: (source: FileSource, index: Int)?
    private(set) var sourceCount = 0
    /// Whether any record so far has a position: without one the section is left out.
    private(set) var hasPositions = false

    var byteCount: Int { sources.count + entries.count }

    mutating func append(_ position: RecordPosition?) {
        guard let position else {
            entries.writeVarint(0)
            return
        }
        hasPositions = true
        let index: Int
        if let last = lastSource, last.source == position.source {
            index = last.index
        } else if let known = indexBySource[position.source] {
            index = known
        } else {
            index = sourceCount
            indexBySource[position.source] = index
            sourceCount += 1
            sources.writeString(position.source.node)
            sources.writeVarint(position.source.device)
            sources.writeVarint(position.source.inode)
            sources.writeUInt32(position.source.headChecksum)
            sources.writeVarint(UInt64(position.source.headLength))
            sources.writeByte(position.source.sequence)
        }
        lastSource = (position.source, index)
        entries.writeVarint(UInt64(index) + 1)
        entries.writeVarint(position.offset.end)
        entries.writeVarint(UInt64(position.offset.piece))
    }

    func write(into out: inout ByteWriter) {
        out.writeVarint(UInt64(sourceCount))
        out.writeBytes(sources.bytes)
        out.writeBytes(entries.bytes)
    }

    mutating func reset() {
        sources.removeAll()
        entries.removeAll()
        indexBySource.removeAll(keepingCapacity: true)
        lastSource = nil
        sourceCount = 0
        hasPositions = false
    }

    /// Reads the section written by `write(into:)` for `recordCount` records.
    static func read(from reader: inout ByteReader, recordCount: Int) throws -> [RecordPosition?] {
        let sourceCount = try reader.readCount(limit: reader.remaining, what: "a position source count")
        var sources: [FileSource] = []
        sources.reserveCapacity(sourceCount)
        for index in 0..<sourceCount {
            let node = try reader.readString()
            let device = try reader.readVarint()
            let inode = try reader.readVarint()
            let checksum = try reader.readUInt32()
            let length = try reader.readVarint()
            guard length <= UInt64(UInt32.max) else {
                throw WireError("position source \(index) claims a \(length)-byte file head")
            }
            let sequence = try reader.readByte()
            guard sequence <= 1 else {
                throw WireError("position source \(index) names unknown sequence \(sequence) (0 stdout, 1 stderr)")
            }
            sources.append(
                FileSource(
                    node: node, device: device, inode: inode, headChecksum: checksum, headLength: UInt32(length),
                    sequence: sequence))
        }
        var positions: [RecordPosition?] = []
        positions.reserveCapacity(recordCount)
        for record in 0..<recordCount {
            let reference = try reader.readVarint()
            if reference == 0 {
                positions.append(nil)
                continue
            }
            guard reference <= UInt64(sources.count) else {
                throw WireError("record \(record) refers to position source \(reference - 1) of \(sources.count)")
            }
            let end = try reader.readVarint()
            let piece = try reader.readVarint()
            guard piece <= UInt64(UInt32.max) else {
                throw WireError("record \(record) has piece number \(piece), beyond 32 bits")
            }
            positions.append(
                RecordPosition(
                    source: sources[Int(reference - 1)], offset: SourceOffset(end: end, piece: UInt32(piece))))
        }
        return positions
    }
}
