/// Kubernetes object names and identifiers, shaped like the ones real controllers create.
enum Names {
    /// Alphabet of `rand.SafeEncodeString` in apimachinery, used for pod-template hashes and
    /// generated name suffixes (no vowels, no look-alike characters).
    static let safeAlphabet: [UInt8] = Array("bcdfghjklmnpqrstvwxz2456789".utf8)

    static func safeString(_ length: Int, _ rng: inout SplitMix64) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(length)
        for _ in 0..<length { bytes.append(safeAlphabet[rng.below(safeAlphabet.count)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Random UUID (version 4), lowercase, as Kubernetes assigns to pods.
    static func uuid(_ rng: inout SplitMix64) -> String {
        var w = LineWriter(capacity: 36)
        w.append(uuid: rng.next(), rng.next())
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// A container id: 64 lowercase hex digits (a SHA-256 in containerd and docker).
    static func containerID(_ rng: inout SplitMix64) -> String {
        var w = LineWriter(capacity: 64)
        for _ in 0..<4 { w.append(hex: rng.next(), digits: 16) }
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// Namespaces in the order they are handed out; past the list, `team-N`.
    static let namespaceOrder = [
        "shop", "kube-system", "payments", "monitoring", "ingress-nginx", "data", "auth", "platform",
        "cert-manager",
    ]

    static func namespaces(_ count: Int) -> [String] {
        (0..<max(1, count)).map { $0 < namespaceOrder.count ? namespaceOrder[$0] : "team-\($0 - namespaceOrder.count + 1)" }
    }
}

extension LineWriter {
    /// `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx` from 128 random bits.
    mutating func append(uuid hi: UInt64, _ lo: UInt64) {
        let hi = (hi & ~0xF000) | 0x4000
        let lo = (lo & ~(0x3 << 62)) | (0x2 << 62)
        append(hex: hi >> 32, digits: 8)
        append(UInt8(ascii: "-"))
        append(hex: hi >> 16, digits: 4)
        append(UInt8(ascii: "-"))
        append(hex: hi, digits: 4)
        append(UInt8(ascii: "-"))
        append(hex: lo >> 48, digits: 4)
        append(UInt8(ascii: "-"))
        append(hex: lo, digits: 12)
    }
}

/// The application behind a container: decides which log styles it writes, to which streams,
/// and what kind of stack traces it dumps.
enum Profile: String, Sendable, CaseIterable {
    case javaSpring = "java-spring"
    case javaKafka = "java-kafka"
    case goZap = "go-zap"
    case goLogfmt = "go-logfmt"
    case goKlog = "go-klog"
    case goStdlib = "go-stdlib"
    case envoy = "envoy-istio"
    case nginx = "nginx-ingress"
    case python = "python"
}

/// A workload as it might run on a node: its controller kind, home namespace and containers.
struct WorkloadTemplate: Sendable {
    struct Container: Sendable {
        var name: String
        var profile: Profile
        /// Relative log volume (before per-container jitter).
        var volume: Double
        /// Name used inside log lines (service name, logger prefix, ...).
        var app: String
        /// What the application talks about.
        var domain: Domain
    }

    enum Domain: Sendable {
        case service, controller, infrastructure
    }

    var name: String
    var kind: WorkloadKind
    var home: String
    var containers: [Container]

    init(
        _ name: String, _ kind: WorkloadKind, _ home: String, _ domain: Domain,
        _ containers: [(String, Profile, Double)]
    ) {
        self.name = name
        self.kind = kind
        self.home = home
        self.containers = containers.map {
            Container(name: $0.0, profile: $0.1, volume: $0.2, app: name, domain: domain)
        }
    }
}

enum Catalog {
    /// Listed so that the first few already cover every profile and both controller kinds; a
    /// tree with more containers than the catalog holds gets more replicas (and copies of the
    /// workloads in further namespaces).
    static let workloads: [WorkloadTemplate] = [
        WorkloadTemplate("orders", .deployment, "shop", .service, [("orders", .javaSpring, 1.5)]),
        WorkloadTemplate("kube-proxy", .daemonSet, "kube-system", .controller, [("kube-proxy", .goKlog, 0.6)]),
        WorkloadTemplate("cart", .deployment, "shop", .service, [("cart", .goZap, 1.2)]),
        WorkloadTemplate("ingress-nginx-controller", .deployment, "ingress-nginx", .controller, [("controller", .nginx, 2.0)]),
        WorkloadTemplate("catalog", .deployment, "shop", .service, [("catalog", .python, 1.0)]),
        WorkloadTemplate("ledger", .statefulSet, "payments", .service, [("ledger", .goLogfmt, 1.0)]),
        WorkloadTemplate("payments-gateway", .deployment, "payments",
            .service, [("gateway", .javaSpring, 1.2), ("istio-proxy", .envoy, 0.8)]),
        WorkloadTemplate("cilium", .daemonSet, "kube-system", .infrastructure, [("cilium-agent", .goLogfmt, 0.8)]),
        WorkloadTemplate("kafka", .statefulSet, "data", .service, [("kafka", .javaKafka, 1.0)]),
        WorkloadTemplate("oauth2-proxy", .deployment, "auth", .service, [("oauth2-proxy", .goStdlib, 0.5)]),
        WorkloadTemplate("fraud-scorer", .deployment, "payments", .service, [("scorer", .python, 0.8)]),
        WorkloadTemplate("ebs-csi-node", .daemonSet, "kube-system", .controller,
            [("ebs-plugin", .goKlog, 0.4), ("node-driver-registrar", .goKlog, 0.1), ("liveness-probe", .goKlog, 0.1)]),
        WorkloadTemplate("prometheus-k8s", .statefulSet, "monitoring", .infrastructure,
            [("prometheus", .goLogfmt, 0.7), ("config-reloader", .goLogfmt, 0.1)]),
        WorkloadTemplate("checkout", .deployment, "shop", .service, [("checkout", .javaSpring, 1.3), ("istio-proxy", .envoy, 0.7)]),
        WorkloadTemplate("orders-operator", .deployment, "platform", .controller, [("manager", .goZap, 0.6)]),
        WorkloadTemplate("node-exporter", .daemonSet, "monitoring", .infrastructure, [("node-exporter", .goLogfmt, 0.2)]),
        WorkloadTemplate("airflow-worker", .statefulSet, "data", .service, [("worker", .python, 1.0)]),
        WorkloadTemplate("cert-manager", .deployment, "cert-manager", .controller, [("cert-manager-controller", .goKlog, 0.4)]),
        WorkloadTemplate("grafana", .deployment, "monitoring", .infrastructure, [("grafana", .goLogfmt, 0.5)]),
        WorkloadTemplate("identity", .deployment, "auth", .service, [("identity", .javaSpring, 0.9)]),
        WorkloadTemplate("recommendations", .deployment, "shop", .service, [("recommender", .python, 0.9)]),
        WorkloadTemplate("metrics-server", .deployment, "kube-system", .controller, [("metrics-server", .goKlog, 0.3)]),
    ]
}

/// One planned container instance (one file).
struct PlannedContainer: Sendable {
    var namespace: String
    var pod: String
    var podUID: String
    var workload: String
    var kind: WorkloadKind
    var container: WorkloadTemplate.Container
    var podIndex: Int
}

/// Lays out pods on the node until the requested number of containers exists.
struct PodPlanner {
    private var rng: SplitMix64
    private let namespaces: [String]
    /// Per namespace/workload: the ReplicaSet hash and the next ordinal.
    private var controllers: [String: (hash: String, next: Int)] = [:]

    init(namespaces: [String], rng: SplitMix64) {
        self.namespaces = namespaces
        self.rng = rng
    }

    mutating func plan(containers wanted: Int) -> [PlannedContainer] {
        var result: [PlannedContainer] = []
        var round = 0
        var podIndex = 0
        while result.count < wanted {
            for workload in Catalog.workloads where result.count < wanted {
                // Round r places a workload r namespaces past its home; a DaemonSet runs one
                // pod per node, so it gets at most one pod per namespace.
                let homeIndex = Names.namespaceOrder.firstIndex(of: workload.home) ?? 0
                let namespace = namespaces[(homeIndex + round) % namespaces.count]
                let key = namespace + "/" + workload.name
                if workload.kind == .daemonSet && controllers[key] != nil { continue }
                var state = controllers[key] ?? (hash: Names.safeString(10, &rng), next: 0)
                let pod: String
                switch workload.kind {
                case .deployment: pod = "\(workload.name)-\(state.hash)-\(Names.safeString(5, &rng))"
                case .statefulSet: pod = "\(workload.name)-\(state.next)"
                case .daemonSet: pod = "\(workload.name)-\(Names.safeString(5, &rng))"
                }
                state.next += 1
                controllers[key] = state
                let uid = Names.uuid(&rng)
                for container in workload.containers where result.count < wanted {
                    result.append(
                        PlannedContainer(
                            namespace: namespace, pod: pod, podUID: uid, workload: workload.name, kind: workload.kind,
                            container: container, podIndex: podIndex))
                }
                podIndex += 1
            }
            round += 1
        }
        return result
    }
}
