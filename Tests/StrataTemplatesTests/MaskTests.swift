import Testing

@testable import StrataTemplates

/// One expectation per variable kind: the mask covers the value and keeps the punctuation.
@Suite struct MaskTests {
    let miner = TemplateMiner()

    @Test(arguments: [
        // numbers, signed and decimal; punctuation around them stays
        ("took 250 ms", "took <*> ms"),
        ("offset -27 of 3.14,", "offset <*> of <*>,"),
        ("retry #3 (of 10)", "retry #<*> (of <*>)"),
        // hex
        ("at 0x7fed806eb5d", "at <*>"),
        ("mask 0x0A", "mask <*>"),
        // UUIDs, trace and span ids
        ("order 04027d90-a300-4e50-b380-200e58bce4ff created", "order <*> created"),
        ("TraceID: 93bead877ae15b6d9cdf1c1569881314 SpanID: 0b3fba9c4ba54a89", "TraceID: <*> SpanID: <*>"),
        ("commit a489c868f0b3 ok", "commit <*> ok"),
        // IPs and ports, host names with ports, IPv6 and MAC addresses
        ("from 10.251.126.255:50010:Got", "from <*>:Got"),
        ("connect 192.168.0.1", "connect <*>"),
        ("to redis.cache.svc.cluster.local:6379 failed", "to <*> failed"),
        ("peer [fe80::1]:443", "peer [<*>]:<*>"),
        ("addr fe80::1ff:fe23:4567:890a ok", "addr <*> ok"),
        ("mac FF:F2:9F:16:E2:23 up", "mac <*> up"),
        // paths (POSIX, relative, home, Windows) and URLs, query strings included
        ("open /var/log/app.log failed", "open <*> failed"),
        ("read (./conf/app.yaml):", "read (<*>):"),
        ("load ~/x/y", "load <*>"),
        ("Core: C:\\Windows\\winsxs\\cbscore.dll", "Core: <*>"),
        ("GET https://api.example.com/v1/items?id=3 done", "GET <*> done"),
        ("see url=http://x.io/a", "see url=<*>"),
        // durations and times
        ("elapsed 1.5s", "elapsed <*>"),
        ("lifetime 00:01:02", "lifetime <*>"),
        ("done in 3m20s", "done in <*>"),
        // quoted strings (one token)
        ("user 'alice' denied", "user '<*>' denied"),
        ("key \"x\" missing", "key \"<*>\" missing"),
        // key=value values
        ("status=M code=E12 user=root", "status=M code=<*> user=root"),
        ("headroom=<memory:0, vCores:-27>", "headroom=<memory:<*>, vCores:<*>>"),
        ("pci_stats=[]", "pci_stats=[]"),
        // ids made of names and numbers
        ("block blk_-6952295868487656571 attempt_1445144423722_0020_m_000000_0", "block <*> <*>"),
        ("generating core.1234", "generating core.<*>"),
        ("[DFSClient_NONMAPREDUCE_1537864556_1]", "[<*>]"),
        // multi-token values: date and time, request target with protocol version
        ("from 2017-05-16 05:00:00 to 2017-05-16 06:00:00.", "from <*> to <*>."),
        ("10.11.10.1 \"GET /v2/54fa/servers/detail?x=1 HTTP/1.1\" status: 200", "<*> \"GET <*>\" status: <*>"),
        // words stay words, even with digits or inner punctuation
        ("open through proxy SOCKS via eth", "open through proxy SOCKS via eth"),
        ("AppleMultitouchDevice::start entered", "AppleMultitouchDevice::start entered"),
        ("Registered signal handlers for [TERM, HUP, INT]", "Registered signal handlers for [TERM, HUP, INT]"),
    ])
    func masksVariableKinds(message: String, expected: String) {
        #expect(miner.masked(message) == expected)
    }

    @Test func whitespaceRunsBecomeOneSpace() {
        #expect(miner.masked("  a\t\tb  c \r") == "a b c")
    }

    @Test func optionalMasksCanBeTurnedOff() {
        var configuration = TemplateMiner.Configuration()
        configuration.maskQuotedStrings = false
        configuration.maskDigitIdentifiers = false
        configuration.maskNamedDates = false
        configuration.collapseSpaceLists = false
        let plain = TemplateMiner(configuration: configuration)
        #expect(plain.masked("status=M user 'alice' id=7 via en0") == "status=M user 'alice' id=<*> via en0")
        #expect(plain.masked("at Jun 14 15:16:01 got 1 2 3") == "at Jun <*> <*> got <*> <*> <*>")
        configuration.maskKeyValueValues = true
        #expect(TemplateMiner(configuration: configuration).masked("status=M") == "status=<*>")
    }

    /// Identifiers with a digit anywhere are values, not only those that start with one; the
    /// key of `key=value` stays.
    @Test(arguments: [
        ("replica blk3a9f2 lost", "replica <*> lost"),
        ("pod web-7b9c ready", "pod web-<*> ready"),
        ("replica x-blk3a9f2-y lost", "replica <*> lost"),
        ("queue id mq12ab, user u1001:", "queue id <*>, user <*>:"),
        ("via en0 using SOCKS5", "via <*> using <*>"),
        ("PSR0=0x1 PSR1=7", "PSR0=<*> PSR1=<*>"),
        ("no digits here", "no digits here"),
    ])
    func digitIdentifiersAreMaskedMidToken(message: String, expected: String) {
        #expect(miner.masked(message) == expected)
    }

    /// Dates written with weekday and month names are one variable, punctuation kept around it.
    @Test(arguments: [
        ("session closed Sun Dec 04 04:47:44 2005 by peer", "session closed <*> by peer"),
        ("Jun 14 15:16:01 combo sshd: failure", "<*> combo sshd: failure"),
        ("expires on 04 December 2005.", "expires on <*>."),
        ("[Mon Jan 3 10:00:00 2022] start", "[<*>] start"),
        ("built Tuesday, March 7, 2023, ok", "built <*>, ok"),
        ("May be retried later", "May be retried later"),
        ("Sun and moon", "Sun and moon"),
    ])
    func namedDatesAreMasked(message: String, expected: String) {
        #expect(miner.masked(message) == expected)
    }

    /// A run of list items (comma- or space-separated variables) is one variable, so lists of
    /// any length give the same token count.
    @Test(arguments: [
        ("delete blocks blk_1 blk_2 blk_3 now", "delete blocks <*> now"),
        ("delete blocks blk_4 now", "delete blocks <*> now"),
        ("delete blocks blk_-1 blk_2 blk_-33 now", "delete blocks <*> now"),
        ("ids [1, 2, 3] done", "ids [<*>] done"),
        ("ids [7] done", "ids [<*>] done"),
        ("ports 80, 443, 8080; closed", "ports <*>; closed"),
        ("from 10.0.0.1 to 10.0.0.2", "from <*> to <*>"),
        ("a=1, b=2", "a=<*>, b=<*>"),
        // different values side by side are not a list
        ("open via proxy.example.org:5070 SOCKS5", "open via <*> <*>"),
        ("user u1001 from 10.0.0.1", "user <*> from <*>"),
    ])
    func listsAreOneVariable(message: String, expected: String) {
        #expect(miner.masked(message) == expected)
    }
}
