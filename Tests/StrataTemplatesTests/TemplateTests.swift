import Foundation
import StrataTestSupport
import Testing

@testable import StrataTemplates

@Suite struct MinerTests {
    @Test func identicalShapesShareATemplate() {
        let miner = TemplateMiner()
        let first = miner.add("PacketResponder 1 for block blk_38865049064139660 terminating")
        let second = miner.add("PacketResponder 0 for block blk_-6952295868487656571 terminating")
        #expect(first.id == second.id)
        #expect(second.text == "PacketResponder <*> for block <*> terminating")
        #expect(miner.templates.map(\.count) == [2])
    }

    @Test func valuesThatEscapeTheMasksGeneralizeAndOldIdsResolve() {
        let miner = TemplateMiner()
        let first = miner.add("Connecting to host db.prod.example for tenant acme.eu")
        #expect(first.text == "Connecting to host db.prod.example for tenant acme.eu")
        let second = miner.add("Connecting to host cache.prod.example for tenant acme.eu")
        #expect(second.text == "Connecting to host <*> for tenant acme.eu")
        // The id names the template text, so a new text is a new id; the old one is an alias.
        #expect(second.id != first.id)
        #expect(miner.resolve(first.id) == second.id)
        let third = miner.add("Connecting to host queue.stage.example for tenant zeta.us")
        #expect(third.text == "Connecting to host <*> for tenant <*>")
        #expect(miner.resolve(first.id) == third.id && miner.resolve(second.id) == third.id)
        #expect(miner.template(id: first.id)?.text == third.text)
        #expect(miner.templates == [TemplateSummary(id: third.id, text: third.text, count: 3)])
        #expect(Set(miner.aliases(of: third.id)) == [first.id, second.id, third.id])
    }

    @Test func generalizationKeepsPunctuationAroundTheValue() {
        let miner = TemplateMiner()
        miner.add("Loading offline hive: {alpha.one}, into key (x.y)")
        let match = miner.add("Loading offline hive: {beta.two}, into key (z.w)")
        #expect(match.text == "Loading offline hive: {<*>}, into key (<*>)")
    }

    @Test func differentWordsAreDifferentEvents() {
        let miner = TemplateMiner()
        let started = miner.add("[instance: 3f2a9b1c-0000-4000-8000-000000000001] VM Started (Lifecycle Event)")
        let paused = miner.add("[instance: 3f2a9b1c-0000-4000-8000-000000000002] VM Paused (Lifecycle Event)")
        let startedAgain = miner.add("[instance: 3f2a9b1c-0000-4000-8000-000000000003] VM Started (Lifecycle Event)")
        #expect(started.id != paused.id)
        #expect(startedAgain.id == started.id)
        #expect(paused.text == "[instance: <*>] VM Paused (Lifecycle Event)")
    }

    /// Templates that differ only in a word merge once the word keeps taking new values (the
    /// Good–Turing/Wilson rule: with the default 0.5 at 1.96 standard errors, four words each
    /// seen once); the ids handed out before the merge resolve to the survivor.
    @Test func aWordThatKeepsChangingMergesAndAliasesResolve() {
        let miner = TemplateMiner()
        let names = ["alpha", "bravo", "charlie", "delta", "echo"]
        let matches = names.map { miner.add("session opened for user \($0) by login") }
        #expect(Set(matches.prefix(3).map(\.id)).count == 3)
        #expect(matches[2].text == "session opened for user charlie by login")
        #expect(matches[3].text == "session opened for user <*> by login")
        #expect(matches[4].id == matches[3].id)
        for match in matches {
            #expect(miner.resolve(match.id) == matches[3].id)
            #expect(miner.template(id: match.id)?.text == "session opened for user <*> by login")
        }
        #expect(miner.templates == [TemplateSummary(id: matches[3].id, text: matches[3].text, count: 5)])
    }

    /// Words that repeat are events, not values: two events seen many times do not merge when
    /// a third word shows up once.
    @Test func repeatedWordsStayConstant() {
        let miner = TemplateMiner()
        var started: TemplateMatch?
        var paused: TemplateMatch?
        for _ in 0..<20 {
            started = miner.add("VM Started (Lifecycle Event)")
            paused = miner.add("VM Paused (Lifecycle Event)")
        }
        let stopped = miner.add("VM Stopped (Lifecycle Event)")
        #expect(Set([started!.id, paused!.id, stopped.id]).count == 3)
        #expect(stopped.text == "VM Stopped (Lifecycle Event)")
        #expect(miner.templateCount == 3)
    }

    /// `key=value`: a value that stays the same is part of the template; one that varies is not.
    @Test func keyValueValuesAreMaskedOnlyWhereTheyVary() {
        let miner = TemplateMiner()
        var last: TemplateMatch?
        for user in ["alice", "bob", "carol", "dave", "erin"] {
            last = miner.add("request done status=ok user=\(user)")
            _ = miner.add("request failed status=denied user=root")
        }
        #expect(miner.template(id: last!.id)?.text == "request done status=ok user=<*>")
        #expect(miner.templates.map(\.text).contains("request failed status=denied user=root"))
    }

    /// Ids come from the final template text, not from arrival order: two miners fed the same
    /// messages in different orders end with the same ids for the same templates.
    @Test func idsDependOnTheTemplateNotTheOrder() {
        let messages = [
            "Connecting to host db.prod.example port 5432",
            "Connecting to host cache.prod.example port 6379",
            "session opened for user alpha by login",
            "session opened for user bravo by login",
            "session opened for user charlie by login",
            "session opened for user delta by login",
            "job 17 finished in 250ms",
            "job 18 finished in 3.5s",
            "disk full on volume data",
        ]
        let forward = TemplateMiner()
        let backward = TemplateMiner()
        var generator = SeededRandom(seed: 7)
        var shuffled = messages
        shuffled.shuffle(using: &generator)
        for message in messages { forward.add(message) }
        for message in shuffled.reversed() { backward.add(message) }
        let one = Dictionary(uniqueKeysWithValues: forward.templates.map { ($0.text, $0.id) })
        let two = Dictionary(uniqueKeysWithValues: backward.templates.map { ($0.text, $0.id) })
        #expect(one == two)
        #expect(one.count == 4)
        // Each message's id, as handed out at the time, resolves to the same final id.
        for message in messages {
            #expect(forward.match(message).map { forward.resolve($0.id) } == backward.match(message).map { backward.resolve($0.id) })
        }
    }

    /// Only a word in first place splits the search tree: a name with dots there may be a value.
    @Test func aNameInFirstPlaceDoesNotSplit() {
        let miner = TemplateMiner()
        let one = miner.add("com.example.daily: job postponed for 30 seconds")
        let two = miner.add("com.example.heartbeat.check: job postponed for 12 seconds")
        #expect(two.text == "<*>: job postponed for <*> seconds")
        #expect(miner.resolve(one.id) == two.id)
        // A word in first place has its own leaf, yet still joins the template whose first
        // position is already a variable.
        #expect(miner.add("Scheduler: job postponed for 5 seconds").id == two.id)
    }

    /// A value may take more tokens in one message than in another (`0 bytes` / `1190 bytes
    /// (1.16 KB)`): a message that equals a template of another token count once runs of one
    /// value (variables and at most one unit word) are left out joins it.
    @Test func aValueOfSeveralTokensDoesNotSplitTheEvent() {
        let miner = TemplateMiner()
        let short = miner.add("conn 7 close, 0 bytes sent, 12 bytes received, lifetime 00:01")
        let long = miner.add("conn 8 close, 1190 bytes (1.16 KB) sent, 14 bytes received, lifetime 00:02")
        let unit = miner.add("conn 9 close, 10 bytes sent, 2 bytes (2.0 KB) received, lifetime <1 sec")
        #expect(long.id == short.id && unit.id == short.id)
        // A changed word is not a value: no match across token counts.
        let other = miner.add("conn 7 close, 0 bytes sent, 12 bytes received, after timeout 00:01")
        #expect(other.id != short.id)
        let extra = miner.add("conn 7 close, 0 bytes sent, 12 bytes received over the limit, lifetime 00:01")
        #expect(extra.id != short.id)
        var configuration = TemplateMiner.Configuration()
        configuration.alignAcrossTokenCounts = false
        let strict = TemplateMiner(configuration: configuration)
        #expect(
            strict.add("conn 7 close, 0 bytes sent, lifetime 00:01").id
                != strict.add("conn 8 close, 1190 bytes (1.16 KB) sent, lifetime 00:02").id)
    }

    @Test func matchDoesNotLearn() {
        let miner = TemplateMiner()
        #expect(miner.match("disk data.vol1 is full") == nil)
        let added = miner.add("disk data.vol is full at 91%")
        #expect(added.text == "disk data.vol is full at <*>")
        // Would join (and generalize) the template: matched, but the template is unchanged.
        #expect(miner.match("disk logs.vol is full at 97%") == TemplateMatch(id: added.id, text: added.text))
        // A different word is a different event.
        #expect(miner.match("disk data.vol is empty at 97%") == nil)
        #expect(miner.match("completely different message here") == nil)
        #expect(miner.templates.map(\.count) == [1])
        #expect(miner.templateCount == 1)
    }

    @Test func idsAreStableAcrossMinersAndPrintAsHex() {
        let one = TemplateMiner().add("user 42 logged in")
        let two = TemplateMiner().add("user 7 logged in")
        #expect(one.id == two.id)
        #expect(one.id.description.count == 16)
        #expect(one.id.description.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(TemplateID(one.id.description) == one.id)
        #expect(TemplateID("xyz") == nil)
        #expect(TemplateID("0123456789abcdeg") == nil)
    }

    @Test func templateCapStopsGrowth() {
        var configuration = TemplateMiner.Configuration()
        configuration.maxTemplates = 2
        let miner = TemplateMiner(configuration: configuration)
        miner.add("alpha bravo charlie")
        miner.add("delta echo foxtrot golf")
        let third = miner.add("hotel india juliet")
        let fourth = miner.add("kilo lima mike")
        #expect(third.text == "<*> <*> <*>")
        #expect(fourth.id == third.id)
        #expect(miner.templateCount == 3)
    }
}

@Suite struct InputEdgeTests {
    @Test func emptyAndBlankMessagesShareTheEmptyTemplate() {
        let miner = TemplateMiner()
        let empty = miner.add("")
        let blank = miner.add(" \t \r")
        #expect(empty.text == "")
        #expect(blank.id == empty.id)
    }

    @Test func invalidUTF8IsKeptAndRepairedInTheText() {
        let miner = TemplateMiner()
        let bytes: [UInt8] = [0x62, 0x61, 0x64, 0x20, 0xFF, 0xFE, 0x20, 0x00, 0x20, 0x31]
        let match = bytes.withUnsafeBufferPointer { miner.add(utf8: $0) }
        #expect(match.text == "bad \u{FFFD}\u{FFFD} \u{0} <*>")
        let again = bytes.withUnsafeBufferPointer { miner.add(utf8: $0) }
        #expect(again.id == match.id)
    }

    @Test func hugeMessagesAreCapped() {
        let miner = TemplateMiner()
        let manyTokens = (0..<10_000).map { "w\($0 % 7 == 0 ? "x" : "y")" }.joined(separator: " ")
        let match = miner.add(manyTokens)
        let tokens = match.text.split(separator: " ")
        #expect(tokens.count == miner.configuration.maxTokens)
        #expect(tokens.last == "<*>")

        let oneToken = String(repeating: "a", count: 1 << 20)
        #expect(miner.add(oneToken).text.utf8.count == 1 << 20)
        #expect(miner.add(String(repeating: "7", count: 1 << 20)).text == "<*>")
    }

    @Test func punctuationOnlyAndOddTokensDoNotTrap() {
        let miner = TemplateMiner()
        for message in ["::::", "'", "\"\"", "=", "a=", "=b", "://", "x://", "[<*>]", "<*>", "0x", "-", "/", "\\\\", "C:\\", "%%%"] {
            let match = miner.add(message)
            #expect(!match.text.contains("\n"), "\(message)")
        }
    }
}

@Suite struct PersistenceTests {
    func temporaryFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("strata-templates-\(UUID().uuidString).json")
    }

    @Test func idsSurviveSaveAndLoadAndGeneralizationAfterwards() throws {
        let url = temporaryFile()
        defer { try? FileManager.default.removeItem(at: url) }
        let miner = TemplateMiner()
        let connect = miner.add("Connecting to host db.prod.example port 5432")
        let closed = miner.add("[conn: 12] closed by peer")
        try miner.save(to: url)

        let restored = try TemplateMiner(contentsOf: url)
        #expect(restored.templates == miner.templates)
        #expect(restored.add("[conn: 99] closed by peer").id == closed.id)
        let generalized = restored.add("Connecting to host cache.prod.example port 6379")
        #expect(restored.resolve(connect.id) == generalized.id)
        #expect(generalized.text == "Connecting to host <*> port <*>")
        let fresh = restored.add("a brand new message")
        #expect(fresh.id != connect.id && fresh.id != closed.id)

        try restored.save(to: url)
        let again = try TemplateMiner(contentsOf: url)
        #expect(again.match("Connecting to host mq.prod.example port 1")?.id == generalized.id)
        #expect(again.resolve(connect.id) == generalized.id)
        #expect(again.templates.map(\.count) == [2, 2, 1])
        #expect(again.aliasTable == restored.aliasTable)
        #expect(again.aliasTable[connect.id] == generalized.id)
    }

    /// Version 2 keeps the alias table: a merge's retired ids still resolve after a reload.
    @Test func version2RoundTripKeepsAliases() throws {
        let miner = TemplateMiner()
        let matches = ["alpha", "bravo", "charlie", "delta"].map { miner.add("session opened for user \($0) by login") }
        let survivor = miner.resolve(matches[0].id)
        #expect(survivor == matches[3].id)
        let restored = try TemplateMiner(state: miner.encodedState())
        #expect(restored.templates == miner.templates)
        #expect(restored.aliasTable == miner.aliasTable)
        for match in matches {
            #expect(restored.resolve(match.id) == survivor)
            #expect(restored.template(id: match.id)?.text == "session opened for user <*> by login")
        }
        #expect(restored.add("session opened for user echo by login").id == survivor)
        let object = try JSONSerialization.jsonObject(with: restored.encodedState()) as? [String: Any]
        #expect(object?["version"] as? Int == 2)
        #expect((object?["aliases"] as? [String: String])?[matches[0].id.description] == survivor.description)
    }

    /// A version 1 file (ids were hashes of the first message; no alias table) still loads:
    /// its templates come back, each old id resolving to the id of its template text.
    @Test func version1StillLoads() throws {
        let v1 = #"""
            {"format":"strata-templates","version":1,"configuration":{"similarityThreshold":0.5,"maxWordVariants":16,
             "maskKeyValueValues":true,"maxTokens":40},
             "templates":[
              {"id":"0123456789abcdef","tokens":["PacketResponder","<*>","for","block","<*>","terminating"],
               "leaf":"PacketResponder","count":311},
              {"id":"00000000000000aa","tokens":["<*>","<*>"],"count":3,"overflow":true}]}
            """#
        let miner = try TemplateMiner(state: Data(v1.utf8))
        // The previous method's settings do not carry over; its size limits do.
        #expect(miner.configuration.maskKeyValueValues == false)
        #expect(miner.configuration.maxTokens == 40)
        #expect(miner.templates.map(\.text) == ["PacketResponder <*> for block <*> terminating", "<*> <*>"])
        #expect(miner.templates.map(\.count) == [311, 3])
        let old = TemplateID("0123456789abcdef")!
        let current = miner.resolve(old)
        #expect(current != old)
        #expect(miner.template(id: old)?.text == "PacketResponder <*> for block <*> terminating")
        #expect(miner.add("PacketResponder 2 for block blk_1 terminating").id == current)
        #expect(miner.template(id: TemplateID("00000000000000aa")!)?.count == 3)
        // Saved again, it is a version 2 file that keeps the old ids resolvable.
        let again = try TemplateMiner(state: miner.encodedState())
        #expect(again.resolve(old) == current)
    }

    @Test func theFileIsVersionedJSON() throws {
        let miner = TemplateMiner()
        miner.add("hello 1")
        let object = try JSONSerialization.jsonObject(with: miner.encodedState()) as? [String: Any]
        #expect(object?["format"] as? String == "strata-templates")
        #expect(object?["version"] as? Int == 2)
        let templates = object?["templates"] as? [[String: Any]]
        #expect(templates?.first?["tokens"] as? [String] == ["hello", "<*>"])
    }

    @Test func badFilesFailWithAClearError() throws {
        #expect(throws: TemplateStoreError.self) { try TemplateMiner(state: Data("not json".utf8)) }
        let future = #"{"format":"strata-templates","version":9,"configuration":{},"templates":[]}"#
        #expect(throws: TemplateStoreError.unsupportedVersion(9)) { try TemplateMiner(state: Data(future.utf8)) }
        let duplicate = #"""
            {"format":"strata-templates","version":1,"configuration":{},"templates":[
            {"id":"0000000000000001","tokens":["a"],"count":1},{"id":"0000000000000001","tokens":["b"],"count":1}]}
            """#
        #expect(throws: TemplateStoreError.self) { try TemplateMiner(state: Data(duplicate.utf8)) }
        let badID = #"{"format":"strata-templates","version":1,"configuration":{},"templates":[{"id":"zz","tokens":[],"count":0}]}"#
        #expect(throws: TemplateStoreError.self) { try TemplateMiner(state: Data(badID.utf8)) }
        let missing = URL(fileURLWithPath: "/nonexistent/strata/templates.json")
        #expect(throws: TemplateStoreError.self) { try TemplateMiner(contentsOf: missing) }
        #expect(throws: TemplateStoreError.self) { try TemplateMiner().save(to: missing) }
    }

    @Test func missingConfigurationKeysTakeDefaults() throws {
        let minimal = #"{"format":"strata-templates","version":1,"configuration":{"maxTokens":8},"templates":[]}"#
        let miner = try TemplateMiner(state: Data(minimal.utf8))
        #expect(miner.configuration.maxTokens == 8)
        #expect(miner.configuration.similarityThreshold == TemplateMiner.Configuration().similarityThreshold)
    }
}

@Suite struct ConcurrencyTests {
    @Test func concurrentAddsLoseNothingAndAgreeOnIds() async {
        let miner = TemplateMiner()
        let shapes = [
            "GET /api/orders/%d 200 in %dms", "user %d logged in from 10.0.0.%d",
            "payment %d failed: timeout after %ds", "cache miss for key item-%d (%d)",
        ]
        let results = await withTaskGroup(of: [(Int, TemplateID)].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    (0..<500).map { i in
                        let shape = (worker + i) % shapes.count
                        let message = String(format: shapes[shape], i * 7 + worker, i % 250)
                        return (shape, miner.add(message).id)
                    }
                }
            }
            var all: [(Int, TemplateID)] = []
            for await part in group { all += part }
            return all
        }
        #expect(results.count == 4000)
        #expect(miner.templates.reduce(0) { $0 + $1.count } == 4000)
        var idsByShape: [Int: Set<TemplateID>] = [:]
        for (shape, id) in results { idsByShape[shape, default: []].insert(id) }
        #expect(idsByShape.values.allSatisfy { $0.count == 1 })
        #expect(Set(idsByShape.values.compactMap(\.first)).count == shapes.count)
    }
}
