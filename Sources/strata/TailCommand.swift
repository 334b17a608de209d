import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import StrataCore
import StrataQuery

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow new matching records live from a collector (server-sent events).",
        discussion: """
            Examples:
              strata tail 'ns:shop level:>=warn'
              strata tail '"connection refused"' -o json
            Reconnects after a dropped connection and continues after the last record it
            printed (no duplicates); if the collector restarted meanwhile it says so and
            follows from then on.
            """)

    @Argument(help: "The query (empty: every record).")
    var query = ""

    @Option(name: .long, help: "Collector base URL (default http://127.0.0.1:4180, or $STRATA_COLLECTOR).")
    var collector: String?

    @Option(name: .long, help: "Bearer token (or --token-file, or $STRATA_TOKEN).")
    var token: String?

    @Option(name: .long, help: "File holding the bearer token.")
    var tokenFile: String?

    @Option(name: [.customShort("o"), .long], help: "Output: text, json or raw.")
    var output = "text"

    @Option(name: .long, help: "Colour: auto, always, never.")
    var color = "auto"

    func run() async throws {
        guard let format = RecordFormat(rawValue: output) else { throw ValidationError("-o must be text, json or raw") }
        let node: QueryNode
        do {
            node = try QueryParser.parse(query)
        } catch let error as QueryParseError {
            throw CommandFailure("query \(error.description)")
        }
        let source = try SourceOptions.parse(
            (collector.map { ["--collector", $0] } ?? []) + (token.map { ["--token", $0] } ?? []) + (tokenFile.map { ["--token-file", $0] } ?? []))
        let base = (collector ?? ProcessInfo.processInfo.environment["STRATA_COLLECTOR"] ?? "http://127.0.0.1:4180")
        let formatter = OutputFormatter(colour: Terminal.colour(color), query: node)
        var follower = TailFollower(base: base.hasSuffix("/") ? String(base.dropLast()) : base, token: try source.resolvedToken(), query: query)
        try await follower.run { record in
            FileHandle.standardOutput.write(Data((formatter.line(record, format: format) + "\n").utf8))
        } notice: { message in
            FileHandle.standardError.write(Data("tail: \(message)\n".utf8))
        }
    }
}

/// Reads the collector's event stream, reconnecting with `Last-Event-ID` after failures.
struct TailFollower {
    let base: String
    let token: String?
    let query: String
    var lastEventID: String?

    init(base: String, token: String?, query: String) {
        self.base = base
        self.token = token
        self.query = query
    }

    mutating func run(_ emit: (LogRecord) -> Void, notice: (String) -> Void) async throws {
        var backoff: Duration = .milliseconds(500)
        while !Task.isCancelled {
            var components = URLComponents(string: base)
            components?.path = "/api/v1/tail"
            components?.queryItems = [URLQueryItem(name: "q", value: query), URLQueryItem(name: "format", value: "sse")]
            let escaped = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
            components?.percentEncodedQuery = escaped
            guard let url = components?.string else { throw ValidationError("--collector is not a URL: \(base)") }
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "text/event-stream")
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .hours(24 * 365))
                if response.status.code == 400 || response.status.code == 401 || response.status.code == 414 {
                    let body = Array(buffer: try await response.body.collect(upTo: 1 << 20))
                    let message = (try? JSONValue.parse(body))?["message"]?.string ?? String(decoding: body, as: UTF8.self)
                    throw CommandFailure("collector answered \(response.status.code): \(message)")
                }
                guard response.status.code == 200 else { throw TailError.status(Int(response.status.code)) }
                backoff = .milliseconds(500)
                var parser = ServerSentEvents()
                for try await buffer in response.body {
                    for event in parser.feed(Array(buffer: buffer)) {
                        if event.type == "gap" {
                            notice((try? JSONValue.parse(event.data))?["message"]?.string ?? event.data)
                            continue
                        }
                        guard !event.data.isEmpty else { continue }
                        let record = try LogRecord(json: try JSONValue.parse(event.data))
                        emit(record)
                        if let id = event.id { lastEventID = id }
                    }
                }
                notice("the collector closed the stream; reconnecting")
            } catch let error as CommandFailure {
                throw error
            } catch {
                if Task.isCancelled { return }
                notice("connection lost (\(error)); reconnecting in \(backoff)")
            }
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }
}

enum TailError: Error, CustomStringConvertible {
    case status(Int)
    var description: String {
        switch self {
        case .status(let code): "collector answered \(code)"
        }
    }
}
