import CLZ4
import CZstd

// MARK: - Codec identifier

/// A compression codec. The raw value is the stable on-the-wire/on-disk id.
public enum CompressionCodec: UInt8, Sendable, CaseIterable {
    case none = 0
    case zstd = 1
    case lz4 = 2

    /// Canonical lowercase name: "none", "zstd" or "lz4".
    public var name: String {
        switch self {
        case .none: return "none"
        case .zstd: return "zstd"
        case .lz4: return "lz4"
        }
    }

    /// Parses a canonical name ("none", "zstd", "lz4"); ASCII case and
    /// surrounding whitespace are ignored. Returns nil for anything else.
    public init?(name: String) {
        var trimmed = Substring(name)
        while let first = trimmed.first, first == " " || first == "\t" { trimmed.removeFirst() }
        while let last = trimmed.last, last == " " || last == "\t" { trimmed.removeLast() }
        switch trimmed.lowercased() {
        case "none": self = .none
        case "zstd": self = .zstd
        case "lz4": self = .lz4
        default: return nil
        }
    }
}

// MARK: - Errors

/// A compression or decompression failure. `description` says what failed,
/// includes the library's own error text, and hints at the likely cause.
public struct CompressionError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The compressor reported an error.
        case compressionFailed
        /// The input is not valid data for the codec (corrupt, wrong format, bad checksum).
        case corruptInput
        /// The input ended before the end of a frame.
        case truncatedInput
        /// Decompressing would produce more than `maxOutputSize` bytes.
        case outputLimitExceeded
        /// A context or buffer could not be allocated.
        case outOfMemory
        /// The caller's `admit` refused the memory the output needed to grow (its memory budget
        /// is spent for now); the input may be fine.
        case outputRefused
    }

    public let codec: CompressionCodec
    public let kind: Kind
    public let message: String

    public init(codec: CompressionCodec, kind: Kind, message: String) {
        self.codec = codec
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

// MARK: - Shared helpers

/// First output buffer size for decompression (before clamping to the limit).
///
/// A size recorded in the frame header is trusted up to 64 MiB (+1 byte, so
/// that a frame of exactly that size never needs a resize); beyond that the
/// buffer starts smaller and grows as real output appears, so a forged
/// header cannot make us allocate far more than the data actually produces.
/// Without a recorded size, guess 4x the input (at least 16 KiB).
private func codecInitialOutputCapacity(declared: UInt64?, inputCount: Int) -> Int {
    let trusted: UInt64 = 64 * 1024 * 1024
    let (guess, overflow) = inputCount.multipliedReportingOverflow(by: 4)
    let fallback = overflow ? Int.max : max(guess, 16 * 1024)
    guard let declared else { return fallback }
    if declared <= trusted { return Int(declared) + 1 }
    return max(Int(trusted), fallback)
}

private func codecLimitExceeded(_ codec: CompressionCodec, _ limit: Int) -> CompressionError {
    CompressionError(
        codec: codec, kind: .outputLimitExceeded,
        message: codec == .none
            ? "uncompressed input exceeds the limit of \(limit) bytes "
                + "(raise maxOutputSize if this payload is legitimate)"
            : "\(codec.name) decompression failed: output exceeds the limit of \(limit) bytes "
                + "(possible decompression bomb; raise maxOutputSize if this payload is legitimate)")
}

private func codecRefused(_ codec: CompressionCodec, _ bytes: Int) -> CompressionError {
    CompressionError(
        codec: codec, kind: .outputRefused,
        message: "\(codec.name) decompression stopped: growing the output to \(bytes) bytes was refused by the memory budget")
}

private func codecTruncated(_ codec: CompressionCodec, consumed: Int, total: Int) -> CompressionError {
    let what = codec == .lz4 ? "LZ4 frame" : "zstd frame"
    return CompressionError(
        codec: codec, kind: .truncatedInput,
        message: total == 0
            ? "\(codec.name) decompression failed: the input is empty (expected a \(what))"
            : "\(codec.name) decompression failed: input ended in the middle of a \(what) "
                + "after \(consumed) bytes (truncated body?)")
}

private func codecNoProgress(_ codec: CompressionCodec) -> CompressionError {
    CompressionError(
        codec: codec, kind: .corruptInput,
        message: "\(codec.name) decompression failed: the decoder stopped making progress (corrupt input?)")
}

private func codecOutOfMemory(_ codec: CompressionCodec, _ what: String) -> CompressionError {
    CompressionError(
        codec: codec, kind: .outOfMemory,
        message: "\(codec.name) \(what) failed: could not allocate a context (out of memory)")
}

/// Decodes into an array that grows geometrically, never beyond
/// `maxOutputSize + 1` bytes (one extra byte detects overflow of the limit).
///
/// `admit`, when given, is asked before every allocation with the bytes the output will then
/// hold (while growing, the previous array and the new one); `false` stops with
/// `.outputRefused` before allocating, so a caller's memory budget is enforced as the output
/// expands, not after.
///
/// `step` must either report `finished` or completely fill the free space it
/// is given (and the decoder must keep its own input position between calls).
/// Growing copies what was decoded so far into a larger array, so the common
/// case of a correct size guess decodes straight into the result.
private func codecDecodeGrowing(
    codec: CompressionCodec,
    initialCapacity: Int,
    maxOutputSize: Int,
    admit: ((Int) -> Bool)?,
    step: (UnsafeMutableRawBufferPointer) throws -> (written: Int, finished: Bool)
) throws -> [UInt8] {
    let limit = max(0, maxOutputSize)
    let hardCapacity = limit == Int.max ? Int.max : limit + 1
    var capacity = max(1, min(initialCapacity, hardCapacity))
    var result: [UInt8] = []
    while true {
        let previous = result
        if let admit, !admit(previous.count + capacity) { throw codecRefused(codec, capacity) }
        var finished = false
        result = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            count = 0
            if !previous.isEmpty {
                count = buffer.initialize(from: previous).1
            }
            while count < buffer.count {
                let free = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[count...]))
                let (written, done) = try step(free)
                count += min(written, free.count)
                if done {
                    finished = true
                    return
                }
                if written < free.count { throw codecNoProgress(codec) }
            }
        }
        if result.count > limit { throw codecLimitExceeded(codec, limit) }
        if finished { return result }
        if capacity >= hardCapacity { throw codecLimitExceeded(codec, limit) }
        capacity = capacity > hardCapacity / 2 ? hardCapacity : capacity * 2
    }
}

/// Returns `array` itself, or a right-sized copy when a worst-case-sized
/// buffer would otherwise keep a lot of unused memory alive.
private func codecTrimmed(_ array: [UInt8]) -> [UInt8] {
    let unused = array.capacity - array.count
    guard unused > 64 * 1024 else { return array }
    return [UInt8](unsafeUninitializedCapacity: array.count) { buffer, count in
        count = buffer.initialize(from: array).1
    }
}

// MARK: - zstd

/// ZSTD_CONTENTSIZE_ERROR (the C macro is not importable); ZSTD_CONTENTSIZE_UNKNOWN is UInt64.max.
/// Any value below this is a size recorded in the frame header.
private let zstdContentSizeError: UInt64 = UInt64.max - 1

private func zstdIsError(_ code: Int) -> Bool { ZSTD_isError(code) != 0 }

/// - Parameter afterFrame: a complete frame was decoded before this error,
///   so an unknown magic number means trailing garbage.
private func zstdError(_ code: Int, compressing: Bool, afterFrame: Bool = false) -> CompressionError {
    let name = ZSTD_getErrorName(code).map { String(cString: $0) } ?? "unknown error"
    let errorCode = ZSTD_getErrorCode(code)
    var hint = ""
    var kind: CompressionError.Kind = compressing ? .compressionFailed : .corruptInput
    switch errorCode {
    case ZSTD_error_prefix_unknown:
        hint =
            afterFrame
            ? " after the end of a frame (trailing garbage after the compressed data?)"
            : " (is the body zstd-compressed?)"
    case ZSTD_error_checksum_wrong, ZSTD_error_corruption_detected, ZSTD_error_literals_headerWrong,
        ZSTD_error_dictionary_corrupted:
        hint = " (the compressed data is corrupt)"
    case ZSTD_error_srcSize_wrong:
        hint = " (the input is truncated or followed by garbage)"
    case ZSTD_error_frameParameter_windowTooLarge:
        hint = " (the frame needs a larger window than this decoder allows; was it compressed with --long?)"
    case ZSTD_error_dictionary_wrong:
        hint = " (the frame needs a dictionary, which is not supported, or the data is corrupt)"
    case ZSTD_error_memory_allocation:
        hint = " (out of memory)"
        kind = .outOfMemory
    default:
        break
    }
    let action = compressing ? "compression" : "decompression"
    return CompressionError(codec: .zstd, kind: kind, message: "zstd \(action) failed: \(name)\(hint)")
}

/// A reusable zstd compression context (ZSTD_CCtx). Not thread-safe: use one
/// per task/thread. Frames record their content size and a checksum.
public final class ZstdCompressor {
    /// The effective compression level.
    public let level: Int
    private let context: OpaquePointer

    /// - Parameter level: zstd level; 0 means the library default (3),
    ///   negative levels are faster, up to 22 is stronger. Clamped to the
    ///   range the library supports.
    public init(level: Int = 0) throws {
        guard let context = ZSTD_createCCtx() else { throw codecOutOfMemory(.zstd, "compression") }
        let effective =
            level == 0
            ? Int(ZSTD_defaultCLevel())
            : min(max(level, Int(ZSTD_minCLevel())), Int(ZSTD_maxCLevel()))
        for (parameter, value) in [
            (ZSTD_c_compressionLevel, Int32(effective)),
            (ZSTD_c_contentSizeFlag, Int32(1)),
            (ZSTD_c_checksumFlag, Int32(1)),
        ] {
            let result = ZSTD_CCtx_setParameter(context, parameter, value)
            if zstdIsError(result) {
                ZSTD_freeCCtx(context)
                throw zstdError(result, compressing: true)
            }
        }
        self.context = context
        self.level = effective
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses `input` into a single zstd frame (with content size).
    public func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        if zstdIsError(bound) { throw zstdError(bound, compressing: true) }
        var failure: CompressionError?
        let output = [UInt8](unsafeUninitializedCapacity: max(bound, 1)) { buffer, count in
            let written = ZSTD_compress2(context, buffer.baseAddress, buffer.count, input.baseAddress, input.count)
            if zstdIsError(written) {
                failure = zstdError(written, compressing: true)
                count = 0
            } else {
                count = written
            }
        }
        if let failure { throw failure }
        return codecTrimmed(output)
    }

    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0) }
    }

    public func compress(_ input: ArraySlice<UInt8>) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0) }
    }
}

/// A reusable zstd decompression context (ZSTD_DCtx). Not thread-safe: use
/// one per task/thread.
///
/// Accepts one or more concatenated frames, with or without a recorded
/// content size (streaming frames), and refuses to produce more than
/// `maxOutputSize` bytes.
public final class ZstdDecompressor {
    private let context: OpaquePointer

    public init() throws {
        guard let context = ZSTD_createDCtx() else { throw codecOutOfMemory(.zstd, "decompression") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    public func decompress(
        _ input: UnsafeRawBufferPointer, maxOutputSize: Int, admit: ((Int) -> Bool)? = nil
    ) throws -> [UInt8] {
        guard let source = input.baseAddress, input.count > 0 else {
            throw codecTruncated(.zstd, consumed: 0, total: 0)
        }
        let limit = max(0, maxOutputSize)
        let reset = ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        if zstdIsError(reset) { throw zstdError(reset, compressing: false) }

        // Size the output from the first frame's header when it records the
        // content size; refuse early if that alone exceeds the limit.
        let contentSize = ZSTD_getFrameContentSize(source, input.count)
        var declared: UInt64?
        if contentSize < zstdContentSizeError {
            if contentSize > UInt64(limit) { throw codecLimitExceeded(.zstd, limit) }
            declared = contentSize
        }
        let initialCapacity = codecInitialOutputCapacity(declared: declared, inputCount: input.count)

        var inBuffer = ZSTD_inBuffer(src: source, size: input.count, pos: 0)
        var completedFrames = 0
        let context = self.context
        return try codecDecodeGrowing(codec: .zstd, initialCapacity: initialCapacity, maxOutputSize: limit, admit: admit) { free in
            var outBuffer = ZSTD_outBuffer(dst: free.baseAddress, size: free.count, pos: 0)
            while true {
                let inBefore = inBuffer.pos
                let outBefore = outBuffer.pos
                let hint = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                if zstdIsError(hint) { throw zstdError(hint, compressing: false, afterFrame: completedFrames > 0) }
                // hint == 0: a frame is complete and fully flushed.
                if hint == 0 { completedFrames += 1 }
                if hint == 0 && inBuffer.pos == inBuffer.size { return (outBuffer.pos, true) }
                if outBuffer.pos == outBuffer.size { return (outBuffer.pos, false) }
                if inBuffer.pos == inBuffer.size {
                    // Room left for output, all input consumed, frame unfinished.
                    throw codecTruncated(.zstd, consumed: inBuffer.pos, total: inBuffer.size)
                }
                // Otherwise another frame follows; continue with it.
                if hint != 0 && inBuffer.pos == inBefore && outBuffer.pos == outBefore {
                    throw codecNoProgress(.zstd)
                }
            }
        }
    }

    public func decompress(_ input: [UInt8], maxOutputSize: Int, admit: ((Int) -> Bool)? = nil) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, maxOutputSize: maxOutputSize, admit: admit) }
    }

    public func decompress(_ input: ArraySlice<UInt8>, maxOutputSize: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, maxOutputSize: maxOutputSize) }
    }
}

// MARK: - LZ4 frame

private func lz4IsError(_ code: Int) -> Bool { LZ4F_isError(code) != 0 }

private func lz4Error(_ code: Int, compressing: Bool, afterFrame: Bool = false) -> CompressionError {
    let name = LZ4F_getErrorName(code).map { String(cString: $0) } ?? "unknown error"
    var hint = ""
    var kind: CompressionError.Kind = compressing ? .compressionFailed : .corruptInput
    switch name {
    case "ERROR_frameType_unknown":
        hint =
            afterFrame
            ? " after the end of a frame (trailing garbage after the compressed data?)"
            : " (is the body lz4-compressed? the LZ4 frame format is expected, not raw LZ4 blocks)"
    case "ERROR_contentChecksum_invalid", "ERROR_blockChecksum_invalid", "ERROR_decompressionFailed",
        "ERROR_headerChecksum_invalid", "ERROR_frameSize_wrong", "ERROR_maxBlockSize_invalid",
        "ERROR_blockMode_invalid", "ERROR_reservedFlag_set", "ERROR_headerVersion_wrong":
        hint = " (the compressed data is corrupt)"
    case "ERROR_frameHeader_incomplete", "ERROR_srcSize_wrong":
        hint = " (truncated body?)"
        if !compressing { kind = .truncatedInput }
    case "ERROR_allocation_failed":
        hint = " (out of memory)"
        kind = .outOfMemory
    default:
        break
    }
    let action = compressing ? "compression" : "decompression"
    return CompressionError(codec: .lz4, kind: kind, message: "lz4 \(action) failed: \(name)\(hint)")
}

/// A reusable LZ4 frame compression context (LZ4F_cctx). Not thread-safe:
/// use one per task/thread. Frames record their content size and a content
/// checksum, and are readable by the `lz4` command line tool.
public final class LZ4FrameCompressor {
    /// The compression level: 0 is the default fast mode, negative values
    /// are faster still, 3...12 select LZ4-HC (slower, stronger).
    public let level: Int
    private let context: OpaquePointer

    public init(level: Int = 0) throws {
        var context: OpaquePointer?
        let result = LZ4F_createCompressionContext(&context, UInt32(LZ4F_VERSION))
        if lz4IsError(result) {
            if let context { LZ4F_freeCompressionContext(context) }
            throw lz4Error(result, compressing: true)
        }
        guard let context else { throw codecOutOfMemory(.lz4, "compression") }
        self.context = context
        self.level = min(max(level, -65_536), 12)
    }

    deinit { LZ4F_freeCompressionContext(context) }

    /// Compresses `input` into a single LZ4 frame.
    public func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.contentSize = UInt64(input.count)
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        preferences.compressionLevel = Int32(level)
        preferences.autoFlush = 1

        let body = LZ4F_compressBound(input.count, &preferences)
        if lz4IsError(body) { throw lz4Error(body, compressing: true) }
        let (capacity, overflow) = body.addingReportingOverflow(Int(LZ4F_HEADER_SIZE_MAX))
        if overflow {
            throw CompressionError(
                codec: .lz4, kind: .compressionFailed,
                message: "lz4 compression failed: input of \(input.count) bytes is too large")
        }
        let context = self.context
        var failure: CompressionError?
        let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            count = 0
            guard let base = buffer.baseAddress else { return }
            let header = LZ4F_compressBegin(context, base, buffer.count, &preferences)
            if lz4IsError(header) {
                failure = lz4Error(header, compressing: true)
                return
            }
            var position = header
            if input.count > 0 {
                let written = LZ4F_compressUpdate(
                    context, base + position, buffer.count - position, input.baseAddress, input.count, nil)
                if lz4IsError(written) {
                    failure = lz4Error(written, compressing: true)
                    return
                }
                position += written
            }
            let footer = LZ4F_compressEnd(context, base + position, buffer.count - position, nil)
            if lz4IsError(footer) {
                failure = lz4Error(footer, compressing: true)
                return
            }
            count = position + footer
        }
        if let failure { throw failure }
        return codecTrimmed(output)
    }

    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0) }
    }

    public func compress(_ input: ArraySlice<UInt8>) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0) }
    }
}

/// A reusable LZ4 frame decompression context (LZ4F_dctx). Not thread-safe:
/// use one per task/thread.
///
/// Accepts one or more concatenated LZ4 frames (with or without a recorded
/// content size) and refuses to produce more than `maxOutputSize` bytes.
/// Raw LZ4 blocks (without the frame header) are not accepted.
public final class LZ4FrameDecompressor {
    private let context: OpaquePointer

    public init() throws {
        var context: OpaquePointer?
        let result = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        if lz4IsError(result) {
            if let context { LZ4F_freeDecompressionContext(context) }
            throw lz4Error(result, compressing: false)
        }
        guard let context else { throw codecOutOfMemory(.lz4, "decompression") }
        self.context = context
    }

    deinit { LZ4F_freeDecompressionContext(context) }

    public func decompress(
        _ input: UnsafeRawBufferPointer, maxOutputSize: Int, admit: ((Int) -> Bool)? = nil
    ) throws -> [UInt8] {
        guard let source = input.baseAddress, input.count > 0 else {
            throw codecTruncated(.lz4, consumed: 0, total: 0)
        }
        let limit = max(0, maxOutputSize)
        let context = self.context
        LZ4F_resetDecompressionContext(context)

        // Read the first frame header to size the output.
        var info = LZ4F_frameInfo_t()
        var headerSize = input.count
        let hint = LZ4F_getFrameInfo(context, &info, source, &headerSize)
        if lz4IsError(hint) {
            LZ4F_resetDecompressionContext(context)
            throw lz4Error(hint, compressing: false)
        }
        var declared: UInt64?
        if info.contentSize > 0 {  // 0 means "not recorded"
            if info.contentSize > UInt64(limit) {
                LZ4F_resetDecompressionContext(context)
                throw codecLimitExceeded(.lz4, limit)
            }
            declared = info.contentSize
        }
        let initialCapacity = codecInitialOutputCapacity(declared: declared, inputCount: input.count)

        var position = headerSize
        var completedFrames = 0
        do {
            return try codecDecodeGrowing(codec: .lz4, initialCapacity: initialCapacity, maxOutputSize: limit, admit: admit) { free in
                guard let destination = free.baseAddress else { throw codecNoProgress(.lz4) }
                var written = 0
                while true {
                    var destinationSize = free.count - written
                    var sourceSize = input.count - position
                    let next = LZ4F_decompress(
                        context, destination + written, &destinationSize, source + position, &sourceSize, nil)
                    if lz4IsError(next) {
                        throw lz4Error(next, compressing: false, afterFrame: completedFrames > 0)
                    }
                    position += sourceSize
                    written += destinationSize
                    if next == 0 { completedFrames += 1 }
                    // next == 0: the current frame is complete.
                    if next == 0 && position == input.count { return (written, true) }
                    if written == free.count { return (written, false) }
                    if position == input.count {
                        throw codecTruncated(.lz4, consumed: position, total: input.count)
                    }
                    if next != 0 && sourceSize == 0 && destinationSize == 0 { throw codecNoProgress(.lz4) }
                }
            }
        } catch {
            // The context is not resumable after an error.
            LZ4F_resetDecompressionContext(context)
            throw error
        }
    }

    public func decompress(_ input: [UInt8], maxOutputSize: Int, admit: ((Int) -> Bool)? = nil) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, maxOutputSize: maxOutputSize, admit: admit) }
    }

    public func decompress(_ input: ArraySlice<UInt8>, maxOutputSize: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, maxOutputSize: maxOutputSize) }
    }
}

// MARK: - Convenience API on the codec

extension CompressionCodec {
    /// Compresses `input`. `level` 0 means the codec's default level (zstd:
    /// 3; lz4: fast mode); see `ZstdCompressor` / `LZ4FrameCompressor`.
    /// `.none` returns a copy of the input.
    ///
    /// This allocates a fresh context per call; on hot paths keep a
    /// `ZstdCompressor` / `LZ4FrameCompressor` per task instead.
    public func compress(_ input: UnsafeRawBufferPointer, level: Int = 0) throws -> [UInt8] {
        switch self {
        case .none: return [UInt8](input)
        case .zstd: return try ZstdCompressor(level: level).compress(input)
        case .lz4: return try LZ4FrameCompressor(level: level).compress(input)
        }
    }

    public func compress(_ input: [UInt8], level: Int = 0) throws -> [UInt8] {
        if self == .none { return input }
        return try input.withUnsafeBytes { try compress($0, level: level) }
    }

    public func compress(_ input: ArraySlice<UInt8>, level: Int = 0) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0, level: level) }
    }

    /// Decompresses `input`, refusing to produce more than `maxOutputSize`
    /// bytes (decompression-bomb protection; the error says so). For `.none`
    /// the input is returned as is, subject to the same limit.
    ///
    /// This allocates a fresh context per call; on hot paths keep a
    /// `ZstdDecompressor` / `LZ4FrameDecompressor` per task instead.
    /// `admit`, when given, is asked before each allocation of output with the bytes the output
    /// will then hold; `false` stops with `.outputRefused` (a caller's memory budget).
    public func decompress(
        _ input: UnsafeRawBufferPointer, maxOutputSize: Int, admit: ((Int) -> Bool)? = nil
    ) throws -> [UInt8] {
        switch self {
        case .none:
            if input.count > max(0, maxOutputSize) { throw codecLimitExceeded(.none, max(0, maxOutputSize)) }
            if let admit, !admit(input.count) { throw codecRefused(.none, input.count) }
            return [UInt8](input)
        case .zstd: return try ZstdDecompressor().decompress(input, maxOutputSize: maxOutputSize, admit: admit)
        case .lz4: return try LZ4FrameDecompressor().decompress(input, maxOutputSize: maxOutputSize, admit: admit)
        }
    }

    public func decompress(_ input: [UInt8], maxOutputSize: Int, admit: ((Int) -> Bool)? = nil) throws -> [UInt8] {
        if self == .none {
            if input.count > max(0, maxOutputSize) { throw codecLimitExceeded(.none, max(0, maxOutputSize)) }
            return input
        }
        return try input.withUnsafeBytes { try decompress($0, maxOutputSize: maxOutputSize, admit: admit) }
    }

    public func decompress(_ input: ArraySlice<UInt8>, maxOutputSize: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, maxOutputSize: maxOutputSize) }
    }
}
