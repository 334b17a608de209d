import StrataCore
#if canImport(Glibc)
import Glibc
#endif

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

let debugTiming = getenv("STRATA_SEGMENT_TIMING") != nil

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
    var sink: SegmentFileSink?
    var faultScope: String?

    var blockMetaBytes: [UInt8] = []
    var blockGeneration = 0
    var timings: [Duration] = [.zero, .zero, .zero, .zero]
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
        var t0 = ContinuousClock.now
        func lap(_ what: String) { let t = ContinuousClock.now; if debugTiming { print("TIMING", what, t - t0) }; t0 = t }
        assignResources()
        lap("resources")
        sortRows()
        lap("sort")
        let sink = try SegmentFileSink(path: path, durable: options.durable, faultScope: faultScope)
        self.sink = sink
        var header = SegmentFormat.magic
        header.appendUInt16LE(SegmentFormat.version)
        header.appendUInt16LE(0)
        try sink.write(header)

        let resourceTerms = resourceTermBytes()
        var resourceLocals = [[Int]](repeating: [], count: resources.count)
        var resourceGeneration = [Int](repeating: -1, count: resources.count)
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
            try writeBlock(
                rows: order[start..<end], bodyBytes: bodyBytes, resourceTerms: resourceTerms, resourceLocals: &resourceLocals,
                resourceGeneration: &resourceGeneration)
            start = end
        }
        let blocksEnd = sink.offset
        lap("blocks")

        // Sections.
        var resourceBytes = [UInt8]()
        resourceBytes.appendVarint(resources.count)
        for resource in resources {
            resourceBytes.appendVarint(resource.attributes.count)
            for attribute in resource.attributes {
                resourceBytes.appendString(attribute.key)
                resourceBytes.appendString(attribute.value)
            }
        }
        let resourceSection = try writeSection(resourceBytes)

        var metaBytes = [UInt8]()
        metaBytes.appendVarint(blockCount)
        metaBytes.appendVarint(SegmentFormat.columnCount)
        metaBytes.append(contentsOf: blockMetaBytes)
        let metaSection = try writeSection(metaBytes)

        let dictionaryStart = sink.offset
        let (sparse, dictionaryBlocks, termCount) = try writeDictionary()
        let dictionaryEnd = sink.offset
        lap("dictionary")
        let sparseSection = try writeSection(sparse)

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
        footer.appendVarint(termCount)
        footer.appendVarint(resources.count)
        footer.appendVarint(dictionaryBlocks)
        footer.appendVarint(SegmentFormat.headerSize)
        footer.appendVarint(blocksEnd - SegmentFormat.headerSize)
        resourceSection.append(to: &footer)
        metaSection.append(to: &footer)
        footer.appendVarint(dictionaryStart)
        footer.appendVarint(dictionaryEnd - dictionaryStart)
        sparseSection.append(to: &footer)
        footer.append(options.codec.rawValue)
        footer.appendUInt32LE(crc32c(footer))
        try sink.write(footer)
        var trailer = [UInt8]()
        trailer.appendUInt32LE(UInt32(footer.count))
        trailer.append(contentsOf: SegmentFormat.magic)
        try sink.write(trailer)
        let bytes = sink.offset
        try sink.commit()
        lap("commit")
        self.sink = nil
        return SegmentInfo(
            id: SegmentInfo.id(fromPath: path), path: path, rowCount: rowCount, minTime: minTime, maxTime: maxTime,
            bytes: bytes, rawBytes: rawBytes, blockCount: blockCount, termCount: termCount,
            resourceCount: resources.count, formatVersion: Int(SegmentFormat.version))
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

    // MARK: Terms

    /// The `key=value` terms of each resource (without repeats).
    func resourceTermBytes() -> [[[UInt8]]] {
        resources.map { resource in
            var terms: [[UInt8]] = []
            for attribute in resource.attributes {
                var term = Array(attribute.key.utf8)
                term.append(UInt8(ascii: "="))
                term.append(contentsOf: attribute.value.utf8)
                if term.count <= SegmentFormat.maxTermLength && !terms.contains(term) { terms.append(term) }
            }
            return terms
        }
    }

    // MARK: Blocks

    mutating func writeBlock(
        rows: ArraySlice<Int>, bodyBytes: Int, resourceTerms: [[[UInt8]]], resourceLocals: inout [[Int]],
        resourceGeneration: inout [Int]
    ) throws {
        let tStart = ContinuousClock.now
        let n = rows.count
        var timestamps = [Int64]()
        var observed = [Int64]()
        var resourceIndexes = [UInt32]()
        var streams = [Int64]()
        var severities = [Int64]()
        var flags = [Int64]()
        var traceIDs = [TraceID?]()
        var spanIDs = [SpanID?]()
        var templates = [Int64]()
        var bodyLengths = [Int64]()
        var attributes = [[Attribute]]()
        timestamps.reserveCapacity(n)
        observed.reserveCapacity(n)
        resourceIndexes.reserveCapacity(n)
        streams.reserveCapacity(n)
        severities.reserveCapacity(n)
        flags.reserveCapacity(n)
        traceIDs.reserveCapacity(n)
        spanIDs.reserveCapacity(n)
        templates.reserveCapacity(n)
        bodyLengths.reserveCapacity(n)
        attributes.reserveCapacity(n)
        var bodies = [UInt8]()
        bodies.reserveCapacity(bodyBytes)
        var scratch = [UInt8]()
        var traceTerm = [UInt8]()
        var spanTerm = [UInt8]()
        scratch.reserveCapacity(64)
        let indexBody = options.indexBody
        var anyAttributes = false
        // The block's term table, in a local for the hot loop (put back before endBlock).
        var table = index.block
        func intern(_ term: [UInt8]) -> Int { term.withUnsafeBytes { table.intern($0.baseAddress!, $0.count)! } }
        // Block-local indexes of the fixed field terms (valid for this block only).
        blockGeneration += 1
        let generation = blockGeneration
        let streamLocals = FieldTerms.streams.map(intern)
        var severityLocals = [Int](repeating: -1, count: 25)
        var flagLocals = [Int](repeating: -1, count: 32)

        for r in rows {
            let resource = resourceOf[r]
            let timestamp = records[r].timestamp
            let severity = records[r].severity
            let stream = records[r].stream
            let recordFlags = records[r].flags
            let traceID = records[r].traceID
            let spanID = records[r].spanID
            let template = templateIDs?[r] ?? 0
            timestamps.append(timestamp)
            observed.append(records[r].observedTimestamp)
            resourceIndexes.append(resource)
            streams.append(Int64(stream.rawValue))
            severities.append(Int64(severity?.rawValue ?? 0))
            flags.append(Int64(recordFlags.rawValue))
            traceIDs.append(traceID)
            spanIDs.append(spanID)
            templates.append(Int64(template))
            if timestamp < minTime { minTime = timestamp }
            if timestamp > maxTime { maxTime = timestamp }

            table.beginRow()
            traceTerm.removeAll(keepingCapacity: true)
            if let traceID {
                traceTerm.append(contentsOf: FieldTerms.traceIDPrefix)
                appendHex(traceID.high, to: &traceTerm)
                appendHex(traceID.low, to: &traceTerm)
            }
            spanTerm.removeAll(keepingCapacity: true)
            if let spanID {
                spanTerm.append(contentsOf: FieldTerms.spanIDPrefix)
                appendHex(spanID.value, to: &spanTerm)
            }
            var body = records[r].body
            body.withUTF8 { utf8 in
                let raw = UnsafeRawBufferPointer(utf8)
                bodies.append(contentsOf: raw)
                bodyLengths.append(Int64(raw.count))
                guard indexBody else { return }
                // The row's own ids are indexed once, as trace_id=/span_id= (docs/FORMAT.md).
                traceTerm.withUnsafeBytes { trace in
                    spanTerm.withUnsafeBytes { span in
                        table.addTokens(
                            of: raw,
                            skippingTrace: trace.isEmpty ? nil : trace.baseAddress! + FieldTerms.traceIDPrefix.count,
                            span: span.isEmpty ? nil : span.baseAddress! + FieldTerms.spanIDPrefix.count)
                    }
                }
            }
            let ri = Int(resource)
            if resourceGeneration[ri] != generation {
                resourceGeneration[ri] = generation
                resourceLocals[ri] = resourceTerms[ri].map(intern)
            }
            for local in resourceLocals[ri] { table.count(local: local) }
            table.count(local: streamLocals[Int(stream.rawValue)])
            if let severity {
                let number = Int(severity.rawValue)
                if severityLocals[number] < 0 {
                    severityLocals[number] = intern(FieldTerms.severity(number))
                }
                table.count(local: severityLocals[number])
            }
            if recordFlags.rawValue != 0 {
                for bit in 0..<32 where recordFlags.rawValue & (1 << UInt32(bit)) != 0 {
                    if flagLocals[bit] < 0 { flagLocals[bit] = intern(FieldTerms.flag(bit)) }
                    table.count(local: flagLocals[bit])
                }
            }
            if !traceTerm.isEmpty { traceTerm.withUnsafeBytes { table.add($0.baseAddress!, $0.count) } }
            if !spanTerm.isEmpty { spanTerm.withUnsafeBytes { table.add($0.baseAddress!, $0.count) } }
            if template != 0 {
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: FieldTerms.templatePrefix)
                scratch.append(contentsOf: String(template).utf8)
                scratch.withUnsafeBytes { table.add($0.baseAddress!, $0.count) }
            }
            let recordAttributes = records[r].attributes
            if !recordAttributes.isEmpty {
                anyAttributes = true
                for attribute in recordAttributes {
                    scratch.removeAll(keepingCapacity: true)
                    scratch.append(contentsOf: attribute.key.utf8)
                    scratch.append(UInt8(ascii: "="))
                    scratch.append(contentsOf: attribute.value.utf8)
                    scratch.withUnsafeBytes { table.add($0.baseAddress!, $0.count) }
                }
            }
            attributes.append(recordAttributes)
        }
        let tA = ContinuousClock.now
        index.block = table
        index.endBlock()
        let tB = ContinuousClock.now
        rawBytes += bodies.count

        var payloads = [[UInt8]?](repeating: nil, count: SegmentFormat.columnCount)
        payloads[ColumnID.timestamp] = ColumnCodecs.encodeTimestamps(timestamps)
        payloads[ColumnID.observed] = ColumnCodecs.encodeObserved(observed, timestamps: timestamps)
        payloads[ColumnID.resource] = ColumnCodecs.encodeResources(resourceIndexes)
        payloads[ColumnID.stream] = ColumnCodecs.encodeSmallInts(streams)
        payloads[ColumnID.severity] = ColumnCodecs.encodeSmallInts(severities)
        payloads[ColumnID.flags] = ColumnCodecs.encodeSmallInts(flags)
        payloads[ColumnID.traceID] = ColumnCodecs.encodeTraceIDs(traceIDs)
        payloads[ColumnID.spanID] = ColumnCodecs.encodeSpanIDs(spanIDs)
        payloads[ColumnID.templateID] = ColumnCodecs.encodeSmallInts(templates)
        if bodies.isEmpty {
            payloads[ColumnID.body] = nil
        } else {
            var out = [UInt8]()
            out.reserveCapacity(bodies.count + 2 * n + 16)
            bodies.withUnsafeBytes { StringArray.encode(lengths: bodyLengths, bytes: $0, into: &out) }
            payloads[ColumnID.body] = out
        }
        payloads[ColumnID.attributes] = anyAttributes ? ColumnCodecs.encodeAttributes(attributes) : nil
        let tC = ContinuousClock.now

        // Metadata.
        var blockMinTime = Int64.max
        var blockMaxTime = Int64.min
        for t in timestamps {
            if t < blockMinTime { blockMinTime = t }
            if t > blockMaxTime { blockMaxTime = t }
        }
        let minResource = resourceIndexes.min()!
        let maxResource = resourceIndexes.max()!
        blockMetaBytes.appendVarint(n)
        blockMetaBytes.appendZigZag(blockMinTime)
        blockMetaBytes.appendVarint(UInt64(bitPattern: blockMaxTime) &- UInt64(bitPattern: blockMinTime))
        blockMetaBytes.appendVarint(UInt64(minResource))
        blockMetaBytes.appendVarint(UInt64(maxResource - minResource))
        blockMetaBytes.appendVarint(bodies.count)
        for payload in payloads {
            guard let payload else {
                blockMetaBytes.appendVarint(0)
                continue
            }
            let stored = try compressor.store(payload)
            try sink!.write(stored)
            blockMetaBytes.appendVarint(stored.count)
            blockMetaBytes.appendVarint(payload.count)
            blockMetaBytes.appendUInt32LE(crc32c(stored))
        }
        blockCount += 1
        let tD = ContinuousClock.now
        timings[0] += tA - tStart
        timings[1] += tB - tA
        timings[2] += tC - tB
        timings[3] += tD - tC
        if debugTiming && blockCount % 200 == 0 { print("TIMING rows/endBlock/columns/compress", timings) }
    }

    // MARK: Sections

    struct SectionRef {
        var offset: Int
        var storedLength: Int
        var rawLength: Int
        var crc: UInt32
        func append(to out: inout [UInt8]) {
            out.appendVarint(offset)
            out.appendVarint(storedLength)
            out.appendVarint(rawLength)
            out.appendUInt32LE(crc)
        }
    }

    func writeSection(_ raw: [UInt8]) throws -> SectionRef {
        let stored = try compressor.store(raw)
        let offset = sink!.offset
        try sink!.write(stored)
        return SectionRef(offset: offset, storedLength: stored.count, rawLength: raw.count, crc: crc32c(stored))
    }

    /// Writes the term dictionary blocks; returns the sparse index section payload and the
    /// number of dictionary blocks.
    func writeDictionary() throws -> (sparse: [UInt8], blocks: Int, terms: Int) {
        var t0 = ContinuousClock.now
        func lap(_ what: String) { let t = ContinuousClock.now; if debugTiming { print("TIMING", what, t - t0) }; t0 = t }
        let ids = index.sortedTermIDs()
        lap("termsort")
        let (starts, postings) = index.groupedPostings(sortedIDs: ids)
        lap("group")
        let perBlock = options.termsPerDictionaryBlock
        let blockBytes = options.dictionaryBlockBytes
        var sparse = [UInt8]()
        var dictionaryBlocks = 0
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
            while g < ids.count && g - groupStart < perBlock && entries.count < blockBytes {
                let term = index.termBytes(Int(ids[g]))
                let shared = sharedPrefixLength(previous, term)
                entries.appendVarint(shared)
                entries.appendVarint(term.count - shared)
                entries.append(contentsOf: UnsafeRawBufferPointer(rebasing: term[shared...]))
                let first = starts[g]
                let last = starts[g + 1]
                entries.appendVarint(last - first)
                var previousBlock: UInt64 = 0
                for k in first..<last {
                    let block = postings[k] >> 32
                    entries.appendVarint(k == first ? block : block - previousBlock - 1)
                    entries.appendVarint(postings[k] & 0xFFFF_FFFF)
                    previousBlock = block
                }
                previous = term
                g += 1
            }
            let groupEnd = g
            raw.removeAll(keepingCapacity: true)
            raw.appendVarint(groupEnd - groupStart)
            raw.append(contentsOf: entries)
            let stored = try compressor.store(raw)
            try sink!.write(stored)
            let firstTerm = index.termBytes(Int(ids[groupStart]))
            sparse.appendVarint(groupEnd - groupStart)
            sparse.appendVarint(stored.count)
            sparse.appendVarint(raw.count)
            sparse.appendUInt32LE(crc32c(stored))
            let shared = sharedPrefixLength(previousFirst, firstTerm)
            sparse.appendVarint(shared)
            sparse.appendVarint(firstTerm.count - shared)
            sparse.append(contentsOf: UnsafeRawBufferPointer(rebasing: firstTerm[shared...]))
            previousFirst = firstTerm
            dictionaryBlocks += 1
            groupStart = groupEnd
        }
        var header = [UInt8]()
        header.appendVarint(dictionaryBlocks)
        sparse.insert(contentsOf: header, at: 0)
        return (sparse, dictionaryBlocks, ids.count)
    }
}

@inline(__always)
func sharedPrefixLength(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    var i = 0
    while i < n && a[i] == b[i] { i += 1 }
    return i
}

private let hexDigitBytes: [UInt8] = Array("0123456789abcdef".utf8)

@inline(__always)
func appendHex(_ value: UInt64, to out: inout [UInt8]) {
    for shift in stride(from: 60, through: 0, by: -4) {
        out.append(hexDigitBytes[Int((value >> UInt64(shift)) & 0xF)])
    }
}

/// The fixed field terms (`stream=…`, `severity=…`, `flag=…`) and id term prefixes.
enum FieldTerms {
    static let traceIDPrefix = Array("trace_id=".utf8)
    static let spanIDPrefix = Array("span_id=".utf8)
    static let templatePrefix = Array("template=".utf8)

    /// Indexed by `LogStream.rawValue`.
    static let streams: [[UInt8]] = [LogStream.stdout, .stderr, .unknown].map { Array(("stream=" + $0.name).utf8) }

    /// `severity=<name>` for a severity number (1...24).
    static func severity(_ number: Int) -> [UInt8] {
        Array(("severity=" + (Severity(number: number)?.name ?? String(number))).utf8)
    }

    /// `flag=<name>` for a `RecordFlags` bit.
    static func flag(_ bit: Int) -> [UInt8] {
        let flag = RecordFlags(rawValue: 1 << UInt32(bit))
        return Array(("flag=" + (RecordFlags.all.first(where: { $0.0 == flag })?.1 ?? "bit\(bit)")).utf8)
    }
}
