import StrataCore

/// Why a workload's aggregates count as anomalous in one evaluation.
public struct WorkloadAnomaly: Sendable, Codable, Equatable {
    public var namespace: String
    public var workload: String
    /// `-log10 p` of the strongest reason, for ordering.
    public var surprise: Double
    /// Human-readable reasons, strongest first (`errors 30 vs 2 in the baseline (p=1e-12)`).
    public var reasons: [String]
}

/// The cheap test run at every evaluation over the ring's aggregates. It only decides whether
/// something is wrong and where; ranking and evidence come from the full diagnosis, which runs
/// only when this fires. Uses the same conditional binomial test as the diagnosis (no fixed
/// ratios), with thresholds strict enough for a test repeated every evaluation.
struct AnomalyDetector {
    var thresholds: DetectionThresholds

    func anomalies(
        window: [Int: WorkloadActivity], windowSeconds: Double,
        baseline: [Int: WorkloadActivity], baselineSeconds: Double,
        identity: (Int) -> WorkloadIdentity
    ) -> [WorkloadAnomaly] {
        var result: [WorkloadAnomaly] = []
        let empty = WorkloadActivity()
        // As in the diagnosis (docs/DIAGNOSIS.md, "Per workload"): errors per unit of the
        // cluster's traffic (all records of all workloads), message shapes and signatures as
        // shares of the workload's own records, nothing per second. Without a baseline for the
        // workload, time is the only reference left.
        let clusterWindow = Double(window.values.reduce(0) { $0 + $1.records } + 1)
        let clusterBaseline = Double(baseline.values.reduce(0) { $0 + $1.records } + 1)
        for (workload, now) in window {
            let then = baseline[workload] ?? empty
            var reasons: [(surprise: Double, text: String)] = []
            let shares = then.records > 0
            func p(_ a: Int, _ b: Int) -> Double {
                RateTest.increasePValue(
                    window: a, baseline: b, windowExposure: shares ? Double(now.records + 1) : windowSeconds,
                    baselineExposure: shares ? Double(then.records + 1) : baselineSeconds)
            }
            func errorRiseP(_ a: Int, _ b: Int) -> Double {
                RateTest.increasePValue(window: a, baseline: b, windowExposure: clusterWindow, baselineExposure: clusterBaseline)
            }
            if now.errors >= thresholds.minimumErrors {
                let errorP = errorRiseP(now.errors, then.errors)
                if RateTest.surprise(errorP) >= thresholds.errorSurprise {
                    reasons.append((RateTest.surprise(errorP), "errors \(now.errors) vs \(then.errors) in the baseline (p=\(formatP(errorP)))"))
                }
            }
            for (shape, count) in now.shapes where count >= thresholds.minimumShapeCount && shape != WorkloadActivity.overflowShape {
                let before = then.shapes[shape] ?? 0
                let shapeP = p(count, before)
                if RateTest.surprise(shapeP) >= thresholds.shapeSurprise {
                    let change = before == 0 ? "new" : "rising"
                    reasons.append((RateTest.surprise(shapeP), "\(change) error/warning message \(shape): \(count) vs \(before) in the baseline (p=\(formatP(shapeP)))"))
                }
            }
            for (name, count) in now.signatures {
                guard let signature = FailureSignature(rawValue: name), signature.blamesReporter else { continue }
                let before = then.signatures[name] ?? 0
                let signatureP = p(count, before)
                if (before == 0 && count >= 2) || RateTest.surprise(signatureP) >= thresholds.signatureSurprise {
                    reasons.append((max(thresholds.signatureSurprise, RateTest.surprise(signatureP)), "\(name) \(count) vs \(before) in the baseline"))
                }
            }
            guard !reasons.isEmpty else { continue }
            reasons.sort { ($0.surprise, $1.text) > ($1.surprise, $0.text) }
            let who = identity(workload).workload
            result.append(WorkloadAnomaly(
                namespace: who.namespace, workload: who.name, surprise: (reasons[0].surprise * 100).rounded() / 100,
                reasons: reasons.map(\.text)))
        }
        return result.sorted { ($0.surprise, $1.namespace, $1.workload) > ($1.surprise, $0.namespace, $0.workload) }
    }
}

extension AnomalyDetector {
    /// Workloads whose requests skip or add a step, from a diagnosis of the window (the request
    /// check): the strongest flow deviation reaches `requestSurprise` in at least
    /// `minimumRequestCount` requests.
    func requestAnomalies(_ report: DiagnosisReport) -> [WorkloadAnomaly] {
        var result: [WorkloadAnomaly] = []
        for suspect in report.suspects {
            let strong = (suspect.evidence.flow ?? []).filter { flow in
                let affected = flow.change == "missing"
                    ? Int((Double(flow.windowAfterCount) * flow.reliability - Double(flow.windowCount)).rounded())
                    : flow.windowCount
                return flow.strength >= thresholds.requestSurprise && affected >= thresholds.minimumRequestCount
            }
            guard let top = strong.first else { continue }
            let reasons = strong.map { flow in
                "\(flow.change) step \(flow.event.location.isEmpty ? flow.event.template : flow.event.location) after "
                    + "\(flow.after.workload) \(flow.after.location.isEmpty ? flow.after.template : flow.after.location): "
                    + "\(flow.windowCount) per \(flow.windowAfterCount) against \(flow.baselineCount) per \(flow.baselineAfterCount) "
                    + "in the baseline (p=\(formatP(flow.pValue)))"
            }
            result.append(WorkloadAnomaly(
                namespace: suspect.namespace, workload: suspect.workload, surprise: (top.strength * 100).rounded() / 100,
                reasons: reasons))
        }
        return result.sorted { ($0.surprise, $1.namespace, $1.workload) > ($1.surprise, $0.namespace, $0.workload) }
    }
}
