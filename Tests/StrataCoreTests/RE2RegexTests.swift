import XCTest

@testable import StrataCore

final class RE2RegexTests: XCTestCase {
    func testMatchAndNoMatch() throws {
        let re = try RE2Regex("error|warn(ing)?")
        XCTAssertEqual(re.pattern, "error|warn(ing)?")
        XCTAssertTrue(re.matches("an error occurred"))
        XCTAssertTrue(re.matches("warning: disk"))
        XCTAssertFalse(re.matches("all good"))
        XCTAssertFalse(re.matches(""))
        XCTAssertFalse(re.matches("ERROR"))
        XCTAssertTrue(re.matches("xx error xx".dropFirst(3)))

        let bytes = Array("level=error".utf8)
        XCTAssertTrue(re.matches(bytes))
        XCTAssertTrue(re.matches(bytes[6...]))
        XCTAssertFalse(re.matches(bytes[0..<6]))
        XCTAssertTrue(bytes.withUnsafeBytes { re.matches($0) })
        XCTAssertFalse(re.matches(UnsafeRawBufferPointer(start: nil, count: 0)))

        XCTAssertTrue(try RE2Regex("^$").matches(""))
        XCTAssertTrue(try RE2Regex("").matches("anything"))
    }

    func testFullMatch() throws {
        let re = try RE2Regex("[a-z]+")
        XCTAssertTrue(re.fullMatch("abc"))
        XCTAssertFalse(re.fullMatch("abc1"))
        XCTAssertTrue(re.matches("abc1"))
    }

    func testCaseInsensitive() throws {
        let re = try RE2Regex("ERROR: (\\w+)", caseInsensitive: true)
        XCTAssertTrue(re.isCaseInsensitive)
        XCTAssertTrue(re.matches("error: disk"))
        XCTAssertTrue(re.matches("ErRoR: disk"))
        XCTAssertFalse(try RE2Regex("ERROR").matches("error"))
        XCTAssertTrue(try RE2Regex("(?i)ERROR").matches("error"))
        XCTAssertTrue(try RE2Regex("straße", caseInsensitive: true).matches("STRAßE"))
        XCTAssertTrue(try RE2Regex("ÜBER", caseInsensitive: true).matches("über"))
    }

    func testInvalidPatternError() {
        XCTAssertThrowsError(try RE2Regex("(abc")) { error in
            guard let error = error as? RegexError else { return XCTFail("wrong error type \(error)") }
            XCTAssertEqual(error.pattern, "(abc")
            XCTAssertEqual(error.message, "missing ): (abc")
            XCTAssertEqual(error.description, "invalid regular expression '(abc': missing ): (abc")
        }
        XCTAssertThrowsError(try RE2Regex("a{2,1}"))
        XCTAssertThrowsError(try RE2Regex("[z-a]"))
        // Backreferences and lookarounds are not supported by RE2.
        XCTAssertThrowsError(try RE2Regex("(a)\\1")) { error in
            XCTAssertTrue("\(error)".hasPrefix("invalid regular expression '(a)\\1': "), "\(error)")
        }
        XCTAssertThrowsError(try RE2Regex("foo(?=bar)"))
    }

    func testNamedGroups() throws {
        let re = try RE2Regex("(?P<level>[a-z]+): (\\d+) (?P<msg>.*)")
        XCTAssertEqual(re.numberOfCaptureGroups, 3)
        XCTAssertEqual(re.groupNames, [nil, "level", nil, "msg"])
        XCTAssertEqual(re.groupIndex(named: "msg"), 3)
        XCTAssertNil(re.groupIndex(named: "nope"))
        XCTAssertEqual(re.namedCaptures("[warn: 42 disk full]"), ["level": "warn", "msg": "disk full]"])
        XCTAssertNil(re.namedCaptures("nothing here"))

        let optional = try RE2Regex("(?P<a>x)|(?P<b>y)")
        XCTAssertEqual(optional.namedCaptures("--y--"), ["b": "y"])

        let none = try RE2Regex("abc")
        XCTAssertEqual(none.numberOfCaptureGroups, 0)
        XCTAssertEqual(none.groupNames, [nil])
    }

    func testCaptures() throws {
        let re = try RE2Regex("(\\d+)-(\\d+)?-(x*)")
        let text = "id 12--  and 34-56-xx"
        guard let first = re.captures(text) else { return XCTFail("expected a match") }
        XCTAssertEqual(first.count, 4)
        XCTAssertEqual(first[0], "12--")
        XCTAssertEqual(first[1], "12")
        XCTAssertNil(first[2])  // did not participate
        XCTAssertEqual(first[3], "")  // participated, empty
        XCTAssertEqual(first[3]?.startIndex, text.index(text.startIndex, offsetBy: 7))

        let afterFirst = text.index(text.startIndex, offsetBy: 7)
        let second = re.captures(text, from: afterFirst)
        XCTAssertEqual(second?[0], "34-56-xx")
        XCTAssertEqual(second?[2], "56")
        XCTAssertNil(re.captures("no digits"))
        XCTAssertNil(re.captures(text, from: text.endIndex))

        let bytes = Array(text.utf8)
        let ranges = bytes.withUnsafeBytes { re.captureRanges(in: $0) }
        XCTAssertEqual(ranges, [3..<7, 3..<5, nil, 7..<7])
        XCTAssertNil(bytes.withUnsafeBytes { re.captureRanges(in: $0, from: bytes.count + 1) })
        XCTAssertNil(bytes.withUnsafeBytes { re.captureRanges(in: $0, from: -1) })
    }

    func testAnchorsUseWholeTextAsContext() throws {
        let re = try RE2Regex("^a")
        XCTAssertEqual(re.allMatchRanges(in: Array("aaa".utf8)), [0..<1])
        let word = try RE2Regex("\\bfoo")
        let bytes = Array("xfoo foo".utf8)
        XCTAssertEqual(bytes.withUnsafeBytes { word.firstMatchRange(in: $0, from: 1) }, 5..<8)
    }

    func testNonASCIIUTF8() throws {
        let re = try RE2Regex("(ü+)ß")
        let text = "grüüße 🎉 groß"
        let captures = re.captures(text)
        XCTAssertEqual(captures?[0], "üüß")
        XCTAssertEqual(captures?[1], "üü")
        XCTAssertEqual(Array(text.utf8).withUnsafeBytes { re.captureRanges(in: $0) }, [2..<8, 2..<6])

        XCTAssertTrue(try RE2Regex("^.$").fullMatch("é"))  // one code point, two bytes
        XCTAssertTrue(try RE2Regex("^.$").fullMatch("🎉"))
        XCTAssertTrue(try RE2Regex("\\p{Greek}+").matches("abc αβγ"))
        let emoji = try RE2Regex("🎉+")
        XCTAssertEqual(emoji.allMatchRanges(in: text).map { String(text[$0]) }, ["🎉"])
    }

    func testAllMatchRanges() throws {
        let digits = try RE2Regex("\\d+")
        XCTAssertEqual(digits.allMatchRanges(in: Array("a1b22c333".utf8)), [1..<2, 3..<5, 6..<9])
        XCTAssertEqual(digits.allMatchRanges(in: Array("none".utf8)), [])
        XCTAssertEqual(digits.allMatchRanges(in: [UInt8]()), [])
        let text = "x 10 y 200"
        XCTAssertEqual(digits.allMatchRanges(in: text).map { text[$0] }, ["10", "200"])
        let slice = Array("zz7zz88".utf8)[2...]
        XCTAssertEqual(digits.allMatchRanges(in: slice), [0..<1, 3..<5])
    }

    func testAllMatchRangesWithEmptyMatches() throws {
        // Go semantics: an empty match right after a previous match is dropped.
        let star = try RE2Regex("a*")
        XCTAssertEqual(star.allMatchRanges(in: Array("baaac".utf8)), [0..<0, 1..<4, 5..<5])
        XCTAssertEqual(star.allMatchRanges(in: [UInt8]()), [0..<0])

        // Empty matches advance by whole UTF-8 characters, never inside one.
        let empty = try RE2Regex("x*")
        XCTAssertEqual(
            empty.allMatchRanges(in: Array("héllo".utf8)), [0..<0, 1..<1, 3..<3, 4..<4, 5..<5, 6..<6])
        XCTAssertEqual(empty.allMatchRanges(in: "h🎉").count, 3)

        let optional = try RE2Regex("b?")
        XCTAssertEqual(optional.allMatchRanges(in: Array("abb".utf8)), [0..<0, 1..<2, 2..<3])
    }

    func testRequiredLiterals() throws {
        XCTAssertEqual(try RE2Regex("foo.*bar").requiredLiterals, .atoms(["bar", "foo"]))
        XCTAssertEqual(try RE2Regex("(abc|abd)").requiredLiterals, .anyOf([["abc"], ["abd"]]))
        XCTAssertEqual(try RE2Regex(".*").requiredLiterals, .all)
        XCTAssertEqual(try RE2Regex("ab").requiredLiterals, .all)  // shorter than 3
        XCTAssertEqual(try RE2Regex("ab").requiredLiterals(minAtomLength: 2), .atoms(["ab"]))
        XCTAssertEqual(try RE2Regex("FOO.*Bar", caseInsensitive: true).requiredLiterals, .atoms(["bar", "foo"]))
        XCTAssertEqual(try RE2Regex("Hello").requiredLiterals, .atoms(["hello"]))  // lowercased
        XCTAssertEqual(
            try RE2Regex("level=(error|fatal).*user=(alice|bob)").requiredLiterals,
            .anyOf([
                ["level=error", "user=alice"], ["level=error", "user=bob"],
                ["level=fatal", "user=alice"], ["level=fatal", "user=bob"],
            ]))
        XCTAssertEqual(try RE2Regex("a+|foo").requiredLiterals, .all)
        XCTAssertEqual(RequiredLiterals.anyOf([["b", "a"], ["c"]]).allAtoms, ["a", "b", "c"])
    }

    func testRequiredLiteralsAreNecessaryConditions() throws {
        let cases: [(String, [String])] = [
            ("foo.*bar", ["xxfooyybarzz", "FOObar", "foobar"]),
            ("(abc|abd)x", ["abcx", "zzabdx"]),
            ("(?i)Hello (World|There)", ["hello world", "HELLO THERE!"]),
            ("level=(error|fatal).*user=(alice|bob)", ["level=fatal x user=bob"]),
        ]
        for (pattern, texts) in cases {
            let re = try RE2Regex(pattern)
            let literals = re.requiredLiterals
            XCTAssertNotEqual(literals, .all, pattern)
            for text in texts where re.matches(text) {
                let lowered = text.lowercased()
                XCTAssertTrue(literals.isSatisfied { lowered.contains($0) }, "\(pattern) on \(text)")
            }
            XCTAssertFalse(literals.isSatisfied { _ in false }, pattern)
        }
        XCTAssertTrue(RequiredLiterals.all.isSatisfied { _ in false })
    }

    func testConcurrentUse() async throws {
        let re = try RE2Regex("(?P<key>\\w+)=(?P<value>\\d+)")
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<32 {
                group.addTask {
                    var ok = true
                    for j in 0..<200 {
                        let text = "k\(i)=\(j) other"
                        ok = ok && re.matches(text)
                        ok = ok && re.namedCaptures(text)?["value"].map(String.init) == "\(j)"
                        ok = ok && re.requiredLiterals == .all
                    }
                    return ok
                }
            }
            var all: [Bool] = []
            for await value in group { all.append(value) }
            return all
        }
        XCTAssertEqual(results, Array(repeating: true, count: 32))
    }
}
