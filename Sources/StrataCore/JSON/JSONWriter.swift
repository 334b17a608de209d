/// Writes JSON text into a byte buffer without Foundation: the agent's stdout sink and the
/// query output write millions of records, and JSONEncoder is an order of magnitude slower.
public struct JSONWriter {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func rawString(_ text: String) { bytes.append(contentsOf: text.utf8) }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { appendEscaped($0) }
    }

    public mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") { continue }
            if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            default:
                raw("\\u00")
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 0xF)])
            }
        }
        if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    public mutating func integer(_ value: some BinaryInteger) { bytes.append(contentsOf: String(value).utf8) }

    public mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }
}

extension LogRecord {
    /// The record as one JSON object (the agent's stdout sink and `-o json`); keys and
    /// layout are documented in docs/WIRE.md.
    public func writeJSON(into json: inout JSONWriter) {
        json.raw("{\"timestamp\":")
        json.string(RFC3339.format(nanos: timestamp))
        json.raw(",\"observed_timestamp\":")
        json.string(RFC3339.format(nanos: observedTimestamp))
        json.raw(",\"stream\":")
        json.string(stream.name)
        json.raw(",\"body\":")
        json.string(body)
        json.raw(",\"severity\":")
        if let severity { json.string(severity.name) } else { json.raw("null") }
        json.raw(",\"trace_id\":")
        if let traceID { json.string(traceID.description) } else { json.raw("null") }
        json.raw(",\"span_id\":")
        if let spanID { json.string(spanID.description) } else { json.raw("null") }
        json.raw(",\"attributes\":{")
        for (index, attribute) in attributes.enumerated() {
            if index > 0 { json.raw(",") }
            json.key(attribute.key)
            json.string(attribute.value)
        }
        json.raw("},\"resource\":{")
        for (index, attribute) in resource.attributes.enumerated() {
            if index > 0 { json.raw(",") }
            json.key(attribute.key)
            json.string(attribute.value)
        }
        json.raw("},\"flags\":[")
        for (index, name) in flags.names.enumerated() {
            if index > 0 { json.raw(",") }
            json.string(name)
        }
        json.raw("]}")
    }

    public var jsonLine: String {
        var json = JSONWriter()
        writeJSON(into: &json)
        return String(decoding: json.bytes, as: UTF8.self)
    }
}
