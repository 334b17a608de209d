import StrataCore
import StrataStore

public struct SearchError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The first search API (issue 3), kept for its callers: a query string, a time range and a
/// limit, answered newest first by `QueryEngine`. New code uses `QueryPlan` and `QueryEngine`.
public struct SearchRequest: Sendable {
    public var plan: QueryPlan
    public var from: Int64 = .min
    public var to: Int64 = .max
    public var limit = 100

    /// Parses `query` (the full language of docs/QUERY.md); a parse error is a `SearchError`
    /// whose description starts with the column.
    public init(query: String, from: Int64 = .min, to: Int64 = .max, limit: Int = 100) throws {
        do {
            plan = try QueryPlan(query: query)
        } catch let error as QueryParseError {
            throw SearchError(error.description)
        }
        self.from = from
        self.to = to
        self.limit = limit
    }

    var range: TimeRange { TimeRange(from: from, to: to) }

    /// The definition of a match; the index only narrows down where to look.
    public func matches(_ record: LogRecord) -> Bool {
        range.contains(record.timestamp) && plan.matches(record)
    }
}

public enum Search {
    public struct Result: Sendable {
        /// Newest first, at most `limit`.
        public var records: [LogRecord]
        /// Segments that failed a read during this search (they should be quarantined).
        public var damagedSegments: [(path: String, reason: String)]
    }

    public static func run(_ request: SearchRequest, on snapshot: LogStore.Snapshot) -> Result {
        do {
            let result = try QueryEngine(snapshot: snapshot).search(request.plan, range: request.range, limit: request.limit)
            return Result(records: result.records, damagedSegments: result.damagedSegments.map { ($0.path, $0.reason) })
        } catch {
            // Without a deadline the engine fails only on cancellation.
            return Result(records: [], damagedSegments: [])
        }
    }

    public static func count(_ request: SearchRequest, on snapshot: LogStore.Snapshot) throws -> Int {
        try QueryEngine(snapshot: snapshot).count(request.plan, range: request.range).count
    }
}
