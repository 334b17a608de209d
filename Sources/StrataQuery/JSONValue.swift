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

    /// Parsed by StrataCore's `JSONScanner` (the one JSON syntax the project accepts); this
    /// type only builds the ordered tree from what it scans.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        do throws(JSONSyntaxError) {
            return try bytes.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) -> JSONValue in
                var scanner = JSONScanner(buffer)
                let value = try scanner.treeValue(depth: 0)
                try scanner.finish()
                return value
            }
        } catch {
            throw ParseError(offset: error.offset, message: error.problem)
        }
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
}

extension JSONScanner {
    /// The next value as a `JSONValue`, object members in document order.
    fileprivate mutating func treeValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        switch try peekValue() {
        case .string:
            return .string(string(try readString()))
        case .number:
            let range = try readNumber()
            return .number(Double(text(range)) ?? .nan)
        case .literal:
            switch try readLiteral() {
            case .true: return .bool(true)
            case .false: return .bool(false)
            case .null: return .null
            }
        case .object:
            guard depth < JSONScanner.maxDepth else { throw JSONSyntaxError(offset: position, problem: "nested too deeply") }
            try enterObject()
            var members: [(String, JSONValue)] = []
            while let key = try nextKey() {
                members.append((string(key), try treeValue(depth: depth + 1)))
            }
            return .object(members)
        case .array:
            guard depth < JSONScanner.maxDepth else { throw JSONSyntaxError(offset: position, problem: "nested too deeply") }
            try enterArray()
            var items: [JSONValue] = []
            while try nextElement() { items.append(try treeValue(depth: depth + 1)) }
            return .array(items)
        }
    }
}

extension LogRecord {
    /// The record from its JSON form (docs/WIRE.md, "JSON record"), as the API returns it.
    public init(json: JSONValue) throws {
        func time(_ key: String) throws -> Int64 {
            if let text = json[key]?.string, let nanos = RFC3339Parser.parse(text) { return nanos }
            // Out of Int64's range is a bad answer, not a trap.
            if let number = json[key]?.number, let nanos = Int64(exactly: number.rounded()) { return nanos }
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
