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
