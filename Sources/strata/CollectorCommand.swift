import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StrataAgent
import StrataConfiguration
import StrataParsers
import StrataServer
import StrataStore

struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "Receive batches from agents, normalize and store them.",
        discussion: """
            Without a token the collector accepts unauthenticated batches and therefore listens on
            loopback only. Normalization rules come from the `normalize:` section of --config
            (see pipelines/collector.yaml), formats from --parsers-dir; flushing, compaction and
            retention from its `storage:` and `retention:` sections, timeouts, the connection cap
            and tail limits from `http:`; the flags below and `--set` override them.
            """)

    @Option(name: .long, help: "Directory for the write-ahead log, segments and catalog.")
    var dataDir: String

    @Option(name: .long, help: "HOST:PORT to listen on.")
    var listen = "127.0.0.1:4180"

    @Option(name: .long, help: "File holding the bearer token agents must present (or set STRATA_TOKEN).")
    var tokenFile: String?

    @Option(name: .long, help: "YAML configuration (its normalize: section).")
    var config: String?

    @Option(name: .long, help: "Directory of parser definitions (*.yaml).")
    var parsersDir: String?

    @Option(name: .long, help: "Flush the in-memory head into segments this often, e.g. 10s (storage.flush_interval).")
    var flushInterval: String?

    @Option(name: .long, help: "Delete records older than this, e.g. 7d (retention.max_age).")
    var retentionMaxAge: String?

    @Option(name: .long, help: "Keep live segments below this size, e.g. 100GiB; oldest hours go first (retention.max_size).")
    var retentionMaxSize: String?

    @Option(name: .long, help: "Keep at most this many connections open, or auto: the descriptor limit less a reserve for the store (http.max_connections).")
    var maxConnections: String?

    @Option(name: .long, help: "Close a keep-alive connection idle this long, e.g. 60s (http.idle_timeout).")
    var idleTimeout: String?

    @Option(name: .long, help: "Bytes all ingest requests together may hold in memory, e.g. 96MiB; beyond it ingest answers 429 (ingest.memory_budget).")
    var ingestMemoryBudget: String?

    @Option(name: .long, help: "Set an ingest., storage., retention., diagnosis. or http. key of the configuration, e.g. --set storage.compaction.min_inputs=8.")
    var set: [String] = []

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.bootstrap(label: "strata.collector")
        guard let address = HostPort(listen) else { throw ValidationError("--listen expects HOST:PORT, found '\(listen)'") }
        var configuration = CollectorConfiguration(dataDirectory: dataDir)
        configuration.host = address.host
        configuration.port = address.port
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("cannot read --token-file \(tokenFile)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ValidationError("--token-file \(tokenFile) is empty") }
            configuration.tokens = [token]
        } else if let token = ProcessInfo.processInfo.environment["STRATA_TOKEN"], !token.isEmpty {
            configuration.tokens = [token]
        }
        let parsersDirectory = parsersDir ?? (FileManager.default.fileExists(atPath: "parsers") ? "parsers" : nil)
        if let parsersDirectory { configuration.parsers = try ParserRegistry.load(directory: parsersDirectory) }
        try configuration.read(try configurationTree())
        let server = try CollectorServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [server] + (server.continuous.map { [$0] } ?? []), gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The file, then `--set`, then the flags (flags win). Errors here are not usage errors:
    /// they print as one line naming the key, without the usage text.
    func configurationTree() throws(ConfigurationError) -> ConfigTree {
        var tree = ConfigTree()
        if let config { tree = try ConfigTree(contentsOfFile: config, flag: "--config") }
        for assignment in set {
            guard CollectorConfiguration.settableSections.contains(where: { assignment.hasPrefix($0 + ".") }) else {
                throw ConfigurationError(
                    key: String(assignment.prefix { $0 != "=" }), reason: "--set reaches the ingest., storage., retention., diagnosis. and http. keys only")
            }
            try tree.set(assignment)
        }
        if let ingestMemoryBudget { try tree.set(path: ["ingest", "memory_budget"], text: ingestMemoryBudget) }
        if let flushInterval { try tree.set(path: ["storage", "flush_interval"], text: flushInterval) }
        if let retentionMaxAge { try tree.set(path: ["retention", "max_age"], text: retentionMaxAge) }
        if let retentionMaxSize { try tree.set(path: ["retention", "max_size"], text: retentionMaxSize) }
        if let maxConnections { try tree.set(path: ["http", "max_connections"], text: maxConnections) }
        if let idleTimeout { try tree.set(path: ["http", "idle_timeout"], text: idleTimeout) }
        return tree
    }
}
