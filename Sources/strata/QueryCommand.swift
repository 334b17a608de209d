import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import StrataAgent

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Search a collector: terms, \"phrases\" and field:value filters, newest first.",
        discussion: """
            Examples:
              strata query 'connection refused' --since 15m
              strata query 'k8s.pod.name:api-1 severity:error' --count
            """)

    @Argument(help: "The query.")
    var query = ""

    @Option(name: .long, help: "Collector base URL.")
    var collector = "http://127.0.0.1:4180"

    @Option(name: .long, help: "File holding the bearer token (or set STRATA_TOKEN).")
    var tokenFile: String?

    @Option(name: .long, help: "How far back to search, e.g. 15m, 2h, 7d.")
    var since = "1h"

    @Option(name: .long, help: "Most records to print.")
    var limit = 100

    @Flag(name: .long, help: "Print only the number of matching records.")
    var count = false

    @Option(name: [.customShort("o"), .long], help: "Output: text, json or raw.")
    var output = "text"

    func run() async throws {
        guard ["text", "json", "raw"].contains(output) else { throw ValidationError("-o must be text, json or raw") }
        guard let duration = DurationText.parse(since), duration > .zero else {
            throw ValidationError("--since expects a duration like 15m, found '\(since)'")
        }
        let window = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        var components = URLComponents(string: collector.hasSuffix("/") ? String(collector.dropLast()) : collector)
        components?.path = "/api/v1/query"
        components?.queryItems = [
            URLQueryItem(name: "q", value: query), URLQueryItem(name: "from", value: String(now - window)),
            URLQueryItem(name: "to", value: String(now + 1)), URLQueryItem(name: "limit", value: String(limit)),
            URLQueryItem(name: "count", value: count ? "true" : "false"),
        ]
        guard let url = components?.string else { throw ValidationError("--collector is not a URL: \(collector)") }
        var request = HTTPClientRequest(url: url)
        if let token = try token() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 256 << 20)
        let data = Data(buffer: body)
        guard response.status.code == 200 else {
            let message = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["message"] as? String
            throw ValidationError("collector answered \(response.status.code): \(message ?? String(decoding: data, as: UTF8.self))")
        }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ValidationError("collector answered something that is not JSON")
        }
        if count {
            print(object["count"] as? Int ?? 0)
            return
        }
        for record in object["records"] as? [[String: Any]] ?? [] {
            switch output {
            case "json":
                let line = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: line, as: UTF8.self))
            case "raw":
                print(record["body"] as? String ?? "")
            default:
                let resource = record["resource"] as? [String: String] ?? [:]
                let time = (record["timestamp"] as? String ?? "").prefix(23)
                let pod = resource["k8s.pod.name"] ?? "-"
                let body = (record["body"] as? String ?? "").split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
                print("\(time)  \(pod)  \(body)")
            }
        }
    }

    private func token() throws -> String? {
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("cannot read --token-file \(tokenFile)")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ProcessInfo.processInfo.environment["STRATA_TOKEN"]
    }
}
