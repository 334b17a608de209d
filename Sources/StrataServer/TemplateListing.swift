import Foundation
import Hummingbird
import NIOCore
import StrataCore
import StrataQuery
import StrataStore
import StrataTemplates

/// `strata templates [QUERY]`: the message templates of the matching records in a time range,
/// most frequent first, with their count, first and last time seen and a sample line.
public struct TemplateListing: Sendable {
    public struct Entry: Sendable {
        public var id: String
        /// nil when the miner's state does not know the id (state file lost or older).
        public var text: String?
        public var count: Int
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var sample: String
    }

    public var entries: [Entry]
    /// Matching records that carry no template id (stored before templates were mined).
    public var withoutTemplate: Int

    /// Exact counts come from `count by template`; first/last seen and the sample from one
    /// indexed search per listed template, so the cost grows with `limit`, not with the data.
    public static func list(
        engine: QueryEngine, miner: TemplateMiner?, query: QueryNode, range: TimeRange, limit: Int,
        deadline: Deadline = .none
    ) throws -> TemplateListing {
        let field = Field(name: "template")
        let plan = try QueryPlan(query)
        let stats = try engine.stats(plan, by: [field], range: range, limit: QueryLimits.maxGroups, deadline: deadline)
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
            let id = TemplateID(stored).flatMap { parsed in miner.map { $0.resolve(parsed).description } } ?? stored
            if let index = position[id] {
                groups[index].stored.append(stored)
                groups[index].count += group.count
            } else {
                position[id] = groups.count
                groups.append((id, [stored], group.count))
            }
        }
        groups.sort { ($0.count, $1.id) > ($1.count, $0.id) }
        var entries: [Entry] = []
        for group in groups.prefix(limit) {
            let ids: [QueryNode] = group.stored.map { .predicate(.field(field, .equals($0))) }
            let narrowed = try QueryPlan(.and([query, ids.count == 1 ? ids[0] : .or(ids)]))
            let newest = try engine.search(narrowed, range: range, order: .newestFirst, limit: 1, deadline: deadline)
            let oldest = try engine.search(narrowed, range: range, order: .oldestFirst, limit: 1, deadline: deadline)
            guard let last = newest.records.first, let first = oldest.records.first else { continue }
            let text = TemplateID(group.id).flatMap { miner?.template(id: $0)?.text }
            entries.append(
                Entry(
                    id: group.id, text: text, count: group.count, firstSeen: first.timestamp, lastSeen: last.timestamp,
                    sample: String(last.body.prefix { $0 != "\n" })))
        }
        return TemplateListing(entries: entries, withoutTemplate: withoutTemplate)
    }

    /// `tookMs` nil leaves `took_ms` out (a local listing); the API writes 0 and the route
    /// patches in the real figure, as for every query answer.
    public func json(tookMs: Double? = nil) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"templates\":[")
        for (index, entry) in entries.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"id\":")
            json.string(entry.id)
            json.raw(",\"template\":")
            if let text = entry.text { json.string(text) } else { json.raw("null") }
            json.raw(",\"count\":")
            json.integer(entry.count)
            json.raw(",\"first_seen\":")
            json.string(RFC3339.format(nanos: entry.firstSeen))
            json.raw(",\"last_seen\":")
            json.string(RFC3339.format(nanos: entry.lastSeen))
            json.raw(",\"sample\":")
            json.string(entry.sample)
            json.raw("}")
        }
        json.raw("],\"without_template\":")
        json.integer(withoutTemplate)
        if let tookMs {
            json.raw(",\"took_ms\":")
            json.rawString(String(format: "%.3f", tookMs))
        }
        json.raw("}\n")
        return json.bytes
    }
}

extension QueryRoutes {
    /// `GET /api/v1/templates?q=&since=|from=&to=&limit=` (docs/API.md).
    func templates(_ request: Request, miner: TemplateMiner) async -> Response {
        let store = self.store
        return await handle(request) { common, _ in
            let limit = try QueryRoutes.integer(common.parameters, "limit", default: 50, in: 1...1000)
            let listing = try TemplateListing.list(
                engine: QueryEngine(snapshot: store.snapshot()), miner: miner, query: common.node,
                range: common.range, limit: limit, deadline: common.deadline)
            return listing.json(tookMs: 0)
        }
    }
}
