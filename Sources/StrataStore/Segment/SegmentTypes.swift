import StrataCore

/// Constants of the segment file format (docs/FORMAT.md).
public enum SegmentFormat {
    /// "STSG": at the start of the file and at its very end.
    public static let magic: [UInt8] = Array("STSG".utf8)
    /// The format version this code writes; readers accept 1...version.
    public static let version: UInt16 = 2
    /// Index terms longer than this many bytes are not indexed (queries for them must scan).
    public static let maxTermLength = 256
    /// File name extension of segments.
    public static let fileExtension = "stsg"

    static let headerSize = 8
    static let trailerSize = 8
    /// Column ids, in the order their chunks are stored in each block.
    static let columnCount = 11
}

/// The columns of a block. Each is a separately compressed chunk, so a reader decompresses
/// only what it asks for.
public struct ColumnSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let timestamp = ColumnSet(rawValue: 1 << 0)
    /// Stored relative to the timestamp, so reading it also reads `timestamp`.
    public static let observed = ColumnSet(rawValue: 1 << 1)
    public static let resource = ColumnSet(rawValue: 1 << 2)
    public static let stream = ColumnSet(rawValue: 1 << 3)
    public static let severity = ColumnSet(rawValue: 1 << 4)
    public static let flags = ColumnSet(rawValue: 1 << 5)
    public static let traceID = ColumnSet(rawValue: 1 << 6)
    public static let spanID = ColumnSet(rawValue: 1 << 7)
    public static let templateID = ColumnSet(rawValue: 1 << 8)
    public static let body = ColumnSet(rawValue: 1 << 9)
    public static let attributes = ColumnSet(rawValue: 1 << 10)

    public static let all = ColumnSet(rawValue: (1 << 11) - 1)

    /// Column id `i` (0 ..< 11) as a set.
    static func column(_ i: Int) -> ColumnSet { ColumnSet(rawValue: 1 << UInt16(i)) }

    static let names = [
        "timestamp", "observed", "resource", "stream", "severity", "flags", "trace_id", "span_id",
        "template_id", "body", "attributes",
    ]
}

/// Column ids (position of the chunk within a block).
enum ColumnID {
    static let timestamp = 0
    static let observed = 1
    static let resource = 2
    static let stream = 3
    static let severity = 4
    static let flags = 5
    static let traceID = 6
    static let spanID = 7
    static let templateID = 8
    static let body = 9
    static let attributes = 10
}

/// How segments are written.
public struct SegmentOptions: Sendable, Hashable {
    /// Codec of the column chunks and index blocks (`.none`, `.zstd`, `.lz4`).
    public var codec: CompressionCodec
    /// zstd level (or lz4 level); 3 by default.
    public var compressionLevel: Int
    /// A block holds at most this many rows...
    public var maxBlockRows: Int
    /// ...and at most about this many body bytes (a single larger body gets a block of its own).
    public var maxBlockBodyBytes: Int
    /// A term-dictionary block (front-coded and compressed together) closes after this many
    /// terms or once it holds `dictionaryBlockBytes` of uncompressed entries, whichever is first.
    public var termsPerDictionaryBlock: Int
    public var dictionaryBlockBytes: Int
    /// Whether body tokens are indexed (field terms always are).
    public var indexBody: Bool
    /// fsync the file and its directory (turn off only in tests).
    public var durable: Bool

    public init(
        codec: CompressionCodec = .zstd, compressionLevel: Int = 3, maxBlockRows: Int = 2048,
        maxBlockBodyBytes: Int = 512 * 1024, termsPerDictionaryBlock: Int = 4096, dictionaryBlockBytes: Int = 16 * 1024,
        indexBody: Bool = true, durable: Bool = true
    ) {
        self.codec = codec
        self.compressionLevel = compressionLevel
        self.maxBlockRows = maxBlockRows
        self.maxBlockBodyBytes = maxBlockBodyBytes
        self.termsPerDictionaryBlock = termsPerDictionaryBlock
        self.dictionaryBlockBytes = dictionaryBlockBytes
        self.indexBody = indexBody
        self.durable = durable
    }
}

/// Summary of a written segment (also stored in its footer).
public struct SegmentInfo: Sendable, Codable, Hashable {
    /// The file name without directory and extension.
    public var id: String
    public var path: String
    public var rowCount: Int
    /// Smallest and largest record timestamp (ns since the epoch); 0 for an empty segment.
    public var minTime: Int64
    public var maxTime: Int64
    /// Size of the file.
    public var bytes: Int
    /// Sum of the UTF-8 body bytes of all records.
    public var rawBytes: Int
    public var blockCount: Int
    public var termCount: Int
    public var resourceCount: Int
    public var formatVersion: Int

    public init(
        id: String, path: String, rowCount: Int, minTime: Int64, maxTime: Int64, bytes: Int, rawBytes: Int,
        blockCount: Int, termCount: Int, resourceCount: Int, formatVersion: Int
    ) {
        self.id = id
        self.path = path
        self.rowCount = rowCount
        self.minTime = minTime
        self.maxTime = maxTime
        self.bytes = bytes
        self.rawBytes = rawBytes
        self.blockCount = blockCount
        self.termCount = termCount
        self.resourceCount = resourceCount
        self.formatVersion = formatVersion
    }

    static func id(fromPath path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasSuffix("." + SegmentFormat.fileExtension) {
            name.removeLast(SegmentFormat.fileExtension.count + 1)
        }
        return name
    }
}

/// One entry of a posting list: `rows` rows of block `block` contain the term.
public struct Posting: Sendable, Hashable, CustomStringConvertible {
    public var block: Int
    public var rows: Int
    public init(block: Int, rows: Int) {
        self.block = block
        self.rows = rows
    }
    public var description: String { "\(block):\(rows)" }
}

/// Where one column chunk of a block lies in the file.
struct ChunkRef: Sendable, Hashable {
    /// Absolute file offset.
    var offset: Int
    /// Stored bytes (codec byte + payload); 0 = column absent (every row has the default).
    var storedLength: Int
    /// Payload length after decompression.
    var rawLength: Int
    /// CRC-32C of the stored bytes.
    var crc: UInt32
}

/// Metadata of one block, loaded when the segment is opened.
public struct BlockMeta: Sendable, Hashable {
    public var index: Int
    public var rowCount: Int
    public var minTime: Int64
    public var maxTime: Int64
    /// Range of indexes into `SegmentReader.resources` used by the block's rows.
    public var minResource: Int
    public var maxResource: Int
    /// Sum of the body bytes of the block's rows.
    public var rawBodyBytes: Int
    var chunks: [ChunkRef]

    /// File bytes the block's chunks take.
    public var storedBytes: Int { chunks.reduce(0) { $0 + $1.storedLength } }

    /// Stored bytes of one column (0 when the column is absent).
    public func storedBytes(of column: ColumnSet) -> Int {
        var total = 0
        for i in 0..<chunks.count where column.contains(.column(i)) { total += chunks[i].storedLength }
        return total
    }

    public func overlaps(from: Int64, to: Int64) -> Bool { minTime <= to && maxTime >= from }
}
