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
    func registerQueryRoutes(on router: Router<BasicRequestContext>) {
        let miner = templates.miner
        let routes = QueryRoutes(
            store: store, authorize: { [self] in authorized($0) },
            templateAliases: { text in TemplateID(text).map { miner.aliases(of: $0).map(\.description) } })
        router.get("/api/v1/query") { request, _ in await routes.query(request) }
        router.get("/api/v1/stats") { request, _ in await routes.stats(request) }
        router.get("/api/v1/labels") { request, _ in await routes.labels(request) }
        router.get("/api/v1/tail") { request, _ in routes.tail(request) }
        router.get("/api/v1/templates") { request, _ in await routes.templates(request, miner: miner) }
    }
}

/// Limits of the query API.
public enum QueryLimits {
    public static let maxQueryBytes = 4096
    public static let maxLimit = 10_000
    public static let defaultLimit = 100
    public static let maxGroups = 10_000
    public static let defaultTimeout: Duration = .seconds(30)
    public static let maxTimeout: Duration = .seconds(300)
}

final class QueryRoutes: Sendable {
    let store: LogStore
    let authorize: @Sendable (String?) -> Bool
    let journal: TailJournal
    /// Every id of the template an id names (docs/TEMPLATES.md, "Ids"), for `template:<id>`.
    let templateAliases: @Sendable (String) -> [String]?

    init(
        store: LogStore, authorize: @escaping @Sendable (String?) -> Bool,
        templateAliases: @escaping @Sendable (String) -> [String]? = { _ in nil }
    ) {
        self.store = store
        self.authorize = authorize
        self.templateAliases = templateAliases
        journal = TailJournal(store: store)
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

    /// Common parameters: auth, `q`, the time range, the timeout.
    struct Common {
        var parameters: [String: String]
        var node: QueryNode
        var plan: QueryPlan
        var range: TimeRange
        var deadline: Deadline
        var timeout: Duration
    }

    func common(_ request: Request) throws -> Common {
        guard authorize(request.headers[.authorization]) else {
            throw Failure(401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer <token>)")
        }
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

    /// Runs `body`, mapping errors to answers and timing it (`took_ms`).
    func handle(_ request: Request, _ body: @escaping @Sendable (Common, Double) throws -> [UInt8]) async -> Response {
        let started = ContinuousClock.now
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
                        continuation.resume(with: Result { try body(frozen, 0) })
                    }
                    thread.stackSize = 8 << 20
                    thread.start()
                }
            } onCancel: {
                cancellation.cancel()
            }
            return Self.respond(Self.patchTook(bytes, since: started))
        } catch let failure as Failure {
            return Self.respond(failure)
        } catch let error as QueryError {
            return Self.respond(Failure(error))
        } catch {
            return Self.respond(Failure(500, "internal_error", "\(error)"))
        }
    }

    /// The engine writes `"took_ms":0.000`; the real figure includes parsing and encoding.
    static func patchTook(_ bytes: [UInt8], since started: ContinuousClock.Instant) -> [UInt8] {
        let marker = Array("\"took_ms\":0.000".utf8)
        // The engine writes it among the last fields: search backwards, not through the records.
        guard bytes.count >= marker.count,
            let start = stride(from: bytes.count - marker.count, through: 0, by: -1).first(where: {
                bytes[$0] == marker[0] && bytes[$0..<$0 + marker.count].elementsEqual(marker)
            })
        else { return bytes }
        let at = start..<start + marker.count
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var result = Array(bytes[..<at.lowerBound])
        result += Array("\"took_ms\":\(QueryRoutesFormat.milliseconds(ms))".utf8)
        result += bytes[at.upperBound...]
        return result
    }

    func quarantine(_ damaged: [DamagedSegment]) {
        for segment in damaged { store.quarantine(segmentPath: segment.path, reason: segment.reason) }
    }

    // MARK: Endpoints

    /// `GET /api/v1/query?q=&since=|from=&to=&limit=&order=desc|asc&cursor=&count=true&timeout=`
    func query(_ request: Request) async -> Response {
        let store = self.store
        return await handle(request) { [self] common, _ in
            let engine = QueryEngine(snapshot: store.snapshot())
            let p = common.parameters
            if p["count"] == "true" {
                let result = try engine.count(common.plan, range: common.range, deadline: common.deadline)
                quarantine(result.damagedSegments)
                return QueryAPI.count(result, tookMs: 0)
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
            return QueryAPI.search(result, tookMs: 0)
        }
    }

    /// `GET /api/v1/stats?q=&by=ns,pod` (or `stats=count by ns, pod`), or `&interval=1m` for a
    /// histogram; `limit` caps the groups (default 1000).
    func stats(_ request: Request) async -> Response {
        let store = self.store
        return await handle(request) { [self] common, _ in
            let engine = QueryEngine(snapshot: store.snapshot())
            let p = common.parameters
            if let intervalText = p["interval"] {
                guard let interval = TimeExpression.duration(intervalText), interval > 0 else {
                    throw Failure(400, "bad_parameter", "interval must be a duration like 1m, found '\(intervalText)'")
                }
                let result = try engine.histogram(common.plan, interval: interval, range: common.range, deadline: common.deadline)
                quarantine(result.damagedSegments)
                return QueryAPI.histogram(result, tookMs: 0)
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
            return QueryAPI.stats(result, tookMs: 0)
        }
    }

    /// `GET /api/v1/labels[?name=pod]`: the values of a label with their record counts in the
    /// range (`q` narrows it); without `name`, each known label with its number of values.
    func labels(_ request: Request) async -> Response {
        let store = self.store
        return await handle(request) { [self] common, _ in
            let engine = QueryEngine(snapshot: store.snapshot())
            let p = common.parameters
            if let name = p["name"], !name.isEmpty {
                let limit = try Self.integer(p, "limit", default: 1000, in: 1...QueryLimits.maxGroups)
                let result = try engine.stats(common.plan, by: [Field(name: name)], range: common.range, limit: limit, deadline: common.deadline)
                quarantine(result.damagedSegments)
                return QueryAPI.stats(result, tookMs: 0)
            }
            var json = JSONWriter()
            json.raw("{\"labels\":[")
            for (i, label) in StatsSpec.labels.enumerated() {
                let field = Field(name: label)
                let result = try engine.stats(common.plan, by: [field], range: common.range, limit: QueryLimits.maxGroups, deadline: common.deadline)
                quarantine(result.damagedSegments)
                if i > 0 { json.raw(",") }
                json.raw("{\"label\":")
                json.string(label)
                json.raw(",\"field\":")
                json.string(field.name)
                json.raw(",\"values\":")
                json.integer(result.groups.filter { $0.values.first != nil && $0.values.first! != nil }.count + result.otherGroups)
                json.raw("}")
            }
            json.raw("],\"took_ms\":0.000}\n")
            return json.bytes
        }
    }

    /// `GET /api/v1/tail?q=&format=sse|ndjson`: new matching records as they are stored.
    /// Server-sent events carry `id: <epoch>-<n>`; reconnecting with `Last-Event-ID` (or
    /// `cursor=`) continues exactly after that event while the server still holds it.
    func tail(_ request: Request) -> Response {
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
        let sse = (common.parameters["format"] ?? "sse") != "ndjson"
        let resume = request.headers[.lastEventID] ?? common.parameters["cursor"]
        let journal = self.journal
        let plan = common.plan
        let body = ResponseBody { writer in
            let subscription = journal.subscribe(resumingAfter: resume)
            defer { journal.unsubscribe() }
            var position = subscription.position
            if let gap = subscription.gap {
                if sse {
                    try await writer.write(ByteBuffer(string: "event: gap\ndata: \(String(decoding: QueryAPI.error(code: "gap", message: gap), as: UTF8.self).trimmingCharacters(in: .newlines))\n\n"))
                } else {
                    try await writer.write(ByteBuffer(bytes: QueryAPI.error(code: "gap", message: gap)))
                }
            } else if sse {
                try await writer.write(ByteBuffer(string: ": following\n\n"))
            }
            var lastWrite = ContinuousClock.now
            // Ends with the client, or when the collector shuts down (so it need not wait).
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let batch = journal.records(after: position)
                var out: [UInt8] = []
                for entry in batch.entries {
                    position = entry.sequence
                    guard plan.matches(entry.record) else { continue }
                    var json = JSONWriter()
                    entry.record.writeJSON(into: &json)
                    if sse {
                        out += Array("id: \(journal.epoch)-\(entry.sequence)\ndata: ".utf8)
                        out += json.bytes
                        out += Array("\n\n".utf8)
                    } else {
                        out += json.bytes
                        out.append(0x0A)
                    }
                }
                if batch.lost > 0 {
                    let message = "\(batch.lost) records passed while this stream lagged behind and were not delivered"
                    out += sse ? Array("event: gap\ndata: ".utf8) + QueryAPI.error(code: "gap", message: message) + [0x0A] : QueryAPI.error(code: "gap", message: message)
                    position = batch.skippedTo
                }
                if !out.isEmpty {
                    try await writer.write(ByteBuffer(bytes: out))
                    lastWrite = ContinuousClock.now
                } else if ContinuousClock.now - lastWrite > .seconds(15) {
                    // Keeps proxies from closing an idle stream, and notices a gone client.
                    try await writer.write(ByteBuffer(string: sse ? ": keepalive\n\n" : "\n"))
                    lastWrite = ContinuousClock.now
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            try await writer.finish(nil)
        }
        var headers: HTTPFields = [.contentType: sse ? "text/event-stream" : "application/x-ndjson", .cacheControl: "no-cache"]
        headers[.init("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: body)
    }
}

enum QueryRoutesFormat {
    static func milliseconds(_ value: Double) -> String {
        let thousandths = Int64((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}

/// Records in the order the store received them, numbered, for `tail`. The store does not
/// announce arrivals, so the journal polls its snapshot: the head only grows between flushes,
/// and a flush removes a prefix of it. Records that arrived and were flushed between two polls
/// are recovered from the new segments (what they hold minus what the journal had seen).
/// Numbers are unique within an epoch (one per journal lifetime, or per restart of polling).
final class TailJournal: @unchecked Sendable {
    struct Entry: Sendable {
        var sequence: UInt64
        var record: LogRecord
    }

    struct State {
        var entries: [Entry] = []
        var nextSequence: UInt64 = 1
        var previousHead: [LogRecord] = []
        var previousSegments: [String: SegmentReader] = [:]
        var baselined = false
        var subscribers = 0
        var lastPoll = ContinuousClock.now
        var lastSubscriberSeen = ContinuousClock.now
    }

    let store: LogStore
    /// Events are numbered within this epoch.
    var epoch: String { state.withLock { _ in epochValue } }
    private var epochValue = TailJournal.newEpoch()
    private let state = Mutex(State())
    /// Records kept for resuming clients.
    let capacity: Int
    static let pollInterval: Duration = .milliseconds(150)
    static let idleReset: Duration = .seconds(300)

    init(store: LogStore, capacity: Int = 200_000) {
        self.store = store
        self.capacity = capacity
    }

    static func newEpoch() -> String { String(UInt64.random(in: 1...UInt64.max), radix: 36) }

    struct Subscription {
        var position: UInt64
        var gap: String?
    }

    /// Starts following now, or right after `cursor` (`<epoch>-<n>`) when the journal still
    /// holds what followed it.
    func subscribe(resumingAfter cursor: String?) -> Subscription {
        poll()
        return state.withLock { state in
            state.subscribers += 1
            state.lastSubscriberSeen = ContinuousClock.now
            let now = state.nextSequence - 1
            guard let cursor, !cursor.isEmpty else { return Subscription(position: now) }
            let parts = cursor.split(separator: "-")
            guard parts.count == 2, String(parts[0]) == epochValue, let sequence = UInt64(parts[1]), sequence <= now else {
                return Subscription(
                    position: now, gap: "cannot resume after '\(cursor)': the collector restarted or the stream is unknown; following from now")
            }
            let oldest = state.entries.first?.sequence ?? state.nextSequence
            if sequence + 1 < oldest {
                return Subscription(
                    position: now, gap: "cannot resume after '\(cursor)': \(oldest - sequence - 1) records passed since and are no longer held; following from now")
            }
            return Subscription(position: sequence)
        }
    }

    func unsubscribe() {
        state.withLock { state in
            state.subscribers -= 1
            state.lastSubscriberSeen = ContinuousClock.now
        }
    }

    struct Batch {
        var entries: [Entry]
        /// Records dropped from the journal before this reader got them.
        var lost: UInt64
        var skippedTo: UInt64
    }

    /// Entries after `position` (polling the store first when due).
    func records(after position: UInt64) -> Batch {
        poll()
        return state.withLock { state in
            state.lastSubscriberSeen = ContinuousClock.now
            guard let first = state.entries.first else { return Batch(entries: [], lost: 0, skippedTo: position) }
            if position + 1 < first.sequence {
                return Batch(entries: [], lost: first.sequence - position - 1, skippedTo: first.sequence - 1)
            }
            let start = Int(position + 1 - first.sequence)
            guard start < state.entries.count else { return Batch(entries: [], lost: 0, skippedTo: position) }
            return Batch(entries: Array(state.entries[start...]), lost: 0, skippedTo: position)
        }
    }

    /// Brings the journal up to date with the store, at most every `pollInterval`.
    func poll(force: Bool = false) {
        let due = state.withLock { state -> Bool in
            let now = ContinuousClock.now
            if !force && state.baselined && now - state.lastPoll < Self.pollInterval { return false }
            state.lastPoll = now
            return true
        }
        guard due else { return }
        let snapshot = store.snapshot()
        let segments = Dictionary(snapshot.segments.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let (previous, previousSegments, baselined, idle) = state.withLock { state in
            (state.previousHead, state.previousSegments, state.baselined,
             state.subscribers == 0 && ContinuousClock.now - state.lastSubscriberSeen > Self.idleReset)
        }
        if !baselined || idle {
            // Nothing is owed to anyone: start over from what the store holds now.
            state.withLock { state in
                if idle { epochValue = Self.newEpoch() }
                state.entries.removeAll()
                state.previousHead = snapshot.head
                state.previousSegments = segments
                state.baselined = true
            }
            return
        }
        let arrived = Self.arrivals(previous: previous, head: snapshot.head, previousSegments: previousSegments, segments: segments)
        state.withLock { state in
            for record in arrived {
                state.entries.append(Entry(sequence: state.nextSequence, record: record))
                state.nextSequence += 1
            }
            if state.entries.count > capacity + capacity / 4 { state.entries.removeFirst(state.entries.count - capacity) }
            state.previousHead = snapshot.head
            state.previousSegments = segments
        }
    }

    /// Records the store received between two views of it, in arrival order.
    static func arrivals(
        previous: [LogRecord], head: [LogRecord], previousSegments: [String: SegmentReader], segments: [String: SegmentReader]
    ) -> [LogRecord] {
        let p = previous.count
        // Without a flush the head only grows.
        if head.count >= p, p == 0 || (head[0] == previous[0] && head[p - 1] == previous[p - 1]), head[0..<p].elementsEqual(previous) {
            let added = segments.keys.filter { previousSegments[$0] == nil }
            // With records known in the head, a flush would have taken them: none happened
            // (new segments come from compaction).
            if p > 0 || added.isEmpty { return Array(head[p...]) }
            // An empty head before and new segments: a flush may have taken records that
            // arrived after the last look.
            let removed = previousSegments.keys.filter { segments[$0] == nil }
            return unseenFlushed(
                flushedKnown: [], added: added.compactMap { segments[$0] }, removed: removed.compactMap { previousSegments[$0] })
                + Array(head[p...])
        }
        // A flush removed the first `k` records we knew: the rest of them start the new head.
        var k = p
        if let first = head.first {
            var candidate = previous.firstIndex(of: first)
            while let c = candidate {
                let survivors = p - c
                if head.count >= survivors && head[0..<survivors].elementsEqual(previous[c...]) {
                    k = c
                    break
                }
                candidate = previous[(c + 1)...].firstIndex(of: first)
            }
        }
        let added = segments.keys.filter { previousSegments[$0] == nil }.compactMap { segments[$0] }
        let removed = previousSegments.keys.filter { segments[$0] == nil }.compactMap { previousSegments[$0] }
        let missed = unseenFlushed(flushedKnown: Array(previous[0..<k]), added: added, removed: removed)
        return missed + Array(head[(p - k)...])
    }

    /// What new segments hold beyond the flushed records already seen (and beyond what removed
    /// segments held, when compaction rewrote some at the same time).
    static func unseenFlushed(flushedKnown: [LogRecord], added: [SegmentReader], removed: [SegmentReader]) -> [LogRecord] {
        guard !added.isEmpty else { return [] }
        var known: [UInt64: [LogRecord]] = [:]
        func remember(_ record: LogRecord) { known[RecordContentHash.of(record), default: []].append(record) }
        flushedKnown.forEach(remember)
        for segment in removed { (try? segment.readAllRecords())?.forEach(remember) }
        var result: [LogRecord] = []
        for segment in added.sorted(by: { $0.path < $1.path }) {
            for record in (try? segment.readAllRecords()) ?? [] {
                let key = RecordContentHash.of(record)
                if let index = known[key]?.firstIndex(of: record) {
                    known[key]?.remove(at: index)
                } else {
                    result.append(record)
                }
            }
        }
        return result.sorted { $0.timestamp < $1.timestamp }
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
