import Foundation
import StrataCore
import StrataStore

/// One page of records, newest or oldest first; `nextCursor` continues after it.
public struct QueryPage: Sendable, Equatable {
    public var records: [LogRecord]
    public var nextCursor: String?

    public init(records: [LogRecord], nextCursor: String?) {
        self.records = records
        self.nextCursor = nextCursor
    }
}

/// What a front end asks of stored logs, wherever they are: `LocalQueryService` reads a data
/// directory in this process, `RemoteQueryService` (module StrataQueryClient) asks a collector's
/// query API. A new front end (console, another protocol) takes any `QueryService` and needs
/// to know neither (docs/ARCHITECTURE.md, "Query service").
public protocol QueryService: Sendable {
    func search(_ query: String, range: TimeRange, order: ResultOrder, limit: Int, cursor: String?) async throws -> QueryPage
    func count(_ query: String, range: TimeRange) async throws -> Int
    func stats(_ query: String, by fields: [Field], range: TimeRange) async throws -> StatsResult
    func histogram(_ query: String, interval: Int64, range: TimeRange) async throws -> HistogramResult
    /// The message templates of the matching records, most frequent first (docs/TEMPLATES.md).
    func templates(_ query: String, range: TimeRange, limit: Int) async throws -> QueryAnswer.Templates
}

extension QueryService {
    /// Each label `strata labels` knows by short name with its number of values in the range.
    public func labels(_ query: String, range: TimeRange) async throws -> QueryAnswer.Labels {
        var labels: [QueryAnswer.Labels.Label] = []
        for name in StatsSpec.labels {
            let field = Field(name: name)
            labels.append(.init(label: name, field: field, counts: try await stats(query, by: [field], range: range)))
        }
        return QueryAnswer.Labels(labels: labels)
    }

    /// Every record with `from <= timestamp < to` (nanoseconds), oldest first, in pages of the
    /// API's largest size joined by its cursor (which neither repeats nor skips records).
    public func allRecords(from: Int64, to: Int64) async throws -> [LogRecord] {
        var records: [LogRecord] = []
        var cursor: String?
        repeat {
            let page = try await search("", range: TimeRange(from: from, to: to), order: .oldestFirst, limit: QueryServiceLimits.pageSize, cursor: cursor)
            records += page.records
            cursor = page.nextCursor
        } while cursor != nil
        return records
    }
}

public enum QueryServiceLimits {
    /// The query API's largest page.
    public static let pageSize = 10_000
    /// The most groups one `count by` answers (the API's limit too).
    public static let maxGroups = 10_000
}

/// A request the service cannot run: a query that does not parse, a bad cursor. Not a usage
/// error of a front end: it is printed as it is.
public struct QueryServiceError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What the template miner knows, as the query side needs it: `template:<id>` widens to every
/// id of the same template, listings show the live id and its text.
public protocol TemplateCatalog: Sendable {
    /// Every id of the template `id` names, or nil for an id that is not one.
    func aliases(of id: String) -> [String]?
    /// The live id a stored (possibly retired) id resolves to.
    func resolve(_ id: String) -> String
    func text(of id: String) -> String?
}

/// Queries a snapshot of a data directory in this process, with the collector's engine.
public struct LocalQueryService: QueryService {
    public let engine: QueryEngine
    public let catalog: (any TemplateCatalog)?
    /// Told about segments that could not be read and were left out.
    public let warn: @Sendable (String) -> Void

    public init(engine: QueryEngine, catalog: (any TemplateCatalog)? = nil, warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.engine = engine
        self.catalog = catalog
        self.warn = warn
    }

    /// A read-only snapshot of `directory` as it is now; a collector may keep writing it.
    public init(dataDirectory directory: String, catalog: (any TemplateCatalog)? = nil, warn: @escaping @Sendable (String) -> Void = { _ in }) throws {
        let snapshot = try Self.snapshot(of: directory, warn: warn)
        self.init(engine: QueryEngine(snapshot: snapshot), catalog: catalog, warn: warn)
    }

    /// The one place a data directory is opened for reading (queries, listings, diagnosis).
    public static func snapshot(of directory: String, warn: @Sendable (String) -> Void) throws -> QueryEngine.StoreView {
        let opened = try DataDirectoryReader.open(directory)
        for warning in opened.warnings { warn(warning) }
        return opened.view
    }

    func parse(_ query: String) throws -> QueryNode {
        do {
            var node = try QueryParser.parse(query)
            if let catalog { node = node.expandingTemplateIDs { catalog.aliases(of: $0) } }
            return node
        } catch let error as QueryParseError {
            throw QueryServiceError("query \(error.description)")
        }
    }

    func plan(_ query: String) throws -> QueryPlan {
        let node = try parse(query)
        do {
            return try QueryPlan(node)
        } catch let error as QueryParseError {
            throw QueryServiceError("query \(error.description)")
        }
    }

    func report(_ damaged: [DamagedSegment]) {
        for segment in damaged { warn("segment \(segment.path) could not be read and was left out: \(segment.reason)") }
    }

    public func search(_ query: String, range: TimeRange, order: ResultOrder, limit: Int, cursor: String?) async throws -> QueryPage {
        let parsedCursor: Cursor?
        do {
            parsedCursor = try cursor.map { try Cursor(parsing: $0) }
        } catch let error as QueryError {
            throw QueryServiceError(error.message)
        }
        let result = try engine.search(try plan(query), range: range, order: order, limit: limit, cursor: parsedCursor)
        report(result.damagedSegments)
        return QueryPage(records: result.records, nextCursor: result.nextCursor?.description)
    }

    public func count(_ query: String, range: TimeRange) async throws -> Int {
        let result = try engine.count(try plan(query), range: range)
        report(result.damagedSegments)
        return result.count
    }

    public func stats(_ query: String, by fields: [Field], range: TimeRange) async throws -> StatsResult {
        let result = try engine.stats(try plan(query), by: fields, range: range)
        report(result.damagedSegments)
        return result
    }

    public func histogram(_ query: String, interval: Int64, range: TimeRange) async throws -> HistogramResult {
        let result = try engine.histogram(try plan(query), interval: interval, range: range)
        report(result.damagedSegments)
        return result
    }

    public func templates(_ query: String, range: TimeRange, limit: Int) async throws -> QueryAnswer.Templates {
        let node: QueryNode
        do {
            node = try QueryParser.parse(query)
        } catch let error as QueryParseError {
            throw QueryServiceError(error.description)
        }
        return try TemplateListing.list(engine: engine, catalog: catalog, query: node, range: range, limit: limit)
    }
}
