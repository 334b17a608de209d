import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StrataAgent

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
    var sink: String?

    @Flag(name: .long, help: "Read every matched file to its end, deliver, commit checkpoints and exit.")
    var once = false

    @Option(name: .long, help: "Serve /metrics and /healthz on HOST:PORT.")
    var metricsListen: String?

    @Option(name: .long, help: "Set any configuration key: KEY=VALUE (repeatable).")
    var set: [String] = []

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.bootstrap(label: "strata.agent")
        let configuration: AgentConfiguration
        do {
            configuration = try resolveConfiguration()
        } catch {
            throw ValidationError("\(error)")
        }
        let agent = try Agent(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    func resolveConfiguration() throws -> AgentConfiguration {
        var tree = ConfigTree()
        if let config {
            let text: String
            do {
                text = try String(contentsOfFile: config, encoding: .utf8)
            } catch {
                throw ConfigurationError(key: "", reason: "cannot read --config \(config): \(error.localizedDescription)")
            }
            tree = try ConfigTree(yaml: text, source: config)
        }
        if !paths.isEmpty { try tree.set("inputs.paths=[\(paths.map(quoted).joined(separator: ","))]") }
        if !exclude.isEmpty { try tree.set("inputs.exclude=[\(exclude.map(quoted).joined(separator: ","))]") }
        if let checkpointDir { try tree.set(path: ["checkpoint_dir"], value: .init(checkpointDir)) }
        if let collector { try tree.set(path: ["output", "collector"], value: .init(collector)) }
        if let tokenFile { try tree.set(path: ["output", "token_file"], value: .init(tokenFile)) }
        if let sink { try tree.set(path: ["output", "sink"], value: .init(sink)) }
        if let metricsListen { try tree.set(path: ["metrics_listen"], value: .init(metricsListen)) }
        for assignment in set { try tree.set(assignment) }
        var configuration = try AgentConfiguration(tree: tree)
        configuration.once = once
        return configuration
    }

    private func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
