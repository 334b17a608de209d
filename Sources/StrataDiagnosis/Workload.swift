import StrataCore

/// The unit a diagnosis blames: a namespace plus the controller that owns the pods.
public struct Workload: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public static func < (lhs: Workload, rhs: Workload) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }
}

/// What kind of controller the pod name suggests. Names alone cannot always tell a DaemonSet
/// from a Job (both append five random characters), so those share one case.
public enum WorkloadKind: String, Sendable, Hashable, Codable {
    /// `<deployment>-<pod-template-hash>-<5 random>`.
    case deployment
    /// `<statefulset>-<ordinal>`.
    case statefulSet = "statefulset"
    /// `<cronjob>-<scheduled minute since epoch>-<5 random>`.
    case cronJob = "cronjob"
    /// `<daemonset or job>-<5 random>`.
    case daemonSetOrJob = "daemonset_or_job"
    /// A static (mirror) pod: `<name>-<node name>`.
    case staticPod = "static"
    /// Named by an explicit owner attribute on the record's resource.
    case declared
    /// A bare pod, or a name that follows no controller's pattern: the pod is its own workload.
    case pod
}

/// A pod's owning workload, how it was recognised, and what identifies the pod inside it.
public struct WorkloadIdentity: Sendable, Hashable {
    public var workload: Workload
    public var kind: WorkloadKind
    /// The StatefulSet ordinal, kept apart from the workload name (`db-2` is instance 2 of `db`).
    public var ordinal: Int?

    public init(workload: Workload, kind: WorkloadKind, ordinal: Int? = nil) {
        self.workload = workload
        self.kind = kind
        self.ordinal = ordinal
    }
}

/// Derives the owning workload from a pod name, following the names Kubernetes controllers
/// generate (docs/DIAGNOSIS.md, "Workloads"):
///
/// - Deployment: the ReplicaSet appends the pod-template hash (up to 10 characters of the
///   "safe" alphabet `bcdfghjklmnpqrstvwxz2456789`, or up to 10 digits in clusters older than
///   1.8), then the pod gets 5 more safe characters. Both are stripped.
/// - CronJob: the Job is named with the scheduled time in minutes since the epoch (digits),
///   then the pod gets 5 safe characters. Both are stripped.
/// - DaemonSet and Job: 5 safe characters are stripped.
/// - StatefulSet: a trailing ordinal is stripped from the name and kept as `ordinal`.
/// - Static pods: the kubelet appends `-<node name>`; stripped when the node is known.
///
/// Explicit owner attributes on the resource (`k8s.deployment.name`, `k8s.statefulset.name`,
/// `k8s.daemonset.name`, `k8s.cronjob.name`, `k8s.job.name`, as the OpenTelemetry k8s
/// attributes processor sets them) win over the name.
public enum WorkloadResolver {
    static let safeAlphabet = Set("bcdfghjklmnpqrstvwxz2456789".utf8)

    static let ownerKeys = [
        "k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name", "k8s.cronjob.name",
        "k8s.job.name", "k8s.replicaset.name",
    ]

    public static func identity(of resource: Resource) -> WorkloadIdentity {
        let namespace = resource[ResourceKey.namespace] ?? ""
        for key in ownerKeys {
            if let owner = resource[key], !owner.isEmpty {
                if key == "k8s.replicaset.name" {
                    // A ReplicaSet name is `<deployment>-<hash>`; the deployment is the workload.
                    let parts = owner.split(separator: "-", omittingEmptySubsequences: false)
                    if parts.count >= 2, isTemplateHash(parts[parts.count - 1]) {
                        return WorkloadIdentity(
                            workload: Workload(namespace: namespace, name: parts.dropLast().joined(separator: "-")),
                            kind: .declared)
                    }
                }
                return WorkloadIdentity(workload: Workload(namespace: namespace, name: owner), kind: .declared)
            }
        }
        let pod = resource[ResourceKey.pod] ?? resource[ResourceKey.container] ?? "unknown"
        return identity(namespace: namespace, pod: pod, node: resource[ResourceKey.node])
    }

    public static func identity(namespace: String, pod: String, node: String? = nil) -> WorkloadIdentity {
        func make(_ name: some StringProtocol, _ kind: WorkloadKind, ordinal: Int? = nil) -> WorkloadIdentity {
            WorkloadIdentity(workload: Workload(namespace: namespace, name: String(name)), kind: kind, ordinal: ordinal)
        }
        if let node, !node.isEmpty, pod.count > node.count + 1, pod.hasSuffix("-" + node) {
            return make(pod.dropLast(node.count + 1), .staticPod)
        }
        let parts = pod.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else { return make(pod, .pod) }
        let last = parts[parts.count - 1]
        if parts.count >= 3, isRandomSuffix(last) {
            let middle = parts[parts.count - 2]
            if isScheduledMinute(middle) { return make(parts.dropLast(2).joined(separator: "-"), .cronJob) }
            if isTemplateHash(middle) { return make(parts.dropLast(2).joined(separator: "-"), .deployment) }
        }
        if isRandomSuffix(last) { return make(parts.dropLast().joined(separator: "-"), .daemonSetOrJob) }
        if let ordinal = statefulOrdinal(last) {
            return make(parts.dropLast().joined(separator: "-"), .statefulSet, ordinal: ordinal)
        }
        return make(pod, .pod)
    }

    public static func workload(namespace: String, pod: String, node: String? = nil) -> Workload {
        identity(namespace: namespace, pod: pod, node: node).workload
    }

    /// Five characters of the safe alphabet (no vowels, so `redis` or `nginx` never match).
    static func isRandomSuffix(_ part: Substring) -> Bool {
        part.utf8.count == 5 && part.utf8.allSatisfy { safeAlphabet.contains($0) }
    }

    /// The pod-template hash: 6 to 10 safe characters (current clusters) or 8 to 10 digits
    /// (clusters before 1.8 wrote a decimal FNV hash).
    static func isTemplateHash(_ part: Substring) -> Bool {
        let count = part.utf8.count
        if (8...10).contains(count), part.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return true
        }
        // The safe alphabet has no vowels, so English words do not pass for hashes.
        return (6...10).contains(count) && part.utf8.allSatisfy { safeAlphabet.contains($0) }
    }

    /// CronJob-created Jobs carry the scheduled time in minutes since the epoch: 8 digits from
    /// 1975 until the 2160s.
    static func isScheduledMinute(_ part: Substring) -> Bool {
        part.utf8.count == 8 && part.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            && part.first != "0"
    }

    static func statefulOrdinal(_ part: Substring) -> Int? {
        guard (1...5).contains(part.utf8.count),
            part.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        // Ordinals are written without leading zeros; `-007` is part of a name.
        if part.utf8.count > 1 && part.first == "0" { return nil }
        return Int(part)
    }
}
