import Foundation
import Testing

/// Every `strata` flag that takes one of a fixed set of values refuses any other value at parse
/// time, naming the value and listing the allowed ones (`--color purple` used to be taken for
/// `auto`). Runs the built executable, so what is tested is what a user types.
@Suite struct CommandLineChoiceTests {
    struct Choice: CustomStringConvertible, Sendable {
        /// The command line up to the flag, with whatever else it requires to parse.
        var command: [String]
        var flag: String
        var allowed: [String]
        var description: String { (command + [flag]).joined(separator: " ") }
    }

    static let choices: [Choice] = [
        Choice(command: ["query", "x"], flag: "--color", allowed: ["auto", "always", "never"]),
        Choice(command: ["query", "x"], flag: "-o", allowed: ["text", "json", "raw"]),
        Choice(command: ["tail"], flag: "--color", allowed: ["auto", "always", "never"]),
        Choice(command: ["tail"], flag: "-o", allowed: ["text", "json", "raw"]),
        Choice(command: ["labels"], flag: "-o", allowed: ["text", "json"]),
        Choice(command: ["templates", "list"], flag: "-o", allowed: ["text", "json"]),
        Choice(command: ["incidents", "list"], flag: "--state", allowed: ["open", "resolved", "all"]),
        Choice(command: ["incidents", "list"], flag: "-o", allowed: ["text", "json"]),
        Choice(command: ["incidents", "show", "inc-1"], flag: "-o", allowed: ["json", "md", "html"]),
        Choice(command: ["diagnose", "--from", "now-1h", "--data-dir", "/nonexistent"], flag: "-o", allowed: ["json", "md", "html"]),
        Choice(command: ["diagnose", "--from", "now-1h", "--data-dir", "/nonexistent"], flag: "--clock", allowed: ["runtime", "stored"]),
        Choice(command: ["generate", "--out", "/nonexistent/tree"], flag: "--scenario", allowed: ["cascade", "random"]),
        Choice(
            command: ["generate", "--out", "/nonexistent/tree", "--scenario", "random"], flag: "--fault-type",
            allowed: ["exceptions", "crash", "latency", "swallowed_exception", "wrong_return", "network_delay", "cpu_contention"]),
        Choice(command: ["agent"], flag: "--sink", allowed: ["http", "stdout"]),
        Choice(command: ["agent"], flag: "--log-level", allowed: ["trace", "debug", "info", "notice", "warning", "error", "critical"]),
    ]

    /// Runs `strata` with `arguments`; its exit status, standard output and standard error.
    func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: collectorExecutable())
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Help and usage errors are short: neither pipe fills while the other is read.
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, printed, text)
    }

    @Test(arguments: choices) func aValueOutsideTheSetFailsListingTheAllowedOnes(_ choice: Choice) throws {
        let (status, _, errors) = try run(choice.command + [choice.flag, "purple"])
        // 64: EX_USAGE, what swift-argument-parser exits with for a value it cannot parse.
        #expect(status == 64, "\(choice): \(errors)")
        #expect(errors.contains("'purple' is invalid"), "\(choice): \(errors)")
        for value in choice.allowed {
            // Up to five values are quoted in a sentence, more are listed one per line.
            #expect(errors.contains("'\(value)'") || errors.contains("- \(value)\n"), "\(choice): \(value) is not listed in: \(errors)")
        }
    }

    /// The values a flag parses are the ones its help lists, in order: the same set as above.
    @Test(arguments: choices) func helpListsExactlyTheAllowedValues(_ choice: Choice) throws {
        let (status, output, errors) = try run(choice.command + ["--help"])
        #expect(status == 0, "\(choice): \(errors)")
        // Help wraps long lines; compare with the line breaks and indentation folded to spaces.
        let help = output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("(values: \(choice.allowed.joined(separator: ", "))"), "\(choice): \(output)")
    }
}
