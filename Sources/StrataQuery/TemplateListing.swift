import StrataCore
import StrataStore

/// `strata templates [QUERY]`: the message templates of the matching records in a time range,
/// most frequent first, with their count, first and last time seen and a sample line.
public enum TemplateListing {
    /// Exact counts come from `count by template`; first/last seen and the sample from one
    /// indexed search per listed template, so the cost grows with `limit`, not with the data.
    public static func list(
        engine: QueryEngine, catalog: (any TemplateCatalog)?, query: QueryNode, range: TimeRange, limit: Int,
        deadline: Deadline = .none
    ) throws -> QueryAnswer.Templates {
        let field = Field(name: "template")
        let plan = try QueryPlan(query)
        let stats = try engine.stats(plan, by: [field], range: range, limit: QueryServiceLimits.maxGroups, deadline: deadline)
        // Records keep the id they were stored with; ids retired by a merge or a
        // generalization resolve to the live template (docs/TEMPLATES.md), and are listed as one.
        var withoutTemplate = 0
        var groups: [(id: String, stored: [String], count: Int)] = []
        var position: [String: Int] = [:]
        for group in stats.groups {
            guard let stored = group.values.first ?? nil else {
                withoutTemplate += group.count
                continue
            }
            let id = catalog?.resolve(stored) ?? stored
            if let index = position[id] {
                groups[index].stored.append(stored)
                groups[index].count += group.count
            } else {
                position[id] = groups.count
                groups.append((id, [stored], group.count))
            }
        }
        groups.sort { ($0.count, $1.id) > ($1.count, $0.id) }
        var templates: [QueryAnswer.Templates.Template] = []
        for group in groups.prefix(limit) {
            let ids: [QueryNode] = group.stored.map { .predicate(.field(field, .equals($0))) }
            let narrowed = try QueryPlan(.and([query, ids.count == 1 ? ids[0] : .or(ids)]))
            let newest = try engine.search(narrowed, range: range, order: .newestFirst, limit: 1, deadline: deadline)
            let oldest = try engine.search(narrowed, range: range, order: .oldestFirst, limit: 1, deadline: deadline)
            guard let last = newest.records.first, let first = oldest.records.first else { continue }
            templates.append(
                .init(
                    id: group.id, template: catalog?.text(of: group.id), count: group.count,
                    firstSeen: RFC3339.format(nanos: first.timestamp), lastSeen: RFC3339.format(nanos: last.timestamp),
                    sample: String(last.body.prefix { $0 != "\n" })))
        }
        return QueryAnswer.Templates(templates: templates, withoutTemplate: withoutTemplate)
    }
}
