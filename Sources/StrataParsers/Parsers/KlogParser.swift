import StrataCore

/// klog / glog: `I1121 10:00:00.123456       1 controller.go:123] msg`.
///
/// The level letter (I, W, E, F) gives the severity; the year comes from the runtime time
/// (the one that puts the stamp nearest to it). Structured klog (`"msg" key="value" n=3`) is
/// split into the message and attributes; otherwise the text after `] ` is the body.
/// Attributes: `thread.id`, `code.file.path`, `code.line.number`.
public struct KlogParser: LogParser {
    public let name: String
    public let options: DecoderOptions

    public init(name: String = "klog", options: DecoderOptions = DecoderOptions()) {
        self.name = name
        self.options = options
    }

    /// `[IWEF]\d{4} \d\d:` at the start.
    @inline(__always)
    static func looksLikeKlog(_ b: Bytes) -> Bool {
        guard b.count >= 10 else { return false }
        switch b[0] {
        case UInt8(ascii: "I"), UInt8(ascii: "W"), UInt8(ascii: "E"), UInt8(ascii: "F"): break
        default: return false
        }
        return b.digits(at: 1, count: 4) != nil && b[5] == ASCII.space && isDigit(b[6]) && isDigit(b[7])
            && b[8] == ASCII.colon
    }

    public func parse(_ record: inout LogRecord) -> Bool {
        let offset = options.utcOffset
        return ParseOutput.apply(to: &record) { b, output -> Bool in
            guard Self.looksLikeKlog(b) else { return false }
            let severity: Severity
            switch b[0] {
            case UInt8(ascii: "I"): severity = .info
            case UInt8(ascii: "W"): severity = .warn
            case UInt8(ascii: "E"): severity = .error
            default: severity = .fatal
            }
            let lineEnd = b.lineEnd()
            guard let month = b.digits(at: 1, count: 2), let day = b.digits(at: 3, count: 2),
                let (timeOfDay, afterClock) = TimeScan.clock(b, at: 6, end: lineEnd)
            else { return false }
            var i = b.skipBlanks(afterClock, lineEnd)
            guard let (thread, afterThread) = b.integer(at: i, end: lineEnd), afterThread < lineEnd,
                b[afterThread] == ASCII.space
            else { return false }
            i = afterThread + 1
            // file:line]
            let fileStart = i
            guard let close = b.firstIndex(of: ASCII.closeBracket, from: i, to: min(lineEnd, i + 256)) else {
                return false
            }
            var colon = close
            while colon > fileStart, b[colon - 1] != ASCII.colon { colon -= 1 }
            guard colon > fileStart + 1, let (line, lineNumberEnd) = b.integer(at: colon, end: close),
                lineNumberEnd == close
            else { return false }
            var messageStart = close + 1
            if messageStart < b.count, b[messageStart] == ASCII.space { messageStart += 1 }

            output.severity = severity
            let nanos = TimeScan.nearestYear(
                month: month, day: day, timeOfDay: timeOfDay, offset: offset, runtime: output.runtime)
            output.offerTime(nanos, text: b.string(1..<afterClock))
            output.attributes.add("thread.id", String(thread))
            output.attributes.add("code.file.path", b.string(fileStart..<(colon - 1)))
            output.attributes.add("code.line.number", String(line))

            // Structured: "message" key=value …
            if messageStart < lineEnd, b[messageStart] == ASCII.quote,
                let (body, pairs) = Self.structured(b, from: messageStart, lineEnd: lineEnd)
            {
                output.body = lineEnd < b.count ? body + b.string(lineEnd..<b.count) : body
                for pair in pairs {
                    output.attributes.add(b.string(pair.key), KeyValueScanner.value(b, pair), hash: fnv1a(b, pair.key))
                }
            } else {
                output.body = b.string(min(messageStart, b.count)..<b.count)
            }
            return true
        }
    }

    /// `"msg" k="v" n=1`: the unquoted message and the pairs, or nil when the tail is not pairs.
    static func structured(_ b: Bytes, from start: Int, lineEnd: Int) -> (String, [KeyValuePair])? {
        var i = start + 1
        var escaped = false
        while i < lineEnd, b[i] != ASCII.quote {
            if b[i] == ASCII.backslash {
                escaped = true
                i += 1
            }
            i += 1
        }
        guard i < lineEnd else { return nil }
        let messageRange = (start + 1)..<i
        i += 1
        var pairs: [KeyValuePair] = []
        guard i == lineEnd || isBlank(b[i]), KeyValueScanner.scan(b, from: i, to: lineEnd, into: &pairs),
            !pairs.contains(where: \.bare)
        else { return nil }
        let message = escaped ? GoQuoted.unescape(b, messageRange) : b.string(messageRange)
        return (message, pairs)
    }
}
