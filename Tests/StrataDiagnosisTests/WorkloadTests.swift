import StrataCore
import Testing

@testable import StrataDiagnosis

@Test func workloadsOrderByNamespaceThenName() {
    let a = Workload(namespace: "a", name: "z")
    let b = Workload(namespace: "b", name: "a")
    #expect(a < b)
}

@Test(arguments: [
    // Deployment: ReplicaSet hash (safe alphabet) + 5-character pod suffix.
    ("ts-contacts-service-866bd68c97-xcqfx", "ts-contacts-service", WorkloadKind.deployment),
    ("ts-execute-service-775f544d9-tmwcv", "ts-execute-service", .deployment),
    ("coredns-5d78c9869d-2xq7k", "coredns", .deployment),
    // A short hash (kube 1.8+ hashes can be shorter than 10) and a hash of letters only.
    ("web-7d4b9c-bcdfg", "web", .deployment),
    ("api-bcdfghjkl-zz2xq", "api", .deployment),
    // Clusters before 1.8 wrote a decimal hash.
    ("nginx-3035859230-xk2lp", "nginx", .deployment),
    // CronJob: scheduled minute since the epoch + pod suffix.
    ("backup-28034567-7xk9p", "backup", .cronJob),
    // DaemonSet or Job: a single 5-character suffix.
    ("fluent-bit-x7k2p", "fluent-bit", .daemonSetOrJob),
    ("db-migrate-q8zr4", "db-migrate", .daemonSetOrJob),
    // StatefulSet: the ordinal is stripped from the name and kept apart.
    ("postgres-0", "postgres", .statefulSet),
    ("kafka-broker-12", "kafka-broker", .statefulSet),
    // Words are never mistaken for suffixes: they have vowels.
    ("redis-cache", "redis-cache", .pod),
    ("my-nginx", "my-nginx", .pod),
    // Leading zeros are part of a name, not an ordinal.
    ("build-007", "build-007", .pod),
    ("standalone", "standalone", .pod),
    // Degenerate names stay whole.
    ("trailing-", "trailing-", .pod),
    ("-x7k2p", "-x7k2p", .pod),
])
func workloadFromPodName(pod: String, workload: String, kind: WorkloadKind) {
    let identity = WorkloadResolver.identity(namespace: "ns", pod: pod)
    #expect(identity.workload == Workload(namespace: "ns", name: workload))
    #expect(identity.kind == kind)
}

@Test func statefulSetOrdinalIsKeptApart() {
    let identity = WorkloadResolver.identity(namespace: "data", pod: "zookeeper-2")
    #expect(identity.workload.name == "zookeeper")
    #expect(identity.ordinal == 2)
    #expect(WorkloadResolver.identity(namespace: "data", pod: "zookeeper-0").workload == identity.workload)
}

@Test func staticPodsLoseTheNodeName() {
    let identity = WorkloadResolver.identity(namespace: "kube-system", pod: "kube-apiserver-node-1", node: "node-1")
    #expect(identity.workload.name == "kube-apiserver")
    #expect(identity.kind == .staticPod)
}

@Test func ownerAttributesWinOverThePodName() {
    var resource = Resource()
    resource[ResourceKey.namespace] = "shop"
    resource[ResourceKey.pod] = "odd-name-0"
    resource["k8s.deployment.name"] = "checkout"
    #expect(WorkloadResolver.identity(of: resource).workload == Workload(namespace: "shop", name: "checkout"))

    var replicaSet = Resource()
    replicaSet[ResourceKey.namespace] = "shop"
    replicaSet[ResourceKey.pod] = "whatever"
    replicaSet["k8s.replicaset.name"] = "cart-6d8f7b9c5d"
    #expect(WorkloadResolver.identity(of: replicaSet).workload.name == "cart")
}

@Test func podsOfOneDeploymentShareTheWorkload() {
    let a = WorkloadResolver.workload(namespace: "t", pod: "ts-basic-service-5dc8d4f9fd-46997")
    let b = WorkloadResolver.workload(namespace: "t", pod: "ts-basic-service-5dc8d4f9fd-llznp")
    #expect(a == b)
    #expect(a != WorkloadResolver.workload(namespace: "other", pod: "ts-basic-service-5dc8d4f9fd-llznp"))
}
