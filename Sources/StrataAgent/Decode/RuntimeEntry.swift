import StrataCore

/// The envelope a container runtime wraps each log line in.
public enum RuntimeFormat: Sendable, Hashable {
    /// containerd / CRI-O: `<RFC3339Nano> <stdout|stderr> <P|F>[:tags] <message>`.
    case cri
    /// Docker's json-file driver: `{"log":"...\n","stream":"stdout","time":"..."}`.
    case docker

    /// Detects the format from the first bytes of a file's first line: `{` (after optional
    /// whitespace or a UTF-8 byte order mark) means docker json-file, anything else CRI.
    public static func detect(firstLine: UnsafeRawBufferPointer) -> RuntimeFormat {
        var i = 0
        let n = firstLine.count
        if n >= 3, firstLine[0] == 0xEF, firstLine[1] == 0xBB, firstLine[2] == 0xBF { i = 3 }
        while i < n, firstLine[i] == UInt8(ascii: " ") || firstLine[i] == UInt8(ascii: "\t") { i += 1 }
        return i < n && firstLine[i] == UInt8(ascii: "{") ? .docker : .cri
    }

    public static func detect(firstLine: some Collection<UInt8>) -> RuntimeFormat {
        if let result = firstLine.withContiguousStorageIfAvailable({ detect(firstLine: UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(firstLine).withUnsafeBytes { detect(firstLine: $0) }
    }

    /// Decodes one raw line: the bytes of the line without its terminating `\n`.
    @inline(__always)
    public func decode(_ line: UnsafeRawBufferPointer) -> RuntimeEntry {
        switch self {
        case .cri: CRIDecoder.decode(line)
        case .docker: DockerJSONDecoder.decode(line)
        }
    }

    /// Decodes one raw line without allocating: the entry's content points into `line` or into
    /// `scratch`, which must hold at least `line.count` bytes. Valid until either changes.
    @inline(__always)
    func decodeRaw(_ line: UnsafeRawBufferPointer, scratch: UnsafeMutablePointer<UInt8>) -> RawRuntimeEntry {
        switch self {
        case .cri: CRIDecoder.decodeRaw(line)
        case .docker: DockerJSONDecoder.decodeRaw(line, scratch: scratch)
        }
    }

    public func decode(_ line: some Collection<UInt8>) -> RuntimeEntry {
        if let result = line.withContiguousStorageIfAvailable({ decode(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(line).withUnsafeBytes { decode($0) }
    }

    public func decode(_ line: String) -> RuntimeEntry {
        var line = line
        return line.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }
}

/// One line of a container log file with its runtime envelope removed.
public struct RuntimeEntry: Sendable, Equatable {
    /// The runtime's timestamp in nanoseconds since the epoch (UTC); 0 when the envelope is corrupt.
    public var time: Int64
    /// `.unknown` when the envelope is corrupt.
    public var stream: LogStream
    /// CRI tag `P`, or a docker `log` value without the trailing `\n`: the line continues in
    /// the next entry of the same stream.
    public var isPartial: Bool
    /// The message bytes. Docker: without the trailing `\n` (and a `\r` before it). CRI: as
    /// written, except that a full (`F`) line loses one trailing `\r` (CRLF line ends).
    /// When `envelopeError` is set: the whole raw line, unchanged.
    public var content: [UInt8]
    /// The envelope could not be decoded: `content` is the whole raw line and `stream` is `.unknown`.
    public var envelopeError: Bool

    public init(time: Int64, stream: LogStream, isPartial: Bool = false, content: [UInt8], envelopeError: Bool = false) {
        self.time = time
        self.stream = stream
        self.isPartial = isPartial
        self.content = content
        self.envelopeError = envelopeError
    }

    /// The entry for a line whose envelope could not be decoded: the raw line is kept whole.
    @inline(never)
    public static func corrupt(_ line: UnsafeRawBufferPointer) -> RuntimeEntry {
        RuntimeEntry(time: 0, stream: .unknown, isPartial: false, content: [UInt8](line), envelopeError: true)
    }
}

/// A `RuntimeEntry` whose content is borrowed: it points into the decoded line or into the
/// decoder's scratch buffer (the reader's hot path decodes without allocating).
struct RawRuntimeEntry {
    var time: Int64
    var stream: LogStream
    var isPartial: Bool
    var content: UnsafeRawBufferPointer
    var envelopeError: Bool

    @inline(__always)
    static func corrupt(_ line: UnsafeRawBufferPointer) -> RawRuntimeEntry {
        RawRuntimeEntry(time: 0, stream: .unknown, isPartial: false, content: line, envelopeError: true)
    }

    /// An owned copy.
    var entry: RuntimeEntry {
        RuntimeEntry(
            time: time, stream: stream, isPartial: isPartial, content: [UInt8](content), envelopeError: envelopeError)
    }
}

/// Byte scanning helpers shared by the decoders.
enum ByteScan {
    /// Index of the first `"` or `\` in `p[from..<end]`, or `end`. Reads 8 bytes at a time.
    @inline(__always)
    static func firstQuoteOrBackslash(_ p: UnsafePointer<UInt8>, from: Int, end: Int) -> Int {
        var i = from
        let raw = UnsafeRawPointer(p)
        while i &+ 8 <= end {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let quotes = word ^ 0x2222_2222_2222_2222
            let slashes = word ^ 0x5C5C_5C5C_5C5C_5C5C
            // A byte of x is zero iff the high bit of (x - 0x01..) & ~x & 0x80.. is set at that
            // byte; borrows can only cause false positives above a true zero, so the lowest set
            // bit is exact.
            let hits =
                ((quotes &- 0x0101_0101_0101_0101) & ~quotes | (slashes &- 0x0101_0101_0101_0101) & ~slashes)
                & 0x8080_8080_8080_8080
            if hits != 0 { return i &+ hits.trailingZeroBitCount >> 3 }
            i &+= 8
        }
        while i < end {
            let b = p[i]
            if b == 0x22 || b == 0x5C { return i }
            i &+= 1
        }
        return end
    }

    /// Index of the first `byte` in `p[from..<end]`, or `end`.
    @inline(__always)
    static func first(_ byte: UInt8, _ p: UnsafePointer<UInt8>, from: Int, end: Int) -> Int {
        var i = from
        while i < end {
            if p[i] == byte { return i }
            i &+= 1
        }
        return end
    }
}
