import XCTest

@testable import StrataStore

final class StoreErrorTests: XCTestCase {
    func testErrorsCarryTheirKindAndMessage() {
        let error = StoreError(.corrupt, "segment x: block 3 fails its checksum")
        XCTAssertEqual(error.kind, .corrupt)
        XCTAssertEqual("\(error)", "segment x: block 3 fails its checksum")
    }
}
