import StrataCore
import StrataStore

/// A set of block indexes of one segment, as a bitmap.
struct BlockSet: Equatable {
    private(set) var words: [UInt64]
    let capacity: Int

    init(capacity: Int, full: Bool = false) {
        self.capacity = capacity
        words = [UInt64](repeating: full ? ~0 : 0, count: (capacity + 63) / 64)
        if full { trim() }
    }

    init(capacity: Int, _ members: some Sequence<Int>) {
        self.init(capacity: capacity)
        for member in members { insert(member) }
    }

    private mutating func trim() {
        let extra = words.count * 64 - capacity
        if extra > 0, !words.isEmpty { words[words.count - 1] &= ~0 >> UInt64(extra) }
    }

    mutating func insert(_ block: Int) {
        guard block >= 0, block < capacity else { return }
        words[block >> 6] |= 1 << UInt64(block & 63)
    }

    func contains(_ block: Int) -> Bool {
        block >= 0 && block < capacity && words[block >> 6] & (1 << UInt64(block & 63)) != 0
    }

    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }
    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    mutating func formIntersection(_ other: BlockSet) {
        for i in words.indices { words[i] &= other.words[i] }
    }

    mutating func formUnion(_ other: BlockSet) {
        for i in words.indices { words[i] |= other.words[i] }
    }

    func complement() -> BlockSet {
        var result = self
        for i in result.words.indices { result.words[i] = ~result.words[i] }
        result.trim()
        return result
    }

    var members: [Int] {
        var result: [Int] = []
        for (w, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                result.append(w * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return result
    }
}

/// For one query node and one segment: the blocks where some row MAY match (`possible`, a
/// superset of the truth) and the blocks where EVERY row matches (`certain`, a subset). AND
/// intersects both, OR unites both, NOT swaps them through the complement, so negation is
/// pruned at block granularity too.
struct Candidates {
    var possible: BlockSet
    var certain: BlockSet
}

/// Computes `Candidates` from the segment's term index and block metadata, without reading any
/// block. Posting lists are looked up once per term.
final class SegmentCandidates {
    /// A prefix, range or regex over more index terms than this scans instead.
    static let maxExpandedTerms = 50_000

    let segment: SegmentReader
    private let plan: QueryPlan
    private var postingCache: [String: [Posting]] = [:]
    private var prefixCache: [String: [(term: String, postings: [Posting])]?] = [:]
    private let blockCount: Int
    private(set) var termLookups = 0

    init(segment: SegmentReader, plan: QueryPlan) {
        self.segment = segment
        self.plan = plan
        blockCount = segment.blocks.count
    }

    func candidates() throws -> Candidates {
        try candidates(plan.tree)
    }

    private var all: BlockSet { BlockSet(capacity: blockCount, full: true) }
    private var none: BlockSet { BlockSet(capacity: blockCount) }

    private func candidates(_ node: CompiledNode) throws -> Candidates {
        switch node {
        case .all:
            return Candidates(possible: all, certain: all)
        case .and(let children):
            var result = Candidates(possible: all, certain: all)
            for child in children {
                let c = try candidates(child)
                result.possible.formIntersection(c.possible)
                result.certain.formIntersection(c.certain)
                if result.possible.isEmpty { break }
            }
            return result
        case .or(let children):
            var result = Candidates(possible: none, certain: none)
            for child in children {
                let c = try candidates(child)
                result.possible.formUnion(c.possible)
                result.certain.formUnion(c.certain)
            }
            return result
        case .not(let child):
            let c = try candidates(child)
            return Candidates(possible: c.certain.complement(), certain: c.possible.complement())
        case .test(let index):
            return try candidates(plan.tests[index])
        }
    }

    private func postings(_ term: String) throws -> [Posting] {
        if let cached = postingCache[term] { return cached }
        termLookups += 1
        let result = try segment.postings(term: term)
        postingCache[term] = result
        return result
    }

    /// Terms with `prefix` and their postings; nil when there are too many to expand.
    private func expand(_ prefix: String) throws -> [(term: String, postings: [Posting])]? {
        if let cached = prefixCache[prefix] { return cached }
        termLookups += 1
        let terms = try segment.postings(prefix: prefix, limit: Self.maxExpandedTerms + 1)
        let result = terms.count > Self.maxExpandedTerms ? nil : terms
        prefixCache[prefix] = result
        return result
    }

    /// A body word's blocks. A word shaped like a trace id (32 hex digits) or span id (16) is not
    /// indexed as a body term in the rows whose own id it is (docs/FORMAT.md): those rows are in
    /// the `trace_id=`/`span_id=` postings, possible but not certain (the id field does not say
    /// the body holds it).
    private func bodyWord(_ word: String, into result: inout Candidates) throws {
        fromPostings(try postings(word), into: &result)
        if let field = Self.idField(ofWord: word) {
            for posting in try postings(field + word) { result.possible.insert(posting.block) }
        }
    }

    /// `trace_id=` or `span_id=` for a word of 32 or 16 lowercase hex digits.
    static func idField(ofWord word: String) -> String? {
        guard word.utf8.allSatisfy(isLowerHex) else { return nil }
        switch word.utf8.count {
        case 32: return "trace_id="
        case 16: return "span_id="
        default: return nil
        }
    }

    /// The id fields a body token starting with `prefix` could be the row's own id in.
    static func idFields(forHexPrefix prefix: String) -> [String] {
        guard !prefix.isEmpty, prefix.utf8.allSatisfy(isLowerHex) else { return [] }
        var fields: [String] = []
        if prefix.utf8.count <= 32 { fields.append("trace_id=") }
        if prefix.utf8.count <= 16 { fields.append("span_id=") }
        return fields
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }

    /// Blocks of a posting list, and those whose every row holds the term.
    private func fromPostings(_ postings: [Posting], into result: inout Candidates) {
        for posting in postings {
            result.possible.insert(posting.block)
            if posting.block < blockCount, posting.rows >= segment.blocks[posting.block].rowCount {
                result.certain.insert(posting.block)
            }
        }
    }

    private func candidates(_ test: CompiledTest) throws -> Candidates {
        var result = Candidates(possible: none, certain: none)
        switch test.predicate {
        case .token(let token):
            // Terms beyond the index's length limit are not indexed: scan.
            guard token.utf8.count <= SegmentFormat.maxTermLength else { return Candidates(possible: all, certain: none) }
            try bodyWord(token, into: &result)
        case .phrase(let words):
            result.possible = all
            for word in words where word.utf8.count <= SegmentFormat.maxTermLength {
                var one = Candidates(possible: none, certain: none)
                try bodyWord(word, into: &one)
                result.possible.formIntersection(one.possible)
            }
        case .tokenPrefix(let prefix):
            // Body tokens never hold '=', field terms always do.
            guard let terms = try expand(prefix) else { return Candidates(possible: all, certain: none) }
            for (term, postings) in terms where !term.utf8.contains(UInt8(ascii: "=")) {
                fromPostings(postings, into: &result)
            }
            // A hex prefix may be the start of a row's own trace or span id, indexed only in the field.
            for field in Self.idFields(forHexPrefix: prefix) {
                guard let idTerms = try expand(field + prefix) else { return Candidates(possible: all, certain: none) }
                for (_, postings) in idTerms { for posting in postings { result.possible.insert(posting.block) } }
            }
        case .bodyRegex:
            return Candidates(possible: all, certain: none)
        case .field(let field, let match):
            try fieldCandidates(field, match, test.regex, into: &result)
        }
        return result
    }

    private func fieldCandidates(_ field: Field, _ match: FieldMatch, _ regex: RE2Regex?, into result: inout Candidates) throws {
        let termPrefix = field.name + "="
        let limit = SegmentFormat.maxTermLength
        switch match {
        case .equals(let value):
            let term = termPrefix + value
            if term.utf8.count <= limit {
                fromPostings(try postings(term), into: &result)
            } else {
                result.possible = all
            }
        case .prefix, .exists, .regex, .compare:
            var prefix = termPrefix
            if case .prefix(let valuePrefix) = match { prefix += valuePrefix }
            guard prefix.utf8.count <= limit, let terms = try expand(prefix) else {
                result.possible = all
                return
            }
            for (term, postings) in terms {
                let value = String(term.utf8.dropFirst(termPrefix.utf8.count)) ?? ""
                if Self.valueMatches(field, match, regex, value) { fromPostings(postings, into: &result) }
            }
            // Values too long to be index terms: resources are known exactly from the table;
            // record attributes can be anywhere the attribute column is present.
            if case .attribute(let key) = field, Self.mayHaveUnindexedValues(key: key, match) {
                let matching = segment.resourceIndexes { resource in
                    resource.attributes.contains { $0.key == key && Self.valueMatches(field, match, regex, $0.value) }
                }
                result.possible.formUnion(BlockSet(capacity: blockCount, segment.blocks(withResources: matching)))
                for block in segment.blocks where block.storedBytes(of: .attributes) > 0 {
                    result.possible.insert(block.index)
                }
            }
        }
        // Label pruning from the resource table: a block whose resources all satisfy the
        // predicate matches on every row, whatever the index holds.
        if case .attribute(let key) = field {
            let matching = Set(segment.resourceIndexes { resource in
                resource.attributes.contains { $0.key == key && Self.valueMatches(field, match, regex, $0.value) }
            })
            guard !matching.isEmpty else { return }
            for block in segment.blocks where (block.minResource...block.maxResource).allSatisfy(matching.contains) {
                result.possible.insert(block.index)
                result.certain.insert(block.index)
            }
        }
    }

    /// Whether a value of this key satisfying `match` could be longer than an index term.
    static func mayHaveUnindexedValues(key: String, _ match: FieldMatch) -> Bool {
        switch match {
        case .compare: return key.utf8.count + 1 + 64 > SegmentFormat.maxTermLength  // numbers are ≤ 64 bytes
        case .equals(let value): return key.utf8.count + 1 + value.utf8.count > SegmentFormat.maxTermLength
        case .prefix, .exists, .regex: return true
        }
    }

    /// The same value test the row evaluator applies (`RowEvaluator.fieldMatches`).
    static func valueMatches(_ field: Field, _ match: FieldMatch, _ regex: RE2Regex?, _ value: String) -> Bool {
        switch match {
        case .equals(let expected): return value == expected
        case .prefix(let prefix): return value.hasPrefix(prefix)
        case .regex: return regex?.matches(value) ?? false
        case .exists: return true
        case .compare(let op, let operand):
            if field == .severity {
                guard let severity = Severity(text: value) else { return false }
                return op.holds(Double(severity.rawValue), operand)
            }
            return NumericValue.parse(value).map { op.holds($0, operand) } ?? false
        }
    }
}
