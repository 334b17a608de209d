import Testing
@testable import StrataDiagnosis

@Test func workloadsOrderByNamespaceThenName() {
    let a = Workload(namespace: "a", name: "z")
    let b = Workload(namespace: "b", name: "a")
    #expect(a < b)
}
