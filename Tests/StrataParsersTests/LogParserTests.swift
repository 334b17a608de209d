import StrataCore
import XCTest

@testable import StrataParsers

final class LogParserProtocolTests: XCTestCase {
    struct Uppercase: LogParser {
        let name = "uppercase"
        func parse(_ record: inout LogRecord) -> Bool {
            guard record.body.uppercased() == record.body else { return false }
            record.severity = .warn
            return true
        }
    }

    func testAParserThatDeclinesLeavesTheRecordAsItCame() {
        var record = LogRecord(timestamp: 1, observedTimestamp: 2, body: "quiet")
        let before = record
        XCTAssertFalse(Uppercase().parse(&record))
        XCTAssertEqual(record, before)
        var loud = LogRecord(timestamp: 1, observedTimestamp: 2, body: "LOUD")
        XCTAssertTrue(Uppercase().parse(&loud))
        XCTAssertEqual(loud.severity, .warn)
    }
}
