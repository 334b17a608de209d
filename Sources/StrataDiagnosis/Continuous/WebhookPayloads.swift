import Foundation
import StrataCore

/// The bodies webhooks receive for one state change (docs/REPORT.md, "Webhook payloads").
/// Rendered once, when the state changes, and stored in the outbox as is.
public enum WebhookPayload {
    /// Alertmanager drops a firing alert whose `endsAt` has passed. Strata sends one
    /// notification per state change and does not re-send, so a firing alert carries an end
    /// this far ahead; the resolve notification ends it for real.
    public static let alertmanagerHold: Int64 = 24 * 3600 * 1_000_000_000
    public static let alertName = "StrataIncident"

    public static func render(
        kind: WebhookKind, event: IncidentEvent, incident: Incident, previous: IncidentHeadline?, at now: Int64,
        externalURL: String?
    ) throws -> String {
        let link = externalURL.map { incidentURL(base: $0, id: incident.id) }
        switch kind {
        case .json: return try json(event: event, incident: incident, link: link)
        case .alertmanager: return try alertmanager(event: event, incident: incident, previous: previous, at: now, link: link)
        case .slack: return try slack(event: event, incident: incident, previous: previous, link: link)
        }
    }

    public static func incidentURL(base: String, id: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/api/v1/incidents/" + id
    }

    // MARK: json

    /// `kind: json`: the incident, its history and its full report.
    public struct JSONBody: Sendable, Codable, Equatable {
        public var version = 1
        public var event: IncidentEvent
        public var idempotencyKey: String
        public var incident: IncidentSummary
        public var history: [IncidentTransition]
        public var anomalies: [WorkloadAnomaly]
        public var url: String?
        public var report: DiagnosisReport
    }

    static func json(event: IncidentEvent, incident: Incident, link: String?) throws -> String {
        let body = JSONBody(
            event: event, idempotencyKey: "\(incident.id):\(incident.version)", incident: incident.summary,
            history: incident.history, anomalies: incident.anomalies, url: link, report: incident.report)
        return String(decoding: try Incident.encoder(pretty: false).encode(body), as: UTF8.self)
    }

    // MARK: alertmanager

    /// One alert of Alertmanager's `POST /api/v2/alerts` body (camelCase keys, as it expects).
    public struct AlertmanagerAlert: Sendable, Codable, Equatable {
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String
        public var endsAt: String
        public var generatorURL: String?
    }

    static func alertmanager(
        event: IncidentEvent, incident: Incident, previous: IncidentHeadline?, at now: Int64, link: String?
    ) throws -> String {
        func labels(_ headline: IncidentHeadline) -> [String: String] {
            [
                "alertname": alertName,
                "incident_id": incident.id,
                "namespace": headline.topSuspect?.namespace ?? "",
                "workload": headline.topSuspect?.workload ?? "(unknown)",
                "severity": headline.severity.rawValue,
                "source": "strata",
            ].filter { !$0.value.isEmpty }
        }
        let headline = incident.headline
        let top = incident.report.suspects.first
        var annotations: [String: String] = [
            "summary": "Incident \(incident.id) \(event.rawValue): most likely origin "
                + (headline.topSuspect.map { "\($0.name) (score \(formatNumber($0.score)))" } ?? "unknown"),
            "description": description(incident: incident),
        ]
        if let query = top?.evidence.query { annotations["query"] = query }
        if let link { annotations["report_url"] = link }
        let starts = RFC3339.format(nanos: incident.start.nanos)
        let ends = event == .resolved ? RFC3339.format(nanos: now) : RFC3339.format(nanos: now + alertmanagerHold)
        var alerts = [
            AlertmanagerAlert(labels: labels(headline), annotations: annotations, startsAt: starts, endsAt: ends, generatorURL: link)
        ]
        // Alertmanager identifies an alert by its labels: when the top suspect or severity
        // changed, the alert with the old labels must be ended or it keeps firing.
        if let previous, labels(previous) != labels(headline) {
            alerts.append(AlertmanagerAlert(
                labels: labels(previous),
                annotations: ["summary": "Incident \(incident.id): superseded by \(headline.topSuspect?.name ?? "unknown") (\(headline.severity.rawValue))"],
                startsAt: starts, endsAt: RFC3339.format(nanos: now), generatorURL: link))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(alerts), as: UTF8.self)
    }

    /// Plain text: the diagnosis summary, the ranked suspects and the top suspect's strongest
    /// evidence.
    static func description(incident: Incident) -> String {
        var lines = [incident.report.incident.summary]
        let ranked = incident.report.suspects.prefix(3).map { "\($0.rank). \(qualified($0)) \(formatNumber($0.score))" }
        if !ranked.isEmpty { lines.append("Suspects: " + ranked.joined(separator: ", ")) }
        if let evidence = strongestEvidence(incident.report) { lines.append("Evidence: " + evidence) }
        return lines.joined(separator: "\n")
    }

    static func strongestEvidence(_ report: DiagnosisReport) -> String? {
        guard let top = report.suspects.first else { return nil }
        if let template = top.evidence.templates.first {
            return "\(clip(template.template)) \(template.windowCount) in the window vs \(template.baselineCount) in the baseline (\(template.change))"
        }
        if let signature = top.evidence.signatures.first {
            return "\(signature.signature) ×\(signature.count): \(clip(signature.example))"
        }
        if let example = top.evidence.examples.first { return clip(example.body) }
        return nil
    }

    static func qualified(_ suspect: DiagnosisReport.Suspect) -> String {
        suspect.namespace.isEmpty ? suspect.workload : "\(suspect.namespace)/\(suspect.workload)"
    }

    /// One line, at most 300 characters: log text in a notification is a pointer, not the record.
    static func clip(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count > 300 ? String(line.prefix(299)) + "…" : line
    }

    // MARK: slack

    public struct SlackBody: Sendable, Codable, Equatable {
        public var text: String
    }

    static func slack(event: IncidentEvent, incident: Incident, previous: IncidentHeadline?, link: String?) throws -> String {
        let headline = incident.headline
        var lines: [String] = []
        switch event {
        case .opened:
            lines.append(":rotating_light: *[\(headline.severity.rawValue.uppercased())] Strata incident \(slackText(incident.id)) opened*")
        case .updated:
            var line = ":warning: *[\(headline.severity.rawValue.uppercased())] Strata incident \(slackText(incident.id)) updated*"
            if let previous {
                line += " (was: \(slackText(previous.topSuspect?.name ?? "unknown")), \(previous.severity.rawValue))"
            }
            lines.append(line)
        case .resolved:
            let lasted = (incident.end ?? incident.updatedAt).nanos - incident.start.nanos
            lines.append(":white_check_mark: *Strata incident \(slackText(incident.id)) resolved* after \(durationText(lasted))")
        }
        if let top = headline.topSuspect {
            lines.append("Most likely origin: *\(slackText(top.name))* (score \(formatNumber(top.score)))")
        }
        let ranked = incident.report.suspects.prefix(3).map { "\($0.rank). \(slackText(qualified($0))) \(formatNumber($0.score))" }
        if !ranked.isEmpty { lines.append("Suspects: " + ranked.joined(separator: " · ")) }
        lines.append(slackText(incident.report.incident.summary))
        if let top = incident.report.suspects.first {
            if let template = top.evidence.templates.first {
                lines.append(
                    "Evidence: \(slackCode(template.template)) \(template.windowCount) in the window vs \(template.baselineCount) in the baseline (\(template.change))")
            } else if let example = top.evidence.examples.first {
                lines.append("Evidence: \(slackCode(example.body))")
            }
            lines.append("Query: \(slackCode(top.evidence.query))")
        }
        if let link { lines.append("<\(slackText(link))|Incident details>") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(SlackBody(text: lines.joined(separator: "\n"))), as: UTF8.self)
    }

    /// Slack's mrkdwn treats `&`, `<` and `>` as control characters; everything else is text.
    static func slackText(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Log text in a code span: one line, clipped, without backticks (mrkdwn has no escape).
    static func slackCode(_ text: String) -> String {
        "`" + slackText(clip(text)).replacingOccurrences(of: "`", with: "'") + "`"
    }

    static func durationText(_ nanos: Int64) -> String {
        let seconds = max(0, nanos / 1_000_000_000)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m \(seconds % 60)s" }
        return "\(seconds / 3600)h \(seconds % 3600 / 60)m"
    }
}
