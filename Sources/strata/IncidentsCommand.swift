import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import StrataCore
import StrataDiagnosis
import StrataOutput
import enum StrataQuery.QueryAnswer

/// `strata incidents`: the incidents a collector's continuous diagnosis opened
/// (docs/API.md, "Incident endpoints", docs/DIAGNOSIS.md "Continuous mode").
struct IncidentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "List the incidents continuous diagnosis opened, or show one with its report.",
        discussion: """
            Reads /api/v1/incidents of a collector running with a diagnosis: section in its
            configuration (docs/DIAGNOSIS.md, "Continuous mode").

            Examples:
              strata incidents --collector http://collector:4180 --state open
              strata incidents show inc-20261121T100500Z-3 --collector http://collector:4180
            """,
        subcommands: [IncidentsListCommand.self, IncidentsShowCommand.self],
        defaultSubcommand: IncidentsListCommand.self)
}

/// A failure talking to the collector (not a usage error: no usage text is printed for it).
struct IncidentsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct CollectorClientOptions: ParsableArguments {
    @Option(name: .long, help: "Collector base URL.")
    var collector = "http://127.0.0.1:4180"

    @Option(name: .long, help: "File holding the bearer token (or set STRATA_TOKEN).")
    var tokenFile: String?

    func token() throws -> String? { try clientToken(nil, file: tokenFile) }

    /// GETs `path` (with its query) and returns the body of a 200; any other answer becomes an
    /// error quoting the collector's `{code, message}`.
    func get(_ path: String) async throws -> Data {
        let base = collector.hasSuffix("/") ? String(collector.dropLast()) : collector
        guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
            throw ValidationError("--collector must be an http:// or https:// URL, found '\(collector)'")
        }
        var request = HTTPClientRequest(url: base + path)
        if let token = try token(), !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            throw IncidentsError("cannot reach the collector at \(base) (--collector): \(error)")
        }
        let data = Data(buffer: try await response.body.collect(upTo: 256 << 20))
        guard response.status.code == 200 else {
            let failure = try? JSONDecoder().decode(QueryAnswer.Failure.self, from: data)
            let code = failure?.code ?? "http_\(response.status.code)"
            let message = failure?.message ?? String(decoding: data.prefix(300), as: UTF8.self)
            throw IncidentsError("collector answered \(response.status.code) \(code): \(message)")
        }
        return data
    }
}

struct IncidentsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List incidents, newest first (the default subcommand).")

    @OptionGroup var client: CollectorClientOptions

    @Option(name: .long, help: "open, resolved or all.")
    var state: IncidentStateFilter = .all

    @Option(name: .long, help: "At most this many (1-1000).")
    var limit = 100

    @Option(name: [.customShort("o"), .long], help: "text or json.")
    var format: ListingFormat = .text

    func validate() throws {
        guard (1...IncidentAPI.maxLimit).contains(limit) else { throw ValidationError("--limit must be from 1 to \(IncidentAPI.maxLimit)") }
    }

    func run() async throws {
        let data = try await client.get("/api/v1/incidents?state=\(state.rawValue)&limit=\(limit)")
        if format == .json {
            FileHandle.standardOutput.write(data)
            return
        }
        let list: IncidentAPI.ListBody
        do {
            list = try IncidentAPI.decodeList(data)
        } catch {
            throw IncidentsError("the collector's incident list could not be read: \(error)")
        }
        FileHandle.standardOutput.write(Data(IncidentText.table(list).utf8))
    }
}

struct IncidentsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one incident: its state, history and current report (Markdown by default).")

    @Argument(help: "The incident id, as `strata incidents` lists it.")
    var id: String

    @OptionGroup var client: CollectorClientOptions

    @Option(name: [.customShort("o"), .long], help: "md, json or html (html: the report page alone).")
    var format: ReportFormat = .md

    func validate() throws {
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ValidationError("'\(id)' is not an incident id (letters, digits, - and _)")
        }
    }

    func run() async throws {
        let data = try await client.get("/api/v1/incidents/\(id)")
        if format == .json {
            FileHandle.standardOutput.write(data)
            return
        }
        let detail: IncidentDetail
        do {
            detail = try IncidentAPI.decodeDetail(data)
        } catch {
            throw IncidentsError("the collector's answer for \(id) could not be read: \(error)")
        }
        let text = format == .html ? detail.report.html() : IncidentText.markdown(detail)
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
