import Foundation
import Yams

/// A whole YAML configuration, with `--set` and flags applied on top before it is read.
public struct ConfigTree {
    private(set) var root: Node

    /// `source` names the document in the errors about it as a whole (not valid YAML, not a
    /// mapping).
    public init(yaml: String, source: String = "configuration") throws(ConfigurationError) {
        let composed: Node?
        do {
            composed = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(key: "", reason: "\(source) is not valid YAML: \(error)")
        }
        root = composed ?? Node.mapping(Node.Mapping([]))
        guard root.mapping != nil else {
            throw ConfigurationError(key: "", reason: "\(source) must be a mapping at the top level (of keys to values)")
        }
    }

    public init() { root = Node.mapping(Node.Mapping([])) }

    /// The file at `path`; `flag` names where the path came from in the error when it cannot
    /// be read (`--config`).
    public init(contentsOfFile path: String, flag: String) throws(ConfigurationError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(key: "", reason: "cannot read \(flag) \(path): \(error.localizedDescription)")
        }
        try self.init(yaml: text, source: path)
    }

    /// Applies `key.path=value` (the `--set` flag); the value is read as YAML, so lists work
    /// (`inputs.paths=[/a/*.log, /b/*.log]`).
    public mutating func set(_ assignment: String) throws(ConfigurationError) {
        guard let equals = assignment.firstIndex(of: "=") else {
            throw ConfigurationError(key: assignment, reason: "--set takes key=value, e.g. --set batch.max_bytes=4MiB")
        }
        let key = String(assignment[..<equals])
        let text = String(assignment[assignment.index(after: equals)...])
        let value = (try? Yams.compose(yaml: text)) ?? nil ?? Node(text)
        try set(path: key.split(separator: ".").map(String.init), value: value)
    }

    /// Sets one key to a single value taken literally (a flag's argument).
    public mutating func set(path: [String], text: String) throws(ConfigurationError) {
        try set(path: path, value: Node(text))
    }

    public mutating func set(path: [String], value: Node) throws(ConfigurationError) {
        guard !path.isEmpty else { throw ConfigurationError(key: "", reason: "empty key in --set") }
        root = try Self.setting(root, path[...], value, prefix: "")
    }

    private static func setting(_ node: Node, _ path: ArraySlice<String>, _ value: Node, prefix: String) throws(ConfigurationError) -> Node {
        guard var mapping = node.mapping, let key = path.first else {
            throw ConfigurationError(key: prefix, reason: "is not a mapping, cannot set \(path.joined(separator: "."))")
        }
        let child = mapping[key] ?? Node.mapping(Node.Mapping([]))
        let fullKey = prefix.isEmpty ? key : prefix + "." + key
        mapping[key] = path.count == 1 ? value : try setting(child, path.dropFirst(), value, prefix: fullKey)
        return Node.mapping(mapping)
    }

    public func section(_ key: String) -> ConfigSection { top.section(key) }

    /// The top level. Its keys are not checked: each part of a program reads its own sections.
    public var top: ConfigSection { ConfigSection(node: root) }
}

/// One node of a configuration with the key path that leads to it: typed accessors that name the
/// full key in every error, and a check that refuses keys nobody read (a typo must not be
/// silently ignored). A missing key and an explicit `null` read the same.
public final class ConfigSection {
    public let node: Node?
    /// The full key of this node (`storage.compaction`, `normalize.rules[2]`).
    public let path: String
    /// The file a parser definition came from, carried into every error.
    public let file: String?
    private var read: Set<String> = []
    private var children: [ConfigSection] = []

    public init(node: Node?, path: String = "", file: String? = nil) {
        self.node = node.flatMap { Self.isNull($0) ? nil : $0 }
        self.path = path
        self.file = file
    }

    private static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.string == "~" || scalar.string == "null" || (scalar.string.isEmpty && scalar.style == .plain)
    }

    static func kindName(_ node: Node) -> String {
        switch node {
        case .scalar: "single value"
        case .mapping: "mapping"
        case .sequence: "list"
        case .alias: "alias"
        }
    }

    /// The full key of a child.
    public func key(_ name: String) -> String { path.isEmpty ? name : path + "." + name }

    public func error(_ key: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(file: file, key: key, reason: reason)
    }

    /// An error about this node itself.
    public func fail(_ reason: String) -> ConfigurationError { error(path, reason) }

    public var exists: Bool { node != nil }
    public var isNull: Bool { node == nil }
    public var isMapping: Bool { node?.mapping != nil }
    public var isList: Bool { node?.sequence != nil }
    public var isSingleValue: Bool { node?.scalar != nil }

    /// A child of this mapping; it is marked read, and its own unread keys are refused by
    /// `rejectUnknownKeys`.
    public func section(_ name: String) -> ConfigSection {
        read.insert(name)
        let child = ConfigSection(node: node?.mapping?[name], path: key(name), file: file)
        children.append(child)
        return child
    }

    /// Accepts these keys of this mapping without reading them or checking what is under them
    /// (the keys of a section that is switched off).
    public func acceptUnread(_ names: [String]) {
        read.formUnion(names)
    }

    // MARK: This node's own value

    public func string() throws(ConfigurationError) -> String? {
        guard let node else { return nil }
        guard let scalar = node.scalar else { throw fail("expected a single value, found a \(Self.kindName(node))") }
        return scalar.string
    }

    public func requiredString() throws(ConfigurationError) -> String {
        guard let value = try string(), !value.isEmpty else { throw fail("is required") }
        return value
    }

    public func bool() throws(ConfigurationError) -> Bool? {
        guard let text = try string() else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail("expected true or false, found '\(text)'")
        }
    }

    /// The items of a list; a single value counts as a list of one.
    public func list() throws(ConfigurationError) -> [ConfigSection] {
        guard let node else { return [] }
        if node.scalar != nil { return [self] }
        guard let sequence = node.sequence else { throw fail("expected a list, found a \(Self.kindName(node))") }
        var items: [ConfigSection] = []
        for (index, item) in sequence.enumerated() {
            let child = ConfigSection(node: item, path: "\(path)[\(index)]", file: file)
            children.append(child)
            items.append(child)
        }
        return items
    }

    /// Every entry of a free-form mapping (`rename: {from: to}`), all marked read.
    public func pairs() throws(ConfigurationError) -> [(key: String, value: ConfigSection)] {
        var result: [(key: String, value: ConfigSection)] = []
        for name in try keys() { result.append((name, section(name))) }
        return result
    }

    /// The keys of this mapping, after checking each is one of `allowed`.
    @discardableResult
    public func keys(allowed: Set<String>) throws(ConfigurationError) -> Set<String> {
        let present = try keys()
        for name in present where !allowed.contains(name) {
            throw error(key(name), "unknown key (known here: \(allowed.sorted().joined(separator: ", ")))")
        }
        return Set(present)
    }

    private func keys() throws(ConfigurationError) -> [String] {
        guard let node else { return [] }
        guard let mapping = node.mapping else { throw fail("expected a mapping, found a \(Self.kindName(node))") }
        var names: [String] = []
        for (keyNode, _) in mapping {
            guard let name = keyNode.scalar?.string else { throw fail("keys must be plain names") }
            names.append(name)
        }
        return names
    }

    // MARK: A child's value

    public func string(_ name: String) throws(ConfigurationError) -> String? { try section(name).string() }

    public func string(_ name: String, default fallback: String) throws(ConfigurationError) -> String {
        try string(name) ?? fallback
    }

    public func bool(_ name: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
        try section(name).bool() ?? fallback
    }

    public func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = try string(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw error(key(name), "expected a whole number from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
        }
        return value
    }

    public func number(_ name: String, default fallback: Double, range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let text = try string(name) else { return fallback }
        guard let value = Double(text), range.contains(value) else {
            throw error(key(name), "expected a number from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
        }
        return value
    }

    /// `1MiB`, `512KiB`, `10MB`, `4096`.
    public func bytes(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = try string(name) else { return fallback }
        guard let value = ByteSize.parse(text), range.contains(value) else {
            throw error(
                key(name),
                "expected a size from \(ByteSize.format(range.lowerBound)) to \(ByteSize.format(range.upperBound)) like 1MiB or 512KiB, found '\(text)'")
        }
        return value
    }

    /// `250ms`, `1s`, `5m`, `1h`, `7d`, `1y`.
    public func duration(_ name: String, default fallback: Duration, range: ClosedRange<Duration>) throws(ConfigurationError) -> Duration {
        guard let text = try string(name) else { return fallback }
        guard let value = DurationText.parse(text), range.contains(value) else {
            // The default is the most telling example; a default outside the range (zero for
            // "off") is not one.
            let example = range.contains(fallback) && fallback > .zero ? fallback : max(range.lowerBound, .seconds(1))
            throw error(
                key(name),
                "expected a duration between \(DurationText.format(range.lowerBound)) and \(DurationText.format(range.upperBound)) "
                    + "(e.g. \(DurationText.format(example))), found '\(text)'")
        }
        return value
    }

    /// `duration` as whole nanoseconds, the unit the store and diagnosis keep their settings in.
    public func nanoseconds(_ name: String, default fallback: Int64, range: ClosedRange<Duration>) throws(ConfigurationError) -> Int64 {
        let value = try duration(name, default: .nanoseconds(fallback), range: range)
        let (seconds, attoseconds) = value.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }

    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, default fallback: T) throws(ConfigurationError) -> T
    where T.RawValue == String {
        guard let text = try string(name) else { return fallback }
        guard let value = T(rawValue: text) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(key(name), "expected one of \(options), found '\(text)'")
        }
        return value
    }

    /// A list of single values; one value with commas counts as a list (`a, b`).
    public func strings(_ name: String) throws(ConfigurationError) -> [String]? {
        let child = section(name)
        guard let node = child.node else { return nil }
        if let scalar = node.scalar {
            return scalar.string.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }
        guard node.sequence != nil else { throw child.fail("expected a list of values") }
        var values: [String] = []
        for item in try child.list() {
            guard let value = item.node?.scalar?.string else { throw item.fail("expected a single value") }
            values.append(value)
        }
        return values
    }

    /// A list of mappings (`retention.namespaces`, `diagnosis.webhooks`).
    public func sections(_ name: String) throws(ConfigurationError) -> [ConfigSection] {
        let child = section(name)
        guard let node = child.node else { return [] }
        guard node.sequence != nil else { throw child.fail("expected a list of mappings") }
        let items = try child.list()
        for item in items where !item.isMapping { throw item.fail("expected a mapping") }
        return items
    }

    /// Fails on the first key, here or below, that no accessor asked for.
    public func rejectUnknownKeys() throws(ConfigurationError) {
        if let mapping = node?.mapping {
            for (keyNode, _) in mapping {
                guard let name = keyNode.string, read.contains(name) else {
                    let known = read.sorted().joined(separator: ", ")
                    throw error(key(keyNode.string ?? "?"), "unknown key (known here: \(known))")
                }
            }
        }
        for child in children { try child.rejectUnknownKeys() }
    }
}
