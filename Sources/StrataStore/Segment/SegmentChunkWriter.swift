import StrataCore

/// Where a stored (codec byte + payload) chunk landed in the file, as block metadata and the
/// footer refer to it (docs/FORMAT.md).
struct StoredChunk {
    var offset: Int
    var storedLength: Int
    var rawLength: Int
    var crc: UInt32

    /// A section reference in the footer: offset, lengths and CRC.
    func appendSectionReference(to out: inout [UInt8]) {
        out.appendVarint(offset)
        appendChunkReference(to: &out)
    }

    /// A chunk reference in block metadata or the sparse index: lengths and CRC (the offset
    /// follows from the chunks before it).
    func appendChunkReference(to out: inout [UInt8]) {
        out.appendVarint(storedLength)
        out.appendVarint(rawLength)
        out.appendUInt32LE(crc)
    }
}

/// Compresses payloads and appends them to the segment file, one chunk after another.
struct SegmentChunkWriter {
    let sink: SegmentFileSink
    let compressor: ChunkCompressor

    var offset: Int { sink.offset }

    func write(_ raw: [UInt8]) throws -> StoredChunk {
        let stored = try compressor.store(raw)
        let offset = sink.offset
        try sink.write(stored)
        return StoredChunk(offset: offset, storedLength: stored.count, rawLength: raw.count, crc: crc32c(stored))
    }

    /// Bytes outside any chunk: header, footer, trailer.
    func writeUnframed(_ bytes: [UInt8]) throws { try sink.write(bytes) }
}
