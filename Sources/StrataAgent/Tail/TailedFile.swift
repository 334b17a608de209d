#if canImport(Glibc)
import Glibc
#endif
import Prometheus
import StrataCore

/// One open container log file: where reading stands, the incomplete last line, and the
/// multiline state of its streams.
final class TailedFile {
    enum State {
        case active
        /// Rotated away or deleted: read to the end, then closed after a quiet grace period.
        case draining(since: Int64)
    }

    let sourceID: Int
    let fd: Int32
    let key: FileKey
    let realPath: String
    var paths: Set<String>
    let resource: Resource
    var state: State = .active

    var readOffset: Int64
    /// Bytes of a line whose newline has not been read yet, and the file offset they start at.
    var lineBuffer: [UInt8] = []
    var lineBufferStart: Int64 = 0
    var format: RuntimeFormat?
    var assembler: LineAssembler
    /// Lines of a sequence that start before these offsets were delivered before a restart.
    var resume: (stdout: Int64, stderr: Int64)?
    /// Positions covering every record handed to the batch builder so far.
    var emitted: FilePosition
    var lastLineEnd: Int64
    var lastGrowth: Int64
    /// The file's size at the last read: while it is ahead of `readOffset` the reader has a
    /// backlog, and multiline groups must not time out — their continuation is already written.
    var lastSeenSize: Int64 = 0
    var dirty = false
    let lagGauge: Gauge?
    /// The file's identity on the wire per sequence (stdout, stderr), taken at its first record
    /// and again after a truncation (the content it names is gone then).
    var sources: [FileSource]?
    /// Per sequence: the end offset of the last record emitted and how many records ended there
    /// before it, which numbers the pieces of a line cut by the size cap (`SourceOffset.piece`).
    var lastRecordEnd: [Int64] = [-1, -1]
    var piecesAtEnd: [UInt32] = [0, 0]

    init(
        sourceID: Int, fd: Int32, key: FileKey, path: String, realPath: String, resource: Resource,
        position: FilePosition, assembler: LineAssembler, lagGauge: Gauge?, now: Int64
    ) {
        self.sourceID = sourceID
        self.fd = fd
        self.key = key
        self.realPath = realPath
        self.paths = [path]
        self.resource = resource
        self.emitted = position
        self.readOffset = position.resumeOffset
        self.lineBufferStart = position.resumeOffset
        self.lastLineEnd = position.resumeOffset
        if position.stdoutOffset != position.stderrOffset {
            resume = (position.stdoutOffset, position.stderrOffset)
        }
        self.assembler = assembler
        self.lagGauge = lagGauge
        self.lastGrowth = now
    }

    var hasBacklog: Bool { lastSeenSize > readOffset }

    var isDraining: Bool {
        if case .draining = state { return true }
        return false
    }

    func markDraining(now: Int64) {
        if case .active = state { state = .draining(since: now) }
    }

    /// Whether a line of `stream` starting at `start` was already delivered before a restart.
    func alreadyDelivered(start: Int64, stream: LogStream) -> Bool {
        guard let resume else { return false }
        if start >= max(resume.stdout, resume.stderr) {
            self.resume = nil
            return false
        }
        return start < (stream == .stderr ? resume.stderr : resume.stdout)
    }

    /// Where an emitted record ending at `end` stands in its source; called once per record, in
    /// emission order, which is file order within a sequence.
    func position(sequence: CheckpointSequence, end: Int64, node: String) -> RecordPosition? {
        if sources == nil {
            guard let head = FileHeadChecksum.firstLine(fd: fd) else { return nil }
            sources = [CheckpointSequence.stdout, .stderr].map {
                FileSource(
                    node: node, device: key.device, inode: key.inode, headChecksum: head.checksum,
                    headLength: UInt32(head.length), sequence: UInt8($0.rawValue))
            }
        }
        guard let sources, end >= 0 else { return nil }
        let index = sequence.rawValue
        if lastRecordEnd[index] == end {
            piecesAtEnd[index] &+= 1
        } else {
            lastRecordEnd[index] = end
            piecesAtEnd[index] = 0
        }
        return RecordPosition(source: sources[index], offset: SourceOffset(end: UInt64(end), piece: piecesAtEnd[index]))
    }

    /// After a truncation the file holds new content under the same inode: a new source.
    func forgetSource() {
        sources = nil
        lastRecordEnd = [-1, -1]
        piecesAtEnd = [0, 0]
    }

    /// Refreshes the fingerprint while the file is shorter than the fingerprint length, so
    /// later inode-reuse checks compare as many bytes as possible.
    func refreshFingerprint(size: Int64) {
        guard emitted.fingerprint.length < FileHeadChecksum.maxLength, size > Int64(emitted.fingerprint.length) else { return }
        if let fingerprint = FileHeadChecksum.read(fd: fd, length: Int(min(size, Int64(FileHeadChecksum.maxLength)))) {
            emitted.fingerprint = fingerprint
            dirty = true
        }
    }
}
