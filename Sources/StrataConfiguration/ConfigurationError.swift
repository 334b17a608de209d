/// A problem in a configuration: the collector's and the agent's YAML, `--set` flags, or a
/// parser definition (`parsers/*.yaml`, then `file` names it). `key` is the full key path
/// (`retention.max_age`, `normalize.rules[2].drop.regex`); empty for the document as a whole.
///
/// Printed as `retention.max_age: expected …, found '100000d'`, the way the command line words
/// its other errors.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
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
        return key.isEmpty ? place + reason : "\(place)\(key): \(reason)"
    }
}
