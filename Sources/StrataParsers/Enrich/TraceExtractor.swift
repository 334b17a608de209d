import StrataCore

/// Finds trace context in any body when no parser set it. One pass over the body looking only
/// at runs of exactly 16 or 32 hex digits (it reads one byte in 16 of ordinary text), and
/// taking a run when its surroundings say what it is:
///
/// - W3C `traceparent` `00-<32>-<16>-<2>`, Micrometer `<32>-<16>`, Sleuth `[app,<32 or 16>,<16>,…]`:
///   trace and span together;
/// - a key before it — `trace_id=`, `traceId":"`, `TraceID: `, `trace.id=`, `otelTraceID=`,
///   `x-b3-traceid: ` (any case; `_`, `.` and `-` ignored) — for the trace id (32 hex, or 16 hex
///   zero-padded), and likewise `span_id`/`spanId`/`SpanID` for the span id.
///
/// A run with neither (a request id, a hash) is ignored; so are all-zero ids. A span id is only
/// set together with a trace id.
public enum TraceExtractor {
    /// Sets `traceID`/`spanID` from the body when `traceID` is unset; returns true when it did.
    @discardableResult
    public static func extract(_ record: inout LogRecord) -> Bool {
        guard record.traceID == nil else { return false }
        let found = record.body.withBytes { scan($0) }
        guard let trace = found.trace else { return false }
        record.traceID = trace
        if record.spanID == nil, let span = found.span { record.spanID = span }
        return true
    }

    enum Keyword { case trace, span }

    static func scan(_ b: Bytes) -> (trace: TraceID?, span: SpanID?) {
        let n = b.count
        var trace: TraceID?
        var keyedSpan: SpanID?
        var i = 0
        while i + 16 <= n {
            let probe = i + 15
            if !isHexDigit(b[probe]) {
                i = probe + 1
                continue
            }
            var start = probe
            while start > i, isHexDigit(b[start - 1]) { start -= 1 }
            var end = probe + 1
            while end < n, isHexDigit(b[end]) { end += 1 }
            i = end + 1
            let length = end - start
            guard length == 16 || length == 32 else { continue }
            // Glued to other word characters: not an id.
            if start > 0, isWordByte(b[start - 1]) { continue }
            if end < n, isWordByte(b[end]) { continue }

            // trace and span together: `<trace>-<span>` / `<trace>,<span>`.
            if end + 17 <= n, b[end] == ASCII.minus || b[end] == ASCII.comma,
                end + 17 == n || !isHexDigit(b[end + 17]) && !isWordByte(b[end + 17]),
                let span = TraceHex.spanID(b, (end + 1)..<(end + 17))
            {
                let separator = b[end]
                let pairOK: Bool
                if length == 32 {
                    pairOK = true
                } else {
                    // 64-bit Sleuth ids only inside `[app,trace,span…]`.
                    pairOK = separator == ASCII.comma && start > 0 && b[start - 1] == ASCII.comma
                }
                if pairOK, let t = TraceHex.traceID(b, start..<end) {
                    return (t, span)
                }
            }
            switch keyword(b, before: start) {
            case .trace?:
                if trace == nil, let t = TraceHex.traceID(b, start..<end) { trace = t }
            case .span?:
                if keyedSpan == nil, length == 16 { keyedSpan = TraceHex.spanID(b, start..<end) }
            case nil:
                break
            }
            if trace != nil, keyedSpan != nil { break }
        }
        return (trace, trace == nil ? nil : keyedSpan)
    }

    @inline(__always)
    static func isWordByte(_ c: UInt8) -> Bool { isAlnum(c) || c == ASCII.underscore }

    /// The key written just before `start`: up to four separator bytes (`=`, `:`, `"`, `'`,
    /// space), then a word whose letters and digits (lowercased, `_ . -` dropped) spell one of
    /// the trace or span keys.
    @inline(__always)
    static func keyword(_ b: Bytes, before start: Int) -> Keyword? {
        var k = start - 1
        var separators = 0
        while k >= 0, separators < 4 {
            let c = b[k]
            guard c == ASCII.equals || c == ASCII.colon || c == ASCII.quote || c == ASCII.apostrophe
                || c == ASCII.space
            else { break }
            k -= 1
            separators += 1
        }
        guard separators > 0, k >= 0 else { return nil }
        // Read the word backwards into a small packed key (at most 16 letters/digits).
        var packed: (UInt64, UInt64) = (0, 0)
        var letters = 0
        while k >= 0 {
            let c = b[k]
            if isAlnum(c) {
                guard letters < 16 else { return nil }
                let byte = UInt64(lower(c))
                // Reversed: the last letter goes first.
                if letters < 8 { packed.0 |= byte << (8 * UInt64(letters)) } else {
                    packed.1 |= byte << (8 * UInt64(letters - 8))
                }
                letters += 1
            } else if c != ASCII.underscore && c != ASCII.dot && c != ASCII.minus {
                break
            }
            k -= 1
        }
        for (key, kind) in keys where key == packed { return kind }
        return nil
    }

    /// Keys, packed reversed as `keyword` reads them.
    static let keys: [((UInt64, UInt64), Keyword)] = {
        let words: [(String, Keyword)] = [
            ("traceid", .trace), ("oteltraceid", .trace), ("xb3traceid", .trace), ("logtraceid", .trace),
            ("spanid", .span), ("otelspanid", .span), ("xb3spanid", .span), ("logspanid", .span),
        ]
        return words.map { word, kind in
            var packed: (UInt64, UInt64) = (0, 0)
            for (index, byte) in word.utf8.reversed().enumerated() {
                if index < 8 { packed.0 |= UInt64(byte) << (8 * UInt64(index)) } else {
                    packed.1 |= UInt64(byte) << (8 * UInt64(index - 8))
                }
            }
            return (packed, kind)
        }
    }()
}
