/// The unit a diagnosis blames: a namespace plus the controller that owns the pods.
public struct Workload: Sendable, Hashable, Comparable {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public static func < (lhs: Workload, rhs: Workload) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}
