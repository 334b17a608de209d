/// What to generate. Every field has a default, so `NodeLogTreeSpec()` is a useful tree.
public struct NodeLogTreeSpec: Sendable, Equatable {
    /// Number of namespaces the pods are spread over.
    public var namespaces: Int = 3
    /// Number of containers. Each gets a directory under its pod and a `0.log`; the restarted
    /// ones (see `restartRate`) also get a `1.log`, so the tree holds slightly more files.
    public var containers: Int = 10
    /// Approximate size, in bytes, of all log files together (envelopes included).
    public var totalBytes: Int = 50_000_000
    public var seed: UInt64 = 42
    /// Nanoseconds since the epoch of the earliest line. Default 2026-11-21T10:00:00Z.
    public var startTime: Int64 = 1_795_255_200_000_000_000
    /// Timestamps are spread over this many seconds, increasing within each file.
    public var spanSeconds: Int = 600
    /// Fraction of containers written by a CRI runtime (containerd, CRI-O); the others use
    /// docker's json-file format.
    public var criFraction: Double = 0.5
    /// Fraction of records that are multi-line stack traces (Java, Python, Go).
    public var stackTraceRate: Double = 0.01
    /// Fraction of records longer than 16 KiB, which the runtime splits into partial lines.
    public var longLineRate: Double = 0.002
    /// Fraction of records that are damaged: truncated lines (a broken CRI prefix or docker
    /// JSON object), truncated JSON messages, or messages holding invalid UTF-8.
    public var corruptLineRate: Double = 0
    public var nodeName: String = "node-1"
    /// Fraction of containers that were restarted once (they have `0.log` ending in a crash,
    /// and `1.log`).
    public var restartRate: Double = 0.2
    /// Chance that a stack trace or a split long line gets one line of the *other* stream
    /// written in its middle, as when a process writes stdout and stderr concurrently.
    public var crossStreamInterleaveRate: Double = 0.05

    public init() {}
}

/// The on-disk log format of one file.
public enum LogFormat: String, Sendable, Codable, Equatable, CaseIterable {
    /// `<RFC3339Nano> <stdout|stderr> <P|F> <message>`
    case cri
    /// docker json-file: `{"log":"...\n","stream":"stdout","time":"..."}`
    case docker
}

public enum WorkloadKind: String, Sendable, Codable, Equatable {
    case deployment = "Deployment"
    case statefulSet = "StatefulSet"
    case daemonSet = "DaemonSet"
}

/// One generated log file and the counts an agent reading it should arrive at.
///
/// How records are counted (the contract tests rely on):
/// 1. Partial lines are joined per stream: CRI `P` lines with the following `F` line of the
///    same stream; docker entries whose `log` lacks the trailing `\n` with the following
///    entries of the same stream up to one ending in `\n`. Parts always hold exactly 16384
///    bytes of message; the last part holds the rest (never empty).
/// 2. Multi-line assembly, per stream: a record starts at a line beginning with a digit, `{`,
///    `[` (but not `[signal `), `time=`, `ts=`, `level=`, `logger=`, `panic: ` or a klog
///    header (`[IWEF]MMDD `); every other line (indented frames, `Caused by:`,
///    `Traceback ...`, exception lines, blank lines, `goroutine N [...]:`, Go function lines,
///    ...) continues the previous record of the same stream. A trace is never interrupted by
///    another line of its own stream, though a line of the other stream may sit in its middle.
///    Java-, Python- and Go-aware multiline rules reach the same grouping.
/// 3. Malformed lines (only with `corruptLineRate > 0`: a CRI line cut inside its prefix, a
///    docker line cut before its closing brace) belong to no stream and count as one record
///    each; they never fall inside a partial sequence or a trace.
public struct GeneratedFile: Sendable, Codable, Equatable {
    /// Absolute path of the real file, `<root>/var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log`.
    public var path: String
    /// Absolute path of its symlink, `<root>/var/log/containers/<pod>_<ns>_<container>-<id>.log`.
    public var symlinkPath: String
    public var namespace: String
    public var pod: String
    public var podUID: String
    public var container: String
    /// 64 lowercase hex digits; differs between restarts of a container.
    public var containerID: String
    public var restart: Int
    public var format: LogFormat
    public var workload: String
    public var workloadKind: WorkloadKind
    /// Name of the application log style mix of the container, e.g. `java-spring`, `go-zap`.
    public var profile: String

    /// Physical (newline-terminated) lines in the file.
    public var lineCount: Int
    /// Logical records: `stdoutRecords + stderrRecords + malformedLines`.
    public var recordCount: Int
    public var stdoutRecords: Int
    public var stderrRecords: Int
    public var stdoutLines: Int
    public var stderrLines: Int
    /// Records made of more than one logical line (stack traces).
    public var multilineRecords: Int
    /// Records the runtime split into 16 KiB partial lines.
    public var partialRecords: Int
    /// Lines whose envelope cannot be parsed (counted in `recordCount`, in neither stream).
    public var malformedLines: Int
    /// Records with a valid envelope but a damaged message (truncated JSON, invalid UTF-8);
    /// counted in their stream.
    public var corruptRecords: Int
    /// Size of the file.
    public var bytes: Int
    /// Envelope timestamps (ns since the epoch) of the first and last line.
    public var firstTimestamp: Int64
    public var lastTimestamp: Int64
}

public struct GeneratedTree: Sendable, Codable, Equatable {
    /// The output root as given (made absolute).
    public var root: String
    public var nodeName: String
    /// In a stable order: by namespace, pod, container, restart.
    public var files: [GeneratedFile]

    public var totalBytes: Int { files.reduce(0) { $0 + $1.bytes } }
    public var totalLines: Int { files.reduce(0) { $0 + $1.lineCount } }
    public var totalRecords: Int { files.reduce(0) { $0 + $1.recordCount } }
    public var totalStdoutRecords: Int { files.reduce(0) { $0 + $1.stdoutRecords } }
    public var totalStderrRecords: Int { files.reduce(0) { $0 + $1.stderrRecords } }
    /// Root-relative directories as on a node.
    public static let podsDirectory = "var/log/pods"
    public static let containersDirectory = "var/log/containers"
}
