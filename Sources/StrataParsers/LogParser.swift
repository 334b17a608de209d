import StrataCore

/// Turns a record's raw body into structure: the application's timestamp, severity, trace
/// context and fields. Parsers never drop a record: one that does not recognise a body leaves
/// the record as it came and returns false.
public protocol LogParser: Sendable {
    /// The name used in `parsers/*.yaml` and `pipelines/collector.yaml`.
    var name: String { get }
    /// Updates `record` and returns true when the body is in this parser's format.
    func parse(_ record: inout LogRecord) -> Bool
}
