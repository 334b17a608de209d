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
}

/// Everything a miner learns; guarded by the miner's lock.
struct MinerState: Sendable {
    let configuration: TemplateMiner.Configuration
    var symbols = SymbolTable()
    var clusters: [Cluster] = []
    var leaves: [LeafKey: [Int32]] = [:]
    var ids: Set<TemplateID> = []
    var overflow: [Int32: Int32] = [:]
    /// Masked message -> cluster. Only an accelerator: a cluster never stops covering a message
    /// it accepted (templates only generalize), so a hit is what the search would confirm.
    var cache: [ByteKey: Int32] = [:]

    init(configuration: TemplateMiner.Configuration) {
        self.configuration = configuration
        cache.reserveCapacity(min(configuration.cacheCapacity, 1 << 16))
    }

    // MARK: adding and matching

    mutating func add(_ message: MaskedMessage) -> TemplateMatch {
        let key = ByteKey(message.bytes)
        if let hit = cache[key] {
            clusters[Int(hit)].count += 1
            return match(of: hit)
        }
        let tokens = tokenRanges(message)
        let symbols = tokens.map { self.symbols.lookup(Array(message.bytes[$0])) ?? -1 }
        let index: Int32
        if let (best, score) = bestCluster(message, tokens, symbols), score >= configuration.similarityThreshold {
            index = best
            absorb(message, tokens, symbols, into: best)
        } else if clusters.count - overflow.count < configuration.maxTemplates {
            index = create(message, tokens)
        } else {
            index = overflowCluster(tokenCount: Int32(tokens.count))
        }
        clusters[Int(index)].count += 1
        if cache.count >= configuration.cacheCapacity { cache.removeAll(keepingCapacity: true) }
        if configuration.cacheCapacity > 0 { cache[key] = index }
        return match(of: index)
    }

    func match(_ message: MaskedMessage) -> TemplateMatch? {
        if let hit = cache[ByteKey(message.bytes)] { return match(of: hit) }
        let tokens = tokenRanges(message)
        let symbols = tokens.map { self.symbols.lookup(Array(message.bytes[$0])) ?? -1 }
        guard let (best, score) = bestCluster(message, tokens, symbols), score >= configuration.similarityThreshold
        else { return nil }
        return match(of: best)
    }

    func match(of index: Int32) -> TemplateMatch {
        let cluster = clusters[Int(index)]
        return TemplateMatch(id: cluster.id, text: cluster.text)
    }

    var summaries: [TemplateSummary] {
        clusters.map { TemplateSummary(id: $0.id, text: $0.text, count: $0.count) }
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

    /// The leaf a token sequence belongs to: a first token holding a variable does not split.
    private func leafKey(tokenCount: Int, first: Int32?) -> LeafKey {
        guard let first, first >= 0, first != SymbolTable.wildcard, !symbols.isPattern[Int(first)] else {
            return LeafKey(tokenCount: Int32(tokenCount), first: SymbolTable.wildcard)
        }
        return LeafKey(tokenCount: Int32(tokenCount), first: first)
    }

    private func bestCluster(
        _ message: MaskedMessage, _ tokens: [Range<Int>], _ symbols: [Int32]
    ) -> (Int32, Double)? {
        let key = leafKey(tokenCount: tokens.count, first: symbols.first)
        // Candidates that differ from the message in a word are other events ("VM Started" is
        // not "VM Paused"), unless so many such variants pile up that the word is a value.
        var best: (index: Int32, score: Double, wildcards: Int)?
        var bestVariant: (index: Int32, score: Double, wildcards: Int)?
        var variants = 0
        func better(_ a: (index: Int32, score: Double, wildcards: Int), than b: (index: Int32, score: Double, wildcards: Int)?) -> Bool {
            guard let b else { return true }
            return a.score > b.score || (a.score == b.score && a.wildcards > b.wildcards)
        }
        func consider(_ leaf: LeafKey) {
            for candidate in leaves[leaf] ?? [] {
                let result = similarity(message, tokens, symbols, clusters[Int(candidate)].tokens)
                let entry = (candidate, result.score, result.wildcards)
                if result.wordConflict {
                    if result.score >= configuration.similarityThreshold { variants += 1 }
                    if better(entry, than: bestVariant) { bestVariant = entry }
                } else if better(entry, than: best) {
                    best = entry
                }
            }
        }
        consider(key)
        if key.first != SymbolTable.wildcard, (best?.score ?? 0) < configuration.similarityThreshold {
            consider(LeafKey(tokenCount: key.tokenCount, first: SymbolTable.wildcard))
        }
        if (best?.score ?? 0) < configuration.similarityThreshold, variants >= configuration.maxWordVariants,
            let bestVariant
        {
            return (bestVariant.index, bestVariant.score)
        }
        return best.map { ($0.index, $0.score) }
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
            } else if self.symbols.isWord[Int(symbol)],
                symbols[position] >= 0 ? self.symbols.isWord[Int(symbols[position])] : isWordToken(message.bytes[tokens[position]])
            {
                wordConflict = true
            }
        }
        return (Double(matched) / Double(tokens.count), wildcards, wordConflict)
    }

    // MARK: learning

    private mutating func absorb(_ message: MaskedMessage, _ tokens: [Range<Int>], _ symbols: [Int32], into index: Int32) {
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
        if changed {
            clusters[Int(index)].tokens = template
            clusters[Int(index)].text = render(template)
        }
    }

    private mutating func create(_ message: MaskedMessage, _ tokens: [Range<Int>]) -> Int32 {
        let template = tokens.map { symbols.intern(Array(message.bytes[$0])) }
        let leaf = leafKey(tokenCount: template.count, first: template.first)
        return insert(
            Cluster(
                id: uniqueID(for: message.bytes), tokens: template, text: String(decoding: message.bytes, as: UTF8.self),
                count: 0, leaf: leaf, isOverflow: false))
    }

    private mutating func overflowCluster(tokenCount: Int32) -> Int32 {
        if let existing = overflow[tokenCount] { return existing }
        let template = [Int32](repeating: SymbolTable.wildcard, count: Int(tokenCount))
        let text = render(template)
        let index = insert(
            Cluster(
                id: uniqueID(for: Array(("overflow " + text).utf8)), tokens: template, text: text, count: 0,
                leaf: LeafKey(tokenCount: tokenCount, first: SymbolTable.wildcard), isOverflow: true))
        return index
    }

    /// Adds a cluster to the index; used by learning and by loading a saved state.
    mutating func insert(_ cluster: Cluster) -> Int32 {
        let index = Int32(clusters.count)
        clusters.append(cluster)
        ids.insert(cluster.id)
        if cluster.isOverflow {
            overflow[cluster.leaf.tokenCount] = index
        } else {
            leaves[cluster.leaf, default: []].append(index)
        }
        return index
    }

    private func uniqueID(for text: [UInt8]) -> TemplateID {
        var id = TemplateID(rawValue: fnv1a64(text))
        while ids.contains(id) { id = TemplateID(rawValue: fnv1a64(text, seed: id.rawValue)) }
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

    /// The leaf for a template restored from disk, its first token interned.
    mutating func restoredLeaf(tokenCount: Int, firstToken: String?) -> LeafKey {
        guard let firstToken else { return LeafKey(tokenCount: Int32(tokenCount), first: SymbolTable.wildcard) }
        let symbol = symbols.intern(Array(firstToken.utf8))
        return leafKey(tokenCount: tokenCount, first: symbol)
    }
}
