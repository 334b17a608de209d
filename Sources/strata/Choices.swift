import ArgumentParser
import StrataAgent
import StrataOutput
import StrataSampleData

// Flags whose value comes from a fixed set parse straight into one of these types, so a value
// outside the set fails at parse time with the allowed ones listed ("Please provide one of
// 'auto', 'always' and 'never'") instead of silently falling back to a default.

/// `--color`: when to colour terminal output.
enum ColourChoice: String, CaseIterable, ExpressibleByArgument {
    case auto, always, never
}

/// `-o` of the listings that have no record format: labels, templates, the incident list.
enum ListingFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json
}

/// `-o` of a diagnosis report (`strata diagnose`, `strata incidents show`).
enum ReportFormat: String, CaseIterable, ExpressibleByArgument {
    case json, md, html
}

/// `strata diagnose --clock`.
enum DiagnosisClock: String, CaseIterable, ExpressibleByArgument {
    case runtime, stored
}

/// `strata incidents --state`; the raw value is the API's `state` parameter.
enum IncidentStateFilter: String, CaseIterable, ExpressibleByArgument {
    case open, resolved, all
}

/// `strata generate --scenario`.
enum ScenarioChoice: String, CaseIterable, ExpressibleByArgument {
    case cascade, random
}

extension RecordFormat: ExpressibleByArgument {}
extension IncidentFaultKind: ExpressibleByArgument {}
extension AgentConfiguration.Sink: ExpressibleByArgument {}
