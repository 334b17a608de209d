import StrataCore

/// `key=value key2="quoted \"value\"" flag` pairs (logfmt, klog's structured tail, the
/// bracketed fields of Python's OpenTelemetry format).
struct KeyValuePair {
    var key: Range<Int>
    /// The value without its quotes.
    var value: Range<Int>
    var quoted: Bool
    var escaped: Bool
    /// A key written without `=`.
    var bare: Bool
}

enum KeyValueScanner {
    /// Scans `start..<end` into `pairs`. Fails (false) on an unterminated quote, a quote
    /// inside a key, or text glued to a closing quote.
    static func scan(_ b: Bytes, from start: Int, to end: Int, into pairs: inout [KeyValuePair]) -> Bool {
        var i = start
        while true {
            while i < end, isBlank(b[i]) || b[i] == ASCII.carriageReturn { i += 1 }
            guard i < end else { return true }
            let keyStart = i
            while i < end {
                let c = b[i]
                if c <= ASCII.space || c == ASCII.equals || c == ASCII.quote { break }
                i += 1
            }
            let keyEnd = i
            guard keyEnd > keyStart else { return false }
            if i < end, b[i] == ASCII.quote { return false }
            guard i < end, b[i] == ASCII.equals else {
                pairs.append(KeyValuePair(key: keyStart..<keyEnd, value: keyEnd..<keyEnd, quoted: false, escaped: false, bare: true))
                continue
            }
            i += 1
            if i < end, b[i] == ASCII.quote {
                i += 1
                let valueStart = i
                var escaped = false
                while i < end, b[i] != ASCII.quote {
                    if b[i] == ASCII.backslash {
                        escaped = true
                        i += 1
                    }
                    i += 1
                }
                guard i < end else { return false }
                let valueEnd = i
                i += 1
                if i < end, !isBlank(b[i]), b[i] != ASCII.carriageReturn { return false }
                pairs.append(KeyValuePair(key: keyStart..<keyEnd, value: valueStart..<valueEnd, quoted: true, escaped: escaped, bare: false))
            } else {
                let valueStart = i
                while i < end, b[i] > ASCII.space { i += 1 }
                pairs.append(KeyValuePair(key: keyStart..<keyEnd, value: valueStart..<i, quoted: false, escaped: false, bare: false))
            }
        }
    }

    static func value(_ b: Bytes, _ pair: KeyValuePair) -> String {
        pair.escaped ? GoQuoted.unescape(b, pair.value) : b.string(pair.value)
    }
}

/// Go's `strconv.Quote` escapes: `\n \t \" \\ \xHH \uHHHH \UHHHHHHHH \ooo` and friends. An
/// unknown escape is kept as written.
enum GoQuoted {
    static func unescape(_ b: Bytes, _ range: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let c = b[i]
            guard c == ASCII.backslash, i + 1 < end else {
                out.append(c)
                i += 1
                continue
            }
            let e = b[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(ASCII.newline)
            case UInt8(ascii: "t"): out.append(ASCII.tab)
            case UInt8(ascii: "r"): out.append(ASCII.carriageReturn)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case ASCII.backslash, ASCII.quote, ASCII.apostrophe, ASCII.slash: out.append(e)
            case UInt8(ascii: "x"):
                if let v = TraceHex.hex64(b, at: i, count: 2), i + 2 <= end {
                    out.append(UInt8(v))
                    i += 2
                } else {
                    out.append(ASCII.backslash)
                    out.append(e)
                }
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let digits = e == UInt8(ascii: "u") ? 4 : 8
                if i + digits <= end, let v = TraceHex.hex64(b, at: i, count: digits),
                    let scalar = Unicode.Scalar(UInt32(truncatingIfNeeded: v))
                {
                    JSONUnescape.appendUTF8(scalar, to: &out)
                    i += digits
                } else {
                    out.append(ASCII.backslash)
                    out.append(e)
                }
            case 0x30...0x37:
                if i + 2 <= end, (0x30...0x37).contains(b[i]), (0x30...0x37).contains(b[i + 1]) {
                    let v = (Int(e) - 0x30) * 64 + (Int(b[i]) - 0x30) * 8 + (Int(b[i + 1]) - 0x30)
                    out.append(UInt8(truncatingIfNeeded: v))
                    i += 2
                } else {
                    out.append(ASCII.backslash)
                    out.append(e)
                }
            default:
                out.append(ASCII.backslash)
                out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
