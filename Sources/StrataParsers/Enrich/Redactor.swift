import StrataCore

/// A user-defined redaction pattern (RE2). When the pattern has a group named `secret`, only
/// that group is replaced; otherwise the whole match. The literals any match requires are
/// computed once and checked (case-insensitively) before RE2 runs.
public struct RedactionPattern: Sendable {
    public let name: String
    public let regex: RE2Regex
    let secretGroup: Int?
    let atomClauses: [[[UInt8]]]?  // nil: no prefilter; else any clause whose atoms all occur

    public init(name: String, pattern: String) throws(RegexError) {
        self.name = name
        do {
            regex = try RE2Regex(pattern)
        } catch let error as RegexError {
            throw error
        } catch {
            throw RegexError(pattern: pattern, message: "\(error)")
        }
        secretGroup = regex.groupIndex(named: "secret")
        switch regex.requiredLiterals {
        case .all: atomClauses = nil
        case .atoms(let atoms): atomClauses = [atoms.map { Array($0.utf8) }]
        case .anyOf(let clauses): atomClauses = clauses.map { $0.map { Array($0.utf8) } }
        }
    }

    func mightMatch(_ b: Bytes) -> Bool {
        guard let atomClauses else { return true }
        return atomClauses.contains { clause in clause.allSatisfy { Redactor.contains(b, lowercased: $0) } }
    }

    func ranges(_ b: Bytes, into ranges: inout [Range<Int>]) {
        guard mightMatch(b) else { return }
        let raw = UnsafeRawBufferPointer(b)
        var start = 0
        while start <= b.count, let groups = regex.captureRanges(in: raw, from: start), let whole = groups[0] {
            if let secretGroup, secretGroup < groups.count {
                if let secret = groups[secretGroup], !secret.isEmpty { ranges.append(secret) }
            } else if !whole.isEmpty {
                ranges.append(whole)
            }
            start = whole.isEmpty ? whole.upperBound + 1 : whole.upperBound
        }
    }
}

/// Replaces secrets with `[REDACTED]` in the body and in attribute values, before anything is
/// stored. The built-in detectors are hand-written scanners run in one pass that only stops
/// at a few trigger bytes; user patterns run only when their required literals occur.
///
/// Built-ins (docs/PARSERS.md, "Redaction"):
/// - `bearer`: `Bearer <token>` (any case; tokens of 8+ characters) → `Bearer [REDACTED]`;
/// - `key_value`: the value of a sensitive key written `key=value`, `key="value"`,
///   `"key":"value"`, `\"key\":\"value\"` (JSON inside a JSON string), `'key': 'value'` or
///   `key: value` (headers, YAML) — keys `password`, `passwd`, `pwd`, `pass`, `passphrase`,
///   `secret`, `token`, `api_key`, `apikey`, `access_key`, `secret_key`, `private_key`,
///   `authorization`, also as the last part of a longer key (`db_password`, `client-secret`,
///   `X-Api-Key`, `accessToken`). An authorization value keeps its scheme and loses its
///   credentials, whatever the scheme (`Authorization: Basic [REDACTED]`). Attributes whose key
///   is sensitive are redacted whole. Words in running text (`tokenizer`, `passwords must be 8
///   chars`, `reset your password: use the link`) are not keys and stay;
/// - `url_credentials`: the password of a URL's user info (`https://user:[REDACTED]@host`), or
///   a user part that has the look of a token (`https://[REDACTED]@host`);
/// - `aws_access_key`: `AKIA…`/`ASIA…` access key ids (20 characters);
/// - `private_key`: `-----BEGIN … PRIVATE KEY-----` blocks through their `-----END …-----` line
///   (to the end of the text when the end is missing);
/// - `jwt`: `eyJ….eyJ….…` JSON web tokens.
public struct Redactor: Sendable {
    public struct Builtins: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let bearer = Builtins(rawValue: 1 << 0)
        public static let keyValue = Builtins(rawValue: 1 << 1)
        public static let awsAccessKey = Builtins(rawValue: 1 << 2)
        public static let privateKey = Builtins(rawValue: 1 << 3)
        public static let jwt = Builtins(rawValue: 1 << 4)
        public static let urlCredentials = Builtins(rawValue: 1 << 5)
        public static let all: Builtins = [.bearer, .keyValue, .awsAccessKey, .privateKey, .jwt, .urlCredentials]

        public static let names: [(String, Builtins)] = [
            ("bearer", .bearer), ("key_value", .keyValue), ("aws_access_key", .awsAccessKey),
            ("private_key", .privateKey), ("jwt", .jwt), ("url_credentials", .urlCredentials),
        ]
    }

    public static let replacement = "[REDACTED]"
    /// The words programs name their secrets with, whatever the program: the spellings of
    /// "password" (`pass` as in `db_pass`, `user:pass`), of keys and tokens, and the HTTP header
    /// that carries credentials. Generic by construction: none belongs to one product or data set.
    public static let defaultSensitiveKeys = [
        "password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "api_key", "apikey", "access_key",
        "secret_key", "private_key", "authorization",
    ]
    static let authorizationKey = Array("authorization".utf8)

    public let builtins: Builtins
    public let patterns: [RedactionPattern]
    /// The sensitive key names, lowercased with `-` as `_`, one after another and grouped by
    /// their last byte: name `k` is `keyBytes[keyStarts[k]..<keyStarts[k + 1]]`, and the names
    /// ending in byte `c` are `keyGroups[c]..<keyGroups[c + 1]`. A key in the text is compared
    /// only with the names it could end with, and through flat arrays of plain values, which
    /// cost no reference counting: this runs for many `=` and `:` of every record.
    let keyBytes: [UInt8]
    let keyStarts: [Int]
    let keyGroups: [Int]
    /// Per name: made of letters only (`password`, not `api_key`), and whether it is `authorization`.
    let keyIsWord: [Bool]
    let keyIsAuthorization: [Bool]
    /// Last bytes of the sensitive keys, for a quick rejection.
    let lastBytes: [Bool]
    let triggers: [Bool]

    public init(builtins: Builtins = .all, extraKeys: [String] = [], patterns: [RedactionPattern] = []) {
        self.builtins = builtins
        self.patterns = patterns
        let all = Self.defaultSensitiveKeys + extraKeys
        let names = all.map { Array($0.lowercased().replacingOccurrences(of: "-", with: "_").utf8) }.filter { !$0.isEmpty }
            .sorted { $0[$0.count - 1] < $1[$1.count - 1] }
        var last = [Bool](repeating: false, count: 256)
        var groups = [Int](repeating: 0, count: 257)
        var starts = [0]
        for name in names {
            last[Int(name[name.count - 1])] = true
            starts.append(starts[starts.count - 1] + name.count)
        }
        for byte in 0..<256 { groups[byte + 1] = groups[byte] + names.count { Int($0[$0.count - 1]) == byte } }
        keyBytes = names.flatMap { $0 }
        keyStarts = starts
        keyGroups = groups
        keyIsWord = names.map { $0.allSatisfy(isLetter) }
        keyIsAuthorization = names.map { $0 == Self.authorizationKey }
        lastBytes = last
        var triggers = [Bool](repeating: false, count: 256)
        if builtins.contains(.keyValue) {
            triggers[Int(ASCII.equals)] = true
            triggers[Int(ASCII.colon)] = true
        }
        if builtins.contains(.urlCredentials) { triggers[Int(ASCII.colon)] = true }
        if builtins.contains(.bearer) {
            triggers[Int(UInt8(ascii: "B"))] = true
            triggers[Int(UInt8(ascii: "b"))] = true
        }
        if builtins.contains(.awsAccessKey) { triggers[Int(UInt8(ascii: "A"))] = true }
        if builtins.contains(.privateKey) { triggers[Int(ASCII.minus)] = true }
        if builtins.contains(.jwt) { triggers[Int(UInt8(ascii: "J"))] = true }
        self.triggers = triggers
    }

    public static let disabled = Redactor(builtins: [], patterns: [])

    public var isEnabled: Bool { !builtins.isEmpty || !patterns.isEmpty }

    /// Redacts the body and attribute values; returns the number of replacements.
    @discardableResult
    public func redact(_ record: inout LogRecord, extraPatterns: [RedactionPattern] = []) -> Int {
        guard isEnabled || !extraPatterns.isEmpty else { return 0 }
        var count = 0
        if let redacted = redact(record.body, extraPatterns: extraPatterns, count: &count) { record.body = redacted }
        let keyValue = builtins.contains(.keyValue)
        for index in record.attributes.indices {
            if keyValue, isSensitiveKey(record.attributes[index].key), !record.attributes[index].value.isEmpty,
                record.attributes[index].value != Self.replacement, record.attributes[index].value != "null"
            {
                record.attributes[index].value = Self.replacement
                count += 1
                continue
            }
            if let redacted = redact(record.attributes[index].value, extraPatterns: extraPatterns, count: &count) {
                record.attributes[index].value = redacted
            }
        }
        return count
    }

    /// The text with secrets replaced, or nil when there was nothing to replace.
    public func redact(_ text: String, extraPatterns: [RedactionPattern] = []) -> String? {
        var count = 0
        return redact(text, extraPatterns: extraPatterns, count: &count)
    }

    func redact(_ text: String, extraPatterns: [RedactionPattern], count: inout Int) -> String? {
        // Nothing shorter than `pwd=x` can hold a built-in secret.
        if patterns.isEmpty, extraPatterns.isEmpty, text.utf8.count < 5 { return nil }
        return text.withBytes { b -> String? in
            guard b.count > 0 else { return nil }
            var ranges: [Range<Int>] = []
            if !builtins.isEmpty { scan(b, into: &ranges) }
            for pattern in patterns { pattern.ranges(b, into: &ranges) }
            for pattern in extraPatterns { pattern.ranges(b, into: &ranges) }
            guard !ranges.isEmpty else { return nil }
            return Self.replace(b, ranges, count: &count)
        }
    }

    static func replace(_ b: Bytes, _ unsorted: [Range<Int>], count: inout Int) -> String? {
        let ranges = unsorted.count > 1 ? unsorted.sorted { $0.lowerBound < $1.lowerBound } : unsorted
        var out: [UInt8] = []
        out.reserveCapacity(b.count + 16)
        var position = 0
        var changed = false
        for range in ranges {
            guard range.upperBound > position else { continue }  // inside an earlier one
            let start = max(range.lowerBound, position)
            // Already redacted: leave as is.
            if b.hasLiteral("[REDACTED]", at: start), range.count <= replacement.utf8.count { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[position..<start]))
            out.append(contentsOf: replacement.utf8)
            position = range.upperBound
            count += 1
            changed = true
        }
        guard changed else { return nil }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[position..<b.count]))
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Built-in detectors

    func scan(_ b: Bytes, into ranges: inout [Range<Int>]) {
        let n = b.count
        var i = 0
        triggers.withUnsafeBufferPointer { triggers in
            while i < n {
                let c = b[i]
                guard triggers[Int(c)] else {
                    i += 1
                    continue
                }
                switch c {
                case ASCII.equals:
                    if let r = keyValue(b, equalsAt: i) {
                        ranges.append(r)
                        i = r.upperBound
                        continue
                    }
                case ASCII.colon:
                    if let r = colonValue(b, colonAt: i) {
                        ranges.append(r)
                        i = r.upperBound
                        continue
                    }
                case UInt8(ascii: "B"), UInt8(ascii: "b"):
                    if let r = bearer(b, i) {
                        ranges.append(r)
                        i = r.upperBound
                        continue
                    }
                case UInt8(ascii: "A"):
                    if let r = awsKey(b, i) {
                        ranges.append(r)
                        i = r.upperBound
                        continue
                    }
                case ASCII.minus:
                    if let r = privateKey(b, i) {
                        ranges.append(r)
                        i = r.upperBound
                        continue
                    }
                case UInt8(ascii: "J"):
                    if i >= 2, let r = jwt(b, i - 2) {
                        ranges.append(r)
                        i = r.upperBound
                        continue
                    }
                default:
                    break
                }
                i += 1
            }
        }
    }

    @inline(__always)
    static func isKeyByte(_ c: UInt8) -> Bool {
        isAlnum(c) || c == ASCII.underscore || c == ASCII.minus || c == ASCII.dot
    }

    /// Which listed name a key ends with, and whether it is that name alone.
    struct KeyMatch {
        /// The key is one of the listed names and nothing else (`password`, not `db_password`).
        var isWholeKey: Bool
        var nameIsWord: Bool
        var isAuthorization: Bool

        /// A single word such as `password` or `token` is also how running text introduces
        /// something (`reset your password: use the link`); a compound (`api_key`, `X-Api-Key`,
        /// `db_password`) is not.
        var isPlainWord: Bool { isWholeKey && nameIsWord }
    }

    /// Whether the key in `range` is sensitive: a listed name, or ends with one after a
    /// separator (`_ . -`) or a camel-case boundary.
    func isSensitiveKey(_ b: Bytes, _ range: Range<Int>) -> Bool {
        sensitiveKey(b, range) != nil
    }

    func sensitiveKey(_ b: Bytes, _ range: Range<Int>) -> KeyMatch? {
        guard !range.isEmpty, range.count <= 128 else { return nil }
        let lastByte = Int(lower(b[range.upperBound - 1]))
        guard lastBytes[lastByte] else { return nil }
        for index in keyGroups[lastByte]..<keyGroups[lastByte + 1] {
            let nameStart = keyStarts[index]
            let length = keyStarts[index + 1] - nameStart
            guard length <= range.count else { continue }
            let start = range.upperBound - length
            var equal = true
            for k in 0..<length {
                var c = lower(b[start + k])
                if c == ASCII.minus { c = ASCII.underscore }
                if c != keyBytes[nameStart + k] {
                    equal = false
                    break
                }
            }
            guard equal else { continue }
            let match = { (whole: Bool) in KeyMatch(isWholeKey: whole, nameIsWord: keyIsWord[index], isAuthorization: keyIsAuthorization[index]) }
            if start == range.lowerBound { return match(true) }
            let before = b[start - 1]
            if before == ASCII.underscore || before == ASCII.minus || before == ASCII.dot { return match(false) }
            if isUpper(b[start]), isLower(before) || isDigit(before) { return match(false) }
        }
        return nil
    }

    func isSensitiveKey(_ key: String) -> Bool {
        key.withBytes { isSensitiveKey($0, 0..<$0.count) }
    }

    /// `key=value` / `key="value"`: the value's range.
    @inline(__always)
    func keyValue(_ b: Bytes, equalsAt i: Int) -> Range<Int>? {
        let n = b.count
        // The byte before `=` ends the key: most keys end in a byte no sensitive name ends in.
        guard i > 0, i + 1 < n, b[i + 1] != ASCII.equals, lastBytes[Int(lower(b[i - 1]))] else { return nil }
        var keyStart = i
        while keyStart > 0, i - keyStart < 128, Self.isKeyByte(b[keyStart - 1]) { keyStart -= 1 }
        guard keyStart < i, let key = sensitiveKey(b, keyStart..<i) else { return nil }
        if key.isAuthorization, let credentials = authorizationCredentials(b, from: i + 1, keyStart: keyStart) {
            return credentials.isEmpty ? nil : credentials
        }
        return value(b, from: i + 1)
    }

    /// What follows a `:`: a URL's user info (`scheme://user:password@`), a quoted key's value,
    /// or a bare key's value.
    @inline(__always)
    func colonValue(_ b: Bytes, colonAt i: Int) -> Range<Int>? {
        if i + 2 < b.count, b[i + 1] == ASCII.slash, b[i + 2] == ASCII.slash {
            return builtins.contains(.urlCredentials) ? urlCredentials(b, schemeColonAt: i) : nil
        }
        guard builtins.contains(.keyValue), i > 0 else { return nil }
        let before = b[i - 1]
        if before == ASCII.quote || before == ASCII.apostrophe || before == ASCII.space { return jsonValue(b, colonAt: i) }
        // Most colons follow a digit (times, ports): one table look-up rules them out.
        guard Self.isKeyByte(before), lastBytes[Int(lower(before))] else { return nil }
        return bareKeyValue(b, colonAt: i)
    }

    /// `"key": "value"`, `'key': 'value'`, and JSON kept inside a JSON string, where the quotes
    /// arrive escaped (`{\"api_key\":\"value\"}`): the value's range.
    @inline(__always)
    func jsonValue(_ b: Bytes, colonAt i: Int) -> Range<Int>? {
        var k = i - 1
        while k >= 0, b[k] == ASCII.space { k -= 1 }
        guard k > 0, b[k] == ASCII.quote || b[k] == ASCII.apostrophe else { return nil }
        let quote = b[k]
        let escaped = b[k - 1] == ASCII.backslash
        let keyEnd = escaped ? k - 1 : k
        // Rule most keys out by their last byte before walking back over them.
        guard keyEnd > 0, lastBytes[Int(lower(b[keyEnd - 1]))] else { return nil }
        var keyStart = keyEnd
        while keyStart > 0, keyEnd - keyStart < 128, Self.isKeyByte(b[keyStart - 1]) { keyStart -= 1 }
        guard keyStart > 0, keyStart < keyEnd, b[keyStart - 1] == quote else { return nil }
        if escaped, keyStart < 2 || b[keyStart - 2] != ASCII.backslash { return nil }
        guard isSensitiveKey(b, keyStart..<keyEnd) else { return nil }
        var j = i + 1
        while j < b.count, b[j] == ASCII.space { j += 1 }
        guard j < b.count else { return nil }
        // Objects and arrays are not secrets themselves; their members are checked on their own.
        if b[j] == ASCII.openBrace || b[j] == ASCII.openBracket { return nil }
        if b.hasLiteral("null", at: j) { return nil }
        return value(b, from: j)
    }

    /// A value starting at `j`: quoted (to the closing quote, escapes skipped) or bare (to a
    /// blank or delimiter).
    @inline(__always)
    func value(_ b: Bytes, from j: Int) -> Range<Int>? {
        let n = b.count
        guard j < n, !b.hasLiteral("[REDACTED]", at: j) else { return nil }
        let first = b[j]
        if first == ASCII.quote || first == ASCII.apostrophe {
            var k = j + 1
            while k < n, b[k] != first {
                if b[k] == ASCII.backslash { k += 1 }
                k += 1
            }
            let end = min(k, n)
            return end > j + 1 ? (j + 1)..<end : nil
        }
        // JSON-escaped quotes inside a string (`\"password\":\"x\"` arrives unescaped here, but
        // `password=\"x\"` may not).
        if first == ASCII.backslash, j + 1 < n, b[j + 1] == ASCII.quote {
            var k = j + 2
            while k < n, !(b[k] == ASCII.backslash && k + 1 < n && b[k + 1] == ASCII.quote) { k += 1 }
            return k > j + 2 ? (j + 2)..<k : nil
        }
        var k = j
        while k < n {
            let c = b[k]
            if c <= ASCII.space || c == ASCII.comma || c == UInt8(ascii: ";") || c == UInt8(ascii: "&")
                || c == ASCII.closeBrace || c == ASCII.closeBracket || c == ASCII.closeParen || c == ASCII.quote
                || c == ASCII.apostrophe
            {
                break
            }
            k += 1
        }
        return k > j ? j..<k : nil
    }

    /// `key: value` with a bare key (HTTP headers, YAML, `password: x`): the value's range.
    func bareKeyValue(_ b: Bytes, colonAt i: Int) -> Range<Int>? {
        let n = b.count
        var keyStart = i
        while keyStart > 0, i - keyStart < 128, Self.isKeyByte(b[keyStart - 1]) { keyStart -= 1 }
        guard let key = sensitiveKey(b, keyStart..<i) else { return nil }
        var j = i + 1
        while j < n, isBlank(b[j]) { j += 1 }
        guard j < n, b[j] != ASCII.newline, b[j] != ASCII.carriageReturn else { return nil }
        if b[j] == ASCII.openBrace || b[j] == ASCII.openBracket || b.hasLiteral("null", at: j) { return nil }
        if key.isAuthorization, let credentials = authorizationCredentials(b, from: j, keyStart: keyStart) {
            return credentials.isEmpty ? nil : credentials
        }
        guard let value = value(b, from: j) else { return nil }
        // A quoted value is a value; a bare one after a plain word counts only where a key/value
        // field stands (at the start of a line or after a delimiter) or where the value ends the
        // field — not in the middle of a sentence.
        if !key.isPlainWord || b[j] == ASCII.quote || b[j] == ASCII.apostrophe { return value }
        return startsField(b, keyStart) || endsField(b, value.upperBound) ? value : nil
    }

    /// Whether a key starting at `start` opens a field: the start of the text or of a line, or
    /// after a tab or a delimiter (`{ [ ( , ; |`), spaces allowed in between.
    func startsField(_ b: Bytes, _ start: Int) -> Bool {
        var k = start
        while k > 0, b[k - 1] == ASCII.space { k -= 1 }
        guard k > 0 else { return true }
        switch b[k - 1] {
        case ASCII.newline, ASCII.carriageReturn, ASCII.tab, ASCII.openBrace, ASCII.openBracket, ASCII.openParen, ASCII.comma,
            UInt8(ascii: ";"), UInt8(ascii: "|"):
            return true
        default:
            return false
        }
    }

    /// Whether a value ending at `end` ends its field: the end of the text or the line, a
    /// delimiter, or another `key=`/`key:` pair after blanks.
    func endsField(_ b: Bytes, _ end: Int) -> Bool {
        let n = b.count
        var k = end
        while k < n, isBlank(b[k]) { k += 1 }
        guard k < n else { return true }
        switch b[k] {
        case ASCII.newline, ASCII.carriageReturn, ASCII.comma, UInt8(ascii: ";"), UInt8(ascii: "|"), ASCII.closeBrace, ASCII.closeBracket,
            ASCII.closeParen:
            return true
        default:
            guard k > end else { return false }
            var word = k
            while word < n, Self.isKeyByte(b[word]) { word += 1 }
            return word > k && word < n && (b[word] == ASCII.equals || b[word] == ASCII.colon)
        }
    }

    /// `<scheme> <credentials>` after an authorization key, for any scheme (`Basic`, `Digest`,
    /// `Negotiate`, `AWS4-HMAC-SHA256`, …): the credentials' range, the scheme kept. A token
    /// (base64 and the like) ends at a blank; parameters (`username="x", response="y"`) run to
    /// the end of the line. Empty when the credentials are redacted already (the scheme must not
    /// be taken for a value then); nil when the value does not have that shape.
    func authorizationCredentials(_ b: Bytes, from j: Int, keyStart: Int) -> Range<Int>? {
        let n = b.count
        var k = j
        while k < n, isAlnum(b[k]) || b[k] == ASCII.minus { k += 1 }
        guard k > j, k - j <= 32, k < n, b[k] == ASCII.space else { return nil }
        var start = k
        while start < n, b[start] == ASCII.space { start += 1 }
        guard start < n else { return nil }
        if b.hasLiteral("[REDACTED]", at: start) { return start..<start }
        var end = start
        var parameters = false
        while end < n, Self.isTokenByte(b[end]) {
            // `name=value` or `name="value"`, not base64 padding at the token's end.
            if b[end] == ASCII.equals, end + 1 < n, b[end + 1] != ASCII.equals, !isSpaceOrControl(b[end + 1]) {
                parameters = true
            }
            end += 1
        }
        if parameters {
            while end < n, b[end] != ASCII.newline, b[end] != ASCII.carriageReturn { end += 1 }
        }
        guard end > start else { return nil }
        // Credentials are random-looking (digits, symbols, mixed case); a plain word after
        // `authorization: failed` is prose, taken only where a header field stands.
        if parameters || Self.looksRandom(b, start..<end) || startsField(b, keyStart) || endsField(b, end) { return start..<end }
        return nil
    }

    /// Holds a digit, a symbol or an upper-case letter after the first: not a word of prose.
    static func looksRandom(_ b: Bytes, _ range: Range<Int>) -> Bool {
        for k in range where !isLetter(b[k]) || (k > range.lowerBound && isUpper(b[k])) { return true }
        return false
    }

    /// `scheme://user:password@host`: the password's range. A user part alone stays (`git@`,
    /// `postgres@`) unless it has the look of a token: 20 or more characters mixing letters and
    /// digits (`https://<token>@host`).
    func urlCredentials(_ b: Bytes, schemeColonAt i: Int) -> Range<Int>? {
        let n = b.count
        var schemeStart = i
        while schemeStart > 0, isAlnum(b[schemeStart - 1]) || b[schemeStart - 1] == ASCII.plus || b[schemeStart - 1] == ASCII.minus
            || b[schemeStart - 1] == ASCII.dot
        {
            schemeStart -= 1
        }
        guard schemeStart < i, isLetter(b[schemeStart]) else { return nil }
        let start = i + 3
        var at: Int?
        var end = start
        // The authority ends at the path, query or fragment, or where the URL does.
        while end < n {
            let c = b[end]
            if c <= ASCII.space || c == ASCII.slash || c == UInt8(ascii: "?") || c == ASCII.hash || c == ASCII.quote
                || c == ASCII.apostrophe || c == ASCII.lessThan || c == ASCII.greaterThan || c == ASCII.backslash
            {
                break
            }
            if c == ASCII.at { at = end }
            end += 1
        }
        guard let at, at > start else { return nil }
        var colon = start
        while colon < at, b[colon] != ASCII.colon { colon += 1 }
        if colon < at {
            guard colon + 1 < at, !b.hasLiteral("[REDACTED]", at: colon + 1) else { return nil }
            return (colon + 1)..<at
        }
        var letters = false
        var digits = false
        for k in start..<at {
            if isLetter(b[k]) { letters = true } else if isDigit(b[k]) { digits = true }
        }
        return at - start >= 20 && letters && digits && !b.hasLiteral("[REDACTED]", at: start) ? start..<at : nil
    }

    @inline(__always)
    static func isTokenByte(_ c: UInt8) -> Bool {
        isAlnum(c) || c == ASCII.minus || c == ASCII.dot || c == ASCII.underscore || c == UInt8(ascii: "~")
            || c == ASCII.plus || c == ASCII.slash || c == ASCII.equals
    }

    /// `Bearer <token>`: the token's range.
    @inline(__always)
    func bearer(_ b: Bytes, _ i: Int) -> Range<Int>? {
        guard b.hasLiteralIgnoringCase("bearer", at: i), i == 0 || !isAlnum(b[i - 1]) else { return nil }
        var j = i + 6
        guard j < b.count, b[j] == ASCII.space else { return nil }
        while j < b.count, b[j] == ASCII.space { j += 1 }
        var k = j
        while k < b.count, Self.isTokenByte(b[k]) { k += 1 }
        return k - j >= 8 ? j..<k : nil
    }

    /// `AKIA` / `ASIA` + 16 upper-case letters or digits.
    @inline(__always)
    func awsKey(_ b: Bytes, _ i: Int) -> Range<Int>? {
        guard i + 20 <= b.count, b.hasLiteral("AKIA", at: i) || b.hasLiteral("ASIA", at: i),
            i == 0 || !isAlnum(b[i - 1])
        else { return nil }
        for k in (i + 4)..<(i + 20) where !(isUpper(b[k]) || isDigit(b[k])) { return nil }
        if i + 20 < b.count, isAlnum(b[i + 20]) { return nil }
        return i..<(i + 20)
    }

    /// `-----BEGIN … PRIVATE KEY-----` … `-----END … PRIVATE KEY-----`.
    @inline(__always)
    func privateKey(_ b: Bytes, _ i: Int) -> Range<Int>? {
        guard b.hasLiteral("-----BEGIN ", at: i) else { return nil }
        let limit = min(b.count, i + 80)
        var j = i + 11
        var found = false
        while j + 16 <= limit {
            if b[j] == UInt8(ascii: "P"), b.hasLiteral("PRIVATE KEY-----", at: j) {
                found = true
                break
            }
            if b[j] == ASCII.newline { return nil }
            j += 1
        }
        guard found else { return nil }
        var k = j + 16
        while k + 8 <= b.count {
            if b[k] == ASCII.minus, b.hasLiteral("-----END", at: k) {
                var end = k + 8
                var dashes = 0
                while end < b.count, dashes < 5, b[end] != ASCII.newline {
                    dashes = b[end] == ASCII.minus ? dashes + 1 : 0
                    end += 1
                }
                return i..<end
            }
            k += 1
        }
        return i..<b.count
    }

    @inline(__always)
    static func isBase64URL(_ c: UInt8) -> Bool { isAlnum(c) || c == ASCII.minus || c == ASCII.underscore }

    /// `eyJ<header>.eyJ<payload>.<signature>`.
    @inline(__always)
    func jwt(_ b: Bytes, _ i: Int) -> Range<Int>? {
        guard b.hasLiteral("eyJ", at: i), i == 0 || !Self.isBase64URL(b[i - 1]) else { return nil }
        let n = b.count
        var j = i + 3
        while j < n, Self.isBase64URL(b[j]) { j += 1 }
        guard j - i >= 10, j + 4 < n, b[j] == ASCII.dot, b.hasLiteral("eyJ", at: j + 1) else { return nil }
        j += 4
        while j < n, Self.isBase64URL(b[j]) { j += 1 }
        guard j < n, b[j] == ASCII.dot else { return nil }
        j += 1
        while j < n, Self.isBase64URL(b[j]) { j += 1 }
        return i..<j
    }

    /// Case-insensitive search for a lowercase literal.
    static func contains(_ b: Bytes, lowercased atom: [UInt8]) -> Bool {
        guard let first = atom.first, atom.count <= b.count else { return atom.isEmpty }
        let last = b.count - atom.count
        var i = 0
        while i <= last {
            if lower(b[i]) == first {
                var k = 1
                while k < atom.count, lower(b[i + k]) == atom[k] { k += 1 }
                if k == atom.count { return true }
            }
            i += 1
        }
        return false
    }
}
