import StrataCore

/// Serializes a segment's terms and postings (docs/FORMAT.md, "Term dictionary"): front-coded
/// dictionary blocks, each compressed on its own, and the sparse index of their first terms
/// that the reader searches first.
struct TermDictionaryWriter {
    let termsPerBlock: Int
    let blockBytes: Int

    struct Written {
        /// The sparse index section's payload (not yet written).
        var sparseIndex: [UInt8]
        var blockCount: Int
        var termCount: Int
    }

    /// Writes the dictionary blocks of `index` through `chunks`.
    func write(_ index: TermIndexBuilder, to chunks: SegmentChunkWriter) throws -> Written {
        let ids = index.sortedTermIDs()
        let (starts, postings) = index.groupedPostings(sortedIDs: ids)
        var sparse = [UInt8]()
        var blockCount = 0
        var previousFirst = UnsafeRawBufferPointer(start: nil, count: 0)
        var raw = [UInt8]()
        raw.reserveCapacity(blockBytes + 4096)
        var entries = [UInt8]()
        entries.reserveCapacity(blockBytes + 4096)
        var groupStart = 0
        while groupStart < ids.count {
            entries.removeAll(keepingCapacity: true)
            var previous = UnsafeRawBufferPointer(start: nil, count: 0)
            var g = groupStart
            while g < ids.count && g - groupStart < termsPerBlock && entries.count < blockBytes {
                let term = index.termBytes(Int(ids[g]))
                appendFrontCoded(term, after: previous, to: &entries)
                appendPostings(postings[starts[g]..<starts[g + 1]], to: &entries)
                previous = term
                g += 1
            }
            let groupEnd = g
            raw.removeAll(keepingCapacity: true)
            raw.appendVarint(groupEnd - groupStart)
            raw.append(contentsOf: entries)
            let chunk = try chunks.write(raw)
            let firstTerm = index.termBytes(Int(ids[groupStart]))
            sparse.appendVarint(groupEnd - groupStart)
            chunk.appendChunkReference(to: &sparse)
            appendFrontCoded(firstTerm, after: previousFirst, to: &sparse)
            previousFirst = firstTerm
            blockCount += 1
            groupStart = groupEnd
        }
        var header = [UInt8]()
        header.appendVarint(blockCount)
        sparse.insert(contentsOf: header, at: 0)
        return Written(sparseIndex: sparse, blockCount: blockCount, termCount: ids.count)
    }

    /// The term as (bytes shared with the previous term, new bytes).
    private func appendFrontCoded(_ term: UnsafeRawBufferPointer, after previous: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let shared = sharedPrefixLength(previous, term)
        out.appendVarint(shared)
        out.appendVarint(term.count - shared)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: term[shared...]))
    }

    /// A term's (block << 32 | rows) postings: count, then block gaps and row counts.
    private func appendPostings(_ postings: ArraySlice<UInt64>, to out: inout [UInt8]) {
        out.appendVarint(postings.count)
        var previousBlock: UInt64 = 0
        for k in postings.indices {
            let block = postings[k] >> 32
            out.appendVarint(k == postings.startIndex ? block : block - previousBlock - 1)
            out.appendVarint(postings[k] & 0xFFFF_FFFF)
            previousBlock = block
        }
    }
}

@inline(__always)
func sharedPrefixLength(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    var i = 0
    while i < n && a[i] == b[i] { i += 1 }
    return i
}
