import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StrataAgent
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
            retention from its `storage:` and `retention:` sections, which the flags below and
            `--set` override.
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

    @Option(name: .long, help: "Set a storage., retention. or diagnosis. key of the configuration, e.g. --set storage.compaction.min_inputs=8.")
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
        do {
            if let parsersDirectory { configuration.parsers = try ParserRegistry.load(directory: parsersDirectory) }
            var tree = ConfigTree()
            if let config {
                let text = try String(contentsOfFile: config, encoding: .utf8)
                configuration.normalizer = try NormalizerConfiguration(yaml: text)
                tree = try ConfigTree(yaml: text, source: config)
            }
            for assignment in set {
                guard ["storage.", "retention.", "diagnosis."].contains(where: { assignment.hasPrefix($0) }) else {
                    throw ConfigurationError(
                        key: String(assignment.prefix { $0 != "=" }), reason: "--set reaches the storage., retention. and diagnosis. keys only")
                }
                try tree.set(assignment)
            }
            // Flags win over the file.
            if let flushInterval { try tree.set(path: ["storage", "flush_interval"], value: .init(flushInterval)) }
            if let retentionMaxAge { try tree.set(path: ["retention", "max_age"], value: .init(retentionMaxAge)) }
            if let retentionMaxSize { try tree.set(path: ["retention", "max_size"], value: .init(retentionMaxSize)) }
            try StorageSettings.apply(tree, to: &configuration)
            configuration.diagnosis = try DiagnosisSettings.continuous(tree)
        } catch {
            throw ValidationError("\(error)")
        }
        let server = try CollectorServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [server] + (server.continuous.map { [$0] } ?? []), gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// The `storage:` and `retention:` sections of pipelines/collector.yaml (documented there).
/// Every error names the full key; unknown keys in these sections are refused.
enum StorageSettings {
    static let maxDuration = Duration.seconds(100 * 365 * 86400)

    static func apply(_ tree: ConfigTree, to configuration: inout CollectorConfiguration) throws {
        let storage = tree.section("storage")
        configuration.flushInterval = try storage.duration(
            "flush_interval", default: configuration.flushInterval, range: .milliseconds(10)...(.seconds(3600)))
        var store = configuration.store
        store.headFlushBytes = try storage.bytes("head_flush_size", default: store.headFlushBytes, range: 1024...(1 << 40))
        store.headLimitBytes = try storage.bytes("head_limit", default: store.headLimitBytes, range: 1024...(1 << 40))
        guard store.headLimitBytes >= store.headFlushBytes else {
            throw ConfigurationError(
                key: "storage.head_limit",
                reason: "must be at least storage.head_flush_size (\(ByteSize.format(store.headFlushBytes))), found \(ByteSize.format(store.headLimitBytes))")
        }
        if let budget = try storage.string("disk_budget"), budget.lowercased() != "unlimited" {
            store.diskBudgetBytes = Int64(try storage.bytes("disk_budget", default: 0, range: (16 << 20)...(1 << 60)))
        }
        store.minFreeDiskBytes = Int64(try storage.bytes("min_free_disk", default: Int(store.minFreeDiskBytes), range: 0...(1 << 50)))
        store.segment.compressionLevel = try storage.integer(
            "compression_level", default: store.segment.compressionLevel, range: 1...19)
        let compaction = storage.section("compaction")
        store.compaction.enabled = try compaction.bool("enabled", default: store.compaction.enabled)
        configuration.compactionInterval = try compaction.duration(
            "interval", default: configuration.compactionInterval, range: .milliseconds(10)...(.seconds(86400)))
        store.compaction.minInputs = try compaction.integer("min_inputs", default: store.compaction.minInputs, range: 2...1000)
        store.compaction.maxInputs = try compaction.integer("max_inputs", default: store.compaction.maxInputs, range: 2...10_000)
        guard store.compaction.maxInputs >= store.compaction.minInputs else {
            throw ConfigurationError(
                key: "storage.compaction.max_inputs",
                reason: "must be at least storage.compaction.min_inputs (\(store.compaction.minInputs)), found \(store.compaction.maxInputs)")
        }
        store.compaction.maxSegmentBytes = try compaction.bytes(
            "max_segment_size", default: store.compaction.maxSegmentBytes, range: 1024...(1 << 40))
        store.compaction.compressionLevel = try compaction.integer(
            "compression_level", default: store.compaction.compressionLevel, range: 1...19)
        store.compaction.settleNanos = try compaction.duration(
            "settle_after", default: .nanoseconds(store.compaction.settleNanos), range: .zero...maxDuration
        ).nanosecondsValue

        let retention = tree.section("retention")
        store.retentionNanos = try retention.duration(
            "max_age", default: .nanoseconds(store.retentionNanos), range: .seconds(60)...maxDuration
        ).nanosecondsValue
        if let size = try retention.string("max_size"), size.lowercased() != "unlimited" {
            store.retentionBytes = Int64(try retention.bytes("max_size", default: 0, range: (1 << 20)...(1 << 60)))
        }
        var overrides: [String: Int64] = [:]
        for (index, entry) in try retention.sections("namespaces").enumerated() {
            let path = "retention.namespaces[\(index)]"
            guard let namespace = try entry.string("namespace"), !namespace.isEmpty else {
                throw ConfigurationError(key: "\(path).namespace", reason: "required: the namespace this retention applies to")
            }
            let age = try entry.duration("max_age", default: .zero, range: .seconds(60)...maxDuration)
            guard age > .zero else {
                throw ConfigurationError(key: "\(path).max_age", reason: "required: how long to keep the namespace's records, e.g. 1d")
            }
            guard overrides[namespace] == nil else {
                throw ConfigurationError(key: "\(path).namespace", reason: "'\(namespace)' is listed twice")
            }
            overrides[namespace] = age.nanosecondsValue
        }
        store.namespaceRetentionNanos = overrides
        if store.retentionBytes != .max, store.diskBudgetBytes != .max, store.retentionBytes >= store.diskBudgetBytes {
            throw ConfigurationError(
                key: "retention.max_size",
                reason: "must be below storage.disk_budget (\(ByteSize.format(Int(store.diskBudgetBytes)))) so that retention frees space before ingest stops, found \(ByteSize.format(Int(store.retentionBytes)))")
        }
        try storage.rejectUnknownKeys()
        try retention.rejectUnknownKeys()
        configuration.store = store
    }
}

extension Duration {
    var nanosecondsValue: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}
