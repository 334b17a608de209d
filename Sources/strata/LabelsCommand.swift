import ArgumentParser
import Foundation
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
    var output = "text"

    func run() async throws {
        guard output == "text" || output == "json" else { throw ValidationError("-o must be text or json") }
        let backend = try source.backend()
        let timeRange = try range.resolve()
        if let label {
            let result = try await backend.stats(query, [Field(name: label)], timeRange)
            if output == "json" {
                FileHandle.standardOutput.write(Data(QueryAPI.stats(result, tookMs: 0)))
            } else {
                print(OutputFormatter(colour: Terminal.colour("auto")).table(result))
            }
            return
        }
        var rows: [(String, String, Int)] = []
        for name in StatsSpec.labels {
            let field = Field(name: name)
            let result = try await backend.stats(query, [field], timeRange)
            let present = result.groups.filter { $0.values.first.map { $0 != nil } ?? false }.count + result.otherGroups
            rows.append((name, field.name, present))
        }
        if output == "json" {
            let items = rows.map { "{\"label\":\"\($0.0)\",\"field\":\"\($0.1)\",\"values\":\($0.2)}" }
            print("{\"labels\":[\(items.joined(separator: ","))]}")
            return
        }
        let width = rows.map(\.1.count).max() ?? 5
        print("label      " + "field".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "values")
        for row in rows {
            print(row.0.padding(toLength: 11, withPad: " ", startingAt: 0) + row.1.padding(toLength: width + 2, withPad: " ", startingAt: 0) + String(row.2))
        }
    }
}
