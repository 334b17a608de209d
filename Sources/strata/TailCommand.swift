import ArgumentParser
import Foundation
import StrataCore
import StrataOutput
import StrataQuery
import StrataQueryClient

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
    var output: RecordFormat = .text

    @Option(name: .long, help: "Colour: auto, always, never.")
    var color: ColourChoice = .auto

    func run() async throws {
        let format = output
        let node: QueryNode
        do {
            node = try QueryParser.parse(query)
        } catch let error as QueryParseError {
            throw CommandFailure("query \(error.description)")
        }
        let source = try SourceOptions.parse(
            (collector.map { ["--collector", $0] } ?? []) + (token.map { ["--token", $0] } ?? []) + (tokenFile.map { ["--token-file", $0] } ?? []))
        let formatter = OutputFormatter(colour: Terminal.colour(color), query: node)
        try await source.remote().tail(query) { record in
            FileHandle.standardOutput.write(Data((formatter.line(record, format: format) + "\n").utf8))
        } notice: { message in
            FileHandle.standardError.write(Data("tail: \(message)\n".utf8))
        }
    }
}
