import StrataCore

/// logfmt (`time=… level=warn msg="…" key=value`): Go's slog text handler, logrus text,
/// go-kit, Grafana. The first token must be a `key=value` pair and bare words must be fewer
/// than pairs. Well-known keys as for JSON (`msg`/`message`, `time`/`ts`/`t`/`timestamp`,
/// `level`/`lvl`/`severity`, `trace_id`/`traceID`/…, `span_id`/`spanID`/…); other pairs become
/// attributes (a bare key gets an empty value). Lines after the first (a stack trace joined by
/// the agent) stay after the message.
public struct LogfmtParser: LogParser {
    public let name: String
    public let options: DecoderOptions

    public init(name: String = "logfmt", options: DecoderOptions = DecoderOptions()) {
        self.name = name
        self.options = options
    }

    public func parse(_ record: inout LogRecord) -> Bool {
        let offset = options.utcOffset
        return ParseOutput.apply(to: &record) { b, output -> Bool in
            let lineEnd = b.lineEnd()
            guard lineEnd > 2, Self.startsWithPair(b, end: lineEnd) else { return false }
            var pairs: [KeyValuePair] = []
            pairs.reserveCapacity(12)
            guard KeyValueScanner.scan(b, from: 0, to: lineEnd, into: &pairs), let first = pairs.first, !first.bare
            else { return false }
            var bare = 0
            for pair in pairs where pair.bare { bare += 1 }
            guard bare * 2 < pairs.count else { return false }
            Self.emit(b, pairs, lineEnd: lineEnd, offset: offset, into: &output)
            return true
        }
    }

    /// `[A-Za-z_@][A-Za-z0-9_.@/-]*=` at the start.
    @inline(__always)
    static func startsWithPair(_ b: Bytes, end: Int) -> Bool {
        guard end > 0 else { return false }
        let first = b[0]
        guard isLetter(first) || first == ASCII.underscore || first == ASCII.at else { return false }
        var i = 1
        while i < end, i < 64 {
            let c = b[i]
            if c == ASCII.equals { return true }
            guard isAlnum(c) || c == ASCII.underscore || c == ASCII.dot || c == ASCII.minus || c == ASCII.at
                || c == ASCII.slash
            else { return false }
            i += 1
        }
        return false
    }

    static func role(_ b: Bytes, _ key: Range<Int>) -> (JSONRole, UInt8) {
        if key.count == 1, b[key.lowerBound] == UInt8(ascii: "t") { return (.time, 3) }
        return JSONKeys.classify(b, key)
    }

    static func emit(_ b: Bytes, _ pairs: [KeyValuePair], lineEnd: Int, offset: Int, into output: inout ParseOutput) {
        var message = -1
        var messageRank = UInt8.max
        var level = -1
        var levelRank = UInt8.max
        var time = -1
        var timeRank = UInt8.max
        var trace = -1
        var span = -1
        for (index, pair) in pairs.enumerated() where !pair.bare {
            let (role, rank) = role(b, pair.key)
            switch role {
            case .message:
                if rank < messageRank, rank != JSONKeys.otelBodyRank {
                    message = index
                    messageRank = rank
                }
            case .level:
                if rank < levelRank, SeverityWords.value(b, pair.value) != nil {
                    level = index
                    levelRank = rank
                }
            case .time:
                if rank < timeRank, !pair.escaped, let nanos = TimeScan.anyStamp(b, pair.value, offset: offset),
                    output.offerTime(nanos)
                {
                    time = index
                    timeRank = rank
                }
            case .traceID:
                if trace < 0, TraceHex.traceID(b, pair.value) != nil { trace = index }
            case .spanID:
                if span < 0, TraceHex.spanID(b, pair.value) != nil { span = index }
            case .severityNumber, .none:
                break
            }
        }
        if message >= 0 {
            let text = KeyValueScanner.value(b, pairs[message])
            output.body = lineEnd < b.count ? text + b.string(lineEnd..<b.count) : text
        }
        if level >= 0 { output.severity = SeverityWords.value(b, pairs[level].value) }
        if trace >= 0 { output.traceID = TraceHex.traceID(b, pairs[trace].value) }
        if span >= 0 { output.spanID = TraceHex.spanID(b, pairs[span].value) }
        for (index, pair) in pairs.enumerated() {
            if index == message || index == level || index == time || index == trace || index == span { continue }
            output.attributes.add(b.string(pair.key), KeyValueScanner.value(b, pair), hash: fnv1a(b, pair.key))
        }
    }
}
