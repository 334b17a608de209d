import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import StrataCore
import StrataDiagnosis
import StrataParsers
import StrataQuery
import StrataStore
import Synchronization

public struct CollectorConfiguration: Sendable {
    public var dataDirectory: String
    public var host = "127.0.0.1"
    public var port = 4180
    /// Bearer tokens accepted; empty means no authentication (then only loopback is allowed).
    public var tokens: [String] = []
    public var maxBodyBytes = 64 << 20
    public var maxDecodedBytes = 256 << 20
    public var maxRecordBytes = 4 << 20
    /// The head is flushed this often even below its size threshold.
    public var flushInterval: Duration = .seconds(10)
    /// Retention and compaction run this often (and after every flush).
    public var compactionInterval: Duration = .seconds(30)
    public var store = StoreOptions()
    public var normalizer = NormalizerConfiguration()
    public var parsers = ParserRegistry.builtins
    /// Continuous diagnosis (`diagnosis:` in the configuration); nil leaves it off.
    public var diagnosis: ContinuousConfiguration?

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }
}

/// `strata collector`: receives batches over HTTP, normalizes them, and stores them durably
/// before acknowledging (docs/WIRE.md, docs/API.md).
public final class CollectorServer: Service {
    public let configuration: CollectorConfiguration
    public let store: LogStore
    private let normalizer: Normalizer
    /// Every stored record carries its message template id (`template:<id>` in queries).
    public let templates: TemplateAnnotator
    /// Incident detection on sliding windows with webhooks; nil when not configured.
    public let continuous: ContinuousDiagnosis?
    private let logger: Logger
    private let metrics: CollectorMetrics
    /// Whether the last batch was refused for disk space: logged once per episode, not per batch.
    private let refusingForDisk = Mutex(false)
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
        // First: the store locks the data directory against a second collector.
        store = try LogStore(directory: configuration.dataDirectory, options: configuration.store, logger: logger)
        normalizer = Normalizer(configuration: configuration.normalizer, registry: configuration.parsers)
        templates = TemplateAnnotator(dataDirectory: configuration.dataDirectory, logger: logger)
        metrics = CollectorMetrics()
        if let diagnosis = configuration.diagnosis {
            continuous = try ContinuousDiagnosis(
                configuration: diagnosis, dataDirectory: configuration.dataDirectory, store: store, logger: logger,
                metricsRegistry: metrics.registry)
        } else {
            continuous = nil
        }
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
        // Flush, retention and compaction run on their own threads: ingest only appends to the
        // write-ahead log and the head.
        let maintenance = StoreMaintenance(
            store: store, flushInterval: configuration.flushInterval, compactionInterval: configuration.compactionInterval,
            logger: logger)
        maintenance.start()
        if let point = FaultInjection.configuredPoint {
            if FaultInjection.points.contains(point) {
                logger.warning("STRATA_FAULT=\(point): this process kills itself at that point (a test-only hook)")
            } else {
                logger.error("STRATA_FAULT=\(point) names no fault point; known: \(FaultInjection.points.sorted().joined(separator: ", "))")
            }
        }
        // Template texts and counts are saved now and then; the ids do not depend on it.
        let templateSaver = Task.detached { [templates, flushInterval = configuration.flushInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: flushInterval)
                templates.save()
            }
        }
        do {
            try await app.run()
        } catch {
            templateSaver.cancel()
            await Self.stop(maintenance)
            templates.save()
            throw error
        }
        templateSaver.cancel()
        await Self.stop(maintenance)
        templates.save()
    }

    /// Stops the background threads and flushes the head, off the cooperative thread pool.
    private static func stop(_ maintenance: StoreMaintenance) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                maintenance.stop()
                continuation.resume()
            }
        }
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/api/v1/ingest") { [self] request, context in try await ingest(request, context: context) }
        registerQueryRoutes(on: router)
        registerIncidentRoutes(on: router, diagnosis: continuous)  // /api/v1/query, /stats, /labels, /tail (QueryRoutes.swift)
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
        templates.annotate(&kept)
        let result: IngestResult
        do {
            result = try store.ingest(batchID: decoded.batchID, records: kept)
        } catch let full as StoreFullError {
            metrics.rejected(reason: "head_full")
            var response = Self.error(429, "head_full", full.description)
            response.headers[.retryAfter] = "1"
            return response
        } catch let full as DiskFullError {
            metrics.rejected(reason: "disk_full")
            if refusingForDisk.withLock({ refusing in defer { refusing = true }; return !refusing }) {
                logger.warning("refusing ingest until space is freed: \(full)")
            }
            var response = Self.error(503, "disk_full", full.description)
            // Space comes back when retention or compaction runs (every few seconds to minutes).
            response.headers[.retryAfter] = "30"
            return response
        } catch {
            metrics.rejected(reason: "storage_error")
            logger.error("ingest failed: \(error)")
            var response = Self.error(503, "storage_error", "the store could not make the batch durable: \(error)")
            response.headers[.retryAfter] = "5"
            return response
        }
        if refusingForDisk.withLock({ refusing in defer { refusing = false }; return refusing }) {
            logger.notice("disk space is available again; ingest resumed")
        }
        var json = JSONWriter()
        json.raw("{\"batch_id\":")
        if let id = decoded.batchID { json.string(id.description) } else { json.raw("null") }
        switch result {
        case .duplicate:
            metrics.duplicate()
            json.raw(",\"accepted\":0,\"duplicate\":true")
        case .stored(let records, let tooOld):
            continuous?.observe(kept)
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
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: QueryAPI.error(code: code, message: message))))
    }
}

public struct CollectorError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension HTTPField.Name {
    static let strataBatchID = HTTPField.Name("X-Strata-Batch-Id")!
}
