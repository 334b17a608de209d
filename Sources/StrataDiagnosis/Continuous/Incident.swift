import Foundation
import StrataCore

/// A point in time, nanoseconds since the epoch, written as an RFC 3339 string in JSON.
public struct IncidentTime: Sendable, Hashable, Comparable, Codable {
    public var nanos: Int64

    public init(_ nanos: Int64) { self.nanos = nanos }

    public static func < (lhs: IncidentTime, rhs: IncidentTime) -> Bool { lhs.nanos < rhs.nanos }

    public var text: String { RFC3339.format(nanos: nanos) }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let nanos = RFC3339Parser.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time: '\(text)'")
        }
        self.nanos = nanos
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

public enum IncidentState: String, Sendable, Hashable, Codable, CaseIterable {
    case open
    case resolved
}

/// A state change, each of which is notified once per webhook.
public enum IncidentEvent: String, Sendable, Hashable, Codable {
    case opened
    case updated
    case resolved
}

public enum IncidentSeverity: String, Sendable, Hashable, Codable {
    case warning
    case critical
}

/// What an incident says at a glance, as last notified: an update is due when this changes
/// materially (another top suspect, another severity, another set of anomalous top suspects).
public struct IncidentHeadline: Sendable, Codable, Equatable {
    public var severity: IncidentSeverity
    public var topSuspect: SuspectRef?
    /// The anomalous suspects (score at or above the diagnosis' threshold) among the first three.
    public var anomalousSuspects: [SuspectRef]
    public var summary: String

    public struct SuspectRef: Sendable, Codable, Hashable {
        public var namespace: String
        public var workload: String
        public var score: Double

        public var name: String { namespace.isEmpty ? workload : "\(namespace)/\(workload)" }
    }

    func differsMaterially(from other: IncidentHeadline) -> Bool {
        func names(_ refs: [SuspectRef]) -> Set<String> { Set(refs.map(\.name)) }
        return severity != other.severity || topSuspect?.name != other.topSuspect?.name
            || names(anomalousSuspects) != names(other.anomalousSuspects)
    }
}

/// One entry of an incident's history: a notified state change.
public struct IncidentTransition: Sendable, Codable, Equatable {
    public var version: Int
    public var event: IncidentEvent
    public var at: IncidentTime
    public var severity: IncidentSeverity
    public var topSuspect: IncidentHeadline.SuspectRef?
    /// What triggered it: the strongest anomaly, what changed, or how long it was quiet.
    public var reason: String
}

/// The baseline an incident was opened against, kept while it is open so a long outage is
/// not compared with itself.
public struct FrozenBaseline: Sendable, Codable, Equatable {
    public var from: IncidentTime
    public var to: IncidentTime
    public var workloads: [Entry]

    public struct Entry: Sendable, Codable, Equatable {
        public var namespace: String
        public var workload: String
        public var kind: String
        public var activity: WorkloadActivity
    }
}

/// A notification waiting in the outbox (persisted inside its incident's file, so the state
/// change and its notifications are written by one atomic rename).
public struct PendingNotification: Sendable, Codable, Equatable {
    /// `<incident id>:<version>`, sent as `X-Strata-Idempotency-Key`; the same for every
    /// webhook, unique per state change.
    public var key: String
    public var webhook: String
    public var incidentId: String
    public var version: Int
    public var event: IncidentEvent
    /// The exact body, rendered when the state changed (later versions do not alter it).
    public var body: String
    public var createdAt: IncidentTime
    public var attempts: Int
    public var nextAttemptAt: IncidentTime
    public var lastError: String?
}

/// An incident: opened when an evaluation finds an anomaly, updated when its headline changes
/// materially, resolved after a quiet period. `version` counts notified state changes.
public struct Incident: Sendable, Codable, Equatable {
    public var id: String
    public var state: IncidentState
    public var version: Int
    public var openedAt: IncidentTime
    public var updatedAt: IncidentTime
    public var resolvedAt: IncidentTime?
    /// First anomalous event (the report's incident start, else the window's start).
    public var start: IncidentTime
    /// The end of the last anomalous window (set when resolved).
    public var end: IncidentTime?
    public var lastAnomalyAt: IncidentTime
    /// As last notified.
    public var headline: IncidentHeadline
    /// The anomalies of the last anomalous evaluation.
    public var anomalies: [WorkloadAnomaly]
    /// The latest diagnosis (refreshed at every anomalous evaluation, notified or not).
    public var report: DiagnosisReport
    public var reportAt: IncidentTime
    public var history: [IncidentTransition]
    public var baseline: FrozenBaseline
    public var outbox: [PendingNotification]
    /// Notifications given up (attempts exhausted, or refused with a 4xx); kept for the API.
    public var failedNotifications: [PendingNotification]
}

extension Incident {
    static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// The row `GET /api/v1/incidents` and `strata incidents` show.
    public var summary: IncidentSummary {
        IncidentSummary(
            id: id, state: state, version: version, severity: headline.severity, openedAt: openedAt, updatedAt: updatedAt,
            resolvedAt: resolvedAt, start: start, end: end, topSuspect: headline.topSuspect, summary: headline.summary,
            anomalousWorkloads: report.incident.anomalousWorkloads, pendingNotifications: outbox.count,
            failedNotifications: failedNotifications.count)
    }
}

/// One incident in a list (docs/API.md, "Incident endpoints").
public struct IncidentSummary: Sendable, Codable, Equatable {
    public var id: String
    public var state: IncidentState
    public var version: Int
    public var severity: IncidentSeverity
    public var openedAt: IncidentTime
    public var updatedAt: IncidentTime
    public var resolvedAt: IncidentTime?
    public var start: IncidentTime
    public var end: IncidentTime?
    public var topSuspect: IncidentHeadline.SuspectRef?
    public var summary: String
    public var anomalousWorkloads: Int
    public var pendingNotifications: Int
    public var failedNotifications: Int
}

/// One incident in full (docs/API.md, "Incident endpoints"): the summary, its history, the anomalies that
/// keep it open, notifications that failed, and the current report.
public struct IncidentDetail: Sendable, Codable, Equatable {
    public var incident: IncidentSummary
    public var history: [IncidentTransition]
    public var anomalies: [WorkloadAnomaly]
    public var failedNotifications: [FailedNotification]
    public var reportAt: IncidentTime
    public var report: DiagnosisReport

    public struct FailedNotification: Sendable, Codable, Equatable {
        public var webhook: String
        public var key: String
        public var event: IncidentEvent
        public var attempts: Int
        public var error: String?
    }

    public init(_ incident: Incident) {
        self.incident = incident.summary
        history = incident.history
        anomalies = incident.anomalies
        failedNotifications = incident.failedNotifications.map {
            FailedNotification(webhook: $0.webhook, key: $0.key, event: $0.event, attempts: $0.attempts, error: $0.lastError)
        }
        reportAt = incident.reportAt
        report = incident.report
    }
}
