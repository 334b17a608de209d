/// What an incident scenario generates: a small cluster's services calling each other, a
/// healthy baseline, then one injected fault that cascades to the callers, then recovery.
///
/// The tree has the same kubelet layout as `NodeLogTreeGenerator`'s (so `strata agent` reads it
/// as it is), plus `scenario.json` (the ground truth, `IncidentScenario`) and `labels.json`
/// (the same fault in the shape of `../shared/datasets/trainticket/labels.json`) in its root.
public struct IncidentScenarioSpec: Sendable, Equatable {
    public var seed: UInt64 = 1
    /// Nanoseconds since the epoch of the start of the baseline (the first lines). Default
    /// 2026-11-21T09:00:00Z.
    public var startTime: Int64 = 1_795_251_600_000_000_000
    /// Healthy traffic before the fault.
    public var baselineSeconds = 3600
    /// How long the fault lasts (it starts right after the baseline).
    public var faultSeconds = 600
    /// Healthy traffic after the fault ends (the faulty release is rolled back, the disk
    /// freed...).
    public var recoverySeconds = 120
    /// Requests arriving at the edge per second, on average (a Poisson process whose rate
    /// drifts by up to ±20% over tens of minutes).
    public var requestsPerSecond = 3.0
    /// Name of the faulty workload; `IncidentScenarioSpec.faultableWorkloads` lists them.
    public var faultWorkload = "payments"
    public var faultKind = IncidentFaultKind.exceptions
    /// For `.exceptions`: share of the requests reaching the faulty workload that fail.
    /// For `.latency`: share of them that are slow. For `.swallowedException` and
    /// `.wrongReturn`: share of them that skip their usual last work. For `.networkDelay`:
    /// share of the requests whose hand-offs through it are delayed. Ignored by `.crash` and
    /// `.cpuContention` (every request).
    public var faultIntensity = 0.6
    public var nodeName = "node-1"
    /// Which cluster: the fixed `cascade` (ingress, frontend, orders, payments...) or one
    /// drawn from a seed (`.random(seed:)`). With a random topology, `faultWorkload` left at
    /// its default (or empty) means "drawn from `seed` among the services some request passes
    /// through"; any other name must be one of that topology's services.
    public var topology = IncidentTopology.cascade
    /// The window's request rate over the baseline's (everything that scales with load rises
    /// with it), in [1, 3]. Nil: 1 for the cascade topology (as it always was), drawn from
    /// `seed` in [1, 3] for a random topology.
    public var windowLoadFactor: Double?
    /// `.networkDelay`: milliseconds added to each hand-off into and out of the faulty
    /// workload. Nil: drawn from `seed` in 200...2000.
    public var networkDelayMs: Int?
    /// `.cpuContention`: how many times slower each of the faulty workload's processing steps
    /// becomes. Nil: drawn from `seed` in 3...20.
    public var cpuSlowdown: Double?

    /// `faultWorkload`'s default; with a random topology it means "drawn from the seed".
    public static let defaultFaultWorkload = "payments"

    public init() {}

    public var faultStart: Int64 { startTime + Int64(baselineSeconds) * 1_000_000_000 }
    public var faultEnd: Int64 { faultStart + Int64(faultSeconds) * 1_000_000_000 }
    public var endTime: Int64 { faultEnd + Int64(recoverySeconds) * 1_000_000_000 }
    public var totalSeconds: Int { baselineSeconds + faultSeconds + recoverySeconds }

    /// Workloads a fault can be injected into: every application service and datastore
    /// (not the ingress controller or node agents, whose faults are another story).
    public static var faultableWorkloads: [String] {
        ScenarioTopology.workloads.filter(\.faultable).map(\.name)
    }

    /// The cluster's workloads as `scenario.json` describes them (who calls whom, which log
    /// format, whether lines carry trace ids), without pods: their names depend on the seed.
    public static var workloads: [IncidentScenario.Workload] {
        IncidentScenarioGenerator.describe(ScenarioTopology.workloads, pods: [])
    }
}

/// How the faulty workload breaks.
public enum IncidentFaultKind: String, Sendable, Codable, Equatable, CaseIterable {
    /// A bad release or a full disk: a share of the requests reaching the workload fail with
    /// an exception (a stack trace, a Go error with its stack, a PostgreSQL `ERROR`, a Redis
    /// `MISCONF`), and it answers its callers with an error.
    case exceptions
    /// The workload's containers die (out of memory, a panic, a failed liveness probe) and are
    /// restarted again and again with growing back-off; each restart is a new `<n>.log`. While
    /// a pod is down its callers get `connection refused`, or `the database system is starting
    /// up` from PostgreSQL.
    case crash
    /// The workload becomes slow (lock contention, a busy disk): requests take seconds, and
    /// callers with shorter timeouts give up and log timeouts naming it.
    case latency

    /// A share of the requests reaching the workload hit an exception it catches without
    /// logging it (no error line, no new template); the rest of its usual work for the request
    /// is skipped (no "saved", no call to its own downstream) and it answers success, so its
    /// callers carry on as usual. The only trace: its usual events vanish.
    case swallowedException = "swallowed_exception"
    /// In a share of the requests the workload returns a wrong value (an empty list, a null
    /// field): it logs its usual lines but skips its usual last step(s), and its callers take
    /// an ordinary branch ("no results", info level, also seen at a low rate on a healthy day)
    /// and skip their own follow-up work. No error template anywhere.
    case wrongReturn = "wrong_return"
    /// Every hand-off into and out of the workload (its requests, its answers, its own calls)
    /// takes longer by a fixed delay, for a share of the requests; timeouts are long enough
    /// that usually nothing times out, so nothing new is logged.
    case networkDelay = "network_delay"
    /// Each processing step of the workload becomes several times slower (a noisy neighbour,
    /// CPU throttling): the gaps between its own consecutive lines grow; no new messages.
    case cpuContention = "cpu_contention"

    /// Kinds where the faulty workload logs nothing new: the diagnosis must infer it from what
    /// is missing or slower.
    public var isSilent: Bool {
        switch self {
        case .exceptions, .crash, .latency: false
        case .swallowedException, .wrongReturn, .networkDelay, .cpuContention: true
        }
    }

    /// Kinds the fixed cascade topology can play; the silent ones need a random topology,
    /// whose operations are fixed event sequences.
    public var playsOnCascade: Bool { !isSilent }

    public var summary: String {
        switch self {
        case .exceptions: "throws exceptions on a share of its requests and answers its callers with errors"
        case .crash: "crashes and restarts repeatedly; callers get connection refused while it is down"
        case .latency: "becomes slow; callers time out waiting for it"
        case .swallowedException: "swallows an exception on a share of its requests: skips the rest of its work without logging an error and answers success"
        case .wrongReturn: "returns a wrong (empty) value on a share of its requests: skips its last step(s); its callers take their empty-result branch"
        case .networkDelay: "its network hand-offs are delayed; requests through it get slower, nothing times out"
        case .cpuContention: "is starved of CPU; every processing step takes several times longer"
        }
    }
}

/// Which cluster a scenario plays in.
public enum IncidentTopology: Sendable, Equatable {
    /// The fixed shop: ingress, frontend, catalog, orders, inventory, shipping, payments and
    /// their datastores (what `make demo` and the existing tests use).
    case cascade
    /// 6-20 services with random names, formats and call graph, drawn from the seed.
    case random(seed: UInt64)
}

public enum IncidentScenarioError: Error, CustomStringConvertible, Equatable {
    case unknownWorkload(String, known: [String])
    case invalid(String)

    public var description: String {
        switch self {
        case .unknownWorkload(let name, let known):
            "no workload '\(name)' in the scenario's cluster can be made faulty; choose one of: \(known.joined(separator: ", "))"
        case .invalid(let message): message
        }
    }
}

/// The ground truth of a generated incident, written as `scenario.json` in the tree's root.
/// Keys are snake_case; times are RFC 3339 in UTC with the nanoseconds beside them (`*_ns`).
///
/// - `version`: 1.
/// - `seed`, `node`, `requests_per_second`: as generated.
/// - `range`: first and last line of the tree.
/// - `baseline`: the healthy stretch before the fault (no injected failure in it; the usual
///   low rate of declined cards, missing products and occasional database conflicts is there).
/// - `window`: the stretch to diagnose, equal to the fault's start and end.
/// - `fault`: `namespace`, `workload`, `workload_kind` (`deployment`, `statefulset`), `type`
///   (`exceptions`, `crash`, `latency`; random topologies also `swallowed_exception`,
///   `wrong_return`, `network_delay`, `cpu_contention`), `description`, `start`, `end`, `pods` (the faulty
///   workload's pods), `restarts` (crash only: every new container, with its restart number and
///   the time it started), `propagates_to` (workloads whose requests pass through the faulty one,
///   caller-most last: they log the errors and timeouts the fault causes).
/// - `workloads`: every workload with its kind, role (`edge`, `service`, `datastore`,
///   `consumer`, `node-agent`), pods, container, log format, whether its lines carry trace ids,
///   and the workloads it calls or sends events to (`namespace/name`).
/// - `requests`: requests that entered the cluster in the baseline and in the window, and how
///   many of them failed (an error status at the edge).
/// - `records`: records an agent produces from the tree (the same number as the summary's
///   `totalRecords`).
/// - Random topologies only: `topology_seed`, `window_load_factor` (the window's request rate
///   over the baseline's), `fault_parameters` (`intensity`, `network_delay_ms`, `cpu_slowdown`)
///   and `background_noise` (errors and warnings logged all day, unrelated to the fault:
///   workload, level, message with `<*>` for its variables, `period_seconds` or
///   `request_share`). The cascade's file has none of them, as before.
/// - `faults`: the fault as `labels.json` lists faults (`inject_time`, `inject_pod`, `workload`,
///   `namespace`, `fault_type`, `window` [from, to], `baseline` [from, to]).
public struct IncidentScenario: Sendable, Codable, Equatable {
    public struct Span: Sendable, Codable, Equatable {
        public var from: String
        public var to: String
        public var fromNs: Int64
        public var toNs: Int64
        public var seconds: Double

        init(from: Int64, to: Int64) {
            self.from = Stamp.rfc3339(from)
            self.to = Stamp.rfc3339(to)
            fromNs = from
            toNs = to
            seconds = Double(to - from) / 1e9
        }

        enum CodingKeys: String, CodingKey {
            case from, to, seconds
            case fromNs = "from_ns"
            case toNs = "to_ns"
        }
    }

    public struct Restart: Sendable, Codable, Equatable {
        public var pod: String
        public var container: String
        public var restart: Int
        public var time: String
    }

    public struct Fault: Sendable, Codable, Equatable {
        public var namespace: String
        public var workload: String
        public var workloadKind: String
        public var type: IncidentFaultKind
        public var description: String
        public var start: String
        public var end: String
        public var startNs: Int64
        public var endNs: Int64
        public var pods: [String]
        public var restarts: [Restart]
        public var propagatesTo: [String]

        enum CodingKeys: String, CodingKey {
            case namespace, workload, type, description, start, end, pods, restarts
            case workloadKind = "workload_kind"
            case startNs = "start_ns"
            case endNs = "end_ns"
            case propagatesTo = "propagates_to"
        }
    }

    public struct Workload: Sendable, Codable, Equatable {
        public var namespace: String
        public var name: String
        public var kind: String
        /// `edge` (the ingress), `service` (answers requests), `datastore`, `consumer` (reads
        /// events; nothing waits for it) or `node-agent`.
        public var role: String
        public var pods: [String]
        public var container: String
        public var format: String
        public var traced: Bool
        public var calls: [String]
    }

    public struct Requests: Sendable, Codable, Equatable {
        public var baseline: Int
        public var window: Int
        public var failedInBaseline: Int
        public var failedInWindow: Int

        enum CodingKeys: String, CodingKey {
            case baseline, window
            case failedInBaseline = "failed_in_baseline"
            case failedInWindow = "failed_in_window"
        }
    }

    /// One fault as `labels.json` of the Train-Ticket set lists it.
    public struct Label: Sendable, Codable, Equatable {
        public var injectTime: String
        public var injectPod: String
        public var workload: String
        public var namespace: String
        public var faultType: String
        public var window: [String]
        public var baseline: [String]

        enum CodingKeys: String, CodingKey {
            case workload, namespace, window, baseline
            case injectTime = "inject_time"
            case injectPod = "inject_pod"
            case faultType = "fault_type"
        }
    }

    public var version = 1
    public var seed: UInt64
    public var node: String
    public var requestsPerSecond: Double
    public var range: Span
    public var baseline: Span
    public var window: Span
    public var fault: Fault
    public var workloads: [Workload]
    public var requests: Requests
    public var records: Int
    public var faults: [Label]
    /// Random topologies only (nil, and absent from the file, for the cascade): the seed of
    /// the topology, the window's load over the baseline's, the fault's magnitude, and the
    /// errors and warnings present all day.
    public var topologySeed: UInt64?
    public var windowLoadFactor: Double?
    public var faultParameters: FaultParameters?
    public var backgroundNoise: [Noise]?

    public struct FaultParameters: Sendable, Codable, Equatable {
        /// Share of the requests reaching the workload that the fault touches.
        public var intensity: Double
        public var networkDelayMs: Int?
        public var cpuSlowdown: Double?

        enum CodingKeys: String, CodingKey {
            case intensity
            case networkDelayMs = "network_delay_ms"
            case cpuSlowdown = "cpu_slowdown"
        }
    }

    /// An error or warning a workload logs all day, unrelated to the fault.
    public struct Noise: Sendable, Codable, Equatable {
        public var namespace: String
        public var workload: String
        public var level: String
        public var message: String
        /// Periodic (whatever the load) or per request (rises with the load).
        public var periodSeconds: Double?
        public var requestShare: Double?

        enum CodingKeys: String, CodingKey {
            case namespace, workload, level, message
            case periodSeconds = "period_seconds"
            case requestShare = "request_share"
        }
    }

    enum CodingKeys: String, CodingKey {
        case version, seed, node, range, baseline, window, fault, workloads, requests, records, faults
        case requestsPerSecond = "requests_per_second"
        case topologySeed = "topology_seed"
        case windowLoadFactor = "window_load_factor"
        case faultParameters = "fault_parameters"
        case backgroundNoise = "background_noise"
    }
}

/// One record as an agent and the collector's parsers would deliver it, for tests that feed
/// a diagnosis without running the pipeline.
public struct ScenarioRecord: Sendable, Equatable {
    /// Runtime time of the record's first line, ns since the epoch.
    public var time: Int64
    public var namespace: String
    public var pod: String
    public var container: String
    public var restart: Int
    /// `stdout` or `stderr`.
    public var stream: String
    /// The application's text: every line of the record joined with `\n` (header included,
    /// as it was written).
    public var body: String
    /// The level written in the line (`debug`, `info`, `warn`, `error`, `fatal`), or for
    /// access logs the one their status implies (5xx error, 4xx warn); nil when the line has
    /// none (PostgreSQL `LOG:`/`STATEMENT:`, Redis, Go's `panic:`).
    public var severity: String?
    /// 32 and 16 lowercase hex digits, when the line carries them.
    public var traceID: String?
    public var spanID: String?
}

/// Everything `IncidentScenarioGenerator.generate` produced.
public struct GeneratedIncident: Sendable {
    public var tree: GeneratedTree
    public var scenario: IncidentScenario
    /// Filled only when asked for (`collectRecords`), in time order.
    public var records: [ScenarioRecord]
}
