import StrataCore
import Synchronization

/// The formats auto-detection chooses between.
public enum LogFormat: Int, Sendable, CaseIterable {
    case json, logfmt, klog, logback, python, access, syslog

    /// The registry name of the format's parser.
    public var parserName: String {
        switch self {
        case .json: "json"
        case .logfmt: "logfmt"
        case .klog: "klog"
        case .logback: "logback"
        case .python: "python"
        case .access: "nginx"
        case .syslog: "syslog"
        }
    }
}

/// `parser: auto`: picks a parser per record from its first bytes, remembering per source
/// (container id, else file path; and stream) the format that last worked, so a container's
/// format is detected once and re-checked only when its parser fails.
///
/// Decision on the first bytes (docs/PARSERS.md, "Auto-detection"):
/// `{` json · `<digits>` syslog · `[IWEF]dddd hh:` klog · `yyyy-mm-dd` / `yyyy/mm/dd` / `[date`
/// python, then logback · `hh:mm:ss` logback · `host ident user [dd/Mon/` access log ·
/// `LEVEL:name:` python · `key=` logfmt. When no candidate understands the record, a leading
/// time stamp alone is taken (never remembered); otherwise the record stays as it came.
public final class AutoDetector: LogParser, @unchecked Sendable {
    public let name = "auto"
    private let parsers: [any LogParser]
    private let timestamp: any LogParser
    private let shards: [FormatCacheShard]
    private let capacityPerShard: Int

    struct SourceKey: Hashable {
        var source: String
        var stream: UInt8
    }

    /// Uses the registry's parsers for each format's name (so a `parsers/logback.yaml` that sets
    /// a time zone applies here too), falling back to the defaults.
    public init(registry: ParserRegistry = .builtins, cacheCapacity: Int = 65_536) {
        parsers = LogFormat.allCases.map { format in
            registry.parser(named: format.parserName)
                ?? ParserRegistry.builtin(decoder: format.parserName, name: format.parserName, options: DecoderOptions())!
        }
        timestamp = registry.parser(named: "timestamp") ?? TimestampPrefixParser()
        shards = (0..<16).map { _ in FormatCacheShard() }
        capacityPerShard = max(1, cacheCapacity / 16)
    }

    static let dateFirst: [LogFormat] = [.python, .logback]
    static let json: [LogFormat] = [.json]
    static let syslog: [LogFormat] = [.syslog]
    static let klog: [LogFormat] = [.klog]
    static let logback: [LogFormat] = [.logback]
    static let python: [LogFormat] = [.python]
    static let access: [LogFormat] = [.access]
    static let logfmt: [LogFormat] = [.logfmt]
    static let none: [LogFormat] = []

    /// The formats worth trying for a body, in order.
    public static func candidates(for body: String) -> [LogFormat] { body.withBytes { candidates($0) } }

    static func candidates(_ b: Bytes) -> [LogFormat] {
        guard b.count >= 2 else { return none }
        let c = b[0]
        switch c {
        case ASCII.openBrace:
            return json
        case ASCII.lessThan:
            return SyslogParser.priority(b) != nil ? syslog : none
        case ASCII.openBracket:
            return b.count > 5 && isDigit(b[1]) ? dateFirst : none
        case UInt8(ascii: "I"), UInt8(ascii: "W"), UInt8(ascii: "E"), UInt8(ascii: "F"):
            if KlogParser.looksLikeKlog(b) { return klog }
        default:
            break
        }
        if isDigit(c), b.count >= 8 {
            if b.digits(at: 0, count: 4) != nil, b.count > 10, b[4] == ASCII.minus || b[4] == ASCII.slash,
                isDigit(b[5]), isDigit(b[6]), b[7] == b[4]
            {
                return dateFirst
            }
            if isDigit(b[1]), b[2] == ASCII.colon, isDigit(b[3]), isDigit(b[4]), b[5] == ASCII.colon {
                return logback
            }
        }
        if isUpper(c) {
            var i = 1
            while i < b.count, i < 10, isUpper(b[i]) { i += 1 }
            if i >= 4, i < b.count, b[i] == ASCII.colon, SeverityWords.match(b, 0..<i) != nil { return python }
        }
        if AccessLogParser.looksLikeAccessLog(b) { return access }
        if LogfmtParser.startsWithPair(b, end: b.lineEnd()) { return logfmt }
        return none
    }

    @inline(__always)
    func sourceKey(_ record: LogRecord) -> SourceKey? {
        guard let source = record.resource[ResourceKey.containerID] ?? record.resource[ResourceKey.logFilePath] else {
            return nil
        }
        return SourceKey(source: source, stream: record.stream.rawValue)
    }

    @inline(__always)
    private func shard(_ key: SourceKey) -> FormatCacheShard {
        shards[Int(truncatingIfNeeded: UInt(bitPattern: key.source.hashValue) &+ UInt(key.stream)) & 15]
    }

    /// The format remembered for the record's source, if any.
    public func rememberedFormat(for record: LogRecord) -> LogFormat? {
        guard let key = sourceKey(record) else { return nil }
        return shard(key).formats.withLock { $0[key] }
    }

    public func parse(_ record: inout LogRecord) -> Bool {
        let key = sourceKey(record)
        var remembered: LogFormat?
        if let key {
            remembered = shard(key).formats.withLock { $0[key] }
            if let remembered, parsers[remembered.rawValue].parse(&record) { return true }
        }
        let candidates = record.body.withBytes { Self.candidates($0) }
        for format in candidates where format != remembered {
            if parsers[format.rawValue].parse(&record) {
                if let key {
                    let capacity = capacityPerShard
                    shard(key).formats.withLock { cache in
                        if cache.count >= capacity, cache[key] == nil { cache.removeAll(keepingCapacity: true) }
                        cache[key] = format
                    }
                }
                return true
            }
        }
        return timestamp.parse(&record)
    }

    /// One sixteenth of the remembered formats, so parsing threads seldom wait for each other
    /// (a class because a `Mutex` cannot be copied into an array).
    private final class FormatCacheShard: Sendable {
        let formats = Mutex<[SourceKey: LogFormat]>([:])
    }
}
