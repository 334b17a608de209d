import StrataCore

/// Attribute names the normalization layer writes besides the parsers' own fields.
public enum NormalizedKey {
    /// The runtime's timestamp (RFC 3339, UTC), kept when the application's own time replaced
    /// it and the two differ by more than one second.
    public static let runtimeTime = "k8s.runtime.time"
    /// The application's time text, kept when a text parser found a time it could not adopt
    /// (unreadable, or more than a day away from the runtime time).
    public static let originalTime = "log.time.original"
}

/// The time rule's limits (docs/PARSERS.md, "Timestamps").
enum TimeRule {
    static let plausibleWindow: Int64 = 86_400 * 1_000_000_000
    static let keepRuntimeAbove: Int64 = 1_000_000_000
    /// Time zones are whole quarter hours from UTC, between -12 h and +14 h.
    static let zoneStep: Int64 = 900 * 1_000_000_000
    static let zoneSteps = -48...56
    /// How far from a whole zone step a stamp may lie and still count as written in another zone:
    /// the runtime stamps a line milliseconds after the application, but a coarse or buffered
    /// application stamp can lag further.
    static let zoneTolerance: Int64 = 60 * 1_000_000_000

    /// The application time with a time-zone error removed: when it differs from the runtime
    /// time by a whole number of quarter hours (give or take `zoneTolerance`), the application
    /// wrote local time without its offset (or with a wrong one). The runtime's clock is the
    /// reference for every line on a node, so the stamp is moved by that many quarter hours.
    static func zoneCorrected(_ time: Int64, runtime: Int64) -> Int64 {
        let (difference, overflow) = time.subtractingReportingOverflow(runtime)
        guard !overflow, difference.magnitude > UInt64(zoneTolerance), difference.magnitude <= UInt64(plausibleWindow)
        else { return time }
        let steps = (difference + (difference < 0 ? -zoneStep / 2 : zoneStep / 2)) / zoneStep
        guard steps != 0, zoneSteps.contains(Int(steps)),
            (difference - steps * zoneStep).magnitude <= UInt64(zoneTolerance)
        else { return time }
        return time - steps * zoneStep
    }
}

/// Record attributes being built: insertion order, unique keys (a later value replaces an
/// earlier one). A 64-bit filter of key hashes makes the uniqueness check nearly free.
struct AttributeSink {
    var attributes: [Attribute]
    private var filter: UInt64 = 0

    init(existing: [Attribute]) {
        attributes = existing
        for attribute in existing { filter |= 1 << (attribute.key.fnv1aHash & 63) }
    }

    @inline(__always)
    mutating func add(_ key: String, _ value: String, hash: UInt64) {
        let bit: UInt64 = 1 << (hash & 63)
        if filter & bit != 0, let index = attributes.firstIndex(where: { $0.key == key }) {
            attributes[index].value = value
            return
        }
        filter |= bit
        if attributes.capacity == 0 { attributes.reserveCapacity(12) }
        attributes.append(Attribute(key, value))
    }

    @inline(__always)
    mutating func add(_ key: String, _ value: String) { add(key, value, hash: key.fnv1aHash) }

    var isEmpty: Bool { attributes.isEmpty }
}

/// What a parser found, applied to the record in one step when the whole body was understood
/// (a parser that gives up leaves the record untouched).
struct ParseOutput {
    let runtime: Int64
    var attributes: AttributeSink
    var time: Int64?
    var severity: Severity?
    var body: String?
    var traceID: TraceID?
    var spanID: SpanID?

    init(record: LogRecord) {
        runtime = record.timestamp
        attributes = AttributeSink(existing: record.attributes)
    }

    /// Takes `nanos` as the application's time when it is within a day of the runtime time;
    /// returns false otherwise (the caller keeps the text as an attribute).
    @inline(__always)
    mutating func offerTime(_ nanos: Int64) -> Bool {
        let (difference, overflow) = nanos.subtractingReportingOverflow(runtime)
        guard !overflow, difference.magnitude <= UInt64(TimeRule.plausibleWindow) else { return false }
        time = nanos
        return true
    }

    /// For text formats: adopts the time, or keeps its text in `log.time.original`.
    @inline(__always)
    mutating func offerTime(_ nanos: Int64?, text: @autoclosure () -> String) {
        if let nanos, offerTime(nanos) { return }
        attributes.add(NormalizedKey.originalTime, text())
    }

    /// Runs `scan` over the body's bytes and commits what it found; the record is left
    /// untouched when the scan does not understand the line, so the next parser sees it as it came.
    @inline(__always)
    static func apply(to record: inout LogRecord, _ scan: (Bytes, inout ParseOutput) -> Bool) -> Bool {
        var output = ParseOutput(record: record)
        guard record.body.withBytes({ scan($0, &output) }) else { return false }
        output.commit(to: &record)
        return true
    }

    /// Whether `time` is the runtime time `runtime` truncated to the application stamp's
    /// precision (whole seconds or milliseconds): nginx's `$time_local`, syslog and many text
    /// layouts write whole seconds. Taking such a stamp would only lose precision and reorder
    /// the lines of one request across services (the caller's line, written last, would sort
    /// before its callees'), so the runtime time stays.
    static func isCoarserStamp(_ time: Int64, of runtime: Int64) -> Bool {
        let precision: Int64
        if time % 1_000_000_000 == 0 {
            precision = 1_000_000_000
        } else if time % 1_000_000 == 0 {
            precision = 1_000_000
        } else {
            return false
        }
        let (lag, overflow) = runtime.subtractingReportingOverflow(time)
        return !overflow && lag >= 0 && lag < precision
    }

    func commit(to record: inout LogRecord) {
        if let stamped = time, case let time = TimeRule.zoneCorrected(stamped, runtime: record.timestamp),
            !Self.isCoarserStamp(time, of: record.timestamp)
        {
            let difference = time.subtractingReportingOverflow(record.timestamp)
            if difference.overflow || difference.partialValue.magnitude > UInt64(TimeRule.keepRuntimeAbove) {
                var sink = attributes
                sink.add(NormalizedKey.runtimeTime, RFC3339.format(nanos: record.timestamp))
                record.attributes = sink.attributes
            } else {
                record.attributes = attributes.attributes
            }
            record.timestamp = time
        } else {
            record.attributes = attributes.attributes
        }
        if let severity { record.severity = severity }
        if let body { record.body = body }
        if let traceID { record.traceID = traceID }
        if let spanID { record.spanID = spanID }
    }
}

/// Shared settings of the built-in decoders.
public struct DecoderOptions: Sendable, Hashable {
    /// Offset from UTC, in seconds, of time stamps that carry none.
    public var utcOffset: Int
    public init(utcOffset: Int = 0) { self.utcOffset = utcOffset }
}
