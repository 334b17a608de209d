import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StrataAgent
import StrataParsers
import StrataServer

struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "Receive batches from agents, normalize and store them.",
        discussion: """
            Without a token the collector accepts unauthenticated batches and therefore listens on
            loopback only. Normalization rules come from the `normalize:` section of --config
            (see pipelines/collector.yaml), formats from --parsers-dir.
            """)

    @Option(name: .long, help: "Directory for the write-ahead log, segments and catalog.")
    var dataDir: String

    @Option(name: .long, help: "HOST:PORT to listen on.")
    var listen = "127.0.0.1:4180"

    @Option(name: .long, help: "File holding the bearer token agents must present (or set STRATA_TOKEN).")
    var tokenFile: String?

    @Option(name: .long, help: "YAML configuration (its normalize: section).")
    var config: String?

    @Option(name: .long, help: "Directory of parser definitions (*.yaml).")
    var parsersDir: String?

    @Option(name: .long, help: "Flush the in-memory head into segments this often, e.g. 10s.")
    var flushInterval = "10s"

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = logging.bootstrap(label: "strata.collector")
        guard let address = HostPort(listen) else { throw ValidationError("--listen expects HOST:PORT, found '\(listen)'") }
        guard let interval = DurationText.parse(flushInterval) else {
            throw ValidationError("--flush-interval expects a duration like 10s, found '\(flushInterval)'")
        }
        var configuration = CollectorConfiguration(dataDirectory: dataDir)
        configuration.host = address.host
        configuration.port = address.port
        configuration.flushInterval = interval
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("cannot read --token-file \(tokenFile)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ValidationError("--token-file \(tokenFile) is empty") }
            configuration.tokens = [token]
        } else if let token = ProcessInfo.processInfo.environment["STRATA_TOKEN"], !token.isEmpty {
            configuration.tokens = [token]
        }
        let parsersDirectory = parsersDir ?? (FileManager.default.fileExists(atPath: "parsers") ? "parsers" : nil)
        do {
            if let parsersDirectory { configuration.parsers = try ParserRegistry.load(directory: parsersDirectory) }
            if let config {
                let text = try String(contentsOfFile: config, encoding: .utf8)
                configuration.normalizer = try NormalizerConfiguration(yaml: text)
            }
        } catch {
            throw ValidationError("\(error)")
        }
        let server = try CollectorServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
