import StrataCore

/// A time stamp at the start of a text line: a date and time (`2026-11-21 10:00:00,123`,
/// `2026-11-21T10:00:00.123+01:00`, `2026/11/21 10:00:00`), or a time of day alone
/// (`10:00:00.123`), which takes its date from the runtime time (docs/PARSERS.md).
enum LeadingStamp {
    @inline(__always)
    static func scan(_ b: Bytes, at i: Int, end: Int, offset: Int, runtime: Int64) -> (Int64, Int)? {
        guard i + 8 <= end, isDigit(b[i]), isDigit(b[i + 1]) else { return nil }
        if let result = TimeScan.dateTime(b, at: i, end: end, offset: offset) { return result }
        if let (timeOfDay, after) = TimeScan.clock(b, at: i, end: end) {
            return (TimeScan.nearestDay(timeOfDay: timeOfDay, offset: offset, runtime: runtime), after)
        }
        return nil
    }
}

/// Java logging text layouts (logback, log4j, Spring Boot's console pattern, Kafka's log4j,
/// the unified JVM log, tab-separated istio/zap console):
///
///     2026-11-21 10:00:00.123  INFO [app,trace,span] 1 --- [nio-8080-exec-1] c.e.d.OrderController : message
///     2026-11-21T10:00:00.123Z  INFO 1 --- [app] [nio-8080-exec-1] [trace-span] c.e.d.OrderController : message
///     2026-11-21 10:00:00,123 ERROR [thread] logger - message
///     10:00:00.123 [main] INFO  c.e.Foo - message             (time only: date from the runtime time)
///     10:00:00.123 INFO c.e.Foo#42 message
///     [2026-11-21 10:00:00,123] INFO message (kafka.cluster.Partition)
///
/// A time stamp and a level are required; the body becomes the message. Attributes:
/// `thread.name`, `process.pid`, `service.name`, `log.logger`, `code.line.number` /
/// `code.function.name` (after `#`). Sleuth/Micrometer ids in the header set the trace context.
public struct LogbackParser: LogParser {
    public let name: String
    public let options: DecoderOptions

    public init(name: String = "logback", options: DecoderOptions = DecoderOptions()) {
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
        guard lineEnd >= 12 else { return false }
        var i = 0
        let bracketed = b[0] == ASCII.openBracket
        if bracketed { i = 1 }
        guard let (nanos, afterStamp) = LeadingStamp.scan(b, at: i, end: lineEnd, offset: offset, runtime: output.runtime)
        else { return false }
        i = afterStamp
        if bracketed {
            guard i < lineEnd, b[i] == ASCII.closeBracket else { return false }
            i += 1
        }
        let stampRange = (bracketed ? 1 : 0)..<afterStamp

        // Kafka: `[stamp] LEVEL message (logger)`.
        if bracketed, let (severity, messageStart, logger) = kafkaForm(b, from: i, lineEnd: lineEnd) {
            output.severity = severity
            output.offerTime(nanos, text: b.string(stampRange))
            if let logger { output.attributes.add("log.logger", b.string(logger)) }
            let messageEnd = logger.map { $0.lowerBound - 2 } ?? lineEnd
            output.body = b.string(messageStart..<max(messageStart, messageEnd)) + b.string(lineEnd..<b.count)
            return true
        }

        var severity: Severity?
        var sawDashes = false
        var pid: Range<Int>?
        var threadGroups: (Range<Int>?, Range<Int>?) = (nil, nil)
        var groupCount = 0
        var service: Range<Int>?
        var trace: TraceID?
        var span: SpanID?
        header: for _ in 0..<8 {
            i = b.skipBlanks(i, lineEnd)
            guard i < lineEnd else { break }
            if b[i] == ASCII.openBracket {
                guard let close = b.firstIndex(of: ASCII.closeBracket, from: i + 1, to: lineEnd) else { break }
                let content = b.trimmed((i + 1)..<close)
                if content.isEmpty {
                    // Spring Boot 3's correlation field, padded when there is no trace.
                } else if severity == nil, content.count >= 4, let s = SeverityWords.match(b, content) {
                    severity = s
                } else if let ids = sleuth(b, content) {
                    if let t = ids.trace { trace = t }
                    if let s = ids.span { span = s }
                    if let app = ids.app, !app.isEmpty { service = app }
                } else {
                    guard groupCount < 2 else { break header }
                    if groupCount == 0 { threadGroups.0 = content } else { threadGroups.1 = content }
                    groupCount += 1
                }
                i = close + 1
                continue
            }
            var tokenEnd = i
            while tokenEnd < lineEnd, !isBlank(b[tokenEnd]) { tokenEnd += 1 }
            let token = i..<tokenEnd
            if severity == nil, token.count >= 4, token.count <= 8, let s = SeverityWords.match(b, token) {
                severity = s
            } else if severity != nil, !sawDashes, pid == nil, b.integer(at: i, end: tokenEnd)?.1 == tokenEnd {
                pid = token
            } else if b.equals(token, "---") {
                sawDashes = true
            } else {
                break
            }
            i = tokenEnd
        }
        guard let severity else { return false }

        // Logger: `logger : message`, `logger - message`, `logger#line message`, tab-separated.
        var messageStart = i
        var logger: Range<Int>?
        var loggerSuffix: Range<Int>?
        if i < lineEnd {
            var tokenEnd = i
            while tokenEnd < lineEnd, !isBlank(b[tokenEnd]) { tokenEnd += 1 }
            let j = b.skipBlanks(tokenEnd, lineEnd)
            if tokenEnd > i, j < lineEnd, b[j] == ASCII.colon || b[j] == ASCII.minus,
                j + 1 == lineEnd || isBlank(b[j + 1]), j > tokenEnd || b[j] == ASCII.colon,
                b[tokenEnd - 1] != ASCII.colon
            {
                logger = i..<tokenEnd
                messageStart = min(j + 2, lineEnd)
            } else if tokenEnd > i, let hash = b.firstIndex(of: ASCII.hash, from: i + 1, to: tokenEnd),
                hash + 1 < tokenEnd
            {
                logger = i..<hash
                loggerSuffix = (hash + 1)..<tokenEnd
                messageStart = j
            } else if i > 0, b[i - 1] == ASCII.tab, tokenEnd < lineEnd, b[tokenEnd] == ASCII.tab {
                logger = i..<tokenEnd
                messageStart = tokenEnd + 1
            }
        }

        output.severity = severity
        output.offerTime(nanos, text: b.string(stampRange))
        if let trace { output.traceID = trace }
        if let span { output.spanID = span }
        if let pid { output.attributes.add("process.pid", b.string(pid)) }
        if sawDashes, groupCount == 2, let app = threadGroups.0, let thread = threadGroups.1 {
            output.attributes.add("service.name", b.string(app))
            output.attributes.add("thread.name", b.string(thread))
        } else {
            if let thread = threadGroups.0 { output.attributes.add("thread.name", b.string(thread)) }
            if let other = threadGroups.1 { output.attributes.add("log.context", b.string(other)) }
        }
        if let service, !(sawDashes && groupCount == 2) { output.attributes.add("service.name", b.string(service)) }
        if let logger { output.attributes.add("log.logger", b.string(logger)) }
        if let loggerSuffix {
            if let (line, end) = b.integer(at: loggerSuffix.lowerBound, end: loggerSuffix.upperBound),
                end == loggerSuffix.upperBound
            {
                output.attributes.add("code.line.number", String(line))
            } else {
                output.attributes.add("code.function.name", b.string(loggerSuffix))
            }
        }
        output.body = b.string(min(messageStart, b.count)..<b.count)
        return true
    }

    /// `LEVEL message (a.b.Logger)` after a bracketed stamp.
    static func kafkaForm(_ b: Bytes, from start: Int, lineEnd: Int) -> (Severity, Int, Range<Int>?)? {
        let i = b.skipBlanks(start, lineEnd)
        var tokenEnd = i
        while tokenEnd < lineEnd, isLetter(b[tokenEnd]) { tokenEnd += 1 }
        guard tokenEnd - i >= 4, tokenEnd < lineEnd, b[tokenEnd] == ASCII.space,
            let severity = SeverityWords.match(b, i..<tokenEnd)
        else { return nil }
        let messageStart = tokenEnd + 1
        // The trailing `(logger)`.
        var end = lineEnd
        while end > messageStart, b[end - 1] == ASCII.carriageReturn || isBlank(b[end - 1]) { end -= 1 }
        guard end > messageStart + 3, b[end - 1] == ASCII.closeParen else { return nil }
        var open = end - 2
        while open > messageStart, b[open] != ASCII.openParen, b[open] > ASCII.space { open -= 1 }
        guard b[open] == ASCII.openParen, open > messageStart, b[open - 1] == ASCII.space,
            b.firstIndex(of: ASCII.dot, from: open + 1, to: end - 1) != nil
        else { return nil }
        return (severity, messageStart, (open + 1)..<(end - 1))
    }

    /// Sleuth `app,trace,span[,export]` or Micrometer `trace-span` in a header bracket.
    static func sleuth(_ b: Bytes, _ content: Range<Int>) -> (app: Range<Int>?, trace: TraceID?, span: SpanID?)? {
        guard !content.isEmpty else { return nil }
        if content.count == 49, b[content.lowerBound + 32] == ASCII.minus,
            let trace = TraceHex.traceID(b, content.lowerBound..<(content.lowerBound + 32)),
            let span = TraceHex.spanID(b, (content.lowerBound + 33)..<content.upperBound)
        {
            return (nil, trace, span)
        }
        guard let firstComma = b.firstIndex(of: ASCII.comma, from: content.lowerBound, to: content.upperBound) else {
            return nil
        }
        let secondComma = b.firstIndex(of: ASCII.comma, from: firstComma + 1, to: content.upperBound)
        guard let secondComma else {
            // `trace,span`
            guard let trace = TraceHex.traceID(b, content.lowerBound..<firstComma),
                let span = TraceHex.spanID(b, (firstComma + 1)..<content.upperBound)
            else { return nil }
            return (nil, trace, span)
        }
        let thirdComma = b.firstIndex(of: ASCII.comma, from: secondComma + 1, to: content.upperBound)
        let traceRange = (firstComma + 1)..<secondComma
        let spanRange = (secondComma + 1)..<(thirdComma ?? content.upperBound)
        let trace = TraceHex.traceID(b, traceRange)
        let span = TraceHex.spanID(b, spanRange)
        guard traceRange.isEmpty || trace != nil, spanRange.isEmpty || span != nil else { return nil }
        return (content.lowerBound..<firstComma, trace, span)
    }
}

/// Only a leading time stamp (Go's `log`, nginx's error log, anything stamped): the time is
/// taken, the body is kept as it came. Used by auto-detection as the last resort and never
/// remembered for a source.
public struct TimestampPrefixParser: LogParser {
    public let name: String
    public let options: DecoderOptions

    public init(name: String = "timestamp", options: DecoderOptions = DecoderOptions()) {
        self.name = name
        self.options = options
    }

    public func parse(_ record: inout LogRecord) -> Bool {
        let offset = options.utcOffset
        return ParseOutput.apply(to: &record) { b, output -> Bool in
            let lineEnd = b.lineEnd()
            let start = lineEnd > 0 && b[0] == ASCII.openBracket ? 1 : 0
            guard
                let (nanos, end) = LeadingStamp.scan(
                    b, at: start, end: lineEnd, offset: offset, runtime: output.runtime),
                end == lineEnd || !isAlnum(b[end]), output.offerTime(nanos)
            else { return false }
            return true
        }
    }
}
