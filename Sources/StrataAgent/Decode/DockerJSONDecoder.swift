import StrataCore

/// Decodes docker's json-file log lines:
///
///     {"log":"hello\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}
///
/// A hand-written scanner over the bytes (no Foundation): keys may come in any order, unknown
/// keys (`attrs`, ...) are skipped whatever their value, the `log` string is fully unescaped
/// (`\n \t \" \\ \/ \b \f \r \uXXXX` with surrogate pairs). `log`, `stream` (`stdout` or
/// `stderr`) and a valid RFC 3339 `time` are required. A `log` value ending in `\n` is a full
/// line (the `\n`, and a `\r` before it, are removed); without it the line is partial (docker
/// splits lines longer than 16 KiB). Malformed JSON, an invalid escape or a lone surrogate
/// gives an envelope error holding the raw line. Raw control characters and invalid UTF-8
/// inside strings are passed through rather than rejected (docker never writes them; keeping
/// the bytes is better than turning the line into an error).
public enum DockerJSONDecoder {
    public static func decode(_ line: UnsafeRawBufferPointer) -> RuntimeEntry {
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, line.count))
        defer { scratch.deallocate() }
        return decodeRaw(line, scratch: scratch).entry
    }

    /// The message is a slice of `line`, or unescaped into `scratch` (at least `line.count` bytes).
    @inline(__always)
    static func decodeRaw(_ line: UnsafeRawBufferPointer, scratch: UnsafeMutablePointer<UInt8>) -> RawRuntimeEntry {
        guard let base = line.baseAddress, line.count > 0 else { return .corrupt(line) }
        return decode(base.assumingMemoryBound(to: UInt8.self), count: line.count, scratch: scratch) ?? .corrupt(line)
    }

    public static func decode(_ line: some Collection<UInt8>) -> RuntimeEntry {
        RuntimeFormat.docker.decode(line)
    }

    private enum Key { case log, stream, time, other }

    @inline(__always)
    private static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
    }

    @inline(__always)
    private static func skipSpace(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        var i = i
        while i < n, isSpace(p[i]) { i &+= 1 }
        return i
    }

    private static func decode(_ p: UnsafePointer<UInt8>, count n: Int, scratch: UnsafeMutablePointer<UInt8>)
        -> RawRuntimeEntry?
    {
        var i = skipSpace(p, 0, n)
        guard i < n, p[i] == UInt8(ascii: "{") else { return nil }
        i = skipSpace(p, i + 1, n)

        var content: UnsafeRawBufferPointer?
        var endsWithNewline = false
        var stream: LogStream?
        var time: Int64?

        while true {
            // Key.
            guard i < n, p[i] == UInt8(ascii: "\"") else { return nil }
            let keyStart = i + 1
            let keyStop = ByteScan.firstQuoteOrBackslash(p, from: keyStart, end: n)
            guard keyStop < n else { return nil }
            var key = Key.other
            if p[keyStop] == UInt8(ascii: "\"") {
                key = classify(p + keyStart, keyStop - keyStart)
                i = keyStop + 1
            } else {
                guard let after = skipString(p, i, n) else { return nil }
                i = after
            }
            i = skipSpace(p, i, n)
            guard i < n, p[i] == UInt8(ascii: ":") else { return nil }
            i = skipSpace(p, i + 1, n)
            guard i < n else { return nil }

            // Value.
            switch key {
            case .log:
                guard p[i] == UInt8(ascii: "\""), let (value, newline, after) = decodeString(p, i, n, scratch)
                else { return nil }
                content = value
                endsWithNewline = newline
                i = after
            case .stream:
                guard let (start, end) = plainString(p, i, n) else { return nil }
                stream = streamName(p + start, end - start)
                guard stream != nil else { return nil }
                i = end + 1
            case .time:
                guard let (start, end) = plainString(p, i, n),
                    let parsed = RFC3339Parser.parse(p + start, count: end - start)
                else { return nil }
                time = parsed
                i = end + 1
            case .other:
                guard let after = skipValue(p, i, n) else { return nil }
                i = after
            }

            i = skipSpace(p, i, n)
            guard i < n else { return nil }
            if p[i] == UInt8(ascii: ",") {
                i = skipSpace(p, i + 1, n)
                continue
            }
            guard p[i] == UInt8(ascii: "}") else { return nil }
            i += 1
            break
        }
        guard skipSpace(p, i, n) == n, var content, let stream, let time else { return nil }

        var isPartial = true
        var count = content.count
        if endsWithNewline || (count > 0 && content[count - 1] == UInt8(ascii: "\n")) {
            isPartial = false
            if !endsWithNewline { count -= 1 }
            if count > 0, content[count - 1] == UInt8(ascii: "\r") { count -= 1 }
            content = UnsafeRawBufferPointer(start: content.baseAddress, count: count)
        }
        return RawRuntimeEntry(time: time, stream: stream, isPartial: isPartial, content: content, envelopeError: false)
    }

    @inline(__always)
    private static func classify(_ k: UnsafePointer<UInt8>, _ count: Int) -> Key {
        switch count {
        case 3 where k[0] == UInt8(ascii: "l") && k[1] == UInt8(ascii: "o") && k[2] == UInt8(ascii: "g"):
            return .log
        case 4
        where k[0] == UInt8(ascii: "t") && k[1] == UInt8(ascii: "i") && k[2] == UInt8(ascii: "m")
            && k[3] == UInt8(ascii: "e"):
            return .time
        case 6 where matches(k, "stream"):
            return .stream
        default:
            return .other
        }
    }

    @inline(__always)
    private static func matches(_ k: UnsafePointer<UInt8>, _ literal: StaticString) -> Bool {
        let l = literal.utf8Start
        for j in 0..<literal.utf8CodeUnitCount where k[j] != l[j] { return false }
        return true
    }

    @inline(__always)
    private static func streamName(_ s: UnsafePointer<UInt8>, _ count: Int) -> LogStream? {
        guard count == 6 else { return nil }
        if matches(s, "stdout") { return .stdout }
        if matches(s, "stderr") { return .stderr }
        return nil
    }

    /// A string without escapes starting at the quote at `i`: the bounds of its content.
    @inline(__always)
    private static func plainString(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> (Int, Int)? {
        guard p[i] == UInt8(ascii: "\"") else { return nil }
        let end = ByteScan.firstQuoteOrBackslash(p, from: i + 1, end: n)
        guard end < n, p[end] == UInt8(ascii: "\"") else { return nil }
        return (i + 1, end)
    }

    /// Skips the string whose opening quote is at `i`; returns the index after its closing quote.
    @inline(__always)
    private static func skipString(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int? {
        var j = i + 1
        while true {
            j = ByteScan.firstQuoteOrBackslash(p, from: j, end: n)
            guard j < n else { return nil }
            if p[j] == UInt8(ascii: "\"") { return j + 1 }
            j += 2
        }
    }

    /// Skips any JSON value starting at `i` (structure only; scalars are not validated).
    private static func skipValue(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int? {
        switch p[i] {
        case UInt8(ascii: "\""):
            return skipString(p, i, n)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var j = i
            while j < n {
                switch p[j] {
                case UInt8(ascii: "\""):
                    guard let after = skipString(p, j, n) else { return nil }
                    j = after
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return j + 1 }
                default:
                    break
                }
                j += 1
            }
            return nil
        default:
            var j = i
            while j < n {
                let b = p[j]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || isSpace(b) { break }
                j += 1
            }
            return j > i ? j : nil
        }
    }

    @inline(__always)
    private static func hex4(_ p: UnsafePointer<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        for j in 0..<4 {
            let b = p[j]
            let d: UInt8
            switch b {
            case 0x30...0x39: d = b &- 0x30
            case 0x41...0x46: d = b &- 0x41 &+ 10
            case 0x61...0x66: d = b &- 0x61 &+ 10
            default: return nil
            }
            value = value << 4 | UInt32(d)
        }
        return value
    }

    /// Decodes the string whose opening quote is at `i`: its unescaped bytes, whether a final
    /// escaped `\n` was left out of them, and the index after the closing quote. nil on an
    /// unterminated string, an invalid escape or a lone surrogate.
    ///
    /// Without escapes, or with only the final `\n` that docker writes, the content is a slice
    /// of the line (no copy). Otherwise runs between escapes are copied (8-byte scan, then
    /// memcpy) into `scratch`, which the line's length bounds because escapes never expand
    /// (`\n` is 2 bytes for 1, `\uXXXX` 6 for at most 3 of UTF-8, a surrogate pair 12 for 4).
    @inline(__always)
    private static func decodeString(
        _ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int, _ o: UnsafeMutablePointer<UInt8>
    ) -> (UnsafeRawBufferPointer, Bool, Int)? {
        let start = i + 1
        let first = ByteScan.firstQuoteOrBackslash(p, from: start, end: n)
        guard first < n else { return nil }
        if p[first] == UInt8(ascii: "\"") {
            return (UnsafeRawBufferPointer(start: p + start, count: first - start), false, first + 1)
        }
        if first + 2 < n, p[first + 1] == UInt8(ascii: "n"), p[first + 2] == UInt8(ascii: "\"") {
            return (UnsafeRawBufferPointer(start: p + start, count: first - start), true, first + 3)
        }
        var w = 0
        var j = start
        while true {
            let k = ByteScan.firstQuoteOrBackslash(p, from: j, end: n)
            guard k < n else { return nil }
            if k > j {
                (o + w).update(from: p + j, count: k - j)
                w += k - j
            }
            if p[k] == UInt8(ascii: "\"") {
                return (UnsafeRawBufferPointer(start: o, count: w), false, k + 1)
            }
            guard k + 1 < n else { return nil }
            let c = p[k + 1]
            j = k + 2
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): o[w] = c
            case UInt8(ascii: "n"): o[w] = 0x0A
            case UInt8(ascii: "t"): o[w] = 0x09
            case UInt8(ascii: "r"): o[w] = 0x0D
            case UInt8(ascii: "b"): o[w] = 0x08
            case UInt8(ascii: "f"): o[w] = 0x0C
            case UInt8(ascii: "u"):
                // Hex digits are never quotes, so a valid escape cannot run past the string.
                guard n - j >= 4, var scalar = hex4(p + j) else { return nil }
                j += 4
                if scalar >= 0xD800 && scalar <= 0xDFFF {
                    guard scalar <= 0xDBFF, n - j >= 6, p[j] == UInt8(ascii: "\\"), p[j + 1] == UInt8(ascii: "u"),
                        let low = hex4(p + j + 2), low >= 0xDC00, low <= 0xDFFF
                    else { return nil }
                    j += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                w += encodeUTF8(scalar, o + w)
                continue
            default:
                return nil
            }
            w += 1
        }
    }

    @inline(__always)
    private static func encodeUTF8(_ scalar: UInt32, _ o: UnsafeMutablePointer<UInt8>) -> Int {
        switch scalar {
        case 0..<0x80:
            o[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            o[0] = UInt8(0xC0 | scalar >> 6)
            o[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            o[0] = UInt8(0xE0 | scalar >> 12)
            o[1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            o[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            o[0] = UInt8(0xF0 | scalar >> 18)
            o[1] = UInt8(0x80 | scalar >> 12 & 0x3F)
            o[2] = UInt8(0x80 | scalar >> 6 & 0x3F)
            o[3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }
}
