import XCTest

@testable import StrataCore

final class JSONScannerTests: XCTestCase {
    /// The members of a one-level object, values as text (strings decoded).
    private func members(_ text: String) throws -> [(String, String)] {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            var result: [(String, String)] = []
            try scanner.enterObject()
            while let key = try scanner.nextKey() {
                if try scanner.peekValue() == .string {
                    result.append((scanner.string(key), scanner.string(try scanner.readString())))
                } else {
                    let range = try scanner.skipValue()
                    result.append((scanner.string(key), scanner.compactText(range)))
                }
            }
            try scanner.finish()
            return result
        }
    }

    private func syntaxError(_ text: String) -> JSONSyntaxError? {
        do {
            _ = try members(text)
            return nil
        } catch {
            return error as? JSONSyntaxError
        }
    }

    func testStringsDecodeEscapesAndUnicode() throws {
        let found = try members(#"{"a":"q\"b\\s\/n\nt\tr\rb\bf\f","é\u00e9":"\u00E9 \ud83d\ude00 ü 😀"}"#)
        XCTAssertEqual(found.map(\.0), ["a", "éé"])
        XCTAssertEqual(found[0].1, "q\"b\\s/n\nt\tr\rb\u{8}f\u{C}")
        XCTAssertEqual(found[1].1, "é 😀 ü 😀")
    }

    func testNestedValuesAreValidatedAndCompacted() throws {
        let found = try members(#"{ "a" : { "x" : [ 1 , "two words" , { "y" : null } ] } , "b" : [ ] }"#)
        XCTAssertEqual(found.map(\.1), [#"{"x":[1,"two words",{"y":null}]}"#, "[]"])
        XCTAssertEqual(try members(#"{"a":[1,2,],"b":{"c":1,},}"#).map(\.1), ["[1,2,]", #"{"c":1,}"#], "one trailing comma, as JSONSerialization allowed")
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        XCTAssertEqual(syntaxError(#"{"a":"# + deep + "}")?.problem, "nested deeper than 512 levels")
    }

    func testNumbersFollowTheGrammar() throws {
        XCTAssertEqual(try members(#"{"a":0,"b":-12.50,"c":1e3,"d":2.5E-3,"e":-0}"#).map(\.1), ["0", "-12.50", "1e3", "2.5E-3", "-0"])
        XCTAssertEqual(syntaxError(#"{"a":01}"#)?.problem, "number with a leading zero")
        XCTAssertEqual(syntaxError(#"{"a":1.}"#)?.problem, "expected a digit after '.'")
        XCTAssertEqual(syntaxError(#"{"a":-}"#)?.problem, "expected a digit")
        XCTAssertEqual(syntaxError(#"{"a":1e}"#)?.problem, "expected a digit in the exponent")
        XCTAssertEqual(syntaxError(#"{"a":.5}"#)?.problem, "expected a value")
        XCTAssertEqual(syntaxError(#"{"a":+5}"#)?.problem, "expected a value")
        XCTAssertEqual(syntaxError(#"{"a":1e400}"#)?.problem, "number 1e400 is out of range")
    }

    func testBadInputNamesTheProblemAndTheColumn() {
        XCTAssertEqual(syntaxError(#"{"a":"open}"#)?.description, "the string is not closed at column 6")
        XCTAssertEqual(syntaxError(#"{"a":"\x"}"#)?.problem, "invalid escape sequence")
        XCTAssertEqual(syntaxError(#"{"a":"\u12"}"#)?.problem, "\\u needs four hex digits")
        XCTAssertEqual(syntaxError(#"{"a":"\ud800"}"#)?.problem, "\\ud800 is a high surrogate without a low one")
        XCTAssertEqual(syntaxError(#"{"a":"\udc00"}"#)?.problem, "\\udc00 is a low surrogate without a high one")
        XCTAssertEqual(syntaxError("{\"a\":\"tab\there\"}")?.problem, "unescaped control character in a string")
        XCTAssertEqual(syntaxError(#"{"a":1 "b":2}"#)?.problem, "expected ',' or '}' after a member")
        XCTAssertEqual(syntaxError(#"{"a":[1 2]}"#)?.problem, "expected ',' or ']' after an element")
        XCTAssertEqual(syntaxError(#"{a:1}"#)?.problem, "expected a member name in double quotes")
        XCTAssertEqual(syntaxError(#"{"a" 1}"#)?.problem, "expected ':' after a member name")
        XCTAssertEqual(syntaxError(#"{,}"#)?.problem, "expected a member name in double quotes")
        XCTAssertEqual(syntaxError(#"{"a":TRUE}"#)?.problem, "expected a value")
        XCTAssertEqual(syntaxError(#"{"a":1}x"#)?.description, "unexpected text after the value at column 8")
        XCTAssertEqual(syntaxError(#"{"a":1"#)?.problem, "the object is not closed")
        var invalidUTF8 = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        XCTAssertThrowsError(try invalidUTF8.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            try scanner.skipValue()
        }) { error in XCTAssertEqual((error as? JSONSyntaxError)?.problem, "invalid UTF-8") }
        invalidUTF8 = Array(#"{"a":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8)  // an encoded surrogate
        XCTAssertThrowsError(try invalidUTF8.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            try scanner.skipValue()
        })
    }

    func testAByteOrderMarkAndSurroundingWhitespaceAreAllowed() throws {
        XCTAssertEqual(try members("\u{FEFF} {\"a\":true}\r\n\t").map(\.1), ["true"])
    }
}
