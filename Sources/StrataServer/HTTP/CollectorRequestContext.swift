import Hummingbird
import NIOCore

/// The request context of every collector route: Hummingbird's core storage plus who is
/// calling, which `BearerTokenAuthenticator` fills in before a protected route runs.
public struct CollectorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: Caller
    /// The connection, for routes that must close it themselves (a tail whose client stopped
    /// reading: its pending write would otherwise wait forever).
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        caller = Caller(peer: source.channel.remoteAddress?.ipAddress)
        channel = source.channel
    }
}

/// Checks `Authorization: Bearer <token>` for every route it guards, and records the token in
/// the context's `caller`. Without configured tokens it lets everything through: the collector
/// then listens on loopback only (`CollectorServer.init`).
struct BearerTokenAuthenticator: RouterMiddleware {
    typealias Context = CollectorRequestContext

    private let tokens: [[UInt8]]
    /// Told about each refused request (the ingest route counts them as rejected batches).
    private let onRefusal: @Sendable () -> Void

    init(tokens: [String], onRefusal: @escaping @Sendable () -> Void = {}) {
        self.tokens = tokens.map { Array($0.utf8) }
        self.onRefusal = onRefusal
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard !tokens.isEmpty else { return try await next(request, context) }
        guard let index = matchingToken(request.headers[.authorization]) else {
            onRefusal()
            return ErrorAnswer.response(
                status: 401, code: "unauthorized", message: "missing or wrong bearer token (Authorization: Bearer <token>)")
        }
        var context = context
        context.caller.credential = .bearerToken(index: index)
        return try await next(request, context)
    }

    /// Compares with every token in time independent of where the bytes differ.
    func matchingToken(_ header: String?) -> Int? {
        guard let header, header.hasPrefix("Bearer ") else { return nil }
        let presented = Array(header.utf8.dropFirst(7))
        var match: Int?
        for (index, expected) in tokens.enumerated() {
            var difference = UInt8(presented.count == expected.count ? 0 : 1)
            for position in 0..<max(presented.count, expected.count) {
                let a = position < presented.count ? presented[position] : 0
                let b = position < expected.count ? expected[position] : 0
                difference |= a ^ b
            }
            if difference == 0, match == nil { match = index }
        }
        return match
    }
}
