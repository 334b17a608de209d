import Foundation
import StrataConfiguration
import StrataCore
import StrataDiagnosis
import StrataParsers
import StrataStore

/// The collector's YAML configuration (pipelines/collector.yaml, documented there): its
/// `normalize:`, `storage:`, `retention:`, `diagnosis:` and `http:` sections. Front ends read the file
/// into a `ConfigTree`, lay their flags over it (`--set`, `--retention-max-age`, …) and hand it
/// here, so a flag and a key are checked alike and every error names the full key.
extension CollectorConfiguration {
    /// The sections `--set` may reach; `normalize:` rules are lists, edited in the file.
    public static let settableSections = ["ingest", "storage", "retention", "diagnosis", "http"]

    /// Reads every section this configuration has onto the defaults already set; an unknown key
    /// in a section or a bad value fails naming the key.
    public mutating func read(_ tree: ConfigTree) throws(ConfigurationError) {
        normalizer = try NormalizerConfiguration(section: tree.section("normalize"))
        try IngestSection.read(tree, into: &self)
        try StorageSection.read(tree, into: &self)
        diagnosis = try DiagnosisSection.read(tree)
        http = try HTTPSection.read(tree, defaults: http)
    }
}

/// `http:`: timeouts, the connection cap and the tail limits (docs/API.md, "Connections").
enum HTTPSection {
    static func read(_ tree: ConfigTree, defaults: HTTPLimits) throws(ConfigurationError) -> HTTPLimits {
        let section = tree.section("http")
        var limits = defaults
        let hour = Duration.seconds(3600)
        limits.headerTimeout = try section.duration("header_timeout", default: limits.headerTimeout, range: .milliseconds(100)...hour)
        limits.bodyTimeout = try section.duration("body_timeout", default: limits.bodyTimeout, range: .milliseconds(100)...hour)
        limits.idleTimeout = try section.duration("idle_timeout", default: limits.idleTimeout, range: .milliseconds(100)...hour)
        limits.shutdownTimeout = try section.duration("shutdown_timeout", default: limits.shutdownTimeout, range: .zero...hour)
        if let text = try section.string("max_connections"), text.lowercased() != "auto" {
            limits.maxConnections = try section.integer("max_connections", default: 0, range: 1...10_000_000)
        }
        limits.maxTails = try section.integer("max_tails", default: limits.maxTails, range: 1...100_000)
        limits.maxTailsPerCaller = try section.integer("max_tails_per_caller", default: limits.maxTailsPerCaller, range: 1...100_000)
        limits.tailStallTimeout = try section.duration(
            "tail_stall_timeout", default: limits.tailStallTimeout, range: .milliseconds(100)...hour)
        try section.rejectUnknownKeys()
        return limits
    }
}

/// `ingest:` — request size limits and the memory budget of requests in flight.
enum IngestSection {
    static func read(_ tree: ConfigTree, into configuration: inout CollectorConfiguration) throws(ConfigurationError) {
        let ingest = tree.section("ingest")
        configuration.maxBodyBytes = try ingest.bytes("max_body_size", default: configuration.maxBodyBytes, range: 1024...(1 << 30))
        // The wire format's payloads stop at 256 MiB (docs/WIRE.md); more could never be used.
        configuration.maxDecodedBytes = try ingest.bytes(
            "max_decoded_size", default: configuration.maxDecodedBytes, range: 1024...WireFormat.maxPayloadBytes)
        configuration.ingestMemoryBudgetBytes = try ingest.bytes(
            "memory_budget", default: configuration.ingestMemoryBudgetBytes, range: (1 << 20)...(1 << 40))
        // One request at both limits must fit alone, or it would be told to retry forever.
        let needed = configuration.maxBodyBytes + (1 + IngestMemory.recordsPerTextByte) * configuration.maxDecodedBytes
        guard configuration.ingestMemoryBudgetBytes >= needed else {
            throw ConfigurationError(
                key: "ingest.memory_budget",
                reason: "must hold one request at the limits: max_body_size + \(1 + IngestMemory.recordsPerTextByte) x max_decoded_size "
                    + "(its body, decompressed text and decoded records) = \(ByteSize.format(needed)), found "
                    + "\(ByteSize.format(configuration.ingestMemoryBudgetBytes)); raise it or lower the limits")
        }
        try ingest.rejectUnknownKeys()
    }
}

/// `storage:` and `retention:`.
enum StorageSection {
    static let maxDuration = Duration.seconds(100 * 365 * 86400)

    static func read(_ tree: ConfigTree, into configuration: inout CollectorConfiguration) throws(ConfigurationError) {
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
        store.maxFutureSkewNanos = try storage.nanoseconds(
            "max_future_skew", default: store.maxFutureSkewNanos, range: .seconds(1)...maxDuration)
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
        store.compaction.settleNanos = try compaction.nanoseconds(
            "settle_after", default: store.compaction.settleNanos, range: .zero...maxDuration)

        let retention = tree.section("retention")
        store.retentionNanos = try retention.nanoseconds("max_age", default: store.retentionNanos, range: .seconds(60)...maxDuration)
        if let size = try retention.string("max_size"), size.lowercased() != "unlimited" {
            store.retentionBytes = Int64(try retention.bytes("max_size", default: 0, range: (1 << 20)...(1 << 60)))
        }
        var overrides: [String: Int64] = [:]
        for entry in try retention.sections("namespaces") {
            guard let namespace = try entry.string("namespace"), !namespace.isEmpty else {
                throw entry.error(entry.key("namespace"), "required: the namespace this retention applies to")
            }
            let age = try entry.nanoseconds("max_age", default: 0, range: .seconds(60)...maxDuration)
            guard age > 0 else {
                throw entry.error(entry.key("max_age"), "required: how long to keep the namespace's records, e.g. 1d")
            }
            guard overrides[namespace] == nil else {
                throw entry.error(entry.key("namespace"), "'\(namespace)' is listed twice")
            }
            overrides[namespace] = age
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

/// `diagnosis:` (docs/DIAGNOSIS.md, "Continuous mode").
enum DiagnosisSection {
    /// nil when the section is absent or `enabled: false`.
    static func read(_ tree: ConfigTree) throws(ConfigurationError) -> ContinuousConfiguration? {
        let section = tree.section("diagnosis")
        guard section.exists else { return nil }
        guard try section.bool("enabled", default: true) else {
            // The other keys are not read (nor what is under them: a switched-off section may keep
            // its settings), but a misspelt key among them should still not pass silently.
            section.acceptUnread([
                "window", "baseline", "bucket", "evaluate_every", "open_after", "quiet_period", "minimum_baseline", "update_interval",
                "keep_resolved", "max_resolved", "max_workloads", "critical_score", "max_suspects", "external_url", "detection",
                "webhooks", "request_check_every", "request_baseline",
            ])
            try section.rejectUnknownKeys()
            return nil
        }
        var configuration = ContinuousConfiguration()
        let day = Duration.seconds(86400)
        let week = Duration.seconds(7 * 86400)
        configuration.window = try section.nanoseconds("window", default: configuration.window, range: .seconds(20)...day)
        configuration.baseline = try section.nanoseconds("baseline", default: configuration.baseline, range: .seconds(20)...week)
        configuration.bucket = try section.nanoseconds("bucket", default: configuration.bucket, range: .milliseconds(100)...(.seconds(3600)))
        configuration.evaluateEvery = try section.nanoseconds(
            "evaluate_every", default: configuration.evaluateEvery, range: .seconds(1)...(.seconds(3600)))
        configuration.openAfter = try section.nanoseconds("open_after", default: configuration.openAfter, range: .zero...day)
        configuration.quietPeriod = try section.nanoseconds("quiet_period", default: configuration.quietPeriod, range: .seconds(1)...day)
        configuration.minimumBaseline = try section.nanoseconds(
            "minimum_baseline", default: configuration.minimumBaseline, range: .zero...week)
        configuration.updateInterval = try section.nanoseconds("update_interval", default: configuration.updateInterval, range: .zero...day)
        configuration.keepResolved = try section.nanoseconds(
            "keep_resolved", default: configuration.keepResolved, range: .seconds(60)...(.seconds(3650 * 86400)))
        configuration.maxResolved = try section.integer("max_resolved", default: configuration.maxResolved, range: 1...1_000_000)
        configuration.maxWorkloads = try section.integer("max_workloads", default: configuration.maxWorkloads, range: 2...1_000_000)
        configuration.criticalScore = try section.number("critical_score", default: configuration.criticalScore, range: 0...1000)
        configuration.diagnosis.maxSuspects = try section.integer("max_suspects", default: configuration.diagnosis.maxSuspects, range: 1...100)
        configuration.externalURL = try section.string("external_url")
        configuration.requestCheckEvery = try section.nanoseconds(
            "request_check_every", default: configuration.requestCheckEvery, range: .zero...day)
        configuration.requestBaseline = try section.nanoseconds(
            "request_baseline", default: configuration.requestBaseline, range: .seconds(20)...week)

        let detection = section.section("detection")
        var thresholds = configuration.detection
        thresholds.errorSurprise = try detection.number("error_surprise", default: thresholds.errorSurprise, range: 1...30)
        thresholds.minimumErrors = try detection.integer("minimum_errors", default: thresholds.minimumErrors, range: 1...1_000_000)
        thresholds.shapeSurprise = try detection.number("message_surprise", default: thresholds.shapeSurprise, range: 1...30)
        thresholds.minimumShapeCount = try detection.integer(
            "minimum_message_count", default: thresholds.minimumShapeCount, range: 1...1_000_000)
        thresholds.requestSurprise = try detection.number("request_surprise", default: thresholds.requestSurprise, range: 1...30)
        thresholds.minimumRequestCount = try detection.integer(
            "minimum_request_count", default: thresholds.minimumRequestCount, range: 1...1_000_000)
        configuration.detection = thresholds

        for (index, entry) in try section.sections("webhooks").enumerated() {
            configuration.webhooks.append(try webhook(entry, index: index))
        }
        try section.rejectUnknownKeys()
        do {
            try configuration.validate()
        } catch {
            throw ConfigurationError(key: "diagnosis", reason: "\(error)")
        }
        return configuration
    }

    static func webhook(_ entry: ConfigSection, index: Int) throws(ConfigurationError) -> WebhookConfiguration {
        guard let url = try entry.string("url"), !url.isEmpty else {
            throw entry.error(entry.key("url"), "required: where to POST notifications (http:// or https://)")
        }
        let kind = try entry.choice("kind", default: WebhookKind.json)
        guard let secretFile = try entry.string("secret_file"), !secretFile.isEmpty else {
            throw entry.error(entry.key("secret_file"), "required: a file holding the HMAC-SHA256 key requests are signed with")
        }
        guard let secretText = try? String(contentsOfFile: secretFile, encoding: .utf8) else {
            throw entry.error(entry.key("secret_file"), "cannot read \(secretFile)")
        }
        let secret = secretText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw entry.error(entry.key("secret_file"), "\(secretFile) is empty") }
        var webhook = WebhookConfiguration(
            name: try entry.string("name", default: "\(kind.rawValue)-\(index + 1)"), url: url, kind: kind, secret: Array(secret.utf8))
        webhook.timeout = try entry.nanoseconds("timeout", default: webhook.timeout, range: .milliseconds(100)...(.seconds(300)))
        webhook.maxAttempts = try entry.integer("max_attempts", default: webhook.maxAttempts, range: 1...1000)
        webhook.initialBackoff = try entry.nanoseconds(
            "initial_backoff", default: webhook.initialBackoff, range: .milliseconds(10)...(.seconds(3600)))
        webhook.maxBackoff = try entry.nanoseconds("max_backoff", default: webhook.maxBackoff, range: .milliseconds(10)...(.seconds(86400)))
        webhook.allowLinkLocal = try entry.bool("allow_link_local", default: false)
        do {
            try webhook.validateURL()
        } catch {
            throw entry.error(entry.key("url"), error.description)
        }
        for header in try entry.strings("headers") ?? [] {
            guard let colon = header.firstIndex(of: ":"), colon != header.startIndex else {
                throw entry.error(entry.key("headers"), "expected 'Name: value', found '\(header)'")
            }
            webhook.headers[String(header[..<colon])] = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return webhook
    }
}
