import StrataQuery

/// Text renderings of the query service's answers that are not records.
extension OutputFormatter {
    /// `strata labels` without a label: each label, its field and its number of values.
    public func labels(_ answer: QueryAnswer.Labels) -> String {
        var table = TextTable(header: ["label", "field", "values"])
        for label in answer.labels { table.append([label.label, label.field, String(label.values)]) }
        return table.render()
    }

    /// `strata templates`: per template its count, id and text, then first and last seen and a
    /// sample line, indented under it.
    public func templates(_ answer: QueryAnswer.Templates) -> String {
        var lines: [String] = []
        if answer.templates.isEmpty { lines.append("no templates in this range") }
        for entry in answer.templates {
            lines.append("\(String(entry.count).leftPadded(to: 8))  \(entry.id)  \(entry.template ?? "(text not in the template state)")")
            lines.append("          first \(entry.firstSeen)  last \(entry.lastSeen)")
            lines.append("          e.g. \(String(entry.sample.prefix(200)))")
        }
        if answer.withoutTemplate > 0 { lines.append("(\(answer.withoutTemplate) matching records carry no template id)") }
        return lines.joined(separator: "\n")
    }
}
