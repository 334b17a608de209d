import ArgumentParser
import Foundation
import StrataAgent
import StrataCore
import StrataSampleData

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a realistic node log tree (kubelet layout, CRI and docker files) for demos and benchmarks.",
        discussion: """
            Creates <out>/var/log/pods/... and the /var/log/containers symlinks, with stack traces,
            16 KiB partial lines and mixed application formats. Deterministic for a given --seed.
            Prints a JSON summary with the exact number of records each file should produce.
            """)

    @Option(name: .long, help: "Root directory of the tree.")
    var out: String

    @Option(name: .long, help: "Containers to create.")
    var containers = 10

    @Option(name: .long, help: "Namespaces to spread them over.")
    var namespaces = 3

    @Option(name: .long, help: "Approximate total size, e.g. 50MB, 1GiB.")
    var size = "50MB"

    @Option(name: .long, help: "Seed of the generator.")
    var seed: UInt64 = 42

    @Option(name: .long, help: "Fraction of lines that are corrupt (truncated envelopes, invalid UTF-8).")
    var corruptRate = 0.0

    @Option(name: .long, help: "Time of the first line (RFC 3339). Default: ten minutes ago, so the lines end about now.")
    var start: String?

    @Option(name: .long, help: "Write the JSON summary to this file instead of standard output.")
    var summary: String?

    func run() async throws {
        guard let bytes = ByteSize.parse(size) else {
            throw ValidationError("--size expects a size like 50MB or 1GiB, found '\(size)'")
        }
        guard containers > 0, namespaces > 0 else { throw ValidationError("--containers and --namespaces must be positive") }
        var spec = NodeLogTreeSpec()
        spec.containers = containers
        spec.namespaces = namespaces
        spec.totalBytes = bytes
        spec.seed = seed
        spec.corruptLineRate = corruptRate
        if let start {
            guard let nanos = RFC3339Parser.parse(start) else { throw ValidationError("--start expects an RFC 3339 time, found '\(start)'") }
            spec.startTime = nanos
        } else {
            let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
            spec.startTime = now - Int64(spec.spanSeconds) * 1_000_000_000
        }
        let tree = try NodeLogTreeGenerator.generate(spec, into: out)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(Summary(tree: tree))
        if let summary {
            try json.write(to: URL(fileURLWithPath: summary))
            FileHandle.standardError.write(
                "wrote \(tree.files.count) files, \(tree.totalBytes) bytes, \(tree.totalLines) lines, \(tree.totalRecords) records under \(out)\n"
                    .data(using: .utf8)!)
        } else {
            FileHandle.standardOutput.write(json)
            FileHandle.standardOutput.write("\n".data(using: .utf8)!)
        }
    }

    /// The tree with its totals spelled out (they are computed properties of `GeneratedTree`).
    struct Summary: Encodable {
        var root: String
        var nodeName: String
        var totalBytes: Int
        var totalLines: Int
        var totalRecords: Int
        var files: [GeneratedFile]

        init(tree: GeneratedTree) {
            root = tree.root
            nodeName = tree.nodeName
            totalBytes = tree.totalBytes
            totalLines = tree.totalLines
            totalRecords = tree.totalRecords
            files = tree.files
        }
    }
}
