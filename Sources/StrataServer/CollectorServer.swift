import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
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
    /// Ingest limits (`ingest:`, docs/RELIABILITY.md "Memory budget"): 16 MiB bodies and texts
    /// are 16 times the agent's default batch, and one request at both limits (body, text and
    /// the records decoded from it, `IngestMemory`) fits the 96 MiB budget exactly.
    public var maxBodyBytes = 16 << 20
    public var maxDecodedBytes = 16 << 20
    public var maxRecordBytes = 4 << 20
    /// Bytes every ingest request together may hold in memory (`ingest.memory_budget`).
    public var ingestMemoryBudgetBytes = 96 << 20
    /// The head is flushed this often even below its size threshold.
    public var flushInterval: Duration = .seconds(10)
    /// Retention and compaction run this often (and after every flush).
    public var compactionInterval: Duration = .seconds(30)
    public var store = StoreOptions()
    public var normalizer = NormalizerConfiguration()
    public var parsers = ParserRegistry.builtins
    /// Continuous diagnosis (`diagnosis:` in the configuration); nil leaves it off.
    public var diagnosis: ContinuousConfiguration?
    /// Timeouts, the connection cap and the tail limits (`http:` in the configuration).
    public var http = HTTPLimits()

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }
}

/// `strata collector`: receives batches over HTTP, normalizes them, and stores them durably
/// before acknowledging (docs/WIRE.md, docs/API.md).
public final class CollectorServer: Service {
    public let configuration: CollectorConfiguration
    public let store: LogStore
    /// Every stored record carries its message template id (`template:<id>` in queries).
    public let templates: TemplateAnnotator
    /// Incident detection on sliding windows with webhooks; nil when not configured.
    public let continuous: ContinuousDiagnosis?
    /// Normalize, annotate, store, observe, count: what every ingest protocol calls.
    public let pipeline: IngestPipeline
    private let logger: Logger
    let metrics: CollectorMetrics
    /// What `/readyz` answers: whether the store can write.
    let readiness: Readiness
    /// Connections open, against `http.max_connections`.
    let connections: ConnectionCount
    /// Live tails open, against `http.max_tails` and `http.max_tails_per_caller`.
    let tails: TailAdmission
    /// What ingest requests hold in memory now, across requests.
    public let ingestBudget: IngestBudget
    /// Set once the server listens; tests bind port 0 and read the real port here.
    public let boundPort = AsyncStream<Int>.makeStream()

    public init(configuration: CollectorConfiguration, logger: Logger) throws {
        if configuration.tokens.isEmpty && !Self.isLoopback(configuration.host) {
            throw CollectorError(
                "refusing to listen on \(configuration.host) without a token: set a token (--token-file or collector.yaml) or listen on 127.0.0.1"
            )
        }
        let descriptorLimit = ConnectionBudget.descriptorLimit()
        if let configured = configuration.http.maxConnections, configured > descriptorLimit - ConnectionBudget.minimumReserve {
            throw CollectorError(
                "http.max_connections \(configured) leaves the store fewer than \(ConnectionBudget.minimumReserve) of this process's \(descriptorLimit) file descriptors (ulimit -n): lower it or raise the limit"
            )
        }
        connections = ConnectionCount(limit: configuration.http.effectiveMaxConnections)
        self.configuration = configuration
        self.logger = logger
        // Request bodies, decompressed texts and segment buffers (1 MiB and more) are mapped
        // apart and unmapped when freed, instead of staying in the heap (FreeMemory).
        FreeMemory.tune(mmapThreshold: 1 << 20, trimThreshold: 8 << 20)
        // First: the store locks the data directory against a second collector.
        store = try LogStore(directory: configuration.dataDirectory, options: configuration.store, logger: logger)
        templates = TemplateAnnotator(dataDirectory: configuration.dataDirectory, logger: logger)
        metrics = CollectorMetrics()
        readiness = Readiness(store: store, dataDirectory: configuration.dataDirectory)
        tails = TailAdmission(limits: configuration.http, metrics: metrics)
        ingestBudget = IngestBudget(capacity: configuration.ingestMemoryBudgetBytes)
        if let diagnosis = configuration.diagnosis {
            continuous = try ContinuousDiagnosis(
                configuration: diagnosis, dataDirectory: configuration.dataDirectory, store: store, logger: logger,
                metricsRegistry: metrics.registry)
        } else {
            continuous = nil
        }
        pipeline = IngestPipeline(
            normalizer: Normalizer(configuration: configuration.normalizer, registry: configuration.parsers),
            templates: templates, store: store, continuous: continuous, metrics: metrics, logger: logger, readiness: readiness)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public func run() async throws {
        if configuration.tokens.isEmpty {
            logger.warning("no token configured: accepting unauthenticated batches, on loopback (\(configuration.host)) only")
        }
        logger.info(
            "serving at most \(connections.limit) connections (http.max_connections; this process may open \(ConnectionBudget.descriptorLimit()) file descriptors)")
        let app = Application(
            router: makeRouter(),
            server: .http1(configuration: httpChannelConfiguration()),
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

    /// Hummingbird's HTTP/1.1 channel with its idle timeout and NIO's head limits, and the
    /// `ConnectionGuard` for what they lack (the cap, header and body timeouts, the shutdown
    /// deadline, JSON answers to unparsable requests).
    func httpChannelConfiguration() -> HTTP1Channel.Configuration {
        let limits = configuration.http
        let connections = self.connections
        let metrics = self.metrics
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(limits: limits, count: connections, metrics: metrics)],
            idleTimeout: TimeAmount(limits.idleTimeout),
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: HTTPLimits.maxRequestHeadBytes, maxHeaderListSize: HTTPLimits.maxRequestHeadBytes))
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

    func makeRouter() -> Router<CollectorRequestContext> {
        let router = Router(context: CollectorRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        // Every route under /api/v1 needs the bearer token; the probes and /metrics stay open.
        let ingest = IngestEndpoint(
            pipeline: pipeline,
            limits: IngestLimits(
                maxBodyBytes: configuration.maxBodyBytes, maxDecodedBytes: configuration.maxDecodedBytes,
                maxRecordBytes: configuration.maxRecordBytes),
            budget: ingestBudget)
        router.group()
            .add(middleware: BearerTokenAuthenticator(tokens: configuration.tokens) { [pipeline] in
                pipeline.countRefusal(reason: "unauthorized")
            })
            .post("/api/v1/ingest") { request, context in await ingest.ingest(request, context: context) }
        let api = router.group().add(middleware: BearerTokenAuthenticator(tokens: configuration.tokens))
        registerQueryRoutes(on: api)  // /api/v1/query, /stats, /labels, /tail, /templates (QueryRoutes.swift)
        registerIncidentRoutes(on: api, diagnosis: continuous)
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { [readiness] _, _ -> Response in
            let verdict = readiness.check()
            guard let code = verdict.code else {
                return Response(
                    status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"ready\":true}\n")))
            }
            return ErrorAnswer.response(status: 503, code: code, message: verdict.message)
        }
        router.get("/metrics") { [self] _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition(store.statistics))))
        }
        return router
    }
}

public struct CollectorError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
