import StrataCore

/// Syslog, RFC 5424 and RFC 3164 (BSD):
///
///     <165>1 2026-11-21T10:00:00.003Z web-1 orders 4242 ID47 [origin@32473 ip="10.0.0.1"] message
///     <34>Nov 21 10:00:00 web-1 su[123]: 'su root' failed for alice on /dev/pts/8
///
/// The priority gives the severity (0–2 emerg/alert/crit: fatal, 3 err: error, 4 warning: warn,
/// 5–6 notice/info: info, 7 debug: debug) and `syslog.facility`. RFC 3164 stamps take their
/// year from the runtime time. Attributes: `syslog.facility`, `syslog.version`, `host.name`,
/// `syslog.app_name`, `syslog.proc_id`, `syslog.msg_id`, and structured data as
/// `syslog.sd.<SD-ID>.<name>` (an element without parameters as `syslog.sd.<SD-ID>` = "").
/// The body becomes the MSG part (a UTF-8 BOM removed).
public struct SyslogParser: LogParser {
    public let name: String
    public let options: DecoderOptions

    public init(name: String = "syslog", options: DecoderOptions = DecoderOptions()) {
        self.name = name
        self.options = options
    }

    static let severities: [Severity] = [.fatal, .fatal, .fatal, .error, .warn, .info, .info, .debug]

    /// `<PRI>` at the start: (priority, index after `>`).
    @inline(__always)
    static func priority(_ b: Bytes) -> (Int, Int)? {
        guard b.count >= 4, b[0] == ASCII.lessThan, let (value, end) = b.integer(at: 1, end: min(b.count, 5)),
            end - 1 <= 3, end < b.count, b[end] == ASCII.greaterThan, value <= 191
        else { return nil }
        return (value, end + 1)
    }

    public func parse(_ record: inout LogRecord) -> Bool {
        let offset = options.utcOffset
        return ParseOutput.apply(to: &record) { b, output -> Bool in
            guard let (priority, start) = Self.priority(b) else { return false }
            let lineEnd = b.lineEnd()
            guard start < lineEnd else { return false }
            output.attributes.add("syslog.facility", String(priority >> 3))
            let ok: Bool
            if isDigit(b[start]), start + 1 < lineEnd, b[start + 1] == ASCII.space || isDigit(b[start + 1]),
                let (version, afterVersion) = b.integer(at: start, end: lineEnd), afterVersion < lineEnd,
                b[afterVersion] == ASCII.space, version < 100
            {
                output.attributes.add("syslog.version", String(version))
                ok = Self.rfc5424(b, from: afterVersion + 1, lineEnd: lineEnd, offset: offset, into: &output)
            } else {
                ok = Self.rfc3164(b, from: start, lineEnd: lineEnd, offset: offset, into: &output)
            }
            guard ok else { return false }
            output.severity = Self.severities[priority & 7]
            return true
        }
    }

    static func rfc5424(_ b: Bytes, from start: Int, lineEnd: Int, offset: Int, into output: inout ParseOutput) -> Bool {
        var i = start
        func field() -> Range<Int>? {
            let s = i
            while i < lineEnd, b[i] != ASCII.space { i += 1 }
            guard i > s else { return nil }
            let r = s..<i
            if i < lineEnd { i += 1 }
            return r
        }
        guard let stamp = field(), let host = field(), let app = field(), let proc = field(), let msgID = field() else {
            return false
        }
        if !b.equals(stamp, "-") {
            guard let (nanos, end) = TimeScan.dateTime(b, at: stamp.lowerBound, end: stamp.upperBound, offset: offset),
                end == stamp.upperBound
            else { return false }
            output.offerTime(nanos, text: b.string(stamp))
        }
        // Structured data.
        var sd: [(String, String)] = []
        if i < lineEnd, b[i] == ASCII.minus {
            i += 1
        } else if i < lineEnd, b[i] == ASCII.openBracket {
            while i < lineEnd, b[i] == ASCII.openBracket {
                i += 1
                let idStart = i
                while i < lineEnd, b[i] != ASCII.space, b[i] != ASCII.closeBracket { i += 1 }
                guard i < lineEnd, i > idStart else { return false }
                let id = b.string(idStart..<i)
                var hadParameter = false
                while i < lineEnd, b[i] == ASCII.space {
                    i += 1
                    let nameStart = i
                    while i < lineEnd, b[i] != ASCII.equals, b[i] != ASCII.space, b[i] != ASCII.closeBracket { i += 1 }
                    guard i + 1 < lineEnd, b[i] == ASCII.equals, b[i + 1] == ASCII.quote, i > nameStart else { return false }
                    let name = b.string(nameStart..<i)
                    i += 2
                    var value: [UInt8] = []
                    while i < lineEnd, b[i] != ASCII.quote {
                        if b[i] == ASCII.backslash, i + 1 < lineEnd,
                            b[i + 1] == ASCII.quote || b[i + 1] == ASCII.backslash || b[i + 1] == ASCII.closeBracket
                        {
                            i += 1
                        }
                        value.append(b[i])
                        i += 1
                    }
                    guard i < lineEnd else { return false }
                    i += 1
                    sd.append(("syslog.sd.\(id).\(name)", String(decoding: value, as: UTF8.self)))
                    hadParameter = true
                }
                guard i < lineEnd, b[i] == ASCII.closeBracket else { return false }
                i += 1
                if !hadParameter { sd.append(("syslog.sd.\(id)", "")) }
            }
        } else {
            return false
        }
        if i < lineEnd {
            guard b[i] == ASCII.space else { return false }
            i += 1
        }
        if b.hasLiteral("\u{FEFF}", at: i) { i += 3 }
        if !b.equals(host, "-") { output.attributes.add("host.name", b.string(host)) }
        if !b.equals(app, "-") { output.attributes.add("syslog.app_name", b.string(app)) }
        if !b.equals(proc, "-") { output.attributes.add("syslog.proc_id", b.string(proc)) }
        if !b.equals(msgID, "-") { output.attributes.add("syslog.msg_id", b.string(msgID)) }
        for (key, value) in sd { output.attributes.add(key, value) }
        output.body = b.string(min(i, b.count)..<b.count)
        return true
    }

    static func rfc3164(_ b: Bytes, from start: Int, lineEnd: Int, offset: Int, into output: inout ParseOutput) -> Bool {
        var i = start
        // `Mmm dd hh:mm:ss` (day space-padded), or an RFC 3339 stamp.
        if let month = TimeScan.month(b, at: i), i + 15 <= lineEnd, b[i + 3] == ASCII.space {
            let dayStart = b[i + 4] == ASCII.space ? i + 5 : i + 4
            guard let (day, afterDay) = b.integer(at: dayStart, end: lineEnd), afterDay < lineEnd,
                b[afterDay] == ASCII.space, let (timeOfDay, afterClock) = TimeScan.clock(b, at: afterDay + 1, end: lineEnd)
            else { return false }
            let nanos = TimeScan.nearestYear(month: month, day: day, timeOfDay: timeOfDay, offset: offset, runtime: output.runtime)
            output.offerTime(nanos, text: b.string(i..<afterClock))
            i = afterClock
        } else if let (nanos, afterStamp) = TimeScan.dateTime(b, at: i, end: lineEnd, offset: offset, spacedZone: false) {
            output.offerTime(nanos, text: b.string(i..<afterStamp))
            i = afterStamp
        } else {
            // No stamp: the rest is `TAG: MSG` or just the message.
            output.body = b.string(i..<b.count)
            return true
        }
        guard i < lineEnd, b[i] == ASCII.space else { return false }
        i += 1
        // HOSTNAME (absent when the next token already ends the tag).
        var token = i
        while token < lineEnd, b[token] != ASCII.space { token += 1 }
        let firstToken = i..<token
        let isTag = firstToken.count > 1 && (b[token - 1] == ASCII.colon || b[token - 1] == ASCII.closeBracket && token < lineEnd)
        if !isTag, token < lineEnd {
            output.attributes.add("host.name", b.string(firstToken))
            i = token + 1
        }
        // TAG[pid]: message
        var tagEnd = i
        while tagEnd < lineEnd, tagEnd - i < 48, b[tagEnd] != ASCII.colon, b[tagEnd] != ASCII.openBracket,
            b[tagEnd] != ASCII.space
        {
            tagEnd += 1
        }
        var messageStart = i
        if tagEnd > i, tagEnd < lineEnd {
            if b[tagEnd] == ASCII.openBracket,
                let close = b.firstIndex(of: ASCII.closeBracket, from: tagEnd + 1, to: min(lineEnd, tagEnd + 24)),
                close + 1 < lineEnd, b[close + 1] == ASCII.colon
            {
                output.attributes.add("syslog.app_name", b.string(i..<tagEnd))
                output.attributes.add("syslog.proc_id", b.string((tagEnd + 1)..<close))
                messageStart = close + 2
            } else if b[tagEnd] == ASCII.colon {
                output.attributes.add("syslog.app_name", b.string(i..<tagEnd))
                messageStart = tagEnd + 1
            }
        }
        if messageStart < b.count, b[messageStart] == ASCII.space { messageStart += 1 }
        output.body = b.string(messageStart..<b.count)
        return true
    }
}
