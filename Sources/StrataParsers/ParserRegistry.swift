import Foundation
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
                NormalizeConfigurationError(file: directory, key: "", reason: "cannot read the parser directory: \(error.localizedDescription)")
            ])
        }
        var problems: [NormalizeConfigurationError] = []
        var definedIn: [String: String] = [:]
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            do {
                guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                    throw NormalizeConfigurationError(file: path, key: "", reason: "cannot read the file as UTF-8 text")
                }
                let parser = try definition(yaml: text, file: path)
                if let other = definedIn[parser.name] {
                    throw NormalizeConfigurationError(file: path, key: "name", reason: "'\(parser.name)' is already defined in \(other)")
                }
                definedIn[parser.name] = path
                registry.register(parser)
            } catch let error as NormalizeConfigurationError {
                problems.append(error)
            } catch {
                problems.append(NormalizeConfigurationError(file: path, key: "", reason: "\(error)"))
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
    public static func definition(yaml: String, file: String) throws(NormalizeConfigurationError) -> any LogParser {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw NormalizeConfigurationError(file: file, key: "", reason: "not valid YAML: \(error)")
        }
        let top = ConfigReader(node: root, path: "", file: file)
        do {
            guard root?.mapping != nil else { throw top.fail("a parser definition is a mapping (name, regex or decoder, …)") }
            let entries = try top.entries(allowed: definitionKeys)
            let keys = Set(entries.map(\.0))
            let name = try top.child("name").requiredString()
            guard !reservedNames.contains(name) else {
                throw top.error("name", "'\(name)' is reserved (auto, none)")
            }
            let offset = try top.child("timezone").utcOffset() ?? 0
            let options = DecoderOptions(utcOffset: offset)
            if let decoder = try top.child("decoder").string() {
                guard !keys.contains("regex") else { throw top.error("regex", "give either decoder or regex, not both") }
                for key in ["time", "severity", "message", "trace_id", "span_id", "attributes"] where keys.contains(key) {
                    throw top.error(key, "only regex definitions map fields; the \(decoder) decoder finds its own")
                }
                guard let parser = builtin(decoder: decoder, name: name, options: options) else {
                    throw top.error("decoder", "unknown decoder '\(decoder)' (expected one of: \(decoderNames.joined(separator: ", ")))")
                }
                return parser
            }
            guard let pattern = try top.child("regex").string(), !pattern.isEmpty else {
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
            let timeNode = top.child("time")
            if !timeNode.isNull {
                if let field = try? timeNode.string() {
                    time = RegexParser.TimeField(group: field, format: .rfc3339)
                } else {
                    _ = try timeNode.entries(allowed: ["field", "format"])
                    let field = try timeNode.child("field").requiredString()
                    let formatReader = timeNode.child("format")
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
            let severityNode = top.child("severity")
            if !severityNode.isNull {
                if let field = try? severityNode.string() {
                    severity = RegexParser.SeverityField(group: field)
                } else {
                    _ = try severityNode.entries(allowed: ["field", "map"])
                    let field = try severityNode.child("field").requiredString()
                    var map: [String: Severity] = [:]
                    let mapNode = severityNode.child("map")
                    for (text, value) in try mapNode.pairs() {
                        let reader = ConfigReader(node: value, path: mapNode.key(text), file: file)
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
            let attributesNode = top.child("attributes")
            for (group, value) in try attributesNode.pairs() {
                attributeNames[group] = try ConfigReader(node: value, path: attributesNode.key(group), file: file).requiredString()
            }
            let message = try top.child("message").string()
            let traceID = try top.child("trace_id").string()
            let spanID = try top.child("span_id").string()
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
        } catch let error as NormalizeConfigurationError {
            throw error
        } catch {
            throw NormalizeConfigurationError(file: file, key: "", reason: "\(error)")
        }
    }
}
