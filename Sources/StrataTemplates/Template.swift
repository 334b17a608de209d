/// The identity of a mined template: 64 bits, printed as 16 lowercase hex digits.
///
/// An id is derived (FNV-1a) from the template's text, so every miner that ends with the same
/// template gives it the same id, whatever order the messages came in. When a template
/// generalizes or merges into another, its text changes and so does its id; the id handed out
/// before stays in the miner's alias table and resolves to the surviving template
/// (`TemplateMiner.resolve(_:)`, `template(id:)`), and the table is persisted with the state.
public struct TemplateID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Parses the 16-hex-digit form (`description`); returns nil for anything else.
    public init?(_ text: some StringProtocol) {
        guard text.utf8.count == 16, let value = UInt64(text, radix: 16) else { return nil }
        self.rawValue = value
    }

    public var description: String {
        var bytes = [UInt8](repeating: 0, count: 16)
        Self.writeHex(rawValue, into: &bytes, at: 0)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the 16 hex digits into `bytes[offset..<offset+16]` (the command line's fast path).
    @inlinable
    public static func writeHex(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64((15 - index) * 4)) & 0xF
            bytes[offset + index] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
        }
    }

    public static func < (lhs: TemplateID, rhs: TemplateID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = TemplateID(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "template id must be 16 hex digits, found '\(text)'")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The template a message belongs to, as of the moment it was added or matched.
public struct TemplateMatch: Sendable, Hashable {
    public var id: TemplateID
    /// Constant text with every variable written `<*>`; tokens are joined by single spaces.
    public var text: String

    public init(id: TemplateID, text: String) {
        self.id = id
        self.text = text
    }
}

/// One template of a miner, for listings.
public struct TemplateSummary: Sendable, Hashable, Codable {
    public var id: TemplateID
    public var text: String
    /// Messages added to this template (matches without learning are not counted).
    public var count: Int

    public init(id: TemplateID, text: String, count: Int) {
        self.id = id
        self.text = text
        self.count = count
    }
}

/// The variable marker in template text.
public let templateWildcard = "<*>"
