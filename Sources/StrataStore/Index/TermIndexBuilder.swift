#if canImport(Glibc)
import Glibc
#endif

/// Accumulates the block-granular inverted index while a segment is written.
///
/// Two levels, to keep the per-token work in cache:
/// - a `BlockTermTable` interns every term occurrence of the current block (a block has some
///   thousands of distinct terms, so the table stays in L1/L2), remembers the last row that
///   counted each term (a row counts a term once) and how many rows contain it;
/// - `TermIndexBuilder.endBlock` looks each distinct term of the block up once in the segment
///   table (millions of terms for logs full of ids) and records `(term, rows)` pairs.
/// `sortedTermIDs` and `groupedPostings` then give the dictionary order and posting lists.
///
/// Memory is managed by hand (plain pointers in structs, freed by the owner) so the hot paths
/// have no reference counting, exclusivity or uniqueness checks.

// MARK: - Hashing helpers

enum TermHash {
    @inline(__always)
    static func load64(_ p: UnsafeRawPointer) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
    }

    /// The first 8 bytes of a term, zero-padded (little-endian).
    @inline(__always)
    static func prefix(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
        if n >= 8 { return load64(p) }
        var v: UInt64 = 0
        var i = 0
        if n >= 4 {
            v = UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            i = 4
        }
        while i < n {
            v |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << UInt64(8 * i)
            i += 1
        }
        return v
    }

    @inline(__always)
    static func hash(_ p: UnsafeRawPointer, _ n: Int, prefix: UInt64) -> UInt64 {
        var h: UInt64 = (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15) ^ prefix
        h = h &* 0xBF58_476D_1CE4_E5B9
        if n > 8 {
            var i = 8
            while i + 8 <= n {
                h = (h ^ (h >> 29) ^ load64(p + i)) &* 0x94D0_49BB_1331_11EB
                i += 8
            }
            if i < n { h = (h ^ (h >> 29) ^ load64(p + (n - 8))) &* 0x94D0_49BB_1331_11EB }
        }
        h ^= h >> 31
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return h
    }

    /// Bytes 8..<n of two terms of length n (> 8) are equal.
    @inline(__always)
    static func tailEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        var i = 8
        while i + 8 <= n {
            if load64(a + i) != load64(b + i) { return false }
            i += 8
        }
        if i < n { return load64(a + (n - 8)) == load64(b + (n - 8)) }
        return true
    }
}

/// A growable buffer of trivial values in manually managed memory.
struct RawBuffer<T> {
    private(set) var base: UnsafeMutablePointer<T>
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    func free() { base.deallocate() }

    /// Grows to at least `needed`, keeping the first `count` values.
    @inline(never)
    mutating func grow(to needed: Int, keeping count: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        let bigger = UnsafeMutablePointer<T>.allocate(capacity: c)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = c
    }
}

// MARK: - Block table

/// The terms of one block with their row counts. A value type over raw memory: keep it in a
/// local variable on hot paths and call `free()` once at the end.
struct BlockTermTable {
    /// Slot: prefix (first 8 bytes, zero-padded) and meta = hash tag (16 bits) << 48 |
    /// length (16 bits) << 32 | local index + 1 (32 bits); meta 0 = empty.
    private var slots: RawBuffer<(prefix: UInt64, meta: UInt64)>
    private var mask: Int
    private var usedSlots: RawBuffer<Int32>
    private(set) var hashes: RawBuffer<UInt64>
    private(set) var starts: RawBuffer<UInt32>
    private(set) var lengths: RawBuffer<UInt32>
    private var lastRows: RawBuffer<UInt32>
    private(set) var rows: RawBuffer<UInt32>
    private(set) var count = 0
    private(set) var arena: RawBuffer<UInt8>
    private var arenaCount = 0
    private var row: UInt32 = 0
    let maxTermLength: Int
    /// Lowercased copy of the text being tokenized.
    private var scratch: RawBuffer<UInt8>

    init(maxTermLength: Int) {
        precondition(maxTermLength < 1 << 16)
        self.maxTermLength = maxTermLength
        let slotCount = 1 << 15
        slots = RawBuffer(capacity: slotCount)
        slots.base.initialize(repeating: (0, 0), count: slotCount)
        mask = slotCount - 1
        let capacity = 1 << 14
        usedSlots = RawBuffer(capacity: capacity)
        hashes = RawBuffer(capacity: capacity)
        starts = RawBuffer(capacity: capacity)
        lengths = RawBuffer(capacity: capacity)
        lastRows = RawBuffer(capacity: capacity)
        rows = RawBuffer(capacity: capacity)
        arena = RawBuffer(capacity: 1 << 18)
        scratch = RawBuffer(capacity: 1 << 16)
    }

    func free() {
        slots.free()
        usedSlots.free()
        hashes.free()
        starts.free()
        lengths.free()
        lastRows.free()
        rows.free()
        arena.free()
        scratch.free()
    }

    /// Starts the next row; terms counted until the next call count once for it.
    @inline(__always)
    mutating func beginRow() { row &+= 1 }

    /// Counts the term `local` for the current row (once per row).
    @inline(__always)
    mutating func count(local: Int) {
        if lastRows.base[local] != row {
            lastRows.base[local] = row
            rows.base[local] += 1
        }
    }

    /// Counts a term for the current row; ignores empty and over-long terms.
    @inline(__always)
    mutating func add(_ p: UnsafeRawPointer, _ n: Int) {
        if let local = intern(p, n) { count(local: local) }
    }

    /// Tokenizes UTF-8 text (see `Tokenizer`) and counts every token for the current row,
    /// except a token equal to the row's own trace id (32 lowercase hex bytes at `trace`) or span
    /// id (16 at `span`): those are indexed as `trace_id=`/`span_id=` terms already, and a query
    /// for such a word looks there too.
    @inline(__always)
    mutating func addTokens(of text: UnsafeRawBufferPointer, skippingTrace trace: UnsafeRawPointer? = nil, span: UnsafeRawPointer? = nil) {
        let n = text.count
        guard n > 0, let source = text.baseAddress else { return }
        if n > scratch.capacity { scratch.grow(to: n, keeping: 0) }
        let lc = scratch.base
        Tokenizer.lowercase(source.assumingMemoryBound(to: UInt8.self), into: lc, count: n)
        Tokenizer.classes.withUnsafeBufferPointer { table in
            Tokenizer.scanTokens(UnsafePointer(lc), n, table.baseAddress!) { start, end in
                let length = end - start
                if length == 32, let trace, memcmp(lc + start, trace, 32) == 0 { return }
                if length == 16, let span, memcmp(lc + start, span, 16) == 0 { return }
                add(UnsafeRawPointer(lc + start), length)
            }
        }
    }

    /// The local index of a term, adding it if new; nil when empty or too long. Valid until `reset()`.
    @inline(__always)
    mutating func intern(_ p: UnsafeRawPointer, _ n: Int) -> Int? {
        guard n > 0 && n <= maxTermLength else { return nil }
        let prefix = TermHash.prefix(p, n)
        let h = TermHash.hash(p, n, prefix: prefix)
        let key = (h >> 48) << 48 | UInt64(n) << 32
        var i = Int(truncatingIfNeeded: h) & mask
        let slotBase = slots.base
        while true {
            let slot = slotBase[i]
            if slot.meta == 0 { break }
            if slot.meta & 0xFFFF_FFFF_0000_0000 == key && slot.prefix == prefix {
                let local = Int(truncatingIfNeeded: slot.meta & 0xFFFF_FFFF) - 1
                if n <= 8 || TermHash.tailEqual(arena.base + Int(starts.base[local]), p, n) { return local }
            }
            i = (i + 1) & mask
        }
        return insert(p, n, h, prefix, key, slot: i)
    }

    private mutating func insert(_ p: UnsafeRawPointer, _ n: Int, _ h: UInt64, _ prefix: UInt64, _ key: UInt64, slot i: Int) -> Int {
        if count == hashes.capacity {
            let needed = count + 1
            usedSlots.grow(to: needed, keeping: count)
            hashes.grow(to: needed, keeping: count)
            starts.grow(to: needed, keeping: count)
            lengths.grow(to: needed, keeping: count)
            lastRows.grow(to: needed, keeping: count)
            rows.grow(to: needed, keeping: count)
        }
        if arenaCount + n > arena.capacity {
            arena.grow(to: arenaCount + n, keeping: arenaCount)
            precondition(arena.capacity <= Int(UInt32.max), "block term arena exceeds 4 GiB")
        }
        let local = count
        (arena.base + arenaCount).update(from: p.assumingMemoryBound(to: UInt8.self), count: n)
        hashes.base[local] = h
        starts.base[local] = UInt32(arenaCount)
        lengths.base[local] = UInt32(n)
        lastRows.base[local] = 0
        rows.base[local] = 0
        arenaCount += n
        count += 1
        slots.base[i] = (prefix, key | UInt64(local + 1))
        usedSlots.base[local] = Int32(i)
        if count * 2 > mask + 1 { growSlots() }
        return local
    }

    private mutating func growSlots() {
        let slotCount = (mask + 1) * 2
        slots.free()
        slots = RawBuffer(capacity: slotCount)
        slots.base.initialize(repeating: (0, 0), count: slotCount)
        mask = slotCount - 1
        for local in 0..<count {
            let h = hashes.base[local]
            let n = Int(lengths.base[local])
            var i = Int(truncatingIfNeeded: h) & mask
            while slots.base[i].meta != 0 { i = (i + 1) & mask }
            let p = UnsafeRawPointer(arena.base + Int(starts.base[local]))
            slots.base[i] = (TermHash.prefix(p, n), (h >> 48) << 48 | UInt64(n) << 32 | UInt64(local + 1))
            usedSlots.base[local] = Int32(i)
        }
    }

    /// Bytes of local term `local`.
    @inline(__always)
    func term(_ local: Int) -> UnsafeRawPointer { UnsafeRawPointer(arena.base + Int(starts.base[local])) }

    /// Empties the table for the next block.
    mutating func reset() {
        for local in 0..<count { slots.base[Int(usedSlots.base[local])] = (0, 0) }
        count = 0
        arenaCount = 0
    }
}

// MARK: - Segment table

final class TermIndexBuilder {
    let maxTermLength: Int
    /// The current block's terms. Take it out (`block`) for a block's hot loop and put it back.
    var block: BlockTermTable

    /// Slot: prefix and meta = tag (16 bits) << 48 | length (16 bits) << 32 | id + 1.
    private var slots: RawBuffer<(prefix: UInt64, meta: UInt64)>
    private var slotMask: Int
    private var arena: RawBuffer<UInt8>
    private var arenaCount = 0
    private var termStart: RawBuffer<UInt32>
    private var termLength: RawBuffer<UInt32>
    private(set) var termCount = 0

    /// (term << 32 | rows) pairs of finished blocks, in block order.
    private var pairs: RawBuffer<UInt64>
    private(set) var pairCount = 0
    private(set) var blockPairEnds: [Int] = []

    init(maxTermLength: Int, expectedTerms: Int = 1 << 14) {
        self.maxTermLength = maxTermLength
        block = BlockTermTable(maxTermLength: maxTermLength)
        let capacity = max(1 << 12, expectedTerms)
        termStart = RawBuffer(capacity: capacity)
        termLength = RawBuffer(capacity: capacity)
        var slotCount = 1 << 13
        while slotCount < capacity * 2 { slotCount <<= 1 }
        slots = RawBuffer(capacity: slotCount)
        slots.base.initialize(repeating: (0, 0), count: slotCount)
        slotMask = slotCount - 1
        arena = RawBuffer(capacity: 1 << 20)
        pairs = RawBuffer(capacity: 1 << 16)
    }

    deinit {
        block.free()
        slots.free()
        arena.free()
        termStart.free()
        termLength.free()
        pairs.free()
    }

    /// Closes the current block: each distinct term with rows is resolved in the segment table
    /// and becomes a `(term, rows)` pair.
    func endBlock() {
        var table = block
        let n = table.count
        if pairCount + n > pairs.capacity { pairs.grow(to: pairCount + n, keeping: pairCount) }
        // Touch the home slots of a batch before probing it, so the cache misses overlap
        // instead of queueing behind each other.
        let batch = 32
        var sink: UInt64 = 0
        var first = 0
        while first < n {
            let last = min(first + batch, n)
            for local in first..<last {
                let mixed = table.hashes.base[local] &* 0x9E37_79B9_7F4A_7C15
                sink ^= slots.base[Int(truncatingIfNeeded: mixed >> 20) & slotMask].meta
            }
            for local in first..<last where table.rows.base[local] > 0 {
                let id = internSegment(table.term(local), Int(table.lengths.base[local]), table.hashes.base[local])
                pairs.base[pairCount] = UInt64(id) << 32 | UInt64(table.rows.base[local])
                pairCount += 1
            }
            first = last
        }
        if sink == 1 { touchSink &+= 1 }  // keeps the touching loads alive
        table.reset()
        block = table
        blockPairEnds.append(pairCount)
    }

    private var touchSink = 0

    @inline(__always)
    private func internSegment(_ p: UnsafeRawPointer, _ n: Int, _ h: UInt64) -> UInt32 {
        let prefix = TermHash.prefix(p, n)
        let mixed = h &* 0x9E37_79B9_7F4A_7C15
        let key = (mixed >> 48) << 48 | UInt64(n) << 32
        var i = Int(truncatingIfNeeded: mixed >> 20) & slotMask
        let slotBase = slots.base
        while true {
            let slot = slotBase[i]
            if slot.meta == 0 { break }
            if slot.meta & 0xFFFF_FFFF_0000_0000 == key && slot.prefix == prefix {
                let id = Int(truncatingIfNeeded: slot.meta & 0xFFFF_FFFF) - 1
                if n <= 8 || TermHash.tailEqual(arena.base + Int(termStart.base[id]), p, n) { return UInt32(id) }
            }
            i = (i + 1) & slotMask
        }
        if arenaCount + n > arena.capacity {
            arena.grow(to: arenaCount + n, keeping: arenaCount)
            precondition(arena.capacity <= Int(UInt32.max), "term arena exceeds 4 GiB")
        }
        if termCount == termStart.capacity {
            termStart.grow(to: termCount + 1, keeping: termCount)
            termLength.grow(to: termCount + 1, keeping: termCount)
        }
        let id = termCount
        (arena.base + arenaCount).update(from: p.assumingMemoryBound(to: UInt8.self), count: n)
        termStart.base[id] = UInt32(arenaCount)
        termLength.base[id] = UInt32(n)
        arenaCount += n
        termCount += 1
        slots.base[i] = (prefix, key | UInt64(id + 1))
        if termCount * 2 > slotMask + 1 { growSlots() }
        return UInt32(id)
    }

    private func growSlots() {
        let count = (slotMask + 1) * 2
        slots.free()
        slots = RawBuffer(capacity: count)
        slots.base.initialize(repeating: (0, 0), count: count)
        slotMask = count - 1
        for id in 0..<termCount {
            let p = UnsafeRawPointer(arena.base + Int(termStart.base[id]))
            let n = Int(termLength.base[id])
            let prefix = TermHash.prefix(p, n)
            let mixed = TermHash.hash(p, n, prefix: prefix) &* 0x9E37_79B9_7F4A_7C15
            var i = Int(truncatingIfNeeded: mixed >> 20) & slotMask
            while slots.base[i].meta != 0 { i = (i + 1) & slotMask }
            slots.base[i] = (prefix, (mixed >> 48) << 48 | UInt64(n) << 32 | UInt64(id + 1))
        }
    }

    // MARK: Finishing

    /// Bytes of segment term `id`.
    @inline(__always)
    func termBytes(_ id: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: arena.base + Int(termStart.base[id]), count: Int(termLength.base[id]))
    }

    /// Segment term ids in byte order: an LSD radix sort on the first 8 bytes (big-endian),
    /// then a comparison sort of each run of equal prefixes on the remaining bytes.
    func sortedTermIDs() -> [UInt32] {
        let n = termCount
        var keys = [UInt64](repeating: 0, count: n)
        var ids = [UInt32](repeating: 0, count: n)
        for id in 0..<n {
            keys[id] = UInt64(bigEndian: TermHash.prefix(arena.base + Int(termStart.base[id]), Int(termLength.base[id])))
            ids[id] = UInt32(id)
        }
        var keys2 = [UInt64](repeating: 0, count: n)
        var ids2 = [UInt32](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 1 << 16)
        for pass in 0..<4 {
            let shift = UInt64(16 * pass)
            // Skip a pass whose digit is the same for every key.
            let firstDigit = n > 0 ? Int((keys[0] >> shift) & 0xFFFF) : 0
            var uniform = true
            for k in keys where Int((k >> shift) & 0xFFFF) != firstDigit {
                uniform = false
                break
            }
            if uniform { continue }
            for i in 0..<counts.count { counts[i] = 0 }
            for k in keys { counts[Int((k >> shift) & 0xFFFF)] += 1 }
            var sum = 0
            for i in 0..<counts.count {
                let c = counts[i]
                counts[i] = sum
                sum += c
            }
            for j in 0..<n {
                let digit = Int((keys[j] >> shift) & 0xFFFF)
                let slot = counts[digit]
                counts[digit] = slot + 1
                keys2[slot] = keys[j]
                ids2[slot] = ids[j]
            }
            swap(&keys, &keys2)
            swap(&ids, &ids2)
        }
        // Equal prefixes: order by the rest (shorter first when one is a prefix of the other).
        let arena = self.arena.base
        let termStart = self.termStart.base
        let termLength = self.termLength.base
        var i = 0
        while i < n {
            var j = i + 1
            while j < n && keys[j] == keys[i] { j += 1 }
            if j - i > 1 {
                ids[i..<j].sort { a, b in
                    let la = Int(termLength[Int(a)])
                    let lb = Int(termLength[Int(b)])
                    if la <= 8 || lb <= 8 { return la < lb }
                    return Self.less(arena + Int(termStart[Int(a)]) + 8, la - 8, arena + Int(termStart[Int(b)]) + 8, lb - 8)
                }
            }
            i = j
        }
        return ids
    }

    @inline(__always)
    static func less(_ a: UnsafePointer<UInt8>, _ na: Int, _ b: UnsafePointer<UInt8>, _ nb: Int) -> Bool {
        let n = min(na, nb)
        var i = 0
        while i + 8 <= n {
            let x = UInt64(bigEndian: UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self))
            let y = UInt64(bigEndian: UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self))
            if x != y { return x < y }
            i += 8
        }
        while i < n {
            if a[i] != b[i] { return a[i] < b[i] }
            i += 1
        }
        return na < nb
    }

    /// The posting lists in the order of `sortedIDs` (call once: it reuses the pair storage): for the k-th term of that order,
    /// `postings[starts[k] ..< starts[k+1]]`, each `block << 32 | rows`, in block order.
    func groupedPostings(sortedIDs: [UInt32]) -> (starts: [Int], postings: [UInt64]) {
        var rank = [UInt32](repeating: 0, count: termCount)
        for (k, id) in sortedIDs.enumerated() { rank[Int(id)] = UInt32(k) }
        var starts = [Int](repeating: 0, count: termCount + 1)
        let pairs = self.pairs.base
        for k in 0..<pairCount {
            let r = Int(rank[Int(pairs[k] >> 32)])
            // Store the rank in place of the term id for the second pass.
            pairs[k] = UInt64(r) << 32 | (pairs[k] & 0xFFFF_FFFF)
            starts[r + 1] += 1
        }
        for t in 0..<termCount { starts[t + 1] += starts[t] }
        var next = starts
        var postings = [UInt64](repeating: 0, count: pairCount)
        var k = 0
        for (b, end) in blockPairEnds.enumerated() {
            while k < end {
                let r = Int(pairs[k] >> 32)
                let slot = next[r]
                postings[slot] = UInt64(b) << 32 | (pairs[k] & 0xFFFF_FFFF)
                next[r] = slot + 1
                k += 1
            }
        }
        return (starts, postings)
    }
}
