import StrataCore

/// A parsed JSON value that keeps object keys in document order (the record model's attribute
/// order matters). Small and strict: enough for the API's answers and the record JSON.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first(where: { $0.0 == key })?.1 }
        return nil
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var number: Double? { if case .number(let n) = self { n } else { nil } }
    public var int: Int? { number.flatMap { $0.isFinite && $0 == $0.rounded() && abs($0) < 9e18 ? Int($0) : nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var members: [(String, JSONValue)]? { if case .object(let m) = self { m } else { nil } }

    public struct ParseError: Error, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    public static func parse(_ text: String) throws -> JSONValue {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.i == bytes.count else { throw ParseError(offset: parser.i, message: "unexpected data after the value") }
        return value
    }

    /// Writes the value back as compact JSON (keys in their order).
    public func write(into json: inout JSONWriter) {
        switch self {
        case .null: json.raw("null")
        case .bool(let b): if b { json.raw("true") } else { json.raw("false") }
        case .number(let n):
            if n == n.rounded(), abs(n) < 9e15 { json.integer(Int64(n)) } else { json.rawString(String(n)) }
        case .string(let s): json.string(s)
        case .array(let items):
            json.raw("[")
            for (i, item) in items.enumerated() {
                if i > 0 { json.raw(",") }
                item.write(into: &json)
            }
            json.raw("]")
        case .object(let members):
            json.raw("{")
            for (i, member) in members.enumerated() {
                if i > 0 { json.raw(",") }
                json.string(member.0)
                json.raw(":")
                member.1.write(into: &json)
            }
            json.raw("}")
        }
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        func fail(_ message: String) -> ParseError { ParseError(offset: i, message: message) }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 200 else { throw fail("nested too deeply") }
            guard i < bytes.count else { throw fail("unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var members: [(String, JSONValue)] = []
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                    i += 1
                    return .object(members)
                }
                while true {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                    let key = try string()
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    i += 1
                    skipSpace()
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end in an object") }
                    if bytes[i] == UInt8(ascii: ",") {
                        i += 1
                        continue
                    }
                    guard bytes[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                    i += 1
                    return .object(members)
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [JSONValue] = []
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                    i += 1
                    return .array(items)
                }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end in an array") }
                    if bytes[i] == UInt8(ascii: ",") {
                        i += 1
                        continue
                    }
                    guard bytes[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                    i += 1
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default:
                let start = i
                while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
                guard i > start, let number = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
                    throw fail("unexpected character")
                }
                return .number(number)
            }
        }

        mutating func literal(_ word: String) throws {
            let utf8 = Array(word.utf8)
            guard i + utf8.count <= bytes.count, Array(bytes[i..<i + utf8.count]) == utf8 else { throw fail("expected \(word)") }
            i += utf8.count
        }

        mutating func string() throws -> String {
            i += 1  // opening quote
            var out: [UInt8] = []
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    return String(decoding: out, as: UTF8.self)
                }
                if b == UInt8(ascii: "\\") {
                    guard i + 1 < bytes.count else { break }
                    let e = bytes[i + 1]
                    i += 2
                    switch e {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if scalar >= 0xD800, scalar < 0xDC00, i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                            i += 2
                            let low = try hex4()
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00)
                        }
                        out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
                    default: out.append(e)
                    }
                    continue
                }
                out.append(b)
                i += 1
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape")
            }
            i += 4
            return value
        }
    }
}

extension LogRecord {
    /// The record from its JSON form (docs/WIRE.md, "JSON record"), as the API returns it.
    public init(json: JSONValue) throws {
        func time(_ key: String) throws -> Int64 {
            if let text = json[key]?.string, let nanos = RFC3339Parser.parse(text) { return nanos }
            if let number = json[key]?.number { return Int64(number) }
            throw JSONValue.ParseError(offset: 0, message: "record lacks a valid \(key)")
        }
        let timestamp = try time("timestamp")
        let observed = (try? time("observed_timestamp")) ?? timestamp
        func attributes(_ key: String) -> [Attribute] {
            (json[key]?.members ?? []).compactMap { member in member.1.string.map { Attribute(member.0, $0) } }
        }
        self.init(
            timestamp: timestamp, observedTimestamp: observed,
            stream: json["stream"]?.string.flatMap { LogStream(name: $0) } ?? .stdout,
            severity: json["severity"]?.string.flatMap { Severity(text: $0) },
            body: json["body"]?.string ?? "",
            traceID: json["trace_id"]?.string.flatMap { TraceID(hex: $0) },
            spanID: json["span_id"]?.string.flatMap { SpanID(hex: $0) },
            attributes: attributes("attributes"),
            resource: Resource(attributes: attributes("resource")),
            flags: RecordFlags(names: (json["flags"]?.array ?? []).compactMap(\.string)))
    }
}
