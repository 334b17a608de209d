#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataStore

/// A parsed query compiled for execution: regexes compiled once, literals encoded as bytes,
/// and the columns a row needs for its evaluation. Immutable and shareable between threads;
/// each execution thread evaluates rows with its own `RowEvaluator`.
public struct QueryPlan: Sendable, CustomStringConvertible {
    public let root: QueryNode
    /// The predicates of the tree, numbered in the order the tree lists them.
    let tests: [CompiledTest]
    let tree: CompiledNode
    /// Distinct body tokens and token prefixes the tests ask about (as bytes).
    let tokens: [[UInt8]]
    let prefixes: [[UInt8]]
    /// Whether any test needs the body's word list (phrases).
    let needsWords: Bool
    /// The columns evaluating the query on a segment row reads (always with timestamps).
    public let columns: ColumnSet

    public init(_ root: QueryNode) throws {
        self.root = root
        var tests: [CompiledTest] = []
        var tokens: [[UInt8]] = []
        var prefixes: [[UInt8]] = []
        var columns: ColumnSet = [.timestamp]
        var needsWords = false
        func slot(_ value: [UInt8], in list: inout [[UInt8]]) -> Int {
            if let index = list.firstIndex(of: value) { return index }
            list.append(value)
            return list.count - 1
        }
        func compile(_ node: QueryNode) throws -> CompiledNode {
            switch node {
            case .all: return .all
            case .and(let children): return .and(try children.map(compile))
            case .or(let children): return .or(try children.map(compile))
            case .not(let child): return .not(try compile(child))
            case .predicate(let predicate):
                var test = CompiledTest(predicate: predicate)
                switch predicate {
                case .token(let token):
                    test.slot = slot(Array(token.utf8), in: &tokens)
                    columns.insert(.body)
                case .tokenPrefix(let prefix):
                    test.slot = slot(Array(prefix.utf8), in: &prefixes)
                    columns.insert(.body)
                case .phrase(let words):
                    test.words = words.map { Array($0.utf8) }
                    needsWords = true
                    columns.insert(.body)
                case .bodyRegex(let pattern):
                    let regex = try RE2Regex(pattern)
                    test.regex = regex
                    test.literals = Self.asciiLiterals(regex.requiredLiterals)
                    columns.insert(.body)
                case .field(let field, let match):
                    if case .regex(let pattern) = match { test.regex = try RE2Regex(pattern) }
                    columns.formUnion(Self.columns(of: field))
                }
                tests.append(test)
                return .test(tests.count - 1)
            }
        }
        tree = Self.cheapestFirst(try compile(root), tests)
        self.tests = tests
        self.tokens = tokens
        self.prefixes = prefixes
        self.needsWords = needsWords
        self.columns = columns
    }

    /// Reorders the children of every AND and OR so that cheap tests run first: a row is
    /// decided by the first failing (AND) or passing (OR) child, and a severity or stream test
    /// reads a decoded integer where a token test searches and tokenizes the body. The order
    /// does not change what matches.
    static func cheapestFirst(_ node: CompiledNode, _ tests: [CompiledTest]) -> CompiledNode {
        func cost(_ node: CompiledNode) -> Int {
            switch node {
            case .all: return 0
            case .not(let child): return cost(child)
            case .and(let children), .or(let children): return children.map(cost).max() ?? 0
            case .test(let index):
                switch tests[index].predicate {
                case .field(.attribute, _): return 2
                case .field(_, .regex): return 2
                case .field: return 1
                case .token, .tokenPrefix: return 3
                case .phrase: return 4
                case .bodyRegex: return 5
                }
            }
        }
        func reorder(_ node: CompiledNode) -> CompiledNode {
            switch node {
            case .all, .test: return node
            case .not(let child): return .not(reorder(child))
            case .and(let children): return .and(sorted(children.map(reorder)))
            case .or(let children): return .or(sorted(children.map(reorder)))
            }
        }
        func sorted(_ children: [CompiledNode]) -> [CompiledNode] {
            children.enumerated().sorted { (cost($0.element), $0.offset) < (cost($1.element), $1.offset) }.map(\.element)
        }
        return reorder(node)
    }

    /// Parses and compiles `query`.
    public init(query: String) throws {
        try self.init(try QueryParser.parse(query))
    }

    public var description: String { root.description }

    static func columns(of field: Field) -> ColumnSet {
        switch field {
        case .severity: .severity
        case .stream: .stream
        case .traceID: .traceID
        case .spanID: .spanID
        case .flag: .flags
        case .template: .templateID
        case .attribute: [.resource, .attributes]
        }
    }

    /// RE2 lowercases its atoms with Unicode case folding; the prefilter lowercases ASCII only,
    /// so atoms with other bytes are dropped (a weaker, still necessary condition).
    static func asciiLiterals(_ literals: RequiredLiterals) -> [[[UInt8]]] {
        func ascii(_ atom: String) -> Bool { atom.utf8.allSatisfy { $0 < 0x80 } && !atom.isEmpty }
        switch literals {
        case .all: return []
        case .atoms(let atoms):
            let kept = atoms.filter(ascii)
            return kept.isEmpty ? [] : [kept.map { Array($0.utf8) }]
        case .anyOf(let clauses):
            var result: [[[UInt8]]] = []
            for clause in clauses {
                let kept = clause.filter(ascii)
                if kept.isEmpty { return [] }
                result.append(kept.map { Array($0.utf8) })
            }
            return result
        }
    }

    /// The reference definition of a match (without the time range): what the engine must
    /// return, whatever the index says.
    public func matches(_ record: LogRecord) -> Bool {
        let evaluator = RowEvaluator(self)
        var row = RecordRow(record)
        return evaluator.matches(&row)
    }
}

indirect enum CompiledNode: Sendable {
    case all
    case and([CompiledNode])
    case or([CompiledNode])
    case not(CompiledNode)
    case test(Int)
}

extension QueryPlan {
    /// The index terms whose union the whole query is — one exact term (`level:info`, `ns:shop`,
    /// `timeout`) or an OR of them (a bare `INFO` is `info OR severity:info`) — or nil. Posting
    /// lists count rows per block exactly, which answers a count without reading most blocks.
    var indexTermUnion: [String]? {
        switch tree {
        case .test(let index):
            return Self.indexTerm(of: tests[index]).map { [$0] }
        case .or(let children):
            var terms: [String] = []
            for child in children {
                guard case .test(let index) = child, let term = Self.indexTerm(of: tests[index]) else { return nil }
                terms.append(term)
            }
            return terms
        default:
            return nil
        }
    }

    /// The one index term whose rows are exactly the test's matches, if there is one.
    private static func indexTerm(of test: CompiledTest) -> String? {
        let term: String
        switch test.predicate {
        case .token(let token):
            // An id-shaped word is also looked up in its id field: more than one posting list.
            guard SegmentCandidates.idField(ofWord: token) == nil else { return nil }
            term = token
        case .field(let field, .equals(let value)): term = field.term(value)
        default: return nil
        }
        return term.utf8.count <= SegmentFormat.maxTermLength ? term : nil
    }
}

struct CompiledTest: @unchecked Sendable {
    // RE2Regex is immutable and thread-safe; the rest are values.
    var predicate: QueryPredicate
    var slot = 0
    var words: [[UInt8]] = []
    var regex: RE2Regex?
    /// Disjunction of conjunctions of lowercased ASCII atoms the body must contain ([] = none).
    var literals: [[[UInt8]]] = []
}

// MARK: - Rows

/// What evaluation reads from a row; implemented by a stored record and by a decoded block row,
/// so the head and the segments are judged by the same code.
protocol RowSource {
    var timestamp: Int64 { get }
    func withBody<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
    var severity: Severity? { get }
    var stream: LogStream { get }
    var traceID: TraceID? { get }
    var spanID: SpanID? { get }
    var flags: RecordFlags { get }
    var templateID: UInt32 { get }
    /// Calls `body` with each value of attribute `key` (resource first, then the record's)
    /// until it returns true; returns whether it did.
    func anyValue(of key: String, _ body: (String) -> Bool) -> Bool
}

struct RecordRow: RowSource {
    var record: LogRecord
    init(_ record: LogRecord) { self.record = record }
    var timestamp: Int64 { record.timestamp }
    func withBody<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var text = record.body
        return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
    var severity: Severity? { record.severity }
    var stream: LogStream { record.stream }
    var traceID: TraceID? { record.traceID }
    var spanID: SpanID? { record.spanID }
    var flags: RecordFlags { record.flags }
    /// The record model carries no template id yet; head records have none.
    var templateID: UInt32 { 0 }
    func anyValue(of key: String, _ body: (String) -> Bool) -> Bool {
        for attribute in record.resource.attributes where attribute.key == key && body(attribute.value) { return true }
        for attribute in record.attributes where attribute.key == key && body(attribute.value) { return true }
        return false
    }
}

struct BlockRow: RowSource {
    let block: DecodedBlock
    var row = 0
    init(_ block: DecodedBlock) { self.block = block }
    var timestamp: Int64 { block.timestamp(at: row) }
    func withBody<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { block.withBody(at: row, body) }
    var severity: Severity? { block.severities.isEmpty ? nil : block.severities[row] }
    var stream: LogStream { block.streams.isEmpty ? .stdout : block.streams[row] }
    var traceID: TraceID? { block.traceIDs.isEmpty ? nil : block.traceIDs[row] }
    var spanID: SpanID? { block.spanIDs.isEmpty ? nil : block.spanIDs[row] }
    var flags: RecordFlags { block.flags.isEmpty ? [] : block.flags[row] }
    var templateID: UInt32 { block.templateID(at: row) }
    func anyValue(of key: String, _ body: (String) -> Bool) -> Bool {
        if !block.resourceIndexes.isEmpty {
            for attribute in block.resources[Int(block.resourceIndexes[row])].attributes where attribute.key == key && body(attribute.value) {
                return true
            }
        }
        if let value = block.attributeValue(forKey: key, at: row), body(value) { return true }
        return false
    }
}

// MARK: - Evaluation

/// Evaluates a plan on rows, one row at a time, with scratch space reused across rows (so one
/// evaluator per thread). A row's tokens and words are computed at most once, and only when a
/// test asks for them.
final class RowEvaluator {
    let plan: QueryPlan
    private var tokenHits: [Bool]
    private var prefixHits: [Bool]
    private var tokensDone = false
    private var wordBytes: [UInt8] = []
    private var wordEnds: [Int] = []
    private var wordsDone = false
    /// The row's body with ASCII lowercased (index terms are), for substring prefilters.
    private var lowered: [UInt8] = []
    private var loweredCount = 0
    private var loweredDone = false

    init(_ plan: QueryPlan) {
        self.plan = plan
        tokenHits = [Bool](repeating: false, count: plan.tokens.count)
        prefixHits = [Bool](repeating: false, count: plan.prefixes.count)
    }

    func matches<R: RowSource>(_ row: inout R) -> Bool {
        tokensDone = false
        wordsDone = false
        loweredDone = false
        return evaluate(plan.tree, &row)
    }

    private func evaluate<R: RowSource>(_ node: CompiledNode, _ row: inout R) -> Bool {
        switch node {
        case .all: return true
        case .and(let children):
            for child in children where !evaluate(child, &row) { return false }
            return true
        case .or(let children):
            for child in children where evaluate(child, &row) { return true }
            return false
        case .not(let child): return !evaluate(child, &row)
        case .test(let index): return test(plan.tests[index], &row)
        }
    }

    private func test<R: RowSource>(_ test: CompiledTest, _ row: inout R) -> Bool {
        switch test.predicate {
        // A token is a span of the body, lowercased: a body that does not contain its bytes
        // cannot hold it, and a substring search is far cheaper than tokenizing the row.
        case .token:
            guard loweredBodyContains(plan.tokens[test.slot], &row) else { return false }
            computeTokens(&row)
            return tokenHits[test.slot]
        case .tokenPrefix:
            guard loweredBodyContains(plan.prefixes[test.slot], &row) else { return false }
            computeTokens(&row)
            return prefixHits[test.slot]
        case .phrase:
            for word in test.words where !loweredBodyContains(word, &row) { return false }
            computeWords(&row)
            return containsPhrase(test.words)
        case .bodyRegex:
            guard let regex = test.regex else { return false }
            if !test.literals.isEmpty && !literalsSatisfied(test.literals, &row) { return false }
            return row.withBody { regex.matches($0) }
        case .field(let field, let match):
            return fieldMatches(field, match, test.regex, &row)
        }
    }

    private func fieldMatches<R: RowSource>(_ field: Field, _ match: FieldMatch, _ regex: RE2Regex?, _ row: inout R) -> Bool {
        func value(_ text: String) -> Bool {
            switch match {
            case .equals(let expected): return text == expected
            case .prefix(let prefix): return text.hasPrefix(prefix)
            case .regex: return regex?.matches(text) ?? false
            case .compare(let op, let operand): return NumericValue.parse(text).map { op.holds($0, operand) } ?? false
            case .exists: return true
            }
        }
        switch field {
        case .severity:
            guard let severity = row.severity else { return false }
            if case .compare(let op, let operand) = match { return op.holds(Double(severity.rawValue), operand) }
            return value(severity.name)
        case .stream: return value(row.stream.name)
        case .traceID:
            guard let id = row.traceID else { return false }
            return value(id.description)
        case .spanID:
            guard let id = row.spanID else { return false }
            return value(id.description)
        case .flag:
            let flags = row.flags.rawValue
            guard flags != 0 else { return false }
            for bit in 0..<32 where flags & (1 << UInt32(bit)) != 0 {
                if value(Self.flagName(bit: bit)) { return true }
            }
            return false
        case .template:
            let id = row.templateID
            guard id != 0 else { return false }
            return value(String(id))
        case .attribute(let key):
            return row.anyValue(of: key, value)
        }
    }

    static func flagName(bit: Int) -> String {
        let flag = RecordFlags(rawValue: 1 << UInt32(bit))
        return RecordFlags.all.first(where: { $0.0 == flag })?.1 ?? "bit\(bit)"
    }

    // MARK: Body

    private func computeTokens<R: RowSource>(_ row: inout R) {
        guard !tokensDone else { return }
        tokensDone = true
        for i in tokenHits.indices { tokenHits[i] = false }
        for i in prefixHits.indices { prefixHits[i] = false }
        let tokens = plan.tokens
        let prefixes = plan.prefixes
        var tokenHits = self.tokenHits
        var prefixHits = self.prefixHits
        row.withBody { body in
            Tokenizer.forEachToken(in: body) { token in
                for (i, wanted) in tokens.enumerated() where !tokenHits[i] && wanted.count == token.count {
                    if wanted.withUnsafeBytes({ memcmp($0.baseAddress!, token.baseAddress!, token.count) == 0 }) {
                        tokenHits[i] = true
                    }
                }
                guard token.count <= SegmentFormat.maxTermLength else { return }
                for (i, prefix) in prefixes.enumerated() where !prefixHits[i] && prefix.count <= token.count {
                    if prefix.withUnsafeBytes({ memcmp($0.baseAddress!, token.baseAddress!, prefix.count) == 0 }) {
                        prefixHits[i] = true
                    }
                }
            }
        }
        self.tokenHits = tokenHits
        self.prefixHits = prefixHits
    }

    private func computeWords<R: RowSource>(_ row: inout R) {
        guard !wordsDone else { return }
        wordsDone = true
        // Locals, not the stored properties, in the per-word closure: every access to a class's
        // stored property there costs a dynamic exclusivity check.
        var bytes = wordBytes
        var ends = wordEnds
        wordBytes = []
        wordEnds = []
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        row.withBody { body in
            Tokenizer.forEachWord(in: body) { word in
                bytes.append(contentsOf: word)
                ends.append(bytes.count)
            }
        }
        wordBytes = bytes
        wordEnds = ends
    }

    private func containsPhrase(_ phrase: [[UInt8]]) -> Bool {
        let n = wordEnds.count
        guard phrase.count <= n, !phrase.isEmpty else { return false }
        return wordBytes.withUnsafeBytes { bytes -> Bool in
            func word(_ i: Int, equals target: [UInt8]) -> Bool {
                let start = i == 0 ? 0 : wordEnds[i - 1]
                let length = wordEnds[i] - start
                guard length == target.count else { return false }
                return target.withUnsafeBytes { memcmp(bytes.baseAddress! + start, $0.baseAddress!, length) == 0 }
            }
            for start in 0...(n - phrase.count) where word(start, equals: phrase[0]) {
                var all = true
                for k in 1..<phrase.count where !word(start + k, equals: phrase[k]) {
                    all = false
                    break
                }
                if all { return true }
            }
            return false
        }
    }

    /// Whether `needle` occurs in `haystack`: memchr for the first byte, then memcmp.
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        let n = needle.count
        guard n > 0 else { return true }
        guard n <= haystack.count, let base = haystack.baseAddress, let target = needle.baseAddress else { return false }
        let first = Int32(needle[0])
        var offset = 0
        let lastStart = haystack.count - n
        while offset <= lastStart {
            guard let hit = memchr(base + offset, first, lastStart - offset + 1) else { return false }
            let position = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + position, target, n) == 0 { return true }
            offset = position + 1
        }
        return false
    }

    /// Fills `lowered` with the row's body, ASCII lowercased, once per row.
    private func lowerBody<R: RowSource>(_ row: inout R) {
        guard !loweredDone else { return }
        loweredDone = true
        var buffer = lowered
        lowered = []
        loweredCount = row.withBody { body -> Int in
            if buffer.count < body.count { buffer = [UInt8](repeating: 0, count: max(body.count, 2 * buffer.count)) }
            guard let source = body.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
            buffer.withUnsafeMutableBufferPointer { target in
                for i in 0..<body.count {
                    let b = source[i]
                    target[i] = b &- 0x41 < 26 ? b | 0x20 : b
                }
            }
            return body.count
        }
        lowered = buffer
    }

    private func loweredBodyContains<R: RowSource>(_ needle: [UInt8], _ row: inout R) -> Bool {
        lowerBody(&row)
        return lowered.withUnsafeBytes { buffer in
            needle.withUnsafeBytes { Self.contains(UnsafeRawBufferPointer(rebasing: buffer[0..<loweredCount]), $0) }
        }
    }

    /// The regex prefilter: the lowercased body must contain every atom of some clause.
    private func literalsSatisfied<R: RowSource>(_ clauses: [[[UInt8]]], _ row: inout R) -> Bool {
        for clause in clauses where clause.allSatisfy({ loweredBodyContains($0, &row) }) { return true }
        return false
    }
}
