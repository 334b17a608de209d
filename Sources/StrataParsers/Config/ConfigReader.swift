import Yams

/// A problem in a parser definition (`parsers/*.yaml`) or in the `normalize:` section of the
/// collector configuration. `key` is the full key path (`rules[2].drop.regex`); `file` is set
/// for parser definitions.
public struct NormalizeConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String?
    public var key: String
    public var reason: String

    public init(file: String? = nil, key: String, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        let place = file.map { "\($0): " } ?? ""
        return key.isEmpty ? "\(place)invalid configuration: \(reason)" : "\(place)invalid configuration key '\(key)': \(reason)"
    }
}

/// A parser directory with one or more bad definitions: every problem, in file order.
public struct ParserDefinitionErrors: Error, CustomStringConvertible, Equatable, Sendable {
    public var problems: [NormalizeConfigurationError]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Typed reading of one YAML node that names the full key in every error and rejects keys
/// nobody reads (a typo must not be ignored silently).
struct ConfigReader {
    let node: Node?
    let path: String
    let file: String?

    init(node: Node?, path: String, file: String? = nil) {
        self.node = node
        self.path = path
        self.file = file
    }

    func key(_ name: String) -> String { path.isEmpty ? name : path + "." + name }

    func error(_ key: String, _ reason: String) -> NormalizeConfigurationError {
        NormalizeConfigurationError(file: file, key: key, reason: reason)
    }

    func fail(_ reason: String) -> NormalizeConfigurationError { error(path, reason) }

    var isNull: Bool {
        guard let node else { return true }
        if case .scalar(let scalar) = node {
            return scalar.string == "~" || scalar.string == "null" || (scalar.string.isEmpty && scalar.style == .plain)
        }
        return false
    }

    static func kindName(_ node: Node) -> String {
        switch node {
        case .scalar: "single value"
        case .mapping: "mapping"
        case .sequence: "list"
        case .alias: "alias"
        }
    }

    /// The mapping's entries, after checking every key is in `allowed`.
    func entries(allowed: Set<String>) throws(NormalizeConfigurationError) -> [(String, Node)] {
        guard !isNull, let node else { return [] }
        guard let mapping = node.mapping else { throw fail("expected a mapping, found a \(Self.kindName(node))") }
        var result: [(String, Node)] = []
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else { throw fail("keys must be plain names") }
            guard allowed.contains(name) else {
                throw error(key(name), "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
            result.append((name, value))
        }
        return result
    }

    /// All entries of a free-form mapping (`rename: {from: to}`).
    func pairs() throws(NormalizeConfigurationError) -> [(String, Node)] {
        guard !isNull, let node else { return [] }
        guard let mapping = node.mapping else { throw fail("expected a mapping, found a \(Self.kindName(node))") }
        var result: [(String, Node)] = []
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else { throw fail("keys must be plain names") }
            result.append((name, value))
        }
        return result
    }

    func child(_ name: String) -> ConfigReader {
        ConfigReader(node: node?.mapping?[name], path: key(name), file: file)
    }

    func string() throws(NormalizeConfigurationError) -> String? {
        guard !isNull, let node else { return nil }
        guard let scalar = node.scalar else {
            throw fail("expected a single value, found a \(Self.kindName(node))")
        }
        return scalar.string
    }

    func requiredString() throws(NormalizeConfigurationError) -> String {
        guard let value = try string(), !value.isEmpty else { throw fail("is required") }
        return value
    }

    func bool() throws(NormalizeConfigurationError) -> Bool? {
        guard let text = try string() else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail("expected true or false, found '\(text)'")
        }
    }

    /// A list; a single value counts as a list of one.
    func list() throws(NormalizeConfigurationError) -> [ConfigReader] {
        guard !isNull, let node else { return [] }
        if let sequence = node.sequence {
            return sequence.enumerated().map { ConfigReader(node: $1, path: "\(path)[\($0)]", file: file) }
        }
        if node.scalar != nil { return [self] }
        throw fail("expected a list, found a \(Self.kindName(node))")
    }

    /// `UTC`, `Z`, `+02:00`, `-0530`, `+2`: seconds east of UTC.
    func utcOffset() throws(NormalizeConfigurationError) -> Int? {
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
