import Foundation
import Testing

@testable import StrataFuzzTargets

/// Every fuzz target, run by the built-in campaign for a bounded number of inputs from a fixed
/// seed, so `make test` is deterministic; `make fuzz` runs them for longer under libFuzzer.
/// STRATA_FUZZ_INPUTS scales the bound (default 3,000 mutated inputs per target).
@Suite struct FuzzTargetsTests {
    static let inputsPerTarget = ProcessInfo.processInfo.environment["STRATA_FUZZ_INPUTS"].flatMap(Int.init) ?? 3000

    @Test(arguments: FuzzTargets.all.map(\.name))
    func targetHoldsItsPropertiesOnMutatedInputs(name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        var campaign = FuzzCampaign(target: target, seed: 0x5EED_F022)
        do {
            let statistics = try campaign.run(iterations: Self.inputsPerTarget)
            #expect(statistics.executions == Self.inputsPerTarget)
            // A campaign that never leaves its seeds' outcomes is not exploring.
            #expect(statistics.outcomes >= 2, "\(name) produced only \(statistics.outcomes) distinct outcome(s)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func everyTargetHasSeedsAndAUniqueName() {
        let names = FuzzTargets.all.map(\.name)
        #expect(Set(names).count == names.count)
        for target in FuzzTargets.all { #expect(!target.seeds.isEmpty, "\(target.name) has no seeds") }
    }

    /// The campaign must be able to fail: a planted fault behind a dictionary token and a byte
    /// is found within the test's budget.
    @Test func campaignFindsAPlantedFault() {
        let planted = FuzzTarget(name: "planted", summary: "", seeds: [Array("hello".utf8)], dictionary: [Array("MAGIC".utf8)]) {
            input throws(FuzzViolation) in
            let text = String(decoding: input, as: UTF8.self)
            if text.contains("MAGIC!") { throw FuzzViolation("planted fault reached") }
            return text.contains("MAGIC") ? "near" : "far"
        }
        var campaign = FuzzCampaign(target: planted, seed: 7)
        do {
            _ = try campaign.run(iterations: 200_000)
            Issue.record("the planted fault was not found in 200,000 inputs")
        } catch {
            #expect(error.message == "planted fault reached")
            #expect(String(decoding: error.input, as: UTF8.self).contains("MAGIC!"))
        }
    }

    @Test func campaignsAreReproducibleFromTheirSeed() throws {
        let target = try #require(FuzzTargets.named("query"))
        var first = FuzzCampaign(target: target, seed: 99)
        var second = FuzzCampaign(target: target, seed: 99)
        let a = try first.run(iterations: 500)
        let b = try second.run(iterations: 500)
        #expect(a.corpusSize == b.corpusSize && a.outcomes == b.outcomes)
    }
}
