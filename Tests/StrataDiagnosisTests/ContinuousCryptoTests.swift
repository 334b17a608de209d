import Crypto
import StrataCore
import Testing

@testable import StrataDiagnosis

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf") and RFC 4231 HMAC-SHA256
// test cases 1-4, 6 and 7 (case 5 tests truncated output, which Strata does not use): the
// webhook signatures rely on swift-crypto giving exactly these.

private func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

@Test func sha256MatchesFIPSVectors() {
    #expect(Hex.encode(sha256([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(Hex.encode(sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
        Hex.encode(sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    let long = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
    #expect(Hex.encode(sha256(Array(long.utf8))) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    #expect(
        Hex.encode(sha256([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
}

@Test func sha256IsTheSameFedInPieces() {
    let message = Array((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    let whole = sha256(message)
    // Pieces that straddle block boundaries and the 56-byte padding edge.
    for split in [1, 55, 56, 63, 64, 65, 127, 500] {
        var hasher = SHA256()
        var start = 0
        while start < message.count {
            let end = min(message.count, start + split)
            hasher.update(data: message[start..<end])
            start = end
        }
        #expect(Array(hasher.finalize()) == whole, "split \(split)")
    }
    // Lengths around the padding boundary differ from each other.
    let digests = Set((54...66).map { sha256([UInt8](repeating: 7, count: $0)) })
    #expect(digests.count == 13)
}

@Test func hmacMatchesRFC4231() {
    func mac(_ key: [UInt8], _ data: [UInt8]) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }
    #expect(mac([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8)) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    #expect(mac(Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    #expect(mac([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50)) == "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")
    #expect(mac(Array(1...25), [UInt8](repeating: 0xcd, count: 50)) == "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")
    let bigKey = [UInt8](repeating: 0xaa, count: 131)
    #expect(mac(bigKey, Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    let text = "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
    #expect(mac(bigKey, Array(text.utf8)) == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
}

@Test func webhookSignatureCoversTimestampAndBody() {
    let secret = Array("topsecret".utf8)
    let body = Array("{\"a\":1}".utf8)
    // Python: hmac.new(b'topsecret', b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    let signature = WebhookSignature.sign(body: body, timestamp: 1_700_000_000, secret: secret)
    #expect(signature == "sha256=6a939b0c71853d606167625a15168ee9188c6a511c773ef4f42d307f3849e50f")
    #expect(WebhookSignature.verify(body: body, timestamp: "1700000000", signature: signature, secret: secret, nowSeconds: 1_700_000_100))
    // Another body, another timestamp, another secret, a stale timestamp: all refused.
    #expect(!WebhookSignature.verify(body: body + [0x20], timestamp: "1700000000", signature: signature, secret: secret, nowSeconds: 1_700_000_000))
    #expect(!WebhookSignature.verify(body: body, timestamp: "1700000001", signature: signature, secret: secret, nowSeconds: 1_700_000_000))
    #expect(!WebhookSignature.verify(body: body, timestamp: "1700000000", signature: signature, secret: Array("other".utf8), nowSeconds: 1_700_000_000))
    #expect(!WebhookSignature.verify(body: body, timestamp: "1700000000", signature: signature, secret: secret, nowSeconds: 1_700_000_301))
    #expect(!WebhookSignature.verify(body: body, timestamp: "1700000000", signature: "sha256=zz", secret: secret, nowSeconds: 1_700_000_000))
    #expect(Hex.decode("0aFf") == [0x0a, 0xff])
    #expect(Hex.decode("abc") == nil)
}
