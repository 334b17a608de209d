import Hummingbird

/// The outermost middleware: every error that leaves a route (an unknown path, a wrong method,
/// an error Hummingbird raises itself, an unexpected throw) is answered as JSON
/// `{code, message}` like the API's own errors, instead of Hummingbird's empty body.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = CollectorRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let status = Int(error.status.code)
            let message: String
            if status == 404 {
                message = "no route \(request.method) \(request.uri.path); the API is under /api/v1 (docs/API.md), probes at /healthz and /readyz, metrics at /metrics"
            } else {
                message = error.body ?? error.status.reasonPhrase
            }
            return ErrorAnswer.response(status: status, code: Self.code(status: status), message: message)
        } catch let error as HTTPResponseError {
            let status = Int(error.status.code)
            return ErrorAnswer.response(status: status, code: Self.code(status: status), message: "\(error)")
        } catch {
            context.logger.error("request \(request.method) \(request.uri.path) failed: \(error)")
            return ErrorAnswer.response(status: 500, code: "internal_error", message: "the collector failed to answer: \(error)")
        }
    }

    /// Codes for statuses no route chose itself, in the API's snake_case.
    static func code(status: Int) -> String {
        switch status {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 408: "request_timeout"
        case 413: "body_too_large"
        case 414: "query_too_long"
        case 429: "too_many_requests"
        case 503: "unavailable"
        case 500..<600: "internal_error"
        default: "http_\(status)"
        }
    }
}
