import StrataAgent
import StrataConfiguration
import StrataServer

/// Configuration files: a bad file is a ConfigurationError naming a key, never a trap.
enum ConfigTargets {
    static let yaml = FuzzTarget(
        name: "config", summary: "collector and agent YAML configuration files",
        seeds: [
            "storage:\n  max_future_skew: 1d\n  max_body_bytes: 16MiB\nretention:\n  max_age: 106751d\n",
            "diagnosis:\n  webhooks:\n    - url: http://127.0.0.1:9/hook\n      initial_backoff: 250ms\n",
            "normalize:\n  - match: {namespace: \"*\"}\n    parser: json\n",
            "agent:\n  batch:\n    max_bytes: 1MiB\n",
        ].map(\.bytes),
        dictionary: ["\n", ": ", "  ", "- ", "storage:", "retention:", "diagnosis:", "max_age:", "106752d", "1y", "-1", "9223372036854775807", "[", "]", "{", "}", "&a", "*a", "!!binary"].map(\.bytes),
        maxInputBytes: 2048
    ) { input throws(FuzzViolation) in
        let tree: ConfigTree
        do {
            tree = try ConfigTree(yaml: String(decoding: input, as: UTF8.self))
        } catch {
            return "yaml: \(error)"
        }
        var collector = CollectorConfiguration(dataDirectory: "/nonexistent")
        var outcome = "collector: "
        do throws(ConfigurationError) {
            try collector.read(tree)
            outcome += "ok"
        } catch {
            outcome += error.description
        }
        do {
            _ = try AgentConfiguration(tree: tree)
            outcome += "; agent: ok"
        } catch {
            outcome += "; agent: \(error)"
        }
        return outcome
    }
}
