import StrataCore

/// Collects the index terms of one block's rows into the block's term table (docs/FORMAT.md,
/// "Index terms"): body tokens, resource `key=value` terms, the fixed field terms, the row's
/// trace and span ids, its template and its attributes.
///
/// Lives for the whole segment: it caches each resource's terms and the block-local indexes of
/// terms every row repeats, so a row costs one hash lookup per term only where it must. The
/// table itself stays with the caller, in a local variable for the block's loop: the tokenizer
/// runs inside it, and a table kept in memory the optimizer cannot see into is measurably slower.
struct BlockTermIndexer {
    let indexBody: Bool
    /// The `key=value` terms of each resource (without repeats and over-long terms).
    private let resourceTerms: [[[UInt8]]]
    /// Block-local indexes of each resource's terms, valid while `resourceGeneration` equals
    /// the current block's generation.
    private var resourceLocals: [[Int]]
    private var resourceGeneration: [Int]
    private var generation = 0

    private var streamLocals: [Int] = []
    private var severityLocals: [Int] = []
    private var flagLocals: [Int] = []
    private var traceTerm: [UInt8] = []
    private var spanTerm: [UInt8] = []
    private var scratch: [UInt8] = []

    init(resources: [Resource], indexBody: Bool) {
        self.indexBody = indexBody
        resourceTerms = resources.map(Self.terms(of:))
        resourceLocals = [[Int]](repeating: [], count: resources.count)
        resourceGeneration = [Int](repeating: -1, count: resources.count)
        scratch.reserveCapacity(64)
    }

    /// Starts a block in `table` (the builder's, emptied by its last `endBlock`).
    mutating func beginBlock(_ table: inout BlockTermTable) {
        generation += 1
        streamLocals = FieldTerms.streams.map { Self.intern($0, in: &table) }
        severityLocals = [Int](repeating: -1, count: 25)
        flagLocals = [Int](repeating: -1, count: 32)
    }

    /// Counts the terms of one row in the block's `table`; `body` is the record's body as UTF-8.
    @inline(__always)
    mutating func indexRow(
        _ record: LogRecord, resource: Int, template: UInt32, body: UnsafeRawBufferPointer, into table: inout BlockTermTable
    ) {
        table.beginRow()
        traceTerm.removeAll(keepingCapacity: true)
        if let traceID = record.traceID {
            traceTerm.append(contentsOf: FieldTerms.traceIDPrefix)
            appendHex(traceID.high, to: &traceTerm)
            appendHex(traceID.low, to: &traceTerm)
        }
        spanTerm.removeAll(keepingCapacity: true)
        if let spanID = record.spanID {
            spanTerm.append(contentsOf: FieldTerms.spanIDPrefix)
            appendHex(spanID.value, to: &spanTerm)
        }
        if indexBody { Self.indexTokens(of: body, traceTerm: traceTerm, spanTerm: spanTerm, into: &table) }
        if resourceGeneration[resource] != generation {
            resourceGeneration[resource] = generation
            resourceLocals[resource] = resourceTerms[resource].map { Self.intern($0, in: &table) }
        }
        for local in resourceLocals[resource] { table.count(local: local) }
        table.count(local: streamLocals[Int(record.stream.rawValue)])
        if let severity = record.severity {
            let number = Int(severity.rawValue)
            if severityLocals[number] < 0 { severityLocals[number] = Self.intern(FieldTerms.severity(number), in: &table) }
            table.count(local: severityLocals[number])
        }
        let flagBits = record.flags.rawValue
        if flagBits != 0 {
            for bit in 0..<32 where flagBits & (1 << UInt32(bit)) != 0 {
                if flagLocals[bit] < 0 { flagLocals[bit] = Self.intern(FieldTerms.flag(bit), in: &table) }
                table.count(local: flagLocals[bit])
            }
        }
        Self.add(traceTerm, to: &table)
        Self.add(spanTerm, to: &table)
        if template != 0 {
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: FieldTerms.templatePrefix)
            scratch.append(contentsOf: String(template).utf8)
            Self.add(scratch, to: &table)
        }
        for attribute in record.attributes {
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: attribute.key.utf8)
            scratch.append(UInt8(ascii: "="))
            scratch.append(contentsOf: attribute.value.utf8)
            Self.add(scratch, to: &table)
        }
    }

    /// Body tokens, except the row's own ids: those are indexed once, as `trace_id=`/`span_id=`.
    @inline(__always)
    private static func indexTokens(
        of body: UnsafeRawBufferPointer, traceTerm: [UInt8], spanTerm: [UInt8], into table: inout BlockTermTable
    ) {
        let traceStart = FieldTerms.traceIDPrefix.count
        let spanStart = FieldTerms.spanIDPrefix.count
        traceTerm.withUnsafeBytes { trace in
            spanTerm.withUnsafeBytes { span in
                table.addTokens(
                    of: body,
                    skippingTrace: trace.count > traceStart ? trace.baseAddress.map { $0 + traceStart } : nil,
                    span: span.count > spanStart ? span.baseAddress.map { $0 + spanStart } : nil)
            }
        }
    }

    /// Counts `term` for the current row (nothing for an empty one).
    @inline(__always)
    private static func add(_ term: [UInt8], to table: inout BlockTermTable) {
        guard !term.isEmpty else { return }
        term.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { table.add(base, bytes.count) }
        }
    }

    /// The block-local index of a field or resource term. Every such term is short and
    /// non-empty (resource terms are filtered in `terms(of:)`), so the table always takes it.
    private static func intern(_ term: [UInt8], in table: inout BlockTermTable) -> Int {
        let local = term.withUnsafeBytes { bytes in bytes.baseAddress.flatMap { table.intern($0, bytes.count) } }
        guard let local else { preconditionFailure("field term '\(String(decoding: term, as: UTF8.self))' was not indexable") }
        return local
    }

    /// The `key=value` terms of a resource, without repeats and without terms too long to index.
    private static func terms(of resource: Resource) -> [[UInt8]] {
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
