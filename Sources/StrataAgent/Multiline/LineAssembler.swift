import StrataCore

/// Turns the decoded lines of one container log file into records: joins partial lines,
/// groups stack traces (built-in rules or a user start pattern), caps record size, and
/// attaches the checkpoints that make restarts lose nothing.
///
/// stdout and stderr are assembled independently, each as its own *sequence* with its own
/// checkpoint offset; envelope errors belong to the stdout sequence. Records of one sequence
/// come out in file order; records of different sequences may come out of file order (a
/// stderr line can be emitted while an older stdout group is still pending).
///
/// Records are held back while they could still grow: a partial line until its last piece
/// arrives, a line until the next line of its stream shows whether it continues it. The
/// caller calls `flushExpired(now:)` at `oldestPendingDeadline` to emit what stopped growing
/// and `flushAll` when the file is closed. With no multiline rule configured, whole lines are
/// emitted at once.
///
/// Flags:
/// - `.multiline`: the record holds more than one line.
/// - `.partial`: a partial line emitted before its last piece arrived (timeout, shutdown, or a
///   corrupt line in between).
/// - `.truncated`: one piece of something longer than `maxRecordBytes`: pieces of a long line
///   (cut at a UTF-8 character boundary when there is one within 3 bytes), or both sides of
///   a multiline group split because the next line did not fit.
/// - `.parseError`: the raw line of an envelope error, always a record of its own.
/// - `.flushedByTimeout`: emitted by `flushExpired` or `flushAll` while it could still have
///   grown: a partial line, a group of several lines, or a single line that opens a trace
///   (`panic: ...`, `Traceback ...`, an exception header). A lone ordinary line emitted by
///   the timeout is complete and not flagged.
///
/// Checkpoints: a record's `checkpoint` is the end offset of its last line (nil on every piece
/// of a cut line but the last); `peerCheckpoint` covers the other sequence (see
/// `AssembledRecord`).
public struct LineAssembler: Sendable {
    public let configuration: AssemblyConfiguration
    private let context: Context
    /// The user start pattern, kept out of `context` so that passing the context around
    /// copies no reference.
    private let pattern: (any LinePredicate)?
    private var stdout = StreamState(sequence: .stdout)
    private var stderr = StreamState(sequence: .stderr)
    /// The end of the furthest line appended.
    private var readPosition: Int64 = 0

    public init(configuration: AssemblyConfiguration = AssemblyConfiguration()) {
        self.configuration = configuration
        let rules = MultilineRules.Rules(configuration.builtinRules)
        pattern = configuration.startPattern
        context = Context(
            cap: max(4, configuration.maxRecordBytes),
            timeout: configuration.flushTimeoutNanos,
            rules: rules,
            hasPattern: configuration.startPattern != nil,
            grouping: configuration.startPattern != nil || !rules.isEmpty)
    }

    /// Adds one decoded line that occupies `lineStart..<lineEnd` of the file (`lineEnd` is
    /// after its `\n`). `now` is the arrival time on the caller's timeout clock.
    public mutating func append(
        _ entry: RuntimeEntry, lineStart: Int64, lineEnd: Int64, now: Int64, emit: (AssembledRecord) -> Void
    ) {
        entry.content.withUnsafeBytes { content in
            let raw = RawRuntimeEntry(
                time: entry.time, stream: entry.stream, isPartial: entry.isPartial, content: content,
                envelopeError: entry.envelopeError)
            append(raw, lineStart: lineStart, lineEnd: lineEnd, now: now) { emit($0.record) }
        }
    }

    /// `append` for a borrowed entry, emitting borrowed records (valid only during the call).
    @inline(__always)
    mutating func append(
        _ entry: RawRuntimeEntry, lineStart: Int64, lineEnd: Int64, now: Int64, emit: (AssembledView) -> Void
    ) {
        if lineEnd > readPosition { readPosition = lineEnd }
        if !entry.envelopeError && entry.stream == .stderr {
            let peer = peerCheckpoint(stdout)
            stderr.append(entry, lineStart: lineStart, lineEnd: lineEnd, now: now, context, pattern, peer, emit)
        } else {
            let peer = peerCheckpoint(stderr)
            stdout.append(entry, lineStart: lineStart, lineEnd: lineEnd, now: now, context, pattern, peer, emit)
        }
    }

    /// Emits the groups and partial lines whose last line arrived `flushTimeoutNanos` or more
    /// before `now`.
    public mutating func flushExpired(now: Int64, emit: (AssembledRecord) -> Void) {
        flushExpiredViews(now: now) { emit($0.record) }
    }

    /// `flushExpired` emitting borrowed records.
    mutating func flushExpiredViews(now: Int64, emit: (AssembledView) -> Void) {
        stdout.flushExpired(now: now, context, peerCheckpoint(stderr), emit)
        stderr.flushExpired(now: now, context, peerCheckpoint(stdout), emit)
    }

    /// Emits everything pending (shutdown, or the file was drained and closed).
    public mutating func flushAll(emit: (AssembledRecord) -> Void) {
        flushAllViews { emit($0.record) }
    }

    /// `flushAll` emitting borrowed records.
    mutating func flushAllViews(emit: (AssembledView) -> Void) {
        stdout.flushAll(context, peerCheckpoint(stderr), emit)
        stderr.flushAll(context, peerCheckpoint(stdout), emit)
    }

    /// When `flushExpired` next has something to do; nil when nothing is pending.
    public var oldestPendingDeadline: Int64? {
        switch (stdout.deadline(context.timeout), stderr.deadline(context.timeout)) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }

    public var hasPending: Bool { stdout.hasPending || stderr.hasPending }

    /// Releases buffer space nothing pending needs; called when the file has been read to its
    /// end, so a burst keeps its buffers and an idle file costs little memory.
    public mutating func compactBuffers() {
        stdout.compactBuffers()
        stderr.compactBuffers()
    }

    /// The position that is safe to store once every record emitted so far is delivered:
    /// per sequence, the start of its oldest line still held here, or the end of what was read.
    public var resumePoint: ResumePoint {
        ResumePoint(
            stdoutOffset: stdout.oldestPendingStart ?? readPosition,
            stderrOffset: stderr.oldestPendingStart ?? readPosition)
    }

    @inline(__always)
    private func peerCheckpoint(_ state: StreamState) -> StreamCheckpoint {
        StreamCheckpoint(sequence: state.sequence, offset: state.oldestPendingStart ?? readPosition)
    }
}

/// An `AssembledRecord` whose body is borrowed: valid only during the `emit` call.
struct AssembledView {
    var timestamp: Int64
    var stream: LogStream
    var body: UnsafeRawBufferPointer
    var flags: RecordFlags
    var checkpoint: StreamCheckpoint?
    var peerCheckpoint: StreamCheckpoint?
    /// The file offset after the last line that gave bytes to this record (for a piece of a cut
    /// line, the end of the line read when it was cut): with the piece number, the record's
    /// position on the wire (`SourceOffset`).
    var end: Int64

    var record: AssembledRecord {
        AssembledRecord(
            timestamp: timestamp, stream: stream, body: [UInt8](body), flags: flags, checkpoint: checkpoint,
            peerCheckpoint: peerCheckpoint)
    }
}

extension LineAssembler {
    /// Trivially copyable: no reference counting when it is passed along.
    struct Context: Sendable {
        let cap: Int
        let timeout: Int64
        let rules: MultilineRules.Rules
        let hasPattern: Bool
        /// false: every line is its own record and nothing waits for the next line.
        let grouping: Bool
    }

    /// Lines held until we know whether the next line continues them (the bytes are in
    /// `StreamState.groupBody`).
    struct PendingGroup: Sendable {
        var timestamp: Int64
        var stream: LogStream
        var firstLineStart: Int64
        var lastLineEnd: Int64
        var lastArrival: Int64
        var lineCount: Int
        var mode: MultilineRules.Mode
        var flags: RecordFlags
    }

    /// The pieces of a partial line so far (at most `cap` bytes: longer prefixes went out;
    /// the bytes are in `StreamState.partialBody`).
    struct PendingPartial: Sendable {
        var timestamp: Int64
        var stream: LogStream
        var firstLineStart: Int64
        var lastLineEnd: Int64
        var lastArrival: Int64
        /// Pieces of this line were already emitted because it outgrew the cap.
        var wasCut: Bool
    }

    /// Buffers above this capacity are released after use rather than kept for the next record.
    static let keptCapacity = 64 * 1024

    struct StreamState: Sendable {
        let sequence: CheckpointSequence
        /// Older than `partial` in the file when both are set.
        var group: PendingGroup?
        var partial: PendingPartial?
        /// The bytes of `group` and `partial`; reused from one record to the next.
        var groupBody: [UInt8] = []
        var partialBody: [UInt8] = []

        init(sequence: CheckpointSequence) { self.sequence = sequence }

        var hasPending: Bool { group != nil || partial != nil }

        /// Gives back buffer space beyond what is pending: an agent tails thousands of files,
        /// and a stream that has gone quiet should not keep the capacity of its largest record.
        mutating func compactBuffers() {
            Self.compact(&groupBody, pending: group != nil)
            Self.compact(&partialBody, pending: partial != nil)
        }

        /// A buffer holds the last record's bytes after it went out: only a pending one counts.
        private static func compact(_ buffer: inout [UInt8], pending: Bool) {
            if !pending {
                buffer = []
            } else if buffer.capacity > 2 * buffer.count + 4096 {
                buffer = Array(buffer)
            }
        }

        var oldestPendingStart: Int64? { group?.firstLineStart ?? partial?.firstLineStart }

        func deadline(_ timeout: Int64) -> Int64? {
            if let group {
                // A group keeps waiting while a partial line after it is still arriving.
                return max(group.lastArrival, partial?.lastArrival ?? .min) &+ timeout
            }
            if let partial { return partial.lastArrival &+ timeout }
            return nil
        }

        // MARK: Input

        @inline(__always)
        mutating func append(
            _ entry: RawRuntimeEntry, lineStart: Int64, lineEnd: Int64, now: Int64, _ context: Context,
            _ pattern: (any LinePredicate)?, _ peer: StreamCheckpoint, _ emit: (AssembledView) -> Void
        ) {
            if entry.envelopeError {
                // Whatever is pending is older: out first, then the raw line alone.
                flushGroup(extraFlags: [], peer, emit)
                flushPartial(extraFlags: [], peer, emit)
                emitWhole(
                    entry.content, timestamp: entry.time, stream: .unknown, flags: .parseError, lineEnd: lineEnd,
                    context, peer, emit)
                return
            }

            if partial != nil, LostContinuation.startsNewRecord(entry.content) {
                // The runtime promised a continuation, but this entry opens a new log line: the
                // rest of the partial line was lost (a capture that dropped it, a runtime that
                // died mid-write). Keep the partial as it is rather than glue two lines together.
                flushGroup(extraFlags: [], peer, emit)
                flushPartial(extraFlags: [], peer, emit)
            }

            if entry.isPartial {
                if partial == nil {
                    partial = PendingPartial(
                        timestamp: entry.time, stream: entry.stream, firstLineStart: lineStart,
                        lastLineEnd: lineEnd, lastArrival: now, wasCut: false)
                    partialBody.removeAll(keepingCapacity: true)
                } else {
                    partial!.lastLineEnd = lineEnd
                    partial!.lastArrival = now
                }
                partialBody.append(contentsOf: entry.content)
                if partialBody.count > context.cap {
                    // The line will not fit in any record: whatever is pending goes out first,
                    // then all but the last `cap` bytes of the line, as pieces.
                    flushGroup(extraFlags: [], peer, emit)
                    let p = partial!
                    partial = nil
                    var body: [UInt8] = []
                    swap(&body, &partialBody)
                    let rest = body.withUnsafeBytes {
                        LineAssembler.splitOff(
                            $0, cap: context.cap, timestamp: p.timestamp, stream: p.stream, flags: [], end: lineEnd,
                            peer, emit)
                    }
                    body.removeSubrange(0..<rest)
                    swap(&body, &partialBody)
                    partial = p
                    partial!.wasCut = true
                }
                return
            }

            // A whole line: the last piece of a partial line, or a line on its own.
            guard let p = partial else {
                addLine(
                    entry.content, timestamp: entry.time, stream: entry.stream, lineStart: lineStart, lineEnd: lineEnd,
                    now: now, wasCut: false, context, pattern, peer, emit)
                return
            }
            partial = nil
            var body: [UInt8] = []
            swap(&body, &partialBody)
            if entry.content.isEmpty {
                // A `\r\n` ending split across pieces: the decoder only strips `\r` at the end of a full line.
                if body.last == UInt8(ascii: "\r") { body.removeLast() }
            } else {
                body.append(contentsOf: entry.content)
            }
            body.withUnsafeBytes {
                addLine(
                    $0, timestamp: p.timestamp, stream: p.stream, lineStart: p.firstLineStart, lineEnd: lineEnd,
                    now: now, wasCut: p.wasCut, context, pattern, peer, emit)
            }
            if body.capacity <= LineAssembler.keptCapacity {
                body.removeAll(keepingCapacity: true)
                swap(&body, &partialBody)
            }
        }

        /// Groups one whole line.
        @inline(__always)
        private mutating func addLine(
            _ line: UnsafeRawBufferPointer, timestamp: Int64, stream: LogStream, lineStart: Int64, lineEnd: Int64,
            now: Int64, wasCut: Bool, _ context: Context, _ pattern: (any LinePredicate)?, _ peer: StreamCheckpoint,
            _ emit: (AssembledView) -> Void
        ) {
            guard context.grouping else {
                emitWhole(
                    line, timestamp: timestamp, stream: stream, flags: wasCut ? .truncated : [], lineEnd: lineEnd,
                    context, peer, emit)
                return
            }
            if wasCut {
                // The tail of a cut line: it cannot join anything, but what follows may join it.
                flushGroup(extraFlags: [], peer, emit)
                startGroup(
                    line, timestamp: timestamp, stream: stream, lineStart: lineStart, lineEnd: lineEnd, now: now,
                    mode: .plain, flags: .truncated, context, peer, emit)
                return
            }

            let decision: (continues: Bool, mode: MultilineRules.Mode)
            if context.hasPattern, let pattern {
                let starts = pattern.matches(line)
                decision = (!starts && group != nil, .user)
            } else {
                decision = MultilineRules.decide(Line(line), pending: group?.mode, rules: context.rules)
            }

            if decision.continues, group != nil {
                if groupBody.count + 1 + line.count <= context.cap {
                    groupBody.append(0x0A)
                    groupBody.append(contentsOf: line)
                    group!.lastLineEnd = lineEnd
                    group!.lastArrival = now
                    group!.lineCount += 1
                    group!.mode = decision.mode
                    return
                }
                // Does not fit: the group so far and the rest become separate pieces.
                flushGroup(extraFlags: .truncated, peer, emit)
                startGroup(
                    line, timestamp: timestamp, stream: stream, lineStart: lineStart, lineEnd: lineEnd, now: now,
                    mode: decision.mode, flags: .truncated, context, peer, emit)
                return
            }

            flushGroup(extraFlags: [], peer, emit)
            startGroup(
                line, timestamp: timestamp, stream: stream, lineStart: lineStart, lineEnd: lineEnd, now: now,
                mode: decision.mode, flags: [], context, peer, emit)
        }

        /// Called with no group pending.
        private mutating func startGroup(
            _ line: UnsafeRawBufferPointer, timestamp: Int64, stream: LogStream, lineStart: Int64, lineEnd: Int64,
            now: Int64, mode: MultilineRules.Mode, flags: RecordFlags, _ context: Context, _ peer: StreamCheckpoint,
            _ emit: (AssembledView) -> Void
        ) {
            var body = line
            var flags = flags
            if body.count > context.cap {
                let rest = LineAssembler.splitOff(
                    body, cap: context.cap, timestamp: timestamp, stream: stream, flags: flags, end: lineEnd, peer,
                    emit)
                body = UnsafeRawBufferPointer(rebasing: body[rest...])
                flags.insert(.truncated)
            }
            groupBody.removeAll(keepingCapacity: true)
            groupBody.append(contentsOf: body)
            group = PendingGroup(
                timestamp: timestamp, stream: stream, firstLineStart: lineStart, lastLineEnd: lineEnd,
                lastArrival: now, lineCount: 1, mode: mode, flags: flags)
        }

        /// Emits a line that is a record on its own right away (cut into pieces if too long).
        private func emitWhole(
            _ line: UnsafeRawBufferPointer, timestamp: Int64, stream: LogStream, flags: RecordFlags, lineEnd: Int64,
            _ context: Context, _ peer: StreamCheckpoint, _ emit: (AssembledView) -> Void
        ) {
            var body = line
            var flags = flags
            if body.count > context.cap {
                let rest = LineAssembler.splitOff(
                    body, cap: context.cap, timestamp: timestamp, stream: stream, flags: flags, end: lineEnd, peer,
                    emit)
                body = UnsafeRawBufferPointer(rebasing: body[rest...])
                flags.insert(.truncated)
            }
            emit(
                AssembledView(
                    timestamp: timestamp, stream: stream, body: body, flags: flags,
                    checkpoint: StreamCheckpoint(sequence: sequence, offset: lineEnd), peerCheckpoint: peer,
                    end: lineEnd))
        }

        // MARK: Output

        private mutating func flushGroup(
            extraFlags: RecordFlags, _ peer: StreamCheckpoint, _ emit: (AssembledView) -> Void
        ) {
            guard let g = group else { return }
            group = nil
            var flags = g.flags.union(extraFlags)
            if g.lineCount > 1 { flags.insert(.multiline) }
            let checkpoint = StreamCheckpoint(sequence: sequence, offset: g.lastLineEnd)
            groupBody.withUnsafeBytes {
                emit(
                    AssembledView(
                        timestamp: g.timestamp, stream: g.stream, body: $0, flags: flags, checkpoint: checkpoint,
                        peerCheckpoint: peer, end: g.lastLineEnd))
            }
            if groupBody.capacity > LineAssembler.keptCapacity { groupBody = [] }
        }

        private mutating func flushPartial(
            extraFlags: RecordFlags, _ peer: StreamCheckpoint, _ emit: (AssembledView) -> Void
        ) {
            guard let p = partial else { return }
            partial = nil
            var flags = extraFlags.union(.partial)
            if p.wasCut { flags.insert(.truncated) }
            let checkpoint = StreamCheckpoint(sequence: sequence, offset: p.lastLineEnd)
            partialBody.withUnsafeBytes {
                emit(
                    AssembledView(
                        timestamp: p.timestamp, stream: p.stream, body: $0, flags: flags, checkpoint: checkpoint,
                        peerCheckpoint: peer, end: p.lastLineEnd))
            }
            if partialBody.capacity > LineAssembler.keptCapacity { partialBody = [] }
        }

        private static func timeoutFlags(_ group: PendingGroup) -> RecordFlags {
            group.lineCount > 1 || group.mode.expectsContinuation ? .flushedByTimeout : []
        }

        mutating func flushExpired(
            now: Int64, _ context: Context, _ peer: StreamCheckpoint, _ emit: (AssembledView) -> Void
        ) {
            if let group, let deadline = deadline(context.timeout), now >= deadline {
                flushGroup(extraFlags: Self.timeoutFlags(group), peer, emit)
            }
            if let partial, now >= partial.lastArrival &+ context.timeout {
                flushGroup(extraFlags: [], peer, emit)
                flushPartial(extraFlags: .flushedByTimeout, peer, emit)
            }
        }

        mutating func flushAll(_ context: Context, _ peer: StreamCheckpoint, _ emit: (AssembledView) -> Void) {
            if let group { flushGroup(extraFlags: Self.timeoutFlags(group), peer, emit) }
            flushPartial(extraFlags: .flushedByTimeout, peer, emit)
        }
    }

    /// Emits leading pieces of `body` (flagged `.truncated`, no checkpoint) until at most `cap`
    /// bytes remain, and returns where the rest starts. Cuts before a UTF-8 lead byte when one
    /// is within the last 3 bytes of a piece.
    static func splitOff(
        _ body: UnsafeRawBufferPointer, cap: Int, timestamp: Int64, stream: LogStream, flags: RecordFlags, end: Int64,
        _ peer: StreamCheckpoint, _ emit: (AssembledView) -> Void
    ) -> Int {
        guard body.count > cap else { return 0 }
        var start = 0
        while body.count - start > cap {
            let limit = start + cap
            var cut = limit
            while cut > limit - 3, body[cut] & 0xC0 == 0x80 { cut -= 1 }
            if body[cut] & 0xC0 == 0x80 { cut = limit }  // not UTF-8 anyway
            emit(
                AssembledView(
                    timestamp: timestamp, stream: stream, body: UnsafeRawBufferPointer(rebasing: body[start..<cut]),
                    flags: flags.union(.truncated), checkpoint: nil, peerCheckpoint: peer, end: end))
            start = cut
        }
        return start
    }
}

/// Recognises the header of a new log line (a date or time stamp at the very start), which a
/// partial line's real continuation, cut by the runtime at an arbitrary byte, practically never
/// begins with.
enum LostContinuation {
    static func startsNewRecord(_ line: [UInt8]) -> Bool {
        line.withUnsafeBytes { startsNewRecord($0) }
    }

    static func startsNewRecord(_ b: UnsafeRawBufferPointer) -> Bool {
        do {
            func digits(_ range: Range<Int>) -> Bool {
                guard range.upperBound <= b.count else { return false }
                var i = range.lowerBound
                while i < range.upperBound {
                    if b[i] < 48 || b[i] > 57 { return false }
                    i += 1
                }
                return true
            }
            func byte(_ index: Int, _ options: StaticString) -> Bool {
                guard index < b.count else { return false }
                return options.withUTF8Buffer { $0.contains(b[index]) }
            }
            // 2026-11-21T10:00:00 / 2026-11-21 10:00:00 / 2026/11/21 10:00:00
            if digits(0..<4) && byte(4, "-/") && digits(5..<7) && byte(7, "-/") && digits(8..<10) && byte(10, "T ")
                && digits(11..<13) && byte(13, ":")
            {
                return true
            }
            // 10:00:00.123 / 10:00:00,123
            if digits(0..<2) && byte(2, ":") && digits(3..<5) && byte(5, ":") && digits(6..<8) && byte(8, ".,")
                && digits(9..<10)
            {
                return true
            }
            // klog: I1121 10:00:00.123456
            if byte(0, "IWEF") && digits(1..<5) && byte(5, " ") && digits(6..<8) && byte(8, ":") {
                return true
            }
            return false
        }
    }
}
