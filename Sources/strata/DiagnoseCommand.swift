import ArgumentParser
import Foundation
import Logging
import NIOCore
import StrataAgent
import StrataConfiguration
import StrataCore
import StrataDiagnosis
import struct StrataQuery.LocalQueryService
import enum StrataQuery.TimeExpression
import struct StrataQueryClient.RemoteQueryService
import struct StrataServer.SnapshotRecordSource
import StrataStore

struct DiagnoseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Rank the workloads most likely at fault in a time window, with their evidence.",
        discussion: """
            Compares the window with a baseline (default: the hour before the window) per workload:
            error and warning rates, new and vanished templates, frequency shifts, restarts,
            Kubernetes failure signatures, call chains rebuilt from trace ids, hand-off latencies.
            The report format is docs/REPORT.md; the method is docs/DIAGNOSIS.md.

            Times are RFC 3339 (2024-05-01T10:00:00Z), nanoseconds since the epoch, `now`, or
            `now-15m` / `-15m`.

            Examples:
              strata diagnose --from now-10m --to now --data-dir /var/lib/strata -o md
              strata diagnose --from 2024-05-01T10:00:00Z --to 2024-05-01T10:05:00Z \\
                  --collector http://collector:4180 -o html --output report.html
            """)

    @Option(name: .long, help: "Start of the incident window: RFC 3339, nanoseconds, now, now-15m or -15m.")
    var from: String

    @Option(name: .long, help: "End of the incident window (exclusive).")
    var to: String = "now"

    @Option(name: .long, help: "Start of the baseline (default: one hour before --from).")
    var baselineFrom: String?

    @Option(name: .long, help: "End of the baseline (default: --from).")
    var baselineTo: String?

    @Option(name: [.customShort("o"), .long], help: "Report format: json, md or html.")
    var format: ReportFormat = .json

    @Option(name: .long, help: "Write the report to this file instead of standard output.")
    var output: String?

    @Option(name: .long, help: "Read a collector's data directory directly, read-only (safe beside a running collector).")
    var dataDir: String?

    @Option(name: .long, help: "Collector base URL to read records from.")
    var collector: String?

    @Option(name: .long, help: "File holding the bearer token (or set STRATA_TOKEN).")
    var tokenFile: String?

    @Option(name: .long, help: "Clock that places records in time: runtime (the container runtime's, kept by the collector when it took the application's; reads one day either side) or stored.")
    var clock: DiagnosisClock = .runtime

    @Option(name: .long, help: "Most suspects to report.")
    var maxSuspects = 10

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (dataDir == nil) != (collector == nil) else {
            throw ValidationError("give exactly one of --data-dir DIR or --collector URL")
        }
        guard maxSuspects >= 1 else { throw ValidationError("--max-suspects must be at least 1") }
    }

    func run() async throws {
        let logger = logging.bootstrap(label: "strata.diagnose")
        let now = WallClock.nowNanos()
        let windowFrom = try Self.parseTime(from, option: "--from", now: now)
        let windowTo = try Self.parseTime(to, option: "--to", now: now)
        guard windowTo > windowFrom else { throw ValidationError("--to (\(to)) must be after --from (\(from))") }
        let baselineEnd = try baselineTo.map { try Self.parseTime($0, option: "--baseline-to", now: now) } ?? windowFrom
        let baselineStart = try baselineFrom.map { try Self.parseTime($0, option: "--baseline-from", now: now) }
            ?? baselineEnd.subtractingSaturated(3600 * 1_000_000_000)
        guard baselineEnd > baselineStart else {
            throw ValidationError("--baseline-to must be after --baseline-from")
        }
        let window = TimeRange(from: windowFrom, to: windowTo)
        let baseline = TimeRange(from: baselineStart, to: baselineEnd)

        var configuration = DiagnosisConfiguration()
        configuration.maxSuspects = maxSuspects
        let diagnoser = Diagnoser(configuration: configuration, templater: DiagnosisTemplater.make())
        let report: DiagnosisReport
        if let dataDir {
            guard FileManager.default.fileExists(atPath: dataDir + "/manifest.json") || FileManager.default.fileExists(atPath: dataDir + "/wal") else {
                throw ValidationError("\(dataDir) is not a Strata data directory (no manifest.json or wal/)")
            }
            // Read-only, like `strata query --data-dir`: safe beside a running collector (a
            // LogStore would replay and repair the write-ahead log and delete files it does not list).
            let snapshot = try LocalQueryService.snapshot(of: dataDir) { logger.warning("\($0)") }
            report = try diagnoser.diagnose(
                window: window, baseline: baseline, source: SnapshotRecordSource(snapshot: snapshot, clock: clock == .stored ? .stored : .runtime()))
        } else if let collector {
            let service = RemoteQueryService(base: collector, token: try token())
            // The query API selects by stored time, so the runtime clock cannot be applied here.
            let windowRecords = try await service.allRecords(from: window.from, to: window.to)
            let baselineRecords = try await service.allRecords(from: baseline.from, to: baseline.to)
            report = diagnoser.diagnose(
                window: window, windowRecords: windowRecords, baseline: baseline, baselineRecords: baselineRecords)
        } else {
            throw ValidationError("give --data-dir DIR or --collector URL")
        }

        let text: Data
        switch format {
        case .md: text = Data(report.markdown().utf8)
        case .html: text = Data(report.html().utf8)
        case .json: text = try report.jsonData() + Data("\n".utf8)
        }
        if let output {
            do {
                try text.write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw ValidationError("cannot write the report to \(output): \(error.localizedDescription)")
            }
            FileHandle.standardError.write(Data("report written to \(output)\n".utf8))
        } else {
            FileHandle.standardOutput.write(text)
        }
    }

    /// The times of the query API (`TimeExpression`: now, now-15m, RFC 3339, nanoseconds), so
    /// `--from` reads like `?from=`; `-15m` is kept as short for `now-15m`.
    static func parseTime(_ text: String, option: String, now: Int64) throws -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let isShortLookBack = trimmed.hasPrefix("-") && !trimmed.dropFirst().allSatisfy(\.isNumber)
        let expression = isShortLookBack ? "now" + trimmed : trimmed
        if let nanos = TimeExpression.instant(expression, now: now) { return nanos }
        if expression.hasPrefix("now-") || expression.hasPrefix("now+"), TimeExpression.duration(String(expression.dropFirst(4))) != nil {
            throw ValidationError("\(option): '\(text)' lies outside the years 1677-2262 that times can express")
        }
        throw ValidationError("\(option): '\(text)' is not a time (RFC 3339, nanoseconds, now, now-15m or -15m)")
    }

    private func token() throws -> String? { try clientToken(nil, file: tokenFile) }
}

