import Foundation

/// A plain TCP connection to a loopback port, for requests no HTTP client would send: half-sent
/// heads, stalled bodies, 100 KB URLs, a client that never reads.
final class RawConnection: @unchecked Sendable {
    let fd: Int32
    private var closed = false

    /// `receiveBuffer` shrinks the socket's receive buffer before connecting (the kernel then
    /// neither grows it nor the window it advertises), so a client that does not read stops the
    /// server's writes after a few kilobytes instead of a few megabytes.
    init(port: Int, receiveBuffer: Int? = nil) throws {
        fd = try connectLoopback(port: port, receiveBuffer: receiveBuffer)
    }

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// What arrives until the server closes the connection, and whether it did within `timeout`
    /// seconds (false: the connection was still open then).
    func readUntilClosed(timeout: Double) -> (bytes: [UInt8], closed: Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        var received: [UInt8] = []
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return (received, false) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, remaining * 1000))) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &buffer, buffer.count, 0)
            // 0: the server closed; below 0: it reset the connection (closed with data unread).
            guard count > 0 else { return (received, true) }
            received += buffer[0..<count]
        }
    }

    /// What arrives until `marker` has arrived or `timeout` seconds passed.
    func read(until marker: String, timeout: Double) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        let wanted = Array(marker.utf8)
        var received: [UInt8] = []
        // Only the bytes that could complete the marker are searched again after each read.
        var searchFrom = 0
        while !contains(received, wanted, from: searchFrom) {
            searchFrom = max(0, received.count - wanted.count)
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, remaining * 1000))) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    private func contains(_ bytes: [UInt8], _ wanted: [UInt8], from start: Int) -> Bool {
        guard !wanted.isEmpty, bytes.count >= wanted.count else { return wanted.isEmpty }
        var index = start
        while index + wanted.count <= bytes.count {
            if bytes[index] == wanted[0], bytes[index..<(index + wanted.count)].elementsEqual(wanted) { return true }
            index += 1
        }
        return false
    }
}

/// The status code of the first response in `text` (0 when there is none).
func statusCode(_ text: String) -> Int {
    guard text.hasPrefix("HTTP/1.1 ") else { return 0 }
    return Int(text.dropFirst(9).prefix(3)) ?? 0
}

/// The body of a response with Content-Length (what follows the blank line).
func responseBody(_ text: String) -> String {
    guard let range = text.range(of: "\r\n\r\n") else { return "" }
    return String(text[range.upperBound...])
}
