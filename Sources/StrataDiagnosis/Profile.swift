import StrataCore

/// A half-open time range in nanoseconds since the epoch.
public struct TimeRange: Sendable, Hashable {
    public var from: Int64
    public var to: Int64

    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }

    public var seconds: Double { Double(max(0, to - from)) / 1e9 }
    public func contains(_ time: Int64) -> Bool { time >= from && time < to }
}

/// What one workload logged during one time range.
struct WorkloadProfile {
    struct TemplateStat {
        var count = 0
        var level = RecordLevel.normal
        var first = Int64.max
        var example: Example?
    }

    struct Example {
        var time: Int64
        var pod: String
        var body: String
    }

    struct SignatureStat {
        var count = 0
        var first = Int64.max
        var hosts: [String: Int] = [:]
        var example = ""
    }

    var records = 0
    var errors = 0
    var warnings = 0
    var templates: [String: TemplateStat] = [:]
    /// Restart numbers seen per `pod/container`.
    var restarts: [String: ClosedRange<Int>] = [:]
    var signatures: [FailureSignature: SignatureStat] = [:]
    /// Times of error records, for the timeline and the incident grouping.
    var errorTimes: [Int64] = []
    var firstError: Example?
    /// Names of other services in this workload's error and warning messages.
    var mentions: [String: Int] = [:]
}

/// One log line of a request, for rebuilding call chains.
struct TraceEvent {
    var time: Int64
    var workload: Int
    var level: RecordLevel
    /// The event (`EventTable`): workload, source location and template.
    var event: Int
    /// Position in the order records were read, to order lines stamped alike.
    var sequence: Int
}

/// The workloads seen in both ranges, numbered, with how each was recognised.
struct WorkloadTable {
    private(set) var identities: [WorkloadIdentity] = []
    private var indexByWorkload: [Workload: Int] = [:]
    /// Cache keyed by namespace + pod + node: thousands of records share a resource.
    private var indexByPodKey: [String: Int] = [:]

    mutating func index(of resource: Resource) -> Int {
        let podKey = (resource[ResourceKey.namespace] ?? "") + "\u{1}" + (resource[ResourceKey.pod] ?? "") + "\u{1}"
            + (resource[ResourceKey.node] ?? "") + "\u{1}" + (resource["k8s.deployment.name"] ?? "")
            + (resource["k8s.statefulset.name"] ?? "") + (resource["k8s.daemonset.name"] ?? "")
        if let index = indexByPodKey[podKey] { return index }
        let identity = WorkloadResolver.identity(of: resource)
        let index: Int
        if let existing = indexByWorkload[identity.workload] {
            index = existing
        } else {
            index = identities.count
            identities.append(identity)
            indexByWorkload[identity.workload] = index
        }
        indexByPodKey[podKey] = index
        return index
    }

    var count: Int { identities.count }
    func workload(_ index: Int) -> Workload { identities[index].workload }
}

/// Profiles of every workload over one time range, plus that range's requests by trace id.
struct RangeProfile {
    var range: TimeRange
    var profiles: [Int: WorkloadProfile] = [:]
    var traces: [TraceID: [TraceEvent]] = [:]
    var recordCount = 0

    init(range: TimeRange) { self.range = range }

    /// Adds `records` (those outside the range are ignored), learning templates in order.
    mutating func add(
        _ records: [LogRecord], table: inout WorkloadTable, events: inout EventTable, templater: MessageTemplating,
        keepExamples: Bool
    ) {
        for record in records where range.contains(record.timestamp) {
            recordCount += 1
            let workload = table.index(of: record.resource)
            let level = RecordLevel.of(severity: record.severity, body: record.body)
            let pod = record.resource[ResourceKey.pod] ?? ""
            var profile = profiles[workload] ?? WorkloadProfile()
            profile.records += 1
            switch level {
            case .error:
                profile.errors += 1
                profile.errorTimes.append(record.timestamp)
                if (profile.firstError?.time ?? .max) > record.timestamp {
                    profile.firstError = .init(time: record.timestamp, pod: pod, body: record.body)
                }
            case .warning: profile.warnings += 1
            case .normal: break
            }
            let (id, templateText) = templater.template(for: templateMessage(of: record.body))
            var stat = profile.templates[id] ?? WorkloadProfile.TemplateStat()
            stat.count += 1
            stat.level = max(stat.level, level)
            if record.timestamp < stat.first {
                stat.first = record.timestamp
                if keepExamples || stat.example == nil {
                    stat.example = .init(time: record.timestamp, pod: pod, body: record.body)
                }
            }
            profile.templates[id] = stat
            if let restart = record.resource[ResourceKey.restartCount].flatMap({ Int($0) }) {
                let key = pod + "/" + (record.resource[ResourceKey.container] ?? "")
                if let seen = profile.restarts[key] {
                    profile.restarts[key] = min(seen.lowerBound, restart)...max(seen.upperBound, restart)
                } else {
                    profile.restarts[key] = restart...restart
                }
            }
            // Signatures and references only matter in messages that report a problem; this
            // also keeps the scan off the hot path of ordinary records.
            var blamesCallee = false
            if level >= .warning || record.severity == nil {
                for match in BodySignals.signatures(in: record.body) {
                    blamesCallee = blamesCallee || !match.signature.blamesReporter
                    var signature = profile.signatures[match.signature] ?? WorkloadProfile.SignatureStat()
                    signature.count += 1
                    if let host = match.host { signature.hosts[host, default: 0] += 1 }
                    if record.timestamp < signature.first {
                        signature.first = record.timestamp
                        signature.example = record.body
                    }
                    profile.signatures[match.signature] = signature
                }
            }
            if level >= .warning {
                for name in Set(HostReferences.hosts(in: record.body) + HostReferences.pathSegments(in: record.body)) {
                    profile.mentions[name, default: 0] += 1
                }
            }
            profiles[workload] = profile

            var traceID = record.traceID
            if traceID == nil { traceID = TextTraceContext.extract(from: record.body).trace }
            if let traceID {
                // A source location names one logging statement: its messages are one event however
                // the miner splits their variable parts. The template stands in where no parser
                // found a location.
                let location = sourceLocation(of: record)
                let event = events.id(
                    of: EventKey(workload: workload, location: location, template: location.isEmpty ? id : ""),
                    text: templateText)
                if blamesCallee { events.markBlamesCallee(event) }
                traces[traceID, default: []].append(
                    TraceEvent(time: record.timestamp, workload: workload, level: level, event: event, sequence: recordCount))
            }
        }
    }
}
