import StrataTestSupport
import XCTest

@testable import StrataStore

final class TokenizerTests: XCTestCase {
    func testDesignExample() {
        XCTAssertEqual(
            Tokenizer.tokens(of: "GET /api/v1/orders from 10.1.2.3:8080"),
            ["get", "/api/v1/orders", "api", "v1", "orders", "from", "10.1.2.3:8080", "10.1.2.3", "10", "1", "2", "3", "8080"])
    }

    func testWordsAreLowercasedAlphanumericRuns() {
        XCTAssertEqual(Tokenizer.tokens(of: "Hello, WORLD! x=1 key=value_2"), ["hello", "world", "x", "1", "key", "value", "2"])
        XCTAssertEqual(Tokenizer.words(of: "Hello, WORLD! x=1"), ["hello", "world", "x", "1"])
        XCTAssertEqual(Tokenizer.tokens(of: ""), [])
        XCTAssertEqual(Tokenizer.tokens(of: "  \t\n ;;; --- :: // "), [])
    }

    func testNonASCIIBytesBelongToWords() {
        XCTAssertEqual(Tokenizer.tokens(of: "Élève CAFÉ 日本語 ÜBER"), ["Élève", "cafÉ", "日本語", "Über"])
        XCTAssertEqual(Tokenizer.tokens(of: "emoji😀ok"), ["emoji😀ok"])
    }

    func testHexIdsAreSingleWords() {
        let trace = "93BEAD877AE15B6D9CDF1C1569881314"
        XCTAssertEqual(Tokenizer.tokens(of: "TraceID: \(trace) SpanID: 0b3fba9c4ba54a89"),
                       ["traceid", trace.lowercased(), "spanid", "0b3fba9c4ba54a89"])
    }

    func testUUIDs() {
        let tokens = Tokenizer.tokens(of: "orderId: 04027D90-a300-4e50-b380-200e58bce4ff]")
        XCTAssertEqual(tokens, ["orderid", "04027d90-a300-4e50-b380-200e58bce4ff", "04027d90", "a300", "4e50", "b380", "200e58bce4ff"])
        XCTAssertTrue(Tokenizer.tokens(of: "id=order-04027d90-a300-4e50-b380-200e58bce4ff").contains("04027d90-a300-4e50-b380-200e58bce4ff"))
        // Not a UUID: too long last group, wrong separators.
        XCTAssertFalse(Tokenizer.tokens(of: "04027d90-a300-4e50-b380-200e58bce4ff0").contains { $0.count == 36 })
        XCTAssertFalse(Tokenizer.tokens(of: "04027d90_a300_4e50_b380_200e58bce4ff").contains { $0.count == 36 })
    }

    func testIPv4AndPorts() {
        XCTAssertEqual(Tokenizer.tokens(of: "peer 192.168.0.1 closed"), ["peer", "192.168.0.1", "192", "168", "0", "1", "closed"])
        XCTAssertTrue(Tokenizer.tokens(of: "(10.0.0.12:65535)").contains("10.0.0.12:65535"))
        // Not IPs: too many parts, 4-digit parts, a version-like longer dotted number.
        XCTAssertFalse(Tokenizer.tokens(of: "1.2.3.4.5").contains("1.2.3.4"))
        XCTAssertFalse(Tokenizer.tokens(of: "1.2.3.4.5").contains("2.3.4.5"))
        XCTAssertFalse(Tokenizer.tokens(of: "1000.2.3.4").contains { $0.contains(".") })
        // A port of more than 5 digits is not a port.
        XCTAssertEqual(Tokenizer.tokens(of: "1.2.3.4:123456").filter { $0.contains(".") }, ["1.2.3.4"])
        // End of sentence.
        XCTAssertTrue(Tokenizer.tokens(of: "connect to 1.2.3.4.").contains("1.2.3.4"))
    }

    func testPaths() {
        XCTAssertTrue(Tokenizer.tokens(of: "open /var/log/pods/app_0.log: denied").contains("/var/log/pods/app_0.log"))
        XCTAssertTrue(Tokenizer.tokens(of: "GET /health").contains("/health"))
        XCTAssertTrue(Tokenizer.tokens(of: "\"/api/v1/orders/\"").contains("/api/v1/orders"))
        let url = Tokenizer.tokens(of: "calling http://ts-order-service:12031/api/v1/orderservice/order?x=1")
        XCTAssertTrue(url.contains("/api/v1/orderservice/order"))
        XCTAssertTrue(url.contains("http"))
        XCTAssertTrue(url.contains("12031"))
        let host = Tokenizer.tokens(of: "https://api.example.com/v2/x")
        XCTAssertTrue(host.contains("api.example.com"))
        XCTAssertTrue(host.contains("/v2/x"))
        // Not a path: content-type style.
        XCTAssertFalse(Tokenizer.tokens(of: "application/json").contains("/json"))
    }

    func testDottedIdentifiers() {
        let tokens = Tokenizer.tokens(of: "at com.example.Foo.bar(Foo.java:42) java.lang.IllegalStateException: boom")
        XCTAssertTrue(tokens.contains("com.example.foo.bar"))
        XCTAssertTrue(tokens.contains("foo.java"))
        XCTAssertTrue(tokens.contains("java.lang.illegalstateexception"))
        XCTAssertTrue(tokens.contains("illegalstateexception"))
        XCTAssertTrue(Tokenizer.tokens(of: "16:42:10.175 INFO  a.c.AssuranceController#75").contains("a.c.assurancecontroller"))
        XCTAssertTrue(Tokenizer.tokens(of: "host ts-order-service.default.svc.cluster.local").contains("ts-order-service.default.svc.cluster.local"))
        XCTAssertTrue(Tokenizer.tokens(of: "spring-boot v2.7.1").contains("v2.7.1"))
        // Numbers and timestamps are not identifiers.
        for text in ["took 0.5 s", "16:42:10.175", "2023-01-29T08:42:10.176365235Z", "3.14159"] {
            XCTAssertTrue(Tokenizer.tokens(of: text).allSatisfy { !$0.contains(".") }, text)
        }
        // Trailing punctuation is not part of the identifier.
        XCTAssertTrue(Tokenizer.tokens(of: "see com.example.Foo.").contains("com.example.foo"))
    }

    func testEmails() {
        let tokens = Tokenizer.tokens(of: "mail to John.Doe@Example.COM failed")
        XCTAssertTrue(tokens.contains("john.doe@example.com"))
        XCTAssertTrue(tokens.contains("example.com"))
        XCTAssertTrue(tokens.contains("john.doe"))
        XCTAssertTrue(Tokenizer.tokens(of: "bob@mail.example.org").contains("bob@mail.example.org"))
        // Java object identity is not an email.
        XCTAssertFalse(Tokenizer.tokens(of: "Foo@1a2b3c").contains { $0.contains("@") })
    }

    func testNoKeyValueTokens() {
        XCTAssertFalse(Tokenizer.tokens(of: "user=alice status=200").contains { $0.contains("=") })
    }

    func testWordsOfIsThePlainSplit() {
        XCTAssertEqual(
            Tokenizer.words(of: "GET /api/v1/orders from 10.1.2.3:8080 com.Example"),
            ["get", "api", "v1", "orders", "from", "10", "1", "2", "3", "8080", "com", "example"])
    }

    /// On random input, every token is a lowercased substring, every word is a token, and
    /// nothing traps.
    func testRandomInputProperties() {
        var rng = SeededRandom(seed: 11)
        let alphabet = Array("aZ09./:-_@ =\t,;\"()[]é日".unicodeScalars.map(String.init))
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<rng.int(0...60) { text += rng.pick(alphabet) }
            let lowered = Tokenizer.lowercased(text)
            let tokens = Tokenizer.tokens(of: text)
            let words = Tokenizer.words(of: text)
            for token in tokens {
                XCTAssertFalse(token.isEmpty)
                XCTAssertTrue(lowered.contains(token), "\(token) not in \(lowered)")
            }
            XCTAssertEqual(tokens.filter { !$0.unicodeScalars.contains { ".:/-_@".unicodeScalars.contains($0) } }, words, text)
            // Raw-buffer API agrees.
            var viaBuffer: [String] = []
            var copy = text
            copy.withUTF8 { Tokenizer.forEachToken(in: UnsafeRawBufferPointer($0)) { viaBuffer.append(String(decoding: $0, as: UTF8.self)) } }
            XCTAssertEqual(viaBuffer, tokens)
        }
    }

    func testInvalidUTF8Bytes() {
        let bytes: [UInt8] = [0x41, 0xFF, 0x42, 0x20, 0xC0, 0x2E, 0x80]
        var tokens: [[UInt8]] = []
        bytes.withUnsafeBytes { Tokenizer.forEachToken(in: $0) { tokens.append(Array($0)) } }
        XCTAssertEqual(tokens, [[0x61, 0xFF, 0x62], [0xC0], [0x80]])
    }
}
