import Hummingbird
import StrataQuery
import StrataStore
import StrataTemplates

extension QueryRoutes {
    /// `GET /api/v1/templates?q=&since=|from=&to=&limit=` (docs/API.md).
    func templates(_ request: Request, miner: TemplateMiner) async -> Response {
        let store = self.store
        return await handle(request) { common, stopwatch in
            let limit = try QueryRoutes.integer(common.parameters, "limit", default: 50, in: 1...1000)
            let listing = try TemplateListing.list(
                engine: QueryEngine(snapshot: store.snapshot()), catalog: MinerCatalog(miner: miner), query: common.node,
                range: common.range, limit: limit, deadline: common.deadline)
            return QueryAPI.templates(listing, tookMs: stopwatch.milliseconds)
        }
    }
}

/// The template miner as the query side sees it (`template:<id>` aliases, listings).
public struct MinerCatalog: TemplateCatalog {
    public let miner: TemplateMiner

    public init(miner: TemplateMiner) { self.miner = miner }

    public func aliases(of id: String) -> [String]? { TemplateID(id).map { miner.aliases(of: $0).map(\.description) } }

    public func resolve(_ id: String) -> String { TemplateID(id).map { miner.resolve($0).description } ?? id }

    public func text(of id: String) -> String? { TemplateID(id).flatMap { miner.template(id: $0)?.text } }
}
