import StrataCore

/// Python `logging` layouts:
///
///     2026-11-21 10:00:00,123 - orders.api - ERROR - message           (the common custom format)
///     ERROR:root:message                                                (basicConfig's default)
///     2026-11-21 10:00:00,123 INFO [orders.api] [views.py:42] [trace_id=… span_id=… resource.service.name=orders trace_sampled=True] - message
///                                                                       (OpenTelemetry logging instrumentation)
///     2026-11-21 10:00:00,123 WARNING orders.api: message               (also with ANSI colours, or `[WARNING]`)
///     [2026-11-21 10:00:00 +0000] [12] [INFO] message                   (gunicorn)
///
/// Attributes: `log.logger`, `code.file.path`, `code.line.number`, `service.name`, `process.pid`.
public struct PythonLoggingParser: LogParser {
    public let name: String
    public let options: DecoderOptions

    public init(name: String = "python", options: DecoderOptions = DecoderOptions()) {
        self.name = name
        self.options = options
    }

    public func parse(_ record: inout LogRecord) -> Bool {
        let offset = options.utcOffset
        return ParseOutput.apply(to: &record) { b, output -> Bool in
            Self.scan(b, offset: offset, into: &output)
        }
    }

    static func scan(_ b: Bytes, offset: Int, into output: inout ParseOutput) -> Bool {
        let lineEnd = b.lineEnd()
        guard lineEnd >= 6 else { return false }
        if isUpper(b[0]) { return basicConfig(b, lineEnd: lineEnd, into: &output) }
        if b[0] == ASCII.openBracket { return gunicorn(b, lineEnd: lineEnd, offset: offset, into: &output) }
        guard let (nanos, afterStamp) = TimeScan.dateTime(b, at: 0, end: lineEnd, offset: offset) else { return false }
        let stampText = 0..<afterStamp

        // `stamp - name - LEVEL - message`
        if b.hasLiteral(" - ", at: afterStamp) {
            let nameStart = afterStamp + 3
            guard let nameEnd = find(b, " - ", from: nameStart, to: lineEnd) else { return false }
            let levelStart = nameEnd + 3
            guard let levelEnd = find(b, " - ", from: levelStart, to: lineEnd),
                let severity = SeverityWords.match(b, levelStart..<levelEnd), levelEnd - levelStart >= 4
            else { return false }
            output.severity = severity
            output.offerTime(nanos, text: b.string(stampText))
            output.attributes.add("log.logger", b.string(nameStart..<nameEnd))
            output.body = b.string((levelEnd + 3)..<b.count)
            return true
        }
        guard afterStamp < lineEnd, b[afterStamp] == ASCII.space else { return false }
        var i = afterStamp + 1

        // The level, maybe coloured or bracketed.
        i = skipANSI(b, i, lineEnd)
        var bracketedLevel = false
        if i < lineEnd, b[i] == ASCII.openBracket {
            bracketedLevel = true
            i += 1
        }
        var levelEnd = i
        while levelEnd < lineEnd, isUpper(b[levelEnd]) { levelEnd += 1 }
        guard levelEnd - i >= 4, let severity = SeverityWords.match(b, i..<levelEnd) else { return false }
        i = levelEnd
        if bracketedLevel {
            guard i < lineEnd, b[i] == ASCII.closeBracket else { return false }
            i += 1
        }
        i = skipANSI(b, i, lineEnd)
        i = b.skipBlanks(i, lineEnd)
        guard i < lineEnd else { return false }

        // OpenTelemetry: `[name] [file:line] [trace_id=… …] - message`
        if b[i] == ASCII.openBracket, !bracketedLevel {
            guard let nameEnd = b.firstIndex(of: ASCII.closeBracket, from: i + 1, to: lineEnd),
                b.hasLiteral(" [", at: nameEnd + 1),
                let fileEnd = b.firstIndex(of: ASCII.closeBracket, from: nameEnd + 3, to: lineEnd),
                b.hasLiteral(" [", at: fileEnd + 1),
                let contextEnd = b.firstIndex(of: ASCII.closeBracket, from: fileEnd + 3, to: lineEnd),
                b.hasLiteral(" - ", at: contextEnd + 1) || contextEnd + 2 == lineEnd
            else { return false }
            var pairs: [KeyValuePair] = []
            guard KeyValueScanner.scan(b, from: fileEnd + 3, to: contextEnd, into: &pairs) else { return false }
            output.severity = severity
            output.offerTime(nanos, text: b.string(stampText))
            output.attributes.add("log.logger", b.string((i + 1)..<nameEnd))
            let file = (nameEnd + 3)..<fileEnd
            if let colon = lastIndex(of: ASCII.colon, in: b, file), let (line, end) = b.integer(at: colon + 1, end: fileEnd),
                end == fileEnd
            {
                output.attributes.add("code.file.path", b.string(file.lowerBound..<colon))
                output.attributes.add("code.line.number", String(line))
            } else {
                output.attributes.add("code.file.path", b.string(file))
            }
            for pair in pairs where !pair.bare {
                if b.equals(pair.key, "trace_id") || b.equals(pair.key, "otelTraceID") {
                    if let trace = TraceHex.traceID(b, pair.value) { output.traceID = trace }
                } else if b.equals(pair.key, "span_id") || b.equals(pair.key, "otelSpanID") {
                    if let span = TraceHex.spanID(b, pair.value) { output.spanID = span }
                } else if b.equals(pair.key, "resource.service.name") || b.equals(pair.key, "otelServiceName") {
                    if !pair.value.isEmpty { output.attributes.add("service.name", b.string(pair.value)) }
                } else if b.equals(pair.key, "trace_sampled") || b.equals(pair.key, "otelTraceSampled") {
                    continue
                } else {
                    output.attributes.add(b.string(pair.key), KeyValueScanner.value(b, pair))
                }
            }
            output.body = b.string(min(contextEnd + 4, b.count)..<b.count)
            return true
        }

        // `name: message`
        var nameEnd = i
        while nameEnd < lineEnd, b[nameEnd] > ASCII.space, b[nameEnd] != ASCII.colon { nameEnd += 1 }
        guard nameEnd > i, nameEnd + 1 < lineEnd, b[nameEnd] == ASCII.colon, b[nameEnd + 1] == ASCII.space else {
            return false
        }
        output.severity = severity
        output.offerTime(nanos, text: b.string(stampText))
        output.attributes.add("log.logger", b.string(i..<nameEnd))
        output.body = b.string((nameEnd + 2)..<b.count)
        return true
    }

    /// `LEVEL:name:message`
    static func basicConfig(_ b: Bytes, lineEnd: Int, into output: inout ParseOutput) -> Bool {
        var levelEnd = 0
        while levelEnd < lineEnd, isUpper(b[levelEnd]) { levelEnd += 1 }
        guard levelEnd >= 4, levelEnd < lineEnd, b[levelEnd] == ASCII.colon,
            let severity = SeverityWords.match(b, 0..<levelEnd)
        else { return false }
        let nameStart = levelEnd + 1
        var nameEnd = nameStart
        while nameEnd < lineEnd, b[nameEnd] > ASCII.space, b[nameEnd] != ASCII.colon { nameEnd += 1 }
        guard nameEnd > nameStart, nameEnd < lineEnd, b[nameEnd] == ASCII.colon else { return false }
        output.severity = severity
        output.attributes.add("log.logger", b.string(nameStart..<nameEnd))
        output.body = b.string((nameEnd + 1)..<b.count)
        return true
    }

    /// `[2026-11-21 10:00:00 +0000] [12] [INFO] message`
    static func gunicorn(_ b: Bytes, lineEnd: Int, offset: Int, into output: inout ParseOutput) -> Bool {
        guard let (nanos, afterStamp) = TimeScan.dateTime(b, at: 1, end: lineEnd, offset: offset),
            b.hasLiteral("] [", at: afterStamp),
            let (pid, afterPid) = b.integer(at: afterStamp + 3, end: lineEnd), b.hasLiteral("] [", at: afterPid),
            let levelEnd = b.firstIndex(of: ASCII.closeBracket, from: afterPid + 3, to: lineEnd),
            let severity = SeverityWords.match(b, (afterPid + 3)..<levelEnd)
        else { return false }
        output.severity = severity
        output.offerTime(nanos, text: b.string(1..<afterStamp))
        output.attributes.add("process.pid", String(pid))
        var messageStart = levelEnd + 1
        if messageStart < b.count, b[messageStart] == ASCII.space { messageStart += 1 }
        output.body = b.string(messageStart..<b.count)
        return true
    }

    @inline(__always)
    static func skipANSI(_ b: Bytes, _ start: Int, _ end: Int) -> Int {
        var i = start
        while i + 1 < end, b[i] == ASCII.escape, b[i + 1] == ASCII.openBracket {
            i += 2
            while i < end, !isLetter(b[i]) { i += 1 }
            i += 1
        }
        return min(i, end)
    }

    static func find(_ b: Bytes, _ literal: StaticString, from start: Int, to end: Int) -> Int? {
        var i = start
        let first = literal.utf8Start[0]
        while i + literal.utf8CodeUnitCount <= end {
            if b[i] == first, b.hasLiteral(literal, at: i) { return i }
            i += 1
        }
        return nil
    }

    static func lastIndex(of byte: UInt8, in b: Bytes, _ range: Range<Int>) -> Int? {
        var i = range.upperBound - 1
        while i >= range.lowerBound {
            if b[i] == byte { return i }
            i -= 1
        }
        return nil
    }
}
