import ArgumentParser
import Foundation
import StrataOutput
import StrataQuery

/// `strata templates [QUERY] --since 1h`: the templates of the matching records, most frequent
/// first, with count, first and last seen and a sample line.
struct TemplatesListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the message templates of matching records, most frequent first.")

    @Argument(help: "The query (empty: every record).")
    var query: String = ""

    @OptionGroup var source: SourceOptions
    @OptionGroup var range: RangeOptions

    @Option(name: .long, help: "Most templates to list (1-1000).")
    var limit = 50

    @Option(name: [.customShort("o"), .long], help: "Output: text or json.")
    var output: ListingFormat = .text

    func run() async throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
        let timeRange = try range.resolve()
        let answer = try await source.service().templates(query, range: timeRange, limit: limit)
        if output == .json {
            FileHandle.standardOutput.write(Data(QueryAPI.templates(answer, tookMs: answer.tookMs)))
        } else {
            print(OutputFormatter(colour: false).templates(answer))
        }
    }
}
