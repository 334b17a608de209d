import XCTest

@testable import StrataCore

#if canImport(Glibc)
import Glibc
#endif

/// The helpers the agent, the parsers and the store share instead of keeping copies.
final class GlobTests: XCTestCase {
    func testSelectorWildcards() {
        XCTAssertTrue(Glob("legacy-*").matches("legacy-billing"))
        XCTAssertFalse(Glob("legacy-*").matches("billing"))
        XCTAssertTrue(Glob("orders-?").matches("orders-1"))
        XCTAssertFalse(Glob("orders-?").matches("orders-12"))
        XCTAssertTrue(Glob("web-[0-9]*").matches("web-7f9c"))
        XCTAssertFalse(Glob("web-[0-9]*").matches("web-api"))
        XCTAssertTrue(Glob("web-[!0-9]*").matches("web-api"))
        XCTAssertTrue(Glob("web-[^0-9]*").matches("web-api"))
        XCTAssertTrue(Glob("[]x]").matches("]"), "a ] right after [ belongs to the set")
        XCTAssertTrue(Glob("a[b").matches("a[b"), "an unclosed [ is an ordinary character")
        XCTAssertTrue(Glob("*-*-*").matches("api-7c9d8f6b5d-x2x4z"))
        XCTAssertTrue(Glob("exact").matches("exact"))
        XCTAssertFalse(Glob("exact").matches("exactly"))
    }

    func testMissingValueMatchesOnlyStar() {
        XCTAssertTrue(Glob("*").matches(nil))
        XCTAssertFalse(Glob("a*").matches(nil))
        XCTAssertFalse(Glob("").matches(nil))
    }

    /// The agent's multiline selectors used fnmatch(3) before; on Kubernetes names (no `/`,
    /// no `\`) the one matcher gives the same answers.
    func testAgreesWithFnmatchOnKubernetesNames() {
        let names = ["", "a", "api", "api-7c9d8f6b5d-x2x4z", "kube-system", "legacy-1", "web.v2", "x]y"]
        let patterns = ["*", "", "a*", "*z", "a?i", "?", "*-*", "legacy-[0-9]", "[!a-k]*", "[a-c-]*", "*[.]*", "x]y", "[]]", "**", "a*i*"]
        for pattern in patterns {
            for name in names {
                XCTAssertEqual(Glob(pattern).matches(name), fnmatch(pattern, name, 0) == 0, "'\(pattern)' on '\(name)'")
            }
        }
    }
}

final class MonotonicConditionTests: XCTestCase {
    func testSignalIsRememberedUntilTheNextWait() {
        let condition = MonotonicCondition()
        XCTAssertFalse(condition.waitForSignal(timeout: .milliseconds(5)))
        condition.signal()
        XCTAssertTrue(condition.waitForSignal(timeout: .zero))
        XCTAssertFalse(condition.waitForSignal(timeout: .zero), "a signal is taken once")
    }

    func testTimedWaitEndsWithoutBroadcast() {
        let condition = MonotonicCondition()
        let start = WallClock.monotonicNanos()
        condition.lock()
        XCTAssertFalse(condition.wait(timeout: .milliseconds(20)))
        condition.unlock()
        XCTAssertGreaterThanOrEqual(WallClock.monotonicNanos() - start, 15_000_000)
    }
}

final class VarintRuleTests: XCTestCase {
    /// The wire reader and the store's segment reader share this rule; the tenth byte may only
    /// carry the 64th bit.
    func testTenthByteAboveOneIsOverlong() {
        var position = 0
        XCTAssertEqual(try Varint.decode([UInt8](repeating: 0xFF, count: 9) + [0x01], at: &position, end: 10), .max)
        var reader = ByteReader([UInt8](repeating: 0xFF, count: 9) + [0x02])
        XCTAssertThrowsError(try reader.readVarint())
        var truncated = ByteReader([0x80])
        XCTAssertThrowsError(try truncated.readVarint())
    }
}

final class FileSystemTests: XCTestCase {
    func testDurableWriteReadAndErrorsNameThePath() throws {
        let root = "/tmp/strata-fs-\(getpid())-\(WallClock.monotonicNanos())"
        let directory = root + "/a/b"
        try FileSystem.makeDirectory(directory)
        defer {
            unlink(directory + "/file")
            for path in [directory, root + "/a", root] { rmdir(path) }
        }
        try FileSystem.writeDurably(Array("hello".utf8), to: directory + "/file")
        XCTAssertEqual(try FileSystem.readFile(directory + "/file"), Array("hello".utf8))
        XCTAssertEqual(try FileSystem.listDirectory(directory), ["file"])
        XCTAssertEqual(FileSystem.size(directory + "/file"), 5)
        XCTAssertThrowsError(try FileSystem.readFile(directory + "/missing")) { error in
            XCTAssertEqual("\(error)", "opening \(directory)/missing failed: No such file or directory")
        }
        XCTAssertFalse(try FileSystem.readFile("/proc/self/stat").isEmpty, "sizes stat does not know are read to the end")
    }
}
