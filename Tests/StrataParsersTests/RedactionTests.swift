import StrataCore
import XCTest

@testable import StrataParsers

final class RedactionTests: XCTestCase {
    let redactor = Redactor()

    func assertRedacted(_ input: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(redactor.redact(input) ?? input, expected, file: file, line: line)
    }

    func testBearerTokens() {
        assertRedacted("Authorization: Bearer abcDEF123.456-_~+/=", "Authorization: Bearer [REDACTED]")
        assertRedacted("calling with bearer   eyJhbGciOiJIUzI1NiJ9xyz now", "calling with bearer   [REDACTED] now")
        assertRedacted("Bearer short", "Bearer short")
        assertRedacted("the Bearer of bad news", "the Bearer of bad news")
    }

    func testKeyValueSecrets() {
        assertRedacted("login user=alice password=hunter2 ok", "login user=alice password=[REDACTED] ok")
        assertRedacted(#"password="correct horse" next"#, #"password="[REDACTED]" next"#)
        assertRedacted(#"{"user":"alice","password":"hunter2","n":1}"#, #"{"user":"alice","password":"[REDACTED]","n":1}"#)
        assertRedacted(#"{"password" : "hun\"ter2"}"#, #"{"password" : "[REDACTED]"}"#)
        assertRedacted("{'passwd': 's3cret', 'user': 'bob'}", "{'passwd': '[REDACTED]', 'user': 'bob'}")
        assertRedacted("https://x/cb?code=1&access_token=abc123&state=2", "https://x/cb?code=1&access_token=[REDACTED]&state=2")
        assertRedacted("DB_PASSWORD=p4ss; API_KEY=k-123, client-secret=zzz", "DB_PASSWORD=[REDACTED]; API_KEY=[REDACTED], client-secret=[REDACTED]")
        assertRedacted("apiKey=abc accessToken=def x.api_key=ghi", "apiKey=[REDACTED] accessToken=[REDACTED] x.api_key=[REDACTED]")
        assertRedacted(#"msg="login failed password=\"hunter2\"""#, #"msg="login failed password=\"[REDACTED]\"""#)
        assertRedacted(#"{"token": 12345}"#, #"{"token": [REDACTED]}"#)
    }

    func testNoFalsePositivesOnOrdinaryText() {
        for text in [
            "passwords must be 8 chars", "the tokenizer split 12 tokens", "max_tokens=100 tokenizer=bpe",
            "reset your password: use the link", "if password == nil { return }", "secretary=alice", "pwdx=1",
            #"{"password_policy":{"min":8}}"#, #"{"token": null}"#, "token=", "AKIAshort", "eyJ not a jwt",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "bypass=true", "password_hash_algo=bcrypt",
        ] {
            XCTAssertNil(redactor.redact(text), text)
        }
    }

    func testAWSAccessKeys() {
        assertRedacted("using AKIAIOSFODNN7EXAMPLE for s3", "using [REDACTED] for s3")
        assertRedacted("id=ASIAY34FZKBOKMUTVV7A,", "id=[REDACTED],")
        assertRedacted("AKIAIOSFODNN7EXAMPLEX", "AKIAIOSFODNN7EXAMPLEX")
    }

    func testPrivateKeyBlocks() {
        assertRedacted(
            "loaded key -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc==\n-----END RSA PRIVATE KEY----- done",
            "loaded key [REDACTED] done")
        assertRedacted("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg (truncated", "[REDACTED]")
        assertRedacted("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----", "[REDACTED]")
    }

    func testJWTs() {
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
        assertRedacted("session \(jwt) expired", "session [REDACTED] expired")
        assertRedacted("cookie=\(jwt);", "cookie=[REDACTED];")
    }

    func testAttributesAreRedacted() {
        var r = record("user login")
        r.attributes = [
            Attribute("user", "alice"), Attribute("db.password", "hunter2"), Attribute("headers.authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"),
            Attribute("note", "key AKIAIOSFODNN7EXAMPLE used"), Attribute("client_secret", ""), Attribute("tokenizer", "bpe"),
            Attribute("token", "null"),
        ]
        XCTAssertEqual(redactor.redact(&r), 3)
        XCTAssertEqual(r.attributes.map(\.value), ["alice", "[REDACTED]", "[REDACTED]", "key [REDACTED] used", "", "bpe", "null"])
    }

    func testRedactionIsIdempotent() {
        let once = redactor.redact("password=hunter2 Bearer abcdefghijk")!
        XCTAssertNil(redactor.redact(once))
    }

    func testUserPatternsWithPrefilterAndSecretGroup() throws {
        let card = try RedactionPattern(name: "card", pattern: #"\b\d{4}-\d{4}-\d{4}-\d{4}\b"#)
        let session = try RedactionPattern(name: "session", pattern: #"(?i)session=(?P<secret>[0-9a-f]{8,})"#)
        let custom = Redactor(builtins: [], patterns: [card, session])
        XCTAssertEqual(custom.redact("paid with 4111-1111-1111-1111 ok"), "paid with [REDACTED] ok")
        XCTAssertEqual(custom.redact("SESSION=deadbeefcafe done"), "SESSION=[REDACTED] done")
        XCTAssertNil(custom.redact("password=hunter2"))  // built-ins off
        XCTAssertTrue("x Session=1".withBytes { session.mightMatch($0) })
        XCTAssertFalse("nothing here".withBytes { session.mightMatch($0) })
    }

    func testExtraSensitiveKeys() {
        let custom = Redactor(extraKeys: ["session-id"])
        XCTAssertEqual(custom.redact("user=a session_id=42 x"), "user=a session_id=[REDACTED] x")
    }

    func testBuiltinSelection() {
        let onlyJWT = Redactor(builtins: [.jwt])
        XCTAssertNil(onlyJWT.redact("password=hunter2 AKIAIOSFODNN7EXAMPLE"))
    }
}
