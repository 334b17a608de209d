import AsyncHTTPClient
import Foundation
import NIOCore
import StrataDiagnosis

/// Sends webhook notifications with AsyncHTTPClient (HTTP and HTTPS; Slack's incoming
/// webhooks are HTTPS only). Anything below HTTP (DNS, connect, TLS, timeout) is thrown and
/// retried by the notifier; every HTTP answer is returned as a response.
///
/// Redirects are followed only to the same scheme, host and port, and only when they ask for
/// the request to be repeated as it is (307, 308): a receiver — or whoever took over its name
/// — must not be able to send a signed notification on to another host (an internal service,
/// a metadata address) that the configuration check never saw. Any other redirect is answered
/// as it came, with a message saying where it pointed and what to configure instead.
public struct HTTPWebhookTransport: WebhookTransport {
    /// The most of a response body kept for error messages; the rest is read and dropped so
    /// the connection can be reused.
    static let bodyPrefixBytes = 2048
    /// Same-origin redirects followed per notification before the answer is taken as it is.
    static let maxRedirects = 3

    /// The client's own redirect handling is off: `send` decides which to follow.
    public static let nonRedirectingClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    private let client: HTTPClient

    /// `client` must not follow redirects itself (`redirectConfiguration = .disallow`).
    public init(client: HTTPClient = HTTPWebhookTransport.nonRedirectingClient) { self.client = client }

    public func send(_ request: WebhookRequest) async throws -> WebhookResponse {
        let deadline = NIODeadline.now() + .nanoseconds(request.timeout)
        var url = request.url
        var redirects = 0
        while true {
            let answer = try await post(request, to: url, deadline: deadline)
            guard (300..<400).contains(answer.response.status) else { return answer.response }
            guard let location = answer.location, let target = Self.resolve(location, against: url) else {
                return answer.response
            }
            var sameOrigin = false
            if let here = try? WebhookURL.parse(url), let there = try? WebhookURL.parse(target) { sameOrigin = there.isSameOrigin(as: here) }
            guard sameOrigin, answer.response.status == 307 || answer.response.status == 308, redirects < Self.maxRedirects else {
                var refused = answer.response
                refused.bodyPrefix =
                    "redirect to \(target) not followed (webhooks follow only 307/308 redirects to the same scheme, host and port, at most \(Self.maxRedirects)); set the webhook's url to where the receiver really is"
                return refused
            }
            redirects += 1
            url = target
        }
    }

    private func post(_ request: WebhookRequest, to url: String, deadline: NIODeadline) async throws -> (response: WebhookResponse, location: String?) {
        var http = HTTPClientRequest(url: url)
        http.method = .POST
        for header in request.headers { http.headers.add(name: header.name, value: header.value) }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        let response = try await client.execute(http, deadline: deadline)
        var prefix: [UInt8] = []
        for try await chunk in response.body where prefix.count < Self.bodyPrefixBytes {
            prefix += chunk.readableBytesView.prefix(Self.bodyPrefixBytes - prefix.count)
        }
        let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return (
            WebhookResponse(status: Int(response.status.code), retryAfterSeconds: retryAfter, bodyPrefix: String(decoding: prefix, as: UTF8.self)),
            response.headers.first(name: "Location")
        )
    }

    /// A `Location` made absolute against the URL it answered (RFC 9110 allows relative ones).
    static func resolve(_ location: String, against base: String) -> String? {
        guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else { return nil }
        return resolved.absoluteString
    }
}
