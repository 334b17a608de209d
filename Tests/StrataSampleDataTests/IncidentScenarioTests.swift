import Foundation
import StrataSampleData
import StrataTestSupport
import Testing

private func smallSpec(seed: UInt64, workload: String = "payments", kind: IncidentFaultKind = .exceptions) -> IncidentScenarioSpec {
    var spec = IncidentScenarioSpec()
    spec.seed = seed
    spec.faultWorkload = workload
    spec.faultKind = kind
    spec.requestsPerSecond = 1
    spec.baselineSeconds = 300
    spec.faultSeconds = 180
    spec.recoverySeconds = 30
    return spec
}

private func temporaryDirectory() -> String { ScratchDirectory.uniquePath("scenario") }

/// Every file's bytes, by path relative to the root, plus the symlinks' targets.
private func contents(of root: String) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let fm = FileManager.default
    for relative in try fm.subpathsOfDirectory(atPath: root) {
        let path = root + "/" + relative
        if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
            result[relative] = Data(("-> " + target).utf8)
        } else if let data = fm.contents(atPath: path) {
            result[relative] = data
        }
    }
    return result
}

@Test func sameSpecSameBytes() throws {
    let a = temporaryDirectory()
    let b = temporaryDirectory()
    let c = temporaryDirectory()
    defer { for d in [a, b, c] { try? FileManager.default.removeItem(atPath: d) } }
    let first = try IncidentScenarioGenerator.generate(smallSpec(seed: 9, kind: .crash), into: a)
    let second = try IncidentScenarioGenerator.generate(smallSpec(seed: 9, kind: .crash), into: b)
    _ = try IncidentScenarioGenerator.generate(smallSpec(seed: 10, kind: .crash), into: c)
    #expect(first.scenario == second.scenario)
    let filesA = try contents(of: a)
    #expect(!filesA.isEmpty)
    #expect(filesA == (try contents(of: b)))
    #expect(filesA != (try contents(of: c)))
}

/// Counts records the way `GeneratedFile` documents it: per stream, a record starts at a line
/// beginning with a digit, `{`, `[` (not `[signal `), `time=`, `ts=`, `level=`, `panic: ` or a
/// klog header; other lines continue it.
@Test func recordCountsFollowTheContract() throws {
    let root = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let incident = try IncidentScenarioGenerator.generate(smallSpec(seed: 4, workload: "inventory", kind: .crash), into: root)
    #expect(Set(incident.tree.files.map(\.format)).count == 2, "both runtimes' formats")
    #expect(incident.tree.files.contains { $0.restart > 0 })
    for file in incident.tree.files {
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        var records = 0
        var lines = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            lines += 1
            let message: String
            if file.format == .cri {
                let parts = raw.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                try #require(parts.count == 4 && parts[2] == "F", "CRI line in \(file.path)")
                message = String(parts[3])
            } else {
                let object = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: String]
                message = try #require(object?["log"])
            }
            let starts = message.first.map { $0.isNumber || $0 == "{" } == true
                || (message.hasPrefix("[") && !message.hasPrefix("[signal "))
                || ["time=", "ts=", "level=", "panic: "].contains { message.hasPrefix($0) }
                || message.range(of: #"^[IWEF]\d{4} "#, options: .regularExpression) != nil
            if starts { records += 1 }
        }
        #expect(lines == file.lineCount, "\(file.path)")
        #expect(records == file.recordCount, "\(file.path)")
    }
}

@Test func unknownOrUnfaultableWorkloadsAreRefused() {
    #expect(throws: IncidentScenarioError.self) {
        try IncidentScenarioGenerator.generate(smallSpec(seed: 1, workload: "kube-proxy"), into: temporaryDirectory())
    }
    #expect(throws: IncidentScenarioError.self) {
        try IncidentScenarioGenerator.generate(smallSpec(seed: 1, workload: "no-such-service"), into: temporaryDirectory())
    }
}
