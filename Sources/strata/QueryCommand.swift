import ArgumentParser
import Foundation
import StrataCore
import StrataOutput
import StrataQuery
import StrataQueryClient
import StrataServer
import StrataTemplates
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Search logs: terms, \"phrases\", field:value, /regex/, AND/OR/NOT, numeric comparisons (docs/QUERY.md).",
        discussion: """
            Examples:
              strata query '"connection refused" ns:shop' --since 15m
              strata query 'pod:api-* level:>=warn -healthz' --limit 20
              strata query 'status:>=500' --stats 'count by ns, pod'
              strata query '/time(d )?out/' --histogram 1m
              strata query 'level:error' --data-dir /var/lib/strata --count
            The range defaults to the last hour; results are newest first (--asc for oldest first).
            When a page is full, the cursor for the next page is printed on standard error.
            """)

    @Argument(help: "The query (empty: every record).")
    var query = ""

    @OptionGroup var source: SourceOptions
    @OptionGroup var range: RangeOptions

    @Flag(name: .long, help: "Oldest first.")
    var asc = false

    @Option(name: .long, help: "Most records to print (1-10000).")
    var limit = 100

    @Option(name: .long, help: "Continue after the page that printed this cursor.")
    var cursor: String?

    @Option(name: [.customShort("o"), .long], help: "Output: text, json or raw.")
    var output: RecordFormat = .text

    @Option(name: .long, help: "Colour: auto (when standard output is a terminal), always, never.")
    var color: ColourChoice = .auto

    @Flag(name: .long, help: "Print only the number of matching records.")
    var count = false

    @Option(name: .long, help: "Count matching records by fields, e.g. 'count by ns, pod' or 'count by level'.")
    var stats: String?

    @Option(name: .long, help: "Count matching records per interval (e.g. 1m) as a bar chart (JSON with -o json).")
    var histogram: String?

    func run() async throws {
        let format = output
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
        let service = try source.service()
        let timeRange = try range.resolve()
        let colour = Terminal.colour(color)
        let node: QueryNode
        do {
            node = try QueryParser.parse(query)
        } catch let error as QueryParseError {
            throw CommandFailure("query \(error.description)\n  \(query)\n  \(String(repeating: " ", count: max(0, error.column - 1)))^")
        }
        let formatter = OutputFormatter(colour: colour, query: node)
        if count {
            print(try await service.count(query, range: timeRange))
            return
        }
        if let stats {
            let result = try await service.stats(query, by: try StatsSpec.parse(stats), range: timeRange)
            if format == .json {
                printBytes(QueryAPI.stats(result, tookMs: 0))
            } else {
                print(formatter.table(result))
            }
            return
        }
        if let histogram {
            guard let interval = TimeExpression.duration(histogram), interval > 0 else {
                throw ValidationError("--histogram expects an interval like 1m, found '\(histogram)'")
            }
            let result = try await service.histogram(query, interval: interval, range: timeRange)
            if format == .json {
                printBytes(QueryAPI.histogram(result, tookMs: 0))
            } else {
                print(formatter.chart(result, width: max(10, Terminal.width() - 40)))
            }
            return
        }
        let page = try await service.search(query, range: timeRange, order: asc ? .oldestFirst : .newestFirst, limit: limit, cursor: cursor)
        var out = ""
        for record in page.records {
            out += formatter.line(record, format: format)
            out += "\n"
            if out.utf8.count > 1 << 16 {
                FileHandle.standardOutput.write(Data(out.utf8))
                out = ""
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
        if let next = page.nextCursor {
            FileHandle.standardError.write(Data("-- more: add --cursor \(next)\n".utf8))
        }
    }

    private func printBytes(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }
}

/// Where queries go: a collector over HTTP, or a data directory read in this process with the
/// same engine.
struct SourceOptions: ParsableArguments {
    @Option(name: .long, help: "Collector base URL (default http://127.0.0.1:4180, or $STRATA_COLLECTOR).")
    var collector: String?

    @Option(name: .long, help: "Query a data directory directly, read-only (no collector needed).")
    var dataDir: String?

    @Option(name: .long, help: "Bearer token (or --token-file, or $STRATA_TOKEN).")
    var token: String?

    @Option(name: .long, help: "File holding the bearer token.")
    var tokenFile: String?

    /// The data directory when given, else the collector.
    func service() throws -> any QueryService {
        if let dataDir {
            guard collector == nil else { throw ValidationError("give --collector or --data-dir, not both") }
            return try LocalQueryService(dataDirectory: dataDir, catalog: TemplateState(dataDirectory: dataDir), warn: Terminal.warn)
        }
        return try remote()
    }

    func remote() throws -> RemoteQueryService {
        let url = collector ?? ProcessInfo.processInfo.environment["STRATA_COLLECTOR"] ?? "http://127.0.0.1:4180"
        return RemoteQueryService(base: url, token: try resolvedToken())
    }

    func resolvedToken() throws -> String? { try clientToken(token, file: tokenFile) }
}

/// The bearer token a client command sends: the flag, else the file, else `$STRATA_TOKEN`.
func clientToken(_ flag: String?, file: String?) throws -> String? {
    if let flag { return flag }
    if let file {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("cannot read --token-file \(file)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return ProcessInfo.processInfo.environment["STRATA_TOKEN"]
}

struct RangeOptions: ParsableArguments {
    @Option(name: .long, help: "How far back from --to (or now): 15m, 2h, 7d. Default: 1h.")
    var since: String?

    @Option(name: .long, help: "Start: RFC 3339 (2026-11-21T10:00:00Z), now-2h, or nanoseconds.")
    var from: String?

    @Option(name: .long, help: "End (included): RFC 3339, now-5m, or nanoseconds. Default: now.")
    var to: String?

    func resolve() throws -> TimeRange {
        do {
            return try TimeExpression.range(since: since, from: from, to: to, now: WallClock.nowNanos())
        } catch let error as QueryError {
            throw ValidationError(error.message)
        }
    }
}

/// A failure at run time (not a usage error): printed without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Terminal {
    @Sendable static func warn(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }

    static func colour(_ setting: ColourChoice) -> Bool {
        switch setting {
        case .always: return true
        case .never: return false
        case .auto: return isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        }
    }

    static func width() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 100
    }
}

/// The collector's template state in a data directory, for `template:<id>` and listings read
/// in this process as on the collector (docs/API.md). Read on first use: most queries name no
/// template, and the state can be large.
final class TemplateState: TemplateCatalog {
    private let file: URL
    private let loaded = Mutex<MinerCatalog??>(nil)

    init(dataDirectory: String) {
        file = URL(fileURLWithPath: dataDirectory).appendingPathComponent("templates.json")
    }

    /// nil when the directory has no readable state.
    private var catalog: MinerCatalog? {
        loaded.withLock { cached in
            if let cached { return cached }
            let fresh = FileManager.default.fileExists(atPath: file.path) ? (try? TemplateMiner(contentsOf: file)).map(MinerCatalog.init) : nil
            cached = .some(fresh)
            return fresh
        }
    }

    func aliases(of id: String) -> [String]? { catalog?.aliases(of: id) }
    func resolve(_ id: String) -> String { catalog?.resolve(id) ?? id }
    func text(of id: String) -> String? { catalog?.text(of: id) }
}
