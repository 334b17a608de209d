import StrataCore

/// JSON lines: zap, zerolog, logrus, pino, bunyan, logstash/ECS, python-json-logger, Serilog
/// CLEF and OpenTelemetry-shaped records. A hand-written scanner (no JSONSerialization).
///
/// Well-known keys become the record's message, time, severity and trace context; every other
/// member becomes an attribute (nested objects flattened to `a.b`, arrays kept as their JSON
/// text, strings unescaped, numbers/booleans/null as written). The body becomes the message
/// when there is one, and stays the JSON line otherwise. Anything that is not one JSON object
/// (truncated, invalid escapes, trailing text) is left to other parsers.
public struct JSONLogParser: LogParser {
    public let name: String
    public let options: DecoderOptions

    public init(name: String = "json", options: DecoderOptions = DecoderOptions()) {
        self.name = name
        self.options = options
    }

    public func parse(_ record: inout LogRecord) -> Bool {
        let options = self.options
        return ParseOutput.apply(to: &record) { bytes, output -> Bool in
            guard bytes.count >= 2 else { return false }
            var scanner = JSONObjectScanner(bytes)
            guard scanner.scanRecord() else { return false }
            scanner.emit(into: &output, options: options)
            return true
        }
    }
}

/// What a member means to the record.
enum JSONRole: UInt8 {
    case none, message, time, level, severityNumber, traceID, spanID
}

struct JSONField {
    enum Kind: UInt8 { case string, escapedString, number, literal, raw }
    var keyStart: Int32
    var keyEnd: Int32
    var keyInArena: Bool
    var kind: Kind
    var role: JSONRole
    var rank: UInt8
    var valueStart: Int
    var valueEnd: Int
    var keyHash: UInt64
}

/// Scans one JSON object, recording every leaf member with its flattened key.
struct JSONObjectScanner {
    static let maxDepth = 16

    let b: Bytes
    let n: Int
    var i = 0
    var fields: [JSONField] = []
    /// Flattened keys of nested members and unescaped keys.
    var arena: [UInt8] = []
    var prefix: [UInt8] = []

    init(_ bytes: Bytes) {
        b = bytes
        n = bytes.count
        fields.reserveCapacity(16)
    }

    // MARK: Scanning

    @inline(__always)
    mutating func skipWhitespace() {
        while i < n {
            let c = b[i]
            guard c == ASCII.space || c == ASCII.tab || c == ASCII.newline || c == ASCII.carriageReturn else { return }
            i += 1
        }
    }

    /// The whole body must be one object, with only whitespace around it.
    mutating func scanRecord() -> Bool {
        skipWhitespace()
        guard i < n, b[i] == ASCII.openBrace else { return false }
        guard scanObject(depth: 0) else { return false }
        skipWhitespace()
        return i == n
    }

    /// At `"`: moves past the closing quote. Returns (content range, has escapes), nil when
    /// unterminated or an escape is invalid.
    @inline(__always)
    mutating func scanString() -> (Int, Int, Bool)? {
        i += 1
        let start = i
        var escaped = false
        let base = b.baseAddress!
        while true {
            // Eight bytes at a time until a quote or backslash shows up.
            while i + 8 <= n {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                if hasByte(word, 0x22) || hasByte(word, 0x5C) { break }
                i += 8
            }
            while i < n {
                let c = b[i]
                if c == ASCII.quote || c == ASCII.backslash { break }
                i += 1
            }
            guard i < n else { return nil }
            if b[i] == ASCII.quote {
                let end = i
                i += 1
                return (start, end, escaped)
            }
            // Backslash.
            escaped = true
            guard i + 1 < n else { return nil }
            switch b[i + 1] {
            case ASCII.quote, ASCII.backslash, ASCII.slash, UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                i += 2
            case UInt8(ascii: "u"):
                guard i + 6 <= n, isHexDigit(b[i + 2]), isHexDigit(b[i + 3]), isHexDigit(b[i + 4]),
                    isHexDigit(b[i + 5])
                else { return nil }
                i += 6
            default:
                return nil
            }
        }
    }

    @inline(__always)
    func hasByte(_ word: UInt64, _ byte: UInt8) -> Bool {
        let x = word ^ (0x0101_0101_0101_0101 &* UInt64(byte))
        return (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 != 0
    }

    /// At `[` or `{` (beyond the flattening depth): skips to after the matching bracket.
    /// The end of the JSON literal `true`, `false` or `null` at `start`, or nil.
    func literalEnd(at start: Int) -> Int? {
        if b.hasLiteral("true", at: start) { return start + 4 }
        if b.hasLiteral("false", at: start) { return start + 5 }
        if b.hasLiteral("null", at: start) { return start + 4 }
        return nil
    }

    mutating func skipComposite() -> Bool {
        var depth = 0
        while i < n {
            let c = b[i]
            switch c {
            case ASCII.quote:
                guard scanString() != nil else { return false }
                continue
            case ASCII.openBracket, ASCII.openBrace:
                depth += 1
            case ASCII.closeBracket, ASCII.closeBrace:
                depth -= 1
                if depth == 0 {
                    i += 1
                    return true
                }
            default:
                break
            }
            i += 1
        }
        return false
    }

    mutating func scanObject(depth: Int) -> Bool {
        i += 1  // {
        skipWhitespace()
        guard i < n else { return false }
        if b[i] == ASCII.closeBrace {
            i += 1
            return true
        }
        while true {
            guard i < n, b[i] == ASCII.quote, let (keyStart, keyEnd, keyEscaped) = scanString() else { return false }
            skipWhitespace()
            guard i < n, b[i] == ASCII.colon else { return false }
            i += 1
            skipWhitespace()
            guard i < n else { return false }

            // The flattened key: in the body for plain top-level keys, else in the arena.
            var key = JSONField(
                keyStart: Int32(keyStart), keyEnd: Int32(keyEnd), keyInArena: false, kind: .raw, role: .none,
                rank: 0, valueStart: 0, valueEnd: 0, keyHash: 0)
            if depth > 0 || keyEscaped {
                let start = arena.count
                arena.append(contentsOf: prefix)
                if keyEscaped {
                    JSONUnescape.append(b, keyStart..<keyEnd, to: &arena)
                } else {
                    arena.append(contentsOf: UnsafeBufferPointer(rebasing: b[keyStart..<keyEnd]))
                }
                key.keyStart = Int32(start)
                key.keyEnd = Int32(arena.count)
                key.keyInArena = true
            }

            let c = b[i]
            let valueStart = i
            switch c {
            case ASCII.quote:
                guard let (s, e, escaped) = scanString() else { return false }
                key.kind = escaped ? .escapedString : .string
                key.valueStart = s
                key.valueEnd = e
            case ASCII.openBrace:
                if depth + 1 < Self.maxDepth {
                    let before = fields.count
                    let prefixLength = prefix.count
                    if key.keyInArena {
                        prefix = Array(arena[Int(key.keyStart)..<Int(key.keyEnd)])
                    } else {
                        prefix.append(contentsOf: UnsafeBufferPointer(rebasing: b[keyStart..<keyEnd]))
                    }
                    prefix.append(ASCII.dot)
                    guard scanObject(depth: depth + 1) else { return false }
                    prefix.removeSubrange(prefixLength...)
                    if fields.count > before {
                        key.kind = .raw  // members were recorded; nothing for the object itself
                        key.valueStart = -1
                    } else {
                        key.kind = .raw
                        key.valueStart = valueStart
                        key.valueEnd = i
                    }
                } else {
                    guard skipComposite() else { return false }
                    key.kind = .raw
                    key.valueStart = valueStart
                    key.valueEnd = i
                }
            case ASCII.openBracket:
                guard skipComposite() else { return false }
                key.kind = .raw
                key.valueStart = valueStart
                key.valueEnd = i
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                guard let end = literalEnd(at: i) else { return false }
                i = end
                key.kind = .literal
                key.valueStart = valueStart
                key.valueEnd = i
            default:
                guard isDigit(c) || c == ASCII.minus else { return false }
                i += 1
                while i < n {
                    let d = b[i]
                    guard isDigit(d) || d == ASCII.dot || d == UInt8(ascii: "e") || d == UInt8(ascii: "E")
                        || d == ASCII.plus || d == ASCII.minus
                    else { break }
                    i += 1
                }
                key.kind = .number
                key.valueStart = valueStart
                key.valueEnd = i
            }
            if key.valueStart >= 0 {
                classify(&key)
                fields.append(key)
            }

            skipWhitespace()
            guard i < n else { return false }
            if b[i] == ASCII.comma {
                i += 1
                skipWhitespace()
                continue
            }
            guard b[i] == ASCII.closeBrace else { return false }
            i += 1
            return true
        }
    }

    @inline(__always)
    mutating func classify(_ field: inout JSONField) {
        let start = Int(field.keyStart)
        let end = Int(field.keyEnd)
        if field.keyInArena {
            arena.withUnsafeBufferPointer { keyBytes in
                (field.role, field.rank) = JSONKeys.classify(keyBytes, start..<end)
                field.keyHash = fnv1a(keyBytes, start..<end)
            }
        } else {
            (field.role, field.rank) = JSONKeys.classify(b, start..<end)
            field.keyHash = fnv1a(b, start..<end)
        }
    }

    // MARK: Mapping onto the record

    func keyString(_ field: JSONField) -> String {
        let range = Int(field.keyStart)..<Int(field.keyEnd)
        if field.keyInArena {
            return arena.withUnsafeBufferPointer { $0.string(range) }
        }
        return b.string(range)
    }

    func valueString(_ field: JSONField) -> String {
        let range = field.valueStart..<field.valueEnd
        if field.kind == .escapedString { return JSONUnescape.string(b, range) }
        return b.string(range)
    }

    func emit(into output: inout ParseOutput, options: DecoderOptions) {
        // The best candidate of each role (lowest rank), decided before anything is emitted.
        var message = -1
        var messageRank = UInt8.max
        var level = -1
        var levelRank = UInt8.max
        var severityNumber = -1
        var trace = -1
        var span = -1
        var traceID: TraceID?
        var spanID: SpanID?
        var otel = false
        for (index, field) in fields.enumerated() {
            switch field.role {
            case .message:
                let isString = field.kind == .string || field.kind == .escapedString
                if isString, field.rank < messageRank {
                    message = index
                    messageRank = field.rank
                }
            case .level:
                if field.rank == JSONKeys.severityTextRank { otel = true }
                if field.rank < levelRank, field.kind != .raw,
                    SeverityWords.value(b, field.valueStart..<field.valueEnd) != nil
                {
                    level = index
                    levelRank = field.rank
                }
            case .severityNumber:
                otel = true
                if severityNumber < 0 { severityNumber = index }
            case .traceID:
                if trace < 0, field.kind == .string, let id = TraceHex.traceID(b, field.valueStart..<field.valueEnd) {
                    trace = index
                    traceID = id
                }
            case .spanID:
                if span < 0, field.kind == .string, let id = TraceHex.spanID(b, field.valueStart..<field.valueEnd) {
                    span = index
                    spanID = id
                }
            case .time:
                if field.rank == JSONKeys.timeUnixNanoRank { otel = true }
            case .none:
                break
            }
        }
        // `body` as the message only in OpenTelemetry-shaped records.
        if message >= 0, fields[message].rank == JSONKeys.otelBodyRank, !otel { message = -1 }
        if message < 0, otel {
            for (index, field) in fields.enumerated()
            where field.role == .message && field.rank == JSONKeys.otelBodyRank
                && (field.kind == .string || field.kind == .escapedString)
            {
                message = index
                break
            }
        }

        // Time: the best-ranked candidate that reads as a plausible time.
        var time = -1
        var timeRank = UInt8.max
        for (index, field) in fields.enumerated() where field.role == .time && field.rank < timeRank {
            guard field.kind == .string || field.kind == .number,
                let nanos = TimeScan.anyStamp(b, field.valueStart..<field.valueEnd, offset: options.utcOffset)
            else { continue }
            if output.offerTime(nanos) {
                time = index
                timeRank = field.rank
            }
        }

        if message >= 0 { output.body = valueString(fields[message]) }
        if level >= 0 {
            output.severity = SeverityWords.value(b, fields[level].valueStart..<fields[level].valueEnd)
        } else if severityNumber >= 0 {
            let f = fields[severityNumber]
            if let (value, end) = b.integer(at: f.valueStart, end: f.valueEnd), end == f.valueEnd {
                output.severity = Severity(number: value)
                if output.severity == nil { severityNumber = -1 }
            } else {
                severityNumber = -1
            }
        }
        if let traceID { output.traceID = traceID }
        if let spanID { output.spanID = spanID }

        for (index, field) in fields.enumerated() {
            if index == message || index == time || index == level || index == severityNumber || index == trace
                || index == span
            {
                continue
            }
            output.attributes.add(keyString(field), valueString(field), hash: field.keyHash)
        }
    }
}

/// The well-known member names, by flattened key.
enum JSONKeys {
    static let otelBodyRank: UInt8 = 9
    static let severityTextRank: UInt8 = 5
    static let timeUnixNanoRank: UInt8 = 6

    @inline(__always)
    static func classify(_ k: Bytes, _ r: Range<Int>) -> (JSONRole, UInt8) {
        switch r.count {
        case 1:
            if k[r.lowerBound] == UInt8(ascii: "T") { return (.time, 4) }
        case 2:
            if k.equals(r, "ts") { return (.time, 0) }
            if k.equals(r, "@m") { return (.message, 4) }
            if k.equals(r, "@t") { return (.time, 5) }
            if k.equals(r, "@l") { return (.level, 7) }
        case 3:
            if k.equals(r, "msg") { return (.message, 0) }
            if k.equals(r, "log") { return (.message, 2) }
            if k.equals(r, "lvl") { return (.level, 1) }
        case 4:
            if k.equals(r, "time") { return (.time, 1) }
            if k.equals(r, "body") { return (.message, otelBodyRank) }
        case 5:
            if k.equals(r, "level") { return (.level, 0) }
        case 7:
            if k.equals(r, "message") { return (.message, 1) }
            if k.equals(r, "asctime") { return (.time, 7) }
            if k.equals(r, "traceId") || k.equals(r, "traceid") || k.equals(r, "traceID") { return (.traceID, 0) }
            if k.equals(r, "span_id") || k.equals(r, "span.id") { return (.spanID, 0) }
        case 6:
            if k.equals(r, "spanId") || k.equals(r, "spanid") || k.equals(r, "spanID") { return (.spanID, 0) }
        case 8:
            if k.equals(r, "@message") { return (.message, 3) }
            if k.equals(r, "severity") { return (.level, 2) }
            if k.equals(r, "trace_id") || k.equals(r, "trace.id") { return (.traceID, 0) }
            if k.equals(r, "loglevel") { return (.level, 8) }
        case 9:
            if k.equals(r, "timestamp") { return (.time, 2) }
            if k.equals(r, "log.level") { return (.level, 3) }
            if k.equals(r, "levelname") { return (.level, 4) }
        case 10:
            if k.equals(r, "@timestamp") { return (.time, 3) }
            if k.equals(r, "otelSpanID") { return (.spanID, 1) }
        case 11:
            if k.equals(r, "otelTraceID") { return (.traceID, 1) }
        case 12:
            if k.equals(r, "severityText") { return (.level, 5) }
            if k.equals(r, "timeUnixNano") { return (.time, 6) }
        case 13:
            if k.equals(r, "severity_text") { return (.level, 6) }
        case 14:
            if k.equals(r, "severityNumber") { return (.severityNumber, 0) }
        case 15:
            if k.equals(r, "severity_number") { return (.severityNumber, 0) }
        case 16:
            if k.equals(r, "body.stringValue") { return (.message, 5) }
        default:
            break
        }
        return (.none, 0)
    }
}

/// JSON string escapes, decoded (the scanner has validated them).
enum JSONUnescape {
    static func append(_ b: Bytes, _ range: Range<Int>, to out: inout [UInt8]) {
        var i = range.lowerBound
        let end = range.upperBound
        var runStart = i
        while i < end {
            guard b[i] == ASCII.backslash, i + 1 < end else {
                i += 1
                continue
            }
            if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<i])) }
            let c = b[i + 1]
            i += 2
            switch c {
            case UInt8(ascii: "n"): out.append(ASCII.newline)
            case UInt8(ascii: "t"): out.append(ASCII.tab)
            case UInt8(ascii: "r"): out.append(ASCII.carriageReturn)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard let unit = TraceHex.hex64(b, at: i, count: 4).map({ UInt32($0) }) else {
                    out.append(contentsOf: "\u{FFFD}".utf8)
                    runStart = i
                    continue
                }
                i += 4
                var scalar = unit
                if (0xD800..<0xDC00).contains(unit) {
                    if i + 6 <= end, b[i] == ASCII.backslash, b[i + 1] == UInt8(ascii: "u"),
                        let low = TraceHex.hex64(b, at: i + 2, count: 4).map({ UInt32($0) }),
                        (0xDC00..<0xE000).contains(low)
                    {
                        scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00..<0xE000).contains(unit) {
                    scalar = 0xFFFD
                }
                appendUTF8(Unicode.Scalar(scalar) ?? "\u{FFFD}", to: &out)
            default: out.append(c)  // \" \\ \/
            }
            runStart = i
        }
        if runStart < end { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<end])) }
    }

    static func string(_ b: Bytes, _ range: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        append(b, range, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always)
    static func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        let v = scalar.value
        switch v {
        case ..<0x80: out.append(UInt8(v))
        case ..<0x800:
            out.append(UInt8(0xC0 | (v >> 6)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        case ..<0x10000:
            out.append(UInt8(0xE0 | (v >> 12)))
            out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (v >> 18)))
            out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        }
    }
}
