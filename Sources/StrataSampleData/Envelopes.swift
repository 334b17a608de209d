import Foundation

/// The container runtime's side: wrapping application output in CRI or docker json-file
/// lines, splitting long lines at 16 KiB, and writing the file in large chunks.
enum Envelope {
    /// containerd, CRI-O and dockerd all cut a line into partial entries of this many bytes.
    static let maxLineSize = 16_384

    /// Byte ranges of the parts a runtime writes for a message: all but the last exactly
    /// `maxLineSize` bytes; the last one the rest, never empty (a message is never an exact
    /// multiple of the size, see `NodeLogTreeGenerator`), or the whole empty message.
    static func parts(count: Int) -> [Range<Int>] {
        if count <= maxLineSize { return [0..<count] }
        return stride(from: 0, to: count, by: maxLineSize).map { $0..<min($0 + maxLineSize, count) }
    }
}

public enum SampleDataError: Error, CustomStringConvertible {
    case io(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .io(let operation, let path, let code):
            return "\(operation) \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// One log file being written: buffers lines and counts what it wrote.
struct LogFileWriter {
    let format: LogFormat
    let path: String
    private var fd: Int32
    private var out = LineWriter(capacity: LogFileWriter.flushSize + 2 * Envelope.maxLineSize + 4096)
    private(set) var bytes = 0
    private(set) var lines = 0
    private(set) var stdoutLines = 0
    private(set) var stderrLines = 0
    private(set) var firstTime: Int64 = 0
    private(set) var lastTime: Int64 = 0
    private var scratch = LineWriter(capacity: 4096)

    static let flushSize = 1 << 20

    init(path: String, format: LogFormat) throws {
        self.path = path
        self.format = format
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw SampleDataError.io(operation: "open", path: path, errno: errno) }
    }

    /// Writes one physical line: `message` is the (part of the) application output without
    /// its newline; `partial` marks a part the runtime cut off a longer line.
    mutating func line(_ message: ArraySlice<UInt8>, stream: LogStream, time: Int64, partial: Bool) throws {
        let before = out.count
        switch format {
        case .cri:
            out.append(rfc3339Nano: CivilTime(nanosSinceEpoch: time))
            out.append(stream == .stdout ? " stdout " : " stderr ")
            out.append(partial ? "P " : "F ")
            out.append(message)
            out.append(UInt8(ascii: "\n"))
        case .docker:
            out.append("{\"log\":\"")
            LogFileWriter.appendDockerEscaped(message, to: &out)
            if !partial { out.append("\\n") }
            out.append(stream == .stdout ? "\",\"stream\":\"stdout\",\"time\":\"" : "\",\"stream\":\"stderr\",\"time\":\"")
            out.append(rfc3339Nano: CivilTime(nanosSinceEpoch: time))
            out.append("\"}\n")
        }
        bytes += out.count - before
        lines += 1
        if stream == .stdout { stdoutLines += 1 } else { stderrLines += 1 }
        if firstTime == 0 { firstTime = time }
        lastTime = time
        if out.count >= LogFileWriter.flushSize { try flush() }
    }

    /// Writes a line cut short inside its envelope (a CRI prefix without its tag, a docker
    /// object without its closing brace), as a crash or a full disk leaves behind. `cut` in
    /// `0..<1` chooses where.
    mutating func malformedLine(_ message: ArraySlice<UInt8>, stream: LogStream, time: Int64, cut: Double) throws {
        scratch.removeAll()
        let keep: Int
        switch format {
        case .cri:
            scratch.append(rfc3339Nano: CivilTime(nanosSinceEpoch: time))
            scratch.append(stream == .stdout ? " stdout" : " stderr")
            // At most `<time> <stream> `: the tag is missing whatever is kept.
            keep = 1 + Int(cut * Double(scratch.count))
        case .docker:
            scratch.append("{\"log\":\"")
            LogFileWriter.appendDockerEscaped(message, to: &scratch)
            scratch.append(stream == .stdout ? "\\n\",\"stream\":\"stdout\",\"time\":\"" : "\\n\",\"stream\":\"stderr\",\"time\":\"")
            scratch.append(rfc3339Nano: CivilTime(nanosSinceEpoch: time))
            scratch.append("\"")
            // Everything up to, at most, the closing brace.
            keep = 1 + Int(cut * Double(scratch.count - 1))
        }
        out.append(scratch.bytes[..<keep])
        out.append(UInt8(ascii: "\n"))
        bytes += keep + 1
        lines += 1
        if out.count >= LogFileWriter.flushSize { try flush() }
    }

    /// docker's json-file escaping (moby's `jsonlog`): `\"`, `\\`, `\n`, `\r`, `\t`, other
    /// control characters and `<`, `>`, `&` as `\u00XX`. Bytes of 0x80 and up pass through.
    static func appendDockerEscaped(_ message: ArraySlice<UInt8>, to out: inout LineWriter) {
        message.withUnsafeBufferPointer { buffer in
            var run = 0
            for i in 0..<buffer.count {
                let b = buffer[i]
                guard b < 0x20 || b == 0x22 || b == 0x5C || b == 0x3C || b == 0x3E || b == 0x26 else { continue }
                if run < i { out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[run..<i])) }
                run = i + 1
                switch b {
                case 0x22: out.append("\\\"")
                case 0x5C: out.append("\\\\")
                case 0x0A: out.append("\\n")
                case 0x0D: out.append("\\r")
                case 0x09: out.append("\\t")
                default:
                    out.append("\\u00")
                    out.append(hex: UInt64(b), digits: 2)
                }
            }
            if run < buffer.count { out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[run...])) }
        }
    }

    mutating func flush() throws {
        var offset = 0
        let total = out.count
        try out.bytes.withUnsafeBytes { raw in
            while offset < total {
                let n = write(fd, raw.baseAddress! + offset, total - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SampleDataError.io(operation: "write", path: path, errno: errno)
                }
                offset += n
            }
        }
        out.removeAll()
    }

    mutating func close() throws {
        try flush()
        if Foundation.close(fd) != 0 { throw SampleDataError.io(operation: "close", path: path, errno: errno) }
        fd = -1
    }
}
