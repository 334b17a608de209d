import Foundation

/// Escaping for the two text formats. Log lines are attacker-controlled text: everything they
/// contain is escaped, never interpreted.
public enum Escape {
    /// For HTML text and attribute values.
    public static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab/newline would corrupt the page.
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" {
                    out += "&#\(scalar.value);"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// For Markdown inline code: a code span delimited by a backtick run longer than any run
    /// inside, newlines folded, so nothing in the text is interpreted.
    public static func markdownCode(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ⏎ ")
        var longest = 0
        var run = 0
        for character in flat {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = flat.hasPrefix("`") || flat.hasSuffix("`") || flat.isEmpty ? " " : ""
        // Table cells split on `|` even inside code spans.
        return fence + pad + flat.replacingOccurrences(of: "|", with: "\\|") + pad + fence
    }

    /// For Markdown prose: backslash-escapes every character Markdown gives meaning to, and
    /// HTML-escapes `<` and `&` so raw HTML in a log line is not rendered.
    public static func markdownText(_ text: String) -> String {
        var out = ""
        for character in text.replacingOccurrences(of: "\n", with: " ") {
            switch character {
            case "\\", "`", "*", "_", "{", "}", "[", "]", "(", ")", "#", "+", "-", "!", "|", "~":
                out.append("\\")
                out.append(character)
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default: out.append(character)
            }
        }
        return out
    }
}

func formatNumber(_ value: Double, digits: Int = 1) -> String {
    String(format: "%.\(digits)f", value)
}

func formatP(_ p: Double) -> String {
    if p >= 0.001 { return String(format: "%.3f", p) }
    return String(format: "%.1e", p)
}

extension DiagnosisReport {
    public func markdown() -> String {
        var out = "# Diagnosis\n\n"
        out += "Window \(window.from) → \(window.to) against baseline \(baseline.from) → \(baseline.to) "
        out += "(\(records.window) records in the window, \(records.baseline) in the baseline, \(records.workloads) workloads).\n\n"
        out += "**Incident:** \(Escape.markdownText(incident.summary))\n\n"
        if let start = incident.start, let end = incident.end { out += "Anomalous events from \(start) to \(end).\n\n" }
        if !incident.typicalChain.isEmpty {
            out += "Typical failing request: " + incident.typicalChain.map(Escape.markdownCode).joined(separator: " → ") + "\n\n"
        }
        for note in notes { out += "> Note: \(Escape.markdownText(note))\n\n" }
        out += "## Suspects\n\n| # | Workload | Score | Errors (window / baseline) | Onset | Query |\n|---|---|---|---|---|---|\n"
        for suspect in suspects {
            let rates = suspect.evidence.rates
            out += "| \(suspect.rank) | \(Escape.markdownCode(suspect.namespace + "/" + suspect.workload)) | \(formatNumber(suspect.score)) "
            out += "| \(rates.windowErrors) / \(rates.baselineErrors) | \(suspect.onset ?? "–") | \(Escape.markdownCode(suspect.evidence.query)) |\n"
        }
        for suspect in suspects {
            out += "\n## \(suspect.rank). \(Escape.markdownText(suspect.namespace + "/" + suspect.workload))\n\n"
            let c = suspect.scoreComponents
            out += "Score \(formatNumber(suspect.score, digits: 2)) = errors \(formatNumber(c.errors, digits: 2)) + warnings \(formatNumber(c.warnings, digits: 2))"
            out += " + templates \(formatNumber(c.templates, digits: 2)) + signatures \(formatNumber(c.signatures, digits: 2))"
            out += " + latency \(formatNumber(c.latency, digits: 2)) + traces \(formatNumber(c.traces, digits: 2))"
            out += " + onset \(formatNumber(c.onset, digits: 2)) + references \(formatNumber(c.references, digits: 2))"
            out += " + flow \(formatNumber(c.flow ?? 0, digits: 2)).\n\n"
            let rates = suspect.evidence.rates
            out += "Errors \(rates.windowErrors) in the window (\(formatNumber(rates.windowErrorRate, digits: 2))/min) against \(rates.baselineErrors) "
            out += "(\(formatNumber(rates.baselineErrorRate, digits: 2))/min), p = \(formatP(rates.errorPValue)); warnings \(rates.windowWarnings) against \(rates.baselineWarnings).\n\n"
            for line in Self.requestFacts(suspect) { out += "- " + Escape.markdownText(line) + "\n" }
            if !Self.requestFacts(suspect).isEmpty { out += "\n" }
            if !suspect.evidence.templates.isEmpty {
                out += "| Change | Level | Window | Baseline | p | Template |\n|---|---|---|---|---|---|\n"
                for template in suspect.evidence.templates {
                    out += "| \(template.change) | \(template.level) | \(template.windowCount) | \(template.baselineCount) | \(formatP(template.pValue)) | \(Escape.markdownCode(template.template)) |\n"
                }
                out += "\n"
            }
            for signature in suspect.evidence.signatures {
                out += "- Signature \(signature.signature) ×\(signature.count)"
                if !signature.hosts.isEmpty { out += " (hosts: " + signature.hosts.map(Escape.markdownCode).joined(separator: ", ") + ")" }
                out += "\n"
            }
            for restart in suspect.evidence.restarts {
                out += "- Restart: \(Escape.markdownCode(restart.pod + "/" + restart.container)) \(restart.from) → \(restart.to)\n"
            }
            if !suspect.evidence.referencedBy.isEmpty {
                out += "- Named in failing messages of " + suspect.evidence.referencedBy.map(Escape.markdownCode).joined(separator: ", ") + "\n"
            }
            for trace in suspect.evidence.traces {
                out += "- Trace \(Escape.markdownCode(trace.traceId)): " + trace.chain.map(Escape.markdownCode).joined(separator: " → ")
                out += " (first error in \(Escape.markdownCode(trace.firstError)))\n"
            }
            if !suspect.evidence.examples.isEmpty {
                out += "\nExamples:\n\n"
                for example in suspect.evidence.examples {
                    out += "- \(example.time) \(Escape.markdownCode(example.pod)) \(Escape.markdownCode(example.body))\n"
                }
            }
        }
        return out
    }

    /// One self-contained page: inline CSS and SVG, no scripts, no external assets.
    public func html() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Strata diagnosis \(Escape.html(window.from))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#1d2330;max-width:1200px}
            h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccd}
            table{border-collapse:collapse;margin:.5em 0 1em;width:100%}
            td,th{border:1px solid #ccd;padding:.25em .5em;text-align:left;vertical-align:top;font-size:.9em}
            th{background:#eef0f6}code,pre{font-family:ui-monospace,monospace;font-size:.85em}
            pre{white-space:pre-wrap;word-break:break-all;background:#f6f7fb;padding:.5em;margin:.2em 0}
            .new{color:#b00020;font-weight:bold}.vanished{color:#6a1b9a}.summary{background:#fff4e5;padding:.75em;border-left:4px solid #f57c00}
            .note{color:#6b4f00}
            </style></head><body>

            """
        out += "<h1>Strata diagnosis</h1>\n"
        out += "<p>Window <b>\(Escape.html(window.from))</b> → <b>\(Escape.html(window.to))</b>, baseline \(Escape.html(baseline.from)) → \(Escape.html(baseline.to)); "
        out += "\(records.window) records in the window, \(records.baseline) in the baseline, \(records.workloads) workloads.</p>\n"
        out += "<p class=\"summary\">\(Escape.html(incident.summary))"
        if !incident.typicalChain.isEmpty {
            out += "<br>Typical failing request: " + incident.typicalChain.map { "<code>\(Escape.html($0))</code>" }.joined(separator: " → ")
        }
        out += "</p>\n"
        for note in notes { out += "<p class=\"note\">Note: \(Escape.html(note))</p>\n" }
        out += timelineSVG()
        out += "<h2>Suspects</h2>\n<table><tr><th>#</th><th>Workload</th><th>Score</th><th>Errors window / baseline</th><th>Onset</th><th>Query</th></tr>\n"
        for suspect in suspects {
            let rates = suspect.evidence.rates
            out += "<tr><td>\(suspect.rank)</td><td><a href=\"#suspect-\(suspect.rank)\">\(Escape.html(suspect.namespace))/\(Escape.html(suspect.workload))</a></td>"
            out += "<td>\(formatNumber(suspect.score))</td><td>\(rates.windowErrors) / \(rates.baselineErrors)</td>"
            out += "<td>\(Escape.html(suspect.onset ?? "–"))</td><td><code>\(Escape.html(suspect.evidence.query))</code></td></tr>\n"
        }
        out += "</table>\n"
        for suspect in suspects {
            let c = suspect.scoreComponents
            out += "<h2 id=\"suspect-\(suspect.rank)\">\(suspect.rank). \(Escape.html(suspect.namespace))/\(Escape.html(suspect.workload)) <small>(\(Escape.html(suspect.kind)))</small></h2>\n"
            out += "<table><tr><th>errors</th><th>warnings</th><th>templates</th><th>signatures</th><th>latency</th><th>traces</th><th>onset</th><th>references</th><th>flow</th><th>score</th></tr><tr>"
            for value in [c.errors, c.warnings, c.templates, c.signatures, c.latency, c.traces, c.onset, c.references, c.flow ?? 0, suspect.score] {
                out += "<td>\(formatNumber(value, digits: 2))</td>"
            }
            out += "</tr></table>\n"
            let rates = suspect.evidence.rates
            out += "<p>Errors: \(rates.windowErrors) in the window (\(formatNumber(rates.windowErrorRate, digits: 2))/min) against \(rates.baselineErrors) "
            out += "(\(formatNumber(rates.baselineErrorRate, digits: 2))/min), p = \(formatP(rates.errorPValue)). Warnings: \(rates.windowWarnings) against \(rates.baselineWarnings).</p>\n"
            let requestFacts = Self.requestFacts(suspect)
            if !requestFacts.isEmpty { out += "<ul>" + requestFacts.map { "<li>\(Escape.html($0))</li>" }.joined(separator: "\n") + "</ul>\n" }
            if !suspect.evidence.templates.isEmpty {
                out += "<table><tr><th>Change</th><th>Level</th><th>Window</th><th>Baseline</th><th>p</th><th>Template</th></tr>\n"
                for template in suspect.evidence.templates {
                    out += "<tr><td class=\"\(Escape.html(template.change))\">\(Escape.html(template.change))</td><td>\(Escape.html(template.level))</td>"
                    out += "<td>\(template.windowCount)</td><td>\(template.baselineCount)</td><td>\(formatP(template.pValue))</td>"
                    out += "<td><code>\(Escape.html(template.template))</code></td></tr>\n"
                }
                out += "</table>\n"
            }
            var facts: [String] = []
            for signature in suspect.evidence.signatures {
                var line = "Signature <b>\(Escape.html(signature.signature))</b> ×\(signature.count)"
                if !signature.hosts.isEmpty { line += " (hosts: \(signature.hosts.map(Escape.html).joined(separator: ", ")))" }
                facts.append(line)
            }
            for restart in suspect.evidence.restarts {
                facts.append("Restart of <code>\(Escape.html(restart.pod))/\(Escape.html(restart.container))</code>: \(restart.from) → \(restart.to)")
            }
            if !suspect.evidence.referencedBy.isEmpty {
                facts.append("Named in failing messages of " + suspect.evidence.referencedBy.map { "<code>\(Escape.html($0))</code>" }.joined(separator: ", "))
            }
            for trace in suspect.evidence.traces {
                facts.append("Trace <code>\(Escape.html(trace.traceId))</code>: " + trace.chain.map { "<code>\(Escape.html($0))</code>" }.joined(separator: " → ")
                    + " (first error in <code>\(Escape.html(trace.firstError))</code>)")
            }
            if !facts.isEmpty { out += "<ul>" + facts.map { "<li>\($0)</li>" }.joined(separator: "\n") + "</ul>\n" }
            if !suspect.evidence.examples.isEmpty {
                out += "<table><tr><th>Time</th><th>Pod</th><th>Example</th></tr>\n"
                for example in suspect.evidence.examples {
                    out += "<tr><td>\(Escape.html(example.time))</td><td>\(Escape.html(example.pod))</td><td><pre>\(Escape.html(example.body))</pre></td></tr>\n"
                }
                out += "</table>\n"
            }
        }
        out += "</body></html>\n"
        return out
    }

    /// Error rate per workload over the window, one polyline each, as inline SVG.
    func timelineSVG() -> String {
        guard !timeline.series.isEmpty else { return "" }
        let width = 900.0
        let height = 220.0
        let left = 50.0
        let bottom = 30.0
        let plotWidth = width - left - 200
        let plotHeight = height - bottom - 10
        let maximum = max(1, timeline.series.flatMap(\.errorRate).max() ?? 1)
        let colors = ["#d32f2f", "#1976d2", "#388e3c", "#f57c00", "#7b1fa2", "#00838f", "#5d4037", "#455a64"]
        var svg = "<h2>Error rate per workload (errors/min)</h2>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"error rate per workload\">\n"
        svg += "<line x1=\"\(left)\" y1=\"10\" x2=\"\(left)\" y2=\"\(10 + plotHeight)\" stroke=\"#888\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(10 + plotHeight)\" x2=\"\(left + plotWidth)\" y2=\"\(10 + plotHeight)\" stroke=\"#888\"/>\n"
        svg += "<text x=\"\(left - 5)\" y=\"16\" font-size=\"11\" text-anchor=\"end\">\(formatNumber(maximum))</text>"
        svg += "<text x=\"\(left - 5)\" y=\"\(10 + plotHeight)\" font-size=\"11\" text-anchor=\"end\">0</text>\n"
        svg += "<text x=\"\(left)\" y=\"\(height - 8)\" font-size=\"11\">\(Escape.html(timeline.start))</text>"
        let totalSeconds = timeline.bucketSeconds * Double(timeline.series.first?.errorRate.count ?? 0)
        svg += "<text x=\"\(left + plotWidth)\" y=\"\(height - 8)\" font-size=\"11\" text-anchor=\"end\">+\(formatNumber(totalSeconds, digits: 0)) s</text>\n"
        for (index, series) in timeline.series.enumerated() {
            let color = colors[index % colors.count]
            let count = max(1, series.errorRate.count - 1)
            let points = series.errorRate.enumerated().map { i, value in
                "\(formatNumber(left + plotWidth * Double(i) / Double(count))),\(formatNumber(10 + plotHeight * (1 - value / maximum)))"
            }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            svg += "<rect x=\"\(left + plotWidth + 15)\" y=\"\(12 + Double(index) * 18)\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            svg += "<text x=\"\(left + plotWidth + 30)\" y=\"\(21 + Double(index) * 18)\" font-size=\"12\">\(Escape.html(series.workload))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }
}

extension DiagnosisReport {
    /// Plain sentences for the request evidence of a suspect (steps missing or new, latency
    /// edges), the same for Markdown and HTML: each format only escapes them.
    static func requestFacts(_ suspect: Suspect) -> [String] {
        func event(_ e: EventDescription) -> String {
            (e.location.isEmpty ? e.workload : e.workload + " " + e.location) + " \"" + e.template + "\""
        }
        var facts: [String] = []
        for flow in (suspect.evidence.flow ?? []).prefix(3) {
            var line: String
            if flow.change == "missing" {
                line = "Missing step: \(event(flow.event)) followed \(event(flow.after)) "
                    + "\(flow.windowCount) times after \(flow.windowAfterCount) in the window, against "
                    + "\(flow.baselineCount) after \(flow.baselineAfterCount) in the baseline "
            } else {
                line = "New step: \(event(flow.event)) followed \(event(flow.after)) \(flow.windowCount) times "
                    + "(\(flow.windowAfterCount) occurrences in the window, \(flow.baselineAfterCount) in the baseline, never followed so) "
            }
            line += "(p = \(formatP(flow.pValue)), reliability \(formatNumber(flow.reliability, digits: 2)))"
            if let trace = flow.traces.first { line += "; e.g. trace \(trace.traceId): " + trace.path.joined(separator: " → ") }
            facts.append(line)
        }
        if let latency = suspect.evidence.latency {
            if let effect = latency.effect {
                var line = "Latency: \(formatNumber(pow(2, effect), digits: 2))× the baseline over its edges"
                if let edge = latency.edges?.first {
                    line += "; most changed: \(edge.from.workload) → \(edge.to.workload) median "
                        + "\(formatNumber(edge.windowMedianMs, digits: 1)) ms against \(formatNumber(edge.baselineMedianMs, digits: 1)) ms "
                        + "(\(edge.windowSamples) / \(edge.baselineSamples) samples)"
                }
                facts.append(line)
            } else if latency.windowSamples > 0 {
                facts.append("Hand-off latency: median \(formatNumber(latency.windowMedianMs, digits: 1)) ms against \(formatNumber(latency.baselineMedianMs, digits: 1)) ms")
            }
        }
        return facts
    }
}
