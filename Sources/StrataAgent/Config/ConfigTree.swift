import Yams

public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var key: String
    public var reason: String
    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }
    public var description: String { key.isEmpty ? "invalid configuration: \(reason)" : "invalid configuration key '\(key)': \(reason)" }
}

/// A YAML configuration as a tree of nodes, read with typed accessors that name the full key
/// in every error and that reject keys nobody reads (a typo must not be silently ignored).
public struct ConfigTree {
    private(set) var root: Node

    public init(yaml: String, source: String = "configuration") throws {
        do {
            root = try Yams.compose(yaml: yaml) ?? Node.mapping(Node.Mapping([]))
        } catch {
            throw ConfigurationError(key: "", reason: "\(source) is not valid YAML: \(error)")
        }
        guard root.mapping != nil else {
            throw ConfigurationError(key: "", reason: "\(source) must be a mapping of keys to values at the top level")
        }
    }

    public init() { root = Node.mapping(Node.Mapping([])) }

    /// Applies `key.path=value` (the `--set` flag); the value is read as YAML, so lists work
    /// (`inputs.paths=[/a/*.log, /b/*.log]`).
    public mutating func set(_ assignment: String) throws {
        guard let equals = assignment.firstIndex(of: "=") else {
            throw ConfigurationError(key: assignment, reason: "--set takes key=value, e.g. --set batch.max_bytes=4MiB")
        }
        let key = String(assignment[..<equals])
        let text = String(assignment[assignment.index(after: equals)...])
        let value = (try? Yams.compose(yaml: text)) ?? nil ?? Node(text)
        try set(path: key.split(separator: ".").map(String.init), value: value)
    }

    public mutating func set(path: [String], value: Node) throws {
        guard !path.isEmpty else { throw ConfigurationError(key: "", reason: "empty key in --set") }
        root = try Self.setting(root, path[...], value, prefix: "")
    }

    private static func setting(_ node: Node, _ path: ArraySlice<String>, _ value: Node, prefix: String) throws -> Node {
        guard var mapping = node.mapping else {
            throw ConfigurationError(key: prefix, reason: "is not a mapping, cannot set \(path.joined(separator: "."))")
        }
        let key = path.first!
        let child = mapping[key] ?? Node.mapping(Node.Mapping([]))
        let fullKey = prefix.isEmpty ? key : prefix + "." + key
        mapping[key] = path.count == 1 ? value : try setting(child, path.dropFirst(), value, prefix: fullKey)
        return Node.mapping(mapping)
    }

    public func section(_ key: String) -> ConfigSection {
        ConfigSection(node: root, path: "").section(key)
    }

    public var top: ConfigSection { ConfigSection(node: root, path: "") }
}

/// One mapping in the tree, with the key path that leads to it.
public final class ConfigSection {
    let node: Node?
    let path: String
    private var read: Set<String> = []
    private var children: [ConfigSection] = []

    init(node: Node?, path: String) {
        self.node = node
        self.path = path
    }

    private func fullKey(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    private func value(_ key: String) -> Node? {
        read.insert(key)
        guard let value = node?.mapping?[key] else { return nil }
        if case .scalar(let scalar) = value, scalar.string == "~" || scalar.string == "null" || (scalar.string.isEmpty && scalar.style == .plain) {
            return nil
        }
        return value
    }

    public func section(_ key: String) -> ConfigSection {
        let child = ConfigSection(node: value(key), path: fullKey(key))
        children.append(child)
        return child
    }

    public var exists: Bool { node != nil }

    public func string(_ key: String) throws -> String? {
        guard let node = value(key) else { return nil }
        guard let scalar = node.scalar else {
            throw ConfigurationError(key: fullKey(key), reason: "expected a single value, found a \(node.kindName)")
        }
        return scalar.string
    }

    public func string(_ key: String, default fallback: String) throws -> String { try string(key) ?? fallback }

    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let text = try string(key) else { return fallback }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw ConfigurationError(key: fullKey(key), reason: "expected true or false, found '\(text)'")
        }
    }

    public func integer(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = try string(key) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(
                key: fullKey(key), reason: "expected a whole number from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
        }
        return value
    }

    /// `1MiB`, `512KiB`, `10MB`, `4096`.
    public func bytes(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = try string(key) else { return fallback }
        guard let value = ByteSize.parse(text), range.contains(value) else {
            throw ConfigurationError(
                key: fullKey(key),
                reason: "expected a size from \(ByteSize.format(range.lowerBound)) to \(ByteSize.format(range.upperBound)) like 1MiB or 512KiB, found '\(text)'")
        }
        return value
    }

    /// `250ms`, `1s`, `5m`, `1h`.
    public func duration(_ key: String, default fallback: Duration, range: ClosedRange<Duration>) throws -> Duration {
        guard let text = try string(key) else { return fallback }
        guard let value = DurationText.parse(text), range.contains(value) else {
            throw ConfigurationError(
                key: fullKey(key),
                reason: "expected a duration from \(range.lowerBound) to \(range.upperBound) like 250ms, 1s or 5m, found '\(text)'")
        }
        return value
    }

    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws -> T
    where T.RawValue == String {
        guard let text = try string(key) else { return fallback }
        guard let value = T(rawValue: text) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(key: fullKey(key), reason: "expected one of \(options), found '\(text)'")
        }
        return value
    }

    public func strings(_ key: String) throws -> [String]? {
        guard let node = value(key) else { return nil }
        if let scalar = node.scalar {
            return scalar.string.split(separator: ",").map { (part: Substring) -> String in String(part).trimmingWhitespace() }.filter { !$0.isEmpty }
        }
        guard let sequence = node.sequence else {
            throw ConfigurationError(key: fullKey(key), reason: "expected a list of values")
        }
        return try sequence.enumerated().map { index, item in
            guard let scalar = item.scalar else {
                throw ConfigurationError(key: "\(fullKey(key))[\(index)]", reason: "expected a single value")
            }
            return scalar.string
        }
    }

    public func sections(_ key: String) throws -> [ConfigSection] {
        guard let node = value(key) else { return [] }
        guard let sequence = node.sequence else {
            throw ConfigurationError(key: fullKey(key), reason: "expected a list of mappings")
        }
        return try sequence.enumerated().map { index, item in
            guard item.mapping != nil else {
                throw ConfigurationError(key: "\(fullKey(key))[\(index)]", reason: "expected a mapping")
            }
            let child = ConfigSection(node: item, path: "\(fullKey(key))[\(index)]")
            children.append(child)
            return child
        }
    }

    /// Fails on the first key that no accessor asked for.
    public func rejectUnknownKeys() throws {
        if let mapping = node?.mapping {
            for (keyNode, _) in mapping {
                guard let key = keyNode.string, read.contains(key) else {
                    let key = keyNode.string ?? "?"
                    let known = read.sorted().joined(separator: ", ")
                    throw ConfigurationError(key: fullKey(key), reason: "unknown key (known here: \(known))")
                }
            }
        }
        for child in children { try child.rejectUnknownKeys() }
    }
}

extension Node {
    var kindName: String {
        switch self {
        case .scalar: "value"
        case .mapping: "mapping"
        case .sequence: "list"
        case .alias: "alias"
        }
    }
}

public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingWhitespace()
        let digits = trimmed.prefix { $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let unit = String(trimmed.dropFirst(digits.count)).trimmingWhitespace().lowercased()
        let multiplier: Int
        switch unit {
        case "", "b": multiplier = 1
        case "k", "kb": multiplier = 1000
        case "kib", "ki": multiplier = 1 << 10
        case "m", "mb": multiplier = 1_000_000
        case "mib", "mi": multiplier = 1 << 20
        case "g", "gb": multiplier = 1_000_000_000
        case "gib", "gi": multiplier = 1 << 30
        default: return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    public static func format(_ bytes: Int) -> String {
        if bytes >= 1 << 30 && bytes % (1 << 30) == 0 { return "\(bytes >> 30)GiB" }
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10)KiB" }
        return "\(bytes)B"
    }
}

public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingWhitespace()
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        guard !digits.isEmpty, let number = Double(digits), number >= 0 else { return nil }
        let unit = String(trimmed.dropFirst(digits.count)).trimmingWhitespace().lowercased()
        let seconds: Double
        switch unit {
        case "ns": seconds = number / 1e9
        case "us", "µs": seconds = number / 1e6
        case "ms": seconds = number / 1e3
        case "s", "": seconds = number
        case "m": seconds = number * 60
        case "h": seconds = number * 3600
        case "d": seconds = number * 86400
        default: return nil
        }
        return .nanoseconds(Int64(seconds * 1e9))
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
