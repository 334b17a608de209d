#if canImport(Glibc)
import Glibc
#endif
import CStrataNative
import Foundation
import Synchronization
import Hummingbird
import Logging
import ServiceLifecycle
import StrataCore

public struct AgentError: Error, CustomStringConvertible {
    public var description: String
}

/// `strata agent`: tails container logs and ships them. Runs as a ServiceLifecycle service so
/// SIGTERM/SIGINT flush, wait for acknowledgements up to `shutdown_timeout`, spool whatever is
/// still unacknowledged, and exit with checkpoints persisted.
public final class Agent: Service {
    public let configuration: AgentConfiguration
    public let metrics: AgentMetrics
    private let logger: Logger
    private let reader: TailReader
    private let queue: DeliveryQueue
    private let shipper: Shipper
    private let checkpoints: CheckpointStore

    /// - Parameter transport: overrides the sink (tests); otherwise built from the configuration.
    public init(configuration: AgentConfiguration, logger: Logger, transport: (any BatchTransport)? = nil) throws {
        self.configuration = configuration
        self.logger = logger
        Self.keepBatchBuffersInHeap()
        metrics = AgentMetrics(logger: logger)
        let directory = configuration.checkpointDirectory
        do {
            try FileSystem.makeDirectory(directory)
        } catch {
            throw AgentError(description: "cannot create the checkpoint directory \(directory): \(error)")
        }
        checkpoints = try CheckpointStore(directory: directory)
        let spool =
            configuration.spoolMaxBytes > 0
            ? try Spool(directory: directory + "/spool", maxBytes: Int64(configuration.spoolMaxBytes)) : nil
        let deadLetters = try DeadLetterDirectory(directory: directory + "/dead-letter")
        queue = DeliveryQueue(
            memoryLimit: configuration.memoryBatches, spool: spool, fullPolicy: configuration.spoolWhenFull,
            metrics: metrics)

        let chosenTransport: any BatchTransport
        if let transport {
            chosenTransport = transport
        } else {
            switch configuration.sink {
            case .stdout:
                chosenTransport = StdoutTransport()
            case .http:
                let token = try Self.readToken(configuration.tokenFile)
                chosenTransport = HTTPBatchTransport(
                    collector: configuration.collector ?? "", token: token, codec: configuration.compression,
                    timeoutSeconds: configuration.requestTimeout.components.seconds)
            }
        }
        shipper = Shipper(
            queue: queue, transport: chosenTransport, checkpoints: checkpoints, deadLetters: deadLetters,
            metrics: metrics,
            backoff: .init(initial: configuration.retryInitial, maximum: configuration.retryMax))

        // Data waiting in the spool counts as read: resume after it, not before it.
        var positions = try checkpoints.loadAll()
        for position in spool?.spooledPositions() ?? [] {
            positions[position.key] = positions[position.key].map { $0.latest(position) } ?? position
        }
        let firstStart = positions.isEmpty
        var rules: [(AgentConfiguration.MultilineRule, RE2Regex)] = []
        for rule in configuration.multilineRules {
            rules.append((rule, try RE2Regex(rule.startPattern)))
        }
        let builder: any BatchBuilder =
            configuration.sink == .stdout && transport == nil
            ? JSONLinesBatchBuilder()
            : try WireBatchBuilder(codec: configuration.compression, level: configuration.compressionLevel)
        let settings = TailReader.Settings(
            discovery: Discovery(
                include: configuration.paths, exclude: configuration.exclude + configuration.ownContainerExcludes()),
            readFromHeadAtFirstStart: configuration.readFrom == .beginning || !firstStart,
            rescanInterval: configuration.rescanInterval.nanoseconds,
            nodeName: configuration.nodeName,
            assembly: AssemblyConfiguration(
                maxRecordBytes: configuration.maxRecordBytes,
                flushTimeoutNanos: configuration.multilineFlushTimeout.nanoseconds,
                builtinRules: configuration.builtinMultiline),
            multilineRules: rules,
            batchMaxBytes: configuration.batchMaxBytes,
            batchMaxAge: configuration.batchMaxAge.nanoseconds,
            once: configuration.once)
        reader = TailReader(
            settings: settings, checkpoints: positions, queue: queue, metrics: metrics, builder: builder)
    }

    /// Batches allocate and free a few MiB per second; by default glibc serves such sizes with
    /// mmap and returns them at once, so every batch pays page faults again. Keeping them in the
    /// heap halves the agent's system time for a few MiB of resident memory.
    static func keepBatchBuffersInHeap() {
        strata_tune_malloc(16 << 20, 32 << 20)
    }

    static func readToken(_ path: String?) throws -> String? {
        if let path {
            do {
                let token = String(decoding: try FileSystem.readFile(path), as: UTF8.self).trimmingWhitespace()
                guard !token.isEmpty else { throw AgentError(description: "token file \(path) is empty") }
                return token
            } catch let error as FileSystemError {
                throw AgentError(description: "cannot read the token file: \(error)")
            }
        }
        if let token = ProcessInfo.processInfo.environment["STRATA_TOKEN"], !token.isEmpty { return token }
        return nil
    }

    public func run() async throws {
        logger.info(
            "agent starting: paths \(configuration.paths.joined(separator: " ")), sink \(configuration.sink.rawValue)\(configuration.collector.map { " -> " + $0 } ?? ""), checkpoints in \(configuration.checkpointDirectory)"
        )
        let metricsServer = try startMetricsServer()
        reader.start()
        let shipper = self.shipper
        let shipping = Task { await shipper.run() }

        await withGracefulShutdownHandler {
            await reader.waitUntilFinished()
        } onGracefulShutdown: {
            self.stop()
        }
        // The reader has sealed its last batch and closed the queue: wait for acknowledgements,
        // for as long as it takes in --once mode unless asked to stop.
        let drained = await waitForDelivery(shipping)
        if !drained {
            await shipping.value
            queue.spill()
            logger.warning(
                "shutdown timeout reached with \(queue.pendingCount) batches unacknowledged; they are kept in the spool (or re-read from the files) and sent after restart"
            )
        }
        await shipper.shutdownTransport()
        try? checkpoints.removeAll(except: reader.openKeys, untouchedSince: WallClock.nowNanos() - 86_400_000_000_000)
        metricsServer?.cancel()
        logger.info("agent stopped")
    }

    /// Like SIGTERM: stop reading, flush, deliver what can be delivered within the shutdown
    /// timeout, keep the rest for the next start.
    public func stop() {
        stopLock.withLock { $0 = true }
        reader.requestStop()
    }

    private var isStopping: Bool { stopLock.withLock { $0 } }
    private let stopLock = Mutex(false)

    /// Waits for the shipper to drain the queue: up to the shutdown timeout once a stop was
    /// requested, without limit in --once mode until then.
    private func waitForDelivery(_ shipping: Task<Void, Never>) async -> Bool {
        let timeout = configuration.shutdownTimeout
        let unlimited = configuration.once
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await shipping.value
                return true
            }
            group.addTask { [self] in
                if unlimited {
                    while !isStopping {
                        do { try await Task.sleep(for: .milliseconds(100)) } catch { return false }
                    }
                }
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            // Awaiting a task's value does not forward cancellation: cancel the shipper itself,
            // or the group would wait for it forever.
            if !first { shipping.cancel() }
            group.cancelAll()
            return first
        }
    }

    private func startMetricsServer() throws -> Task<Void, Never>? {
        guard let listen = configuration.metricsListen, let address = HostPort(listen) else { return nil }
        let router = Router()
        let metrics = self.metrics
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        router.get("/healthz") { _, _ in "ok\n" }
        var serverLogger = logger
        serverLogger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port)),
            logger: serverLogger)
        let logger = self.logger
        return Task {
            do {
                try await app.run()
            } catch {
                logger.error("metrics endpoint on \(listen) failed: \(error)")
            }
        }
    }
}
