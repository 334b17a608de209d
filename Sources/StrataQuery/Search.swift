import StrataCore
import StrataStore

public struct SearchError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The minimal search the collector serves until the full query language lands: every term,
/// phrase and field filter must match (AND), within `[from, to)`.
///
/// Syntax: bare words (`timeout`), quoted phrases (`"connection refused"`), and exact field
/// filters `key:value` for resource attributes (`k8s.pod.name:api-1`), record attributes,
/// `severity:error`, `stream:stderr`, `trace_id:<32 hex>` and `span_id:<16 hex>`.
/// Terms match whole tokens case-insensitively; a phrase matches consecutive words.
public struct SearchRequest: Sendable, Equatable {
    public var terms: [String] = []
    public var phrases: [[String]] = []
    public var fields: [Field] = []
    public var from: Int64 = .min
    public var to: Int64 = .max
    public var limit = 100

    public struct Field: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public init() {}

    public init(query: String, from: Int64 = .min, to: Int64 = .max, limit: Int = 100) throws {
        self.from = from
        self.to = to
        self.limit = limit
        var index = query.startIndex
        while index < query.endIndex {
            let character = query[index]
            if character.isWhitespace {
                index = query.index(after: index)
                continue
            }
            if character == "\"" {
                guard let close = query[query.index(after: index)...].firstIndex(of: "\"") else {
                    let column = query.distance(from: query.startIndex, to: index) + 1
                    throw SearchError("unclosed quote at column \(column): a phrase needs a closing \"")
                }
                let words = Tokenizer.words(of: String(query[query.index(after: index)..<close]))
                if !words.isEmpty { phrases.append(words) }
                index = query.index(after: close)
                continue
            }
            let end = query[index...].firstIndex(where: \.isWhitespace) ?? query.endIndex
            let word = String(query[index..<end])
            if let colon = word.firstIndex(of: ":"), colon != word.startIndex, word.index(after: colon) != word.endIndex {
                fields.append(Field(String(word[..<colon]), String(word[word.index(after: colon)...])))
            } else {
                terms.append(Tokenizer.lowercased(word))
            }
            index = end
        }
    }

    /// The index terms every matching record must have (used to pick candidate blocks).
    var requiredTerms: [String] {
        var result = terms + phrases.flatMap { $0 }
        for field in fields {
            switch field.key {
            case "severity", "level": result.append("severity=" + field.value.lowercased())
            case "trace_id", "span_id": result.append(field.key + "=" + field.value.lowercased())
            default: result.append(field.key + "=" + field.value)
            }
        }
        return result
    }

    /// The definition of a match; the index only narrows down where to look.
    public func matches(_ record: LogRecord) -> Bool {
        guard record.timestamp >= from, record.timestamp < to else { return false }
        for field in fields where !fieldMatches(field, record) { return false }
        if !terms.isEmpty {
            let tokens = Set(Tokenizer.tokens(of: record.body))
            for term in terms where !tokens.contains(term) { return false }
        }
        if !phrases.isEmpty {
            let words = Tokenizer.words(of: record.body)
            for phrase in phrases where !Self.contains(words, phrase) { return false }
        }
        return true
    }

    private func fieldMatches(_ field: Field, _ record: LogRecord) -> Bool {
        switch field.key {
        case "severity", "level": return record.severity?.name == field.value.lowercased()
        case "stream": return record.stream.name == field.value.lowercased()
        case "trace_id": return record.traceID?.description == field.value.lowercased()
        case "span_id": return record.spanID?.description == field.value.lowercased()
        default:
            return record.resource[field.key] == field.value
                || record.attributes.contains { $0.key == field.key && $0.value == field.value }
        }
    }

    static func contains(_ words: [String], _ phrase: [String]) -> Bool {
        guard phrase.count <= words.count else { return false }
        for start in 0...(words.count - phrase.count) where words[start] == phrase[0] {
            if Array(words[start..<start + phrase.count]) == phrase { return true }
        }
        return false
    }
}

/// Runs searches over a store snapshot: candidate blocks from the term index, pruned by time,
/// then every candidate row verified with `SearchRequest.matches`.
public enum Search {
    public struct Result: Sendable {
        /// Newest first, at most `limit`.
        public var records: [LogRecord]
        /// Segments that failed a read during this search (they should be quarantined).
        public var damagedSegments: [(path: String, reason: String)]
    }

    public static func run(_ request: SearchRequest, on snapshot: LogStore.Snapshot) -> Result {
        var matches: [LogRecord] = snapshot.head.filter(request.matches)
        var damaged: [(String, String)] = []
        for segment in snapshot.segments {
            do {
                try scan(segment, request) { matches.append($0) }
            } catch {
                damaged.append((segment.path, "\(error)"))
            }
        }
        matches.sort { $0.timestamp > $1.timestamp }
        if matches.count > request.limit { matches.removeLast(matches.count - request.limit) }
        return Result(records: matches, damagedSegments: damaged)
    }

    public static func count(_ request: SearchRequest, on snapshot: LogStore.Snapshot) throws -> Int {
        var total = snapshot.head.reduce(0) { $0 + (request.matches($1) ? 1 : 0) }
        for segment in snapshot.segments {
            // One term over whole blocks: the per-block counts of the index are the answer.
            if request.requiredTerms.count == 1, request.phrases.isEmpty, request.fields.isEmpty,
                segment.info.minTime >= request.from, segment.info.maxTime < request.to
            {
                total += try segment.count(term: request.requiredTerms[0])
                continue
            }
            try scan(segment, request) { _ in total += 1 }
        }
        return total
    }

    static func scan(_ segment: SegmentReader, _ request: SearchRequest, _ found: (LogRecord) -> Void) throws {
        guard segment.info.maxTime >= request.from, segment.info.minTime < request.to else { return }
        var candidates = Set(segment.blocks(overlapping: request.from, request.to == .max ? .max : request.to - 1))
        for term in Set(request.requiredTerms) where !candidates.isEmpty {
            candidates.formIntersection(try segment.postings(term: term).map(\.block))
        }
        for block in candidates.sorted() {
            let decoded = try segment.readBlock(block)
            for row in 0..<decoded.rowCount {
                let record = decoded.record(at: row)
                if request.matches(record) { found(record) }
            }
        }
    }
}
