import Foundation
import Logging
import StrataCore
import StrataStore
import StrataTestSupport

@testable import StrataQuery

extension ScratchDirectory {
    /// A store here with small blocks (many per segment), no retention and no fsync.
    func openStore(maxBlockRows: Int) throws -> LogStore {
        var options = StoreOptions()
        options.retentionNanos = .max / 2
        options.segment.maxBlockRows = maxBlockRows
        options.segment.durable = false
        return try LogStore(directory: path, options: options, logger: silentLogger)
    }
}

let silentLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// The query semantics of docs/QUERY.md written as plainly as possible, independent of the
/// engine's evaluator: what a brute-force scan returns.
enum Reference {
    /// Compiled once per pattern (a test compiles the same few patterns many times).
    nonisolated(unsafe) static var regexes: [String: RE2Regex] = [:]
    static let lock = NSLock()
    static func regex(_ pattern: String) -> RE2Regex? {
        lock.lock()
        defer { lock.unlock() }
        if let cached = regexes[pattern] { return cached }
        let compiled = try? RE2Regex(pattern)
        regexes[pattern] = compiled
        return compiled
    }

    static func matches(_ node: QueryNode, _ record: LogRecord) -> Bool {
        switch node {
        case .all: return true
        case .and(let children): return children.allSatisfy { matches($0, record) }
        case .or(let children): return children.contains { matches($0, record) }
        case .not(let child): return !matches(child, record)
        case .predicate(let predicate): return matches(predicate, record)
        }
    }

    static func matches(_ predicate: QueryPredicate, _ record: LogRecord) -> Bool {
        switch predicate {
        case .token(let token): return Tokenizer.tokens(of: record.body).contains(token)
        case .phrase(let phrase):
            let words = Tokenizer.words(of: record.body)
            guard phrase.count <= words.count else { return false }
            for start in 0...(words.count - phrase.count) where Array(words[start..<start + phrase.count]) == phrase {
                return true
            }
            return false
        case .tokenPrefix(let prefix):
            return Tokenizer.tokens(of: record.body).contains {
                $0.utf8.count <= SegmentFormat.maxTermLength && $0.utf8.starts(with: prefix.utf8)
            }
        case .bodyRegex(let pattern): return regex(pattern)?.matches(record.body) ?? false
        case .field(let field, let match):
            if field == .severity, case .compare(let op, let operand) = match {
                guard let severity = record.severity else { return false }
                return op.holds(Double(severity.rawValue), operand)
            }
            return values(field, record).contains { value in
                switch match {
                case .equals(let expected): return value == expected
                case .prefix(let prefix): return value.utf8.starts(with: prefix.utf8)
                case .regex(let pattern): return regex(pattern)?.matches(value) ?? false
                case .compare(let op, let operand): return NumericValue.parse(value).map { op.holds($0, operand) } ?? false
                case .exists: return true
                }
            }
        }
    }

    static func values(_ field: Field, _ record: LogRecord) -> [String] {
        switch field {
        case .severity: return record.severity.map { [$0.name] } ?? []
        case .stream: return [record.stream.name]
        case .traceID: return record.traceID.map { [$0.description] } ?? []
        case .spanID: return record.spanID.map { [$0.description] } ?? []
        case .flag: return (0..<32).filter { record.flags.rawValue & (1 << UInt32($0)) != 0 }.map(RowEvaluator.flagName(bit:))
        case .template: return []
        case .attribute(let key):
            return record.resource.attributes.filter { $0.key == key }.map(\.value)
                + record.attributes.filter { $0.key == key }.map(\.value)
        }
    }

    static func sorted(_ records: [LogRecord], _ order: ResultOrder) -> [LogRecord] {
        records.map { (OrderKey($0), $0) }.sorted { $0.0.precedes($1.0, in: order) }.map(\.1)
    }
}

/// Random records in the shapes the collector stores (resources, severities, attributes,
/// identifiers in bodies, long values that the index cannot hold).
struct RecordFactory {
    static let vocabulary = [
        "GET", "POST", "/api/v1/orders", "/api/v1/users", "timeout", "Timeout", "connection", "refused", "order",
        "created", "10.1.2.3:8080", "10.1.2.4", "user", "Error", "ERROR", "ok", "com.example.OrderService",
        "retrying", "in", "5s", "status=500", "latency", "bob@example.com", "payment", "failed", "id=42",
        "550e8400-e29b-41d4-a716-446655440000", "ünïcode", "x",
    ]
    static let namespaces = ["shop", "pay"]
    static let pods = ["api-1", "api-2", "db-0", "worker-7"]
    static let containers = ["server", "sidecar"]
    static let users = ["alice", "bob", "Carol"]
    static let base: Int64 = 1_795_255_200_000_000_000
    static let hour: Int64 = 3_600_000_000_000

    static func body(using g: inout some RandomNumberGenerator) -> String {
        var words = (0..<Int.random(in: 1...9, using: &g)).map { _ in vocabulary.randomElement(using: &g)! }
        if Int.random(in: 0..<40, using: &g) == 0 {
            // A token longer than the index keeps.
            words.append("tok" + String(repeating: "z", count: 300))
        }
        return words.joined(separator: Bool.random(using: &g) ? " " : "  ")
    }

    static func record(at timestamp: Int64, using g: inout some RandomNumberGenerator) -> LogRecord {
        var attributes: [Attribute] = []
        if Int.random(in: 0..<3, using: &g) > 0 {
            attributes.append(Attribute("status", ["200", "201", "404", "500", "503", "abc"].randomElement(using: &g)!))
        }
        if Bool.random(using: &g) {
            attributes.append(Attribute("duration_ms", ["0.5", "12", "99.9", "100", "1500", "2e3", "-3", "12ms"].randomElement(using: &g)!))
        }
        if Int.random(in: 0..<3, using: &g) == 0 { attributes.append(Attribute("user", users.randomElement(using: &g)!)) }
        if Int.random(in: 0..<25, using: &g) == 0 {
            attributes.append(Attribute("blob", "start-" + String(repeating: "b", count: 300)))
        }
        var resource = Resource(attributes: [
            Attribute(ResourceKey.namespace, namespaces.randomElement(using: &g)!),
            Attribute(ResourceKey.pod, pods.randomElement(using: &g)!),
            Attribute(ResourceKey.container, containers.randomElement(using: &g)!),
            Attribute(ResourceKey.node, "node-\(Int.random(in: 1...2, using: &g))"),
        ])
        if Int.random(in: 0..<10, using: &g) == 0 { resource["team"] = "payments-" + String(repeating: "t", count: 260) }
        var flags: RecordFlags = []
        if Int.random(in: 0..<6, using: &g) == 0 { flags.insert(.multiline) }
        if Int.random(in: 0..<20, using: &g) == 0 { flags.insert(.truncated) }
        return LogRecord(
            timestamp: timestamp, observedTimestamp: timestamp + Int64.random(in: 0..<1_000_000, using: &g),
            stream: [LogStream.stdout, .stderr].randomElement(using: &g)!,
            severity: [nil, Severity.debug, .info, .warn, .error, .fatal].randomElement(using: &g)!,
            body: body(using: &g),
            traceID: Int.random(in: 0..<4, using: &g) == 0 ? TraceID(high: UInt64.random(in: 1...5, using: &g), low: 7) : nil,
            attributes: attributes, resource: resource, flags: flags)
    }

    /// `count` records over `hours` hours; some share timestamps and some are exact duplicates.
    static func records(_ count: Int, hours: Int, using g: inout some RandomNumberGenerator) -> [LogRecord] {
        var result: [LogRecord] = []
        for _ in 0..<count {
            let choice = Int.random(in: 0..<30, using: &g)
            if choice == 0, let previous = result.randomElement(using: &g) {
                result.append(previous)  // an exact duplicate
                continue
            }
            var timestamp = base + Int64.random(in: 0..<(Int64(hours) * hour), using: &g) / 1000 * 1000
            if choice == 1, let previous = result.randomElement(using: &g) { timestamp = previous.timestamp }
            result.append(record(at: timestamp, using: &g))
        }
        return result
    }
}

/// Random queries over the constructs of the language, as text.
struct QueryFactory {
    static func leaf(using g: inout some RandomNumberGenerator) -> String {
        let word = RecordFactory.vocabulary.randomElement(using: &g)!
        switch Int.random(in: 0..<22, using: &g) {
        case 0, 1: return word.contains("/") || word.contains("=") ? "\"\(word)\"" : word
        case 2: return String(word.prefix(Int.random(in: 1...4, using: &g))).replacingOccurrences(of: "/", with: "") + "*"
        case 3: return "\"\(RecordFactory.vocabulary.randomElement(using: &g)!) \(RecordFactory.vocabulary.randomElement(using: &g)!)\""
        case 4: return "pod:" + RecordFactory.pods.randomElement(using: &g)!
        case 5: return "ns:" + RecordFactory.namespaces.randomElement(using: &g)!
        case 6: return "level:" + ["debug", "info", "WARN", "error", "fatal", "err"].randomElement(using: &g)!
        case 7: return "level:" + [">=", ">", "<", "<="].randomElement(using: &g)! + ["warn", "info", "error", "13"].randomElement(using: &g)!
        case 8: return "status:" + [">=", ">", "<", "<="].randomElement(using: &g)! + ["500", "404", "200.5"].randomElement(using: &g)!
        case 9: return "duration_ms:" + [">", "<=", ">="].randomElement(using: &g)! + ["100", "1e3", "0", "-5"].randomElement(using: &g)!
        case 10: return "status:" + ["500", "200", "abc"].randomElement(using: &g)!
        case 11: return "_exists_:" + ["user", "trace_id", "blob", "duration_ms", "level", "team", "nothing"].randomElement(using: &g)!
        case 12: return "/" + ["time(out|d)", "conn.*refused", "[0-9]{3}", "(?i)error", "^GET", "tok[z]{200}", "ünï", "x$"].randomElement(using: &g)! + "/"
        case 13: return "pod:/" + ["api-[12]", "^db", "7$"].randomElement(using: &g)! + "/"
        case 14: return "pod:" + ["api", "db", "w"].randomElement(using: &g)! + "*"
        case 15: return "stream:" + ["stdout", "stderr"].randomElement(using: &g)!
        case 16: return "user:" + RecordFactory.users.randomElement(using: &g)!
        case 17: return "flag:" + ["multiline", "truncated"].randomElement(using: &g)!
        case 18: return "blob:start*"
        case 19: return "team:/^payments-t+$/"
        case 20: return "container:" + RecordFactory.containers.randomElement(using: &g)!
        default: return "*"
        }
    }

    static func query(depth: Int = 0, using g: inout some RandomNumberGenerator) -> String {
        if depth >= 3 || Int.random(in: 0..<3, using: &g) == 0 { return leaf(using: &g) }
        let a = query(depth: depth + 1, using: &g)
        let b = query(depth: depth + 1, using: &g)
        switch Int.random(in: 0..<7, using: &g) {
        case 0: return "\(a) \(b)"
        case 1: return "\(a) AND \(b)"
        case 2: return "(\(a) OR \(b))"
        case 3: return "NOT (\(a))"
        case 4: return a.hasPrefix("-") || a.hasPrefix("NOT") ? "-(\(a))" : "-\(a)"
        case 5: return "(\(a)) OR NOT \(b)"
        default: return "(\(a) \(b) OR \(leaf(using: &g)))"
        }
    }
}
