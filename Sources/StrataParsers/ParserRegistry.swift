import Foundation
import StrataConfiguration
import StrataCore
import Yams

/// The parsers the normalizer can name: the built-in decoders and the formats defined in
/// `parsers/*.yaml`.
public struct ParserRegistry: Sendable {
    private var parsers: [String: any LogParser]

    /// Names with a meaning in `pipelines/collector.yaml` that no definition may take.
    public static let reservedNames: Set<String> = ["auto", "none"]

    /// The built-in decoders, by the name a definition's `decoder:` uses.
    public static let decoderNames = ["json", "logfmt", "klog", "logback", "python", "nginx", "apache", "syslog", "timestamp"]

    public init() { parsers = [:] }

    /// Every built-in decoder under its own name, with default options (UTC).
    public static var builtins: ParserRegistry {
        var registry = ParserRegistry()
        for name in decoderNames { registry.register(builtin(decoder: name, name: name, options: DecoderOptions())!) }
        return registry
    }

    /// A built-in decoder under `name`, or nil for an unknown decoder.
    public static func builtin(decoder: String, name: String, options: DecoderOptions) -> (any LogParser)? {
        switch decoder {
        case "json": JSONLogParser(name: name, options: options)
        case "logfmt": LogfmtParser(name: name, options: options)
        case "klog": KlogParser(name: name, options: options)
        case "logback", "log4j": LogbackParser(name: name, options: options)
        case "python": PythonLoggingParser(name: name, options: options)
        case "nginx", "apache", "access": AccessLogParser(name: name, options: options)
        case "syslog": SyslogParser(name: name, options: options)
        case "timestamp": TimestampPrefixParser(name: name, options: options)
        default: nil
        }
    }

    public mutating func register(_ parser: any LogParser) { parsers[parser.name] = parser }

    public func parser(named name: String) -> (any LogParser)? { parsers[name] }

    public var names: [String] { parsers.keys.sorted() }

    /// The built-ins, then every `*.yaml`/`*.yml` file of `directory` (in name order), each
    /// defining one parser; a definition may replace a built-in (to set its time zone).
    /// Every bad file is reported, naming the file and the key.
    public static func load(directory: String, includeBuiltins: Bool = true) throws(ParserDefinitionErrors) -> ParserRegistry {
        var registry = includeBuiltins ? ParserRegistry.builtins : ParserRegistry()
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        } catch {
            throw ParserDefinitionErrors(problems: [
                ConfigurationError(file: directory, key: "", reason: "cannot read the parser directory: \(error.localizedDescription)")
            ])
        }
        var problems: [ConfigurationError] = []
        var definedIn: [String: String] = [:]
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            do {
                guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                    throw ConfigurationError(file: path, key: "", reason: "cannot read the file as UTF-8 text")
                }
                let parser = try definition(yaml: text, file: path)
                if let other = definedIn[parser.name] {
                    throw ConfigurationError(file: path, key: "name", reason: "'\(parser.name)' is already defined in \(other)")
                }
                definedIn[parser.name] = path
                registry.register(parser)
            } catch let error as ConfigurationError {
                problems.append(error)
            } catch {
                problems.append(ConfigurationError(file: path, key: "", reason: "\(error)"))
            }
        }
        guard problems.isEmpty else { throw ParserDefinitionErrors(problems: problems) }
        return registry
    }

    static let definitionKeys: Set<String> = [
        "name", "description", "decoder", "regex", "timezone", "time", "severity", "message", "trace_id", "span_id",
        "attributes",
    ]

    /// One parser definition:
    ///
    ///     name: haproxy
    ///     regex: '^(?P<client>\S+):\d+ \[(?P<time>[^\]]+)\] (?P<message>.*)$'
    ///     time: {field: time, format: "%d/%b/%Y:%H:%M:%S.%f"}
    ///     severity: {field: level, map: {E: error}}
    ///     message: message
    ///     attributes: {client: client.address}
    ///     timezone: "+01:00"
    ///
    /// or a built-in under a name: `name: spring` / `decoder: logback` / `timezone: "+01:00"`.
    public static func definition(yaml: String, file: String) throws(ConfigurationError) -> any LogParser {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(file: file, key: "", reason: "not valid YAML: \(error)")
        }
        let top = ConfigSection(node: root, file: file)
        do {
            guard top.isMapping else { throw top.fail("a parser definition is a mapping (name, regex or decoder, …)") }
            let keys = try top.keys(allowed: definitionKeys)
            let name = try top.section("name").requiredString()
            guard !reservedNames.contains(name) else {
                throw top.error("name", "'\(name)' is reserved (auto, none)")
            }
            let offset = try top.section("timezone").utcOffset() ?? 0
            let options = DecoderOptions(utcOffset: offset)
            if let decoder = try top.section("decoder").string() {
                guard !keys.contains("regex") else { throw top.error("regex", "give either decoder or regex, not both") }
                for key in ["time", "severity", "message", "trace_id", "span_id", "attributes"] where keys.contains(key) {
                    throw top.error(key, "only regex definitions map fields; the \(decoder) decoder finds its own")
                }
                guard let parser = builtin(decoder: decoder, name: name, options: options) else {
                    throw top.error("decoder", "unknown decoder '\(decoder)' (expected one of: \(decoderNames.joined(separator: ", ")))")
                }
                return parser
            }
            guard let pattern = try top.section("regex").string(), !pattern.isEmpty else {
                throw top.error("regex", "is required (or name a built-in with decoder)")
            }
            let regex: RE2Regex
            do {
                regex = try RE2Regex(pattern)
            } catch let error as RegexError {
                throw top.error("regex", error.message)
            }
            guard regex.groupNames.contains(where: { $0 != nil }) else {
                throw top.error("regex", "has no named groups (?P<name>…)")
            }

            var time: RegexParser.TimeField?
            let timeNode = top.section("time")
            if timeNode.exists {
                if let field = try? timeNode.string() {
                    time = RegexParser.TimeField(group: field, format: .rfc3339)
                } else {
                    try timeNode.keys(allowed: ["field", "format"])
                    let field = try timeNode.section("field").requiredString()
                    let formatReader = timeNode.section("format")
                    var format = TimeFormat.rfc3339
                    if let text = try formatReader.string() {
                        do {
                            format = try TimeFormat(text)
                        } catch {
                            throw formatReader.fail(error.message)
                        }
                    }
                    time = RegexParser.TimeField(group: field, format: format)
                }
            }
            var severity: RegexParser.SeverityField?
            let severityNode = top.section("severity")
            if severityNode.exists {
                if let field = try? severityNode.string() {
                    severity = RegexParser.SeverityField(group: field)
                } else {
                    try severityNode.keys(allowed: ["field", "map"])
                    let field = try severityNode.section("field").requiredString()
                    var map: [String: Severity] = [:]
                    let mapNode = severityNode.section("map")
                    for (text, reader) in try mapNode.pairs() {
                        let level = try reader.requiredString()
                        guard let mapped = SeverityWords.match(level) else {
                            throw reader.fail("expected a level (trace, debug, info, warn, error, fatal), found '\(level)'")
                        }
                        map[text] = mapped
                    }
                    severity = RegexParser.SeverityField(group: field, map: map)
                }
            }
            var attributeNames: [String: String] = [:]
            let attributesNode = top.section("attributes")
            for (group, value) in try attributesNode.pairs() {
                attributeNames[group] = try value.requiredString()
            }
            let message = try top.section("message").string()
            let traceID = try top.section("trace_id").string()
            let spanID = try top.section("span_id").string()
            do {
                return try RegexParser(
                    name: name, regex: regex, time: time, severity: severity, message: message, traceID: traceID,
                    spanID: spanID, attributeNames: attributeNames, options: options)
            } catch {
                switch error {
                case .unknownGroup(let key, let group):
                    let names = regex.groupNames.compactMap { $0 }.joined(separator: ", ")
                    throw top.error(key, "unknown field '\(group)': the regex has no group (?P<\(group)>…) (groups: \(names))")
                }
            }
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(file: file, key: "", reason: "\(error)")
        }
    }
}

/// A parser directory with one or more bad definitions: every problem, in file order.
public struct ParserDefinitionErrors: Error, CustomStringConvertible, Equatable, Sendable {
    public var problems: [ConfigurationError]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

extension ConfigSection {
    /// `UTC`, `Z`, `+02:00`, `-0530`, `+2`: seconds east of UTC.
    func utcOffset() throws(ConfigurationError) -> Int? {
        guard let text = try string() else { return nil }
        guard let offset = Self.parseOffset(text) else {
            throw fail("expected UTC or a fixed offset like +02:00, found '\(text)'")
        }
        return offset
    }

    static func parseOffset(_ text: String) -> Int? {
        let upper = text.uppercased()
        if upper == "UTC" || upper == "Z" || upper == "GMT" || upper == "ETC/UTC" { return 0 }
        var rest = Substring(text)
        if rest.hasPrefix("UTC") || rest.hasPrefix("GMT") { rest = rest.dropFirst(3) }
        guard let sign = rest.first, sign == "+" || sign == "-" else { return nil }
        rest = rest.dropFirst()
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        var hours = 0
        var minutes = 0
        if parts.count == 2 {
            guard let h = Int(parts[0]), let m = Int(parts[1]) else { return nil }
            hours = h
            minutes = m
        } else if rest.count == 4, let value = Int(rest) {
            hours = value / 100
            minutes = value % 100
        } else if let h = Int(rest), rest.count <= 2 {
            hours = h
        } else {
            return nil
        }
        guard hours <= 18, minutes < 60 else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return sign == "-" ? -seconds : seconds
    }
}
