import Foundation
import StrataCore

/// A diagnosis, as docs/REPORT.md specifies it. Field names are the JSON keys (snake_case via
/// the encoder); times are RFC 3339 strings in UTC.
public struct DiagnosisReport: Sendable, Codable, Equatable {
    public static let schemaVersion = 2

    public var version: Int = DiagnosisReport.schemaVersion
    public var generatedAt: String
    public var window: Span
    public var baseline: Span
    public var records: RecordCounts
    public var incident: IncidentSummary
    /// Every group of anomalous events, by time (the `incident` above is the largest).
    public var incidents: [IncidentGroup]
    /// Rank order, most likely origin first.
    public var suspects: [Suspect]
    public var timeline: Timeline
    /// Why the diagnosis may be weak (no baseline records, no trace ids...).
    public var notes: [String]

    public struct Span: Sendable, Codable, Equatable {
        public var from: String
        public var to: String
        public var seconds: Double
    }

    public struct RecordCounts: Sendable, Codable, Equatable {
        public var window: Int
        public var baseline: Int
        public var workloads: Int
        public var traces: Int
    }

    public struct IncidentSummary: Sendable, Codable, Equatable {
        public var start: String?
        public var end: String?
        public var summary: String
        public var anomalousWorkloads: Int
        public var failingTraces: Int
        /// The most common path of failing requests, caller first.
        public var typicalChain: [String]
        public var origin: String?
    }

    public struct IncidentGroup: Sendable, Codable, Equatable {
        public var start: String
        public var end: String
        public var events: Int
        /// Workloads in order of their first anomalous event.
        public var workloads: [String]
    }

    public struct Suspect: Sendable, Codable, Equatable {
        public var rank: Int
        public var namespace: String
        public var workload: String
        public var kind: String
        public var score: Double
        public var scoreComponents: ScoreComponents
        /// The first anomalous event of this workload in the window.
        public var onset: String?
        public var evidence: Evidence
    }

    public struct ScoreComponents: Sendable, Codable, Equatable {
        public var errors: Double
        public var warnings: Double
        public var templates: Double
        public var signatures: Double
        public var latency: Double
        public var traces: Double
        public var onset: Double
        public var references: Double
        /// Steps of the requests missing or new (version 2; absent in older reports).
        public var flow: Double?

        public init(
            errors: Double, warnings: Double, templates: Double, signatures: Double, latency: Double, traces: Double,
            onset: Double, references: Double, flow: Double = 0
        ) {
            self.errors = errors
            self.warnings = warnings
            self.templates = templates
            self.signatures = signatures
            self.latency = latency
            self.traces = traces
            self.onset = onset
            self.references = references
            self.flow = flow
        }

        public var total: Double {
            errors + warnings + templates + signatures + latency + traces + onset + references + (flow ?? 0)
        }
    }

    public struct Evidence: Sendable, Codable, Equatable {
        public var rates: Rates
        public var templates: [TemplateEvidence]
        public var examples: [Example]
        public var traces: [TraceEvidence]
        public var signatures: [SignatureEvidence]
        public var restarts: [RestartEvidence]
        public var latency: LatencyEvidence?
        /// Steps of the requests that went missing or appeared in this workload, strongest first
        /// (version 2; absent in older reports).
        public var flow: [FlowEvidence]?
        /// Workloads whose failing messages name this one (host, service DNS name, URL path).
        public var referencedBy: [String]
        /// A search that shows the evidence (Strata query language).
        public var query: String
    }

    public struct Rates: Sendable, Codable, Equatable {
        public var windowRecords: Int
        public var baselineRecords: Int
        public var windowErrors: Int
        public var baselineErrors: Int
        public var windowWarnings: Int
        public var baselineWarnings: Int
        /// Per minute.
        public var windowErrorRate: Double
        public var baselineErrorRate: Double
        /// One-sided p-value of the error count rising (conditional binomial test).
        public var errorPValue: Double
        public var warningPValue: Double
    }

    public struct TemplateEvidence: Sendable, Codable, Equatable {
        public var id: String
        public var template: String
        public var level: String
        public var windowCount: Int
        public var baselineCount: Int
        /// `new`, `vanished`, `increased`, `decreased`.
        public var change: String
        public var pValue: Double
    }

    public struct Example: Sendable, Codable, Equatable {
        public var time: String
        public var pod: String
        public var body: String
    }

    public struct TraceEvidence: Sendable, Codable, Equatable {
        public var traceId: String
        /// Workloads in the order the request reached them.
        public var chain: [String]
        /// The workload that logged the first error of this request.
        public var firstError: String
        public var errorWorkloads: [String]
    }

    public struct SignatureEvidence: Sendable, Codable, Equatable {
        public var signature: String
        public var count: Int
        public var hosts: [String]
        public var example: String
    }

    public struct RestartEvidence: Sendable, Codable, Equatable {
        public var pod: String
        public var container: String
        public var from: Int
        public var to: Int
    }

    /// One step of the requests, as `workload`, source location and message template.
    public struct EventDescription: Sendable, Codable, Equatable {
        public var workload: String
        public var location: String
        public var template: String
    }

    public struct FlowEvidence: Sendable, Codable, Equatable {
        /// `missing`: the event occurs less often per occurrence of `after` (the step that
        /// most often led to it in the baseline) than in the baseline; `new`: the baseline never
        /// logged it, and `after` is the step that most often led to it in the window.
        public var change: String
        public var event: EventDescription
        public var after: EventDescription
        /// Occurrences of `event` and of `after` in requests of each range.
        public var windowCount: Int
        public var baselineCount: Int
        public var windowAfterCount: Int
        public var baselineAfterCount: Int
        /// Share of `after` that `event` directly followed in the baseline (1 for new).
        public var reliability: Double
        public var pValue: Double
        /// `reliability · -log10 p`.
        public var strength: Double
        /// Requests of the window that show the change, with the workloads they passed.
        public var traces: [TracePath]
        /// A search that shows the first of them, line by line (Strata query language).
        public var query: String?
    }

    public struct TracePath: Sendable, Codable, Equatable {
        public var traceId: String
        public var path: [String]
    }

    public struct LatencyEvidence: Sendable, Codable, Equatable {
        /// Mean log2 ratio of window to baseline median over this workload's edges, shrunk
        /// toward 0 (version 2; older reports hold a rank-test `z` instead).
        public var effect: Double?
        /// The edge that moved most (medians of its gaps, in milliseconds).
        public var windowMedianMs: Double
        public var baselineMedianMs: Double
        public var windowSamples: Int
        public var baselineSamples: Int
        /// Edges of this workload, the most changed first (at most five).
        public var edges: [LatencyEdge]?
    }

    public struct LatencyEdge: Sendable, Codable, Equatable {
        public var from: EventDescription
        public var to: EventDescription
        public var windowMedianMs: Double
        public var baselineMedianMs: Double
        public var windowSamples: Int
        public var baselineSamples: Int
        /// log2 of the ratio of the medians (each raised by the floor).
        public var effect: Double
    }

    public struct Timeline: Sendable, Codable, Equatable {
        public var start: String
        public var bucketSeconds: Double
        public var series: [Series]

        public struct Series: Sendable, Codable, Equatable {
            public var workload: String
            /// Errors per minute in each bucket.
            public var errorRate: [Double]
        }
    }
}

extension DiagnosisReport {
    public func jsonData(pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    public static func decode(json: Data) throws -> DiagnosisReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(DiagnosisReport.self, from: json)
    }
}
