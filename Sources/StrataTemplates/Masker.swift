/// A message with its variables masked: tokens (whitespace-separated, capped in number) joined
/// by single spaces, every variable part written `<*>`.
struct MaskedMessage: Sendable {
    var bytes: [UInt8]
    var tokenCount: Int
}

/// The universal masks, applied to raw UTF-8 bytes before any clustering. One set of rules for
/// every source: nothing here knows a dataset, a service or a log format.
///
/// A token is split into *identifier runs* (letters, digits and `_ . - / + ~ $ % \`, plus any
/// non-ASCII byte) and *structural runs* (everything else: `= : , ; ( ) [ ] { } < > " ' @ #`
/// ...). Structural text is kept, so a variable covers the value and not the punctuation around
/// it (`[<*>]`, `<*>,`, `key=<*>`, `(<*>):`), which is how reference templates are written.
/// An identifier run is a variable when it is a path (`/x`, `./x`, `~/x`), or when one of its
/// alphanumeric pieces starts with a digit (numbers, versions, durations like `250ms`, IPs,
/// times, `blk_-123`, `attempt_1_0020_m_5`) or is mixed hex of 4+ characters (UUIDs, hashes,
/// trace and span ids). Whole tokens are variables when they are URLs (`scheme://...`),
/// Windows paths or, optionally, single-token quoted strings. The value after `key=` is a
/// variable. Variables joined by `:` merge into one (`host:port`, `12:30:05`, MAC and IPv6
/// addresses); a host name of three or more labels followed by `:port` is part of the address.
/// Two multi-token values become one variable: a date followed by a time, and an HTTP request
/// target followed by its protocol version (`GET <*>"`).
enum Masker {
    struct Options: Sendable {
        var maskKeyValueValues: Bool
        var maskQuotedStrings: Bool
        var maxTokens: Int
        /// Identifier runs holding a digit anywhere (`blk3a9f2`, `node-7b`) are variables.
        var maskDigitIdentifiers: Bool = true
        /// Dates written with month and weekday names (`Sun Dec 04 04:47:44 2005`) are one variable.
        var maskNamedDates: Bool = true
        /// Runs of list items separated by spaces only (`<*> <*> <*>`), not just by commas, are one variable.
        var collapseSpaceLists: Bool = true
    }

    // MARK: byte classes

    fileprivate static var space: UInt16 { 1 }
    fileprivate static var digit: UInt16 { 2 }
    fileprivate static var hexLetter: UInt16 { 4 }
    fileprivate static var letter: UInt16 { 8 }
    fileprivate static var identifier: UInt16 { 16 }
    fileprivate static var leading: UInt16 { 32 }
    fileprivate static var trailing: UInt16 { 64 }
    /// Bytes that can make a token need more than a verbatim copy.
    fileprivate static var special: UInt16 { 128 }
    fileprivate static var colon: UInt16 { 256 }
    fileprivate static var slash: UInt16 { 512 }

    static let classes: [UInt16] = {
        var table = [UInt16](repeating: 0, count: 256)
        for byte in [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D] as [Int] { table[byte] = space }
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] = digit | identifier | special }
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] = letter | identifier }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] = letter | identifier }
        for byte in UInt8(ascii: "a")...UInt8(ascii: "f") { table[Int(byte)] |= hexLetter }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "F") { table[Int(byte)] |= hexLetter }
        for byte in 0x80...0xFF { table[byte] = letter | identifier }
        for char in "_.-/+~$%\\".utf8 { table[Int(char)] |= identifier }
        for char in "([{<\"'".utf8 { table[Int(char)] |= leading }
        for char in ")]}>\"',;:.!?".utf8 { table[Int(char)] |= trailing }
        for char in "/=\"'\\".utf8 { table[Int(char)] |= special }
        table[Int(UInt8(ascii: ":"))] |= colon
        table[Int(UInt8(ascii: "/"))] |= slash
        return table
    }()

    static func mask(_ input: UnsafeBufferPointer<UInt8>, options: Options) -> MaskedMessage {
        // One table access per message: a static's lazy initialisation check on every byte
        // cost a quarter of the time.
        classes.withUnsafeBufferPointer { table in
            MaskScanner(table: table.baseAddress!, input: input, options: options).mask()
        }
    }

    static let wildcardBytes: [UInt8] = Array("<*>".utf8)

    @inline(__always)
    static func isIdentifierByte(_ byte: UInt8) -> Bool { classes[Int(byte)] & identifier != 0 }

    @inline(__always)
    static func isLetter(_ byte: UInt8) -> Bool { classes[Int(byte)] & letter != 0 }

    @inline(__always)
    static func isDigitByte(_ byte: UInt8) -> Bool { classes[Int(byte)] & digit != 0 }

    /// Punctuation that may wrap a word: `(`, `"`, `]`, `,`, `:` ...
    @inline(__always)
    static func isPunctuationAround(_ byte: UInt8) -> Bool { classes[Int(byte)] & (leading | trailing) != 0 }

    // MARK: dates with names

    /// Whether a byte is the first letter (any case) of an English month or weekday name:
    /// A D F J M N O S T W — a cheap filter before `dateName`.
    @inline(__always)
    static func mayStartDateName(_ byte: UInt8) -> Bool {
        let lower = byte | 0x20
        guard lower >= 0x61, lower <= 0x7A else { return false }
        let bits: UInt32 = 1 << 0 | 1 << 3 | 1 << 5 | 1 << 9 | 1 << 12 | 1 << 13 | 1 << 14 | 1 << 18 | 1 << 19 | 1 << 22
        return bits & (1 << UInt32(lower - 0x61)) != 0
    }

    private static let weekdayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    private static let monthNames = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
        "december",
    ]

    /// 1 for a weekday name, 2 for a month name (English, three-letter or full, any case, with
    /// opening punctuation before and `,` `.` after allowed), else nil. These names are part of
    /// the date notation of the C library and of RFC 5322/2822, not of any one log source.
    static func dateName<C: RandomAccessCollection>(_ token: C) -> Int? where C.Element == UInt8, C.Index == Int {
        var start = token.startIndex
        var end = token.endIndex
        while start < end, classes[Int(token[start])] & leading != 0 { start += 1 }
        while end > start, token[end - 1] == 0x2C || token[end - 1] == 0x2E { end -= 1 }
        let length = end - start
        guard length >= 3, length <= 9 else { return nil }
        var key = 0
        for offset in 0..<3 {
            let byte = token[start + offset] | 0x20
            guard byte >= 0x61, byte <= 0x7A else { return nil }
            key = key * 26 + Int(byte - 0x61)
        }
        let entry = dateAbbreviations[key]
        guard entry != 0 else { return nil }
        let kind = Int(entry >> 4)
        if length == 3 { return kind }
        let full = (kind == 1 ? weekdayNames : monthNames)[Int(entry & 0xF)].utf8
        guard full.count == length else { return nil }
        for (offset, expected) in full.enumerated() where token[start + offset] | 0x20 != expected { return nil }
        return kind
    }

    /// Indexed by the first three letters (a-z, base 26): kind << 4 | index in its name list, 0 for none.
    private static let dateAbbreviations: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 26 * 26 * 26)
        for (kind, names) in [(1, weekdayNames), (2, monthNames)] {
            for (position, name) in names.enumerated() {
                let key = name.utf8.prefix(3).reduce(0) { $0 * 26 + Int($1 - 0x61) }
                table[key] = UInt8(kind << 4 | position)
            }
        }
        return table
    }()

    /// `<*>` with only closing punctuation after it (a masked day, time or year), optionally after opening punctuation.
    private static func isDatePart(_ token: ArraySlice<UInt8>) -> Bool {
        guard let star = firstWildcard(in: token) else { return false }
        for byte in token[token.startIndex..<star] where classes[Int(byte)] & leading == 0 { return false }
        return token[(star + 3)...].allSatisfy { classes[Int($0)] & trailing != 0 }
    }

    /// Folds `[weekday] month <*> [<*> ...]` and `<*> month <*>` (already masked numbers around
    /// a month name) into one `<*>`, keeping the punctuation before the first token and after
    /// the last. Returns the new bytes and token count.
    static func foldNamedDates(_ bytes: [UInt8]) -> (bytes: [UInt8], tokens: Int) {
        let tokens = bytes.split(separator: 0x20, omittingEmptySubsequences: false)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var count = 0
        var index = 0
        func emit(_ token: ArraySlice<UInt8>) {
            if count > 0 { out.append(0x20) }
            out.append(contentsOf: token)
            count += 1
        }
        var rawPrevious = false  // the token at index - 1 was written unchanged
        while index < tokens.count {
            let token = tokens[index]
            var first = index
            var last = -1
            if dateName(token) == 2 {
                let after = index + 1 < tokens.count && isDatePart(tokens[index + 1])
                let dayBefore = rawPrevious && isDatePart(tokens[index - 1]) && tokens[index - 1].last != 0x2C
                if after || dayBefore {
                    last = after ? index + 1 : index
                    if dayBefore || (rawPrevious && dateName(tokens[index - 1]) == 1) { first = index - 1 }
                    var extra = 0
                    while last + 1 < tokens.count, extra < 3, isDatePart(tokens[last + 1]) {
                        last += 1
                        extra += 1
                    }
                }
            }
            if last < 0 {
                emit(token)
                rawPrevious = true
                index += 1
                continue
            }
            if first < index {
                // Take back the weekday or day written just before.
                out.removeLast(tokens[first].count + (count > 1 ? 1 : 0))
                count -= 1
            }
            var prefix: [UInt8] = []
            let firstToken = tokens[first]
            for index in firstToken.indices {
                guard classes[Int(firstToken[index])] & leading != 0,
                    firstWildcard(in: firstToken[index...]) != index
                else { break }
                prefix.append(firstToken[index])
            }
            let lastToken = tokens[last]
            var suffix: [UInt8] = []
            if last > index, let star = firstWildcard(in: lastToken) { suffix = Array(lastToken[(star + 3)...]) }
            emit(ArraySlice(prefix + wildcardBytes + suffix))
            rawPrevious = false
            index = last + 1
        }
        return (out, count)
    }
}

struct MaskTokenInfo {
    var isDate = false
    var startsWithTime = false
    var isProtocolVersion = false
}

/// The masked text being written, over a block sized for the worst case (no bounds checks).
private struct MaskOutput {
    let base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0

    init(base: UnsafeMutablePointer<UInt8>) { self.base = base }

    subscript(index: Int) -> UInt8 { base[index] }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    mutating func appendWildcard() {
        base[count] = 0x3C
        base[count + 1] = 0x2A
        base[count + 2] = 0x3E
        count += 3
    }

    mutating func removeLast(_ n: Int) { count -= n }

    mutating func removeSubrange(_ range: Range<Int>) {
        let tail = count - range.upperBound
        if tail > 0 { (base + range.lowerBound).update(from: base + range.upperBound, count: tail) }
        count -= range.count
    }
}

/// One message being masked: the byte-class table and the input, held for the helpers.
private struct MaskScanner {
    let table: UnsafePointer<UInt16>
    let input: UnsafeBufferPointer<UInt8>
    let options: Masker.Options

    private var space: UInt16 { Masker.space }
    private var digit: UInt16 { Masker.digit }
    private var hexLetter: UInt16 { Masker.hexLetter }
    private var letter: UInt16 { Masker.letter }
    private var identifier: UInt16 { Masker.identifier }
    private var leading: UInt16 { Masker.leading }
    private var trailing: UInt16 { Masker.trailing }
    private var special: UInt16 { Masker.special }
    private var colon: UInt16 { Masker.colon }
    private var slash: UInt16 { Masker.slash }

    // MARK: messages

    func mask() -> MaskedMessage {
        // Masked text is at most three times the input (`0` -> `<*>`): one scratch block, then
        // an exact-size copy (cached keys would otherwise keep the slack).
        let capacity = 3 * input.count + 8
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { scratch.deallocate() }
        var out = MaskOutput(base: scratch)
        let count = input.count
        var index = 0
        var tokens = 0
        var previousStart = 0
        var previousEnd = 0
        var previousPlainVariable = false
        var previousDate = false
        // The previous token is a list item: optional opening punctuation, `<*>`, then `,` or `;`
        // (comma list) or nothing (space list).
        var previousListItem: UInt8 = 0  // 0 none, 1 bare `<*>` ending the token, 2 `<*>,` / `<*>;`
        var previousRaw = 0..<0
        var sawName = false
        while true {
            while index < count, table[Int(input[index])] & space != 0 { index += 1 }
            if index >= count { break }
            var end = index
            var flags: UInt16 = 0
            while end < count {
                let byteClass = table[Int(input[end])]
                if byteClass & space != 0 { break }
                flags |= byteClass
                end += 1
            }
            if tokens == options.maxTokens - 1 {
                var rest = end
                while rest < count, table[Int(input[rest])] & space != 0 { rest += 1 }
                if rest < count {
                    // Too many tokens: the remainder of the message is one variable.
                    if tokens > 0 { out.append(0x20) }
                    out.appendWildcard()
                    tokens += 1
                    break
                }
            }
            if options.maskNamedDates, !sawName, end - index >= 3, end - index <= 11,
                Masker.mayStartDateName(input[index]), Masker.dateName(input[index..<end]) != nil
            {
                sawName = true
            }
            if tokens > 0 { out.append(0x20) }
            let start = out.count
            let info = maskToken(start: index, end: end, flags: flags, into: &out)
            let startsWithVariable = out.count - start >= 3 && out[start] == 0x3C && out[start + 1] == 0x2A
                && out[start + 2] == 0x3E
            let merges = tokens > 0 && previousPlainVariable
                && (info.isProtocolVersion || (previousDate && info.startsWithTime))
                && startsWithVariable
            // A list item after a list item: the run is one variable (`[<*>, <*>, <*>]` -> `[<*>]`).
            var listMerges = false
            if tokens > 0, !merges, previousListItem != 0, startsWithVariable,
                previousListItem == 2 || options.collapseSpaceLists
            {
                var rest = start + 3
                while rest < out.count, table[Int(out[rest])] & trailing != 0 { rest += 1 }
                // Similar items: the same shape of letters, digits and punctuation (`blk_1`,
                // `blk_22`), not two different values side by side (`host:80 SOCKS5`).
                listMerges = rest == out.count && sameShape(previousRaw, index..<end)
            }
            if merges {
                out.removeSubrange(previousEnd..<(start + 3))
                previousEnd = out.count
                previousPlainVariable = out.count - previousStart == 3
                previousDate = false
                previousListItem = 0
            } else if listMerges {
                // Drop the previous item's separator, the space and this item's `<*>`.
                let cut = previousListItem == 2 ? previousEnd - 1 : previousEnd
                out.removeSubrange(cut..<(start + 3))
                previousEnd = out.count
                previousPlainVariable = out.count - previousStart == 3
                previousDate = false
                previousListItem = listItemKind(out, from: previousStart)
            } else {
                tokens += 1
                previousStart = start
                previousEnd = out.count
                previousPlainVariable = out.count - start == 3 && out[start] == 0x3C && out[start + 1] == 0x2A
                    && out[start + 2] == 0x3E
                previousDate = info.isDate
                previousListItem = listItemKind(out, from: start)
            }
            previousRaw = index..<end
            index = end
        }
        if sawName {
            let folded = Masker.foldNamedDates(Array(UnsafeBufferPointer(start: scratch, count: out.count)))
            return MaskedMessage(bytes: folded.bytes, tokenCount: folded.tokens)
        }
        return MaskedMessage(bytes: Array(UnsafeBufferPointer(start: scratch, count: out.count)), tokenCount: tokens)
    }

    /// Whether two input tokens have the same shape: inside their wrapping punctuation, the
    /// same sequence of alphanumeric runs and punctuation bytes (`blk_1`/`blk_22`, `10.0.0.1`/
    /// `10.0.0.22`; not `host.example:80`/`SOCKS5`).
    private func sameShape(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        func core(_ range: Range<Int>) -> Range<Int> {
            var start = range.lowerBound
            var end = range.upperBound
            while start < end, table[Int(input[start])] & leading != 0 { start += 1 }
            while end > start, table[Int(input[end - 1])] & trailing != 0 { end -= 1 }
            return start..<end
        }
        func shape(_ byte: UInt8) -> UInt16 {
            let byteClass = table[Int(byte)]
            if byteClass & (digit | letter) != 0 { return 0x100 }
            return UInt16(byte)
        }
        let left = core(a)
        let right = core(b)
        var i = left.lowerBound
        var j = right.lowerBound
        // A sign before a number is part of it (`blk_-42` / `blk_7`).
        func skipSign(_ index: inout Int, _ end: Int) {
            if index + 1 < end, input[index] == 0x2D || input[index] == 0x2B, table[Int(input[index + 1])] & digit != 0 {
                index += 1
            }
        }
        while i < left.upperBound, j < right.upperBound {
            skipSign(&i, left.upperBound)
            skipSign(&j, right.upperBound)
            let kind = shape(input[i])
            guard kind == shape(input[j]) else { return false }
            if kind >= 0x100 {
                while i < left.upperBound, shape(input[i]) == kind { i += 1 }
                while j < right.upperBound, shape(input[j]) == kind { j += 1 }
            } else {
                i += 1
                j += 1
            }
        }
        return i == left.upperBound && j == right.upperBound
    }

    /// 1 when the token written from `start` ends in a bare `<*>` after opening punctuation only,
    /// 2 when it ends in `<*>,` or `<*>;`, else 0.
    private func listItemKind(_ out: MaskOutput, from start: Int) -> UInt8 {
        var end = out.count
        var kind: UInt8 = 1
        if end - start >= 4, out[end - 1] == 0x2C || out[end - 1] == 0x3B {
            kind = 2
            end -= 1
        }
        guard end - start >= 3, out[end - 3] == 0x3C, out[end - 2] == 0x2A, out[end - 1] == 0x3E else { return 0 }
        var index = start
        while index < end - 3, table[Int(out[index])] & leading != 0 { index += 1 }
        return index == end - 3 ? kind : 0
    }


    // MARK: tokens

    typealias TokenInfo = MaskTokenInfo
    @inline(__always)
    func isDigit(_ byte: UInt8) -> Bool { table[Int(byte)] & digit != 0 }

    func maskToken(
        start: Int, end: Int, flags: UInt16, into out: inout MaskOutput, 
    ) -> TokenInfo {
        if flags & special == 0 {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<end]))
            return TokenInfo()
        }
        var info = TokenInfo()
        info.isDate = isDate(start, end)
        info.startsWithTime = end - start >= 4 && isDigit(input[start])
            && ((input[start + 1] == 0x3A && isDigit(input[start + 2]) && isDigit(input[start + 3]))
                || (end - start >= 5 && isDigit(input[start + 1]) && input[start + 2] == 0x3A
                    && isDigit(input[start + 3]) && isDigit(input[start + 4])))
        info.isProtocolVersion = end - start >= 6 && input[start] == 0x48 && input[start + 1] == 0x54
            && input[start + 2] == 0x54 && input[start + 3] == 0x50 && input[start + 4] == 0x2F
            && isDigit(input[start + 5])

        var coreStart = start
        while coreStart < end, table[Int(input[coreStart])] & leading != 0 { coreStart += 1 }
        var coreEnd = end
        while coreEnd > coreStart, table[Int(input[coreEnd - 1])] & trailing != 0 { coreEnd -= 1 }
        if coreStart == coreEnd {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<end]))
            return info
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<coreStart]))
        defer { out.append(contentsOf: UnsafeBufferPointer(rebasing: input[coreEnd..<end])) }

        // A quoted single token: 'value', "value" (inside any brackets).
        if options.maskQuotedStrings, coreStart > start, coreEnd < end {
            let quote = input[coreStart - 1]
            if (quote == 0x22 || quote == 0x27) && input[coreEnd] == quote {
                out.appendWildcard()
                return info
            }
        }
        // Windows paths: C:\dir\file, \\server\share.
        if coreEnd - coreStart >= 3 {
            let first = input[coreStart], second = input[coreStart + 1], third = input[coreStart + 2]
            if (table[Int(first)] & letter != 0 && first < 0x80 && second == 0x3A && third == 0x5C)
                || (first == 0x5C && second == 0x5C)
            {
                out.appendWildcard()
                return info
            }
        }
        // URLs: scheme://rest. Text before the scheme (`url=`, `(`) is kept.
        if flags & (colon | slash) == colon | slash, let schemeStart = urlSchemeStart(coreStart, coreEnd) {
            maskRuns(start: coreStart, end: schemeStart, into: &out)
            out.appendWildcard()
            return info
        }
        maskRuns(start: coreStart, end: coreEnd, into: &out)
        return info
    }

    /// Where a `scheme://` starts inside `input[start..<end]`, if there is one.
    func urlSchemeStart(_ start: Int, _ end: Int) -> Int? {
        var index = start
        while index + 2 < end {
            if input[index] == 0x3A && input[index + 1] == 0x2F && input[index + 2] == 0x2F {
                var schemeStart = index
                while schemeStart > start, table[Int(input[schemeStart - 1])] & letter != 0,
                    input[schemeStart - 1] < 0x80
                {
                    schemeStart -= 1
                }
                return index - schemeStart >= 2 ? schemeStart : nil
            }
            index += 1
        }
        return nil
    }

    func isDate(_ start: Int, _ end: Int) -> Bool {
        // yyyy-mm-dd or yyyy/mm/dd, nothing around it.
        guard end - start >= 8, end - start <= 10 else { return false }
        var index = start
        for _ in 0..<4 {
            guard isDigit(input[index]) else { return false }
            index += 1
        }
        for part in 0..<2 {
            guard index < end, input[index] == 0x2D || input[index] == 0x2F else { return false }
            index += 1
            let partStart = index
            while index < end, isDigit(input[index]) { index += 1 }
            guard index - partStart >= 1, index - partStart <= 2 else { return false }
            if part == 1 { return index == end }
        }
        return false
    }

    /// Masks the identifier runs of `input[start..<end]`, keeping structural runs verbatim.
    func maskRuns(
        start: Int, end: Int, into out: inout MaskOutput
    ) {
        var index = start
        // out.count just after the last `<*>` written, while only `:` followed it.
        var variableEnd = -1
        var afterKeyEquals = false
        var previousWasIdentifier = false
        while index < end {
            let isIdentifierByte = table[Int(input[index])] & identifier != 0
            var runEnd = index
            while runEnd < end, (table[Int(input[runEnd])] & identifier != 0) == isIdentifierByte { runEnd += 1 }
            if !isIdentifierByte {
                let isEquals = runEnd - index == 1 && input[index] == 0x3D
                afterKeyEquals = isEquals && previousWasIdentifier
                let onlyColons = input[index..<runEnd].allSatisfy { $0 == 0x3A } && runEnd - index <= 2
                out.append(contentsOf: UnsafeBufferPointer(rebasing: input[index..<runEnd]))
                if !onlyColons { variableEnd = -1 }
                previousWasIdentifier = false
                index = runEnd
                continue
            }
            if runIsPath(index, runEnd) {
                // A path runs to the end of the token: `?query=...`, `#frag`, `:line` included.
                if !(variableEnd >= 0 && out.count > variableEnd) { out.appendWildcard() } else {
                    out.removeLast(out.count - variableEnd)
                }
                return
            }
            var variable = runIsVariable(index, runEnd)
            if !variable, options.maskDigitIdentifiers, !(runEnd < end && input[runEnd] == 0x3D),
                input[index..<runEnd].contains(where: { table[Int($0)] & digit != 0 })
            {
                variable = true
            }
            if !variable, afterKeyEquals, options.maskKeyValueValues { variable = true }
            if !variable, runEnd + 1 < end, input[runEnd] == 0x3A, isDigit(input[runEnd + 1]),
                runIsHostName(index, runEnd)
            {
                variable = true
            }
            if !variable, runIsShortHex(index, runEnd) {
                if variableEnd >= 0 && out.count > variableEnd {
                    variable = true
                } else if runEnd + 1 < end, input[runEnd] == 0x3A {
                    var next = runEnd + 1
                    if next < end, input[next] == 0x3A { next += 1 }
                    var nextEnd = next
                    while nextEnd < end, table[Int(input[nextEnd])] & identifier != 0 { nextEnd += 1 }
                    variable = nextEnd > next && runIsShortHex(next, nextEnd)
                        && input[next..<nextEnd].contains { table[Int($0)] & digit != 0 }
                }
            }
            if variable, let separator = nameNumberSeparator(index, runEnd) {
                // `core.1234`, `worker-3`: the name stays, the number is the variable.
                out.append(contentsOf: UnsafeBufferPointer(rebasing: input[index...separator]))
                out.appendWildcard()
                variableEnd = out.count
            } else if variable {
                if variableEnd >= 0 && out.count > variableEnd {
                    out.removeLast(out.count - variableEnd)
                } else if !(variableEnd >= 0 && out.count == variableEnd) {
                    out.appendWildcard()
                }
                variableEnd = out.count
            } else {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: input[index..<runEnd]))
                variableEnd = -1
            }
            afterKeyEquals = false
            previousWasIdentifier = true
            index = runEnd
        }
    }

    /// Paths, and runs with a piece that starts with a digit or is mixed hex of 4+ characters.
    /// `/x`, `./x`, `../x`, `~/x`.
    func runIsPath(_ start: Int, _ end: Int) -> Bool {
        let length = end - start
        let first = input[start]
        if first == 0x2F { return length > 1 }
        if length >= 3, first == 0x2E || first == 0x7E {
            if input[start + 1] == 0x2F { return true }
            if first == 0x2E, input[start + 1] == 0x2E, input[start + 2] == 0x2F { return true }
        }
        return false
    }

    func runIsVariable(_ start: Int, _ end: Int) -> Bool {
        if runIsPath(start, end) { return true }
        var index = start
        while index < end {
            while index < end, table[Int(input[index])] & (letter | digit) == 0 { index += 1 }
            if index >= end { break }
            if isDigit(input[index]) { return true }
            var digits = 0
            var allHex = true
            let pieceStart = index
            while index < end {
                let byteClass = table[Int(input[index])]
                if byteClass & (letter | digit) == 0 { break }
                if byteClass & digit != 0 { digits += 1 } else if byteClass & hexLetter == 0 { allHex = false }
                index += 1
            }
            if digits > 0, allHex, index - pieceStart >= 4 { return true }
        }
        return false
    }

    /// For `letters.digits...` or `letters-digits...` (two pieces, the second starting with a
    /// digit and holding no further separator), the index of the separator.
    func nameNumberSeparator(_ start: Int, _ end: Int) -> Int? {
        var index = start
        while index < end, table[Int(input[index])] & letter != 0, input[index] < 0x80 { index += 1 }
        guard index > start, index + 1 < end, input[index] == 0x2E || input[index] == 0x2D,
            isDigit(input[index + 1])
        else { return nil }
        for byte in input[(index + 1)..<end] where table[Int(byte)] & (letter | digit) == 0 { return nil }
        return index
    }

    /// Three or more dot-separated labels of letters, digits and hyphens: `db.prod.svc`.
    func runIsHostName(_ start: Int, _ end: Int) -> Bool {
        var dots = 0
        var labelLength = 0
        for index in start..<end {
            let byte = input[index]
            if byte == 0x2E {
                if labelLength == 0 { return false }
                dots += 1
                labelLength = 0
            } else if byte == 0x2D || (byte < 0x80 && table[Int(byte)] & (letter | digit) != 0) {
                labelLength += 1
            } else {
                return false
            }
        }
        return dots >= 2 && labelLength > 0
    }

    /// One to four hex digits (a group of a MAC or IPv6 address).
    func runIsShortHex(_ start: Int, _ end: Int) -> Bool {
        guard end - start <= 4 else { return false }
        for index in start..<end where table[Int(input[index])] & (digit | hexLetter) == 0 { return false }
        return true
    }
}
