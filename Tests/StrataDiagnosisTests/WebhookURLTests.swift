import Testing

@testable import StrataDiagnosis

/// Webhook URLs are checked at start: their shape, and the class of the address they name.
@Suite struct WebhookURLTests {
    @Test func wellFormedURLsParse() throws {
        #expect(try WebhookURL.parse("https://alerts.example/hooks/strata") == WebhookURL(scheme: .https, host: "alerts.example", port: 443))
        #expect(try WebhookURL.parse("HTTP://127.0.0.1:8080/x?y=1") == WebhookURL(scheme: .http, host: "127.0.0.1", port: 8080))
        #expect(try WebhookURL.parse("http://[::1]:9000/") == WebhookURL(scheme: .http, host: "::1", port: 9000))
        #expect(try WebhookURL.parse("https://user:pw@hooks.example:8443") == WebhookURL(scheme: .https, host: "hooks.example", port: 8443))
    }

    @Test(arguments: [
        ("https:///hooks", "no host"), ("http://:8080/hooks", "no host"), ("http://user@/x", "no host"),
        ("http://alerts example/hooks", "a space"), ("http://alerts.example/a b", "a space"), ("http://alerts.example/\u{7}", "control character"),
        ("ftp://alerts.example/", "http:// or https://"), ("alerts.example/hooks", "http:// or https://"),
        ("http://alerts.example:99999/", "port '99999'"), ("http://alerts.example:8o/", "port '8o'"), ("http://[::1/", "does not close"),
    ])
    func malformedURLsAreRefusedSayingWhy(_ url: String, _ reason: String) {
        do {
            _ = try WebhookURL.parse(url)
            Issue.record("\(url) parsed")
        } catch {
            #expect(error.description.contains(url) && error.description.contains(reason), "\(error)")
        }
    }

    @Test(arguments: [
        "169.254.169.254", "169.254.170.2", "169.254.0.1", "2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518",
        "fe80::1", "fe80::1%eth0", "febf::1", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "::169.254.169.254", "64:ff9b::a9fe:a9fe",
    ])
    func linkLocalAddressesAreRecognisedInEveryNotation(_ host: String) {
        #expect(WebhookURL.classify(host: host) == .linkLocal, "\(host)")
    }

    @Test(arguments: [
        "10.0.0.1", "127.0.0.1", "169.253.255.255", "169.255.0.1", "alertmanager.monitoring.svc", "169.254.example", "fd00::1",
        "fd00:ec2::253", "fec0::1", "::1", "2001:db8::1", "::ffff:10.0.0.1",
    ])
    func ordinaryAddressesAndNamesPass(_ host: String) {
        #expect(WebhookURL.classify(host: host) == .ordinary, "\(host)")
    }

    @Test func theIPv6MetadataAddressIsRecognised() {
        #expect(WebhookURL.classify(host: "fd00:ec2::254") == .metadataService)
        #expect(WebhookURL.classify(host: "fd00:0ec2:0:0:0:0:0:0254") == .metadataService)
    }

    @Test func configurationRefusesLinkLocalAndMetadataUnlessAllowed() throws {
        for url in ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "https://[fe80::1%25eth0]:8443/hook"] {
            var webhook = WebhookConfiguration(name: "ops", url: url, kind: .json, secret: [1])
            do {
                try webhook.validate()
                Issue.record("\(url) passed")
            } catch {
                #expect("\(error)".contains(url) && "\(error)".contains("allow_link_local: true"), "\(error)")
            }
            webhook.allowLinkLocal = true
            try webhook.validate()
        }
    }

    @Test func redirectsAreFollowedOnlyWithinTheSameOrigin() throws {
        let base = try WebhookURL.parse("https://hooks.example/a")
        #expect(try WebhookURL.parse("https://HOOKS.example:443/b").isSameOrigin(as: base))
        #expect(try !WebhookURL.parse("http://hooks.example/b").isSameOrigin(as: base))
        #expect(try !WebhookURL.parse("https://hooks.example:8443/b").isSameOrigin(as: base))
        #expect(try !WebhookURL.parse("https://169.254.169.254/b").isSameOrigin(as: base))
    }
}
