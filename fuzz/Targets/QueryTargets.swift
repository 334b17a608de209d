import StrataCore
import StrataQuery

enum QueryTargets {
    /// Records every compiled query is evaluated on, with the fields a query can name.
    static let records: [LogRecord] = [
        LogRecord(
            timestamp: fuzzNow, observedTimestamp: fuzzNow, stream: .stderr, severity: .error,
            body: "GET /api/orders/42 failed: connection refused after 3 retries (timeout=30s)",
            traceID: TraceID(high: 1, low: 2), spanID: SpanID(3),
            attributes: [Attribute("http.status", "503"), Attribute("template.id", "17")],
            resource: Resource(attributes: [Attribute(ResourceKey.namespace, "shop"), Attribute(ResourceKey.pod, "orders-7f9c")]),
            flags: [.multiline]),
        LogRecord(timestamp: 0, observedTimestamp: 0, body: ""),
        LogRecord(timestamp: -1, observedTimestamp: .max, severity: .info, body: "ünïcødé ✓ \u{0}\t tab", attributes: [Attribute("k", "")]),
    ]

    /// The query language from the parser through the planner to the reference evaluation.
    static let parseAndPlan = FuzzTarget(
        name: "query", summary: "query parsing, planning and evaluation; errors point inside the query",
        seeds: [
            "", "*", "error", "\"connection refused\"", "level:error AND ns:shop", "NOT (a OR b*) c", "/time(out|d)/",
            "status:>=500 http.status:<600", "pod:orders-* _exists_:trace_id", "flag:multiline template:17",
            "trace_id:00000000000000010000000000000002", "k:\"a b\" OR -x",
        ].map(\.bytes),
        dictionary: ["AND", "OR", "NOT", "(", ")", "\"", "*", ":", ">", ">=", "<", "<=", "/", "\\", "-", "_exists_", "level:", "ns:", "flag:", "template:", "trace_id:", "(?i)", "[", "{1000}", "?"].map(\.bytes),
        maxInputBytes: 512
    ) { input throws(FuzzViolation) in
        let text = String(decoding: input, as: UTF8.self)
        let node: QueryNode
        do {
            node = try QueryParser.parse(text)
        } catch let error as QueryParseError {
            try require(error.column >= 1 && error.column <= text.count + 1,
                "the error column \(error.column) lies outside the query of \(text.count) characters: \(error.message)")
            return "parse error: " + error.message
        } catch {
            throw FuzzViolation("the parser threw \(type(of: error)), not a QueryParseError: \(error)")
        }
        // The canonical rendering (for --explain) must itself be harmless to parse.
        _ = try? QueryParser.parse(node.description)
        let plan: QueryPlan
        do {
            plan = try QueryPlan(node)
        } catch {
            return "plan error: \(error)"
        }
        let matched = records.map(plan.matches)
        return "planned, matches \(matched)"
    }
}
