/// The in-memory sparse index over the term dictionary blocks: the first term of each block
/// (for binary search) and where the block is stored. Loaded when a segment is opened.
struct TermDictionaryIndex: Sendable {
    struct BlockRef: Sendable {
        var offset: Int
        var storedLength: Int
        var rawLength: Int
        var crc: UInt32
        var termCount: Int
    }

    let blocks: [BlockRef]
    /// First terms back to back; block `i`'s first term is `firstTerms[firstTermStarts[i] ..< firstTermStarts[i+1]]`.
    let firstTerms: [UInt8]
    let firstTermStarts: [Int]

    static let empty = TermDictionaryIndex(blocks: [], firstTerms: [], firstTermStarts: [0])

    /// Parses the sparse index payload; dictionary blocks lie back to back from `dictionaryOffset`.
    init(payload: [UInt8], dictionaryOffset: Int, dictionaryLength: Int, expectedBlocks: Int, expectedTerms: Int) throws {
        var c = ByteCursor(payload)
        let count = try c.count(limit: c.remaining, "dictionary block count")
        guard count == expectedBlocks else {
            throw FormatError("lists \(count) dictionary blocks, the footer says \(expectedBlocks)")
        }
        var blocks: [BlockRef] = []
        blocks.reserveCapacity(count)
        var firstTerms: [UInt8] = []
        var starts: [Int] = [0]
        starts.reserveCapacity(count + 1)
        var offset = dictionaryOffset
        var previous: [UInt8] = []
        var totalTerms = 0
        for i in 0..<count {
            let termCount = try c.count(limit: Int(UInt32.max), "term count")
            guard termCount >= 1 else { throw FormatError("has an empty dictionary block \(i)") }
            let stored = try c.count(limit: dictionaryOffset + dictionaryLength - offset, "dictionary block length")
            let raw = try c.count(limit: Int(Int32.max), "dictionary block size")
            let crc = try c.uint32()
            let shared = try c.count(limit: previous.count, "shared prefix length")
            let suffix = try c.lengthPrefixed()
            previous.removeLast(previous.count - shared)
            previous.append(contentsOf: payload[suffix])
            firstTerms.append(contentsOf: previous)
            starts.append(firstTerms.count)
            blocks.append(BlockRef(offset: offset, storedLength: stored, rawLength: raw, crc: crc, termCount: termCount))
            offset += stored
            totalTerms += termCount
        }
        try c.expectEnd("the dictionary blocks")
        guard offset == dictionaryOffset + dictionaryLength else {
            throw FormatError("covers \(offset - dictionaryOffset) bytes of the \(dictionaryLength)-byte term dictionary")
        }
        guard totalTerms == expectedTerms else {
            throw FormatError("counts \(totalTerms) terms, the footer says \(expectedTerms)")
        }
        self.blocks = blocks
        self.firstTerms = firstTerms
        self.firstTermStarts = starts
        if count > 1 {
            for i in 1..<count where compare(i - 1, with: firstTerms, starts[i]..<starts[i + 1]) >= 0 {
                throw FormatError("has first terms out of order at dictionary block \(i)")
            }
        }
    }

    private init(blocks: [BlockRef], firstTerms: [UInt8], firstTermStarts: [Int]) {
        self.blocks = blocks
        self.firstTerms = firstTerms
        self.firstTermStarts = firstTermStarts
    }

    /// Compares block `i`'s first term with `other[range]` (negative: first term is smaller).
    private func compare(_ i: Int, with other: [UInt8], _ range: Range<Int>) -> Int {
        firstTerms.withUnsafeBytes { mine in
            other.withUnsafeBytes { theirs in
                compareTermBytes(
                    UnsafeRawBufferPointer(rebasing: mine[firstTermStarts[i]..<firstTermStarts[i + 1]]),
                    UnsafeRawBufferPointer(rebasing: theirs[range]))
            }
        }
    }

    /// The last block whose first term is ≤ `term`, or nil if `term` sorts before every block.
    func block(for term: UnsafeRawBufferPointer) -> Int? {
        var lo = 0
        var hi = blocks.count  // invariant: blocks < lo have first ≤ term; blocks ≥ hi have first > term
        firstTerms.withUnsafeBytes { all in
            while lo < hi {
                let mid = (lo + hi) / 2
                let first = UnsafeRawBufferPointer(rebasing: all[firstTermStarts[mid]..<firstTermStarts[mid + 1]])
                if compareTermBytes(first, term) <= 0 { lo = mid + 1 } else { hi = mid }
            }
        }
        return lo == 0 ? nil : lo - 1
    }
}

/// Lexicographic byte comparison: negative, zero or positive.
@inline(__always)
func compareTermBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    var i = 0
    while i < n {
        if a[i] != b[i] { return Int(a[i]) - Int(b[i]) }
        i += 1
    }
    return a.count - b.count
}

/// Walks the entries of one decoded dictionary block:
/// `varint n`, then n × (`varint shared`, `varint suffix length`, suffix, `varint postings`,
/// postings × (`varint block delta`, `varint rows`)).
struct DictionaryBlockCursor {
    private var cursor: ByteCursor
    let termCount: Int
    private(set) var index = 0
    /// The current term (valid after `next()` returned true).
    private(set) var term: [UInt8] = []
    private var postingsRange: Range<Int> = 0..<0
    private var postingCount = 0

    init(_ bytes: [UInt8], expectedTerms: Int) throws {
        cursor = ByteCursor(bytes)
        termCount = try cursor.count(limit: bytes.count, "term count")
        guard termCount == expectedTerms else {
            throw FormatError("holds \(termCount) terms, the sparse index says \(expectedTerms)")
        }
    }

    /// Advances to the next term; false at the end. Skips the postings of the previous term.
    mutating func next() throws -> Bool {
        guard index < termCount else {
            try cursor.expectEnd("the last term")
            return false
        }
        let shared = try cursor.count(limit: term.count, "shared prefix length")
        let suffix = try cursor.lengthPrefixed()
        if index > 0 {
            // Strictly increasing: the new term continues the previous one (shared == its
            // length, non-empty suffix) or differs at `shared` with a larger byte.
            guard !suffix.isEmpty && (shared == term.count || cursor.bytes[suffix.lowerBound] > term[shared]) else {
                throw FormatError("has terms out of order at entry \(index)")
            }
            term.removeLast(term.count - shared)
        } else if shared != 0 {
            throw FormatError("shares a prefix before its first term")
        }
        term.append(contentsOf: cursor.bytes[suffix])
        postingCount = try cursor.count(limit: cursor.remaining / 2, "posting count")
        let start = cursor.position
        for _ in 0..<postingCount {
            _ = try cursor.varint()
            _ = try cursor.varint()
        }
        postingsRange = start..<cursor.position
        index += 1
        return true
    }

    /// Decodes the current term's postings, checking them against the block metadata.
    func postings(blockRows: [Int]) throws -> [Posting] {
        var c = ByteCursor(cursor.bytes, from: postingsRange.lowerBound, to: postingsRange.upperBound)
        var result: [Posting] = []
        result.reserveCapacity(postingCount)
        var block = -1
        for k in 0..<postingCount {
            let delta = try c.varint()
            guard delta < UInt64(blockRows.count) else { throw FormatError("has a posting beyond the last block") }
            block = k == 0 ? Int(delta) : block + 1 + Int(delta)
            let rows = try c.varint()
            guard block < blockRows.count else { throw FormatError("has a posting for block \(block) of \(blockRows.count)") }
            guard rows >= 1, rows <= UInt64(blockRows[block]) else {
                throw FormatError("claims \(rows) rows of block \(block), which holds \(blockRows[block])")
            }
            result.append(Posting(block: block, rows: Int(rows)))
        }
        return result
    }

    /// Sum of rows over the current term's postings (no allocation).
    func rowCount(blockRows: [Int]) throws -> Int {
        try postings(blockRows: blockRows).reduce(0) { $0 + $1.rows }
    }
}
