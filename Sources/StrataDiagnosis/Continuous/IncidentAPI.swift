import Foundation

/// `GET /api/v1/incidents` and `GET /api/v1/incidents/{id}` (docs/API.md, "Incident endpoints"), without
/// the HTTP server: the collector's routes pass the query parameters in and send back the
/// status and body, so the answers are tested here.
public enum IncidentAPI {
    public struct Response: Sendable, Equatable {
        public var status: Int
        /// JSON, one object, ending in a newline.
        public var body: [UInt8]
    }

    public static let defaultLimit = 100
    public static let maxLimit = 1000

    /// The list body: newest first, `count` is the number matching before `limit`.
    public struct ListBody: Sendable, Codable, Equatable {
        public var incidents: [IncidentSummary]
        public var count: Int
    }

    /// `?state=open|resolved|all&limit=N`.
    public static func list(_ monitor: IncidentMonitor, parameters: [String: String]) -> Response {
        if let unknown = parameters.keys.sorted().first(where: { !["state", "limit"].contains($0) }) {
            return error(400, "bad_parameter", "unknown parameter '\(unknown)'; known: state, limit")
        }
        var state: IncidentState?
        switch parameters["state"] ?? "all" {
        case "all": state = nil
        case let text:
            guard let parsed = IncidentState(rawValue: text) else {
                return error(400, "bad_parameter", "state must be open, resolved or all, found '\(text)'")
            }
            state = parsed
        }
        var limit = defaultLimit
        if let text = parameters["limit"] {
            guard let value = Int(text), (1...maxLimit).contains(value) else {
                return error(400, "bad_parameter", "limit must be a whole number from 1 to \(maxLimit), found '\(text)'")
            }
            limit = value
        }
        let all = monitor.incidents(state: state)
        return encode(ListBody(incidents: Array(all.prefix(limit)), count: all.count))
    }

    public static func show(_ monitor: IncidentMonitor, id: String) -> Response {
        guard let incident = monitor.incident(id: id) else {
            return error(404, "not_found", "no incident '\(id)' (resolved incidents are kept for a limited time: diagnosis.keep_resolved)")
        }
        return encode(IncidentDetail(incident))
    }

    /// The body of the list endpoint, decoded (for `strata incidents`).
    public static func decodeList(_ data: Data) throws -> ListBody {
        try Incident.decoder().decode(ListBody.self, from: data)
    }

    public static func decodeDetail(_ data: Data) throws -> IncidentDetail {
        try Incident.decoder().decode(IncidentDetail.self, from: data)
    }

    static func encode(_ value: some Encodable) -> Response {
        do {
            var bytes = Array(try Incident.encoder(pretty: false).encode(value))
            bytes.append(UInt8(ascii: "\n"))
            return Response(status: 200, body: bytes)
        } catch {
            return self.error(500, "encoding_failed", "the answer could not be encoded as JSON: \(error)")
        }
    }

    public static func error(_ status: Int, _ code: String, _ message: String) -> Response {
        struct Failure: Encodable {
            var code: String
            var message: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = (try? encoder.encode(Failure(code: code, message: message))).map(Array.init) ?? Array("{\"code\":\"\(code)\"}".utf8)
        bytes.append(UInt8(ascii: "\n"))
        return Response(status: status, body: bytes)
    }
}
