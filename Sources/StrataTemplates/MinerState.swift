/// Interned token texts. Symbol 0 is the wildcard `<*>`; a *pattern* is a token that keeps
/// structure around a variable (`[<*>]`, `key=<*>`, `<*>,`) and matches any token of that shape.
struct SymbolTable: Sendable {
    static let wildcard: Int32 = 0

    private var index: [ByteKey: Int32] = [:]
    private(set) var bytes: [[UInt8]] = []
    private(set) var isPattern: [Bool] = []
    /// Letters and digits only (around punctuation): a word, which the miner treats as part
    /// of what a message says rather than as a value.
    private(set) var isWord: [Bool] = []

    init() {
        _ = intern(Masker.wildcardBytes)
    }

    func lookup(_ token: [UInt8]) -> Int32? { index[ByteKey(token)] }

    mutating func intern(_ token: [UInt8]) -> Int32 {
        let key = ByteKey(token)
        if let existing = index[key] { return existing }
        let symbol = Int32(bytes.count)
        index[key] = symbol
        bytes.append(token)
        isPattern.append(symbol != Self.wildcard && containsWildcard(token[...]))
        isWord.append(isWordToken(token[...]))
        return symbol
    }
}

/// A token that reads as part of what a message says rather than as a value: at least one
/// letter, no variable, and none of the characters of names and addresses (`. / \\ @ ~ $ % &`)
/// inside its wrapping punctuation: `Started`, `SOCKS5`, `"GET`, `SPP.`, `WWEN[enable]`,
/// `itemasync_SetProperty`, `network-outbound`.
func isWordToken(_ bytes: ArraySlice<UInt8>) -> Bool {
    var start = bytes.startIndex
    var end = bytes.endIndex
    while start < end, Masker.isPunctuationAround(bytes[start]) { start += 1 }
    while end > start, Masker.isPunctuationAround(bytes[end - 1]) { end -= 1 }
    guard start < end, !containsWildcard(bytes[start..<end]) else { return false }
    var letters = 0
    for byte in bytes[start..<end] {
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "@"), UInt8(ascii: "~"),
            UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"):
            return false
        default:
            if Masker.isLetter(byte) { letters += 1 }
        }
    }
    return letters > 0
}

func containsWildcard(_ bytes: ArraySlice<UInt8>) -> Bool { firstWildcard(in: bytes) != nil }

func firstWildcard(in bytes: ArraySlice<UInt8>) -> Int? {
    var index = bytes.startIndex
    while index + 2 < bytes.endIndex {
        if bytes[index] == 0x3C && bytes[index + 1] == 0x2A && bytes[index + 2] == 0x3E { return index }
        index += 1
    }
    return nil
}

/// Does `text` have the shape of `pattern`, each `<*>` standing for any bytes (possibly none)?
func globMatches(_ pattern: [UInt8], _ text: ArraySlice<UInt8>) -> Bool {
    func isStar(_ at: Int) -> Bool {
        at + 2 < pattern.count && pattern[at] == 0x3C && pattern[at + 1] == 0x2A && pattern[at + 2] == 0x3E
    }
    var patternIndex = 0
    var textIndex = text.startIndex
    var resumePattern = -1
    var resumeText = text.startIndex
    while textIndex < text.endIndex {
        if isStar(patternIndex) {
            patternIndex += 3
            resumePattern = patternIndex
            resumeText = textIndex
        } else if patternIndex < pattern.count && pattern[patternIndex] == text[textIndex] {
            patternIndex += 1
            textIndex += 1
        } else if resumePattern >= 0 {
            resumeText += 1
            textIndex = resumeText
            patternIndex = resumePattern
        } else {
            return false
        }
    }
    while isStar(patternIndex) { patternIndex += 3 }
    return patternIndex == pattern.count
}

/// The most specific token covering both `template` and `token`: the punctuation prefix
/// (`[`, `key=`) and suffix (`,`, `]:`) they share around a `<*>`, or the bare wildcard.
/// Prefix and suffix end at punctuation, so `user1`/`user2` give `<*>`, not `user<*>`.
func generalize(_ template: [UInt8], _ token: ArraySlice<UInt8>) -> [UInt8] {
    let firstStar = firstWildcard(in: template[...]) ?? template.count
    var lastStarEnd = 0
    var scan = 0
    while let star = firstWildcard(in: template[scan...]) {
        lastStarEnd = star + 3
        scan = star + 3
    }
    let tokenBytes = Array(token)
    var prefix = 0
    let prefixLimit = min(firstStar, tokenBytes.count)
    while prefix < prefixLimit && template[prefix] == tokenBytes[prefix] { prefix += 1 }
    while prefix > 0 && Masker.isIdentifierByte(template[prefix - 1]) { prefix -= 1 }
    var suffix = 0
    let suffixLimit = min(template.count - max(lastStarEnd, prefix), tokenBytes.count - prefix)
    while suffix < suffixLimit && template[template.count - 1 - suffix] == tokenBytes[tokenBytes.count - 1 - suffix] {
        suffix += 1
    }
    while suffix > 0 && Masker.isIdentifierByte(template[template.count - suffix]) { suffix -= 1 }
    if prefix == 0 && suffix == 0 { return Masker.wildcardBytes }
    return Array(template[..<prefix]) + Masker.wildcardBytes + Array(template[(template.count - suffix)...])
}

/// Clusters with the same token count and the same first token (Drain's fixed-depth tree,
/// depth 2) are the candidates a message is compared with.
struct LeafKey: Hashable, Sendable {
    var tokenCount: Int32
    var first: Int32
}

struct Cluster: Sendable {
    var id: TemplateID
    var tokens: [Int32]
    var text: String
    var count: Int
    var leaf: LeafKey
    /// Created because `maxTemplates` was reached: all variables, matched by token count only.
    var isOverflow: Bool
    /// The cluster this one was merged into (`-1` while it is live).
    var forward: Int32 = -1

    var isLive: Bool { forward < 0 }
}

/// Everything a miner learns; guarded by the miner's lock.
struct MinerState: Sendable {
    let configuration: TemplateMiner.Configuration
    var symbols = SymbolTable()
    /// Every cluster ever made, live or merged away (indices stay valid for the cache).
    var clusters: [Cluster] = []
    var leaves: [LeafKey: [Int32]] = [:]
    /// Live template id -> cluster.
    var ids: [TemplateID: Int32] = [:]
    /// Ids handed out before a merge or a generalization -> the id that replaced them.
    var aliases: [TemplateID: TemplateID] = [:]
    var overflow: [Int32: Int32] = [:]
    var liveCount = 0
    /// Masked message -> cluster. Only an accelerator: a cluster never stops covering a message
    /// it accepted (templates only generalize; a merged cluster forwards to its survivor).
    var cache: [ByteKey: Int32] = [:]

    init(configuration: TemplateMiner.Configuration) {
        self.configuration = configuration
        cache.reserveCapacity(min(configuration.cacheCapacity, 1 << 16))
    }

    // MARK: adding and matching

    mutating func add(_ message: MaskedMessage) -> TemplateMatch {
        let key = ByteKey(message.bytes)
        if let hit = cache[key] {
            let live = live(hit)
            clusters[Int(live)].count += 1
            return match(of: live)
        }
        let tokens = tokenRanges(message)
        let symbols = tokens.map { self.symbols.lookup(Array(message.bytes[$0])) ?? -1 }
        let search = search(message, tokens, symbols)
        var index: Int32
        if let best = search.best, best.score >= configuration.similarityThreshold {
            clusters[Int(best.index)].count += 1
            index = absorb(message, tokens, symbols, into: best.index)
        } else if let other = lengthFreeMatch(message, tokens, symbols) {
            clusters[Int(other)].count += 1
            index = other
        } else if liveCount - overflow.count < configuration.maxTemplates {
            index = create(message, tokens)
            clusters[Int(index)].count += 1
            if !search.family.isEmpty { index = considerMerging(index, with: search.family) }
        } else {
            index = overflowCluster(tokenCount: Int32(tokens.count))
            clusters[Int(index)].count += 1
        }
        if cache.count >= configuration.cacheCapacity { cache.removeAll(keepingCapacity: true) }
        if configuration.cacheCapacity > 0 { cache[key] = index }
        return match(of: index)
    }

    func match(_ message: MaskedMessage) -> TemplateMatch? {
        if let hit = cache[ByteKey(message.bytes)] { return match(of: live(hit)) }
        let tokens = tokenRanges(message)
        let symbols = tokens.map { self.symbols.lookup(Array(message.bytes[$0])) ?? -1 }
        if let best = search(message, tokens, symbols).best, best.score >= configuration.similarityThreshold {
            return match(of: best.index)
        }
        return lengthFreeMatch(message, tokens, symbols).map { match(of: $0) }
    }

    func match(of index: Int32) -> TemplateMatch {
        let cluster = clusters[Int(index)]
        return TemplateMatch(id: cluster.id, text: cluster.text)
    }

    var summaries: [TemplateSummary] {
        clusters.lazy.filter(\.isLive).map { TemplateSummary(id: $0.id, text: $0.text, count: $0.count) }
    }

    /// The live cluster a (possibly merged-away) cluster forwards to.
    func live(_ index: Int32) -> Int32 {
        var index = index
        while clusters[Int(index)].forward >= 0 { index = clusters[Int(index)].forward }
        return index
    }

    /// The id that stands for `id` now: itself when live or unknown, else the end of its alias chain.
    func resolve(_ id: TemplateID) -> TemplateID {
        var current = id
        var steps = 0
        while ids[current] == nil, let next = aliases[current], steps < 1_000 {
            current = next
            steps += 1
        }
        return current
    }

    func cluster(for id: TemplateID) -> Cluster? {
        ids[resolve(id)].map { clusters[Int($0)] }
    }

    // MARK: search

    private func tokenRanges(_ message: MaskedMessage) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(message.tokenCount)
        var start = 0
        let bytes = message.bytes
        for index in 0..<bytes.count where bytes[index] == 0x20 {
            ranges.append(start..<index)
            start = index + 1
        }
        if !bytes.isEmpty || message.tokenCount > 0 { ranges.append(start..<bytes.count) }
        return ranges
    }

    /// The leaf a token sequence belongs to: only a first token that is a word splits (one
    /// holding a variable, or a name with `.`/`/`, may be a value).
    private func leafKey(tokenCount: Int, first: Int32?) -> LeafKey {
        guard let first, first >= 0, first != SymbolTable.wildcard, symbols.isWord[Int(first)] else {
            return LeafKey(tokenCount: Int32(tokenCount), first: SymbolTable.wildcard)
        }
        return LeafKey(tokenCount: Int32(tokenCount), first: first)
    }

    struct Search {
        /// The most similar template that differs from the message in no word.
        var best: (index: Int32, score: Double)?
        /// Templates within the similarity threshold that differ from the message in a word:
        /// the other values seen where the message has its word.
        var family: [Int32] = []
    }

    private func search(_ message: MaskedMessage, _ tokens: [Range<Int>], _ symbols: [Int32]) -> Search {
        let key = leafKey(tokenCount: tokens.count, first: symbols.first)
        var best: (index: Int32, score: Double, wildcards: Int)?
        var family: [Int32] = []
        func consider(_ leaf: LeafKey) {
            for candidate in leaves[leaf] ?? [] {
                let result = similarity(message, tokens, symbols, clusters[Int(candidate)].tokens)
                if result.wordConflict {
                    if result.score >= configuration.similarityThreshold { family.append(candidate) }
                } else if best == nil || result.score > best!.score
                    || (result.score == best!.score && result.wildcards > best!.wildcards)
                {
                    best = (candidate, result.score, result.wildcards)
                }
            }
        }
        consider(key)
        if key.first != SymbolTable.wildcard, (best?.score ?? 0) < configuration.similarityThreshold {
            consider(LeafKey(tokenCount: key.tokenCount, first: SymbolTable.wildcard))
        }
        return Search(best: best.map { ($0.index, $0.score) }, family: family)
    }

    private func similarity(
        _ message: MaskedMessage, _ tokens: [Range<Int>], _ symbols: [Int32], _ template: [Int32]
    ) -> (score: Double, wildcards: Int, wordConflict: Bool) {
        if tokens.isEmpty { return (1, 0, false) }
        var matched = 0
        var wildcards = 0
        var wordConflict = false
        for position in 0..<tokens.count {
            let symbol = template[position]
            if symbol == SymbolTable.wildcard {
                wildcards += 1
                if symbols[position] == SymbolTable.wildcard || configuration.wildcardsCount { matched += 1 }
            } else if symbol == symbols[position] {
                matched += 1
            } else if self.symbols.isPattern[Int(symbol)],
                globMatches(self.symbols.bytes[Int(symbol)], message.bytes[tokens[position]])
            {
                matched += 1
            } else if self.symbols.isWord[Int(symbol)] {
                // A word of the template meets another word or a value: only the word-or-value
                // decision may turn a word position into a variable.
                wordConflict = true
            }
        }
        return (Double(matched) / Double(tokens.count), wildcards, wordConflict)
    }

    // MARK: other token counts

    /// A template of another token count that the message is, once runs of extra tokens are
    /// left out of the longer of the two: every token of the shorter one matches, in order, and
    /// each run left out is one value — variables with at most one other token (a unit), or a
    /// single token right after a position where a variable matched
    /// (`<*> bytes sent` / `<*> bytes (<*> KB) sent`, `lifetime <*>` / `lifetime <*> sec`). The
    /// matched tokens must be at least `similarityThreshold` of the longer one. Only templates of
    /// the message's leaf (first word) and of the variable-first leaf are tried.
    private func lengthFreeMatch(_ message: MaskedMessage, _ tokens: [Range<Int>], _ symbols: [Int32]) -> Int32? {
        let count = tokens.count
        guard configuration.alignAcrossTokenCounts, count > 0, configuration.similarityThreshold > 0 else { return nil }
        let low = Int((Double(count) * configuration.similarityThreshold).rounded(.up))
        let high = Int((Double(count) / configuration.similarityThreshold).rounded(.down))
        let first = leafKey(tokenCount: count, first: symbols.first).first
        var best: (index: Int32, matched: Int)?
        for other in max(1, low)...max(1, high) where other != count {
            for firstKey in Set([first, SymbolTable.wildcard]) {
                for candidate in leaves[LeafKey(tokenCount: Int32(other), first: firstKey)] ?? [] {
                    guard let matched = alignsWithGaps(message, tokens, symbols, clusters[Int(candidate)].tokens) else {
                        continue
                    }
                    if best == nil || matched > best!.matched
                        || (matched == best!.matched && clusters[Int(candidate)].id < clusters[Int(best!.index)].id)
                    {
                        best = (candidate, matched)
                    }
                }
            }
        }
        return best?.index
    }

    /// The number of matched tokens when the message and `template` align with gaps (see
    /// `lengthFreeMatch`), or nil.
    private func alignsWithGaps(
        _ message: MaskedMessage, _ tokens: [Range<Int>], _ symbols: [Int32], _ template: [Int32]
    ) -> Int? {
        let messageLonger = tokens.count > template.count
        let shortCount = min(tokens.count, template.count)
        let longCount = max(tokens.count, template.count)
        guard Double(shortCount) >= Double(longCount) * configuration.similarityThreshold else { return nil }
        // Stricter than the same-length comparison: a template variable matches only a message
        // token holding a variable, so a left-out run cannot hide behind a changed word.
        func matches(_ t: Int, _ m: Int) -> Bool {
            let symbol = template[t]
            if symbol == symbols[m] { return true }
            if symbol == SymbolTable.wildcard { return containsWildcard(message.bytes[tokens[m]]) }
            return self.symbols.isPattern[Int(symbol)] && globMatches(self.symbols.bytes[Int(symbol)], message.bytes[tokens[m]])
        }
        func hasVariable(_ long: Int) -> Bool {
            messageLonger
                ? containsWildcard(message.bytes[tokens[long]])
                : template[long] == SymbolTable.wildcard || self.symbols.isPattern[Int(template[long])]
        }
        func pairMatches(short: Int, long: Int) -> Bool {
            messageLonger ? matches(short, long) : matches(long, short)
        }
        func shortHasVariable(_ short: Int) -> Bool {
            messageLonger
                ? template[short] == SymbolTable.wildcard || self.symbols.isPattern[Int(template[short])]
                : containsWildcard(message.bytes[tokens[short]])
        }
        /// A run left out is one value with at most one word (its unit): variables and at most
        /// one other token, or a single word right after a matched variable.
        func isValueRun(_ run: Range<Int>, afterVariable: Bool) -> Bool {
            let variables = run.filter(hasVariable).count
            let words = run.count - variables
            return words <= 1 && (variables > 0 || afterVariable)
        }
        var short = 0
        var long = 0
        var afterVariable = false
        var constants = 0
        var scored = 0
        while short < shortCount {
            if long < longCount, pairMatches(short: short, long: long) {
                afterVariable = shortHasVariable(short) || hasVariable(long)
                if !afterVariable { constants += 1 }
                // Scored as the same-length similarity is: a template variable against a
                // message constant is covered but not a match.
                let (t, m) = messageLonger ? (short, long) : (long, short)
                if template[t] != SymbolTable.wildcard || containsWildcard(message.bytes[tokens[m]]) { scored += 1 }
                short += 1
                long += 1
                continue
            }
            // Leave out a run of the longer sequence up to the next match.
            var next = long + 1
            while next < longCount, !pairMatches(short: short, long: next) { next += 1 }
            guard next < longCount else { return nil }
            guard isValueRun(long..<next, afterVariable: afterVariable) else { return nil }
            long = next
        }
        if long < longCount, !isValueRun(long..<longCount, afterVariable: afterVariable) { return nil }
        // The constants carry the identity of the event: at least one must match; and the
        // matches must be `similarityThreshold` of the longer sequence, as for equal counts.
        guard constants > 0, Double(scored) >= Double(longCount) * configuration.similarityThreshold else { return nil }
        return scored
    }

    // MARK: the word-or-value decision

    /// Lower bound of the Wilson score interval for a proportion `successes / trials` at `z`.
    static func wilsonLowerBound(successes: Int, trials: Int, z: Double) -> Double {
        guard trials > 0 else { return 0 }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = p + z2 / (2 * n)
        let margin = z * ((p * (1 - p) + z2 / (4 * n)) / n).squareRoot()
        return (centre - margin) / (1 + z2 / n)
    }

    /// Whether the templates `members` (one event seen with different words in the same
    /// places) are one template whose word position is a variable. Each member is one value
    /// of that position, seen `count` times. By Good–Turing, the chance that the next message
    /// brings a value never seen is estimated by the share of messages whose value was seen
    /// once; the position is a variable when that chance is more likely than not, i.e. when the
    /// Wilson lower bound (at `variableConfidence` standard errors) of that share is at least
    /// `newValueThreshold`.
    func isVariable(_ members: [Int32]) -> Bool {
        guard members.count >= 2 else { return false }
        var messages = 0
        var singletons = 0
        for member in members {
            let count = clusters[Int(member)].count
            messages += count
            if count == 1 { singletons += 1 }
        }
        return Self.wilsonLowerBound(successes: singletons, trials: messages, z: configuration.variableConfidence)
            >= configuration.newValueThreshold
    }

    private mutating func considerMerging(_ index: Int32, with family: [Int32]) -> Int32 {
        var members: [Int32] = [index]
        for candidate in family {
            let live = live(candidate)
            if !members.contains(live), clusters[Int(live)].tokens.count == clusters[Int(index)].tokens.count {
                members.append(live)
            }
        }
        guard isVariable(members) else { return index }
        // The survivor is the most frequent member (ties: the lowest id), so the outcome does not
        // depend on which member arrived first.
        let survivor = members.min { a, b in
            let ca = clusters[Int(a)], cb = clusters[Int(b)]
            return ca.count != cb.count ? ca.count > cb.count : ca.id < cb.id
        }!
        var result = survivor
        for member in members where member != survivor {
            let target = live(result)
            let source = live(member)
            if source == target { continue }
            result = merge(source, into: target)
        }
        return live(result)
    }

    // MARK: learning

    /// Generalizes the template of `index` to cover the message; returns the live cluster
    /// holding the message afterwards (a generalization may meet another template's text).
    private mutating func absorb(
        _ message: MaskedMessage, _ tokens: [Range<Int>], _ symbols: [Int32], into index: Int32
    ) -> Int32 {
        var template = clusters[Int(index)].tokens
        var changed = false
        for position in 0..<tokens.count {
            let symbol = template[position]
            if symbol == SymbolTable.wildcard || symbol == symbols[position] { continue }
            let token = message.bytes[tokens[position]]
            let symbolBytes = self.symbols.bytes[Int(symbol)]
            if self.symbols.isPattern[Int(symbol)], globMatches(symbolBytes, token) { continue }
            template[position] = self.symbols.intern(generalize(symbolBytes, token))
            changed = true
        }
        guard changed else { return index }
        clusters[Int(index)].tokens = template
        return retext(index)
    }

    /// Merges cluster `source` into `target` (same token count): the target generalizes to
    /// cover the source, counts add up, and the source's id becomes an alias.
    private mutating func merge(_ source: Int32, into target: Int32) -> Int32 {
        var template = clusters[Int(target)].tokens
        let other = clusters[Int(source)].tokens
        for position in template.indices where template[position] != other[position] {
            let bytes = symbols.bytes[Int(template[position])]
            let otherBytes = symbols.bytes[Int(other[position])]
            if other[position] != SymbolTable.wildcard, symbols.isPattern[Int(template[position])],
                globMatches(bytes, otherBytes[...])
            {
                continue
            }
            template[position] = symbols.intern(generalize(bytes, otherBytes[...]))
        }
        let sourceID = clusters[Int(source)].id
        unlink(source)
        clusters[Int(source)].forward = target
        clusters[Int(target)].count += clusters[Int(source)].count
        aliases[sourceID] = clusters[Int(target)].id
        clusters[Int(target)].tokens = template
        return retext(target)
    }

    /// Re-renders a cluster's text after its tokens changed and gives it the id of that text.
    /// When another live template already has the text, the two are one template: merged.
    private mutating func retext(_ index: Int32) -> Int32 {
        let text = render(clusters[Int(index)].tokens)
        clusters[Int(index)].text = text
        relocate(index)
        let oldID = clusters[Int(index)].id
        let newID = textID(text, overflow: clusters[Int(index)].isOverflow)
        if newID == oldID { return index }
        if let owner = ids[resolve(newID)], owner != index {
            // Same text as a live template (or as one that has since generalized): one group.
            return merge(index, into: owner)
        }
        ids[oldID] = nil
        aliases[oldID] = newID
        aliases[newID] = nil
        ids[newID] = index
        clusters[Int(index)].id = newID
        return index
    }

    private mutating func create(_ message: MaskedMessage, _ tokens: [Range<Int>]) -> Int32 {
        let template = tokens.map { symbols.intern(Array(message.bytes[$0])) }
        let text = String(decoding: message.bytes, as: UTF8.self)
        let id = textID(text, overflow: false)
        if let owner = ids[resolve(id)] {
            // This exact template existed and has since generalized or merged: it is that group.
            return owner
        }
        return insert(
            Cluster(
                id: id, tokens: template, text: text, count: 0,
                leaf: leafKey(tokenCount: template.count, first: template.first), isOverflow: false))
    }

    private mutating func overflowCluster(tokenCount: Int32) -> Int32 {
        if let existing = overflow[tokenCount] { return existing }
        let template = [Int32](repeating: SymbolTable.wildcard, count: Int(tokenCount))
        let text = render(template)
        return insert(
            Cluster(
                id: textID(text, overflow: true), tokens: template, text: text, count: 0,
                leaf: LeafKey(tokenCount: tokenCount, first: SymbolTable.wildcard), isOverflow: true))
    }

    /// Adds a live cluster to the index; used by learning and by loading a saved state.
    mutating func insert(_ cluster: Cluster) -> Int32 {
        let index = Int32(clusters.count)
        clusters.append(cluster)
        ids[cluster.id] = index
        aliases[cluster.id] = nil
        liveCount += 1
        if cluster.isOverflow {
            overflow[cluster.leaf.tokenCount] = index
        } else {
            leaves[cluster.leaf, default: []].append(index)
        }
        return index
    }

    private mutating func unlink(_ index: Int32) {
        let cluster = clusters[Int(index)]
        if cluster.isOverflow {
            overflow[cluster.leaf.tokenCount] = nil
        } else {
            leaves[cluster.leaf]?.removeAll { $0 == index }
        }
        if ids[cluster.id] == index { ids[cluster.id] = nil }
        liveCount -= 1
    }

    /// Moves a cluster to the leaf of its (possibly generalized) first token.
    private mutating func relocate(_ index: Int32) {
        let cluster = clusters[Int(index)]
        guard !cluster.isOverflow else { return }
        let leaf = leafKey(tokenCount: cluster.tokens.count, first: cluster.tokens.first)
        guard leaf != cluster.leaf else { return }
        leaves[cluster.leaf]?.removeAll { $0 == index }
        leaves[leaf, default: []].append(index)
        clusters[Int(index)].leaf = leaf
    }

    /// The id of a template text: FNV-1a of the text (overflow templates hash a marked text, so
    /// they never share an id with a mined template of the same shape). On the rare 64-bit
    /// collision with a live template of another text, the hash is chained.
    func textID(_ text: String, overflow: Bool) -> TemplateID {
        let bytes = Array(((overflow ? "overflow " : "") + text).utf8)
        var id = TemplateID(rawValue: fnv1a64(bytes))
        while let owner = ids[id], clusters[Int(owner)].text != text || clusters[Int(owner)].isOverflow != overflow {
            id = TemplateID(rawValue: fnv1a64(bytes, seed: id.rawValue))
        }
        return id
    }

    func render(_ template: [Int32]) -> String {
        var bytes: [UInt8] = []
        for (position, symbol) in template.enumerated() {
            if position > 0 { bytes.append(0x20) }
            bytes.append(contentsOf: symbols.bytes[Int(symbol)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Restores a saved template. Version 2 files carry text-derived ids; a version 1 id (a
    /// hash of the first message) becomes an alias of the text-derived id. Two saved
    /// templates with the same text become one.
    mutating func restore(id: TemplateID, tokens: [String], count: Int, overflow: Bool, legacy: Bool) {
        let symbols = tokens.map { self.symbols.intern(Array($0.utf8)) }
        let text = render(symbols)
        let newID = legacy ? textID(text, overflow: overflow) : id
        if legacy, newID != id { aliases[id] = newID }
        if let owner = ids[newID] {
            clusters[Int(owner)].count += count
            return
        }
        let leaf = overflow
            ? LeafKey(tokenCount: Int32(symbols.count), first: SymbolTable.wildcard)
            : leafKey(tokenCount: symbols.count, first: symbols.first)
        if overflow, let existing = self.overflow[Int32(symbols.count)] {
            clusters[Int(existing)].count += count
            if legacy { aliases[id] = clusters[Int(existing)].id }
            return
        }
        _ = insert(Cluster(id: newID, tokens: symbols, text: text, count: count, leaf: leaf, isOverflow: overflow))
    }
}
