import ArgumentParser
import Foundation
import StrataCore
import StrataQuery
import StrataServer
import StrataTemplates

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
    var output = "text"

    func run() async throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
        guard output == "text" || output == "json" else { throw ValidationError("-o must be text or json") }
        let timeRange = try range.resolve()
        let json: [UInt8]
        if let dataDir = source.dataDir {
            guard source.collector == nil else { throw ValidationError("give --collector or --data-dir, not both") }
            let opened = try DataDirectoryReader.open(dataDir)
            for warning in opened.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            let stateURL = URL(fileURLWithPath: dataDir).appendingPathComponent("templates.json")
            let miner = FileManager.default.fileExists(atPath: stateURL.path) ? try? TemplateMiner(contentsOf: stateURL) : nil
            let node: QueryNode
            do {
                node = try QueryParser.parse(query)
            } catch let error as QueryParseError {
                throw ValidationError(error.description)
            }
            json = try TemplateListing.list(
                engine: QueryEngine(snapshot: opened.view), miner: miner, query: node, range: timeRange, limit: limit
            ).json()
        } else {
            guard let backend = try source.backend() as? HTTPBackend else { throw CommandFailure("no collector to ask") }
            json = try await backend.get(
                "/api/v1/templates",
                [URLQueryItem(name: "q", value: query), URLQueryItem(name: "limit", value: String(limit))]
                    + HTTPBackend.rangeItems(timeRange))
        }
        if output == "json" {
            FileHandle.standardOutput.write(Data(json))
            return
        }
        let parsed = try JSONValue.parse(json)
        let rows = parsed["templates"]?.array ?? []
        if rows.isEmpty { print("no templates in this range") }
        for row in rows {
            let count = row["count"]?.int ?? 0
            let id = row["id"]?.string ?? "?"
            let text = row["template"]?.string ?? "(text not in the template state)"
            let first = row["first_seen"]?.string ?? ""
            let last = row["last_seen"]?.string ?? ""
            print("\(String(count).leftPadded(to: 8))  \(id)  \(text)")
            print("          first \(first)  last \(last)")
            print("          e.g. \(String((row["sample"]?.string ?? "").prefix(200)))")
        }
        if let without = parsed["without_template"]?.int, without > 0 {
            print("(\(without) matching records carry no template id)")
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
