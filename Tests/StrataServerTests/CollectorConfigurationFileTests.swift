import Foundation
import StrataConfiguration
import StrataServer
import Testing

/// The collector's YAML read by the library: every section through one reader, every problem as
/// one `ConfigurationError` naming the key.
@Suite struct CollectorConfigurationFileTests {
    func read(_ yaml: String, set: [String] = []) throws -> CollectorConfiguration {
        var tree = try ConfigTree(yaml: yaml)
        for assignment in set { try tree.set(assignment) }
        var configuration = CollectorConfiguration(dataDirectory: "/unused")
        try configuration.read(tree)
        return configuration
    }

    func failure(_ yaml: String, set: [String] = []) -> ConfigurationError? {
        do {
            _ = try read(yaml, set: set)
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            Issue.record("not a ConfigurationError: \(error)")
            return nil
        }
    }

    @Test func durationsAreWordedInTheirOwnUnits() {
        #expect(
            failure("retention:\n  max_age: 100000d\n")?.description
                == "retention.max_age: expected a duration between 1m and 100y (e.g. 7d), found '100000d'")
        #expect(
            failure("storage: {flush_interval: 2h}")?.description
                == "storage.flush_interval: expected a duration between 10ms and 1h (e.g. 10s), found '2h'")
        #expect(failure("", set: ["diagnosis.window=soon"])?.key == "diagnosis.window")
    }

    @Test func everySectionReadsThroughOneReader() throws {
        let configuration = try read(
            """
            normalize:
              default_parser: json
            storage:
              compaction: {min_inputs: 8}
            retention:
              max_age: 2d
              namespaces:
                - {namespace: noisy, max_age: 1h}
            diagnosis:
              window: 2m
            """)
        #expect(configuration.normalizer.defaultParser == "json")
        #expect(configuration.store.compaction.minInputs == 8)
        #expect(configuration.store.retentionNanos == 2 * 86_400 * 1_000_000_000)
        #expect(configuration.store.namespaceRetentionNanos == ["noisy": 3_600 * 1_000_000_000])
        let diagnosis = try #require(configuration.diagnosis)
        #expect(diagnosis.window == 120_000_000_000)
    }

    @Test func theFutureSkewIsAStorageKey() throws {
        #expect(try read("").store.maxFutureSkewNanos == 86_400 * 1_000_000_000)
        #expect(try read("storage: {max_future_skew: 5m}").store.maxFutureSkewNanos == 300 * 1_000_000_000)
        #expect(failure("storage: {max_future_skew: 0s}")?.key == "storage.max_future_skew")
        #expect(failure("", set: ["retention.max_age=106752d"])?.key == "retention.max_age")
    }

    @Test func theIngestBudgetAndLimitsAreIngestKeys() throws {
        let defaults = try read("")
        #expect(defaults.maxBodyBytes == 16 << 20 && defaults.maxDecodedBytes == 16 << 20)
        #expect(defaults.ingestMemoryBudgetBytes == 96 << 20)
        let set = try read("ingest: {max_body_size: 8MiB, max_decoded_size: 4MiB, memory_budget: 64MiB}")
        #expect(set.maxBodyBytes == 8 << 20 && set.maxDecodedBytes == 4 << 20 && set.ingestMemoryBudgetBytes == 64 << 20)
        #expect(try read("", set: ["ingest.memory_budget=200MiB"]).ingestMemoryBudgetBytes == 200 << 20)
        // One request at both limits (16 MiB + 5 x 16 MiB) must fit the budget alone.
        let tooSmall = failure("ingest: {memory_budget: 95MiB}")
        #expect(tooSmall?.key == "ingest.memory_budget")
        #expect(tooSmall?.description.contains("96MiB") == true, "\(String(describing: tooSmall))")
        #expect(failure("ingest: {max_decoded_size: 512MiB}")?.key == "ingest.max_decoded_size")
        #expect(failure("ingest: {max_body: 1MiB}")?.key == "ingest.max_body")
    }

    @Test func unknownKeysAreNamedInEverySection() {
        #expect(failure("storage: {flush_intervall: 1s}")?.description.hasPrefix("storage.flush_intervall: unknown key") == true)
        #expect(failure("diagnosis: {enabled: false, windw: 1m}")?.key == "diagnosis.windw")
        #expect(failure("normalize: {rulez: []}")?.key == "normalize.rulez")
        // Switched off, a section may keep its settings below the top level.
        #expect(failure("diagnosis: {enabled: false, detection: {error_surprise: 4}, webhooks: [{url: 'http://x'}]}") == nil)
        #expect(failure("retention: {namespaces: [{namespace: a, max_age: 1d, size: 1}]}")?.key == "retention.namespaces[0].size")
    }

    @Test func unitsReadAndWriteTheSameWay() {
        #expect(DurationText.parse("1y") == .seconds(365 * 86_400))
        #expect(DurationText.parse("99999999999d") == nil, "beyond a Duration of nanoseconds")
        #expect(DurationText.format(.milliseconds(1500)) == "1500ms")
        #expect(DurationText.format(.seconds(100 * 365 * 86_400)) == "100y")
        #expect(DurationText.format(.zero) == "0s")
    }

    /// The command line prints the error on one line, without the usage text of a usage error.
    @Test func theCollectorRefusesABadKeyInOneLine() async throws {
        let child = try CollectorChild(config: "retention:\n  max_age: 100000d\n")
        do {
            try await child.start()
            Issue.record("the collector started with retention.max_age: 100000d")
        } catch {
            let lines = child.stderr().split(separator: "\n")
            #expect(lines == ["Error: retention.max_age: expected a duration between 1m and 100y (e.g. 7d), found '100000d'"])
        }
    }
}
