import StrataCore
import StrataStore

/// `count by ns, pod` (also `by ns, pod`, or just `ns, pod`; `count` alone: no grouping).
public enum StatsSpec {
    public static func parse(_ text: String) throws -> [Field] {
        var rest = Substring(text).drop(while: \.isWhitespace)
        if rest.hasPrefix("count") {
            rest = rest.dropFirst(5).drop(while: \.isWhitespace)
            if rest.isEmpty { return [] }
        }
        if rest == "by" { rest = "" }
        if rest.hasPrefix("by ") || rest.hasPrefix("by\t") { rest = rest.dropFirst(3) }
        let names = rest.split(separator: ",").map { $0.trimmingCharacters() }
        guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) else {
            throw QueryError(.badParameter, "expected 'count by FIELD[, FIELD...]' such as 'count by ns, pod'; found '\(text)'")
        }
        guard names.count <= 8 else { throw QueryError(.badParameter, "at most 8 fields in 'count by'") }
        return names.map(Field.init(name:))
    }

    /// The labels `strata labels` knows by short name.
    public static let labels = ["ns", "pod", "container", "node", "level"]
}

/// The JSON bodies of the query API (docs/API.md), written by the collector and read by the
/// CLI, so both ends agree by construction.
public enum QueryAPI {
    public static func search(_ result: SearchResult, tookMs: Double) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"records\":[")
        for (i, record) in result.records.enumerated() {
            if i > 0 { json.raw(",") }
            record.writeJSON(into: &json)
        }
        json.raw("],\"next_cursor\":")
        if let cursor = result.nextCursor { json.string(cursor.description) } else { json.raw("null") }
        finish(&json, tookMs: tookMs, statistics: result.statistics, damaged: result.damagedSegments)
        return json.bytes
    }

    public static func count(_ result: CountResult, tookMs: Double) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"count\":")
        json.integer(result.count)
        finish(&json, tookMs: tookMs, statistics: result.statistics, damaged: result.damagedSegments)
        return json.bytes
    }

    public static func stats(_ result: StatsResult, tookMs: Double) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"by\":[")
        for (i, field) in result.fields.enumerated() {
            if i > 0 { json.raw(",") }
            json.string(field.name)
        }
        json.raw("],\"groups\":[")
        for (i, group) in result.groups.enumerated() {
            if i > 0 { json.raw(",") }
            json.raw("{\"key\":[")
            for (k, value) in group.values.enumerated() {
                if k > 0 { json.raw(",") }
                if let value { json.string(value) } else { json.raw("null") }
            }
            json.raw("],\"count\":")
            json.integer(group.count)
            json.raw("}")
        }
        json.raw("],\"total\":")
        json.integer(result.total)
        json.raw(",\"other_groups\":")
        json.integer(result.otherGroups)
        json.raw(",\"other_count\":")
        json.integer(result.otherCount)
        finish(&json, tookMs: tookMs, statistics: result.statistics, damaged: result.damagedSegments)
        return json.bytes
    }

    public static func histogram(_ result: HistogramResult, tookMs: Double) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"interval_ns\":")
        json.integer(result.interval)
        json.raw(",\"buckets\":[")
        for (i, bucket) in result.buckets.enumerated() {
            if i > 0 { json.raw(",") }
            json.raw("{\"start\":")
            json.string(RFC3339.format(nanos: bucket.start))
            json.raw(",\"start_ns\":")
            json.integer(bucket.start)
            json.raw(",\"count\":")
            json.integer(bucket.count)
            json.raw("}")
        }
        json.raw("],\"total\":")
        json.integer(result.total)
        finish(&json, tookMs: tookMs, statistics: result.statistics, damaged: result.damagedSegments)
        return json.bytes
    }

    /// `tookMs` nil leaves `took_ms` out (a listing made in this process).
    public static func templates(_ answer: QueryAnswer.Templates, tookMs: Double?) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"templates\":[")
        for (index, entry) in answer.templates.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"id\":")
            json.string(entry.id)
            json.raw(",\"template\":")
            if let text = entry.template { json.string(text) } else { json.raw("null") }
            json.raw(",\"count\":")
            json.integer(entry.count)
            json.raw(",\"first_seen\":")
            json.string(entry.firstSeen)
            json.raw(",\"last_seen\":")
            json.string(entry.lastSeen)
            json.raw(",\"sample\":")
            json.string(entry.sample)
            json.raw("}")
        }
        json.raw("],\"without_template\":")
        json.integer(answer.withoutTemplate)
        finishListing(&json, tookMs: tookMs)
        return json.bytes
    }

    /// `GET /api/v1/labels` without `name`; `tookMs` nil leaves `took_ms` out.
    public static func labels(_ answer: QueryAnswer.Labels, tookMs: Double?) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"labels\":[")
        for (index, label) in answer.labels.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"label\":")
            json.string(label.label)
            json.raw(",\"field\":")
            json.string(label.field)
            json.raw(",\"values\":")
            json.integer(label.values)
            json.raw("}")
        }
        json.raw("]")
        finishListing(&json, tookMs: tookMs)
        return json.bytes
    }

    /// Listings made in this process have no `took_ms`.
    private static func finishListing(_ json: inout JSONWriter, tookMs: Double?) {
        if let tookMs {
            json.raw(",\"took_ms\":")
            json.rawString(milliseconds(tookMs))
        }
        json.raw("}\n")
    }

    public static func error(code: String, message: String) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"code\":")
        json.string(code)
        json.raw(",\"message\":")
        json.string(message)
        json.raw("}\n")
        return json.bytes
    }

    private static func finish(_ json: inout JSONWriter, tookMs: Double, statistics: ExecutionStatistics, damaged: [DamagedSegment]) {
        json.raw(",\"took_ms\":")
        json.rawString(milliseconds(tookMs))
        json.raw(",\"partial\":")
        if damaged.isEmpty { json.raw("false") } else { json.raw("true") }
        if !damaged.isEmpty {
            json.raw(",\"warnings\":[")
            for (i, segment) in damaged.enumerated() {
                if i > 0 { json.raw(",") }
                json.string("segment \(segment.path) could not be read and was left out: \(segment.reason)")
            }
            json.raw("]")
        }
        json.raw(",\"stats\":{\"segments\":")
        json.integer(statistics.segments)
        json.raw(",\"blocks\":")
        json.integer(statistics.blocks)
        json.raw(",\"blocks_pruned\":")
        json.integer(statistics.blocksPruned)
        json.raw(",\"blocks_from_metadata\":")
        json.integer(statistics.blocksFromMetadata)
        json.raw(",\"blocks_decoded\":")
        json.integer(statistics.blocksDecoded)
        json.raw(",\"rows_examined\":")
        json.integer(statistics.rowsExamined)
        json.raw(",\"head_records\":")
        json.integer(statistics.headRecords)
        json.raw("}}\n")
    }

    /// `took_ms` with three decimals (microseconds), as every answer writes it.
    public static func milliseconds(_ value: Double) -> String {
        let scaled = (value * 1000).rounded()
        guard scaled.isFinite, abs(scaled) < 9e15 else { return "0" }
        let thousandths = Int64(scaled)
        let fraction = String(abs(thousandths) % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    // MARK: Reading answers

    public static func decodeSearch(_ bytes: [UInt8]) throws -> (records: [LogRecord], nextCursor: String?) {
        let value = try JSONValue.parse(bytes)
        guard let items = value["records"]?.array else { throw JSONValue.ParseError(offset: 0, message: "the answer lacks records") }
        return (try items.map { try LogRecord(json: $0) }, value["next_cursor"]?.string)
    }

    public static func decodeCount(_ bytes: [UInt8]) throws -> Int {
        try QueryAnswer.decode(QueryAnswer.Count.self, from: bytes).count
    }

    public static func decodeStats(_ bytes: [UInt8]) throws -> StatsResult {
        try QueryAnswer.decode(QueryAnswer.Stats.self, from: bytes).result
    }

    public static func decodeHistogram(_ bytes: [UInt8]) throws -> HistogramResult {
        try QueryAnswer.decode(QueryAnswer.Histogram.self, from: bytes).result
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
