#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// Batches waiting on disk while the receiver is unreachable, replayed in order.
///
/// One file per batch, named `<sequence>.spool` so directory order is delivery order. A file is
/// written to a temporary name, fsynced, renamed and the directory fsynced, so a crash leaves
/// either the whole batch or nothing. File layout (little endian):
/// `"STSP"` · version u8 · position count varint · positions · wire frame.
/// A spooled batch keeps its id, so a batch that was delivered but not acknowledged before a
/// crash is recognised by the collector when it is sent again.
public final class Spool: @unchecked Sendable {
    public let directory: String
    public let maxBytes: Int64
    private var entries: [Entry] = []
    private var nextSequence: UInt64 = 1
    public private(set) var totalBytes: Int64 = 0

    public struct Entry: Sendable {
        public var sequence: UInt64
        public var path: String
        public var bytes: Int64
    }

    public init(directory: String, maxBytes: Int64) throws {
        self.directory = directory
        self.maxBytes = maxBytes
        try FileSystem.makeDirectory(directory)
        for name in try FileSystem.listDirectory(directory).sorted() {
            let path = directory + "/" + name
            if name.hasSuffix(".tmp") {
                unlink(path)  // an interrupted write: the batch was never acknowledged as spooled
                continue
            }
            guard name.hasSuffix(".spool"), let sequence = UInt64(name.dropLast(6)) else { continue }
            let size = FileSystem.size(path) ?? 0
            entries.append(Entry(sequence: sequence, path: path, bytes: size))
            totalBytes += size
            nextSequence = max(nextSequence, sequence + 1)
        }
        entries.sort { $0.sequence < $1.sequence }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var oldest: Entry? { entries.first }

    public func hasRoom(for bytes: Int) -> Bool { totalBytes + Int64(bytes) <= maxBytes || entries.isEmpty }

    static func fileBytes(_ batch: SealedBatch) -> [UInt8] {
        var writer = ByteWriter(capacity: batch.frame.count + 64 * batch.positions.count + 16)
        writer.writeBytes(Array("STSP".utf8))
        writer.writeByte(1)
        writer.writeVarint(UInt64(batch.positions.count))
        for position in batch.positions { position.encode(into: &writer) }
        writer.writeBytes(batch.frame)
        return writer.bytes
    }

    public func append(_ batch: SealedBatch) throws {
        let bytes = Self.fileBytes(batch)
        let sequence = nextSequence
        let path = directory + "/" + FileSystem.numberedName(sequence, digits: 20) + ".spool"
        try FileSystem.writeDurably(bytes, to: path)
        nextSequence += 1
        entries.append(Entry(sequence: sequence, path: path, bytes: Int64(bytes.count)))
        totalBytes += Int64(bytes.count)
    }

    public func read(_ entry: Entry) throws -> SealedBatch {
        let bytes = try FileSystem.readFile(entry.path)
        var reader = ByteReader(bytes, context: "spool file \(entry.path)")
        do {
            guard try Array(reader.readBytes(4)) == Array("STSP".utf8), try reader.readByte() == 1 else {
                throw WireError("spool file \(entry.path) has an unknown header")
            }
            let count = try reader.readCount(limit: reader.remaining, what: "a position count")
            var positions: [FilePosition] = []
            for _ in 0..<count { positions.append(try FilePosition.decode(from: &reader)) }
            let frame = Array(try reader.readBytes(reader.remaining))
            let id: BatchID
            var recordCount = 0
            var payloadBytes = frame.count
            if let header = try? WireBatch.header(of: frame) {
                id = header.id
                recordCount = header.recordCount
                payloadBytes = header.payloadBytes
            } else {
                id = BatchID(high: 0, low: entry.sequence)  // JSON-lines frames (stdout sink) carry no id
            }
            return SealedBatch(
                id: id, frame: frame, recordCount: recordCount, payloadBytes: payloadBytes, positions: positions)
        } catch let error as ByteReader.Truncated {
            throw WireError(error.description)
        }
    }

    /// Positions of every spooled batch: on start-up these count as read, since the data is
    /// safe in the spool.
    public func spooledPositions() -> [FilePosition] {
        entries.flatMap { (try? read($0).positions) ?? [] }
    }

    /// Replaces a spooled batch by a data-less marker that keeps its positions (drop_oldest).
    func replaceWithMarker(_ entry: Entry, _ batch: SealedBatch) throws {
        var marker = batch
        marker.frame = []
        let bytes = Self.fileBytes(marker)
        try FileSystem.writeDurably(bytes, to: entry.path)
        guard let index = entries.firstIndex(where: { $0.sequence == entry.sequence }) else { return }
        totalBytes += Int64(bytes.count) - entries[index].bytes
        entries[index].bytes = Int64(bytes.count)
    }

    public func remove(_ entry: Entry) {
        unlink(entry.path)
        entries.removeAll { $0.sequence == entry.sequence }
        totalBytes -= entry.bytes
    }

    /// Moves an unreadable spool file aside so it neither blocks delivery nor disappears.
    public func quarantine(_ entry: Entry) {
        rename(entry.path, entry.path + ".corrupt")
        entries.removeAll { $0.sequence == entry.sequence }
        totalBytes -= entry.bytes
    }
}

/// Batches the receiver refused permanently (a 4xx other than 408/429): kept on disk with the
/// receiver's message so an operator can fix the cause and replay them. Never retried.
public struct DeadLetterDirectory: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileSystem.makeDirectory(directory)
    }

    @discardableResult
    public func store(_ batch: SealedBatch, status: Int, message: String, now: Int64 = WallClock.nowNanos()) throws -> String {
        let base = directory + "/" + String(now) + "-" + batch.id.description
        try FileSystem.writeDurably(batch.frame, to: base + ".batch")
        var json = JSONWriter()
        json.raw("{\"batch_id\":")
        json.string(batch.id.description)
        json.raw(",\"status\":")
        json.integer(status)
        json.raw(",\"message\":")
        json.string(message)
        json.raw(",\"records\":")
        json.integer(batch.recordCount)
        json.raw(",\"rejected_at\":")
        json.string(RFC3339.format(nanos: now))
        json.raw("}\n")
        try FileSystem.writeDurably(json.bytes, to: base + ".json")
        return base + ".batch"
    }
}
