import StrataCore

/// A user-defined format (`parsers/*.yaml` with `regex:`): an RE2 pattern with named groups,
/// matched against the first line of the body. Groups named by `time`, `severity`, `message`,
/// `trace_id` and `span_id` fill those fields; every other named group that matched becomes an
/// attribute (named after the group, or as `attributes:` renames it). When the message group
/// reaches the end of the first line, the following lines (a joined stack trace) stay after it.
public struct RegexParser: LogParser {
    public struct TimeField: Sendable {
        public var group: String
        public var format: TimeFormat
        public init(group: String, format: TimeFormat) {
            self.group = group
            self.format = format
        }
    }

    public struct SeverityField: Sendable {
        public var group: String
        /// Extra spellings (exact text → severity), tried before the usual level words.
        public var map: [String: Severity]
        public init(group: String, map: [String: Severity] = [:]) {
            self.group = group
            self.map = map
        }
    }

    public let name: String
    public let regex: RE2Regex
    public let options: DecoderOptions
    let timeGroup: Int?
    let timeFormat: TimeFormat
    let severityGroup: Int?
    let severityMap: [String: Severity]
    let messageGroup: Int?
    let traceGroup: Int?
    let spanGroup: Int?
    let attributeGroups: [(group: Int, key: String)]

    public enum DefinitionError: Error, Equatable {
        /// The named group does not exist in the pattern (`key` says which setting named it).
        case unknownGroup(key: String, group: String)
    }

    public init(
        name: String, regex: RE2Regex, time: TimeField? = nil, severity: SeverityField? = nil,
        message: String? = nil, traceID: String? = nil, spanID: String? = nil,
        attributeNames: [String: String] = [:], options: DecoderOptions = DecoderOptions()
    ) throws(DefinitionError) {
        self.name = name
        self.regex = regex
        self.options = options
        func group(_ key: String, _ name: String?) throws(DefinitionError) -> Int? {
            guard let name else { return nil }
            guard let index = regex.groupIndex(named: name) else { throw .unknownGroup(key: key, group: name) }
            return index
        }
        timeGroup = try group("time.field", time?.group)
        timeFormat = time?.format ?? .rfc3339
        severityGroup = try group("severity.field", severity?.group)
        severityMap = severity?.map ?? [:]
        messageGroup = try group("message", message)
        traceGroup = try group("trace_id", traceID)
        spanGroup = try group("span_id", spanID)
        for groupName in attributeNames.keys where regex.groupIndex(named: groupName) == nil {
            throw .unknownGroup(key: "attributes.\(groupName)", group: groupName)
        }
        let consumed = Set([timeGroup, severityGroup, messageGroup, traceGroup, spanGroup].compactMap { $0 })
        var attributes: [(Int, String)] = []
        for (index, groupName) in regex.groupNames.enumerated() {
            guard let groupName, !consumed.contains(index) else { continue }
            attributes.append((index, attributeNames[groupName] ?? groupName))
        }
        attributeGroups = attributes
    }

    public func parse(_ record: inout LogRecord) -> Bool {
        return ParseOutput.apply(to: &record) { b, output -> Bool in
            let lineEnd = b.lineEnd()
            let line = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b)[0..<lineEnd])
            guard let groups = regex.captureRanges(in: line) else { return false }
            @inline(__always) func range(_ index: Int?) -> Range<Int>? {
                guard let index, index < groups.count else { return nil }
                return groups[index]
            }
            if let r = range(timeGroup) {
                let nanos = timeFormat.parse(b, r, offset: options.utcOffset, runtime: output.runtime)
                output.offerTime(nanos, text: b.string(r))
            }
            if let r = range(severityGroup) {
                let text = b.trimmed(r)
                if !severityMap.isEmpty, let mapped = severityMap[b.string(text)] {
                    output.severity = mapped
                } else {
                    output.severity = SeverityWords.value(b, text)
                }
            }
            if let r = range(traceGroup), let trace = TraceHex.traceID(b, r) { output.traceID = trace }
            if let r = range(spanGroup), let span = TraceHex.spanID(b, r) { output.spanID = span }
            for (index, key) in attributeGroups {
                if let r = range(index) { output.attributes.add(key, b.string(r)) }
            }
            if let r = range(messageGroup) {
                output.body = r.upperBound == lineEnd && lineEnd < b.count
                    ? b.string(r.lowerBound..<b.count) : b.string(r)
            }
            return true
        }
    }
}
