import StrataConfiguration
import StrataCore

/// Which records a rule applies to: globs over the record's Kubernetes identity. A key left out
/// matches everything; a record without that resource attribute matches only `*`.
public struct RecordSelector: Sendable, Hashable {
    public var namespace: Glob
    public var pod: Glob
    public var container: Glob

    public init(namespace: String = "*", pod: String = "*", container: String = "*") {
        self.namespace = Glob(namespace)
        self.pod = Glob(pod)
        self.container = Glob(container)
    }

    public static let all = RecordSelector()

    @inline(__always)
    public func matches(_ resource: Resource) -> Bool {
        (namespace.matchesEverything || namespace.matches(resource[ResourceKey.namespace]))
            && (pod.matchesEverything || pod.matches(resource[ResourceKey.pod]))
            && (container.matchesEverything || container.matches(resource[ResourceKey.container]))
    }
}

/// A condition that drops a record.
public enum DropCondition: Sendable {
    /// The field's value matches the regex (search, not full match). Fields: `body`, `severity`
    /// (its name), `stream`, `trace_id`, `span_id`, else a record attribute, else a resource
    /// attribute. A record without the field is kept.
    case fieldMatches(field: String, regex: RE2Regex)
    /// The severity is below this one. A record with no severity is kept.
    case severityBelow(Severity)
}

/// One entry of `normalize.rules`.
public struct NormalizeRule: Sendable {
    public var name: String?
    public var selector: RecordSelector
    /// A registry name, `auto` or `none`; nil leaves the choice to a later rule or the default.
    public var parser: String?
    /// Attribute renames, in order.
    public var renames: [(from: String, to: String)]
    public var drops: [DropCondition]
    /// Extra redaction patterns for the selected records (besides the global ones).
    public var redactions: [RedactionPattern]

    public init(
        name: String? = nil, selector: RecordSelector = .all, parser: String? = nil,
        renames: [(from: String, to: String)] = [], drops: [DropCondition] = [], redactions: [RedactionPattern] = []
    ) {
        self.name = name
        self.selector = selector
        self.parser = parser
        self.renames = renames
        self.drops = drops
        self.redactions = redactions
    }
}

/// The `normalize:` section of `pipelines/collector.yaml` (docs/PARSERS.md).
public struct NormalizerConfiguration: Sendable {
    /// Parser for records no rule gives one: `auto` (default), `none` or a registry name.
    public var defaultParser: String
    public var rules: [NormalizeRule]
    public var traceExtraction: Bool
    public var severitySniffing: Bool
    public var redactor: Redactor

    public init(
        defaultParser: String = "auto", rules: [NormalizeRule] = [], traceExtraction: Bool = true,
        severitySniffing: Bool = true, redactor: Redactor = Redactor()
    ) {
        self.defaultParser = defaultParser
        self.rules = rules
        self.traceExtraction = traceExtraction
        self.severitySniffing = severitySniffing
        self.redactor = redactor
    }

    /// Reads the top-level `normalize:` key of a whole configuration file (other top-level keys
    /// belong to other parts of the collector and are left alone). No `normalize:` key gives
    /// the defaults.
    public init(yaml: String) throws(ConfigurationError) {
        try self.init(section: try ConfigTree(yaml: yaml).section("normalize"))
    }

    static let sectionKeys: Set<String> = ["default_parser", "trace_extraction", "severity_sniffing", "redact", "rules"]
    static let redactKeys: Set<String> = ["builtin", "keys", "patterns"]
    static let ruleKeys: Set<String> = ["name", "match", "parser", "rename", "drop", "redact"]
    static let matchKeys: Set<String> = ["namespace", "pod", "container"]
    static let dropKeys: Set<String> = ["field", "regex", "severity_below"]
    static let patternKeys: Set<String> = ["name", "regex"]

    /// Reads the section itself (its path prefixes the keys named in errors).
    public init(section top: ConfigSection) throws(ConfigurationError) {
        try top.keys(allowed: Self.sectionKeys)
        defaultParser = try top.string("default_parser") ?? "auto"
        traceExtraction = try top.bool("trace_extraction", default: true)
        severitySniffing = try top.bool("severity_sniffing", default: true)

        // Global redaction.
        let redact = top.section("redact")
        try redact.keys(allowed: Self.redactKeys)
        var builtins = Redactor.Builtins.all
        let builtinNode = redact.section("builtin")
        if builtinNode.exists {
            if builtinNode.isSingleValue, let enabled = try? builtinNode.bool() {
                builtins = enabled ? .all : []
            } else {
                builtins = []
                for item in try builtinNode.list() {
                    let name = try item.requiredString()
                    guard let match = Redactor.Builtins.names.first(where: { $0.0 == name }) else {
                        throw item.fail(
                            "unknown built-in redaction '\(name)' (expected true, false or a list of: \(Redactor.Builtins.names.map(\.0).joined(separator: ", ")))")
                    }
                    builtins.insert(match.1)
                }
            }
        }
        var extraKeys: [String] = []
        for item in try redact.section("keys").list() { extraKeys.append(try item.requiredString()) }
        let patterns = try Self.patterns(redact.section("patterns"))
        redactor = Redactor(builtins: builtins, extraKeys: extraKeys, patterns: patterns)

        // Rules.
        var rules: [NormalizeRule] = []
        for item in try top.section("rules").list() {
            guard item.isMapping else { throw item.fail("a rule is a mapping (match, parser, rename, drop, redact)") }
            let keys = try item.keys(allowed: Self.ruleKeys)
            var rule = NormalizeRule(name: try item.string("name"))
            let match = item.section("match")
            try match.keys(allowed: Self.matchKeys)
            rule.selector = RecordSelector(
                namespace: try match.string("namespace") ?? "*", pod: try match.string("pod") ?? "*",
                container: try match.string("container") ?? "*")
            if keys.contains("parser") { rule.parser = try item.section("parser").requiredString() }
            for (from, value) in try item.section("rename").pairs() {
                rule.renames.append((from, try value.requiredString()))
            }
            let drop = item.section("drop")
            for condition in drop.isList ? try drop.list() : (drop.exists ? [drop] : []) {
                rule.drops.append(try Self.dropCondition(condition))
            }
            rule.redactions = try Self.patterns(item.section("redact"))
            guard !keys.subtracting(["name", "match"]).isEmpty else {
                throw item.fail("the rule does nothing: give parser, rename, drop or redact")
            }
            rules.append(rule)
        }
        self.rules = rules
    }

    static func dropCondition(_ reader: ConfigSection) throws(ConfigurationError) -> DropCondition {
        let keys = try reader.keys(allowed: dropKeys)
        if keys.contains("severity_below") {
            guard keys.count == 1 else { throw reader.fail("severity_below stands alone (no field or regex)") }
            let level = reader.section("severity_below")
            let text = try level.requiredString()
            guard let severity = SeverityWords.match(text) else {
                throw level.fail("expected a level (trace, debug, info, warn, error, fatal), found '\(text)'")
            }
            return .severityBelow(severity)
        }
        let field = try reader.section("field").requiredString()
        let regexReader = reader.section("regex")
        let pattern = try regexReader.requiredString()
        do {
            return .fieldMatches(field: field, regex: try RE2Regex(pattern))
        } catch let error as RegexError {
            throw regexReader.fail(error.message)
        } catch {
            throw regexReader.fail("\(error)")
        }
    }

    /// A list of patterns, each a regex string or `{name, regex}`.
    static func patterns(_ reader: ConfigSection) throws(ConfigurationError) -> [RedactionPattern] {
        var result: [RedactionPattern] = []
        for item in try reader.list() {
            var name = item.path
            let regexReader: ConfigSection
            if item.isMapping {
                try item.keys(allowed: patternKeys)
                name = try item.string("name") ?? name
                regexReader = item.section("regex")
            } else {
                regexReader = item
            }
            let pattern = try regexReader.requiredString()
            do {
                result.append(try RedactionPattern(name: name, pattern: pattern))
            } catch {
                throw regexReader.fail(error.message)
            }
        }
        return result
    }

    /// Checks that every parser named exists in `registry` (`auto` and `none` always do).
    public func validate(against registry: ParserRegistry) throws(ConfigurationError) {
        func check(_ name: String, _ key: String) throws(ConfigurationError) {
            guard ParserRegistry.reservedNames.contains(name) || registry.parser(named: name) != nil else {
                throw ConfigurationError(
                    key: key, reason: "unknown parser '\(name)' (known: auto, none, \(registry.names.joined(separator: ", ")))")
            }
        }
        try check(defaultParser, "normalize.default_parser")
        for (index, rule) in rules.enumerated() {
            if let parser = rule.parser { try check(parser, "normalize.rules[\(index)].parser") }
        }
    }
}
