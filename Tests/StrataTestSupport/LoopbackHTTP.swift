import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// HTTP requests to a server on this machine (an in-process collector, a child process).
///
/// AsyncHTTPClient runs on its own event loops, so a test awaiting an answer never holds a
/// thread of the cooperative pool that the in-process server may need to produce it. Each
/// request closes its connection: a server the test kills and starts again must not be reached
/// through a connection pooled from its previous life.
public enum LoopbackHTTP {
    /// Status and body (as UTF-8 text) of `method url`.
    public static func request(
        method: String, url: String, headers: [String: String] = [:], body: [UInt8] = [], timeout: Duration = .seconds(30)
    ) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.replaceOrAdd(name: "Connection", value: "close")
        if !body.isEmpty || method == "POST" || method == "PUT" {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        let answer = try await response.body.collect(upTo: 256 << 20)
        return (Int(response.status.code), String(buffer: answer))
    }

    /// `request` with method POST.
    public static func post(url: String, headers: [String: String], body: [UInt8]) async throws -> (Int, String) {
        try await request(method: "POST", url: url, headers: headers, body: body)
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
