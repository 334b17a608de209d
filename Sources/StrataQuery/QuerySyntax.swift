import StrataCore

/// A parsed query (docs/QUERY.md). The parser produces it, `QueryPlan` compiles it, and the
/// engine and the reference semantics (`QueryPlan.matches`) both work from it.
public indirect enum QueryNode: Sendable, Hashable, CustomStringConvertible {
    /// The empty query or `*`: every record.
    case all
    case and([QueryNode])
    case or([QueryNode])
    case not(QueryNode)
    case predicate(QueryPredicate)

    /// A canonical, fully parenthesized rendering (for tests and `--explain`).
    public var description: String {
        switch self {
        case .all: "*"
        case .and(let children): "(" + children.map(\.description).joined(separator: " AND ") + ")"
        case .or(let children): "(" + children.map(\.description).joined(separator: " OR ") + ")"
        case .not(let child): "NOT " + child.description
        case .predicate(let predicate): predicate.description
        }
    }
}

/// One test on a record.
public enum QueryPredicate: Sendable, Hashable, CustomStringConvertible {
    /// The body has this token (lowercased; a word or a whole identifier: docs/FORMAT.md).
    case token(String)
    /// The body's words contain these consecutive words (lowercased).
    case phrase([String])
    /// The body has a token (of at most `SegmentFormat.maxTermLength` bytes) starting with this
    /// lowercased prefix.
    case tokenPrefix(String)
    /// RE2 finds a match in the body (case-sensitive unless the pattern says `(?i)`).
    case bodyRegex(String)
    case field(Field, FieldMatch)

    public var description: String {
        switch self {
        case .token(let token): token
        case .phrase(let words): "\"" + words.joined(separator: " ") + "\""
        case .tokenPrefix(let prefix): prefix + "*"
        case .bodyRegex(let pattern): "/" + pattern + "/"
        case .field(let field, let match): field.name + ":" + match.description
        }
    }
}

/// How a field's values are tested. A record matches when ANY of its values for the field does
/// (a key may be both a resource attribute and a record attribute).
public enum FieldMatch: Sendable, Hashable, CustomStringConvertible {
    /// Exact, case-sensitive value (severity, stream and ids are normalized when parsed).
    case equals(String)
    case prefix(String)
    case regex(String)
    /// The value read as a number (severity: its rank) compared with the operand.
    case compare(Comparison, Double)
    /// The record has the field at all.
    case exists

    public var description: String {
        switch self {
        case .equals(let value): value.contains(where: { $0 == " " || $0 == ":" }) ? "\"\(value)\"" : value
        case .prefix(let prefix): prefix + "*"
        case .regex(let pattern): "/" + pattern + "/"
        case .compare(let op, let value): op.rawValue + Self.format(value)
        case .exists: "_exists_"
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

public enum Comparison: String, Sendable, Hashable, CaseIterable {
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="

    public func holds(_ value: Double, _ operand: Double) -> Bool {
        switch self {
        case .greater: value > operand
        case .greaterOrEqual: value >= operand
        case .less: value < operand
        case .lessOrEqual: value <= operand
        }
    }
}

/// A field a query can name. Everything that is not built in is an attribute key, looked up in
/// the resource attributes and the record attributes alike (they share one `key=value` space
/// in the index).
public enum Field: Sendable, Hashable, CustomStringConvertible {
    case severity
    case stream
    case traceID
    case spanID
    case flag
    /// The message template id (0 = none is "absent").
    case template
    case attribute(String)

    /// Shorthands for Kubernetes users, mapped to the OpenTelemetry names.
    public static let shorthands: [String: String] = [
        "ns": ResourceKey.namespace, "namespace": ResourceKey.namespace, "pod": ResourceKey.pod,
        "container": ResourceKey.container, "node": ResourceKey.node,
    ]

    /// Where the collector keeps a record's template id (StrataServer's TemplateAnnotator).
    public static let templateAttribute = "template.id"

    /// The field a user-typed name refers to (`level` → severity, `ns` → k8s.namespace.name, …).
    public init(name: String) {
        switch name {
        case "level", "severity": self = .severity
        case "stream": self = .stream
        case "trace_id": self = .traceID
        case "span_id": self = .spanID
        case "flag", "flags": self = .flag
        // The collector writes each record's template id (16 hex digits) as this attribute.
        case "template": self = .attribute(Field.templateAttribute)
        default: self = .attribute(Field.shorthands[name] ?? name)
        }
    }

    /// The name as the index spells it: the part before `=` of its terms.
    public var name: String {
        switch self {
        case .severity: "severity"
        case .stream: "stream"
        case .traceID: "trace_id"
        case .spanID: "span_id"
        case .flag: "flag"
        case .template: "template"
        case .attribute(let key): key
        }
    }

    /// The short name for display (`k8s.pod.name` → `pod`, severity → `level`).
    public var displayName: String {
        switch self {
        case .severity: return "level"
        case .attribute(let key):
            switch key {
            case ResourceKey.namespace: return "ns"
            case ResourceKey.pod: return "pod"
            case ResourceKey.container: return "container"
            case ResourceKey.node: return "node"
            case Field.templateAttribute: return "template"
            default: return key
            }
        default: return name
        }
    }

    public var description: String { name }

    /// The index term for one value of this field.
    func term(_ value: String) -> String { name + "=" + value }
}

extension QueryNode {
    /// The query with every `template:<id>` widened to all ids of the same template. Template
    /// ids are derived from the template's text, so when templates generalize or merge, records
    /// stored earlier keep an older id that now resolves to the current one (docs/TEMPLATES.md,
    /// "Ids"); `ids` lists them for one id (the id itself first), or nil to leave it as written.
    public func expandingTemplateIDs(_ ids: (String) -> [String]?) -> QueryNode {
        switch self {
        case .all: return .all
        case .and(let children): return .and(children.map { $0.expandingTemplateIDs(ids) })
        case .or(let children): return .or(children.map { $0.expandingTemplateIDs(ids) })
        case .not(let child): return .not(child.expandingTemplateIDs(ids))
        case .predicate(.field(.attribute(Field.templateAttribute), .equals(let id))):
            guard let all = ids(id), all.count > 1 else { return self }
            return .or(all.map { .predicate(.field(.attribute(Field.templateAttribute), .equals($0))) })
        case .predicate: return self
        }
    }
}
