import StrataCore

/// One record out of a `LineAssembler`: a whole log line, a joined partial line, a multiline
/// group (stack trace), or one piece of something larger than the record size cap.
public struct AssembledRecord: Sendable, Equatable {
    /// The runtime time of the first line of the record (0 for an envelope error: the caller
    /// substitutes its observed time).
    public var timestamp: Int64
    public var stream: LogStream
    /// Partial pieces concatenated; the lines of a multiline group joined with `\n`.
    public var body: [UInt8]
    /// `.partial`, `.truncated`, `.multiline`, `.parseError`, `.flushedByTimeout` as they apply.
    public var flags: RecordFlags
    /// Delivering this record (and every record emitted before it) delivers every line of
    /// `checkpoint.sequence` starting before `checkpoint.offset`. nil for a piece of a line
    /// split by the size cap that is not the line's last piece: the offset must not move into
    /// the middle of a line.
    public var checkpoint: StreamCheckpoint?
    /// The same promise for the other sequence, computed when the record was emitted: the start
    /// of that sequence's oldest line still held in the assembler, or the end of everything read
    /// so far when it holds none. Lets a file that only ever writes stdout advance its stderr
    /// offset too, so a restart does not re-read (and skip) the whole file. Always set.
    public var peerCheckpoint: StreamCheckpoint?

    public init(
        timestamp: Int64, stream: LogStream, body: [UInt8], flags: RecordFlags = [],
        checkpoint: StreamCheckpoint? = nil, peerCheckpoint: StreamCheckpoint? = nil
    ) {
        self.timestamp = timestamp
        self.stream = stream
        self.body = body
        self.flags = flags
        self.checkpoint = checkpoint
        self.peerCheckpoint = peerCheckpoint
    }
}

/// The two independently assembled (and checkpointed) line sequences of a container log file.
public enum CheckpointSequence: Int, Sendable, Hashable, CaseIterable {
    case stdout = 0
    case stderr = 1

    /// stderr lines form the stderr sequence; stdout and `.unknown` (envelope errors) the stdout one.
    @inline(__always)
    public init(stream: LogStream) {
        self = stream == .stderr ? .stderr : .stdout
    }

    /// The sequence a decoded line belongs to.
    @inline(__always)
    public init(entry: RuntimeEntry) {
        self = !entry.envelopeError && entry.stream == .stderr ? .stderr : .stdout
    }

    public var other: CheckpointSequence { self == .stdout ? .stderr : .stdout }
}

public struct StreamCheckpoint: Sendable, Hashable {
    public var sequence: CheckpointSequence
    /// Every line of `sequence` that starts before this file offset is covered.
    public var offset: Int64

    public init(sequence: CheckpointSequence, offset: Int64) {
        self.sequence = sequence
        self.offset = offset
    }
}

/// Where to pick a file up again after a restart, from the stored per-sequence offsets.
///
/// Read from `readOffset` (the smaller offset), decode each line, and drop the lines for which
/// `shouldSkip` says so (they were delivered before); feed the rest to a fresh `LineAssembler`.
public struct ResumePoint: Sendable, Hashable {
    public var stdoutOffset: Int64
    public var stderrOffset: Int64

    public init(stdoutOffset: Int64 = 0, stderrOffset: Int64 = 0) {
        self.stdoutOffset = stdoutOffset
        self.stderrOffset = stderrOffset
    }

    /// The file offset to start reading at.
    public var readOffset: Int64 { min(stdoutOffset, stderrOffset) }

    public func offset(for sequence: CheckpointSequence) -> Int64 {
        sequence == .stdout ? stdoutOffset : stderrOffset
    }

    /// Whether a line of `sequence` starting at `lineStart` was already delivered.
    @inline(__always)
    public func shouldSkip(lineStart: Int64, sequence: CheckpointSequence) -> Bool {
        lineStart < offset(for: sequence)
    }

    /// Whether the decoded line starting at `lineStart` was already delivered (envelope errors
    /// belong to the stdout sequence).
    @inline(__always)
    public func shouldSkip(lineStart: Int64, entry: RuntimeEntry) -> Bool {
        shouldSkip(lineStart: lineStart, sequence: CheckpointSequence(entry: entry))
    }

    /// Moves the offset of the checkpoint's sequence forward (never back).
    public mutating func advance(to checkpoint: StreamCheckpoint) {
        switch checkpoint.sequence {
        case .stdout: stdoutOffset = max(stdoutOffset, checkpoint.offset)
        case .stderr: stderrOffset = max(stderrOffset, checkpoint.offset)
        }
    }

    /// Applies both checkpoints of a delivered record.
    public mutating func advance(past record: AssembledRecord) {
        if let checkpoint = record.checkpoint { advance(to: checkpoint) }
        if let checkpoint = record.peerCheckpoint { advance(to: checkpoint) }
    }
}
