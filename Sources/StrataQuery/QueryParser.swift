import StrataCore
import StrataStore

/// A query that does not parse: where (1-based column, in characters) and what was expected.
public struct QueryParseError: Error, CustomStringConvertible, Equatable, Sendable {
    public var column: Int
    public var message: String
    public init(column: Int, _ message: String) {
        self.column = column
        self.message = message
    }
    public var description: String { "column \(column): \(message)" }
}

/// Parses the query language of docs/QUERY.md into a `QueryNode`.
///
/// Grammar (keywords are upper case; lower-case `and`/`or`/`not` are ordinary words):
///
///     query   := orExpr?
///     orExpr  := andExpr ("OR" andExpr)*
///     andExpr := unary (("AND")? unary)*          -- juxtaposition is AND
///     unary   := "NOT" unary | "-" primary | "+" primary | primary
///     primary := "(" orExpr ")" | "phrase" | /regex/ | name ":" value | word | word* | *
///     value   := "phrase" | /regex/ | (">" | ">=" | "<" | "<=") number | word | word* | *
public struct QueryParser {
    /// Deeper nesting is refused (it would only exhaust the stack).
    public static let maxDepth = 64

    private let chars: [Character]
    private var position = 0
    private var depth = 0

    public static func parse(_ text: String) throws -> QueryNode {
        var parser = QueryParser(chars: Array(text))
        return try parser.parseQuery()
    }

    private init(chars: [Character]) { self.chars = chars }

    // MARK: Expressions

    private mutating func parseQuery() throws -> QueryNode {
        skipSpace()
        if atEnd { return .all }
        let node = try parseOr()
        skipSpace()
        if !atEnd {
            // parseOr stops only at the end or at a ')'.
            throw QueryParseError(column: column, "unexpected ')' without a matching '('")
        }
        return node
    }

    private mutating func parseOr() throws -> QueryNode {
        var items = [try parseAnd()]
        while true {
            skipSpace()
            guard let keyword = keywordHere(), keyword == "OR" else { break }
            let keywordColumn = column
            position += 2
            try expectOperand(after: "OR", at: keywordColumn)
            items.append(try parseAnd())
        }
        return items.count == 1 ? items[0] : .or(items)
    }

    private mutating func parseAnd() throws -> QueryNode {
        skipSpace()
        if let keyword = keywordHere(), keyword != "NOT" {
            throw QueryParseError(column: column, "expected a term before \(keyword)")
        }
        var items = [try parseUnary()]
        while true {
            skipSpace()
            if atEnd || chars[position] == ")" { break }
            if let keyword = keywordHere() {
                if keyword == "OR" { break }
                if keyword == "AND" {
                    let keywordColumn = column
                    position += 3
                    try expectOperand(after: "AND", at: keywordColumn)
                }
            }
            items.append(try parseUnary())
        }
        return items.count == 1 ? items[0] : .and(items)
    }

    private mutating func parseUnary() throws -> QueryNode {
        skipSpace()
        if keywordHere() == "NOT" {
            let keywordColumn = column
            position += 3
            try expectOperand(after: "NOT", at: keywordColumn)
            return .not(try nested { try $0.parseUnary() })
        }
        if position < chars.count, chars[position] == "-" || chars[position] == "+" {
            let sign = chars[position]
            let next = position + 1 < chars.count ? chars[position + 1] : " "
            if next.isWhitespace || next == ")" {
                throw QueryParseError(column: column, "expected a term right after '\(sign)' (no space between)")
            }
            // `--x` is a word, not a double negation.
            if next != "-" && next != "+" {
                position += 1
                let operand = try parsePrimary()
                return sign == "-" ? .not(operand) : operand
            }
        }
        return try parsePrimary()
    }

    /// After an operator: there must be a term, not the end, a ')' or another binary operator.
    private mutating func expectOperand(after keyword: String, at keywordColumn: Int) throws {
        skipSpace()
        if atEnd {
            throw QueryParseError(column: column, "expected a term after \(keyword) (at column \(keywordColumn))")
        }
        if chars[position] == ")" {
            throw QueryParseError(column: column, "expected a term after \(keyword) (at column \(keywordColumn)), found ')'")
        }
        if let next = keywordHere(), next != "NOT" {
            throw QueryParseError(column: column, "expected a term after \(keyword) (at column \(keywordColumn)), found \(next)")
        }
    }

    private mutating func nested(_ body: (inout QueryParser) throws -> QueryNode) throws -> QueryNode {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth {
            throw QueryParseError(column: column, "the query nests deeper than \(Self.maxDepth) levels")
        }
        return try body(&self)
    }

    private mutating func parsePrimary() throws -> QueryNode {
        skipSpace()
        guard !atEnd else { throw QueryParseError(column: column, "expected a term") }
        let start = column
        switch chars[position] {
        case "(":
            position += 1
            skipSpace()
            if atEnd || chars[position] == ")" {
                throw QueryParseError(column: column, "expected a term inside '(' opened at column \(start)")
            }
            let inner = try nested { try $0.parseOr() }
            skipSpace()
            guard !atEnd, chars[position] == ")" else {
                throw QueryParseError(column: column, "expected ')' to close '(' opened at column \(start)")
            }
            position += 1
            return inner
        case ")":
            throw QueryParseError(column: start, "unexpected ')' without a matching '('")
        case "\"":
            let text = try readPhrase()
            return .predicate(try Self.bodyPhrase(text, column: start))
        case "/":
            if let pattern = try readRegex() {
                return .predicate(.bodyRegex(try Self.checkedRegex(pattern, column: start)))
            }
            return try parseWordOrField()
        default:
            return try parseWordOrField()
        }
    }

    // MARK: Terms and fields

    private mutating func parseWordOrField() throws -> QueryNode {
        let start = column
        let nameEnd = fieldNameEnd()
        if let nameEnd {
            let name = String(chars[position..<nameEnd])
            position = nameEnd + 1  // past ':'
            return try parseFieldValue(name: name, nameColumn: start)
        }
        let word = try readWord()
        return try Self.bodyWord(word, column: start)
    }

    /// When a field name followed by ':' starts here, the index of that ':'.
    private func fieldNameEnd() -> Int? {
        var i = position
        guard i < chars.count, chars[i].isASCII, chars[i].isLetter || chars[i] == "_" else { return nil }
        while i < chars.count, chars[i].isASCII,
            chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." || chars[i] == "-" || chars[i] == "@"
        {
            i += 1
        }
        guard i < chars.count, chars[i] == ":" else { return nil }
        // scheme://host is a URL, not a field.
        if i + 2 < chars.count, chars[i + 1] == "/", chars[i + 2] == "/" { return nil }
        return i
    }

    private mutating func parseFieldValue(name: String, nameColumn: Int) throws -> QueryNode {
        let valueColumn = column
        if atEnd || chars[position].isWhitespace || chars[position] == ")" {
            throw QueryParseError(column: valueColumn, "expected a value after '\(name):'")
        }
        if chars[position] == "(" {
            throw QueryParseError(
                column: valueColumn, "expected a value after '\(name):'; to match several values write (\(name):a OR \(name):b)")
        }
        if name == "_exists_" {
            let word = try readWord()
            let fieldName = String(word.map(\.character))
            guard !fieldName.isEmpty, !word.contains(where: { $0.character == "*" && !$0.escaped }) else {
                throw QueryParseError(column: valueColumn, "expected a field name after '_exists_:'")
            }
            if fieldName == "body" {
                throw QueryParseError(column: valueColumn, "every record has a body; _exists_ takes an attribute or level, stream, trace_id, span_id, flag, template")
            }
            return .predicate(.field(Field(name: fieldName), .exists))
        }
        let isBody = name == "body"
        let field = Field(name: name)
        switch chars[position] {
        case "\"":
            let text = try readPhrase()
            if isBody { return .predicate(try Self.bodyPhrase(text, column: valueColumn)) }
            return .predicate(.field(field, try Self.equals(field, text, column: valueColumn)))
        case "/":
            if let pattern = try readRegex() {
                let checked = try Self.checkedRegex(pattern, column: valueColumn)
                return .predicate(isBody ? .bodyRegex(checked) : .field(field, .regex(checked)))
            }
        case ">", "<":
            guard !isBody else {
                throw QueryParseError(column: valueColumn, "the body is text; comparisons need a numeric field such as status:>=500")
            }
            var op = String(chars[position])
            position += 1
            if position < chars.count, chars[position] == "=" {
                op += "="
                position += 1
            }
            let comparison = Comparison(rawValue: op)!
            let operandColumn = column
            let word = String(try readWord().map(\.character))
            guard !word.isEmpty else {
                throw QueryParseError(column: operandColumn, "expected a number after '\(name):\(op)'")
            }
            return .predicate(.field(field, .compare(comparison, try Self.operand(field, word, op: op, column: operandColumn))))
        default:
            break
        }
        let word = try readWord()
        if isBody { return try Self.bodyWord(word, column: valueColumn) }
        let (text, isPrefix) = try Self.splitPrefix(word, column: valueColumn)
        if isPrefix {
            if text.isEmpty { return .predicate(.field(field, .exists)) }
            switch field {
            case .traceID, .spanID, .severity, .stream, .flag: return .predicate(.field(field, .prefix(text.lowercased())))
            default: return .predicate(.field(field, .prefix(text)))
            }
        }
        return .predicate(.field(field, try Self.equals(field, text, column: valueColumn)))
    }

    // MARK: Semantics of literals

    /// A bare word on the body: a whole token when it is one (`timeout`, `10.1.2.3:8080`,
    /// `/api/v1/orders`), otherwise the phrase of its words (`user=bob` → "user bob").
    static func bodyWord(_ word: [EscapedCharacter], column: Int) throws -> QueryNode {
        let (text, isPrefix) = try splitPrefix(word, column: column)
        if isPrefix {
            if text.isEmpty { return .all }
            let lower = Tokenizer.lowercased(text)
            guard !Tokenizer.words(of: text).isEmpty else {
                throw QueryParseError(column: column, "'\(text)*' has no letters or digits to search for; use a /regex/ for punctuation")
            }
            return .predicate(.tokenPrefix(lower))
        }
        let lower = Tokenizer.lowercased(text)
        if Tokenizer.tokens(of: text).contains(lower) { return extractedToo(lower) }
        let words = Tokenizer.words(of: text)
        switch words.count {
        case 0:
            throw QueryParseError(column: column, "'\(text)' has no letters or digits to search for; use a /regex/ for punctuation")
        case 1: return .predicate(.token(words[0]))
        default: return .predicate(.phrase(words))
        }
    }

    /// The collector moves a line's level and trace context out of the body into fields, so a
    /// bare `ERROR` or trace id also matches those fields: the user searches the line as it was
    /// written. Severity words only when they are exactly a level name, ids only by length.
    static func extractedToo(_ token: String) -> QueryNode {
        var alternatives: [QueryNode] = [.predicate(.token(token))]
        if token != "trace", let severity = Severity(text: token), severity.name == token || token == "warning" {
            alternatives.append(.predicate(.field(.severity, .equals(severity.name))))
        }
        if token.utf8.allSatisfy({ isHexDigit($0) }) {
            switch token.utf8.count {
            case 32: alternatives.append(.predicate(.field(.traceID, .equals(token))))
            case 16: alternatives.append(.predicate(.field(.spanID, .equals(token))))
            default: break
            }
        }
        return alternatives.count == 1 ? alternatives[0] : .or(alternatives)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }

    static func bodyPhrase(_ text: String, column: Int) throws -> QueryPredicate {
        let words = Tokenizer.words(of: text)
        switch words.count {
        case 0: throw QueryParseError(column: column, "the phrase \"\(text)\" has no letters or digits to search for")
        case 1: return .token(words[0])
        default: return .phrase(words)
        }
    }

    static func splitPrefix(_ word: [EscapedCharacter], column: Int) throws -> (String, Bool) {
        var text = ""
        var isPrefix = false
        for (index, item) in word.enumerated() {
            if item.character == "*" && !item.escaped {
                guard index == word.count - 1 else {
                    throw QueryParseError(column: column + index, "'*' is only supported at the end of a term (prefix search); write \\* for a literal star")
                }
                isPrefix = true
            } else {
                text.append(item.character)
            }
        }
        return (text, isPrefix)
    }

    static func equals(_ field: Field, _ value: String, column: Int) throws -> FieldMatch {
        switch field {
        case .severity:
            guard let severity = Severity(text: value) else {
                throw QueryParseError(column: column, "unknown level '\(value)': expected trace, debug, info, warn, error or fatal")
            }
            return .equals(severity.name)
        case .stream:
            guard let stream = LogStream(name: value.lowercased()) else {
                throw QueryParseError(column: column, "unknown stream '\(value)': expected stdout, stderr or unknown")
            }
            return .equals(stream.name)
        case .flag:
            let lower = value.lowercased()
            guard RecordFlags.all.contains(where: { $0.1 == lower }) || (lower.hasPrefix("bit") && UInt8(lower.dropFirst(3)).map { $0 < 32 } == true) else {
                throw QueryParseError(
                    column: column, "unknown flag '\(value)': expected one of \(RecordFlags.all.map(\.1).joined(separator: ", "))")
            }
            return .equals(lower)
        case .traceID, .spanID: return .equals(value.lowercased())
        case .template:
            guard let id = UInt32(value), id > 0 else {
                throw QueryParseError(column: column, "expected a template id (a positive whole number), found '\(value)'")
            }
            return .equals(String(id))
        case .attribute: return .equals(value)
        }
    }

    static func operand(_ field: Field, _ text: String, op: String, column: Int) throws -> Double {
        if field == .severity, let severity = Severity(text: text) { return Double(severity.rawValue) }
        guard let number = NumericValue.parse(text) else {
            let hint = field == .severity ? " or a level name" : ""
            throw QueryParseError(column: column, "expected a number\(hint) after '\(field.displayName):\(op)', found '\(text)'")
        }
        return number
    }

    static func checkedRegex(_ pattern: String, column: Int) throws -> String {
        guard !pattern.isEmpty else { throw QueryParseError(column: column, "empty regular expression '//'") }
        do {
            _ = try RE2Regex(pattern)
        } catch let error as RegexError {
            throw QueryParseError(column: column, "invalid regular expression /\(pattern)/: \(error.message)")
        }
        return pattern
    }

    // MARK: Lexing

    struct EscapedCharacter {
        var character: Character
        var escaped: Bool
    }

    private var atEnd: Bool { position >= chars.count }
    private var column: Int { position + 1 }

    private mutating func skipSpace() {
        while position < chars.count, chars[position].isWhitespace { position += 1 }
    }

    /// `AND`, `OR` or `NOT` as a whole word at the current position.
    private func keywordHere() -> String? {
        for keyword in ["AND", "OR", "NOT"] {
            let end = position + keyword.count
            guard end <= chars.count, String(chars[position..<end]) == keyword else { continue }
            if end == chars.count || chars[end].isWhitespace || chars[end] == "(" || chars[end] == ")" || chars[end] == "\"" {
                return keyword
            }
        }
        return nil
    }

    /// A word: up to whitespace or a parenthesis; `\` escapes the next character.
    private mutating func readWord() throws -> [EscapedCharacter] {
        var result: [EscapedCharacter] = []
        while position < chars.count {
            let c = chars[position]
            if c.isWhitespace || c == "(" || c == ")" { break }
            if c == "\\" {
                guard position + 1 < chars.count else {
                    throw QueryParseError(column: column, "expected a character after '\\'")
                }
                result.append(EscapedCharacter(character: chars[position + 1], escaped: true))
                position += 2
                continue
            }
            result.append(EscapedCharacter(character: c, escaped: false))
            position += 1
        }
        return result
    }

    /// A quoted string starting at `"`; `\"` and `\\` are escapes.
    private mutating func readPhrase() throws -> String {
        let open = column
        position += 1
        var text = ""
        while position < chars.count {
            let c = chars[position]
            if c == "\\", position + 1 < chars.count {
                text.append(chars[position + 1])
                position += 2
                continue
            }
            if c == "\"" {
                position += 1
                return text
            }
            text.append(c)
            position += 1
        }
        throw QueryParseError(column: chars.count + 1, "expected '\"' to close the phrase opened at column \(open)")
    }

    /// A regular expression `/…/` starting here, or nil when the slash starts a word instead
    /// (a path such as `/api/v1/orders`): a regex is closed by the first unescaped `/`, which must
    /// be followed by a space, a parenthesis or the end. `\/` is a literal slash.
    private mutating func readRegex() throws -> String? {
        let open = column
        var i = position + 1
        var pattern = ""
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count {
                if chars[i + 1] == "/" {
                    pattern.append("/")
                } else {
                    pattern.append(c)
                    pattern.append(chars[i + 1])
                }
                i += 2
                continue
            }
            if c == "/" {
                let after = i + 1 < chars.count ? chars[i + 1] : " "
                if after.isWhitespace || after == ")" {
                    position = i + 1
                    return pattern
                }
                return nil
            }
            pattern.append(c)
            i += 1
        }
        // Unclosed: a path-like word unless it is evidently a pattern.
        let word = chars[position..<(chars[position...].firstIndex(where: { $0.isWhitespace }) ?? chars.count)]
        if word.contains(where: { "|()[]{}^$+?\\".contains($0) }) {
            throw QueryParseError(column: chars.count + 1, "expected '/' to close the regular expression opened at column \(open) (write \\/ for a literal slash)")
        }
        return nil
    }
}

/// Numbers as comparisons read them: optional sign, digits, optional fraction and exponent
/// (`500`, `-1.5`, `2e3`); at most 64 characters. Anything else (`12ms`, `0x1f`, `nan`) is not
/// a number, so a record holding it does not satisfy a comparison.
public enum NumericValue {
    public static func parse(_ text: some StringProtocol) -> Double? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 64 else { return nil }
        var i = utf8.startIndex
        func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
        if utf8[i] == UInt8(ascii: "-") || utf8[i] == UInt8(ascii: "+") { i = utf8.index(after: i) }
        var digits = 0
        while i < utf8.endIndex, isDigit(utf8[i]) {
            digits += 1
            i = utf8.index(after: i)
        }
        if i < utf8.endIndex, utf8[i] == UInt8(ascii: ".") {
            i = utf8.index(after: i)
            while i < utf8.endIndex, isDigit(utf8[i]) {
                digits += 1
                i = utf8.index(after: i)
            }
        }
        guard digits > 0 else { return nil }
        if i < utf8.endIndex, utf8[i] == UInt8(ascii: "e") || utf8[i] == UInt8(ascii: "E") {
            i = utf8.index(after: i)
            if i < utf8.endIndex, utf8[i] == UInt8(ascii: "-") || utf8[i] == UInt8(ascii: "+") { i = utf8.index(after: i) }
            var exponentDigits = 0
            while i < utf8.endIndex, isDigit(utf8[i]) {
                exponentDigits += 1
                i = utf8.index(after: i)
            }
            guard exponentDigits > 0 else { return nil }
        }
        guard i == utf8.endIndex, let value = Double(String(text)), value.isFinite else { return nil }
        return value
    }
}
