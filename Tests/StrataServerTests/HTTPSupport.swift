import Foundation
import Logging

@testable import StrataServer

/// Starts an in-process collector on a free loopback port with the tests' defaults (retention
/// out of the way, segment fsync off unless `durable`), after `configure` has had its say.
func startInProcessCollector(
    dataDirectory: String, tokens: [String] = [], durable: Bool = false, logger: Logger,
    configure: (inout CollectorConfiguration) -> Void = { _ in }
) async throws -> (server: CollectorServer, port: Int, task: Task<Void, Error>) {
    var configuration = CollectorConfiguration(dataDirectory: dataDirectory)
    configuration.port = 0
    configuration.tokens = tokens
    configuration.store.retentionNanos = .max / 2
    if !durable { configuration.store.segment.durable = false }
    configure(&configuration)
    let server = try CollectorServer(configuration: configuration, logger: logger)
    let task = Task { try await server.run() }
    var port = 0
    for await bound in server.boundPort.stream { port = bound }
    return (server, port, task)
}

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
