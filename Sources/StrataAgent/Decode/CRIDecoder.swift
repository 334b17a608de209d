import StrataCore

/// Decodes the CRI log format written by containerd and CRI-O:
///
///     2023-01-29T08:42:10.935735573Z stdout F hello world
///     2023-01-29T08:42:10.935735573Z stderr P first 16 KiB of a long line...
///
/// Fields are separated by single spaces. The tag field is a `:`-separated list whose first
/// tag is `P` (partial: the line continues in the next entry of the stream) or `F` (full);
/// later tags are ignored. The message is everything after the space following the tags and
/// may be empty (the line may also end right after the tags). Any other shape, an unknown
/// stream or an unparsable timestamp makes the entry an envelope error holding the raw line.
public enum CRIDecoder {
    public static func decode(_ line: UnsafeRawBufferPointer) -> RuntimeEntry {
        decodeRaw(line).entry
    }

    /// The message is a slice of `line`.
    static func decodeRaw(_ line: UnsafeRawBufferPointer) -> RawRuntimeEntry {
        guard let base = line.baseAddress, line.count > 0 else { return .corrupt(line) }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = line.count
        let space = UInt8(ascii: " ")

        // Timestamp.
        let timeEnd = ByteScan.first(space, p, from: 0, end: n)
        guard timeEnd < n, let time = RFC3339Parser.parse(p, count: timeEnd) else { return .corrupt(line) }

        // Stream: exactly "stdout" or "stderr" followed by a space.
        let s = timeEnd + 1
        guard n - s >= 7, p[s + 6] == space, p[s] == UInt8(ascii: "s"), p[s + 1] == UInt8(ascii: "t"),
            p[s + 2] == UInt8(ascii: "d")
        else { return .corrupt(line) }
        let stream: LogStream
        if p[s + 3] == UInt8(ascii: "o"), p[s + 4] == UInt8(ascii: "u"), p[s + 5] == UInt8(ascii: "t") {
            stream = .stdout
        } else if p[s + 3] == UInt8(ascii: "e"), p[s + 4] == UInt8(ascii: "r"), p[s + 5] == UInt8(ascii: "r") {
            stream = .stderr
        } else {
            return .corrupt(line)
        }

        // Tags: the first one decides.
        let tagStart = s + 7
        guard tagStart < n else { return .corrupt(line) }
        let firstTag = p[tagStart]
        let isPartial: Bool
        switch firstTag {
        case UInt8(ascii: "P"): isPartial = true
        case UInt8(ascii: "F"): isPartial = false
        default: return .corrupt(line)
        }
        var i = tagStart + 1
        if i < n, p[i] == UInt8(ascii: ":") {
            i = ByteScan.first(space, p, from: i, end: n)
        } else if i < n, p[i] != space, !(i == n - 1 && p[i] == UInt8(ascii: "\r")) {
            return .corrupt(line)  // e.g. "Full" or "PF": not a tag list
        }

        // Message.
        var messageStart = i < n ? i + 1 : n
        var messageEnd = n
        if !isPartial, messageEnd > messageStart, p[messageEnd - 1] == UInt8(ascii: "\r") { messageEnd -= 1 }
        if messageStart > messageEnd { messageStart = messageEnd }
        let content = UnsafeRawBufferPointer(start: p + messageStart, count: messageEnd - messageStart)
        return RawRuntimeEntry(time: time, stream: stream, isPartial: isPartial, content: content, envelopeError: false)
    }

    public static func decode(_ line: some Collection<UInt8>) -> RuntimeEntry {
        RuntimeFormat.cri.decode(line)
    }
}
