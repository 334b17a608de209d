import StrataConfiguration
import StrataCore
import Synchronization

/// What happened to a record.
public enum NormalizeOutcome: Sendable, Equatable {
    case kept
    /// A drop rule matched; `reason` names the rule and the condition (the same text every
    /// time for a given rule and condition, so it can label a counter).
    case dropped(reason: String)
}

/// Counters since the normalizer was made (shared by its copies).
public struct NormalizerStatistics: Sendable, Equatable {
    public var dropped = 0
    /// Drops by reason (`NormalizeOutcome.dropped(reason:)`).
    public var droppedByReason: [String: Int] = [:]
    /// Records with at least one redaction, and the number of replacements.
    public var redactedRecords = 0
    public var redactions = 0
}

/// The collector's normalization step: for each record, the configured (or detected) parser,
/// trace context extraction, severity sniffing, the matching rules' renames and drops, and
/// redaction — in that order (docs/PARSERS.md). Records are never dropped except by a drop rule.
public struct Normalizer: Sendable {
    enum ParserChoice: Sendable {
        case none
        case auto
        case parser(any LogParser)
    }

    struct CompiledRule: Sendable {
        var rule: NormalizeRule
        var parser: ParserChoice?
        var dropReasons: [String]
    }

    public let configuration: NormalizerConfiguration
    let rules: [CompiledRule]
    let defaultParser: ParserChoice
    let autoDetector: AutoDetector
    let counters = NormalizerCounters()

    /// Unknown parser names fall back to `auto` (use `init(validating:registry:)` or
    /// `NormalizerConfiguration.validate(against:)` to reject them instead).
    public init(configuration: NormalizerConfiguration, registry: ParserRegistry) {
        self.configuration = configuration
        let autoDetector = AutoDetector(registry: registry)
        self.autoDetector = autoDetector
        func choice(_ name: String) -> ParserChoice {
            switch name {
            case "none": return .none
            case "auto": return .auto
            default: return registry.parser(named: name).map { .parser($0) } ?? .auto
            }
        }
        defaultParser = choice(configuration.defaultParser)
        rules = configuration.rules.enumerated().map { index, rule in
            let label = rule.name.map { "rule '\($0)'" } ?? "rule \(index)"
            let reasons = rule.drops.map { condition -> String in
                switch condition {
                case .fieldMatches(let field, let regex): return "\(label): \(field) matches '\(regex.pattern)'"
                case .severityBelow(let severity): return "\(label): severity below \(severity.name)"
                }
            }
            return CompiledRule(rule: rule, parser: rule.parser.map(choice), dropReasons: reasons)
        }
    }

    /// Like `init(configuration:registry:)`, but an unknown parser name is an error.
    public init(validating configuration: NormalizerConfiguration, registry: ParserRegistry) throws(ConfigurationError) {
        try configuration.validate(against: registry)
        self.init(configuration: configuration, registry: registry)
    }

    public var statistics: NormalizerStatistics { counters.statistics.withLock { $0 } }

    public func normalize(_ record: inout LogRecord) -> NormalizeOutcome {
        let ruleCount = rules.count
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: max(ruleCount, 1)) { matched in
            var parser = defaultParser
            var parserChosen = false
            for index in 0..<ruleCount {
                let selected = rules[index].rule.selector.matches(record.resource)
                matched[index] = selected
                if selected, !parserChosen, let choice = rules[index].parser {
                    parser = choice
                    parserChosen = true
                }
            }

            switch parser {
            case .none: break
            case .auto: _ = autoDetector.parse(&record)
            case .parser(let p): _ = p.parse(&record)
            }
            if configuration.traceExtraction, record.traceID == nil { TraceExtractor.extract(&record) }
            if configuration.severitySniffing, record.severity == nil { SeveritySniffer.apply(&record) }

            var extraPatterns: [RedactionPattern] = []
            for index in 0..<ruleCount where matched[index] {
                let rule = rules[index].rule
                for (from, to) in rule.renames { Self.rename(&record, from: from, to: to) }
                for (conditionIndex, condition) in rule.drops.enumerated() where Self.drops(record, condition) {
                    let reason = rules[index].dropReasons[conditionIndex]
                    counters.statistics.withLock { stats in
                        stats.dropped += 1
                        stats.droppedByReason[reason, default: 0] += 1
                    }
                    return .dropped(reason: reason)
                }
                if !rule.redactions.isEmpty { extraPatterns += rule.redactions }
            }

            let redactions = configuration.redactor.redact(&record, extraPatterns: extraPatterns)
            if redactions > 0 {
                counters.statistics.withLock { stats in
                    stats.redactedRecords += 1
                    stats.redactions += redactions
                }
            }
            return .kept
        }
    }

    static func rename(_ record: inout LogRecord, from: String, to: String) {
        guard from != to, let index = record.attributes.firstIndex(where: { $0.key == from }) else { return }
        let value = record.attributes[index].value
        record.attributes.remove(at: index)
        if let existing = record.attributes.firstIndex(where: { $0.key == to }) {
            record.attributes[existing].value = value
        } else {
            record.attributes.insert(Attribute(to, value), at: min(index, record.attributes.count))
        }
    }

    static func drops(_ record: LogRecord, _ condition: DropCondition) -> Bool {
        switch condition {
        case .severityBelow(let minimum):
            guard let severity = record.severity else { return false }
            return severity < minimum
        case .fieldMatches(let field, let regex):
            guard let value = fieldValue(record, field) else { return false }
            return regex.matches(value)
        }
    }

    static func fieldValue(_ record: LogRecord, _ field: String) -> String? {
        switch field {
        case "body": return record.body
        case "severity": return record.severity?.name
        case "stream": return record.stream.name
        case "trace_id": return record.traceID?.description
        case "span_id": return record.spanID?.description
        default:
            if let attribute = record.attributes.first(where: { $0.key == field }) { return attribute.value }
            return record.resource[field]
        }
    }
}

/// The counts every copy of a `Normalizer` (a struct, handed to each ingest thread) adds to.
final class NormalizerCounters: Sendable {
    let statistics = Mutex(NormalizerStatistics())
}
