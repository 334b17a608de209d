/// A message template: constant tokens with variable slots, as mined from log bodies.
public struct Template: Sendable, Hashable {
    /// `nil` marks a variable slot, written `<*>`.
    public var tokens: [Substring?]

    public init(tokens: [Substring?]) { self.tokens = tokens }

    public var text: String {
        tokens.map { $0.map(String.init) ?? "<*>" }.joined(separator: " ")
    }
}
