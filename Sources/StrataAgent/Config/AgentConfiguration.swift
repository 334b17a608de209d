#if canImport(Glibc)
import Glibc
#endif
import StrataConfiguration
import StrataCore

/// Everything `strata agent` can be told, from `pipelines/agent.yaml` (documented there), with
/// flags and `--set key=value` on top.
public struct AgentConfiguration: Sendable {
    public enum Sink: String, Sendable, CaseIterable {
        case http
        case stdout
    }

    public enum ReadFrom: String, Sendable, CaseIterable {
        /// Files already present at first start are read from their first byte.
        case beginning
        /// ... or only what is written after the agent started.
        case end
    }

    public struct MultilineRule: Sendable {
        public var namespace: String
        public var pod: String
        public var container: String
        public var startPattern: String

        /// A missing name counts as empty, so `*` (and only a pattern matching "") selects it.
        func matches(_ identity: KubernetesIdentity) -> Bool {
            Glob(namespace).matches(identity.namespace ?? "") && Glob(pod).matches(identity.pod ?? "")
                && Glob(container).matches(identity.container ?? "")
        }
    }

    public var paths: [String] = ["/var/log/containers/*.log"]
    public var exclude: [String] = []
    public var excludeOwnContainer = true
    public var readFrom: ReadFrom = .beginning
    public var rescanInterval: Duration = .seconds(1)
    public var nodeName: String = AgentConfiguration.defaultNodeName()

    public var maxRecordBytes = 1 << 20
    public var multilineFlushTimeout: Duration = .seconds(1)
    public var builtinMultiline: Set<BuiltinMultilineRule> = [.java, .python, .go]
    public var multilineRules: [MultilineRule] = []

    public var sink: Sink = .http
    public var collector: String?
    public var tokenFile: String?
    public var compression: CompressionCodec = .zstd
    public var compressionLevel = 3
    public var requestTimeout: Duration = .seconds(30)

    public var batchMaxBytes = 1 << 20
    public var batchMaxAge: Duration = .seconds(1)
    public var memoryBatches = 8
    public var retryInitial: Duration = .milliseconds(200)
    public var retryMax: Duration = .seconds(30)

    public var spoolMaxBytes = 256 << 20
    public var spoolWhenFull: SpoolFullPolicy = .block

    public var checkpointDirectory = "/var/lib/strata/agent"
    public var metricsListen: String?
    public var shutdownTimeout: Duration = .seconds(10)
    public var once = false

    public init() {}

    public static func defaultNodeName() -> String {
        if let node = getenv("NODE_NAME") { return String(cString: node) }
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(cString: buffer)
    }

    /// Reads every key of the tree; an unknown key or a bad value fails naming the key.
    public init(tree: ConfigTree) throws {
        let top = tree.top
        let inputs = top.section("inputs")
        paths = try inputs.strings("paths") ?? paths
        exclude = try inputs.strings("exclude") ?? exclude
        excludeOwnContainer = try inputs.bool("exclude_own_container", default: excludeOwnContainer)
        readFrom = try inputs.choice("read_from", default: readFrom)
        rescanInterval = try inputs.duration("rescan_interval", default: rescanInterval, range: .milliseconds(50)...(.seconds(60)))
        nodeName = try top.string("node_name", default: nodeName)

        let record = top.section("record")
        // The collector refuses records over its max_record_bytes (4 MiB) and requests over its
        // ingest.max_decoded_size (16 MiB) with 413, and a refused batch is dead-lettered: the
        // agent's own caps stay within them, so a setting cannot make it lose data.
        maxRecordBytes = try record.bytes("max_bytes", default: maxRecordBytes, range: 1024...(4 << 20))

        let multiline = top.section("multiline")
        multilineFlushTimeout = try multiline.duration(
            "flush_timeout", default: multilineFlushTimeout, range: .milliseconds(10)...(.seconds(60)))
        if let names = try multiline.strings("builtin") {
            builtinMultiline = try Set(
                names.map { name in
                    guard let rule = BuiltinMultilineRule(rawValue: name) else {
                        throw ConfigurationError(
                            key: "multiline.builtin",
                            reason: "unknown rule '\(name)' (known: \(BuiltinMultilineRule.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    return rule
                })
        }
        multilineRules = try multiline.sections("rules").enumerated().map { index, rule in
            let match = rule.section("match")
            let pattern = try rule.string("start_pattern")
            guard let pattern else {
                throw ConfigurationError(key: "multiline.rules[\(index)].start_pattern", reason: "is required")
            }
            do {
                _ = try RE2Regex(pattern)
            } catch {
                throw ConfigurationError(key: "multiline.rules[\(index)].start_pattern", reason: "\(error)")
            }
            return MultilineRule(
                namespace: try match.string("namespace", default: "*"), pod: try match.string("pod", default: "*"),
                container: try match.string("container", default: "*"), startPattern: pattern)
        }

        let output = top.section("output")
        sink = try output.choice("sink", default: sink)
        collector = try output.string("collector")
        tokenFile = try output.string("token_file")
        let codecName = try output.string("compression", default: compression.name)
        guard let codec = CompressionCodec(name: codecName) else {
            throw ConfigurationError(key: "output.compression", reason: "expected zstd, lz4 or none, found '\(codecName)'")
        }
        compression = codec
        compressionLevel = try output.integer("compression_level", default: compressionLevel, range: 1...19)
        requestTimeout = try output.duration("timeout", default: requestTimeout, range: .seconds(1)...(.seconds(600)))

        let batch = top.section("batch")
        // A batch is sealed once it passes max_bytes, so it may hold one record more: the cap
        // leaves room for a largest record (4 MiB) and the tables well below the collector's 16 MiB.
        batchMaxBytes = try batch.bytes("max_bytes", default: batchMaxBytes, range: 4096...(8 << 20))
        batchMaxAge = try batch.duration("max_age", default: batchMaxAge, range: .milliseconds(10)...(.seconds(60)))
        memoryBatches = try batch.integer("memory_batches", default: memoryBatches, range: 1...1024)

        let retry = top.section("retry")
        retryInitial = try retry.duration("initial", default: retryInitial, range: .milliseconds(1)...(.seconds(60)))
        retryMax = try retry.duration("max", default: retryMax, range: .milliseconds(10)...(.seconds(3600)))

        let spool = top.section("spool")
        spoolMaxBytes = try spool.bytes("max_bytes", default: spoolMaxBytes, range: 0...(1 << 40))
        spoolWhenFull = try spool.choice("when_full", default: spoolWhenFull)

        checkpointDirectory = try top.string("checkpoint_dir", default: checkpointDirectory)
        metricsListen = try top.string("metrics_listen")
        shutdownTimeout = try top.duration("shutdown_timeout", default: shutdownTimeout, range: .zero...(.seconds(600)))
        try top.rejectUnknownKeys()
        try validate()
    }

    /// Checks that hold across keys.
    public func validate() throws {
        if sink == .http {
            guard let collector, !collector.isEmpty else {
                throw ConfigurationError(
                    key: "output.collector", reason: "is required with the http sink (or use --sink stdout)")
            }
            guard collector.hasPrefix("http://") || collector.hasPrefix("https://") else {
                throw ConfigurationError(key: "output.collector", reason: "must be an http:// or https:// URL, found '\(collector)'")
            }
        }
        if paths.isEmpty { throw ConfigurationError(key: "inputs.paths", reason: "needs at least one path glob") }
        if let metricsListen, HostPort(metricsListen) == nil {
            throw ConfigurationError(key: "metrics_listen", reason: "expected HOST:PORT, found '\(metricsListen)'")
        }
        if let tokenFile, !FileSystem.exists(tokenFile) {
            throw ConfigurationError(key: "output.token_file", reason: "file \(tokenFile) does not exist")
        }
        if retryMax < retryInitial {
            throw ConfigurationError(key: "retry.max", reason: "must not be below retry.initial")
        }
    }

    /// The agent's own container, so it never reads what it writes itself. Kubernetes sets the
    /// pod's host name to the pod name; POD_NAME and POD_NAMESPACE (downward API) are exact.
    public func ownContainerExcludes() -> [String] {
        guard excludeOwnContainer else { return [] }
        let pod = getenv("POD_NAME").map { String(cString: $0) }
        guard let pod, !pod.isEmpty else { return [] }
        let namespace = getenv("POD_NAMESPACE").map { String(cString: $0) } ?? "*"
        return ["*/\(pod)_\(namespace)_*", "*/\(namespace)_\(pod)_*/*"]
    }
}

public struct HostPort: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }
}

extension Duration {
    /// The agent's reader and assembler count time in nanoseconds.
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
