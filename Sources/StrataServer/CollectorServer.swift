import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import StrataCore
import StrataParsers
import StrataQuery
import StrataStore

public struct CollectorConfiguration: Sendable {
    public var dataDirectory: String
    public var host = "127.0.0.1"
    public var port = 4180
    /// Bearer tokens accepted; empty means no authentication (then only loopback is allowed).
    public var tokens: [String] = []
    public var maxBodyBytes = 64 << 20
    public var maxDecodedBytes = 256 << 20
    public var maxRecordBytes = 4 << 20
    public var flushInterval: Duration = .seconds(10)
    public var store = StoreOptions()
    public var normalizer = NormalizerConfiguration()
    public var parsers = ParserRegistry.builtins

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }
}

/// `strata collector`: receives batches over HTTP, normalizes them, and stores them durably
/// before acknowledging (docs/WIRE.md, docs/API.md).
public final class CollectorServer: Service {
    public let configuration: CollectorConfiguration
    public let store: LogStore
    private let normalizer: Normalizer
    private let logger: Logger
    private let metrics: CollectorMetrics
    /// Set once the server listens; tests bind port 0 and read the real port here.
    public let boundPort = AsyncStream<Int>.makeStream()

    public init(configuration: CollectorConfiguration, logger: Logger) throws {
        if configuration.tokens.isEmpty && !Self.isLoopback(configuration.host) {
            throw CollectorError(
                "refusing to listen on \(configuration.host) without a token: set a token (--token-file or collector.yaml) or listen on 127.0.0.1"
            )
        }
        self.configuration = configuration
        self.logger = logger
        store = try LogStore(directory: configuration.dataDirectory, options: configuration.store, logger: logger)
        normalizer = Normalizer(configuration: configuration.normalizer, registry: configuration.parsers)
        metrics = CollectorMetrics()
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public func run() async throws {
        if configuration.tokens.isEmpty {
            logger.warning("no token configured: accepting unauthenticated batches, on loopback (\(configuration.host)) only")
        }
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "strata"),
            onServerRunning: { [boundPort] channel in
                boundPort.continuation.yield(channel.localAddress?.port ?? 0)
                boundPort.continuation.finish()
            },
            logger: logger)
        let store = self.store
        let logger = self.logger
        let interval = configuration.flushInterval
        let flusher = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                do { try store.flush() } catch { logger.error("flush failed: \(error); the data stays in the write-ahead log") }
            }
        }
        defer { flusher.cancel() }
        try await app.run()
        do {
            try store.flush()
        } catch {
            logger.error("final flush failed: \(error); the write-ahead log is replayed at the next start")
        }
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/api/v1/ingest") { [self] request, context in try await ingest(request, context: context) }
        router.get("/api/v1/query") { [self] request, _ in try query(request) }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { [store] _, _ -> Response in
            let statistics = store.statistics
            let ready = statistics.headBytes < store.options.headLimitBytes
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                body: .init(byteBuffer: ByteBuffer(string: ready ? "ready\n" : "head full, flushing\n")))
        }
        router.get("/metrics") { [self] _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition(store.statistics))))
        }
        return router
    }

    func ingest(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard authorized(request.headers[.authorization]) else {
            metrics.rejected(reason: "unauthorized")
            return Self.error(401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer <token>)")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch {
            metrics.rejected(reason: "body_too_large")
            return Self.error(413, "body_too_large", "request body exceeds the \(configuration.maxBodyBytes)-byte limit")
        }
        let decoder = IngestDecoder(
            maxBodyBytes: configuration.maxBodyBytes, maxDecodedBytes: configuration.maxDecodedBytes,
            maxRecordBytes: configuration.maxRecordBytes)
        let decoded: IngestDecoder.Decoded
        do {
            decoded = try decoder.decode(
                body: Array(buffer: body), contentType: request.headers[.contentType],
                contentEncoding: request.headers[.contentEncoding],
                batchIDHeader: request.headers[.strataBatchID])
        } catch let rejection as IngestRejection {
            metrics.rejected(reason: rejection.code)
            return Self.error(rejection.status, rejection.code, rejection.message)
        }
        var kept: [LogRecord] = []
        kept.reserveCapacity(decoded.records.count)
        var dropped = 0
        for var record in decoded.records {
            switch normalizer.normalize(&record) {
            case .kept: kept.append(record)
            case .dropped: dropped += 1
            }
        }
        let result: IngestResult
        do {
            result = try store.ingest(batchID: decoded.batchID, records: kept)
        } catch let full as StoreFullError {
            metrics.rejected(reason: "head_full")
            var response = Self.error(429, "head_full", full.description)
            response.headers[.retryAfter] = "1"
            return response
        } catch {
            metrics.rejected(reason: "storage_error")
            logger.error("ingest failed: \(error)")
            var response = Self.error(503, "storage_error", "the store could not make the batch durable: \(error)")
            response.headers[.retryAfter] = "5"
            return response
        }
        var json = JSONWriter()
        json.raw("{\"batch_id\":")
        if let id = decoded.batchID { json.string(id.description) } else { json.raw("null") }
        switch result {
        case .duplicate:
            metrics.duplicate()
            json.raw(",\"accepted\":0,\"duplicate\":true")
        case .stored(let records, let tooOld):
            metrics.accepted(records: records, bytes: body.readableBytes, tooOld: tooOld, dropped: dropped)
            json.raw(",\"accepted\":")
            json.integer(records)
            json.raw(",\"duplicate\":false,\"too_old\":")
            json.integer(tooOld)
        }
        json.raw(",\"dropped\":")
        json.integer(dropped)
        json.raw("}\n")
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }

    /// `GET /api/v1/query?q=...&from=...&to=...&limit=...&count=true`: records newest first as
    /// JSON lines in `{"records":[...]}`, or `{"count":N}`. Times are RFC 3339 or ns; the
    /// default range is the last hour.
    func query(_ request: Request) throws -> Response {
        guard authorized(request.headers[.authorization]) else {
            return Self.error(401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer <token>)")
        }
        let parameters = request.uri.queryParameters
        let now = Clock.nowNanos()
        func time(_ name: Substring, default fallback: Int64) throws -> Int64 {
            guard let text = parameters[name].map(String.init), !text.isEmpty else { return fallback }
            if let nanos = Int64(text) { return nanos }
            guard let nanos = RFC3339Parser.parse(text) else {
                throw IngestRejection(status: 400, code: "bad_time", message: "\(name) must be RFC 3339 or nanoseconds, found '\(text)'")
            }
            return nanos
        }
        let searchRequest: SearchRequest
        do {
            let limitText = parameters["limit"].map(String.init) ?? "100"
            guard let limit = Int(limitText), (1...10_000).contains(limit) else {
                return Self.error(400, "bad_limit", "limit must be a whole number from 1 to 10000, found '\(limitText)'")
            }
            let text = parameters["q"].map(String.init) ?? ""
            guard text.utf8.count <= 4096 else { return Self.error(400, "query_too_long", "queries are limited to 4096 bytes") }
            searchRequest = try SearchRequest(
                query: text, from: try time("from", default: now - 3_600_000_000_000), to: try time("to", default: now + 1),
                limit: limit)
        } catch let rejection as IngestRejection {
            return Self.error(rejection.status, rejection.code, rejection.message)
        } catch {
            return Self.error(400, "bad_query", "\(error)")
        }
        let snapshot = store.snapshot()
        var json = JSONWriter()
        if parameters["count"].map(String.init) == "true" {
            json.raw("{\"count\":")
            json.integer(try Search.count(searchRequest, on: snapshot))
            json.raw("}\n")
        } else {
            let result = Search.run(searchRequest, on: snapshot)
            for damaged in result.damagedSegments { store.quarantine(segmentPath: damaged.path, reason: damaged.reason) }
            json.raw("{\"records\":[")
            for (index, record) in result.records.enumerated() {
                if index > 0 { json.raw(",") }
                record.writeJSON(into: &json)
            }
            json.raw("]}\n")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }

    /// Compares in time independent of where the strings differ.
    func authorized(_ header: String?) -> Bool {
        guard !configuration.tokens.isEmpty else { return true }
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let presented = Array(header.dropFirst(7).utf8)
        var match = false
        for token in configuration.tokens {
            let expected = Array(token.utf8)
            var difference = UInt8(presented.count == expected.count ? 0 : 1)
            for index in 0..<max(presented.count, expected.count) {
                let a = index < presented.count ? presented[index] : 0
                let b = index < expected.count ? expected[index] : 0
                difference |= a ^ b
            }
            match = match || difference == 0
        }
        return match
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> Response {
        var json = JSONWriter()
        json.raw("{\"code\":")
        json.string(code)
        json.raw(",\"message\":")
        json.string(message)
        json.raw("}\n")
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
}

public struct CollectorError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension HTTPField.Name {
    static let strataBatchID = HTTPField.Name("X-Strata-Batch-Id")!
}
