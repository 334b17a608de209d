import Foundation
import StrataDiagnosis

/// Text renderings of the incident API's answers.
public enum IncidentText {
    static func time(_ value: IncidentTime?) -> String {
        guard let value else { return "-" }
        return String(value.text.prefix(19)) + "Z"
    }

    /// `strata incidents`: one row per incident, and a line when the list was cut.
    public static func table(_ list: IncidentAPI.ListBody) -> String {
        guard !list.incidents.isEmpty else { return "no incidents\n" }
        var table = TextTable(header: ["ID", "STATE", "SEVERITY", "OPENED", "UPDATED", "TOP SUSPECT", "SCORE"])
        for incident in list.incidents {
            table.append([
                incident.id, incident.state.rawValue, incident.severity.rawValue, time(incident.openedAt), time(incident.updatedAt),
                incident.topSuspect?.name ?? "-", incident.topSuspect.map { String(format: "%.1f", $0.score) } ?? "-",
            ])
        }
        var out = table.render() + "\n"
        if list.count > list.incidents.count { out += "(\(list.incidents.count) of \(list.count); raise --limit for more)\n" }
        return out
    }

    /// `strata incidents show`: state, history, anomalies and the report, as Markdown.
    public static func markdown(_ detail: IncidentDetail) -> String {
        let incident = detail.incident
        var out = "# Incident \(incident.id)\n\n"
        out += "- state: \(incident.state.rawValue) (version \(incident.version)), severity \(incident.severity.rawValue)\n"
        out += "- opened \(time(incident.openedAt)), updated \(time(incident.updatedAt))"
        if let resolved = incident.resolvedAt { out += ", resolved \(time(resolved))" }
        out += "\n- anomalous from \(time(incident.start)) to \(incident.end.map { time($0) } ?? "now")\n"
        if let top = incident.topSuspect { out += "- top suspect: \(top.name) (score \(String(format: "%.1f", top.score)))\n" }
        if incident.pendingNotifications > 0 { out += "- notifications pending: \(incident.pendingNotifications)\n" }
        for failed in detail.failedNotifications {
            out += "- notification \(failed.key) to \(failed.webhook) failed after \(failed.attempts) attempt(s): \(Escape.markdownText(failed.error ?? "unknown"))\n"
        }
        out += "\n## History\n\n| version | event | at | severity | top suspect | reason |\n|---|---|---|---|---|---|\n"
        for entry in detail.history {
            out += "| \(entry.version) | \(entry.event.rawValue) | \(time(entry.at)) | \(entry.severity.rawValue) | "
                + "\(Escape.markdownText(entry.topSuspect?.name ?? "-")) | \(Escape.markdownText(entry.reason)) |\n"
        }
        if !detail.anomalies.isEmpty {
            out += "\n## Current anomalies\n\n"
            for anomaly in detail.anomalies {
                let name = anomaly.namespace.isEmpty ? anomaly.workload : "\(anomaly.namespace)/\(anomaly.workload)"
                out += "- \(Escape.markdownText(name)): \(anomaly.reasons.map(Escape.markdownText).joined(separator: "; "))\n"
            }
        }
        out += "\n## Report (\(time(detail.reportAt)))\n\n"
        // The report's own Markdown starts with a level-1 title; nest it under this section.
        let report = detail.report.markdown()
        out += report.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("#") ? "#" + $0 : String($0) }
            .joined(separator: "\n")
        return out.hasSuffix("\n") ? out : out + "\n"
    }
}
