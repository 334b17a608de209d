import StrataCore

/// How bad a record is, for counting rates.
public enum RecordLevel: Int, Sendable, Hashable, Comparable, Codable {
    case normal = 0
    case warning = 1
    case error = 2

    public static func < (lhs: RecordLevel, rhs: RecordLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The record's severity when the collector found one; otherwise words in the body that
    /// applications use for failures (`exception`, `failed`, `refused`, a Go `panic:`...).
    public static func of(severity: Severity?, body: String) -> RecordLevel {
        if let severity {
            if severity >= .error { return .error }
            if severity == .warn { return .warning }
            return .normal
        }
        return BodySignals.level(of: body)
    }
}

/// Kubernetes and network failure patterns that name their cause.
public enum FailureSignature: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case oomKilled = "oom_killed"
    case crashLoopBackOff = "crash_loop_back_off"
    case probeFailed = "probe_failed"
    case connectionRefused = "connection_refused"
    case connectionTimedOut = "connection_timed_out"
    /// The container's restart number went up (a new `<n>.log` in the kubelet's layout).
    case restarted

    public static func < (lhs: FailureSignature, rhs: FailureSignature) -> Bool { lhs.rawValue < rhs.rawValue }

    /// True for signatures that say the workload itself is broken, rather than something it calls.
    public var blamesReporter: Bool {
        switch self {
        case .oomKilled, .crashLoopBackOff, .probeFailed, .restarted: true
        case .connectionRefused, .connectionTimedOut: false
        }
    }
}

/// A signature found in one message, with the host it names (for refused/timed-out connections).
public struct SignatureMatch: Sendable, Hashable {
    public var signature: FailureSignature
    public var host: String?
}

/// Scans message bodies. Everything here works on lowercased ASCII and is independent of any
/// application: the words are the ones runtimes, libraries and Kubernetes itself print.
public enum BodySignals {
    static let errorWords = [
        "exception", "error", "fatal", "panic", "failed", "failure", "refused", "timed out", "timeout",
        "traceback", "critical", "unreachable", "denied",
    ]
    static let warningWords = ["warn", "retrying", "retry ", "deprecated", "slow "]

    public static func level(of body: String) -> RecordLevel {
        let head = lowercasedHead(body)
        if errorWords.contains(where: { containsWord(head, $0) }) { return .error }
        if warningWords.contains(where: { head.contains($0) }) { return .warning }
        return .normal
    }

    /// Failure signatures in `body`; empty for almost every message, so the common path is
    /// a few `contains` checks on the lowercased first kilobyte.
    public static func signatures(in body: String) -> [SignatureMatch] {
        let text = lowercasedHead(body)
        var found: [SignatureMatch] = []
        if text.contains("oomkilled") || text.contains("outofmemoryerror") || text.contains("out of memory")
            || text.contains("oom-kill") || text.contains("memory cgroup out of memory")
        {
            found.append(SignatureMatch(signature: .oomKilled))
        }
        if text.contains("crashloopbackoff") || text.contains("back-off restarting failed container") {
            found.append(SignatureMatch(signature: .crashLoopBackOff))
        }
        if text.contains("probe failed") || text.contains("probe errored") {
            found.append(SignatureMatch(signature: .probeFailed))
        }
        if text.contains("connection refused") || text.contains("econnrefused") || text.contains("connectexception") {
            found.append(SignatureMatch(signature: .connectionRefused, host: HostReferences.firstHost(in: body)))
        }
        if text.contains("timed out") || text.contains("i/o timeout") || text.contains("deadline exceeded")
            || text.contains("sockettimeoutexception") || text.contains("etimedout") || text.contains("read timeout")
            || text.contains("connect timeout")
        {
            found.append(SignatureMatch(signature: .connectionTimedOut, host: HostReferences.firstHost(in: body)))
        }
        return found
    }

    static func lowercasedHead(_ body: String) -> String {
        let utf8 = body.utf8
        if utf8.count <= 1024 { return body.lowercased() }
        return String(decoding: utf8.prefix(1024), as: UTF8.self).lowercased()
    }

    /// `word` not glued to letters on either side ("error" matches "error:" and "NullPointerException"
    /// ends with "exception", so suffix matches count; "terror" does not).
    static func containsWord(_ text: String, _ word: String) -> Bool {
        var searchStart = text.startIndex
        while let range = text.range(of: word, range: searchStart..<text.endIndex) {
            let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
            let leftOK = before.map { !$0.isLetter } ?? true
            let rightFree = after.map { !$0.isLetter } ?? true
            if leftOK && (rightFree || after == "s") { return true }
            // Java class names end with the word (`IllegalStateException`, `AssertionError`);
            // glued on the left, it must then end the word ("terrors" is not an error).
            if !leftOK && rightFree && (word == "exception" || word == "error") { return true }
            searchStart = range.upperBound
        }
        return false
    }
}

/// Names of other services found in messages: URL hosts, `host:port`, Kubernetes service DNS
/// names (`svc.ns.svc.cluster.local`), and URL path segments.
public enum HostReferences {
    /// Every host-like token in `body` (lowercased, DNS suffixes stripped to the first label).
    public static func hosts(in body: String) -> [String] {
        var result: [String] = []
        let text = BodySignals.lowercasedHead(body)
        for token in text.split(whereSeparator: { " \t\n\"'()[]{}<>,;=@|`".contains($0) }) {
            var candidate = Substring(token)
            if let scheme = candidate.range(of: "://") {
                candidate = candidate[scheme.upperBound...]
                candidate = candidate.prefix { $0 != "/" && $0 != "?" }
            } else if let colon = candidate.lastIndex(of: ":"),
                candidate[candidate.index(after: colon)...].allSatisfy(\.isNumber),
                candidate.index(after: colon) < candidate.endIndex
            {
                candidate = candidate[..<colon]
            } else if candidate.hasSuffix(".svc") || candidate.contains(".svc.") {
                // a bare service DNS name
            } else {
                continue
            }
            if let at = candidate.lastIndex(of: "@") { candidate = candidate[candidate.index(after: at)...] }
            if let colon = candidate.firstIndex(of: ":") { candidate = candidate[..<colon] }
            while let last = candidate.last, !last.isLetter && !last.isNumber { candidate = candidate.dropLast() }
            guard let first = candidate.split(separator: ".").first, first.count >= 2,
                first.first?.isLetter == true, !isIPv4Octet(first)
            else { continue }
            result.append(String(first))
        }
        return result
    }

    public static func firstHost(in body: String) -> String? { hosts(in: body).first }

    /// Path segments of URLs and `/api/...` paths, which often name the service they address.
    public static func pathSegments(in body: String) -> [String] {
        var result: [String] = []
        let text = BodySignals.lowercasedHead(body)
        for token in text.split(whereSeparator: { " \t\n\"'()[]{}<>,;=@|`".contains($0) }) where token.contains("/") {
            for segment in token.split(separator: "/") where segment.count >= 6 && segment.allSatisfy({ $0.isLetter || $0 == "-" || $0 == "_" }) {
                result.append(String(segment))
            }
        }
        return result
    }

    static func isIPv4Octet(_ text: Substring) -> Bool { text.allSatisfy(\.isNumber) }
}

/// Maps names found in messages onto known workloads: exact names, or names that equal the
/// workload's name once punctuation is removed (`basicservice` for `ts-basic-service`), as
/// long as exactly one workload matches.
public struct ReferenceResolver: Sendable {
    private var exact: [String: Workload] = [:]
    private var normalized: [(key: String, workload: Workload)] = []

    public init(workloads: some Sequence<Workload>) {
        for workload in workloads {
            exact[workload.name.lowercased()] = workload
            normalized.append((Self.normalize(workload.name), workload))
        }
    }

    public func resolve(_ name: String) -> Workload? {
        if let workload = exact[name] { return workload }
        let key = Self.normalize(name)
        guard key.count >= 5 else { return nil }
        let matches = normalized.filter { $0.key == key || ($0.key.hasSuffix(key) && key.count * 10 >= $0.key.count * 7) }
        if matches.count == 1 { return matches[0].workload }
        return matches.first { $0.key == key }?.workload
    }

    static func normalize(_ name: String) -> String {
        String(name.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }.map(Character.init))
    }
}

/// Trace context written in message text: `TraceID: <32 hex> SpanID: <16 hex>`, `trace_id=`,
/// `traceId":"...`, W3C `traceparent` values. Used when the collector did not fill the fields.
public enum TextTraceContext {
    public static func extract(from body: String) -> (trace: TraceID?, span: SpanID?) {
        let utf8 = Array(body.utf8.prefix(2048))
        var trace: TraceID?
        var span: SpanID?
        if let range = findHexAfterKey(utf8, keys: ["traceid", "trace_id", "trace-id", "trace.id"], length: 32) {
            trace = TraceID(hex: String(decoding: utf8[range], as: UTF8.self))
        }
        if let range = findHexAfterKey(utf8, keys: ["spanid", "span_id", "span-id", "span.id"], length: 16) {
            span = SpanID(hex: String(decoding: utf8[range], as: UTF8.self))
        }
        if trace == nil, let parent = findTraceparent(utf8) {
            trace = parent.0
            span = span ?? parent.1
        }
        return (trace, span)
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) || (byte >= 65 && byte <= 70)
    }

    private static func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }

    /// The hex run of exactly `length` digits that follows one of `keys` (case-insensitive),
    /// skipping separators such as `: `, `=`, `":"`.
    private static func findHexAfterKey(_ bytes: [UInt8], keys: [String], length: Int) -> Range<Int>? {
        for key in keys {
            let needle = Array(key.utf8)
            var i = 0
            while i + needle.count <= bytes.count {
                var matched = true
                for k in 0..<needle.count where lower(bytes[i + k]) != needle[k] {
                    matched = false
                    break
                }
                if matched {
                    var j = i + needle.count
                    var skipped = 0
                    while j < bytes.count, skipped < 4, [58, 61, 32, 34, 39].contains(bytes[j]) {
                        j += 1
                        skipped += 1
                    }
                    var end = j
                    while end < bytes.count, isHex(bytes[end]) { end += 1 }
                    if end - j == length { return j..<end }
                }
                i += 1
            }
        }
        return nil
    }

    private static func findTraceparent(_ bytes: [UInt8]) -> (TraceID, SpanID?)? {
        // 00-<32 hex>-<16 hex>-<2 hex>
        guard bytes.count >= 55 else { return nil }
        var i = 0
        while i + 55 <= bytes.count {
            if bytes[i] == 48, bytes[i + 1] == 48, bytes[i + 2] == 45, bytes[i + 35] == 45, bytes[i + 52] == 45,
                (i + 3..<i + 35).allSatisfy({ isHex(bytes[$0]) }), (i + 36..<i + 52).allSatisfy({ isHex(bytes[$0]) })
            {
                if let trace = TraceID(hex: String(decoding: bytes[(i + 3)..<(i + 35)], as: UTF8.self)) {
                    return (trace, SpanID(hex: String(decoding: bytes[(i + 36)..<(i + 52)], as: UTF8.self)))
                }
            }
            i += 1
        }
        return nil
    }
}
