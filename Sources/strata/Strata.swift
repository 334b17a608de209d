import ArgumentParser
import Logging

@main
struct Strata: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Strata: log pipeline and fault diagnosis for Kubernetes.",
        discussion: """
            The agent tails container logs on each node and ships them to the collector.
            See docs/ARCHITECTURE.md for how the parts fit together.
            """,
        version: "0.1.0",
        subcommands: [AgentCommand.self, CollectorCommand.self, QueryCommand.self, TailCommand.self, LabelsCommand.self, GenerateCommand.self, DiagnoseCommand.self, TemplatesCommand.self, IncidentsCommand.self])
}

struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func bootstrap(label: String) -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
