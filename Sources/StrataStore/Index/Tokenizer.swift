/// Splits log text into index terms. The segment writer indexes exactly the tokens this yields
/// for each body, and the query engine tokenizes its literals with the same code, so index and
/// query agree. The rules are part of the on-disk format (docs/FORMAT.md, "Tokenizer"); changing
/// them requires a new segment format version.
///
/// - Text is lowercased (ASCII only; other bytes are kept as they are).
/// - **Words** are maximal runs of `[a-z0-9]` and bytes ≥ 0x80 (so non-ASCII letters and
///   punctuation stay inside words). A 32-hex trace id is one word.
/// - **Identifiers** are additionally kept whole. They are found inside *spans*: maximal runs of
///   word bytes and the joiners `. - _ : / @`.
///   - *path*: from a span's leading `/` (or the first `/` after `://` in a URL) over word bytes
///     and `. - _ /`, trimmed back to the last word byte: `/api/v1/orders`;
///   - *IPv4* `a.b.c.d` (each 1–3 digits, not part of a longer dotted number) and, when followed by
///     `:port` (1–5 digits), also `a.b.c.d:port`;
///   - *UUID* `8-4-4-4-12` hex digits;
///   - *dotted identifier*: words joined by single `.`, `-` or `_` (between `/`, `:` and `@`
///     boundaries) that contain at least one `.` and start with a letter: `com.example.foo`,
///     `java.lang.illegalstateexception`, `ts-order-service.default.svc`, `v1.2.3`;
///     numbers such as `10.175` or `0.5` are not identifiers;
///   - *email*: a joined run, `@`, and a dotted run: `bob@example.com`.
///   There are no `key=value` tokens (`=` separates words).
///
/// Within a span, identifiers come first in order of appearance (paths, then IPs and UUIDs as
/// their first word is reached; dotted identifiers and emails once complete), interleaved with
/// the words. Tokens may repeat. `GET /api/v1/orders from 10.1.2.3:8080` yields `get`,
/// `/api/v1/orders`, `api`, `v1`, `orders`, `from`, `10.1.2.3:8080`, `10.1.2.3`, `10`, `1`, `2`,
/// `3`, `8080`.
///
/// Query engines: every word of a record is always indexed, but an identifier token is only
/// present where the text delimits it exactly as above (`com.example.foo` is not a token of
/// `com.example.foo.bar`). So require `words(of:)` of a literal and verify the phrase on the
/// decoded rows; use an identifier token as an additional filter only when the literal is a
/// whole identifier.
public enum Tokenizer {
    // Byte classes: 0 separator, 1 word, else one bit per joiner.
    static let separator: UInt8 = 0
    static let word: UInt8 = 1
    static let dot: UInt8 = 2
    static let dash: UInt8 = 4
    static let underscore: UInt8 = 8
    static let colon: UInt8 = 16
    static let slash: UInt8 = 32
    static let at: UInt8 = 64

    /// Class of every byte value.
    static let classes: [UInt8] = (0..<256).map { b -> UInt8 in
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x80...0xFF: return word
        case 0x2E: return dot
        case 0x2D: return dash
        case 0x5F: return underscore
        case 0x3A: return colon
        case 0x2F: return slash
        case 0x40: return at
        default: return separator
        }
    }

    /// Calls `body` with every token of the UTF-8 text, lowercased. The buffer passed to `body`
    /// is only valid during the call. Allocation-free for inputs up to a few KiB (longer inputs
    /// use one temporary heap buffer for the lowercased copy).
    public static func forEachToken(
        in utf8: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let n = utf8.count
        guard n > 0, let source = utf8.baseAddress else { return }
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { lowered in
            let lc = lowered.baseAddress!
            lowercase(source.assumingMemoryBound(to: UInt8.self), into: lc, count: n)
            try classes.withUnsafeBufferPointer { table in
                try scanTokens(lc, n, table.baseAddress!) { start, end in
                    try body(UnsafeRawBufferPointer(start: lc + start, count: end - start))
                }
            }
        }
    }

    /// Calls `body` with every plain word (no identifiers), lowercased, in order.
    public static func forEachWord(
        in utf8: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let n = utf8.count
        guard n > 0, let source = utf8.baseAddress else { return }
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { lowered in
            let lc = lowered.baseAddress!
            lowercase(source.assumingMemoryBound(to: UInt8.self), into: lc, count: n)
            try classes.withUnsafeBufferPointer { table in
                let cls = table.baseAddress!
                var i = 0
                while i < n {
                    while i < n && cls[Int(lc[i])] != word { i += 1 }
                    if i >= n { break }
                    let start = i
                    while i < n && cls[Int(lc[i])] == word { i += 1 }
                    try body(UnsafeRawBufferPointer(start: lc + start, count: i - start))
                }
            }
        }
    }

    /// All tokens of `text` (see the type documentation), in order, repeats included.
    public static func tokens(of text: String) -> [String] {
        var result: [String] = []
        var text = text
        text.withUTF8 { utf8 in
            forEachToken(in: UnsafeRawBufferPointer(utf8)) { result.append(String(decoding: $0, as: UTF8.self)) }
        }
        return result
    }

    /// The plain words of `text`, lowercased, in order (for phrase verification).
    public static func words(of text: String) -> [String] {
        var result: [String] = []
        var text = text
        text.withUTF8 { utf8 in
            forEachWord(in: UnsafeRawBufferPointer(utf8)) { result.append(String(decoding: $0, as: UTF8.self)) }
        }
        return result
    }

    /// ASCII lowercase of `text` (the form body terms take in the index).
    public static func lowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 &- 0x41 < 26 ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    @inline(__always)
    static func lowercase(_ source: UnsafePointer<UInt8>, into target: UnsafeMutablePointer<UInt8>, count: Int) {
        for i in 0..<count {
            let b = source[i]
            target[i] = b &- 0x41 < 26 ? b | 0x20 : b
        }
    }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    @inline(__always)
    static func isHex(_ b: UInt8) -> Bool { b &- 0x30 < 10 || b &- 0x61 < 6 }
    @inline(__always)
    static func isLetter(_ b: UInt8) -> Bool { b &- 0x61 < 26 }

    /// Scans lowercased text and reports token ranges.
    @inline(__always)
    static func scanTokens(
        _ lc: UnsafePointer<UInt8>, _ n: Int, _ cls: UnsafePointer<UInt8>,
        _ emit: (Int, Int) throws -> Void
    ) rethrows {
        var i = 0
        while i < n {
            while i < n && cls[Int(lc[i])] == separator { i += 1 }
            if i >= n { break }
            let start = i
            var classes: UInt8 = 0
            while i < n {
                let c = cls[Int(lc[i])]
                if c == separator { break }
                classes |= c
                i += 1
            }
            if classes == word {
                try emit(start, i)
            } else if classes & word != 0 {
                try scanSpan(lc, start, i, cls, classes, emit)
            }
        }
    }

    /// Tokens of a span that contains joiners.
    static func scanSpan(
        _ lc: UnsafePointer<UInt8>, _ s: Int, _ e: Int, _ cls: UnsafePointer<UInt8>, _ spanClasses: UInt8,
        _ emit: (Int, Int) throws -> Void
    ) rethrows {
        if spanClasses & Self.slash != 0 { try scanPath(lc, s, e, cls, spanClasses, emit) }
        let hasDot = spanClasses & dot != 0
        let hasDash = spanClasses & dash != 0
        if !hasDot && !hasDash {
            // Only words (and paths, done).
            var i = s
            while i < e {
                while i < e && cls[Int(lc[i])] != word { i += 1 }
                if i >= e { break }
                let ws = i
                while i < e && cls[Int(lc[i])] == word { i += 1 }
                try emit(ws, i)
            }
            return
        }

        // Words, IPs, UUIDs, joined runs (dotted identifiers, emails).
        var runStart = -1  // current joined run
        var runEnd = -1
        var runHasDot = false
        var localStart = -1  // joined run just before an '@', for emails
        var afterAt = false
        var i = s
        while i < e {
            // Next word.
            let gapStart = i
            while i < e && cls[Int(lc[i])] != word { i += 1 }
            if i >= e { break }
            let ws = i
            while i < e && cls[Int(lc[i])] == word { i += 1 }
            let we = i

            if hasDot {
                // Does this word continue the current joined run?
                let gap = ws - gapStart
                var continues = false
                if runStart >= 0 && gap == 1 {
                    let g = cls[Int(lc[gapStart])]
                    if g == dot {
                        continues = true
                        runHasDot = true
                    } else if g == dash || g == underscore {
                        continues = true
                    }
                }
                if continues {
                    runEnd = we
                } else {
                    if runStart >= 0 {
                        try closeRun(lc, runStart, runEnd, runHasDot, &localStart, afterAt, emit)
                    }
                    // '@' directly between two runs starts an email candidate.
                    afterAt = runStart >= 0 && gap == 1 && lc[gapStart] == UInt8(ascii: "@")
                    if afterAt { localStart = runStart } else { localStart = -1 }
                    runStart = ws
                    runEnd = we
                    runHasDot = false
                }
                // IPv4 starting at this word.
                if we - ws <= 3 && we < e && lc[we] == UInt8(ascii: ".") && isDigit(lc[ws]) {
                    try matchIPv4(lc, s, e, ws, cls, emit)
                }
            }
            if hasDash && we - ws == 8 && ws + 36 <= e {
                try matchUUID(lc, e, ws, cls, emit)
            }
            try emit(ws, we)
        }
        if runStart >= 0 {
            try closeRun(lc, runStart, runEnd, runHasDot, &localStart, afterAt, emit)
        }
    }

    /// The path token of a span containing `/`.
    @inline(__always)
    static func scanPath(
        _ lc: UnsafePointer<UInt8>, _ s: Int, _ e: Int, _ cls: UnsafePointer<UInt8>, _ spanClasses: UInt8,
        _ emit: (Int, Int) throws -> Void
    ) rethrows {
        let slash = UInt8(ascii: "/")
        var pathStart = -1
        if lc[s] == slash {
            var p = s
            while p + 1 < e && lc[p + 1] == slash { p += 1 }
            pathStart = p
        } else if spanClasses & colon != 0 {
            // scheme://host...: the first '/' after the authority.
            var q = s
            while q + 2 < e {
                if lc[q] == UInt8(ascii: ":") && lc[q + 1] == slash && lc[q + 2] == slash { break }
                q += 1
            }
            if q + 2 < e {
                var p = q + 3
                while p < e && lc[p] != slash { p += 1 }
                if p < e { pathStart = p }
            }
        }
        if pathStart >= 0 && pathStart + 1 < e && cls[Int(lc[pathStart + 1])] == word {
            var p = pathStart + 1
            var lastWord = pathStart
            while p < e {
                let b = lc[p]
                if cls[Int(b)] == word {
                    lastWord = p
                } else if b != slash && b != UInt8(ascii: ".") && b != UInt8(ascii: "-") && b != UInt8(ascii: "_") {
                    break
                }
                p += 1
            }
            try emit(pathStart, lastWord + 1)
        }
    }

    @inline(__always)
    static func closeRun(
        _ lc: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ hasDot: Bool,
        _ localStart: inout Int, _ afterAt: Bool, _ emit: (Int, Int) throws -> Void
    ) rethrows {
        guard hasDot else { return }
        if afterAt && localStart >= 0 { try emit(localStart, end) }
        if isLetter(lc[start]) { try emit(start, end) }
    }

    /// `a.b.c.d` starting at `ws` (and `a.b.c.d:port`).
    static func matchIPv4(
        _ lc: UnsafePointer<UInt8>, _ s: Int, _ e: Int, _ ws: Int, _ cls: UnsafePointer<UInt8>,
        _ emit: (Int, Int) throws -> Void
    ) rethrows {
        if ws > s && lc[ws - 1] == UInt8(ascii: ".") { return }  // inside a longer dotted number
        var p = ws
        for part in 0..<4 {
            let partStart = p
            while p < e && p - partStart < 4 && isDigit(lc[p]) { p += 1 }
            let len = p - partStart
            if len == 0 || len > 3 { return }
            if part < 3 {
                guard p < e && lc[p] == UInt8(ascii: ".") else { return }
                p += 1
            }
        }
        let ipEnd = p
        if ipEnd < e {
            let next = lc[ipEnd]
            if isDigit(next) || cls[Int(next)] == word { return }
            if next == UInt8(ascii: ".") && ipEnd + 1 < e && cls[Int(lc[ipEnd + 1])] == word { return }
            if next == UInt8(ascii: ":") {
                var q = ipEnd + 1
                while q < e && q - ipEnd <= 6 && isDigit(lc[q]) { q += 1 }
                let digits = q - ipEnd - 1
                if digits >= 1 && digits <= 5 && (q == e || cls[Int(lc[q])] != word) {
                    try emit(ws, q)
                }
            }
        }
        try emit(ws, ipEnd)
    }

    /// `8-4-4-4-12` hex digits starting at `ws` (caller checked 36 bytes are available).
    static func matchUUID(
        _ lc: UnsafePointer<UInt8>, _ e: Int, _ ws: Int, _ cls: UnsafePointer<UInt8>,
        _ emit: (Int, Int) throws -> Void
    ) rethrows {
        for k in 0..<36 {
            let b = lc[ws + k]
            if k == 8 || k == 13 || k == 18 || k == 23 {
                if b != UInt8(ascii: "-") { return }
            } else if !isHex(b) {
                return
            }
        }
        if ws + 36 < e && cls[Int(lc[ws + 36])] == word { return }
        try emit(ws, ws + 36)
    }
}
