import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import StrataCore
import StrataQuery
import StrataTemplates

#if canImport(Glibc)
import Glibc
#endif

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Search logs: terms, \"phrases\", field:value, /regex/, AND/OR/NOT, numeric comparisons (docs/QUERY.md).",
        discussion: """
            Examples:
              strata query '"connection refused" ns:shop' --since 15m
              strata query 'pod:api-* level:>=warn -healthz' --limit 20
              strata query 'status:>=500' --stats 'count by ns, pod'
              strata query '/time(d )?out/' --histogram 1m
              strata query 'level:error' --data-dir /var/lib/strata --count
            The range defaults to the last hour; results are newest first (--asc for oldest first).
            When a page is full, the cursor for the next page is printed on standard error.
            """)

    @Argument(help: "The query (empty: every record).")
    var query = ""

    @OptionGroup var source: SourceOptions
    @OptionGroup var range: RangeOptions

    @Flag(name: .long, help: "Oldest first.")
    var asc = false

    @Option(name: .long, help: "Most records to print (1-10000).")
    var limit = 100

    @Option(name: .long, help: "Continue after the page that printed this cursor.")
    var cursor: String?

    @Option(name: [.customShort("o"), .long], help: "Output: text, json or raw.")
    var output = "text"

    @Option(name: .long, help: "Colour: auto (when standard output is a terminal), always, never.")
    var color = "auto"

    @Flag(name: .long, help: "Print only the number of matching records.")
    var count = false

    @Option(name: .long, help: "Count matching records by fields, e.g. 'count by ns, pod' or 'count by level'.")
    var stats: String?

    @Option(name: .long, help: "Count matching records per interval (e.g. 1m) as a bar chart (JSON with -o json).")
    var histogram: String?

    func run() async throws {
        guard let format = RecordFormat(rawValue: output) else { throw ValidationError("-o must be text, json or raw") }
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
        let backend = try source.backend()
        let timeRange = try range.resolve()
        let colour = Terminal.colour(color)
        let node: QueryNode
        do {
            node = try QueryParser.parse(query)
        } catch let error as QueryParseError {
            throw CommandFailure("query \(error.description)\n  \(query)\n  \(String(repeating: " ", count: max(0, error.column - 1)))^")
        }
        let formatter = OutputFormatter(colour: colour, query: node)
        if count {
            print(try await backend.count(query, timeRange))
            return
        }
        if let stats {
            let result = try await backend.stats(query, try StatsSpec.parse(stats), timeRange)
            if format == .json {
                printBytes(QueryAPI.stats(result, tookMs: 0))
            } else {
                print(formatter.table(result))
            }
            return
        }
        if let histogram {
            guard let interval = TimeExpression.duration(histogram), interval > 0 else {
                throw ValidationError("--histogram expects an interval like 1m, found '\(histogram)'")
            }
            let result = try await backend.histogram(query, interval, timeRange)
            if format == .json {
                printBytes(QueryAPI.histogram(result, tookMs: 0))
            } else {
                print(formatter.chart(result, width: max(10, Terminal.width() - 40)))
            }
            return
        }
        let page = try await backend.search(query, timeRange, asc ? .oldestFirst : .newestFirst, limit, cursor)
        var out = ""
        for record in page.records {
            out += formatter.line(record, format: format)
            out += "\n"
            if out.utf8.count > 1 << 16 {
                FileHandle.standardOutput.write(Data(out.utf8))
                out = ""
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
        if let next = page.nextCursor {
            FileHandle.standardError.write(Data("-- more: add --cursor \(next)\n".utf8))
        }
    }

    private func printBytes(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }
}

/// Where queries go: a collector over HTTP, or a data directory read in this process with the
/// same engine.
struct SourceOptions: ParsableArguments {
    @Option(name: .long, help: "Collector base URL (default http://127.0.0.1:4180, or $STRATA_COLLECTOR).")
    var collector: String?

    @Option(name: .long, help: "Query a data directory directly, read-only (no collector needed).")
    var dataDir: String?

    @Option(name: .long, help: "Bearer token (or --token-file, or $STRATA_TOKEN).")
    var token: String?

    @Option(name: .long, help: "File holding the bearer token.")
    var tokenFile: String?

    func backend() throws -> QueryBackend {
        if let dataDir {
            guard collector == nil else { throw ValidationError("give --collector or --data-dir, not both") }
            let opened = try DataDirectoryReader.open(dataDir)
            for warning in opened.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            return LocalBackend(engine: QueryEngine(snapshot: opened.view), dataDirectory: dataDir)
        }
        let url = collector ?? ProcessInfo.processInfo.environment["STRATA_COLLECTOR"] ?? "http://127.0.0.1:4180"
        return HTTPBackend(base: url.hasSuffix("/") ? String(url.dropLast()) : url, token: try resolvedToken())
    }

    func resolvedToken() throws -> String? { try clientToken(token, file: tokenFile) }
}

/// The bearer token a client command sends: the flag, else the file, else `$STRATA_TOKEN`.
func clientToken(_ flag: String?, file: String?) throws -> String? {
    if let flag { return flag }
    if let file {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("cannot read --token-file \(file)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return ProcessInfo.processInfo.environment["STRATA_TOKEN"]
}

struct RangeOptions: ParsableArguments {
    @Option(name: .long, help: "How far back from --to (or now): 15m, 2h, 7d. Default: 1h.")
    var since: String?

    @Option(name: .long, help: "Start: RFC 3339 (2026-11-21T10:00:00Z), now-2h, or nanoseconds.")
    var from: String?

    @Option(name: .long, help: "End (included): RFC 3339, now-5m, or nanoseconds. Default: now.")
    var to: String?

    func resolve() throws -> TimeRange {
        do {
            return try TimeExpression.range(since: since, from: from, to: to, now: WallClock.nowNanos())
        } catch let error as QueryError {
            throw ValidationError(error.message)
        }
    }
}

/// A failure at run time (not a usage error): printed without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Terminal {
    static func colour(_ setting: String) -> Bool {
        switch setting {
        case "always": return true
        case "never": return false
        default: return isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        }
    }

    static func width() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 100
    }
}

// MARK: - Backends

struct Page {
    var records: [LogRecord]
    var nextCursor: String?
}

protocol QueryBackend: Sendable {
    func search(_ query: String, _ range: TimeRange, _ order: ResultOrder, _ limit: Int, _ cursor: String?) async throws -> Page
    func count(_ query: String, _ range: TimeRange) async throws -> Int
    func stats(_ query: String, _ fields: [Field], _ range: TimeRange) async throws -> StatsResult
    func histogram(_ query: String, _ interval: Int64, _ range: TimeRange) async throws -> HistogramResult
}

struct LocalBackend: QueryBackend {
    let engine: QueryEngine
    /// Where the collector keeps its template state: `template:<id>` widens to every id of the
    /// same template, as on the collector (docs/API.md).
    var dataDirectory: String?

    func plan(_ query: String) throws -> QueryPlan {
        do {
            var node = try QueryParser.parse(query)
            if query.contains("template"), let dataDirectory {
                let state = URL(fileURLWithPath: dataDirectory).appendingPathComponent("templates.json")
                if let miner = try? TemplateMiner(contentsOf: state) {
                    node = node.expandingTemplateIDs { text in TemplateID(text).map { miner.aliases(of: $0).map(\.description) } }
                }
            }
            return try QueryPlan(node)
        } catch let error as QueryParseError {
            throw CommandFailure("query \(error.description)")
        }
    }

    func warn(_ damaged: [DamagedSegment]) {
        for segment in damaged {
            FileHandle.standardError.write(Data("warning: segment \(segment.path) could not be read and was left out: \(segment.reason)\n".utf8))
        }
    }

    /// Every record with `from <= timestamp < to` (nanoseconds), oldest first, in pages of the
    /// API's largest size joined by its cursor (which neither repeats nor skips records).
    func allRecords(from: Int64, to: Int64) async throws -> [LogRecord] {
        var records: [LogRecord] = []
        var cursor: String?
        repeat {
            let page = try await search("", TimeRange(from: from, to: to), .oldestFirst, Self.pageSize, cursor)
            records += page.records
            cursor = page.nextCursor
        } while cursor != nil
        return records
    }

    static let pageSize = 10_000

    func search(_ query: String, _ range: TimeRange, _ order: ResultOrder, _ limit: Int, _ cursor: String?) async throws -> Page {
        let parsedCursor: Cursor?
        do {
            parsedCursor = try cursor.map { try Cursor(parsing: $0) }
        } catch let error as QueryError {
            throw CommandFailure(error.message)
        }
        let result = try engine.search(try plan(query), range: range, order: order, limit: limit, cursor: parsedCursor)
        warn(result.damagedSegments)
        return Page(records: result.records, nextCursor: result.nextCursor?.description)
    }

    func count(_ query: String, _ range: TimeRange) async throws -> Int {
        let result = try engine.count(try plan(query), range: range)
        warn(result.damagedSegments)
        return result.count
    }

    func stats(_ query: String, _ fields: [Field], _ range: TimeRange) async throws -> StatsResult {
        let result = try engine.stats(try plan(query), by: fields, range: range)
        warn(result.damagedSegments)
        return result
    }

    func histogram(_ query: String, _ interval: Int64, _ range: TimeRange) async throws -> HistogramResult {
        let result = try engine.histogram(try plan(query), interval: interval, range: range)
        warn(result.damagedSegments)
        return result
    }
}

struct HTTPBackend: QueryBackend {
    let base: String
    let token: String?

    static func rangeItems(_ range: TimeRange) -> [URLQueryItem] {
        var items: [URLQueryItem] = []
        if range.from > .min { items.append(URLQueryItem(name: "from", value: String(range.from))) }
        // The API's `to` is inclusive.
        if range.to < .max { items.append(URLQueryItem(name: "to", value: String(range.to - 1))) }
        return items
    }

    func get(_ path: String, _ items: [URLQueryItem]) async throws -> [UInt8] {
        var components = URLComponents(string: base)
        components?.path = path
        components?.queryItems = items
        // '+' is legal in a query string but some servers read it as a space.
        let escaped = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components?.percentEncodedQuery = escaped
        guard let url = components?.string else { throw ValidationError("--collector is not a URL: \(base)") }
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(330))
        } catch {
            throw CommandFailure("cannot reach the collector at \(base): \(error)")
        }
        let body = Array(buffer: try await response.body.collect(upTo: 512 << 20))
        guard response.status.code == 200 else {
            let parsed = try? JSONValue.parse(body)
            let message = parsed?["message"]?.string ?? String(decoding: body, as: UTF8.self)
            throw CommandFailure("collector answered \(response.status.code): \(message)")
        }
        return body
    }

    /// Every record with `from <= timestamp < to` (nanoseconds), oldest first, in pages of the
    /// API's largest size joined by its cursor (which neither repeats nor skips records).
    func allRecords(from: Int64, to: Int64) async throws -> [LogRecord] {
        var records: [LogRecord] = []
        var cursor: String?
        repeat {
            let page = try await search("", TimeRange(from: from, to: to), .oldestFirst, Self.pageSize, cursor)
            records += page.records
            cursor = page.nextCursor
        } while cursor != nil
        return records
    }

    static let pageSize = 10_000

    func search(_ query: String, _ range: TimeRange, _ order: ResultOrder, _ limit: Int, _ cursor: String?) async throws -> Page {
        var items = [URLQueryItem(name: "q", value: query), URLQueryItem(name: "limit", value: String(limit)), URLQueryItem(name: "order", value: order.rawValue)]
        if let cursor { items.append(URLQueryItem(name: "cursor", value: cursor)) }
        let (records, next) = try QueryAPI.decodeSearch(try await get("/api/v1/query", items + Self.rangeItems(range)))
        return Page(records: records, nextCursor: next)
    }

    func count(_ query: String, _ range: TimeRange) async throws -> Int {
        try QueryAPI.decodeCount(try await get("/api/v1/query", [URLQueryItem(name: "q", value: query), URLQueryItem(name: "count", value: "true")] + Self.rangeItems(range)))
    }

    func stats(_ query: String, _ fields: [Field], _ range: TimeRange) async throws -> StatsResult {
        let grouping = fields.isEmpty
            ? URLQueryItem(name: "stats", value: "count") : URLQueryItem(name: "by", value: fields.map(\.name).joined(separator: ","))
        let items = [URLQueryItem(name: "q", value: query), grouping, URLQueryItem(name: "limit", value: "10000")]
        return try QueryAPI.decodeStats(try await get("/api/v1/stats", items + Self.rangeItems(range)))
    }

    func histogram(_ query: String, _ interval: Int64, _ range: TimeRange) async throws -> HistogramResult {
        let items = [URLQueryItem(name: "q", value: query), URLQueryItem(name: "interval", value: "\(interval)ns")]
        return try QueryAPI.decodeHistogram(try await get("/api/v1/stats", items + Self.rangeItems(range)))
    }
}
