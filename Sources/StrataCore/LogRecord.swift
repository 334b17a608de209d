/// The record model, after the OpenTelemetry log data model.
///
/// Times are nanoseconds since the Unix epoch (UTC). Resource attributes use the
/// OpenTelemetry Kubernetes semantic conventions (see `ResourceKey`).
public struct LogRecord: Sendable, Equatable {
    /// When the event happened: the runtime's timestamp at the agent; the collector may
    /// replace it with the application's own timestamp (docs/FORMAT.md says which wins).
    public var timestamp: Int64
    /// When Strata first saw the record.
    public var observedTimestamp: Int64
    public var stream: LogStream
    public var severity: Severity?
    public var body: String
    public var traceID: TraceID?
    public var spanID: SpanID?
    /// Record-level attributes, in insertion order; keys are unique.
    public var attributes: [Attribute]
    public var resource: Resource
    public var flags: RecordFlags

    public init(
        timestamp: Int64, observedTimestamp: Int64, stream: LogStream = .stdout,
        severity: Severity? = nil, body: String, traceID: TraceID? = nil, spanID: SpanID? = nil,
        attributes: [Attribute] = [], resource: Resource = Resource(), flags: RecordFlags = []
    ) {
        self.timestamp = timestamp
        self.observedTimestamp = observedTimestamp
        self.stream = stream
        self.severity = severity
        self.body = body
        self.traceID = traceID
        self.spanID = spanID
        self.attributes = attributes
        self.resource = resource
        self.flags = flags
    }
}

public enum LogStream: UInt8, Sendable, Hashable, CaseIterable {
    case stdout = 0
    case stderr = 1
    /// The runtime envelope was unreadable, so the stream is not known.
    case unknown = 2

    public var name: String {
        switch self {
        case .stdout: "stdout"
        case .stderr: "stderr"
        case .unknown: "unknown"
        }
    }

    public init?(name: some StringProtocol) {
        switch name {
        case "stdout": self = .stdout
        case "stderr": self = .stderr
        case "unknown": self = .unknown
        default: return nil
        }
    }
}

/// Normalized severity. Raw values are the OpenTelemetry SeverityNumber at the start of
/// each range (TRACE=1, DEBUG=5, INFO=9, WARN=13, ERROR=17, FATAL=21).
public enum Severity: UInt8, Sendable, Hashable, CaseIterable, Comparable {
    case trace = 1
    case debug = 5
    case info = 9
    case warn = 13
    case error = 17
    case fatal = 21

    public var name: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        case .fatal: "fatal"
        }
    }

    /// Accepts the spellings applications use (`WARNING`, `err`, `CRITICAL`, `E`, ...).
    public init?(text: some StringProtocol) {
        switch text.lowercased() {
        case "trace", "trc", "t", "finest", "finer": self = .trace
        case "debug", "dbg", "d", "fine", "verbose": self = .debug
        case "info", "inf", "i", "information", "informational", "notice", "config": self = .info
        case "warn", "warning", "wrn", "w": self = .warn
        case "error", "err", "e", "severe", "alert": self = .error
        case "fatal", "crit", "critical", "emerg", "emergency", "panic", "f", "c": self = .fatal
        default: return nil
        }
    }

    /// Maps any OpenTelemetry SeverityNumber (1...24) onto its range.
    public init?(number: Int) {
        guard (1...24).contains(number) else { return nil }
        self = Severity(rawValue: UInt8(((number - 1) / 4) * 4 + 1))!
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Facts about how a record was read that a user may need to judge its content.
public struct RecordFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The runtime wrote a partial line whose continuation never arrived.
    public static let partial = RecordFlags(rawValue: 1 << 0)
    /// The record exceeded the record size cap; this is one piece of it.
    public static let truncated = RecordFlags(rawValue: 1 << 1)
    /// The body held invalid UTF-8, replaced by U+FFFD.
    public static let invalidUTF8 = RecordFlags(rawValue: 1 << 2)
    /// The runtime envelope (CRI or docker JSON) could not be decoded; the body is the raw line.
    public static let parseError = RecordFlags(rawValue: 1 << 3)
    /// Several lines were assembled into this record (stack trace, user pattern).
    public static let multiline = RecordFlags(rawValue: 1 << 4)
    /// The multiline group was cut by the flush timeout or shutdown rather than by the next record.
    public static let flushedByTimeout = RecordFlags(rawValue: 1 << 5)
    /// The record was read from a file after rotation or truncation was detected.
    public static let afterTruncation = RecordFlags(rawValue: 1 << 6)
    /// The record's time lay further ahead of the collector's clock than `storage.max_future_skew`;
    /// it was replaced by the observed time (docs/FORMAT.md, "Accepted time range").
    public static let futureTimestamp = RecordFlags(rawValue: 1 << 7)

    public static let all: [(RecordFlags, String)] = [
        (.partial, "partial"), (.truncated, "truncated"), (.invalidUTF8, "invalid_utf8"),
        (.parseError, "parse_error"), (.multiline, "multiline"),
        (.flushedByTimeout, "flushed_by_timeout"), (.afterTruncation, "after_truncation"),
        (.futureTimestamp, "future_timestamp"),
    ]

    public var names: [String] { Self.all.filter { contains($0.0) }.map(\.1) }

    public init(names: some Sequence<String>) {
        var flags = RecordFlags()
        for name in names {
            if let match = Self.all.first(where: { $0.1 == name }) { flags.insert(match.0) }
        }
        self = flags
    }
}

public struct Attribute: Sendable, Hashable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// The entity that produced the records: a container in a pod on a node.
public struct Resource: Sendable, Hashable {
    public var attributes: [Attribute]
    public init(attributes: [Attribute] = []) { self.attributes = attributes }

    public subscript(key: String) -> String? {
        get { attributes.first(where: { $0.key == key })?.value }
        set {
            if let index = attributes.firstIndex(where: { $0.key == key }) {
                if let newValue { attributes[index].value = newValue } else { attributes.remove(at: index) }
            } else if let newValue {
                attributes.append(Attribute(key, newValue))
            }
        }
    }
}

/// Resource attribute names from the OpenTelemetry semantic conventions.
public enum ResourceKey {
    public static let namespace = "k8s.namespace.name"
    public static let pod = "k8s.pod.name"
    public static let podUID = "k8s.pod.uid"
    public static let container = "k8s.container.name"
    public static let containerID = "container.id"
    public static let restartCount = "k8s.container.restart_count"
    public static let node = "k8s.node.name"
    public static let logFilePath = "log.file.path"
}
