import StrataCore

/// Records whose every field is set, for tests of what is written and read back.
public enum SampleRecords {
    /// A multi-line stderr error with a trace id, attributes in a non-sorted order and a pod.
    public static let refusedConnection = LogRecord(
        timestamp: 1_795_255_200_123_456_789, observedTimestamp: 1_795_255_200_200_000_000, stream: .stderr, severity: .error,
        body: "GET /api/v1/orders: Connection refused\n\tat Foo.bar", traceID: TraceID(high: 1, low: 2),
        attributes: [Attribute("status", "503"), Attribute("a", "1")],
        resource: Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, "api-1")]),
        flags: [.multiline])
}
