#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import StrataCore
import Synchronization

/// Reads every matched file on one dedicated thread: discovery, reading, envelope decoding,
/// multiline assembly and batching. Blocking file I/O and `poll` stay off the async executor;
/// sealed batches go to the `DeliveryQueue`, whose push blocks when delivery falls behind —
/// that is the agent's backpressure.
final class TailReader: @unchecked Sendable {
    struct Settings {
        var discovery: Discovery
        var readFromHeadAtFirstStart: Bool
        var rescanInterval: Int64
        var nodeName: String
        var assembly: AssemblyConfiguration
        var multilineRules: [(AgentConfiguration.MultilineRule, RE2Regex)]
        var batchMaxBytes: Int
        var batchMaxAge: Int64
        var once: Bool
        var readChunkBytes = 256 * 1024
        var passBytesPerFile = 4 << 20
        /// How long a rotated or deleted file must stay quiet before it is closed.
        var drainGrace: Int64 = 2_000_000_000
    }

    private let settings: Settings
    private let queue: DeliveryQueue
    private let metrics: AgentMetrics
    private var logger: Logger { metrics.logger }
    private let builder: any BatchBuilder
    private var checkpoints: [FileKey: FilePosition]
    private let inotify = Inotify()

    private var files: [FileKey: TailedFile] = [:]
    private var filesByPath: [String: TailedFile] = [:]
    private var skipped: Set<FileKey> = []
    private var nextSourceID = 0
    private var batchStartedAt: Int64?
    private var readBuffer: UnsafeMutableRawBufferPointer
    /// Where the decoders unescape a line's message; at least as long as the longest line.
    private var scratch: UnsafeMutablePointer<UInt8>
    private var scratchCapacity = 64 * 1024

    private struct StopState {
        var requested = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let stop = Mutex(StopState())

    private var pendingLines: Int64 = 0
    private var pendingBytes: Int64 = 0
    private var pendingEnvelopeErrors: Int64 = 0
    private var pendingInvalidUTF8: Int64 = 0

    init(
        settings: Settings, checkpoints: [FileKey: FilePosition], queue: DeliveryQueue, metrics: AgentMetrics,
        builder: any BatchBuilder
    ) {
        self.settings = settings
        self.checkpoints = checkpoints
        self.queue = queue
        self.metrics = metrics
        self.builder = builder
        self.readBuffer = .allocate(byteCount: settings.readChunkBytes, alignment: 16)
        self.scratch = .allocate(capacity: scratchCapacity)
    }

    deinit {
        readBuffer.deallocate()
        scratch.deallocate()
        for file in files.values { close(file.fd) }
    }

    func start() {
        let thread = Thread { [self] in
            run()
            let waiters = stop.withLock { state in
                state.finished = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = "strata-tail"
        thread.start()
    }

    /// Asks the reader to flush what it holds, seal the last batch and close the queue.
    func requestStop() {
        stop.withLock { $0.requested = true }
        inotify.wake()
    }

    private var shouldStop: Bool { stop.withLock { $0.requested } }

    func waitUntilFinished() async {
        await withCheckedContinuation { continuation in
            let finished = stop.withLock { state in
                if !state.finished { state.waiters.append(continuation) }
                return state.finished
            }
            if finished { continuation.resume() }
        }
    }

    // MARK: - The loop

    private func run() {
        for directory in settings.discovery.staticDirectories() { inotify.watch(directory: directory) }
        rescan(initial: true)
        var nextRescan = WallClock.monotonicNanos() + settings.rescanInterval
        var quietPasses = 0
        while !shouldStop {
            var now = WallClock.monotonicNanos()
            if now >= nextRescan || inotify.rescanRequested {
                inotify.clearRescanRequest()
                rescan(initial: false)
                nextRescan = now + settings.rescanInterval
            }
            let bytesRead = readAvailable()
            refreshClock()
            now = clockNow.monotonic
            closeDrainedFiles(now: now)
            flushExpiredGroups(now: now)
            if let started = batchStartedAt, now - started >= settings.batchMaxAge { seal() }
            publishCounters()
            if bytesRead > 0 {
                quietPasses = 0
                continue
            }
            if settings.once {
                // Two quiet passes with a rescan between them: every matched file is read to its end.
                quietPasses += 1
                if quietPasses >= 2 { break }
                rescan(initial: false)
                continue
            }
            inotify.wait(milliseconds: Int32(clamping: waitMilliseconds(now: now, nextRescan: nextRescan)))
        }
        shutdown()
    }

    private func waitMilliseconds(now: Int64, nextRescan: Int64) -> Int64 {
        var deadline = min(nextRescan, now + 250_000_000)
        if let started = batchStartedAt { deadline = min(deadline, started + settings.batchMaxAge) }
        for file in files.values where !file.hasBacklog {
            if let pending = file.assembler.oldestPendingDeadline { deadline = min(deadline, pending) }
        }
        return max(1, (deadline - now + 999_999) / 1_000_000)
    }

    /// Read once per chunk rather than per line: a chunk is read in well under a millisecond.
    private var clockNow = (wall: WallClock.nowNanos(), monotonic: WallClock.monotonicNanos())

    private func refreshClock() {
        clockNow = (WallClock.nowNanos(), WallClock.monotonicNanos())
    }

    private func shutdown() {
        refreshClock()
        for file in files.values {
            // --once reads files to their end, a last line without its newline included.
            if settings.once { flushLineBuffer(file, end: file.readOffset) }
            file.assembler.flushAllViews { record in emit(record, from: file) }
            advanceIdlePositions(file)
        }
        seal()
        publishCounters()
        queue.close()
    }

    // MARK: - Discovery

    private func rescan(initial: Bool) {
        let matches = settings.discovery.scan()
        var matchedPaths = Set<String>()
        for match in matches {
            matchedPaths.insert(match.path)
            guard let status = FileStatus.of(path: match.realPath), status.isRegular else { continue }
            if let file = filesByPath[match.path] {
                if file.key == status.key { continue }
                // The path leads to a new file: the old one was rotated away.
                metrics.rotations.increment()
                detach(path: match.path, from: file)
            }
            if let file = files[status.key] {
                file.paths.insert(match.path)
                filesByPath[match.path] = file
                continue
            }
            guard !skipped.contains(status.key) else { continue }
            open(match, initial: initial)
        }
        for (path, file) in filesByPath where !matchedPaths.contains(path) {
            detach(path: path, from: file)
        }
        metrics.filesTailed.record(Int64(files.count))
    }

    private func detach(path: String, from file: TailedFile) {
        filesByPath[path] = nil
        file.paths.remove(path)
        if file.paths.isEmpty { file.markDraining(now: WallClock.monotonicNanos()) }
    }

    private func open(_ match: Discovery.Match, initial: Bool) {
        let fd = Glibc.open(match.realPath, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            logger.warning("cannot open \(match.realPath): \(String(cString: strerror(errno)))")
            return
        }
        guard let status = FileStatus.of(fd: fd) else {
            close(fd)
            return
        }
        let identity = KubernetesIdentity.parse(path: match.path).merged(with: KubernetesIdentity.parse(path: match.realPath))
        let position = startPosition(fd: fd, status: status, path: match.realPath, initial: initial)
        var assembly = settings.assembly
        if let rule = settings.multilineRules.first(where: { $0.0.matches(identity) }) {
            assembly.startPattern = RegexLinePredicate(regex: rule.1)
        }
        let file = TailedFile(
            sourceID: nextSourceID, fd: fd, key: status.key, path: match.path, realPath: match.realPath,
            resource: identity.resource(node: settings.nodeName, path: match.realPath), position: position,
            assembler: LineAssembler(configuration: assembly), lagGauge: metrics.lagGauge(path: match.realPath),
            now: WallClock.monotonicNanos())
        nextSourceID += 1
        files[status.key] = file
        filesByPath[match.path] = file
        let directory = String(match.realPath[..<(match.realPath.lastIndex(of: "/") ?? match.realPath.endIndex)])
        inotify.watch(directory: directory.isEmpty ? "/" : directory)
    }

    /// Where to start in a newly opened file: its checkpoint if the fingerprint still matches
    /// (else the inode was reused by a new file), the start for new files, or the end for files
    /// present at first start when configured so.
    private func startPosition(fd: Int32, status: FileStatus, path: String, initial: Bool) -> FilePosition {
        if let saved = checkpoints.removeValue(forKey: status.key) {
            let current = FileHeadChecksum.read(fd: fd, length: saved.fingerprint.length)
            if current == saved.fingerprint, saved.resumeOffset <= status.size {
                var position = saved
                position.path = path
                return position
            }
            if current == saved.fingerprint {
                metrics.truncations.increment()
                logger.info("\(path) is shorter than its checkpoint: truncated while the agent was away; reading from 0")
                return FilePosition(
                    key: status.key, path: path, fingerprint: FileHeadChecksum.read(fd: fd, length: 0) ?? .empty,
                    generation: saved.generation + 1)
            }
            logger.info("\(path) reuses the inode of a file read earlier (fingerprint differs); reading it from 0")
        }
        let fingerprint =
            FileHeadChecksum.read(fd: fd, length: Int(min(status.size, Int64(FileHeadChecksum.maxLength)))) ?? .empty
        let startAtEnd = initial && !settings.readFromHeadAtFirstStart
        let offset = startAtEnd ? status.size : 0
        return FilePosition(
            key: status.key, path: path, fingerprint: fingerprint, stdoutOffset: offset, stderrOffset: offset)
    }

    // MARK: - Reading

    /// One pass over all files, at most `passBytesPerFile` each, so a busy file cannot starve the
    /// others for long (4 MiB is about 20 ms of work). Reading more than one chunk per visit keeps
    /// the number of files with a record half read small: an agent catching up on a thousand
    /// files one chunk at a time held a pending multi-line record in every one of them.
    private func readAvailable() -> Int {
        var total = 0
        var lastExpiryCheck = clockNow.monotonic
        for file in files.values {
            var fromFile = 0
            while fromFile < settings.passBytesPerFile {
                let got = readChunk(file)
                if got == 0 || files[file.key] == nil { break }
                fromFile += got
            }
            total += fromFile
            // A pass over a large backlog takes seconds: records of files read earlier in it
            // must still go out on their timeout, not all at once when the pass ends.
            if clockNow.monotonic - lastExpiryCheck >= 100_000_000 {
                lastExpiryCheck = clockNow.monotonic
                flushExpiredGroups(now: clockNow.monotonic)
            }
        }
        return total
    }

    private func readChunk(_ file: TailedFile) -> Int {
        guard let status = FileStatus.of(fd: file.fd) else { return 0 }
        if status.size < file.readOffset {
            handleTruncation(file)
        }
        file.lastSeenSize = status.size
        file.lagGauge?.record(max(0, status.size - file.readOffset))
        guard status.size > file.readOffset else { return 0 }
        let want = Int(min(Int64(readBuffer.count), status.size - file.readOffset))
        let got = pread(file.fd, readBuffer.baseAddress, want, off_t(file.readOffset))
        guard got > 0 else { return 0 }
        let chunk = UnsafeRawBufferPointer(rebasing: readBuffer[0..<got])
        refreshClock()
        if file.readOffset == 0 && file.format == nil && Self.looksBinary(chunk) {
            skipBinary(file)
            return got
        }
        file.lastGrowth = clockNow.monotonic
        process(chunk, at: file.readOffset, of: file)
        file.readOffset += Int64(got)
        file.refreshFingerprint(size: status.size)
        pendingBytes += Int64(got)
        if file.readOffset >= status.size { file.assembler.compactBuffers() }
        return got
    }

    /// Container logs are text; a NUL in the first kilobyte means something else matched the glob.
    static func looksBinary(_ chunk: UnsafeRawBufferPointer) -> Bool {
        let prefix = UnsafeRawBufferPointer(rebasing: chunk[0..<min(chunk.count, 1024)])
        return prefix.contains(0)
    }

    private func skipBinary(_ file: TailedFile) {
        logger.warning("skipping \(file.realPath): it holds binary data, not container log lines")
        metrics.binaryFilesSkipped.increment()
        skipped.insert(file.key)
        remove(file)
    }

    private func process(_ chunk: UnsafeRawBufferPointer, at base: Int64, of file: TailedFile) {
        guard let chunkBase = chunk.baseAddress else { return }
        var lineStart = 0
        while lineStart < chunk.count,
            let found = memchr(chunkBase + lineStart, Int32(UInt8(ascii: "\n")), chunk.count - lineStart)
        {
            let newline = chunkBase.distance(to: UnsafeRawPointer(found))
            let end = base + Int64(newline) + 1
            if file.lineBuffer.isEmpty {
                handleLine(
                    UnsafeRawBufferPointer(rebasing: chunk[lineStart..<newline]), start: base + Int64(lineStart),
                    end: end, file: file)
            } else {
                file.lineBuffer.append(contentsOf: chunk[lineStart..<newline])
                let start = file.lineBufferStart
                let line = file.lineBuffer
                file.lineBuffer = []
                line.withUnsafeBytes { handleLine($0, start: start, end: end, file: file) }
            }
            lineStart = newline + 1
        }
        if lineStart < chunk.count {
            if file.lineBuffer.isEmpty { file.lineBufferStart = base + Int64(lineStart) }
            file.lineBuffer.append(contentsOf: chunk[lineStart...])
            // A runtime never writes a line this long without a newline; bound the memory.
            if file.lineBuffer.count > settings.assembly.maxRecordBytes + 65536 {
                flushLineBuffer(file, end: base + Int64(chunk.count))
            }
        }
        advanceIdlePositions(file)
    }

    private func flushLineBuffer(_ file: TailedFile, end: Int64) {
        guard !file.lineBuffer.isEmpty else { return }
        let line = file.lineBuffer
        file.lineBuffer = []
        line.withUnsafeBytes { handleLine($0, start: file.lineBufferStart, end: end, file: file) }
    }

    private func handleLine(_ line: UnsafeRawBufferPointer, start: Int64, end: Int64, file: TailedFile) {
        pendingLines += 1
        if file.format == nil { file.format = RuntimeFormat.detect(firstLine: line) }
        if line.count > scratchCapacity {
            scratch.deallocate()
            scratchCapacity = max(line.count, scratchCapacity * 2)
            scratch = .allocate(capacity: scratchCapacity)
        }
        let entry = file.format!.decodeRaw(line, scratch: scratch)
        if entry.envelopeError { pendingEnvelopeErrors += 1 }
        if file.alreadyDelivered(start: start, stream: entry.stream) { return }
        file.assembler.append(entry, lineStart: start, lineEnd: end, now: clockNow.monotonic) { (record: AssembledView) in
            emit(record, from: file)
        }
        file.lastLineEnd = end
    }

    /// When nothing of a file waits in its assembler, everything before the last line read is
    /// delivered once the records emitted so far are: both sequences may move up to it.
    private func advanceIdlePositions(_ file: TailedFile) {
        guard !file.assembler.hasPending, file.resume == nil else { return }
        let end = file.lastLineEnd
        if file.emitted.stdoutOffset < end || file.emitted.stderrOffset < end {
            file.emitted.stdoutOffset = max(file.emitted.stdoutOffset, end)
            file.emitted.stderrOffset = max(file.emitted.stderrOffset, end)
            file.dirty = true
            if batchStartedAt == nil { batchStartedAt = WallClock.monotonicNanos() }
        }
    }

    private func emit(_ assembled: AssembledView, from file: TailedFile) {
        let now = clockNow.wall
        let position = file.position(
            sequence: CheckpointSequence(stream: assembled.stream), end: assembled.end, node: settings.nodeName)
        let valid = builder.append(
            timestamp: assembled.timestamp != 0 ? assembled.timestamp : now, observedTimestamp: now,
            stream: assembled.stream, flags: assembled.flags, body: assembled.body, source: file.sourceID,
            position: position, resource: { file.resource })
        if !valid { pendingInvalidUTF8 += 1 }
        if let checkpoint = assembled.checkpoint {
            switch checkpoint.sequence {
            case .stdout: file.emitted.stdoutOffset = max(file.emitted.stdoutOffset, checkpoint.offset)
            case .stderr: file.emitted.stderrOffset = max(file.emitted.stderrOffset, checkpoint.offset)
            }
        }
        file.dirty = true
        if batchStartedAt == nil { batchStartedAt = clockNow.monotonic }
        if builder.payloadBytes >= settings.batchMaxBytes { seal() }
    }

    private func handleTruncation(_ file: TailedFile) {
        metrics.truncations.increment()
        logger.info("\(file.realPath) was truncated (copytruncate); reading it again from the start")
        file.assembler.flushAllViews { record in emit(record, from: file) }
        file.lineBuffer = []
        file.readOffset = 0
        file.lineBufferStart = 0
        file.lastLineEnd = 0
        file.resume = nil
        file.emitted.generation += 1
        file.emitted.stdoutOffset = 0
        file.emitted.stderrOffset = 0
        file.emitted.fingerprint = .empty
        file.forgetSource()
        file.dirty = true
    }

    // MARK: - Timers

    private func flushExpiredGroups(now: Int64) {
        for file in files.values {
            guard let deadline = file.assembler.oldestPendingDeadline, deadline <= now, !file.hasBacklog else { continue }
            file.assembler.flushExpiredViews(now: now) { record in emit(record, from: file) }
            file.assembler.compactBuffers()
            advanceIdlePositions(file)
        }
    }

    private func closeDrainedFiles(now: Int64) {
        for file in files.values {
            guard case .draining(let since) = file.state else { continue }
            guard let status = FileStatus.of(fd: file.fd), status.size <= file.readOffset else { continue }
            guard now - max(since, file.lastGrowth) >= settings.drainGrace else { continue }
            flushLineBuffer(file, end: file.readOffset)
            file.assembler.flushAllViews { record in emit(record, from: file) }
            advanceIdlePositions(file)
            remove(file)
        }
    }

    private func remove(_ file: TailedFile) {
        if file.dirty {
            // Its final position still has to reach the checkpoint store with the next batch.
            retired.append(file)
            if batchStartedAt == nil { batchStartedAt = WallClock.monotonicNanos() }
        }
        files[file.key] = nil
        for path in file.paths where filesByPath[path] === file { filesByPath[path] = nil }
        if let gauge = file.lagGauge { metrics.removeLagGauge(gauge) }
        close(file.fd)
        metrics.filesTailed.record(Int64(files.count))
    }

    private var retired: [TailedFile] = []

    // MARK: - Batches

    private func seal() {
        var positions: [FilePosition] = []
        for file in files.values where file.dirty {
            positions.append(file.emitted)
            file.dirty = false
        }
        for file in retired { positions.append(file.emitted) }
        retired.removeAll()
        batchStartedAt = nil
        guard builder.recordCount > 0 || !positions.isEmpty else { return }
        let batch: SealedBatch
        do {
            batch = try builder.seal(positions: positions)
        } catch {
            logger.error("cannot seal a batch: \(error)")
            return
        }
        switch queue.push(batch) {
        case .queued, .closed: break
        case .dropped(let records): metrics.recordsDropped.increment(by: Int64(records))
        }
    }

    private func publishCounters() {
        if pendingLines > 0 { metrics.linesRead.increment(by: pendingLines) }
        if pendingBytes > 0 { metrics.bytesRead.increment(by: pendingBytes) }
        if pendingEnvelopeErrors > 0 { metrics.envelopeErrors.increment(by: pendingEnvelopeErrors) }
        if pendingInvalidUTF8 > 0 { metrics.recordsInvalidUTF8.increment(by: pendingInvalidUTF8) }
        pendingLines = 0
        pendingBytes = 0
        pendingEnvelopeErrors = 0
        pendingInvalidUTF8 = 0
    }

    /// Keys of the files open now, for checkpoint garbage collection.
    var openKeys: Set<FileKey> { Set(files.keys) }
}

/// A user's multiline start pattern (RE2), per namespace/pod/container selector.
struct RegexLinePredicate: LinePredicate {
    let regex: RE2Regex
    func matches(_ line: UnsafeRawBufferPointer) -> Bool { regex.matches(line) }
}
