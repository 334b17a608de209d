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

    /// `key: value` with a bare key, as in HTTP headers, YAML and hand-written messages.
    func testBareKeyColonValue() {
        assertRedacted("password: hunter2", "password: [REDACTED]")
        assertRedacted("Password:hunter2", "Password:[REDACTED]")
        assertRedacted("login failed; password: hunter2 user=bob", "login failed; password: [REDACTED] user=bob")
        assertRedacted("retrying with token: t0k3n-abc", "retrying with token: [REDACTED]")
        assertRedacted("X-Api-Key: k-123abc took 5ms", "X-Api-Key: [REDACTED] took 5ms")
        assertRedacted("headers={Accept: */*, x-api-key: zz9}", "headers={Accept: */*, x-api-key: [REDACTED]}")
        assertRedacted("db_pass: s3cr3t in use", "db_pass: [REDACTED] in use")
        assertRedacted("secret: 'two words' loaded", "secret: '[REDACTED]' loaded")
        assertRedacted("pass=hunter2 host=db", "pass=[REDACTED] host=db")
        assertRedacted("SMTP_PASS=hunter2", "SMTP_PASS=[REDACTED]")
        assertRedacted("passphrase: correct-horse", "passphrase: [REDACTED]")
    }

    /// The credentials of an authorization header go whatever the scheme; the scheme stays.
    func testAuthorizationHeadersOfAnyScheme() {
        assertRedacted("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED]")
        assertRedacted("GET /x authorization: Basic QWxhZGRpbjpvcGVu1 took 5ms", "GET /x authorization: Basic [REDACTED] took 5ms")
        assertRedacted("Authorization: Negotiate YIIBhgYGKwYBBQUCoII", "Authorization: Negotiate [REDACTED]")
        assertRedacted(
            "Proxy-Authorization: Digest username=\"bob\", realm=\"api\", response=\"6629fae4\"\nnext line",
            "Proxy-Authorization: Digest [REDACTED]\nnext line")
        assertRedacted(
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/s3/aws4_request, Signature=fe5f80f7",
            "Authorization: AWS4-HMAC-SHA256 [REDACTED]")
        assertRedacted("authorization=Basic YWxhZGRpbjpvcGVuc2VzYW1l&x=1", "authorization=Basic [REDACTED]&x=1")
        assertRedacted(#"{"Authorization":"Basic dXNlcjpwYXNz"}"#, #"{"Authorization":"[REDACTED]"}"#)
    }

    func testCredentialsInURLs() {
        assertRedacted("connecting to postgres://app:s3cr3t@db.prod:5432/orders", "connecting to postgres://app:[REDACTED]@db.prod:5432/orders")
        assertRedacted("GET https://user:pw@host/path?q=1", "GET https://user:[REDACTED]@host/path?q=1")
        assertRedacted("redis://:p@ss@cache:6379", "redis://:[REDACTED]@cache:6379")
        assertRedacted(
            "cloning https://0123456789abcdefABCDEF0123456789abcdefAB@git.example/x.git",
            "cloning https://[REDACTED]@git.example/x.git")
        assertRedacted(#"url="amqp://guest:guest@mq:5672/""#, #"url="amqp://guest:[REDACTED]@mq:5672/""#)
    }

    /// JSON carried inside a JSON string (a request body logged as a field) arrives with its
    /// quotes escaped.
    func testEscapedJSON() {
        assertRedacted(#"{\"api_key\":\"abc123\",\"user\":\"bob\"}"#, #"{\"api_key\":\"[REDACTED]\",\"user\":\"bob\"}"#)
        assertRedacted(#"body="{\"password\": \"x y\"}""#, #"body="{\"password\": \"[REDACTED]\"}""#)
        assertRedacted(#"{\"token\":12345}"#, #"{\"token\":[REDACTED]}"#)
    }

    /// Lines of every realistic format the throughput check uses (ids, times, URLs, host:port,
    /// key=value), and ordinary sentences around the new shapes, pass unchanged.
    func testOrdinaryLinesAreUntouched() {
        for format in ["json", "logfmt", "klog", "logback", "python", "nginx", "syslog", "plain"] {
            for line in ThroughputCheck.lines(format, count: 300) {
                XCTAssertNil(redactor.redact(line), line)
            }
        }
        for text in [
            "reset your password: use the link", "the token: it expired yesterday", "request failed: authorization: denied for user bob",
            "connected to 10.0.0.1:5432 at 10:00:00.123", "Dec  7 10:00:00 node sshd[12]: Accepted publickey for root",
            "ssh://git@example.com/repo.git", "https://example.com/@user/posts", "http://[::1]:8080/healthz",
            "mail sent to bob@example.com", "password reset requested by alice@example.com", "secret rotation: done at 10:00",
            "https://shop.example.com/?redirect=https://x.example/", #"{\"user\":\"bob\",\"n\":1}"#, "time: 12ms, tokens_used: 40",
            "compass=north bypass=on", "Authorization: [REDACTED]",
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
        for text in [
            "Authorization: Basic dXNlcjpwYXNz", "https://user:pw@host/", #"{\"api_key\":\"abc123\"}"#, "password: hunter2",
            "Authorization: Digest username=\"bob\", response=\"1\"",
        ] {
            let redacted = redactor.redact(text) ?? text
            XCTAssertNotEqual(redacted, text)
            XCTAssertNil(redactor.redact(redacted), redacted)
        }
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
