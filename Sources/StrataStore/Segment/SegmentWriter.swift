import StrataCore

/// A record together with its template id, as the segment stores it.
public struct SegmentRecord: Sendable, Equatable {
    public var record: LogRecord
    /// Log template of the record (0 = none); assigned by the diagnosis stage.
    public var templateID: UInt32
    public init(record: LogRecord, templateID: UInt32 = 0) {
        self.record = record
        self.templateID = templateID
    }
}

/// Writes immutable segment files (docs/FORMAT.md).
public enum SegmentWriter {
    /// Writes `records` as one segment at `path`, atomically (a temporary file, fsync, rename,
    /// fsync of the directory).
    ///
    /// Rows are stored sorted by (resource, timestamp); records with equal keys keep their input
    /// order. `templateIDs`, when given, holds one template id per record (0 = none).
    @discardableResult
    public static func write(
        _ records: [LogRecord], templateIDs: [UInt32]? = nil, to path: String, options: SegmentOptions = SegmentOptions()
    ) throws -> SegmentInfo {
        if let templateIDs {
            precondition(templateIDs.count == records.count, "templateIDs must hold one id per record")
        }
        precondition(
            options.maxBlockRows >= 1 && options.maxBlockBodyBytes >= 1 && options.termsPerDictionaryBlock >= 1
                && options.dictionaryBlockBytes >= 1)
        var state = try WriterState(records: records, templateIDs: templateIDs, path: path, options: options)
        return try state.run()
    }

    /// The store's entry point: as above, with the operation named for the test-only crash points.
    static func write(
        _ records: [LogRecord], templateIDs: [UInt32]?, to path: String, options: SegmentOptions, faultScope: String
    ) throws -> SegmentInfo {
        precondition(templateIDs == nil || templateIDs?.count == records.count, "templateIDs must hold one id per record")
        var state = try WriterState(records: records, templateIDs: templateIDs, path: path, options: options)
        state.faultScope = faultScope
        return try state.run()
    }

    /// Writes `records` (each with its template id) as one segment; see `write(_:templateIDs:to:options:)`.
    @discardableResult
    public static func write(_ records: [SegmentRecord], to path: String, options: SegmentOptions = SegmentOptions()) throws
        -> SegmentInfo
    {
        try write(records.map(\.record), templateIDs: records.map(\.templateID), to: path, options: options)
    }
}

/// Compares resources attribute by attribute (key, then value), then by count.
func resourceLess(_ a: Resource, _ b: Resource) -> Bool {
    let n = min(a.attributes.count, b.attributes.count)
    for i in 0..<n {
        let x = a.attributes[i]
        let y = b.attributes[i]
        if x.key != y.key { return x.key < y.key }
        if x.value != y.value { return x.value < y.value }
    }
    return a.attributes.count < b.attributes.count
}

/// One segment being written, in the order of the file: header, blocks (each column a chunk,
/// the block's terms gathered for the index), resource and block-metadata sections, term
/// dictionary, sparse index, footer and trailer. Columns and terms are serialized by
/// `BlockColumns`, `BlockTermIndexer` and `TermDictionaryWriter`; this type orders the rows and
/// frames what they produce.
private struct WriterState {
    let records: [LogRecord]
    let templateIDs: [UInt32]?
    let path: String
    let options: SegmentOptions

    var resources: [Resource] = []
    /// Final (sorted) resource index per record.
    var resourceOf: [UInt32] = []
    /// Row order: record indexes sorted by (resource, timestamp, input position).
    var order: [Int] = []

    let index: TermIndexBuilder
    let compressor: ChunkCompressor
    var faultScope: String?

    var blockMetaBytes: [UInt8] = []
    var blockCount = 0
    var rawBytes = 0
    var minTime = Int64.max
    var maxTime = Int64.min

    init(records: [LogRecord], templateIDs: [UInt32]?, path: String, options: SegmentOptions) throws {
        self.records = records
        self.templateIDs = templateIDs
        self.path = path
        self.options = options
        index = TermIndexBuilder(maxTermLength: SegmentFormat.maxTermLength, expectedTerms: max(1 << 14, records.count / 4))
        compressor = try ChunkCompressor(codec: options.codec, level: options.compressionLevel)
    }

    mutating func run() throws -> SegmentInfo {
        assignResources()
        sortRows()
        let sink = try SegmentFileSink(path: path, durable: options.durable, faultScope: faultScope)
        let chunks = SegmentChunkWriter(sink: sink, compressor: compressor)
        var header = SegmentFormat.magic
        header.appendUInt16LE(SegmentFormat.version)
        header.appendUInt16LE(0)
        try chunks.writeUnframed(header)

        var indexer = BlockTermIndexer(resources: resources, indexBody: options.indexBody)
        var start = 0
        while start < order.count {
            var end = start
            var bodyBytes = 0
            while end < order.count && end - start < options.maxBlockRows {
                let length = records[order[end]].body.utf8.count
                if end > start && bodyBytes + length > options.maxBlockBodyBytes { break }
                bodyBytes += length
                end += 1
            }
            try writeBlock(rows: order[start..<end], bodyBytes: bodyBytes, indexer: &indexer, to: chunks)
            start = end
        }
        let blocksEnd = chunks.offset

        let resourceSection = try chunks.write(resourceSectionBytes())
        var metaBytes = [UInt8]()
        metaBytes.appendVarint(blockCount)
        metaBytes.appendVarint(SegmentFormat.columnCount)
        metaBytes.append(contentsOf: blockMetaBytes)
        let metaSection = try chunks.write(metaBytes)

        let dictionaryStart = chunks.offset
        let dictionary = try TermDictionaryWriter(
            termsPerBlock: options.termsPerDictionaryBlock, blockBytes: options.dictionaryBlockBytes
        ).write(index, to: chunks)
        let dictionaryEnd = chunks.offset
        let sparseSection = try chunks.write(dictionary.sparseIndex)

        let rowCount = records.count
        if rowCount == 0 {
            minTime = 0
            maxTime = 0
        }
        var footer = [UInt8]()
        footer.appendUInt16LE(SegmentFormat.version)
        footer.appendUInt16LE(0)
        footer.appendVarint(rowCount)
        footer.appendZigZag(minTime)
        footer.appendZigZag(maxTime)
        footer.appendVarint(rawBytes)
        footer.appendVarint(blockCount)
        footer.appendVarint(dictionary.termCount)
        footer.appendVarint(resources.count)
        footer.appendVarint(dictionary.blockCount)
        footer.appendVarint(SegmentFormat.headerSize)
        footer.appendVarint(blocksEnd - SegmentFormat.headerSize)
        resourceSection.appendSectionReference(to: &footer)
        metaSection.appendSectionReference(to: &footer)
        footer.appendVarint(dictionaryStart)
        footer.appendVarint(dictionaryEnd - dictionaryStart)
        sparseSection.appendSectionReference(to: &footer)
        footer.append(options.codec.rawValue)
        footer.appendUInt32LE(crc32c(footer))
        try chunks.writeUnframed(footer)
        var trailer = [UInt8]()
        trailer.appendUInt32LE(UInt32(footer.count))
        trailer.append(contentsOf: SegmentFormat.magic)
        try chunks.writeUnframed(trailer)
        let bytes = sink.offset
        try sink.commit()
        return SegmentInfo(
            id: SegmentInfo.id(fromPath: path), path: path, rowCount: rowCount, minTime: minTime, maxTime: maxTime,
            bytes: bytes, rawBytes: rawBytes, blockCount: blockCount, termCount: dictionary.termCount,
            resourceCount: resources.count, formatVersion: Int(SegmentFormat.version))
    }

    /// The resource section: every resource's attributes, in resource index order.
    func resourceSectionBytes() -> [UInt8] {
        var bytes = [UInt8]()
        bytes.appendVarint(resources.count)
        for resource in resources {
            bytes.appendVarint(resource.attributes.count)
            for attribute in resource.attributes {
                bytes.appendString(attribute.key)
                bytes.appendString(attribute.value)
            }
        }
        return bytes
    }

    // MARK: Ordering

    mutating func assignResources() {
        var lookup: [Resource: UInt32] = [:]
        var unique: [Resource] = []
        var provisional = [UInt32](repeating: 0, count: records.count)
        var last: Resource?
        var lastIndex: UInt32 = 0
        for i in 0..<records.count {
            let resource = records[i].resource
            if let previous = last, previous == resource {
                provisional[i] = lastIndex
                continue
            }
            let index: UInt32
            if let known = lookup[resource] {
                index = known
            } else {
                index = UInt32(unique.count)
                lookup[resource] = index
                unique.append(resource)
            }
            provisional[i] = index
            last = resource
            lastIndex = index
        }
        let sortedOrder = unique.indices.sorted { resourceLess(unique[$0], unique[$1]) }
        var remap = [UInt32](repeating: 0, count: unique.count)
        for (final, old) in sortedOrder.enumerated() { remap[old] = UInt32(final) }
        resources = sortedOrder.map { unique[$0] }
        resourceOf = provisional.map { remap[Int($0)] }
    }

    /// Counting sort by resource (stable), then a (timestamp, position) sort of each resource's
    /// rows unless they are already in time order (the usual case).
    mutating func sortRows() {
        var starts = [Int](repeating: 0, count: resources.count + 1)
        for r in resourceOf { starts[Int(r) + 1] += 1 }
        for i in 0..<resources.count { starts[i + 1] += starts[i] }
        var next = starts
        order = [Int](repeating: 0, count: records.count)
        for i in 0..<records.count {
            let r = Int(resourceOf[i])
            order[next[r]] = i
            next[r] += 1
        }
        let records = self.records
        for r in 0..<resources.count {
            let range = starts[r]..<starts[r + 1]
            var sorted = true
            var previous = Int64.min
            for i in range {
                let t = records[order[i]].timestamp
                if t < previous {
                    sorted = false
                    break
                }
                previous = t
            }
            if !sorted {
                order[range].sort { a, b in
                    let ta = records[a].timestamp
                    let tb = records[b].timestamp
                    return ta < tb || (ta == tb && a < b)
                }
            }
        }
    }

    // MARK: Blocks

    /// Writes one block: its rows as column chunks and its metadata entry; its terms go to the
    /// segment's index.
    mutating func writeBlock(
        rows: ArraySlice<Int>, bodyBytes: Int, indexer: inout BlockTermIndexer, to chunks: SegmentChunkWriter
    ) throws {
        var columns = BlockColumns(rowCapacity: rows.count, bodyBytes: bodyBytes)
        // The block's term table in a local for the loop (put back before endBlock).
        var table = index.block
        indexer.beginBlock(&table)
        for r in rows {
            let record = records[r]
            let resource = resourceOf[r]
            let template = templateIDs?[r] ?? 0
            var body = record.body
            body.withUTF8 { utf8 in
                let raw = UnsafeRawBufferPointer(utf8)
                columns.append(record, resource: resource, template: template, body: raw)
                indexer.indexRow(record, resource: Int(resource), template: template, body: raw, into: &table)
            }
        }
        index.block = table
        index.endBlock()
        rawBytes += columns.bodyByteCount
        minTime = min(minTime, columns.minTime)
        maxTime = max(maxTime, columns.maxTime)

        blockMetaBytes.appendVarint(columns.rowCount)
        blockMetaBytes.appendZigZag(columns.minTime)
        blockMetaBytes.appendVarint(UInt64(bitPattern: columns.maxTime) &- UInt64(bitPattern: columns.minTime))
        blockMetaBytes.appendVarint(UInt64(columns.minResource))
        blockMetaBytes.appendVarint(UInt64(columns.maxResource - columns.minResource))
        blockMetaBytes.appendVarint(columns.bodyByteCount)
        for payload in columns.encodedColumns() {
            guard let payload else {
                blockMetaBytes.appendVarint(0)
                continue
            }
            try chunks.write(payload).appendChunkReference(to: &blockMetaBytes)
        }
        blockCount += 1
    }
}

