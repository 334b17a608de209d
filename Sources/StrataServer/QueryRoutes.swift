import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import StrataCore
import StrataQuery
import StrataStore
import StrataTemplates
import Synchronization

/// The query API (docs/API.md, docs/openapi.yaml): `/api/v1/query`, `/api/v1/stats`,
/// `/api/v1/labels`, `/api/v1/tail`. Every answer is JSON (or an event stream for tail);
/// errors are `{code, message}` with a 4xx/5xx status.
extension CollectorServer {
    func registerQueryRoutes(on router: RouterGroup<CollectorRequestContext>) {
        let miner = templates.miner
        let routes = QueryRoutes(
            store: store,
            templateAliases: { text in TemplateID(text).map { miner.aliases(of: $0).map(\.description) } },
            tails: tails)
        router.get("/api/v1/query") { request, _ in await routes.query(request) }
        router.get("/api/v1/stats") { request, _ in await routes.stats(request) }
        router.get("/api/v1/labels") { request, _ in await routes.labels(request) }
        router.get("/api/v1/tail") { request, context in routes.tail(request, context: context) }
        router.get("/api/v1/templates") { request, _ in await routes.templates(request, miner: miner) }
    }
}

/// Limits of the query API.
public enum QueryLimits {
    public static let maxQueryBytes = 4096
    public static let maxLimit = QueryServiceLimits.pageSize
    public static let defaultLimit = 100
    public static let maxGroups = QueryServiceLimits.maxGroups
    public static let defaultTimeout: Duration = .seconds(30)
    public static let maxTimeout: Duration = .seconds(300)
}

final class QueryRoutes: Sendable {
    let store: LogStore
    let tailFeed: TailFeed
    let tails: TailAdmission
    /// Every id of the template an id names (docs/TEMPLATES.md, "Ids"), for `template:<id>`.
    let templateAliases: @Sendable (String) -> [String]?

    init(
        store: LogStore,
        templateAliases: @escaping @Sendable (String) -> [String]? = { _ in nil },
        tails: TailAdmission
    ) {
        self.store = store
        self.templateAliases = templateAliases
        self.tails = tails
        tailFeed = TailFeed(store: store)
    }

    /// A failed request: status, code, message.
    struct Failure: Error {
        var status: Int
        var code: String
        var message: String
        init(_ status: Int, _ code: String, _ message: String) {
            self.status = status
            self.code = code
            self.message = message
        }
        init(_ error: QueryError) {
            let status: Int
            switch error.code {
            case .timeout: status = 504
            case .cancelled: status = 503
            default: status = 400
            }
            self.init(status, error.code.rawValue, error.message)
        }
    }

    static func respond(_ body: [UInt8], status: Int = 200) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func respond(_ failure: Failure) -> Response {
        respond(QueryAPI.error(code: failure.code, message: failure.message), status: failure.status)
    }

    /// Common parameters: `q`, the time range, the timeout (the token is checked before, by
    /// `BearerTokenAuthenticator`).
    struct Common {
        var parameters: [String: String]
        var node: QueryNode
        var plan: QueryPlan
        var range: TimeRange
        var deadline: Deadline
        var timeout: Duration
    }

    func common(_ request: Request) throws -> Common {
        let parameters = formParameters(request.uri.query)
        let text = parameters["q"] ?? ""
        guard text.utf8.count <= QueryLimits.maxQueryBytes else {
            throw Failure(414, "query_too_long", "queries are limited to \(QueryLimits.maxQueryBytes) bytes; this one has \(text.utf8.count)")
        }
        let node: QueryNode
        let plan: QueryPlan
        do {
            node = try QueryParser.parse(text).expandingTemplateIDs(templateAliases)
            plan = try QueryPlan(node)
        } catch let error as QueryParseError {
            throw Failure(400, "bad_query", error.description)
        }
        let range = try TimeExpression.range(
            since: parameters["since"], from: parameters["from"], to: parameters["to"], now: WallClock.nowNanos())
        var timeout = QueryLimits.defaultTimeout
        if let text = parameters["timeout"] {
            guard let nanos = TimeExpression.duration(text), nanos > 0 else {
                throw Failure(400, "bad_parameter", "timeout must be a duration like 10s, found '\(text)'")
            }
            timeout = min(.nanoseconds(nanos), QueryLimits.maxTimeout)
        }
        return Common(parameters: parameters, node: node, plan: plan, range: range, deadline: Deadline(timeout: timeout), timeout: timeout)
    }

    static func integer(_ parameters: [String: String], _ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = parameters[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw Failure(400, "bad_parameter", "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
        }
        return number
    }

    /// Queries running now; beyond `maxConcurrent` new ones are refused with 503.
    private let running = Mutex(0)
    static let maxConcurrent = 8

    /// Time since the request arrived, for `took_ms`: the body reads it when it hands its result
    /// to the encoder, so the figure covers parsing, admission and execution.
    struct Stopwatch: Sendable {
        let started = ContinuousClock.now
        var milliseconds: Double {
            let elapsed = ContinuousClock.now - started
            return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        }
    }

    /// Runs `body`, mapping errors to answers.
    func handle(_ request: Request, _ body: @escaping @Sendable (Common, Stopwatch) throws -> [UInt8]) async -> Response {
        let stopwatch = Stopwatch()
        do {
            var common = try common(request)
            let admitted = running.withLock { count -> Bool in
                guard count < Self.maxConcurrent else { return false }
                count += 1
                return true
            }
            guard admitted else {
                var response = Self.respond(Failure(503, "too_many_queries", "\(Self.maxConcurrent) queries are running; retry shortly"))
                response.headers[.retryAfter] = "1"
                return response
            }
            defer { running.withLock { $0 -= 1 } }
            // The engine is synchronous and CPU-bound: it runs on its own thread, not on the
            // few threads Swift concurrency shares with request handling and ingest, and is
            // cancelled when the client goes away.
            let cancellation = Deadline.Cancellation()
            common.deadline = Deadline(timeout: common.timeout, cancellation: cancellation)
            let frozen = common
            let bytes = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], Error>) in
                    let thread = Thread {
                        continuation.resume(with: Result { try body(frozen, stopwatch) })
                    }
                    thread.stackSize = 8 << 20
                    thread.start()
                }
            } onCancel: {
                cancellation.cancel()
            }
            return Self.respond(bytes)
        } catch let failure as Failure {
            return Self.respond(failure)
        } catch let error as QueryError {
            return Self.respond(Failure(error))
        } catch {
            return Self.respond(Failure(500, "internal_error", "\(error)"))
        }
    }

    func quarantine(_ damaged: [DamagedSegment]) {
        for segment in damaged { store.quarantine(segmentPath: segment.path, reason: segment.reason) }
    }

    // MARK: Endpoints

    /// `GET /api/v1/query?q=&since=|from=&to=&limit=&order=desc|asc&cursor=&count=true&timeout=`
    func query(_ request: Request) async -> Response {
        let store = self.store
        return await handle(request) { [self] common, stopwatch in
            let engine = QueryEngine(snapshot: store.snapshot())
            let p = common.parameters
            if p["count"] == "true" {
                let result = try engine.count(common.plan, range: common.range, deadline: common.deadline)
                quarantine(result.damagedSegments)
                return QueryAPI.count(result, tookMs: stopwatch.milliseconds)
            }
            let limit = try Self.integer(p, "limit", default: QueryLimits.defaultLimit, in: 1...QueryLimits.maxLimit)
            let order: ResultOrder
            switch p["order"] ?? "desc" {
            case "desc": order = .newestFirst
            case "asc": order = .oldestFirst
            case let other: throw Failure(400, "bad_parameter", "order must be desc or asc, found '\(other)'")
            }
            let cursor = try p["cursor"].flatMap { $0.isEmpty ? nil : try Cursor(parsing: $0) }
            let result = try engine.search(
                common.plan, range: common.range, order: order, limit: limit, cursor: cursor, deadline: common.deadline)
            quarantine(result.damagedSegments)
            return QueryAPI.search(result, tookMs: stopwatch.milliseconds)
        }
    }

    /// `GET /api/v1/stats?q=&by=ns,pod` (or `stats=count by ns, pod`), or `&interval=1m` for a
    /// histogram; `limit` caps the groups (default 1000).
    func stats(_ request: Request) async -> Response {
        let store = self.store
        return await handle(request) { [self] common, stopwatch in
            let engine = QueryEngine(snapshot: store.snapshot())
            let p = common.parameters
            if let intervalText = p["interval"] {
                guard let interval = TimeExpression.duration(intervalText), interval > 0 else {
                    throw Failure(400, "bad_parameter", "interval must be a duration like 1m, found '\(intervalText)'")
                }
                let result = try engine.histogram(common.plan, interval: interval, range: common.range, deadline: common.deadline)
                quarantine(result.damagedSegments)
                return QueryAPI.histogram(result, tookMs: stopwatch.milliseconds)
            }
            let fields: [Field]
            if let by = p["by"] {
                fields = try StatsSpec.parse("count by " + by)
            } else {
                fields = try StatsSpec.parse(p["stats"] ?? "count")
            }
            let limit = try Self.integer(p, "limit", default: 1000, in: 1...QueryLimits.maxGroups)
            let result = try engine.stats(common.plan, by: fields, range: common.range, limit: limit, deadline: common.deadline)
            quarantine(result.damagedSegments)
            return QueryAPI.stats(result, tookMs: stopwatch.milliseconds)
        }
    }

    /// `GET /api/v1/labels[?name=pod]`: the values of a label with their record counts in the
    /// range (`q` narrows it); without `name`, each known label with its number of values.
    func labels(_ request: Request) async -> Response {
        let store = self.store
        return await handle(request) { [self] common, stopwatch in
            let engine = QueryEngine(snapshot: store.snapshot())
            let p = common.parameters
            if let name = p["name"], !name.isEmpty {
                let limit = try Self.integer(p, "limit", default: 1000, in: 1...QueryLimits.maxGroups)
                let result = try engine.stats(common.plan, by: [Field(name: name)], range: common.range, limit: limit, deadline: common.deadline)
                quarantine(result.damagedSegments)
                return QueryAPI.stats(result, tookMs: stopwatch.milliseconds)
            }
            var labels: [QueryAnswer.Labels.Label] = []
            for label in StatsSpec.labels {
                let field = Field(name: label)
                let result = try engine.stats(common.plan, by: [field], range: common.range, limit: QueryLimits.maxGroups, deadline: common.deadline)
                quarantine(result.damagedSegments)
                labels.append(.init(label: label, field: field, counts: result))
            }
            return QueryAPI.labels(QueryAnswer.Labels(labels: labels), tookMs: stopwatch.milliseconds)
        }
    }

    /// `GET /api/v1/tail?q=&format=sse|ndjson`: new matching records as they are stored.
    /// Server-sent events carry `id: <epoch>-<n>`; reconnecting with `Last-Event-ID` (or
    /// `cursor=`) continues exactly after that event while the server still holds it.
    ///
    /// A stream holds at most one write of `TailFeed.writeChunkBytes` beyond what the connection
    /// buffers: it waits for its client before taking more from the store. A client that lags
    /// behind what the store holds gets a `gap` event saying how many records it missed; one
    /// that takes nothing for `http.tail_stall_timeout` is disconnected.
    func tail(_ request: Request, context: CollectorRequestContext) -> Response {
        let common: Common
        do {
            common = try self.common(request)
        } catch let failure as Failure {
            return Self.respond(failure)
        } catch let error as QueryError {
            return Self.respond(Failure(error))
        } catch {
            return Self.respond(Failure(500, "internal_error", "\(error)"))
        }
        let ticket: TailAdmission.Ticket
        switch tails.admit(context.caller) {
        case .admitted(let admitted):
            ticket = admitted
        case .refused(let message):
            var response = Self.respond(Failure(429, "too_many_tails", message))
            response.headers[.retryAfter] = "10"
            return response
        }
        let sse = (common.parameters["format"] ?? "sse") != "ndjson"
        let resume = request.headers[.lastEventID] ?? common.parameters["cursor"]
        let feed = self.tailFeed
        let plan = common.plan
        let channel = context.channel
        let stallTimeout = tails.limits.tailStallTimeout
        let body = ResponseBody { writer in
            // Holds the stream's place among the admitted tails until the body ends.
            let ticket = ticket
            let stall = StalledWrite(channel: channel, timeout: stallTimeout, onStall: ticket.countStall)
            func gapEvent(_ message: String) -> [UInt8] {
                ticket.countGap()
                let json = QueryAPI.error(code: "gap", message: message)
                return sse ? Array("event: gap\ndata: ".utf8) + json.dropLast(json.last == 0x0A ? 1 : 0) + Array("\n\n".utf8) : json
            }
            let subscription = feed.subscribe(resumingAfter: resume)
            var position = subscription.position
            if let gap = subscription.gap {
                try await stall.guarding { try await writer.write(ByteBuffer(bytes: gapEvent(gap))) }
            } else if sse {
                try await stall.guarding { try await writer.write(ByteBuffer(string: ": following\n\n")) }
            }
            var lastWrite = ContinuousClock.now
            // Ends with the client (`ConnectionGuard` closes the connection when the client hangs
            // up, `StalledWrite` when it stops reading), or when the collector shuts down (so it
            // need not wait).
            while !Task.isCancelled && !Task.isShuttingDownGracefully && channel.isActive {
                let arrivals = feed.store.arrivals(after: position, limit: TailFeed.batchLimit)
                var out: [UInt8] = []
                if arrivals.missed > 0 {
                    out += gapEvent("\(arrivals.missed) records passed while this stream lagged behind and were not delivered")
                }
                for (offset, record) in arrivals.records.enumerated() where plan.matches(record) {
                    var json = JSONWriter()
                    record.writeJSON(into: &json)
                    if sse {
                        out += Array("id: \(feed.epoch)-\(arrivals.first + UInt64(offset))\ndata: ".utf8)
                        out += json.bytes
                        out += Array("\n\n".utf8)
                    } else {
                        out += json.bytes
                        out.append(0x0A)
                    }
                    if out.count >= TailFeed.writeChunkBytes {
                        let chunk = out
                        try await stall.guarding { try await writer.write(ByteBuffer(bytes: chunk)) }
                        out.removeAll(keepingCapacity: true)
                        lastWrite = ContinuousClock.now
                    }
                }
                position = arrivals.through
                if !out.isEmpty {
                    let chunk = out
                    try await stall.guarding { try await writer.write(ByteBuffer(bytes: chunk)) }
                    lastWrite = ContinuousClock.now
                } else if ContinuousClock.now - lastWrite > .seconds(15) {
                    // Keeps proxies from closing an idle stream, and notices a gone client.
                    try await stall.guarding { try await writer.write(ByteBuffer(string: sse ? ": keepalive\n\n" : "\n")) }
                    lastWrite = ContinuousClock.now
                }
                if arrivals.records.count < TailFeed.batchLimit {
                    try await Task.sleep(for: TailFeed.pollInterval)
                } else {
                    // More is waiting: no pause, but other streams and requests get their turn.
                    await Task.yield()
                }
            }
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: sse ? "text/event-stream" : "application/x-ndjson", .cacheControl: "no-cache"]
        headers[.init("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: body)
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}

/// Where `tail` streams start: the store numbers records in the order it received them
/// (`LogStore.arrivals(after:)`); an event id is `<epoch>-<arrival number>`, the epoch naming
/// this collector's run, since the numbers start over when the store is opened again.
final class TailFeed: Sendable {
    let store: LogStore
    let epoch = String(UInt64.random(in: 1...UInt64.max), radix: 36)
    /// How often a stream asks the store for new records.
    static let pollInterval: Duration = .milliseconds(200)
    /// Records taken from the store at a time by one stream: what a stream blocked on its client
    /// holds (shared with the store, but each a copy of the record's fields).
    static let batchLimit = 1_000
    /// A stream writes once it has this much: what it holds beyond the connection's own buffer.
    static let writeChunkBytes = 64 << 10

    init(store: LogStore) { self.store = store }

    struct Subscription {
        /// The arrival number to follow after.
        var position: UInt64
        var gap: String?
    }

    /// Starts following now, or right after `cursor` (`<epoch>-<n>`) when the store still holds
    /// what followed it.
    func subscribe(resumingAfter cursor: String?) -> Subscription {
        let now = store.latestArrival
        guard let cursor, !cursor.isEmpty else { return Subscription(position: now) }
        let parts = cursor.split(separator: "-")
        guard parts.count == 2, String(parts[0]) == epoch, let number = UInt64(parts[1]), number <= now else {
            return Subscription(
                position: now, gap: "cannot resume after '\(cursor)': the collector restarted or the stream is unknown; following from now")
        }
        let missed = store.arrivals(after: number, limit: 0).missed
        if missed > 0 {
            return Subscription(
                position: now, gap: "cannot resume after '\(cursor)': \(missed) records passed since and are no longer held; following from now")
        }
        return Subscription(position: number)
    }
}

/// The query string decoded as an HTML form does (`application/x-www-form-urlencoded`):
/// `+` is a space, `%2B` a plus. Python's `urlencode`, browsers and `curl -G --data-urlencode`
/// write spaces as `+`; Hummingbird's own decoding keeps the `+`. A later repeat of a key wins.
func formParameters(_ query: String?) -> [String: String] {
    var parameters: [String: String] = [:]
    guard let query, !query.isEmpty else { return parameters }
    func decode(_ part: Substring) -> String {
        let spaced = part.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
    for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
        let key: Substring
        let value: Substring
        if let equals = pair.firstIndex(of: "=") {
            key = pair[..<equals]
            value = pair[pair.index(after: equals)...]
        } else {
            key = pair
            value = ""
        }
        parameters[decode(key)] = decode(value)
    }
    return parameters
}
