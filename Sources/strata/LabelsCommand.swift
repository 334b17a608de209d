import ArgumentParser
import Foundation
import StrataOutput
import StrataQuery

struct LabelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "List label values with their record counts (ns, pod, container, node, level, or any attribute).",
        discussion: """
            Examples:
              strata labels                 # each label with its number of values
              strata labels pod --since 6h  # pods with their record counts, most first
              strata labels level -q 'ns:shop'
            """)

    @Argument(help: "ns, pod, container, node, level, or an attribute key. Omit to list the labels.")
    var label: String?

    @Option(name: [.customShort("q"), .long], help: "Only records matching this query.")
    var query = ""

    @OptionGroup var source: SourceOptions
    @OptionGroup var range: RangeOptions

    @Option(name: [.customShort("o"), .long], help: "Output: text or json.")
    var output: ListingFormat = .text

    func run() async throws {
        let service = try source.service()
        let timeRange = try range.resolve()
        let formatter = OutputFormatter(colour: Terminal.colour(.auto))
        if let label {
            let result = try await service.stats(query, by: [Field(name: label)], range: timeRange)
            if output == .json {
                FileHandle.standardOutput.write(Data(QueryAPI.stats(result, tookMs: 0)))
            } else {
                print(formatter.table(result))
            }
            return
        }
        let labels = try await service.labels(query, range: timeRange)
        if output == .json {
            FileHandle.standardOutput.write(Data(QueryAPI.labels(labels, tookMs: nil)))
        } else {
            print(formatter.labels(labels))
        }
    }
}
