import Foundation
import StrataCore
import StrataStore

/// The query API's answers as Codable types (docs/API.md), for clients that read them. The
/// collector writes them with `QueryAPI`'s hand-written encoders (records are a hot path); these
/// types read exactly those fields. Search answers are read by `QueryAPI.decodeSearch`, whose
/// records keep their attribute order (a keyed container does not).
public enum QueryAnswer {
    /// `{code, message}` with a 4xx/5xx status.
    public struct Failure: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
    }

    public struct Count: Codable, Sendable, Equatable {
        public var count: Int
        public var tookMs: Double?

        enum CodingKeys: String, CodingKey {
            case count
            case tookMs = "took_ms"
        }
    }

    public struct Stats: Codable, Sendable, Equatable {
        public struct Group: Codable, Sendable, Equatable {
            public var key: [String?]
            public var count: Int
        }

        public var by: [String]
        public var groups: [Group]
        public var total: Int
        public var otherGroups: Int
        public var otherCount: Int

        enum CodingKeys: String, CodingKey {
            case by, groups, total
            case otherGroups = "other_groups"
            case otherCount = "other_count"
        }

        public var result: StatsResult {
            StatsResult(
                fields: by.map(Field.init(name:)), groups: groups.map { StatsResult.Group(values: $0.key, count: $0.count) },
                total: total, otherGroups: otherGroups, otherCount: otherCount, statistics: ExecutionStatistics(), damagedSegments: [])
        }
    }

    public struct Histogram: Codable, Sendable, Equatable {
        public struct Bucket: Codable, Sendable, Equatable {
            public var start: String
            public var startNs: Int64
            public var count: Int

            enum CodingKeys: String, CodingKey {
                case start, count
                case startNs = "start_ns"
            }
        }

        public var intervalNs: Int64
        public var buckets: [Bucket]
        public var total: Int

        enum CodingKeys: String, CodingKey {
            case buckets, total
            case intervalNs = "interval_ns"
        }

        public var result: HistogramResult {
            HistogramResult(
                interval: intervalNs, buckets: buckets.map { HistogramResult.Bucket(start: $0.startNs, count: $0.count) }, total: total,
                statistics: ExecutionStatistics(), damagedSegments: [])
        }
    }

    /// `GET /api/v1/labels` without `name`: each label with its number of values.
    public struct Labels: Codable, Sendable, Equatable {
        public struct Label: Codable, Sendable, Equatable {
            public var label: String
            public var field: String
            public var values: Int

            public init(label: String, field: String, values: Int) {
                self.label = label
                self.field = field
                self.values = values
            }

            /// The label's number of values from `count by <field>` (records without it are
            /// not a value).
            public init(label: String, field: Field, counts: StatsResult) {
                let present = counts.groups.filter { $0.values.first.map { $0 != nil } ?? false }.count + counts.otherGroups
                self.init(label: label, field: field.name, values: present)
            }
        }

        public var labels: [Label]

        public init(labels: [Label]) { self.labels = labels }
    }

    /// `GET /api/v1/templates`.
    public struct Templates: Codable, Sendable, Equatable {
        public struct Template: Codable, Sendable, Equatable {
            public var id: String
            /// nil when the template state no longer knows the id's text.
            public var template: String?
            public var count: Int
            public var firstSeen: String
            public var lastSeen: String
            public var sample: String

            enum CodingKeys: String, CodingKey {
                case id, template, count, sample
                case firstSeen = "first_seen"
                case lastSeen = "last_seen"
            }

            public init(id: String, template: String?, count: Int, firstSeen: String, lastSeen: String, sample: String) {
                self.id = id
                self.template = template
                self.count = count
                self.firstSeen = firstSeen
                self.lastSeen = lastSeen
                self.sample = sample
            }
        }

        public var templates: [Template]
        public var withoutTemplate: Int
        /// Set in the collector's answers; nil for a listing made in this process.
        public var tookMs: Double?

        enum CodingKeys: String, CodingKey {
            case templates
            case withoutTemplate = "without_template"
            case tookMs = "took_ms"
        }

        public init(templates: [Template], withoutTemplate: Int, tookMs: Double? = nil) {
            self.templates = templates
            self.withoutTemplate = withoutTemplate
            self.tookMs = tookMs
        }
    }

    /// Reads one answer; a body that is not one says which answer was expected.
    public static func decode<Answer: Decodable>(_ type: Answer.Type, from bytes: [UInt8]) throws -> Answer {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw QueryAnswerError(answer: String(describing: type), underlying: "\(error)")
        }
    }
}

/// An answer that does not have the shape of the API's answers.
public struct QueryAnswerError: Error, CustomStringConvertible {
    public var answer: String
    public var underlying: String
    public var description: String { "the collector's answer is not a \(answer) answer: \(underlying)" }
}
