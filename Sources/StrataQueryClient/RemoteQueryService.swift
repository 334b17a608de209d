import AsyncHTTPClient
import Foundation
import NIOCore
import StrataCore
import StrataQuery

/// A collector that could not be asked, or that refused: printed as it is, not as a usage error.
public struct QueryClientError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Asks a collector's query API over HTTP (docs/API.md). Here rather than in StrataQuery so that
/// the query engine does not pull in an HTTP client.
public struct RemoteQueryService: QueryService {
    /// `http://host:port`, without a trailing slash.
    public let base: String
    public let token: String?

    public init(base: String, token: String?) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.token = token
    }

    static func rangeItems(_ range: TimeRange) -> [URLQueryItem] {
        var items: [URLQueryItem] = []
        if range.from > .min { items.append(URLQueryItem(name: "from", value: String(range.from))) }
        // The API's `to` is inclusive.
        if range.to < .max { items.append(URLQueryItem(name: "to", value: String(range.to.subtractingSaturated(1)))) }
        return items
    }

    /// `path` with the query items, on this collector.
    func url(_ path: String, _ items: [URLQueryItem]) throws -> String {
        var components = URLComponents(string: base)
        components?.path = path
        components?.queryItems = items
        // '+' is legal in a query string but some servers read it as a space.
        let escaped = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components?.percentEncodedQuery = escaped
        guard let url = components?.string else { throw QueryClientError("--collector is not a URL: \(base)") }
        return url
    }

    /// The body of a 200 answer; any other status becomes an error quoting the collector's message.
    func get(_ path: String, _ items: [URLQueryItem]) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: try url(path, items))
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(330))
        } catch {
            throw QueryClientError("cannot reach the collector at \(base): \(error)")
        }
        let body = Array(buffer: try await response.body.collect(upTo: 512 << 20))
        guard response.status.code == 200 else {
            throw QueryClientError("collector answered \(response.status.code): \(Self.message(body))")
        }
        return body
    }

    /// The `message` of an error answer, else the body as text.
    static func message(_ body: [UInt8]) -> String {
        (try? JSONDecoder().decode(QueryAnswer.Failure.self, from: Data(body)))?.message ?? String(decoding: body, as: UTF8.self)
    }

    public func search(_ query: String, range: TimeRange, order: ResultOrder, limit: Int, cursor: String?) async throws -> QueryPage {
        var items = [
            URLQueryItem(name: "q", value: query), URLQueryItem(name: "limit", value: String(limit)),
            URLQueryItem(name: "order", value: order.rawValue),
        ]
        if let cursor { items.append(URLQueryItem(name: "cursor", value: cursor)) }
        let (records, next) = try QueryAPI.decodeSearch(try await get("/api/v1/query", items + Self.rangeItems(range)))
        return QueryPage(records: records, nextCursor: next)
    }

    public func count(_ query: String, range: TimeRange) async throws -> Int {
        let items = [URLQueryItem(name: "q", value: query), URLQueryItem(name: "count", value: "true")]
        return try QueryAPI.decodeCount(try await get("/api/v1/query", items + Self.rangeItems(range)))
    }

    public func stats(_ query: String, by fields: [Field], range: TimeRange) async throws -> StatsResult {
        let grouping =
            fields.isEmpty
            ? URLQueryItem(name: "stats", value: "count") : URLQueryItem(name: "by", value: fields.map(\.name).joined(separator: ","))
        let items = [URLQueryItem(name: "q", value: query), grouping, URLQueryItem(name: "limit", value: "10000")]
        return try QueryAPI.decodeStats(try await get("/api/v1/stats", items + Self.rangeItems(range)))
    }

    public func histogram(_ query: String, interval: Int64, range: TimeRange) async throws -> HistogramResult {
        let items = [URLQueryItem(name: "q", value: query), URLQueryItem(name: "interval", value: "\(interval)ns")]
        return try QueryAPI.decodeHistogram(try await get("/api/v1/stats", items + Self.rangeItems(range)))
    }

    public func templates(_ query: String, range: TimeRange, limit: Int) async throws -> QueryAnswer.Templates {
        let items = [URLQueryItem(name: "q", value: query), URLQueryItem(name: "limit", value: String(limit))]
        return try QueryAnswer.decode(QueryAnswer.Templates.self, from: try await get("/api/v1/templates", items + Self.rangeItems(range)))
    }

    /// Follows `/api/v1/tail` as server-sent events, reconnecting with `Last-Event-ID` after
    /// failures so that nothing is printed twice; `notice` hears about gaps and reconnections.
    public func tail(_ query: String, _ emit: (LogRecord) -> Void, notice: (String) -> Void) async throws {
        var lastEventID: String?
        var backoff: Duration = .milliseconds(500)
        while !Task.isCancelled {
            var request = HTTPClientRequest(url: try url("/api/v1/tail", [URLQueryItem(name: "q", value: query), URLQueryItem(name: "format", value: "sse")]))
            request.headers.add(name: "Accept", value: "text/event-stream")
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .hours(24 * 365))
                if response.status.code == 400 || response.status.code == 401 || response.status.code == 414 {
                    let body = Array(buffer: try await response.body.collect(upTo: 1 << 20))
                    throw QueryClientError("collector answered \(response.status.code): \(Self.message(body))")
                }
                guard response.status.code == 200 else { throw TailInterruption("collector answered \(response.status.code)") }
                backoff = .milliseconds(500)
                var parser = ServerSentEvents()
                for try await buffer in response.body {
                    for event in parser.feed(Array(buffer: buffer)) {
                        if event.type == "gap" {
                            notice(Self.message(Array(event.data.utf8)))
                            continue
                        }
                        guard !event.data.isEmpty else { continue }
                        emit(try LogRecord(json: try JSONValue.parse(Array(event.data.utf8))))
                        if let id = event.id { lastEventID = id }
                    }
                }
                notice("the collector closed the stream; reconnecting")
            } catch let error as QueryClientError {
                throw error
            } catch {
                if Task.isCancelled { return }
                notice("connection lost (\(error)); reconnecting in \(backoff)")
            }
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }
}

/// A tail connection that ended in a way worth retrying.
struct TailInterruption: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
