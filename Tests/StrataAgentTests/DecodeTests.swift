import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataAgent

final class DecodeTests: XCTestCase {
    private let t0: Int64 = 1_674_981_730_935_735_573  // 2023-01-29T08:42:10.935735573Z

    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    private func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

    // MARK: RFC 3339

    func testRFC3339UTCWithNanoseconds() {
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29T08:42:10.935735573Z"), t0)
        XCTAssertEqual(RFC3339Parser.parse("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(RFC3339Parser.parse("1970-01-01T00:00:01.000000001Z"), 1_000_000_001)
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29t08:42:10.935735573z"), t0)
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29 08:42:10.935735573Z"), t0)
    }

    func testRFC3339NoFractionAndShortFractions() {
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29T08:42:10Z"), t0 - 935_735_573)
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29T08:42:10.9Z"), t0 - 935_735_573 + 900_000_000)
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29T08:42:10.93573557Z"), t0 - 3)  // Go trims trailing zeros
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29T08:42:10.123Z"), t0 - 935_735_573 + 123_000_000)
        // More than 9 digits: truncated to nanoseconds.
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29T08:42:10.9357355739999Z"), t0)
    }

    func testRFC3339Offsets() {
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29T09:42:10.935735573+01:00"), t0)
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29T03:12:10.935735573-05:30"), t0)
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29T08:42:10.935735573+00:00"), t0)
        XCTAssertEqual(RFC3339Parser.parse("2023-01-29T08:42:10.935735573-00:00"), t0)
        // Crossing a day and a year boundary.
        XCTAssertEqual(
            RFC3339Parser.parse("2023-12-31T23:30:00-01:00"), RFC3339Parser.parse("2024-01-01T00:30:00Z"))
    }

    func testRFC3339CalendarAgainstFormatter() {
        // Round trip with StrataCore's formatter over leap days, epoch, far dates.
        for nanos: Int64 in [
            0, 1, 951_782_400_000_000_000 /* 2000-02-29 */, 4_107_542_399_999_999_999 /* 2100-02-28T23:59:59.999999999 */,
            -1_000_000_000, -86_400_000_000_123, t0, 1_709_164_800_123_456_789, /* 2024-02-29 */
        ] {
            let formatted = RFC3339.format(nanos: nanos)
            XCTAssertEqual(RFC3339Parser.parse(formatted), nanos, formatted)
        }
        XCTAssertEqual(RFC3339Parser.parse("2024-02-29T00:00:00Z"), 1_709_164_800_000_000_000)
        XCTAssertEqual(RFC3339Parser.parse("1969-12-31T23:59:59Z"), -1_000_000_000)
    }

    func testRFC3339Invalid() {
        for bad in [
            "", "2023", "2023-01-29", "2023-01-29T08:42:10", "2023-01-29T08:42:10.Z", "2023-01-29T08:42:10.935",
            "2023-13-29T08:42:10Z", "2023-00-29T08:42:10Z", "2023-02-29T08:42:10Z", "2100-02-29T08:42:10Z",
            "2023-04-31T08:42:10Z", "2023-01-32T08:42:10Z", "2023-01-29T24:00:00Z", "2023-01-29T08:60:10Z",
            "2023-01-29T08:42:61Z", "2023-01-29X08:42:10Z", "2023/01/29T08:42:10Z", "2023-01-29T08:42:10+0100",
            "2023-01-29T08:42:10+01", "2023-01-29T08:42:10+24:00", "2023-01-29T08:42:10Zjunk",
            "2023-01-29T08:42:10.93Z ", "2a23-01-29T08:42:10Z", "9999-12-31T23:59:59Z", "1000-01-01T00:00:00Z",
            "2023-01-29T08:42:10,935Z",
        ] {
            XCTAssertNil(RFC3339Parser.parse(bad), bad)
        }
    }

    // MARK: Detection

    func testDetect() {
        XCTAssertEqual(RuntimeFormat.detect(firstLine: bytes(#"{"log":"x\n","stream":"stdout","time":"x"}"#)), .docker)
        XCTAssertEqual(RuntimeFormat.detect(firstLine: bytes("  {\"log\"")), .docker)
        XCTAssertEqual(RuntimeFormat.detect(firstLine: [0xEF, 0xBB, 0xBF] + bytes("{")), .docker)
        XCTAssertEqual(RuntimeFormat.detect(firstLine: bytes("2023-01-29T08:42:10.935735573Z stdout F {json}")), .cri)
        XCTAssertEqual(RuntimeFormat.detect(firstLine: [UInt8]()), .cri)
        bytes("{").withUnsafeBytes { XCTAssertEqual(RuntimeFormat.detect(firstLine: $0), .docker) }
    }

    // MARK: CRI

    func testCRIFullAndPartial() {
        let full = CRIDecoder.decode(bytes("2023-01-29T08:42:10.935735573Z stdout F hello world"))
        XCTAssertEqual(full, RuntimeEntry(time: t0, stream: .stdout, isPartial: false, content: bytes("hello world")))
        let partial = CRIDecoder.decode(bytes("2023-01-29T08:42:10.935735573Z stderr P first half "))
        XCTAssertEqual(
            partial, RuntimeEntry(time: t0, stream: .stderr, isPartial: true, content: bytes("first half ")))
    }

    func testCRIMessageKeepsSpacesAndJSON() {
        let entry = CRIDecoder.decode(bytes(#"2023-01-29T08:42:10.935735573Z stdout F   {"a": "b c"}  "#))
        XCTAssertEqual(text(entry.content), #"  {"a": "b c"}  "#)
        XCTAssertFalse(entry.envelopeError)
    }

    func testCRIEmptyMessage() {
        for line in ["2023-01-29T08:42:10.935735573Z stdout F", "2023-01-29T08:42:10.935735573Z stdout F "] {
            let entry = CRIDecoder.decode(bytes(line))
            XCTAssertFalse(entry.envelopeError, line)
            XCTAssertEqual(entry.content, [], line)
            XCTAssertEqual(entry.stream, .stdout)
        }
        let partial = CRIDecoder.decode(bytes("2023-01-29T08:42:10.935735573Z stderr P "))
        XCTAssertTrue(partial.isPartial)
        XCTAssertEqual(partial.content, [])
    }

    func testCRIExtraTags() {
        let full = CRIDecoder.decode(bytes("2023-01-29T08:42:10.935735573Z stdout F:x:y message"))
        XCTAssertEqual(full, RuntimeEntry(time: t0, stream: .stdout, isPartial: false, content: bytes("message")))
        let partial = CRIDecoder.decode(bytes("2023-01-29T08:42:10.935735573Z stdout P:x message"))
        XCTAssertTrue(partial.isPartial)
        XCTAssertEqual(partial.content, bytes("message"))
    }

    func testCRIOffsetTimestamp() {
        let entry = CRIDecoder.decode(bytes("2023-01-29T10:42:10.935735573+02:00 stdout F x"))
        XCTAssertEqual(entry.time, t0)
    }

    func testCRICarriageReturn() {
        // A full line loses one trailing \r; a partial chunk keeps it (it is data mid-line).
        let full = CRIDecoder.decode(bytes("2023-01-29T08:42:10.935735573Z stdout F windows line\r"))
        XCTAssertEqual(full.content, bytes("windows line"))
        let empty = CRIDecoder.decode(bytes("2023-01-29T08:42:10.935735573Z stdout F\r"))
        XCTAssertFalse(empty.envelopeError)
        XCTAssertEqual(empty.content, [])
        let partial = CRIDecoder.decode(bytes("2023-01-29T08:42:10.935735573Z stdout P chunk\r"))
        XCTAssertEqual(partial.content, bytes("chunk\r"))
    }

    func testCRICorruptLinesKeepRawLine() {
        for line in [
            "", "garbage", "2023-01-29T08:42:10.935735573Z", "2023-01-29T08:42:10.935735573Z stdout",
            "2023-01-29T08:42:10.935735573Z stdout ", "2023-01-29T08:42:10.935735573Z stdin F x",
            "2023-01-29T08:42:10.935735573Z stdoutF x", "2023-01-29T08:42:10.935735573Z stdout X x",
            "2023-01-29T08:42:10.935735573Z stdout Full x", "not-a-time stdout F x",
            "2023-01-29T08:42:10.935735573Z  stdout F x", "\u{0}\u{1}\u{2}",
        ] {
            let entry = CRIDecoder.decode(bytes(line))
            XCTAssertTrue(entry.envelopeError, line)
            XCTAssertEqual(entry.content, bytes(line), line)
            XCTAssertEqual(entry.stream, .unknown, line)
            XCTAssertEqual(entry.time, 0, line)
            XCTAssertFalse(entry.isPartial, line)
        }
    }

    func testCRIInvalidUTF8PassesThrough() {
        let line = bytes("2023-01-29T08:42:10.935735573Z stdout F ") + [0xFF, 0xFE, 0x41]
        XCTAssertEqual(CRIDecoder.decode(line).content, [0xFF, 0xFE, 0x41])
    }

    // MARK: Docker json-file

    func testDockerBasic() {
        let entry = DockerJSONDecoder.decode(
            bytes(#"{"log":"hello world\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#))
        XCTAssertEqual(entry, RuntimeEntry(time: t0, stream: .stdout, isPartial: false, content: bytes("hello world")))
    }

    func testDockerKeyOrderExtraKeysAndWhitespace() {
        let line =
            #" { "time" : "2023-01-29T08:42:10.935735573Z", "attrs": {"tag": "a\"b", "nested": [1, {"x": null}, "]}"]}, "#
            + #""stream":"stderr" ,"n": -1.5e3, "t": true, "log" : "msg\n" } "#
        let entry = DockerJSONDecoder.decode(bytes(line))
        XCTAssertEqual(entry, RuntimeEntry(time: t0, stream: .stderr, isPartial: false, content: bytes("msg")))
        // A trailing \r after the object (CRLF file) is whitespace.
        let crlf = DockerJSONDecoder.decode(
            bytes(#"{"log":"x\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"# + "\r"))
        XCTAssertEqual(crlf.content, bytes("x"))
        XCTAssertFalse(crlf.envelopeError)
    }

    func testDockerPartial() {
        let entry = DockerJSONDecoder.decode(
            bytes(#"{"log":"first 16k","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#))
        XCTAssertTrue(entry.isPartial)
        XCTAssertEqual(entry.content, bytes("first 16k"))
        let empty = DockerJSONDecoder.decode(
            bytes(#"{"log":"\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#))
        XCTAssertFalse(empty.isPartial)
        XCTAssertEqual(empty.content, [])
    }

    func testDockerCRLFInLog() {
        let entry = DockerJSONDecoder.decode(
            bytes(#"{"log":"windows\r\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#))
        XCTAssertEqual(entry.content, bytes("windows"))
        XCTAssertFalse(entry.isPartial)
        // \r in the middle stays.
        let middle = DockerJSONDecoder.decode(
            bytes(#"{"log":"a\rb\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#))
        XCTAssertEqual(middle.content, bytes("a\rb"))
    }

    func testDockerEscapes() {
        let entry = DockerJSONDecoder.decode(
            bytes(
                #"{"log":"q\" s\\ sl\/ b\b f\f n\n r\r t\t \u003chtml\u003e \u0026 \u00e9 \u20AC \u0000.\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#
            ))
        XCTAssertFalse(entry.envelopeError)
        XCTAssertEqual(
            entry.content, bytes("q\" s\\ sl/ b\u{8} f\u{C} n\n r\r t\t <html> & é € ") + [0] + bytes("."))
    }

    func testDockerSurrogatePairs() {
        let entry = DockerJSONDecoder.decode(
            bytes(#"{"log":"smile \ud83d\ude00 clef \uD834\uDD1E\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#))
        XCTAssertFalse(entry.envelopeError)
        XCTAssertEqual(text(entry.content), "smile 😀 clef 𝄞")
        // Raw (unescaped) UTF-8 passes through.
        let raw = DockerJSONDecoder.decode(
            bytes(#"{"log":"grüße 😀\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#))
        XCTAssertEqual(text(raw.content), "grüße 😀")
    }

    func testDockerInvalidEscapesAreEnvelopeErrors() {
        for log in [
            #"bad \x escape"#, #"lone high \ud83d end"#, #"lone high at end \ud83d"#, #"lone low \ude00"#,
            #"high then non-low \ud83d\u0041"#, #"short \u12"#, #"non-hex \u12G4"#, #"trailing backslash \"#,
        ] {
            let line = #"{"log":""# + log + #"","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#
            let entry = DockerJSONDecoder.decode(bytes(line))
            XCTAssertTrue(entry.envelopeError, log)
            XCTAssertEqual(entry.content, bytes(line), log)
            XCTAssertEqual(entry.stream, .unknown)
        }
    }

    func testDockerCorruptLinesKeepRawLine() {
        let good = #"{"log":"x\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#
        var cases = [
            "", "{", "}", "{}", "[]", "not json", #"{"log":"x\n","stream":"stdout""#,
            #"{"log":"x\n","stream":"stdin","time":"2023-01-29T08:42:10.935735573Z"}"#,
            #"{"log":"x\n","stream":"stdout","time":"yesterday"}"#,
            #"{"log":"x\n","time":"2023-01-29T08:42:10.935735573Z"}"#,
            #"{"stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#,
            #"{"log":"x\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"} trailing"#,
            #"{"log":"x\n" "stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#,
            #"{"log":"x\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z",}"#,
            #"{"log":x,"stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#,
            #"{"log":"x\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z","attrs":{"a":"b"}"#,
            #"{"log":"unterminated,"stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#,
        ]
        // Every truncation of a good line (a torn write) is an error too.
        for cut in 1..<good.utf8.count { cases.append(String(good.utf8.prefix(cut))!) }
        for line in cases {
            let entry = DockerJSONDecoder.decode(bytes(line))
            XCTAssertTrue(entry.envelopeError, line)
            XCTAssertEqual(entry.content, bytes(line), line)
            XCTAssertEqual(entry.stream, .unknown, line)
            XCTAssertEqual(entry.time, 0, line)
        }
    }

    func testDockerLongLineAcrossSWARBoundaries() {
        // Quotes and backslashes at every position relative to the 8-byte scan.
        for prefix in 0..<17 {
            let pad = String(repeating: "a", count: prefix)
            let line = #"{"log":""# + pad + #"\"q\\"# + pad + #"\n","stream":"stdout","time":"2023-01-29T08:42:10Z"}"#
            let entry = DockerJSONDecoder.decode(bytes(line))
            XCTAssertFalse(entry.envelopeError, line)
            XCTAssertEqual(text(entry.content), pad + "\"q\\" + pad)
        }
    }

    func testRuntimeFormatDispatch() {
        XCTAssertEqual(RuntimeFormat.cri.decode("2023-01-29T08:42:10.935735573Z stdout F hi").content, bytes("hi"))
        XCTAssertEqual(
            RuntimeFormat.docker.decode(#"{"log":"hi\n","stream":"stdout","time":"2023-01-29T08:42:10.935735573Z"}"#)
                .content, bytes("hi"))
        let slice = bytes("xx2023-01-29T08:42:10.935735573Z stdout F hi")[2...]
        XCTAssertEqual(RuntimeFormat.cri.decode(slice).content, bytes("hi"))
    }

    func testFuzzNeverCrashes() {
        // Random mutations of valid lines: every result is either decoded or the raw line.
        var rng = SeededRandom(seed: 42)
        let seeds = [
            bytes(#"{"log":"a\"b\\c \u00e9 \ud83d\ude00\n","stream":"stdout","attrs":{"k":[1,"x"]},"time":"2023-01-29T08:42:10.935735573Z"}"#),
            bytes("2023-01-29T08:42:10.935735573+01:00 stderr P:x some message"),
        ]
        let alphabet = Array(#"{}[]":,\ u0dD8e"#.utf8) + [0, 0xFF, 0x0A, 0x0D]
        for _ in 0..<20_000 {
            var line = seeds[Int(rng.next() % 2)]
            for _ in 0..<(1 + rng.next() % 4) {
                let i = Int(rng.next() % UInt64(line.count))
                switch rng.next() % 3 {
                case 0: line[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: line.remove(at: i)
                default: line.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                }
                if line.isEmpty { break }
            }
            for format in [RuntimeFormat.cri, .docker] {
                let entry = format.decode(line)
                if entry.envelopeError {
                    XCTAssertEqual(entry.content, line)
                    XCTAssertEqual(entry.stream, .unknown)
                } else {
                    XCTAssertNotEqual(entry.stream, .unknown)
                    XCTAssertLessThanOrEqual(entry.content.count, line.count)
                }
            }
        }
    }
}

/// A small deterministic generator for tests.
