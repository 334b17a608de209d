/// Time stamps and escaping for the scenario's log lines. The scenario writes far fewer
/// lines than the node tree generator, so it renders Strings for readability.
enum Stamp {
    private static func text(_ ns: Int64, _ build: (inout LineWriter, CivilTime) -> Void) -> String {
        var w = LineWriter(capacity: 40)
        build(&w, CivilTime(nanosSinceEpoch: ns))
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// As container runtimes write it (trailing zeros of the fraction dropped).
    static func rfc3339(_ ns: Int64) -> String { text(ns) { $0.append(rfc3339Nano: $1) } }
    /// `2026-11-21T10:00:00.123Z`
    static func iso(_ ns: Int64, digits: Int = 3) -> String { text(ns) { $0.append(iso: $1, digits: digits) } }
    /// logback's default: `2026-11-21 10:00:00.123`
    static func spring(_ ns: Int64) -> String {
        text(ns) { w, c in
            w.append(date: c)
            w.append(UInt8(ascii: " "))
            w.append(clock: c)
            w.append(UInt8(ascii: "."))
            w.append(fraction: c, digits: 3)
        }
    }
    /// Python logging's `asctime`: `2026-11-21 10:00:00,123`
    static func python(_ ns: Int64) -> String {
        text(ns) { w, c in
            w.append(date: c)
            w.append(UInt8(ascii: " "))
            w.append(clock: c)
            w.append(UInt8(ascii: ","))
            w.append(fraction: c, digits: 3)
        }
    }
    /// PostgreSQL's `%m`: `2026-11-21 10:00:00.123 UTC`
    static func postgres(_ ns: Int64) -> String { spring(ns) + " UTC" }
    /// gunicorn: `2026-11-21 10:00:00 +0000`
    static func gunicorn(_ ns: Int64) -> String {
        text(ns) { w, c in
            w.append(date: c)
            w.append(UInt8(ascii: " "))
            w.append(clock: c)
            w.append(" +0000")
        }
    }
    /// Redis: `21 Nov 2026 10:00:00.123`
    static func redis(_ ns: Int64) -> String {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return text(ns) { w, c in
            w.append(decimal: c.day, width: 2)
            w.append(UInt8(ascii: " "))
            w.append(string: months[c.month - 1])
            w.append(UInt8(ascii: " "))
            w.append(decimal: c.year, width: 4)
            w.append(UInt8(ascii: " "))
            w.append(clock: c)
            w.append(UInt8(ascii: "."))
            w.append(fraction: c, digits: 3)
        }
    }
    static func nginx(_ ns: Int64) -> String { text(ns) { $0.append(nginx: $1) } }
    static func klog(_ ns: Int64) -> String { text(ns) { $0.append(klog: $1) } }
    /// zap's default `ts`: seconds since the epoch with microseconds.
    static func epoch(_ ns: Int64) -> String {
        var w = LineWriter(capacity: 20)
        w.append(epochSeconds: ns, digits: 6)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

/// A number as a fixed count of lowercase hex digits (ids, spans, addresses in generated lines).
enum HexNumber {
    static func digits(_ value: UInt64, _ count: Int) -> String {
        var w = LineWriter(capacity: count)
        w.append(hex: value, digits: count)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

/// The trace context a line carries: W3C trace id and the span of the workload logging it.
struct LineTrace: Sendable {
    var trace: String
    var span: String

    var traceparent: String { "00-\(trace)-\(span)-01" }
}

extension String {
    /// JSON string contents: quotes, backslashes and control characters escaped.
    var jsonEscaped: String {
        var out = ""
        out.reserveCapacity(utf8.count + 8)
        for scalar in unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + HexNumber.digits(UInt64(scalar.value), 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A logfmt value: quoted (and escaped) when it holds a space, `=`, a quote or nothing.
    var logfmtValue: String {
        if !isEmpty && !contains(where: { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0 == "\n" || $0 == "\t" }) {
            return self
        }
        return "\"" + jsonEscaped + "\""
    }
}
