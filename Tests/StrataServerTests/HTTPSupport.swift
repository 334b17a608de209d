import Foundation

/// A minimal HTTP/1.1 POST over a loopback socket (Foundation's URL loading lives in
/// FoundationNetworking, which the package does not link).
func rawPost(url text: String, headers: [String: String], body: [UInt8]) async throws -> (Int, String) {
    try await rawRequest(method: "POST", url: text, headers: headers, body: body)
}

/// Runs on a thread of its own (see `threadedRequest`): a blocked cooperative thread could be
/// the one the in-process collector needs to answer.
func rawRequest(method: String, url text: String, headers: [String: String], body: [UInt8]) async throws -> (Int, String) {
    try await threadedRequest(method: method, url: text, headers: headers, body: body)
}
