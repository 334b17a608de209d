import StrataCore

/// Reads a segment file (docs/FORMAT.md). Opening validates the header, trailer, footer and the
/// metadata sections (magic, version, lengths, CRC-32C) and keeps them in memory; blocks and
/// term dictionary blocks are read on demand with `pread`, each checked against its own CRC,
/// so a damaged block fails alone (`StoreError.corrupt` naming the file and block) while the
/// others stay readable. Safe to use from many threads at once.
public final class SegmentReader: Sendable {
    public let path: String
    public let info: SegmentInfo
    public let blocks: [BlockMeta]
    /// The segment's resources; rows are sorted by their index into this table.
    public let resources: [Resource]
    /// Number of distinct index terms.
    public var termCount: Int { info.termCount }

    let file: SegmentFile
    let dictionary: TermDictionaryIndex
    let blockRows: [Int]
    let pool: ChunkDecompressorPool

    public init(path: String) throws {
        let file = try SegmentFile(path: path)
        self.file = file
        let pool = ChunkDecompressorPool()
        self.pool = pool
        self.path = path
        let minimum = SegmentFormat.headerSize + SegmentFormat.trailerSize + 8
        guard file.size >= minimum else {
            throw StoreError(.corrupt, "\(path): file of \(file.size) bytes is too short for a segment (truncated?)")
        }
        // Header.
        let header = try file.read(offset: 0, count: SegmentFormat.headerSize, "header")
        guard Array(header[0..<4]) == SegmentFormat.magic else {
            throw StoreError(.corrupt, "\(path): header has a bad magic number (not a Strata segment)")
        }
        let headerVersion = UInt16(header[4]) | UInt16(header[5]) << 8
        guard header[6] == 0 && header[7] == 0 else {
            throw StoreError(.corrupt, "\(path): header has unknown flags \(header[6]) \(header[7])")
        }
        // Trailer.
        let trailer = try file.read(offset: file.size - SegmentFormat.trailerSize, count: SegmentFormat.trailerSize, "trailer")
        guard Array(trailer[4..<8]) == SegmentFormat.magic else {
            throw StoreError(.corrupt, "\(path): trailer has a bad magic number (truncated or partially written file?)")
        }
        let footerLength = Int(UInt32(trailer[0]) | UInt32(trailer[1]) << 8 | UInt32(trailer[2]) << 16 | UInt32(trailer[3]) << 24)
        let footerStart = file.size - SegmentFormat.trailerSize - footerLength
        guard footerLength >= 8, footerStart >= SegmentFormat.headerSize else {
            throw StoreError(.corrupt, "\(path): trailer gives an impossible footer length \(footerLength)")
        }
        let footer = try file.read(offset: footerStart, count: footerLength, "footer")
        // Every format version ends with: footer (u16 version first, CRC-32C of the rest last),
        // u32 footer length, magic. So the checksum is checked before the version.
        let storedCRC = UInt32(footer[footerLength - 4]) | UInt32(footer[footerLength - 3]) << 8
            | UInt32(footer[footerLength - 2]) << 16 | UInt32(footer[footerLength - 1]) << 24
        let actualCRC = footer.withUnsafeBytes { crc32c(UnsafeRawBufferPointer(rebasing: $0[0..<footerLength - 4])) }
        guard storedCRC == actualCRC else {
            throw StoreError(.corrupt, "\(path): footer fails its checksum (stored \(checksumHex(storedCRC)), computed \(checksumHex(actualCRC)))")
        }
        let footerVersion = UInt16(footer[0]) | UInt16(footer[1]) << 8
        try Self.checkVersion(footerVersion, path, "footer")
        guard headerVersion == footerVersion else {
            throw StoreError(.corrupt, "\(path): header says version \(headerVersion), footer says \(footerVersion)")
        }
        guard footer[2] == 0 && footer[3] == 0 else {
            throw StoreError(.corrupt, "\(path): footer has unknown flags \(footer[2]) \(footer[3])")
        }

        func corrupt(_ structure: String, _ error: Error) -> StoreError {
            if let error = error as? StoreError { return error }
            return StoreError(.corrupt, "\(path): \(structure) \(error)")
        }

        // Footer fields.
        let f: Footer
        do {
            f = try Footer(footer, dataEnd: footerStart)
        } catch {
            throw corrupt("footer", error)
        }

        // Sections.
        func section(_ ref: Footer.Section, _ name: String) throws -> [UInt8] {
            let stored = try file.read(offset: ref.offset, count: ref.storedLength, name)
            do {
                return try pool.load(stored, 0..<stored.count, rawLength: ref.rawLength, crc: ref.crc)
            } catch {
                throw corrupt(name, error)
            }
        }
        do {
            let resourceBytes = try section(f.resources, "resource table")
            resources = try Self.parseResources(resourceBytes)
            guard resources.count == f.resourceCount else {
                throw FormatError("holds \(resources.count) resources, the footer says \(f.resourceCount)")
            }
        } catch {
            throw corrupt("resource table", error)
        }
        do {
            let metaBytes = try section(f.blockMeta, "block metadata")
            blocks = try Self.parseBlockMeta(
                metaBytes, blocksOffset: f.blocksOffset, blocksLength: f.blocksLength, resourceCount: f.resourceCount)
            guard blocks.count == f.blockCount else {
                throw FormatError("lists \(blocks.count) blocks, the footer says \(f.blockCount)")
            }
            let rows = blocks.reduce(0) { $0 + $1.rowCount }
            guard rows == f.rowCount else { throw FormatError("counts \(rows) rows, the footer says \(f.rowCount)") }
        } catch {
            throw corrupt("block metadata", error)
        }
        do {
            let sparseBytes = try section(f.sparseIndex, "term dictionary index")
            dictionary = try TermDictionaryIndex(
                payload: sparseBytes, dictionaryOffset: f.dictionaryOffset, dictionaryLength: f.dictionaryLength,
                expectedBlocks: f.dictionaryBlockCount, expectedTerms: f.termCount)
        } catch {
            throw corrupt("term dictionary index", error)
        }
        blockRows = blocks.map(\.rowCount)
        info = SegmentInfo(
            id: SegmentInfo.id(fromPath: path), path: path, rowCount: f.rowCount, minTime: f.minTime, maxTime: f.maxTime,
            bytes: file.size, rawBytes: f.rawBytes, blockCount: f.blockCount, termCount: f.termCount,
            resourceCount: f.resourceCount, formatVersion: Int(footerVersion))
    }

    private static func checkVersion(_ version: UInt16, _ path: String, _ structure: String) throws {
        guard version >= 1 else { throw StoreError(.corrupt, "\(path): \(structure) has an invalid version 0") }
        guard version <= SegmentFormat.version else {
            throw StoreError(
                .unsupportedVersion,
                "\(path): segment format version \(version) is newer than the supported \(SegmentFormat.version) (upgrade Strata to read it)")
        }
    }

    // MARK: Footer

    struct Footer {
        struct Section {
            var offset: Int
            var storedLength: Int
            var rawLength: Int
            var crc: UInt32
        }
        var rowCount: Int
        var minTime: Int64
        var maxTime: Int64
        var rawBytes: Int
        var blockCount: Int
        var termCount: Int
        var resourceCount: Int
        var dictionaryBlockCount: Int
        var blocksOffset: Int
        var blocksLength: Int
        var resources: Section
        var blockMeta: Section
        var dictionaryOffset: Int
        var dictionaryLength: Int
        var sparseIndex: Section

        init(_ bytes: [UInt8], dataEnd: Int) throws {
            var c = ByteCursor(bytes, from: 4, to: bytes.count - 4)
            let big = Int(Int32.max) * 1024
            rowCount = try c.count(limit: big, "row count")
            minTime = try c.zigzag()
            maxTime = try c.zigzag()
            rawBytes = try c.count(limit: big, "raw byte count")
            blockCount = try c.count(limit: dataEnd, "block count")
            // Compressed dictionary blocks and resource tables can hold more entries than the
            // file has bytes (30,000 numeric terms fit in 27 KB); their sections check the counts.
            termCount = try c.count(limit: Int(Int32.max), "term count")
            resourceCount = try c.count(limit: Int(Int32.max), "resource count")
            dictionaryBlockCount = try c.count(limit: dataEnd, "dictionary block count")
            func range(_ what: String) throws -> (Int, Int) {
                let offset = try c.count(limit: dataEnd, "\(what) offset")
                let length = try c.count(limit: dataEnd - offset, "\(what) length")
                guard offset >= SegmentFormat.headerSize else { throw FormatError("places the \(what) inside the header") }
                return (offset, length)
            }
            func section(_ what: String) throws -> Section {
                let (offset, length) = try range(what)
                guard length >= 1 else { throw FormatError("has an empty \(what)") }
                let raw = try c.count(limit: Int(Int32.max), "\(what) size")
                return Section(offset: offset, storedLength: length, rawLength: raw, crc: try c.uint32())
            }
            (blocksOffset, blocksLength) = try range("blocks")
            resources = try section("resource table")
            blockMeta = try section("block metadata")
            (dictionaryOffset, dictionaryLength) = try range("term dictionary")
            sparseIndex = try section("term dictionary index")
            _ = try c.byte()  // codec used (informational)
            try c.expectEnd("the footer fields")
            guard minTime <= maxTime else { throw FormatError("has min time \(minTime) after max time \(maxTime)") }
        }
    }

    private static func parseResources(_ bytes: [UInt8]) throws -> [Resource] {
        var c = ByteCursor(bytes)
        let count = try c.count(limit: c.remaining, "resource count")
        var result: [Resource] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let n = try c.count(limit: c.remaining / 2, "attribute count")
            var attributes: [Attribute] = []
            attributes.reserveCapacity(n)
            for _ in 0..<n {
                let key = try c.string()
                let value = try c.string()
                attributes.append(Attribute(key, value))
            }
            result.append(Resource(attributes: attributes))
        }
        try c.expectEnd("the resources")
        return result
    }

    private static func parseBlockMeta(_ bytes: [UInt8], blocksOffset: Int, blocksLength: Int, resourceCount: Int) throws
        -> [BlockMeta]
    {
        var c = ByteCursor(bytes)
        let count = try c.count(limit: c.remaining, "block count")
        let columns = try c.count(limit: 64, "column count")
        guard columns == SegmentFormat.columnCount else {
            throw FormatError("has \(columns) columns per block, expected \(SegmentFormat.columnCount)")
        }
        var result: [BlockMeta] = []
        result.reserveCapacity(count)
        var offset = blocksOffset
        let end = blocksOffset + blocksLength
        for i in 0..<count {
            let rows = try c.count(limit: Int(Int32.max), "row count")
            guard rows >= 1 else { throw FormatError("has an empty block \(i)") }
            let minTime = try c.zigzag()
            let span = try c.varint()
            let maxTime = Int64(bitPattern: UInt64(bitPattern: minTime) &+ span)
            guard maxTime >= minTime else { throw FormatError("has block \(i) with a time range past Int64.max") }
            let minResource = try c.count(limit: max(0, resourceCount - 1), "resource index")
            let maxResource = minResource + (try c.count(limit: max(0, resourceCount - 1 - minResource), "resource range"))
            let rawBody = try c.count(limit: Int(Int32.max) * 1024, "body size")
            var chunks: [ChunkRef] = []
            chunks.reserveCapacity(columns)
            for _ in 0..<columns {
                let stored = try c.count(limit: end - offset, "chunk length (block \(i))")
                if stored == 0 {
                    chunks.append(ChunkRef(offset: offset, storedLength: 0, rawLength: 0, crc: 0))
                    continue
                }
                let raw = try c.count(limit: Int(Int32.max), "chunk size")
                let crc = try c.uint32()
                chunks.append(ChunkRef(offset: offset, storedLength: stored, rawLength: raw, crc: crc))
                offset += stored
            }
            guard chunks[ColumnID.timestamp].storedLength > 0, chunks[ColumnID.resource].storedLength > 0 else {
                throw FormatError("lacks the timestamp or resource column of block \(i)")
            }
            result.append(
                BlockMeta(
                    index: i, rowCount: rows, minTime: minTime, maxTime: maxTime, minResource: minResource,
                    maxResource: maxResource, rawBodyBytes: rawBody, chunks: chunks))
        }
        try c.expectEnd("the block metadata")
        guard offset == end else {
            throw FormatError("chunks cover \(offset - blocksOffset) of the \(blocksLength) bytes of block data")
        }
        return result
    }

    // MARK: Pruning

    /// Indexes of the blocks whose time range overlaps `from...to` (ns since the epoch).
    public func blocks(overlapping from: Int64, _ to: Int64) -> [Int] {
        guard from <= info.maxTime && to >= info.minTime else { return [] }
        return blocks.filter { $0.overlaps(from: from, to: to) }.map(\.index)
    }

    /// Indexes into `resources` of the resources matching `predicate`.
    public func resourceIndexes(where predicate: (Resource) throws -> Bool) rethrows -> [Int] {
        try resources.indices.filter { try predicate(resources[$0]) }
    }

    /// Indexes of the blocks whose resource range includes one of `resourceIndexes`.
    public func blocks(withResources resourceIndexes: [Int]) -> [Int] {
        let sorted = resourceIndexes.sorted()
        return blocks.filter { block in
            // First wanted index ≥ minResource.
            var lo = 0
            var hi = sorted.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if sorted[mid] < block.minResource { lo = mid + 1 } else { hi = mid }
            }
            return lo < sorted.count && sorted[lo] <= block.maxResource
        }.map(\.index)
    }

    // MARK: Index

    /// The posting list of `term` (exact bytes: body terms are lowercase, field terms are
    /// `field=value` with the value's exact case), in block order; empty when absent. Terms
    /// longer than `SegmentFormat.maxTermLength` are never indexed.
    public func postings(term: String) throws -> [Posting] {
        var term = term
        return try term.withUTF8 { utf8 in
            let target = UnsafeRawBufferPointer(utf8)
            guard let b = dictionary.block(for: target) else { return [] }
            var cursor = try dictionaryBlock(b)
            do {
                while try cursor.next() {
                    let order = cursor.term.withUnsafeBytes { compareTermBytes($0, target) }
                    if order == 0 { return try cursor.postings(blockRows: blockRows) }
                    if order > 0 { return [] }
                }
                return []
            } catch {
                throw dictionaryError(b, error)
            }
        }
    }

    /// Number of rows containing `term`, from the posting counts alone.
    public func count(term: String) throws -> Int {
        try postings(term: term).reduce(0) { $0 + $1.rows }
    }

    /// Every term starting with `prefix` (byte-wise) with its postings, in term order; at most
    /// `limit` terms.
    public func postings(prefix: String, limit: Int = .max) throws -> [(term: String, postings: [Posting])] {
        let target = Array(prefix.utf8)
        var result: [(term: String, postings: [Posting])] = []
        guard !dictionary.blocks.isEmpty, limit > 0 else { return result }
        var b = target.withUnsafeBytes { dictionary.block(for: $0) } ?? 0
        while b < dictionary.blocks.count {
            var cursor = try dictionaryBlock(b)
            do {
                while try cursor.next() {
                    let term = cursor.term
                    if term.count >= target.count && term[0..<target.count].elementsEqual(target) {
                        result.append((String(decoding: term, as: UTF8.self), try cursor.postings(blockRows: blockRows)))
                        if result.count >= limit { return result }
                    } else if term.withUnsafeBytes({ t in target.withUnsafeBytes { compareTermBytes(t, $0) } }) > 0 {
                        return result
                    }
                }
            } catch {
                throw dictionaryError(b, error)
            }
            b += 1
        }
        return result
    }

    private func dictionaryError(_ b: Int, _ error: Error) -> Error {
        if error is StoreError { return error }
        return StoreError(.corrupt, "\(path): term dictionary block \(b) \(error)")
    }

    private func dictionaryBlock(_ b: Int) throws -> DictionaryBlockCursor {
        let ref = dictionary.blocks[b]
        let stored = try file.read(offset: ref.offset, count: ref.storedLength, "term dictionary block \(b)")
        do {
            let raw = try pool.load(stored, 0..<stored.count, rawLength: ref.rawLength, crc: ref.crc)
            return try DictionaryBlockCursor(raw, expectedTerms: ref.termCount)
        } catch {
            throw dictionaryError(b, error)
        }
    }

    // MARK: Blocks

    /// Reads and decodes the requested columns of block `index` (reading only their chunks).
    public func readBlock(_ index: Int, columns requested: ColumnSet = .all) throws -> DecodedBlock {
        precondition(index >= 0 && index < blocks.count, "block \(index) out of range 0..<\(blocks.count)")
        let meta = blocks[index]
        var columns = requested.intersection(.all)
        if columns.contains(.observed) { columns.insert(.timestamp) }
        var block = DecodedBlock(index: index, rowCount: meta.rowCount, columns: columns, resources: resources)
        let n = meta.rowCount

        // Read the needed chunks, merging neighbours into one pread when the gap is small.
        var wanted: [Int] = []
        for i in 0..<SegmentFormat.columnCount where columns.contains(.column(i)) && meta.chunks[i].storedLength > 0 {
            wanted.append(i)
        }
        var payloads = [[UInt8]?](repeating: nil, count: SegmentFormat.columnCount)
        var k = 0
        while k < wanted.count {
            var last = k
            while last + 1 < wanted.count {
                let gap = meta.chunks[wanted[last + 1]].offset - (meta.chunks[wanted[last]].offset + meta.chunks[wanted[last]].storedLength)
                if gap > 64 * 1024 { break }
                last += 1
            }
            let start = meta.chunks[wanted[k]].offset
            let end = meta.chunks[wanted[last]].offset + meta.chunks[wanted[last]].storedLength
            let bytes = try file.read(offset: start, count: end - start, "block \(index)")
            for j in k...last {
                let column = wanted[j]
                let chunk = meta.chunks[column]
                let range = chunk.offset - start..<chunk.offset - start + chunk.storedLength
                do {
                    payloads[column] = try pool.load(bytes, range, rawLength: chunk.rawLength, crc: chunk.crc)
                } catch {
                    throw blockError(index, column, error)
                }
            }
            k = last + 1
        }

        func decode(_ column: Int, _ body: ([UInt8]) throws -> Void) throws {
            guard let payload = payloads[column] else { return }
            do {
                try body(payload)
            } catch {
                throw blockError(index, column, error)
            }
        }

        if columns.contains(.timestamp) {
            try decode(ColumnID.timestamp) { block.timestamps = try ColumnCodecs.decodeTimestamps($0, count: n) }
            for t in block.timestamps where t < meta.minTime || t > meta.maxTime {
                throw blockError(index, ColumnID.timestamp, FormatError("holds \(t) outside the block's range \(meta.minTime)...\(meta.maxTime)"))
            }
        }
        if columns.contains(.observed) {
            block.observedTimestamps = block.timestamps
            try decode(ColumnID.observed) { block.observedTimestamps = try ColumnCodecs.decodeObserved($0, timestamps: block.timestamps, formatVersion: info.formatVersion) }
        }
        if columns.contains(.resource) {
            try decode(ColumnID.resource) {
                block.resourceIndexes = try ColumnCodecs.decodeResources($0, count: n, resourceCount: resources.count)
            }
            for r in block.resourceIndexes where Int(r) < meta.minResource || Int(r) > meta.maxResource {
                throw blockError(index, ColumnID.resource, FormatError("holds resource \(r) outside the block's range"))
            }
        }
        if columns.contains(.stream) {
            block.streams = [LogStream](repeating: .stdout, count: n)
            try decode(ColumnID.stream) {
                let values = try ColumnCodecs.decodeSmallInts($0, count: n, in: 0...2, "stream")
                for i in 0..<n { block.streams[i] = LogStream(rawValue: UInt8(values[i]))! }
            }
        }
        if columns.contains(.severity) {
            block.severities = [Severity?](repeating: nil, count: n)
            try decode(ColumnID.severity) {
                let values = try ColumnCodecs.decodeSmallInts($0, count: n, in: 0...24, "severity")
                for i in 0..<n where values[i] != 0 { block.severities[i] = Severity(number: Int(values[i])) }
            }
        }
        if columns.contains(.flags) {
            block.flags = [RecordFlags](repeating: [], count: n)
            try decode(ColumnID.flags) {
                let values = try ColumnCodecs.decodeSmallInts($0, count: n, in: 0...Int64(UInt32.max), "flags")
                for i in 0..<n { block.flags[i] = RecordFlags(rawValue: UInt32(values[i])) }
            }
        }
        if columns.contains(.traceID) {
            block.traceIDs = [TraceID?](repeating: nil, count: n)
            try decode(ColumnID.traceID) { block.traceIDs = try ColumnCodecs.decodeTraceIDs($0, count: n) }
        }
        if columns.contains(.spanID) {
            block.spanIDs = [SpanID?](repeating: nil, count: n)
            try decode(ColumnID.spanID) { block.spanIDs = try ColumnCodecs.decodeSpanIDs($0, count: n) }
        }
        if columns.contains(.templateID) {
            block.templateIDs = [UInt32](repeating: 0, count: n)
            try decode(ColumnID.templateID) {
                let values = try ColumnCodecs.decodeSmallInts($0, count: n, in: 0...Int64(UInt32.max), "template id")
                for i in 0..<n { block.templateIDs[i] = UInt32(values[i]) }
            }
        }
        if columns.contains(.body) {
            block.bodyOffsets = [Int](repeating: 0, count: n + 1)
            try decode(ColumnID.body) {
                block.bodyOffsets = try ColumnCodecs.decodeBodies($0, count: n)
                block.bodyBytes = $0
            }
            let total = block.bodyOffsets[n] - block.bodyOffsets[0]
            guard total == meta.rawBodyBytes else {
                throw blockError(index, ColumnID.body, FormatError("holds \(total) bytes, the metadata says \(meta.rawBodyBytes)"))
            }
        }
        if columns.contains(.attributes) {
            block.attributeColumns = .empty(rows: n)
            try decode(ColumnID.attributes) { block.attributeColumns = try ColumnCodecs.decodeAttributes($0, count: n) }
        }
        return block
    }

    private func blockError(_ index: Int, _ column: Int, _ error: Error) -> Error {
        if error is StoreError { return error }
        return StoreError(.corrupt, "\(path): block \(index) column \(ColumnSet.names[column]) \(error)")
    }

    /// Every record of the segment, in stored (resource, timestamp) order. For tests and tools.
    public func readAllRecords() throws -> [LogRecord] {
        var result: [LogRecord] = []
        result.reserveCapacity(info.rowCount)
        for i in blocks.indices { result.append(contentsOf: try readBlock(i).records()) }
        return result
    }
}
