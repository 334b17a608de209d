import StrataCore
import StrataSampleData

extension ScenarioRecord {
    /// The record as the collector would store it: the severity and trace ids its parsers read
    /// from the line, the Kubernetes identity the agent read from the path.
    public var logRecord: LogRecord {
        var resource = Resource()
        resource[ResourceKey.namespace] = namespace
        resource[ResourceKey.pod] = pod
        resource[ResourceKey.container] = container
        resource[ResourceKey.restartCount] = String(restart)
        return LogRecord(
            timestamp: time, observedTimestamp: time, stream: stream == "stderr" ? .stderr : .stdout,
            severity: severity.flatMap { Severity(text: $0) }, body: body,
            traceID: traceID.flatMap { TraceID(hex: $0) }, spanID: spanID.flatMap { SpanID(hex: $0) }, resource: resource)
    }
}
