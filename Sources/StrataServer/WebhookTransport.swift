import AsyncHTTPClient
import Foundation
import NIOCore
import StrataDiagnosis

/// Sends webhook notifications with AsyncHTTPClient (HTTP and HTTPS; Slack's incoming
/// webhooks are HTTPS only). Anything below HTTP (DNS, connect, TLS, timeout) is thrown and
/// retried by the notifier; every HTTP answer is returned as a response.
public struct HTTPWebhookTransport: WebhookTransport {
    /// The most of a response body kept for error messages; the rest is read and dropped so
    /// the connection can be reused.
    static let bodyPrefixBytes = 2048

    private let client: HTTPClient

    public init(client: HTTPClient = .shared) { self.client = client }

    public func send(_ request: WebhookRequest) async throws -> WebhookResponse {
        var http = HTTPClientRequest(url: request.url)
        http.method = .POST
        for header in request.headers { http.headers.add(name: header.name, value: header.value) }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        let response = try await client.execute(http, timeout: .nanoseconds(request.timeout))
        var prefix: [UInt8] = []
        for try await chunk in response.body where prefix.count < Self.bodyPrefixBytes {
            prefix += chunk.readableBytesView.prefix(Self.bodyPrefixBytes - prefix.count)
        }
        let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return WebhookResponse(
            status: Int(response.status.code), retryAfterSeconds: retryAfter,
            bodyPrefix: String(decoding: prefix, as: UTF8.self))
    }
}
