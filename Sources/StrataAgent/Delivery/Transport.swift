#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import StrataCore

public enum DeliveryOutcome: Sendable, Equatable {
    /// Acknowledged. `tooOld` of the batch's records were refused by the receiver as older
    /// than its retention: acknowledged, but not stored (docs/API.md, `too_old`).
    case accepted(tooOld: Int)
    /// Try again later; `after` is the receiver's Retry-After when it gave one.
    case retry(reason: String, after: Duration?)
    /// The receiver refused the batch for good (4xx other than 408 and 429).
    case rejected(status: Int, message: String)
}

/// Where sealed batches go. The HTTP transport is the production one; tests substitute their own.
public protocol BatchTransport: Sendable {
    func deliver(_ batch: SealedBatch) async -> DeliveryOutcome
    func shutdown() async
}

/// POSTs frames to `<collector>/api/v1/ingest` (docs/WIRE.md).
public final class HTTPBatchTransport: BatchTransport {
    private let client: HTTPClient
    private let url: String
    private let token: String?
    private let codec: CompressionCodec
    private let timeout: TimeAmount

    public init(collector: String, token: String?, codec: CompressionCodec, timeoutSeconds: Int64 = 30) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(timeoutSeconds))
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let base = collector.hasSuffix("/") ? String(collector.dropLast()) : collector
        url = base + "/api/v1/ingest"
        self.token = token
        self.codec = codec
        self.timeout = .seconds(timeoutSeconds)
    }

    public func deliver(_ batch: SealedBatch) async -> DeliveryOutcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: WireFormat.contentType)
        request.headers.add(name: "X-Strata-Batch-Id", value: batch.id.description)
        if codec != .none { request.headers.add(name: "Content-Encoding", value: codec.name) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: batch.frame))
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 64 * 1024)
            let message = String(buffer: body).trimmingWhitespace()
            return Self.outcome(status: Int(response.status.code), headers: response.headers, message: message)
        } catch {
            return .retry(reason: "\(url): \(error)", after: nil)
        }
    }

    static func outcome(status: Int, headers: HTTPHeaders, message: String) -> DeliveryOutcome {
        switch status {
        case 200..<300:
            return .accepted(tooOld: tooOldCount(acknowledgement: message))
        case 408, 429, 500..<600:
            let after = headers.first(name: "Retry-After").flatMap(parseRetryAfter)
            return .retry(reason: "HTTP \(status) \(message)", after: after)
        default:
            return .rejected(status: status, message: message.isEmpty ? "HTTP \(status)" : message)
        }
    }

    /// The `too_old` member of the collector's acknowledgement (docs/API.md); 0 when the body
    /// is not such an object (another receiver, or a collector that does not count them).
    static func tooOldCount(acknowledgement body: String) -> Int {
        var body = body
        return body.withUTF8 { bytes -> Int in
            var scanner = JSONScanner(bytes)
            do {
                guard try scanner.peekValue() == .object else { return 0 }
                try scanner.enterObject()
                while let key = try scanner.nextKey() {
                    if scanner.string(key) == "too_old", try scanner.peekValue() == .number {
                        return Int(scanner.text(try scanner.readNumber())).map { max(0, $0) } ?? 0
                    }
                    _ = try scanner.skipValue()
                }
            } catch {
                return 0
            }
            return 0
        }
    }

    /// Retry-After is either delta-seconds or an HTTP date; dates are honoured as "the time
    /// until then", clamped to [0, 10 minutes].
    static func parseRetryAfter(_ value: String) -> Duration? {
        let trimmed = value.trimmingWhitespace()
        if let seconds = Int(trimmed) { return .seconds(min(max(seconds, 0), 600)) }
        guard let target = parseHTTPDate(trimmed) else { return nil }
        let now = WallClock.nowNanos() / 1_000_000_000
        return .seconds(min(max(target - now, 0), 600))
    }

    /// IMF-fixdate, the form RFC 9110 requires senders to use: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func parseHTTPDate(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        guard parts.count == 6, parts[5] == "GMT", let day = Int64(parts[1]), let year = Int64(parts[3]),
            let month = months.firstIndex(of: parts[2].lowercased())
        else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int64($0) }
        guard clock.count == 3, (1...31).contains(day), clock[0] < 24, clock[1] < 60, clock[2] < 61 else { return nil }
        let days = RFC3339.daysFromCivil(year: year, month: Int64(month + 1), day: day)
        return days * 86400 + clock[0] * 3600 + clock[1] * 60 + clock[2]
    }

    public func shutdown() async {
        try? await client.shutdown()
    }
}

/// `--sink stdout`: frames are JSON lines, written to standard output.
public struct StdoutTransport: BatchTransport {
    public init() {}

    public func deliver(_ batch: SealedBatch) async -> DeliveryOutcome {
        var written = 0
        while written < batch.frame.count {
            let n = batch.frame.withUnsafeBytes { write(1, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .retry(reason: "writing to standard output failed: \(String(cString: strerror(errno)))", after: .seconds(1))
            }
            written += n
        }
        return .accepted(tooOld: 0)
    }

    public func shutdown() async {}
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
