import StrataCore

/// NDJSON records in the layout of the agent's stdout sink (docs/WIRE.md, "JSON record"), one
/// object per line, identity-, zstd-, lz4- or gzip-encoded. The batch id comes from the
/// `X-Strata-Batch-Id` header.
///
/// It accepts and refuses what the collector accepted and refused when it read these lines with
/// Foundation's JSONSerialization: a member of the wrong type is ignored where it was ignored
/// then (a numeric `stream`, say) and refused where it was refused; numbers and booleans in
/// `attributes`/`resource` become the same text ("1.0", "1"); nested objects and arrays there
/// are kept as their JSON text, compacted, in the sender's order.
public struct NDJSONDecoder: IngestDecoder {
    public init() {}

    public func decode(_ request: IngestRequest, limits: IngestLimits) throws(IngestRejection) -> IngestBatch {
        let text = try BodyEncoding.decode(request.body, encoding: request.contentEncoding, limits: limits, memory: request.memory)
        try IngestMemory.claimRecords(forText: text.count, in: request.memory)
        let records = try Self.records(text, maxRecordBytes: limits.maxRecordBytes)
        return IngestBatch(
            id: request.batchID.flatMap { BatchID(string: $0) }, records: records, receivedBytes: request.body.count)
    }

    /// Every record of an NDJSON text; blank lines are skipped, lines are numbered from 1.
    public static func records(_ text: [UInt8], maxRecordBytes: Int, now: Int64 = WallClock.nowNanos()) throws(IngestRejection)
        -> [LogRecord]
    {
        var records: [LogRecord] = []
        let failure: IngestRejection? = text.withUnsafeBufferPointer { all in
            var lineStart = 0
            var lineNumber = 0
            while lineStart <= all.count {
                lineNumber += 1
                let lineEnd = all[lineStart...].firstIndex(of: 0x0A) ?? all.count
                let line = UnsafeBufferPointer(rebasing: all[lineStart..<lineEnd])
                lineStart = lineEnd + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                var reader = LineReader(line, number: lineNumber)
                do throws(IngestRejection) {
                    records.append(try reader.record(now: now, maxRecordBytes: maxRecordBytes))
                } catch {
                    return error
                }
            }
            return nil
        }
        if let failure { throw failure }
        return records
    }
}

/// The members of a record the collector reads.
private enum MemberName: Int, CaseIterable {
    case body, message, log, timestamp, observedTimestamp, stream, severity, traceID, spanID, attributes, resource, flags

    static let all = allCases

    var spelling: StaticString {
        switch self {
        case .body: return "body"
        case .message: return "message"
        case .log: return "log"
        case .timestamp: return "timestamp"
        case .observedTimestamp: return "observed_timestamp"
        case .stream: return "stream"
        case .severity: return "severity"
        case .traceID: return "trace_id"
        case .spanID: return "span_id"
        case .attributes: return "attributes"
        case .resource: return "resource"
        case .flags: return "flags"
        }
    }
}

/// A value found in a line: strings as their token, everything else as its kind and text.
private enum FoundValue {
    case string(JSONStringToken)
    case other(JSONScanner.ValueKind, Range<Int>)
}

/// One line: scanned once, then the members the record needs are decoded.
private struct LineReader {
    let line: UnsafeBufferPointer<UInt8>
    let number: Int
    var scanner: JSONScanner
    /// By `MemberName.rawValue`; a repeated name keeps its last value, as a dictionary would.
    var found = InlineArray<12, FoundValue?>(repeating: nil)

    init(_ line: UnsafeBufferPointer<UInt8>, number: Int) {
        self.line = line
        self.number = number
        scanner = JSONScanner(line)
    }

    func malformed(_ problem: String) -> IngestRejection {
        .malformedRecord("line \(number): \(problem)")
    }

    mutating func record(now: Int64, maxRecordBytes: Int) throws(IngestRejection) -> LogRecord {
        let isObject: Bool
        do throws(JSONSyntaxError) {
            isObject = try scanMembers()
        } catch {
            throw .malformedRecord("line \(number) is not valid JSON: \(error)")
        }
        guard isObject else { throw .malformedRecord("line \(number) is not a JSON object") }
        guard let body = stringValue(.body) ?? stringValue(.message) ?? stringValue(.log) else {
            throw malformed("needs a string \"body\" (or \"message\"/\"log\")")
        }
        guard body.utf8.count <= maxRecordBytes else {
            throw .recordTooLarge(
                "line \(number): body of \(body.utf8.count) bytes exceeds the \(maxRecordBytes)-byte limit")
        }
        var record = LogRecord(
            timestamp: try time(.timestamp) ?? now, observedTimestamp: try time(.observedTimestamp) ?? now, body: body)
        if let stream = stringValue(.stream) {
            guard let parsed = LogStream(name: stream) else { throw malformed("\"stream\" must be stdout, stderr or unknown") }
            record.stream = parsed
        }
        if let severity = stringValue(.severity) {
            guard let parsed = Severity(text: severity) else { throw malformed("unknown severity '\(severity)'") }
            record.severity = parsed
        }
        if let trace = stringValue(.traceID) {
            guard let parsed = TraceID(hex: trace) else { throw malformed("\"trace_id\" must be 32 hex digits") }
            record.traceID = parsed
        }
        if let span = stringValue(.spanID) {
            guard let parsed = SpanID(hex: span) else { throw malformed("\"span_id\" must be 16 hex digits") }
            record.spanID = parsed
        }
        record.attributes = try textMap(.attributes)
        record.resource = Resource(attributes: try textMap(.resource))
        if let flags = stringArray(.flags) { record.flags = RecordFlags(names: flags) }
        return record
    }

    /// Remembers where the members the record needs stand; false when the line is well-formed
    /// JSON but not an object.
    private mutating func scanMembers() throws(JSONSyntaxError) -> Bool {
        guard try scanner.peekValue() == .object else {
            try scanner.skipValue()
            try scanner.finish()
            return false
        }
        try scanner.enterObject()
        while let key = try scanner.nextKey() {
            let value: FoundValue
            let valueKind = try scanner.peekValue()
            if valueKind == .string {
                value = .string(try scanner.readString())
            } else {
                value = .other(valueKind, try scanner.skipValue())
            }
            if let name = memberName(key) { found[name.rawValue] = value }
        }
        try scanner.finish()
        return true
    }

    private func memberName(_ key: JSONStringToken) -> MemberName? {
        if key.hasEscapes {
            let text = scanner.string(key)
            return MemberName.all.first { $0.spelling.description == text }
        }
        let bytes = UnsafeBufferPointer(rebasing: line[key.range])
        return MemberName.all.first { name in
            name.spelling.withUTF8Buffer { $0.elementsEqual(bytes) }
        }
    }

    /// The member's text when it is a string; nil when absent or of another type.
    private func stringValue(_ name: MemberName) -> String? {
        guard case .string(let token) = found[name.rawValue] else { return nil }
        return scanner.string(token)
    }

    /// An RFC 3339 string or nanoseconds since the epoch; a number beyond 64 bits or a boolean is
    /// refused by name rather than stored as a time no query reaches or retention refuses.
    private func time(_ name: MemberName) throws(IngestRejection) -> Int64? {
        switch found[name.rawValue] {
        case nil:
            return nil
        case .string(let token):
            let text = scanner.string(token)
            guard let nanos = RFC3339Parser.parse(text) else {
                throw malformed("\"\(name.spelling)\" is not an RFC 3339 time: \(text)")
            }
            return nanos
        case .other(.number, let range):
            let text = scanner.text(range)
            guard let nanos = JSONNumberText.nanoseconds(text) else {
                throw malformed(
                    "\"\(name.spelling)\" is \(text), not a time: give nanoseconds since the epoch (at most 9223372036854775807) or an RFC 3339 string")
            }
            return nanos
        case .other(.literal, let range) where line[range.lowerBound] == UInt8(ascii: "n"):
            return nil
        case .other:
            throw malformed("\"\(name.spelling)\" must be an RFC 3339 string or nanoseconds since the epoch")
        }
    }

    /// An object's members as attributes sorted by name, every value as text.
    private func textMap(_ name: MemberName) throws(IngestRejection) -> [Attribute] {
        switch found[name.rawValue] {
        case nil:
            return []
        case .other(.literal, let range) where line[range.lowerBound] == UInt8(ascii: "n"):
            return []
        case .other(.object, let range):
            var map = JSONScanner(UnsafeBufferPointer(rebasing: line[range]))
            var attributes: [Attribute] = []
            // Scanned once already: no error can occur here.
            do throws(JSONSyntaxError) {
                try map.enterObject()
                while let key = try map.nextKey() {
                    let kind = try map.peekValue()
                    if kind == .string {
                        attributes.append(Attribute(map.string(key), map.string(try map.readString())))
                    } else {
                        let range = try map.skipValue()
                        attributes.append(Attribute(map.string(key), Self.text(of: kind, map.text(range), compact: map.compactText(range))))
                    }
                }
            } catch {
                throw malformed("\"\(name.spelling)\" could not be read: \(error)")
            }
            // Sorted by name, the last of a repeated name kept (the sort is stable).
            attributes.sort { $0.key < $1.key }
            var index = attributes.count - 1
            while index > 0 {
                if attributes[index - 1].key == attributes[index].key { attributes.remove(at: index - 1) }
                index -= 1
            }
            return attributes
        default:
            throw malformed("\"\(name.spelling)\" must be an object")
        }
    }

    /// A value that is not a string, as text: numbers as Foundation's NSNumber wrote them,
    /// booleans as 1 and 0, null as "null", objects and arrays as compact JSON.
    private static func text(of kind: JSONScanner.ValueKind, _ text: String, compact: @autoclosure () -> String) -> String {
        switch kind {
        case .number: return JSONNumberText.canonical(text)
        case .literal: return text == "true" ? "1" : text == "false" ? "0" : text
        default: return compact()
        }
    }

    /// An array of strings only; nil for anything else (which was ignored, not refused).
    private func stringArray(_ name: MemberName) -> [String]? {
        guard case .other(.array, let range) = found[name.rawValue] else { return nil }
        var array = JSONScanner(UnsafeBufferPointer(rebasing: line[range]))
        var strings: [String] = []
        do throws(JSONSyntaxError) {
            try array.enterArray()
            while try array.nextElement() {
                guard try array.peekValue() == .string else { return nil }
                strings.append(array.string(try array.readString()))
            }
        } catch {
            return nil
        }
        return strings
    }
}

/// JSON numbers as Foundation's NSNumber gave them: integers exactly, others through Double.
enum JSONNumberText {
    static func canonical(_ text: String) -> String {
        if let integer = Int64(text) { return String(integer) }
        if let integer = UInt64(text) { return String(integer) }
        return Double(text).map { $0.description } ?? text
    }

    /// Whole nanoseconds, fractions cut off; nil beyond what 64 bits hold.
    static func nanoseconds(_ text: String) -> Int64? {
        if let integer = Int64(text) { return integer }
        guard let value = Double(text), value >= -9.223_372_036_854_775e18, value < 9.223_372_036_854_775e18 else {
            return nil
        }
        return Int64(value)
    }
}
