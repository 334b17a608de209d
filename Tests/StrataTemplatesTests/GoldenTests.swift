import Foundation
import Testing

@testable import StrataTemplates

/// A small golden set: messages in common shapes (Java services, Go, access logs, HDFS,
/// OpenStack, Kubernetes) and the template each ends in once the whole set is mined.
@Suite struct GoldenTests {
    static let golden: [(message: String, template: String)] = [
        ("16:42:10.175 INFO  a.c.AssuranceController#75 TraceID: 93bead877ae15b6d9cdf1c1569881314 SpanID: 0b3fba9c4ba54a89 [createNewAssurance][typeIndex: 1, orderId: 04027d90-a300-4e50-b380-200e58bce4ff]",
         "<*> INFO a.c.AssuranceController#<*> TraceID: <*> SpanID: <*> [createNewAssurance][typeIndex: <*>, orderId: <*>]"),
        ("16:42:11.002 INFO  a.c.AssuranceController#75 TraceID: 33d022c9eaefd1b218f18dc320b884b3 SpanID: 1c2d3e4f5a6b7c8d [createNewAssurance][typeIndex: 2, orderId: 9e1b2c3d-1111-4e50-b380-200e58bce4ff]",
         "<*> INFO a.c.AssuranceController#<*> TraceID: <*> SpanID: <*> [createNewAssurance][typeIndex: <*>, orderId: <*>]"),
        ("PacketResponder 1 for block blk_38865049064139660 terminating", "PacketResponder <*> for block <*> terminating"),
        ("PacketResponder 2 for block blk_-6952295868487656571 terminating", "PacketResponder <*> for block <*> terminating"),
        ("Received block blk_3587508140051953248 of size 67108864 from /10.251.42.84", "Received block <*> of size <*> from <*>"),
        ("10.11.10.1 \"GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1\" status: 200 len: 1893 time: 0.2477829",
         "<*> \"GET <*>\" status: <*> len: <*> time: <*>"),
        ("10.11.10.1 \"POST /v2/e9746973ac574c6b8a9e8857f56a7608/os-server-external-events HTTP/1.1\" status: 200 len: 380 time: 0.0913219",
         "<*> \"POST <*>\" status: <*> len: <*> time: <*>"),
        ("[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started (Lifecycle Event)", "[instance: <*>] VM Started (Lifecycle Event)"),
        ("[instance: 96abccce-8d1f-4e07-b6d1-4b2ab87e23b4] VM Paused (Lifecycle Event)", "[instance: <*>] VM Paused (Lifecycle Event)"),
        ("level=error msg=\"dial tcp 10.96.0.10:53: connect: connection refused\" component=dns",
         "level=error msg=\"dial tcp <*>: connect: connection refused\" component=dns"),
        ("level=error msg=\"dial tcp 10.96.0.12:53: connect: connection refused\" component=dns",
         "level=error msg=\"dial tcp <*>: connect: connection refused\" component=dns"),
        ("Liveness probe failed: Get \"http://10.244.1.7:8080/healthz\": context deadline exceeded",
         "Liveness probe failed: Get \"<*>\": context deadline exceeded"),
        // Words (hyphenated names included) are constants until their values keep changing;
        // an identifier with a digit (`SOCKS5`) is a value.
        ("Started container ts-order-service in 2.5s", "Started container ts-order-service in <*>"),
        ("Started container ts-route-service in 310ms", "Started container ts-route-service in <*>"),
        ("Pulling image registry.local/ts/order:1.0.3 for pod ts-order-7d9f8b-x2x", "Pulling image <*> for pod <*>"),
        ("Pulling image docker.io/library/redis:7 for pod redis-0", "Pulling image <*> for pod <*>"),
        ("proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS", "<*> open through proxy <*> HTTPS"),
        ("proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 SOCKS5", "<*> open through proxy <*> <*>"),
        ("", ""),
    ]

    @Test func goldenTemplates() {
        let miner = TemplateMiner()
        let ids = Self.golden.map { miner.add($0.message).id }
        for (index, entry) in Self.golden.enumerated() {
            #expect(miner.template(id: ids[index])?.text == entry.template, "\(entry.message)")
        }
        // Same expected template, same id; different expected template, different id.
        for i in Self.golden.indices {
            for j in Self.golden.indices where j > i {
                #expect(
                    (miner.resolve(ids[i]) == miner.resolve(ids[j])) == (Self.golden[i].template == Self.golden[j].template),
                    "\(i) \(j)")
            }
        }
    }

    /// Grouping accuracy on the HDFS Loghub-2k set when ../shared is present (the benchmark
    /// in benchmarks/templates covers every set; this guards the default configuration).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: GoldenTests.hdfsPath)))
    func hdfsGroupingAccuracy() throws {
        let text = try String(contentsOfFile: Self.hdfsPath, encoding: .utf8)
        var rows: [(String, String)] = []
        for line in text.split(separator: "\n").dropFirst() {
            // LineId,Date,Time,Pid,Level,Component,Content,EventId,EventTemplate (no quoted commas in HDFS)
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == 9 else { continue }
            rows.append((String(fields[6]), String(fields[8])))
        }
        #expect(rows.count > 1900)
        let miner = TemplateMiner()
        let ids = rows.map { miner.add($0.0).id }.map { miner.resolve($0) }
        var predicted: [TemplateID: [Int]] = [:]
        var truth: [String: Int] = [:]
        for (index, id) in ids.enumerated() { predicted[id, default: []].append(index) }
        for row in rows { truth[row.1, default: 0] += 1 }
        var correct = 0
        for members in predicted.values {
            let templates = Set(members.map { rows[$0].1 })
            if templates.count == 1, let only = templates.first, truth[only] == members.count { correct += members.count }
        }
        #expect(Double(correct) / Double(rows.count) >= 0.99)
    }

    static let hdfsPath: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("shared/datasets/loghub-2k/HDFS/HDFS_2k.log_structured_corrected.csv").path
    }()
}
