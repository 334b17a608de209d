import Foundation
import Hummingbird
import Logging
import NIOCore
import StrataCore
import Synchronization

/// A loopback HTTP receiver speaking the ingest side of docs/WIRE.md: decodes each frame,
/// stores a batch id once, and can be switched to failing or refusing.
final class TestReceiver: @unchecked Sendable {
    enum Mode: Sendable {
        case accept
        case unavailable(retryAfterSeconds: Int?)
        case reject(status: Int)
    }

    struct State {
        var mode: Mode = .accept
        var records: [LogRecord] = []
        var batchIDs: Set<BatchID> = []
        var requests = 0
        var duplicateBatches = 0
        var tokens: [String?] = []
    }

    let state = Mutex(State())
    private var task: Task<Void, Error>?
    private(set) var port = 0

    var records: [LogRecord] { state.withLock { $0.records } }
    var requests: Int { state.withLock { $0.requests } }
    func setMode(_ mode: Mode) { state.withLock { $0.mode = mode } }

    func start() async throws {
        let router = Router()
        router.post("/api/v1/ingest") { [self] request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 << 20)
            let token = request.headers[.authorization]
            return state.withLock { state in
                state.requests += 1
                state.tokens.append(token)
                switch state.mode {
                case .unavailable(let after):
                    var headers = HTTPFields()
                    if let after { headers[.retryAfter] = String(after) }
                    return Response(status: .serviceUnavailable, headers: headers)
                case .reject(let status):
                    return Response(
                        status: .init(code: status), body: .init(byteBuffer: ByteBuffer(string: "{\"message\":\"go away\"}")))
                case .accept:
                    do {
                        let batch = try WireBatch.decode(Array(buffer: body))
                        if state.batchIDs.insert(batch.id).inserted {
                            state.records += batch.records
                        } else {
                            state.duplicateBatches += 1
                        }
                        return Response(status: .ok)
                    } catch {
                        return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "\(error)")))
                    }
                }
            }
        }
        let ready = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                ready.continuation.yield(channel.localAddress?.port ?? 0)
                ready.continuation.finish()
            }, logger: quietLogger)
        task = Task { try await app.run() }
        for await port in ready.stream { self.port = port }
    }

    func stop() {
        task?.cancel()
    }

    var url: String { "http://127.0.0.1:\(port)" }
}

/// The `strata` executable next to the test bundle (SwiftPM builds both into the same folder).
func strataExecutable() -> String {
    let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("strata").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return bundleDirectory.appendingPathComponent("strata").path
}

/// A plain HTTP/1.1 GET over a loopback socket (Foundation's URL loading needs FoundationNetworking).
func httpGet(host: String = "127.0.0.1", port: Int, path: String) -> (status: Int, body: String)? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr(host)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    let request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
    _ = request.withCString { send(fd, $0, strlen($0), 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let statusLine = text.split(separator: "\r\n").first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}
