import StrataCore

/// nginx / Apache access logs: the common and combined formats, with what commonly follows —
/// ingress-nginx's `upstreaminfo` fields, a bare `$request_time`, `key=value` timings
/// (`rt=0.012 uct="0.001"`), a trailing quoted `traceparent` (left to the trace scanner).
///
///     203.0.113.7 - alice [21/Nov/2026:10:00:00 +0000] "GET /api/v1/orders?page=2 HTTP/1.1" 200 512 "https://shop.example.com/" "curl/8.11.0" 0.012
///
/// Attributes follow the OpenTelemetry semantic conventions: `client.address`, `user.name`,
/// `http.request.method`, `url.path`, `url.query`, `network.protocol.name`/`.version`,
/// `http.response.status_code`, `http.response.body.size`, `http.request.header.referer`,
/// `user_agent.original`, `http.request.size`, `http.server.request.duration` (seconds, as
/// written), and for ingress-nginx `nginx.upstream.name`, `nginx.upstream.address`,
/// `nginx.upstream.response_size`, `nginx.upstream.response_time`, `nginx.upstream.status`,
/// `http.request.id`. Severity: 5xx error, 4xx warn, else info. The body stays the line.
public struct AccessLogParser: LogParser {
    public let name: String
    public let options: DecoderOptions

    public init(name: String = "nginx", options: DecoderOptions = DecoderOptions()) {
        self.name = name
        self.options = options
    }

    /// `host ident user [dd/Mon/yyyy:` at the start.
    static func looksLikeAccessLog(_ b: Bytes) -> Bool {
        let limit = min(b.count, 160)
        var i = 0
        for _ in 0..<3 {
            var tokenEnd = i
            while tokenEnd < limit, b[tokenEnd] > ASCII.space { tokenEnd += 1 }
            guard tokenEnd > i, tokenEnd < limit, b[tokenEnd] == ASCII.space else { return false }
            i = tokenEnd + 1
        }
        return i + 4 < limit && b[i] == ASCII.openBracket && isDigit(b[i + 1]) && isDigit(b[i + 2])
            && b[i + 3] == ASCII.slash
    }

    public func parse(_ record: inout LogRecord) -> Bool {
        ParseOutput.apply(to: &record) { b, output in Self.scan(b, into: &output) }
    }

    @inline(__always)
    static func token(_ b: Bytes, _ i: Int, _ end: Int) -> Range<Int> {
        var j = i
        while j < end, b[j] != ASCII.space { j += 1 }
        return i..<j
    }

    /// A `"…"` field at `i` (nginx escapes quotes inside as `\x22`; Apache as `\"`).
    @inline(__always)
    static func quoted(_ b: Bytes, _ i: Int, _ end: Int) -> (Range<Int>, Int)? {
        guard i < end, b[i] == ASCII.quote else { return nil }
        var j = i + 1
        while j < end, b[j] != ASCII.quote {
            if b[j] == ASCII.backslash { j += 1 }
            j += 1
        }
        guard j < end else { return nil }
        return ((i + 1)..<j, j + 1)
    }

    static func scan(_ b: Bytes, into output: inout ParseOutput) -> Bool {
        let end = b.lineEnd()
        let client = token(b, 0, end)
        guard !client.isEmpty, client.upperBound < end else { return false }
        let ident = token(b, client.upperBound + 1, end)
        guard ident.upperBound < end else { return false }
        let user = token(b, ident.upperBound + 1, end)
        guard user.upperBound + 1 < end, b[user.upperBound + 1] == ASCII.openBracket,
            let (nanos, afterStamp) = TimeScan.nginxStamp(b, at: user.upperBound + 2, end: end),
            afterStamp < end, b[afterStamp] == ASCII.closeBracket, b.hasLiteral(" \"", at: afterStamp + 1),
            let (request, afterRequest) = quoted(b, afterStamp + 2, end), afterRequest < end,
            b[afterRequest] == ASCII.space,
            let status = b.digits(at: afterRequest + 1, count: 3), (100...599).contains(status)
        else { return false }
        var i = afterRequest + 4
        guard i == end || b[i] == ASCII.space else { return false }
        var size: Range<Int>?
        if i < end {
            let sizeToken = token(b, i + 1, end)
            guard b.equals(sizeToken, "-") || b.integer(at: sizeToken.lowerBound, end: sizeToken.upperBound)?.1 == sizeToken.upperBound
            else { return false }
            if !b.equals(sizeToken, "-") { size = sizeToken }
            i = sizeToken.upperBound
        }
        var referer: Range<Int>?
        var agent: Range<Int>?
        if i + 1 < end, b[i + 1] == ASCII.quote, let (r, afterReferer) = quoted(b, i + 1, end) {
            referer = r
            i = afterReferer
            if i + 1 < end, b[i] == ASCII.space, let (a, afterAgent) = quoted(b, i + 1, end) {
                agent = a
                i = afterAgent
            }
        }

        output.severity = status >= 500 ? .error : status >= 400 ? .warn : .info
        output.offerTime(nanos, text: b.string((user.upperBound + 2)..<afterStamp))
        let attributes = AccessAttributes()
        output.attributes.add(attributes.client, b.string(client))
        if !b.equals(user, "-") { output.attributes.add(attributes.user, b.string(user)) }
        requestLine(b, request, into: &output)
        output.attributes.add(attributes.status, String(status))
        if let size { output.attributes.add(attributes.size, b.string(size)) }
        if let referer, !b.equals(referer, "-"), !referer.isEmpty {
            output.attributes.add(attributes.referer, b.string(referer))
        }
        if let agent, !b.equals(agent, "-"), !agent.isEmpty {
            output.attributes.add(attributes.agent, b.string(agent))
        }
        extras(b, from: i, end: end, into: &output)
        return true
    }

    struct AccessAttributes {
        let client = "client.address"
        let user = "user.name"
        let status = "http.response.status_code"
        let size = "http.response.body.size"
        let referer = "http.request.header.referer"
        let agent = "user_agent.original"
    }

    /// `GET /path?query HTTP/1.1`
    static func requestLine(_ b: Bytes, _ request: Range<Int>, into output: inout ParseOutput) {
        let method = token(b, request.lowerBound, request.upperBound)
        guard !method.isEmpty, method.upperBound < request.upperBound, !b.equals(method, "-") else { return }
        for k in method where !isUpper(b[k]) { return }
        output.attributes.add("http.request.method", b.string(method))
        let target = token(b, method.upperBound + 1, request.upperBound)
        if let question = b.firstIndex(of: UInt8(ascii: "?"), from: target.lowerBound, to: target.upperBound) {
            output.attributes.add("url.path", b.string(target.lowerBound..<question))
            output.attributes.add("url.query", b.string((question + 1)..<target.upperBound))
        } else if !target.isEmpty {
            output.attributes.add("url.path", b.string(target))
        }
        let protocolStart = target.upperBound + 1
        if protocolStart < request.upperBound, b.hasLiteral("HTTP/", at: protocolStart) {
            output.attributes.add("network.protocol.name", "http")
            output.attributes.add("network.protocol.version", b.string((protocolStart + 5)..<request.upperBound))
        }
    }

    @inline(__always)
    static func isNumber(_ b: Bytes, _ r: Range<Int>) -> Bool {
        guard !r.isEmpty else { return false }
        var dots = 0
        for k in r {
            if b[k] == ASCII.dot {
                dots += 1
            } else if !isDigit(b[k]) {
                return false
            }
        }
        return dots <= 1
    }

    /// What follows the user agent.
    static func extras(_ b: Bytes, from start: Int, end: Int, into output: inout ParseOutput) {
        var i = start
        guard i < end, b[i] == ASCII.space else { return }
        i += 1
        let first = token(b, i, end)
        // ingress-nginx: `$request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name]
        //                 $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id`
        if isNumber(b, first) {
            let second = token(b, min(first.upperBound + 1, end), end)
            if first.upperBound < end, isNumber(b, second), second.upperBound + 1 < end, b[second.upperBound + 1] == ASCII.openBracket,
                let upstreamNameEnd = b.firstIndex(of: ASCII.closeBracket, from: second.upperBound + 2, to: end),
                b.hasLiteral(" [", at: upstreamNameEnd + 1),
                let alternativeEnd = b.firstIndex(of: ASCII.closeBracket, from: upstreamNameEnd + 3, to: end)
            {
                output.attributes.add("http.request.size", b.string(first))
                output.attributes.add("http.server.request.duration", b.string(second))
                let upstreamName = (second.upperBound + 2)..<upstreamNameEnd
                if !upstreamName.isEmpty { output.attributes.add("nginx.upstream.name", b.string(upstreamName)) }
                var j = alternativeEnd + 1
                let names = ["nginx.upstream.address", "nginx.upstream.response_size", "nginx.upstream.response_time",
                             "nginx.upstream.status", "http.request.id"]
                for name in names {
                    guard j < end, b[j] == ASCII.space else { break }
                    let value = token(b, j + 1, end)
                    guard !value.isEmpty, b[value.lowerBound] != ASCII.quote else { break }
                    if !b.equals(value, "-") { output.attributes.add(name, b.string(value)) }
                    j = value.upperBound
                }
                return
            }
            // A bare `$request_time` at the end.
            if first.upperBound == end || b[first.upperBound] == ASCII.space && first.upperBound + 1 == end {
                if b.firstIndex(of: ASCII.dot, from: first.lowerBound, to: first.upperBound) != nil {
                    output.attributes.add("http.server.request.duration", b.string(first))
                }
                return
            }
        }
        // `rt=0.012 request_time=0.012 uct="0.001" …`
        var pairs: [KeyValuePair] = []
        guard KeyValueScanner.scan(b, from: i, to: end, into: &pairs) else { return }
        for pair in pairs where !pair.bare {
            if b.equals(pair.key, "rt") || b.equals(pair.key, "request_time") {
                output.attributes.add("http.server.request.duration", b.string(pair.value))
            } else if b.equals(pair.key, "urt") || b.equals(pair.key, "upstream_response_time") {
                output.attributes.add("nginx.upstream.response_time", b.string(pair.value))
            }
        }
    }
}
