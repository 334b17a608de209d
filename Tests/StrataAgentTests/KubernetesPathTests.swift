import StrataConfiguration
import StrataCore
import XCTest

@testable import StrataAgent

final class KubernetesPathTests: XCTestCase {
    func testPodsLayout() {
        let identity = KubernetesIdentity.parse(
            path: "/var/log/pods/train-ticket_ts-auth-service-7f8d7d756d-kzp47_6e35339c-b605-53b6-9274-52f2ae1612da/server/3.log")
        XCTAssertEqual(identity.namespace, "train-ticket")
        XCTAssertEqual(identity.pod, "ts-auth-service-7f8d7d756d-kzp47")
        XCTAssertEqual(identity.podUID, "6e35339c-b605-53b6-9274-52f2ae1612da")
        XCTAssertEqual(identity.container, "server")
        XCTAssertEqual(identity.restartCount, 3)
        XCTAssertNil(identity.containerID)
    }

    func testRotatedPodsFileKeepsItsRestartNumber() {
        let identity = KubernetesIdentity.parse(path: "/var/log/pods/ns_pod-0_uid/app/0.log.20230129-084210")
        XCTAssertEqual(identity.restartCount, 0)
        XCTAssertEqual(identity.pod, "pod-0")
    }

    func testContainersLayoutWithDashesInContainerName() {
        let id = String(repeating: "ab12", count: 16)
        let identity = KubernetesIdentity.parse(path: "/var/log/containers/web-5d8f-x2x9k_shop_istio-proxy-\(id).log")
        XCTAssertEqual(identity.namespace, "shop")
        XCTAssertEqual(identity.pod, "web-5d8f-x2x9k")
        XCTAssertEqual(identity.container, "istio-proxy")
        XCTAssertEqual(identity.containerID, id)
    }

    func testMergeTakesTheUnionAndResourceUsesOTelNames() {
        let id = String(repeating: "0f", count: 32)
        let link = KubernetesIdentity.parse(path: "/var/log/containers/api-0_db_postgres-\(id).log")
        let target = KubernetesIdentity.parse(path: "/var/log/pods/db_api-0_1234/postgres/2.log")
        let merged = link.merged(with: target)
        let resource = merged.resource(node: "node-a", path: "/var/log/pods/db_api-0_1234/postgres/2.log")
        XCTAssertEqual(resource[ResourceKey.namespace], "db")
        XCTAssertEqual(resource[ResourceKey.pod], "api-0")
        XCTAssertEqual(resource[ResourceKey.podUID], "1234")
        XCTAssertEqual(resource[ResourceKey.container], "postgres")
        XCTAssertEqual(resource[ResourceKey.containerID], id)
        XCTAssertEqual(resource[ResourceKey.restartCount], "2")
        XCTAssertEqual(resource[ResourceKey.node], "node-a")
    }

    func testUnknownLayoutsGiveNoKubernetesNames() {
        XCTAssertTrue(KubernetesIdentity.parse(path: "/var/log/syslog").isEmpty)
        XCTAssertTrue(KubernetesIdentity.parse(path: "/tmp/a_b_c.log").isEmpty, "no container id")
        XCTAssertTrue(KubernetesIdentity.parse(path: "").isEmpty)
        let resource = KubernetesIdentity().resource(node: "n", path: "/x.log")
        XCTAssertEqual(resource.attributes.map(\.key), [ResourceKey.node, ResourceKey.logFilePath])
    }
}

final class ConfigurationTests: XCTestCase {
    func parse(_ yaml: String, set: [String] = []) throws -> AgentConfiguration {
        var tree = try ConfigTree(yaml: yaml)
        for assignment in set { try tree.set(assignment) }
        return try AgentConfiguration(tree: tree)
    }

    func error(_ yaml: String, set: [String] = []) -> String {
        do {
            _ = try parse(yaml, set: set)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testExampleConfigurationParses() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("pipelines/agent.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let configuration = try parse(text.replacingOccurrences(of: "token_file: /var/run/secrets/strata/token", with: ""))
        XCTAssertEqual(configuration.collector, "http://strata-collector.strata.svc:4180")
        XCTAssertEqual(configuration.batchMaxBytes, 1 << 20)
        XCTAssertEqual(configuration.compression, .zstd)
        XCTAssertFalse(configuration.multilineRules.isEmpty)
    }

    func testValuesAndOverrides() throws {
        let configuration = try parse(
            """
            inputs:
              paths: [/a/*.log, "/b/*/*.log"]
              read_from: end
            output:
              sink: stdout
            batch:
              max_bytes: 4MiB
              max_age: 250ms
            spool:
              when_full: drop_oldest
            """, set: ["batch.memory_batches=3", "multiline.builtin=[java]", "output.compression=lz4"])
        XCTAssertEqual(configuration.paths, ["/a/*.log", "/b/*/*.log"])
        XCTAssertEqual(configuration.readFrom, .end)
        XCTAssertEqual(configuration.batchMaxBytes, 4 << 20)
        XCTAssertEqual(configuration.batchMaxAge, .milliseconds(250))
        XCTAssertEqual(configuration.memoryBatches, 3)
        XCTAssertEqual(configuration.builtinMultiline, [.java])
        XCTAssertEqual(configuration.compression, .lz4)
        XCTAssertEqual(configuration.spoolWhenFull, .dropOldest)
    }

    func testErrorsNameTheKeyAndTheReason() {
        XCTAssertEqual(
            error("output: {sink: stdout}\nbatch: {max_byts: 1MiB}"),
            "batch.max_byts: unknown key (known here: max_age, max_bytes, memory_batches)")
        XCTAssertTrue(error("output: {sink: stdout}\nbatch: {max_bytes: huge}").hasPrefix("batch.max_bytes: expected a size"))
        // Caps above what the collector takes would dead-letter every large batch or record.
        XCTAssertTrue(error("output: {sink: stdout}\nbatch: {max_bytes: 64MiB}").hasPrefix("batch.max_bytes:"))
        XCTAssertTrue(error("output: {sink: stdout}\nrecord: {max_bytes: 16MiB}").hasPrefix("record.max_bytes:"))
        XCTAssertTrue(error("output: {sink: carrier-pigeon}").contains("output.sink: expected one of http, stdout"))
        XCTAssertTrue(error("output: {sink: http}").contains("output.collector: is required"))
        XCTAssertTrue(error("output: {sink: http, collector: 'ftp://x'}").contains("http:// or https://"))
        XCTAssertTrue(
            error("output: {sink: stdout}\nmultiline:\n  rules:\n    - start_pattern: '(unclosed'").contains(
                "multiline.rules[0].start_pattern"))
        XCTAssertTrue(error("output: {sink: stdout}\nmultiline: {builtin: [cobol]}").contains("unknown rule 'cobol'"))
        XCTAssertTrue(error("- a\n- b").contains("must be a mapping"))
        XCTAssertTrue(error("a: [unclosed").contains("not valid YAML"))
        XCTAssertTrue(error("output: {sink: stdout}", set: ["nonsense"]).contains("--set takes key=value"))
        XCTAssertTrue(error("output: {sink: stdout}\nmetrics_listen: nowhere").contains("expected HOST:PORT"))
        XCTAssertTrue(error("output: {sink: stdout, token_file: /nonexistent/token}").contains("does not exist"))
    }

    func testSizesAndDurations() {
        XCTAssertEqual(ByteSize.parse("1MiB"), 1 << 20)
        XCTAssertEqual(ByteSize.parse("10 MB"), 10_000_000)
        XCTAssertEqual(ByteSize.parse("512"), 512)
        XCTAssertNil(ByteSize.parse("1.5MiB"))
        XCTAssertNil(ByteSize.parse("-1"))
        XCTAssertEqual(DurationText.parse("250ms"), .milliseconds(250))
        XCTAssertEqual(DurationText.parse("1.5s"), .milliseconds(1500))
        XCTAssertEqual(DurationText.parse("2m"), .seconds(120))
        XCTAssertNil(DurationText.parse("soon"))
        XCTAssertEqual(HostPort("0.0.0.0:2020"), HostPort("0.0.0.0:2020"))
        XCTAssertEqual(HostPort(":9000")?.host, "0.0.0.0")
        XCTAssertEqual(HostPort("[::1]:9000")?.host, "::1")
        XCTAssertNil(HostPort("localhost"))
    }
}
