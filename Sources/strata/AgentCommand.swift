import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StrataAgent
import StrataConfiguration

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Tail container log files and ship them to the collector.",
        discussion: """
            Settings come from --config (YAML, see pipelines/agent.yaml), then the flags below, then
            --set KEY=VALUE for any configuration key (e.g. --set batch.max_bytes=4MiB).
            """)

    @Option(name: .long, help: "YAML configuration file.")
    var config: String?

    @Option(name: .customLong("path"), help: "Glob of log files to tail (repeatable). Default /var/log/containers/*.log.")
    var paths: [String] = []

    @Option(name: .long, help: "Glob of files to leave alone (repeatable).")
    var exclude: [String] = []

    @Option(name: .long, help: "Directory for checkpoints, spool and dead letters.")
    var checkpointDir: String?

    @Option(name: .long, help: "Collector base URL, e.g. http://strata-collector:4180.")
    var collector: String?

    @Option(name: .long, help: "File holding the bearer token (or set STRATA_TOKEN).")
    var tokenFile: String?

    @Option(name: .long, help: "Where records go: http (the collector) or stdout (JSON lines).")
    var sink: AgentConfiguration.Sink?

    @Flag(name: .long, help: "Read every matched file to its end, deliver, commit checkpoints and exit.")
    var once = false

    @Option(name: .long, help: "Serve /metrics and /healthz on HOST:PORT.")
    var metricsListen: String?

    @Option(name: .long, help: "Set any configuration key: KEY=VALUE (repeatable).")
    var set: [String] = []

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.bootstrap(label: "strata.agent")
        // A configuration error is not a usage error: one line naming the key, no usage text.
        let configuration = try resolveConfiguration()
        let agent = try Agent(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    func resolveConfiguration() throws -> AgentConfiguration {
        var tree = ConfigTree()
        if let config { tree = try ConfigTree(contentsOfFile: config, flag: "--config") }
        if !paths.isEmpty { try tree.set("inputs.paths=[\(paths.map(quoted).joined(separator: ","))]") }
        if !exclude.isEmpty { try tree.set("inputs.exclude=[\(exclude.map(quoted).joined(separator: ","))]") }
        if let checkpointDir { try tree.set(path: ["checkpoint_dir"], text: checkpointDir) }
        if let collector { try tree.set(path: ["output", "collector"], text: collector) }
        if let tokenFile { try tree.set(path: ["output", "token_file"], text: tokenFile) }
        if let sink { try tree.set(path: ["output", "sink"], text: sink.rawValue) }
        if let metricsListen { try tree.set(path: ["metrics_listen"], text: metricsListen) }
        for assignment in set { try tree.set(assignment) }
        var configuration = try AgentConfiguration(tree: tree)
        configuration.once = once
        return configuration
    }

    private func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
