/// The scenario's cluster: who runs where, how each workload logs, and who calls whom.
///
///     ingress-nginx-controller ─► frontend ─┬─► catalog ─────────────► cache
///                                           └─► orders ─┬─► inventory ─► cache
///                                                       ├─► shipping
///                                                       ├─► payments ──► payments-db
///                                                       └┄► notifications (events, async)
///     kube-proxy (one per node, talks to nobody)
enum ScenarioFormat: String, Sendable {
    case nginxIngress = "nginx-ingress"
    case goZap = "go-zap-json"
    case springBoot2 = "java-spring-boot2-sleuth"
    case springBoot3 = "java-spring-boot3-micrometer"
    case goSlog = "go-slog-logfmt"
    case nodePino = "node-pino-json"
    case pythonOTel = "python-logging-otel"
    case pythonJSON = "python-json-logger"
    case postgres = "postgresql"
    case redis = "redis"
    case klog = "go-klog"
    /// Java with logback's pattern naming the class and line (`c.e.kovar.BasketHandler#57`);
    /// random topologies only.
    case javaLogback = "java-logback"

    /// Whether the application writes trace ids into its lines.
    var traced: Bool {
        switch self {
        case .postgres, .redis, .klog: false
        default: true
        }
    }

    /// Seconds from a container's start until it accepts requests.
    var startupSeconds: ClosedRange<Double> {
        switch self {
        case .springBoot2, .springBoot3, .javaLogback: 7...12
        case .pythonOTel, .pythonJSON: 2...4
        case .postgres: 2...5
        case .redis: 0.5...1.5
        default: 1...2
        }
    }
}

enum ScenarioRole: String, Sendable {
    case edge, service, datastore, consumer
    case nodeAgent = "node-agent"
}

struct ScenarioWorkload: Sendable {
    var name: String
    var namespace: String
    var kind: WorkloadKind
    var replicas: Int
    var container: String
    var format: ScenarioFormat
    var port: Int
    var role: ScenarioRole
    /// Workloads it calls, by name; `notifications` is reached through events.
    var calls: [String]
    /// Whether its lines carry trace ids, when it differs from what its format usually does
    /// (random topologies keep some services untraced).
    var tracing: Bool? = nil

    var faultable: Bool { role == .service || role == .datastore || role == .consumer }
    var traced: Bool { tracing ?? format.traced }
    /// The Service's DNS name, as clients spell it in URLs and connection errors.
    var host: String { "\(name).\(namespace).svc.cluster.local" }
}

enum ScenarioTopology {
    static let workloads: [ScenarioWorkload] = [
        .init(name: "ingress-nginx-controller", namespace: "ingress-nginx", kind: .deployment, replicas: 1, container: "controller",
              format: .nginxIngress, port: 80, role: .edge, calls: ["frontend"]),
        .init(name: "frontend", namespace: "shop", kind: .deployment, replicas: 2, container: "frontend",
              format: .goZap, port: 8080, role: .service, calls: ["catalog", "orders"]),
        .init(name: "catalog", namespace: "shop", kind: .deployment, replicas: 2, container: "catalog",
              format: .pythonJSON, port: 8000, role: .service, calls: ["cache"]),
        .init(name: "orders", namespace: "shop", kind: .deployment, replicas: 2, container: "orders",
              format: .springBoot2, port: 8080, role: .service, calls: ["inventory", "shipping", "payments", "notifications"]),
        .init(name: "inventory", namespace: "shop", kind: .deployment, replicas: 1, container: "inventory",
              format: .goSlog, port: 8080, role: .service, calls: ["cache"]),
        .init(name: "shipping", namespace: "shop", kind: .deployment, replicas: 2, container: "shipping",
              format: .nodePino, port: 3000, role: .service, calls: []),
        .init(name: "payments", namespace: "payments", kind: .deployment, replicas: 2, container: "payments",
              format: .pythonOTel, port: 8000, role: .service, calls: ["payments-db"]),
        .init(name: "payments-db", namespace: "payments", kind: .statefulSet, replicas: 1, container: "postgres",
              format: .postgres, port: 5432, role: .datastore, calls: []),
        .init(name: "cache", namespace: "shop", kind: .statefulSet, replicas: 1, container: "redis",
              format: .redis, port: 6379, role: .datastore, calls: []),
        .init(name: "notifications", namespace: "shop", kind: .deployment, replicas: 1, container: "notifications",
              format: .springBoot3, port: 8080, role: .consumer, calls: []),
        .init(name: "kube-proxy", namespace: "kube-system", kind: .daemonSet, replicas: 1, container: "kube-proxy",
              format: .klog, port: 10256, role: .nodeAgent, calls: []),
    ]

    static func index(of name: String) -> Int? { workloads.firstIndex { $0.name == name } }

    /// Workloads whose requests pass through `workload` (its callers, their callers...),
    /// nearest first. Event consumers are not callers: nothing waits for them.
    static func upstream(of workload: Int) -> [Int] {
        var result: [Int] = []
        var frontier = [workload]
        while !frontier.isEmpty {
            var next: [Int] = []
            for target in frontier {
                let name = workloads[target].name
                for (i, w) in workloads.enumerated() where w.calls.contains(name) && !result.contains(i) {
                    if workloads[target].role == .consumer { continue }
                    result.append(i)
                    next.append(i)
                }
            }
            frontier = next
        }
        return result
    }
}

/// One pod of the scenario, with its containers' lives: restart `n` runs from
/// `starts[n]` (restart 0 was running before the tree begins) until `crashes[n]`, if any.
struct ScenarioPod: Sendable {
    var workload: Int
    var name: String
    var uid: String
    var ip: String
    var format: LogFormat
    /// Container start times of restarts 1, 2, ... and ready times (accepting requests).
    var restarts: [(crash: Int64, start: Int64, ready: Int64)] = []
    var containerIDs: [String] = []

    /// Restart number of the container alive (or starting) at `time`; nil while it is dead.
    func restart(at time: Int64) -> Int? {
        var number = 0
        for (i, r) in restarts.enumerated() {
            if time < r.crash { return number }
            if time < r.start { return nil }
            number = i + 1
        }
        return number
    }

    /// True when the pod serves requests at `time`.
    func isReady(at time: Int64) -> Bool {
        for r in restarts where time >= r.crash && time < r.ready { return false }
        return true
    }

    /// True while a restarted container is starting (up, but not yet ready).
    func isStarting(at time: Int64) -> Bool {
        restarts.contains { time >= $0.start && time < $0.ready }
    }

    /// The first crash in `from..<to`.
    func crash(in from: Int64, _ to: Int64) -> Int64? {
        restarts.first { $0.crash >= from && $0.crash < to }?.crash
    }
}

extension ScenarioPod {
    /// Routes a call to one of a workload's pods the way a Service does: a pod that died stays
    /// in the endpoints for a few seconds (readiness probes have not failed yet); after that a
    /// ready pod is chosen if there is one. Shared by the fixed and the random simulators.
    static func route(among candidates: [Int], pods: [ScenarioPod], at t: Int64, rng: inout SplitMix64) -> Int {
        var pod = candidates[rng.below(candidates.count)]
        if !pods[pod].isReady(at: t) {
            let lastCrash = pods[pod].restarts.last { $0.crash <= t }?.crash ?? t
            if t - lastCrash > 5_000_000_000, let other = candidates.first(where: { pods[$0].isReady(at: t) }) {
                pod = other
            }
        }
        return pod
    }
}
