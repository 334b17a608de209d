import Hummingbird
import NIOCore
import StrataDiagnosis

/// `GET /api/v1/incidents` and `GET /api/v1/incidents/{id}` (docs/API.md, "Incident endpoints"). The
/// answers themselves are built by StrataDiagnosis' `IncidentAPI`; this only adapts HTTP.
extension CollectorServer {
    /// Registers the incident routes. Without continuous mode they answer 404
    /// `continuous_mode_off`, so a client can tell "no incidents" from "not watching".
    func registerIncidentRoutes(on router: RouterGroup<CollectorRequestContext>, diagnosis: ContinuousDiagnosis?) {
        router.get("/api/v1/incidents") { request, _ -> Response in
            guard let diagnosis else { return Self.continuousModeOff() }
            return Self.respond(IncidentAPI.list(diagnosis.monitor, parameters: formParameters(request.uri.query)))
        }
        router.get("/api/v1/incidents/:id") { request, context -> Response in
            guard let diagnosis else { return Self.continuousModeOff() }
            guard let id = context.parameters.get("id"), !id.isEmpty else {
                return Self.respond(IncidentAPI.error(400, "bad_parameter", "the incident id is missing: /api/v1/incidents/{id}"))
            }
            return Self.respond(IncidentAPI.show(diagnosis.monitor, id: id))
        }
    }

    static func respond(_ answer: IncidentAPI.Response) -> Response {
        Response(
            status: .init(code: answer.status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    static func continuousModeOff() -> Response {
        respond(IncidentAPI.error(
            404, "continuous_mode_off",
            "continuous diagnosis is not configured on this collector: add a diagnosis: section to its --config (docs/DIAGNOSIS.md, \"Continuous mode\")"))
    }
}
