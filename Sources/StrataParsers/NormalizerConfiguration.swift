import StrataCore
import Yams

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
    public init(yaml: String) throws(NormalizeConfigurationError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw NormalizeConfigurationError(key: "", reason: "the configuration is not valid YAML: \(error)")
        }
        if let root, root.mapping == nil {
            throw NormalizeConfigurationError(key: "", reason: "the configuration must be a mapping at the top level")
        }
        try self.init(section: root?.mapping?["normalize"], path: "normalize")
    }

    static let sectionKeys: Set<String> = ["default_parser", "trace_extraction", "severity_sniffing", "redact", "rules"]
    static let redactKeys: Set<String> = ["builtin", "keys", "patterns"]
    static let ruleKeys: Set<String> = ["name", "match", "parser", "rename", "drop", "redact"]
    static let matchKeys: Set<String> = ["namespace", "pod", "container"]
    static let dropKeys: Set<String> = ["field", "regex", "severity_below"]
    static let patternKeys: Set<String> = ["name", "regex"]

    /// Reads the section itself (`path` prefixes the keys named in errors).
    public init(section: Node?, path: String = "normalize") throws(NormalizeConfigurationError) {
        let top = ConfigReader(node: section, path: path)
        _ = try top.entries(allowed: Self.sectionKeys)
        defaultParser = try top.child("default_parser").string() ?? "auto"
        traceExtraction = try top.child("trace_extraction").bool() ?? true
        severitySniffing = try top.child("severity_sniffing").bool() ?? true

        // Global redaction.
        let redact = top.child("redact")
        _ = try redact.entries(allowed: Self.redactKeys)
        var builtins = Redactor.Builtins.all
        let builtinNode = redact.child("builtin")
        if !builtinNode.isNull {
            if builtinNode.node?.scalar != nil, let enabled = try? builtinNode.bool() {
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
        for item in try redact.child("keys").list() { extraKeys.append(try item.requiredString()) }
        let patterns = try Self.patterns(redact.child("patterns"))
        redactor = Redactor(builtins: builtins, extraKeys: extraKeys, patterns: patterns)

        // Rules.
        var rules: [NormalizeRule] = []
        for item in try top.child("rules").list() {
            guard item.node?.mapping != nil else { throw item.fail("a rule is a mapping (match, parser, rename, drop, redact)") }
            let keys = Set(try item.entries(allowed: Self.ruleKeys).map(\.0))
            var rule = NormalizeRule(name: try item.child("name").string())
            let match = item.child("match")
            _ = try match.entries(allowed: Self.matchKeys)
            rule.selector = RecordSelector(
                namespace: try match.child("namespace").string() ?? "*", pod: try match.child("pod").string() ?? "*",
                container: try match.child("container").string() ?? "*")
            if keys.contains("parser") { rule.parser = try item.child("parser").requiredString() }
            let rename = item.child("rename")
            for (from, value) in try rename.pairs() {
                let to = try ConfigReader(node: value, path: rename.key(from)).requiredString()
                rule.renames.append((from, to))
            }
            let drop = item.child("drop")
            let dropItems = drop.node?.sequence != nil ? try drop.list() : (drop.isNull ? [] : [drop])
            for condition in dropItems {
                rule.drops.append(try Self.dropCondition(condition))
            }
            rule.redactions = try Self.patterns(item.child("redact"))
            guard !keys.subtracting(["name", "match"]).isEmpty else {
                throw item.fail("the rule does nothing: give parser, rename, drop or redact")
            }
            rules.append(rule)
        }
        self.rules = rules
    }

    static func dropCondition(_ reader: ConfigReader) throws(NormalizeConfigurationError) -> DropCondition {
        let keys = Set(try reader.entries(allowed: dropKeys).map(\.0))
        if keys.contains("severity_below") {
            guard keys.count == 1 else { throw reader.fail("severity_below stands alone (no field or regex)") }
            let level = reader.child("severity_below")
            let text = try level.requiredString()
            guard let severity = SeverityWords.match(text) else {
                throw level.fail("expected a level (trace, debug, info, warn, error, fatal), found '\(text)'")
            }
            return .severityBelow(severity)
        }
        let field = try reader.child("field").requiredString()
        let regexReader = reader.child("regex")
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
    static func patterns(_ reader: ConfigReader) throws(NormalizeConfigurationError) -> [RedactionPattern] {
        var result: [RedactionPattern] = []
        for item in try reader.list() {
            var name = item.path
            let regexReader: ConfigReader
            if item.node?.mapping != nil {
                _ = try item.entries(allowed: patternKeys)
                name = try item.child("name").string() ?? name
                regexReader = item.child("regex")
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
    public func validate(against registry: ParserRegistry) throws(NormalizeConfigurationError) {
        func check(_ name: String, _ key: String) throws(NormalizeConfigurationError) {
            guard ParserRegistry.reservedNames.contains(name) || registry.parser(named: name) != nil else {
                throw NormalizeConfigurationError(
                    key: key, reason: "unknown parser '\(name)' (known: auto, none, \(registry.names.joined(separator: ", ")))")
            }
        }
        try check(defaultParser, "normalize.default_parser")
        for (index, rule) in rules.enumerated() {
            if let parser = rule.parser { try check(parser, "normalize.rules[\(index)].parser") }
        }
    }
}
