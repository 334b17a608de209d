/// Where a JSON text breaks the grammar: the byte offset and what was wrong there.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Offset of the offending byte from the start of the scanned text.
    public let offset: Int
    public let problem: String

    public init(offset: Int, problem: String) {
        self.offset = offset
        self.problem = problem
    }

    public var description: String { "\(problem) at column \(offset + 1)" }
}

/// A string value or key as it stands in the text: the bytes between its quotes, validated.
public struct JSONStringToken: Sendable, Equatable {
    /// The content between the quotes, escapes still written out.
    public let range: Range<Int>
    public let hasEscapes: Bool

    public init(range: Range<Int>, hasEscapes: Bool) {
        self.range = range
        self.hasEscapes = hasEscapes
    }
}

/// A pull scanner over one JSON text, without Foundation: ingest reads millions of records, and
/// JSONSerialization builds a dictionary of boxed values for each. Validates what it passes over
/// (strings are UTF-8 with valid escapes, numbers follow the grammar) and hands out positions;
/// callers decode only the values they use.
///
/// It accepts what Foundation's JSONSerialization accepted from ingest clients, including one
/// trailing comma before `}` or `]`, and a byte order mark before the text.
public struct JSONScanner {
    /// The maximum nesting of objects and arrays, as in JSONSerialization.
    public static let maxDepth = 512

    public enum ValueKind: Sendable, Equatable {
        case object, array, string, number, literal
    }

    public enum Literal: Sendable, Equatable {
        case `true`, `false`, null
    }

    public let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var position = 0

    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
    }

    // MARK: Structure

    /// The kind of the next value, judged by its first byte (after whitespace).
    public mutating func peekValue() throws(JSONSyntaxError) -> ValueKind {
        skipWhitespace()
        guard position < bytes.count else { throw failure("the text ends where a value should start") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return .literal
        default: throw failure("expected a value")
        }
    }

    /// Moves past the `{` of an object; then `nextKey` walks its members.
    public mutating func enterObject() throws(JSONSyntaxError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else { throw failure("expected an object") }
        position += 1
        atFirstItem = true
    }

    /// The key of the next member of the object entered last (the scanner is then at its
    /// value, which the caller must read or skip), or nil after its closing `}`.
    public mutating func nextKey() throws(JSONSyntaxError) -> JSONStringToken? {
        guard try nextItem(closing: UInt8(ascii: "}"), container: "object", item: "a member") else { return nil }
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
            throw failure("expected a member name in double quotes")
        }
        let key = try readString()
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
            throw failure("expected ':' after a member name")
        }
        position += 1
        return key
    }

    /// Moves past the `[` of an array; then `nextElement` walks its elements.
    public mutating func enterArray() throws(JSONSyntaxError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else { throw failure("expected an array") }
        position += 1
        atFirstItem = true
    }

    /// Whether another element of the array entered last follows (the scanner is then at it,
    /// and the caller must read or skip it); false after the closing `]`.
    public mutating func nextElement() throws(JSONSyntaxError) -> Bool {
        try nextItem(closing: UInt8(ascii: "]"), container: "array", item: "an element")
    }

    /// Only whitespace may follow the value just read.
    public mutating func finish() throws(JSONSyntaxError) {
        skipWhitespace()
        guard position == bytes.count else { throw failure("unexpected text after the value") }
    }

    /// Between `enterObject`/`enterArray` and the first `nextKey`/`nextElement`: no comma is due.
    /// One flag serves every level, because entering is always followed by reading the first item.
    private var atFirstItem = false

    /// Passes the comma before an item, or the closing bracket; true when an item follows.
    private mutating func nextItem(closing: UInt8, container: String, item: String) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw failure("the \(container) is not closed") }
        if atFirstItem {
            atFirstItem = false
        } else if bytes[position] == UInt8(ascii: ",") {
            position += 1
            skipWhitespace()
            guard position < bytes.count else { throw failure("the \(container) is not closed") }
        } else if bytes[position] != closing {
            throw failure("expected ',' or '\(Character(Unicode.Scalar(closing)))' after \(item)")
        }
        if bytes[position] == closing {
            position += 1
            return false
        }
        return true
    }

    // MARK: Values

    /// Reads a string value (the scanner must be at its opening quote).
    public mutating func readString() throws(JSONSyntaxError) -> JSONStringToken {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a string") }
        position += 1
        let start = position
        var hasEscapes = false
        while true {
            skipPlainStringBytes()
            guard position < bytes.count else {
                throw JSONSyntaxError(offset: start - 1, problem: "the string is not closed")
            }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return JSONStringToken(range: start..<position - 1, hasEscapes: hasEscapes)
            case UInt8(ascii: "\\"):
                hasEscapes = true
                try skipEscape()
            case ..<0x20:
                throw failure("unescaped control character in a string")
            default:
                try skipUTF8Sequence()
            }
        }
    }

    /// Reads a number; returns where its text stands.
    public mutating func readNumber() throws(JSONSyntaxError) -> Range<Int> {
        skipWhitespace()
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else { throw failure("expected a digit") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw failure("number with a leading zero") }
        } else {
            skipDigits()
        }
        var simple = position - start <= 18
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw failure("expected a digit after '.'") }
            skipDigits()
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            simple = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else { throw failure("expected a digit in the exponent") }
            skipDigits()
        }
        // Only long or exponent forms can be out of a Double's range.
        if !simple, !(Double(text(start..<position))?.isFinite ?? false) {
            throw JSONSyntaxError(offset: start, problem: "number \(text(start..<position)) is out of range")
        }
        return start..<position
    }

    public mutating func readLiteral() throws(JSONSyntaxError) -> Literal {
        skipWhitespace()
        if spelled("true") { return .true }
        if spelled("false") { return .false }
        if spelled("null") { return .null }
        throw failure("expected a value")
    }

    /// Validates and passes over one value of any kind; returns where its text stands.
    @discardableResult
    public mutating func skipValue() throws(JSONSyntaxError) -> Range<Int> {
        try skipValue(depth: 0)
    }

    @discardableResult
    private mutating func skipValue(depth: Int) throws(JSONSyntaxError) -> Range<Int> {
        let kind = try peekValue()
        let start = position
        switch kind {
        case .string: _ = try readString()
        case .number: _ = try readNumber()
        case .literal: _ = try readLiteral()
        case .object:
            guard depth < Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth) levels") }
            try enterObject()
            while try nextKey() != nil { try skipValue(depth: depth + 1) }
        case .array:
            guard depth < Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth) levels") }
            try enterArray()
            while try nextElement() { try skipValue(depth: depth + 1) }
        }
        return start..<position
    }

    // MARK: Decoding what was scanned

    /// The text of a string token, escapes decoded (the scanner has validated them).
    public func string(_ token: JSONStringToken) -> String {
        guard token.hasEscapes else { return text(token.range) }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(token.range.count)
        var index = token.range.lowerBound
        var plainStart = index
        while index < token.range.upperBound {
            guard bytes[index] == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            decoded.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainStart..<index]))
            let escaped = bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = hexValue(at: index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hexValue(at: index + 2) - 0xDC00)
                    index += 6
                }
                UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}") { decoded.append($0) }
            default: decoded.append(escaped)  // \" \\ \/
            }
            plainStart = index
        }
        decoded.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainStart..<token.range.upperBound]))
        return String(decoding: decoded, as: UTF8.self)
    }

    /// The bytes of `range` as text (for numbers and validated strings without escapes).
    public func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// `range` (a value the scanner passed over) without the whitespace between its tokens.
    public func compactText(_ range: Range<Int>) -> String {
        var compact: [UInt8] = []
        compact.reserveCapacity(range.count)
        var inString = false
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            if inString {
                compact.append(byte)
                if byte == UInt8(ascii: "\\") {
                    compact.append(bytes[index + 1])
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if !isWhitespace(byte) {
                compact.append(byte)
                inString = byte == UInt8(ascii: "\"")
            }
            index += 1
        }
        return String(decoding: compact, as: UTF8.self)
    }

    // MARK: Bytes

    /// Moves past `word` when the text continues with it.
    private mutating func spelled(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { $0.elementsEqual(bytes[position..<position + count]) }
        if matches { position += count }
        return matches
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, isWhitespace(bytes[position]) { position += 1 }
    }

    @inline(__always)
    private func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    @inline(__always)
    private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    private mutating func skipDigits() {
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    }

    /// Passes over ASCII bytes that need no attention: eight at a time while none of them is a
    /// quote, a backslash, a control character or part of a multi-byte sequence.
    @inline(__always)
    private mutating func skipPlainStringBytes() {
        guard let base = bytes.baseAddress else { return }
        while position + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highBits: UInt64 = 0x8080_8080_8080_8080
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // A byte is zero, below 0x20, or has its high bit set.
            let special =
                ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | (word &- ones &* 0x20) | word
            if special & highBits != 0 { break }
            position += 8
        }
        while position < bytes.count {
            let byte = bytes[position]
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { return }
            position += 1
        }
    }

    /// At a backslash inside a string.
    private mutating func skipEscape() throws(JSONSyntaxError) {
        guard position + 1 < bytes.count else { throw failure("the string is not closed") }
        switch bytes[position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 2
        case UInt8(ascii: "u"):
            guard let unit = hexUnit(at: position + 2) else { throw failure("\\u needs four hex digits") }
            if (0xDC00..<0xE000).contains(unit) { throw failure("\\u\(text(position + 2..<position + 6)) is a low surrogate without a high one") }
            if (0xD800..<0xDC00).contains(unit) {
                guard position + 12 <= bytes.count, bytes[position + 6] == UInt8(ascii: "\\"),
                    bytes[position + 7] == UInt8(ascii: "u"), let low = hexUnit(at: position + 8),
                    (0xDC00..<0xE000).contains(low)
                else { throw failure("\\u\(text(position + 2..<position + 6)) is a high surrogate without a low one") }
                position += 12
            } else {
                position += 6
            }
        default:
            throw failure("invalid escape sequence")
        }
    }

    private func hexUnit(at index: Int) -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Four hex digits the scanner has validated.
    private func hexValue(at index: Int) -> UInt32 { hexUnit(at: index) ?? 0xFFFD }

    /// At a byte of 0x80 or more: one well-formed UTF-8 sequence (no overlong forms, no
    /// surrogates, nothing above U+10FFFF).
    private mutating func skipUTF8Sequence() throws(JSONSyntaxError) {
        let lead = bytes[position]
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: throw failure("invalid UTF-8")
        }
        guard position + length <= bytes.count else { throw failure("invalid UTF-8") }
        let second = bytes[position + 1]
        guard second >= lower, second <= upper else { throw failure("invalid UTF-8") }
        for index in position + 2..<position + length where bytes[index] & 0xC0 != 0x80 {
            throw failure("invalid UTF-8")
        }
        position += length
    }

    private func failure(_ problem: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: position, problem: problem)
    }
}
