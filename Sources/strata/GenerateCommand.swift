import ArgumentParser
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate a sample node log tree.")
    func run() async throws {}
}
