import Foundation

@testable import StrataServer

/// An in-process collector on a loopback port, stopped and its directory removed when released.
final class RunningCollector {
    let server: CollectorServer
    let url: String
    let task: Task<Void, Error>
    let root: String
    init(server: CollectorServer, url: String, task: Task<Void, Error>, root: String) {
        self.server = server
        self.url = url
        self.task = task
        self.root = root
    }
    deinit {
        task.cancel()
        try? FileManager.default.removeItem(atPath: root)
    }
}

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
