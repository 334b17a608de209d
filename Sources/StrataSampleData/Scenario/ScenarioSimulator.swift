import Foundation

/// One record a workload writes: its lines (the first one starts the record, the others are
/// stack-trace continuations), where and when.
struct ScenarioEvent: Sendable {
    var time: Int64
    var pod: Int
    var stream: LogStream
    var lines: [String]
    /// As a parser reads it from the line (nil when the line names no level).
    var severity: String?
    var trace: LineTrace?
    /// Emission order, to keep records of equal time in a stable order.
    var sequence: Int
}

/// Why a call failed, as the caller sees it.
enum CallFailure: Sendable {
    /// Nothing listens: the pod is dead or not in the Service's endpoints.
    case refused
    /// The server died in the middle of the request.
    case reset
    /// The caller gave up waiting.
    case timeout
    /// An HTTP error answer.
    case status(Int)
    /// An error the datastore answered with, in its own words.
    case datastore(String)
}

struct CallResult: Sendable {
    /// When the caller holds the answer (or gave up).
    var end: Int64
    var status: Int
    var failure: CallFailure?

    static func ok(_ end: Int64, _ status: Int = 200) -> CallResult { CallResult(end: end, status: status, failure: nil) }
}

/// What a caller asks for.
enum Ask: Sendable {
    case page(Page)
    case product(Int)
    case search(String)
    case history
    case placeOrder
    case reserve
    case quote
    case charge
    case sql(write: Bool)
    case redis(write: Bool, key: String)
}

enum Page: CaseIterable, Sendable {
    case browse, search, history, checkout

    var method: String { self == .checkout ? "POST" : "GET" }
}

/// The request being served: ids that appear in several services' lines.
struct RequestContext: Sendable {
    var traceID: String
    var customer: Int
    var order: Int
    var product: Int
    var sku: Int
    var quantity: Int
    var amount: String
    var query: String
    var page: Page
}

/// Plays the scenario: requests enter at the ingress, cross the services, and every line
/// the workloads would write is collected as an event. Single-threaded and driven by one
/// seeded generator, so a spec always gives the same events.
struct ScenarioSimulator {
    let spec: IncidentScenarioSpec
    let workloads = ScenarioTopology.workloads
    private(set) var pods: [ScenarioPod]
    let podsOf: [[Int]]
    let faulty: Int
    private var rng: SplitMix64
    private(set) var events: [ScenarioEvent] = []
    private var sequence = 0
    private(set) var baselineRequests = 0
    private(set) var windowRequests = 0
    private(set) var baselineFailures = 0
    private(set) var windowFailures = 0
    /// ClusterIP of each workload's Service.
    private let serviceIPs: [String]

    static let ms: Int64 = 1_000_000
    static let second: Int64 = 1_000_000_000

    init(spec: IncidentScenarioSpec, pods: [ScenarioPod], faulty: Int) {
        self.spec = spec
        self.pods = pods
        self.faulty = faulty
        var podsOf = [[Int]](repeating: [], count: ScenarioTopology.workloads.count)
        for (i, pod) in pods.enumerated() { podsOf[pod.workload].append(i) }
        self.podsOf = podsOf
        var ipRng = SplitMix64(seed: spec.seed, stream: 7_002)
        serviceIPs = ScenarioTopology.workloads.map { _ in "10.96.\(ipRng.int(0...255)).\(ipRng.int(2...254))" }
        rng = SplitMix64(seed: spec.seed, stream: 7_001)
    }

    // MARK: - Running

    mutating func run() {
        scheduleCrashes()
        let edge = workloads.firstIndex { $0.role == .edge } ?? 0
        var t = spec.startTime + Int64(rng.int(0...500)) * Self.ms
        let phase = rng.unit() * 2 * Double.pi
        while t < spec.endTime {
            ingress(edge, at: t)
            // A Poisson process whose rate drifts slowly, as traffic does.
            let elapsed = Double(t - spec.startTime) / 1e9
            // The window's extra load, when the spec asks for one (1 by default here, so the
            // cascade's bytes stay what they always were).
            let load = t >= faultStart && t < faultEnd ? spec.windowLoadFactor ?? 1 : 1
            let rate = max(0.01, spec.requestsPerSecond * load * (1 + 0.2 * sin(elapsed / 2400 * 2 * Double.pi + phase)))
            t += Int64(-log(1 - rng.unit()) / rate * 1e9) + 1
        }
        background()
        startups()
    }

    var faultStart: Int64 { spec.faultStart }
    var faultEnd: Int64 { spec.faultEnd }

    func faultActive(_ workload: Int, _ kind: IncidentFaultKind, at t: Int64) -> Bool {
        workload == faulty && spec.faultKind == kind && t >= faultStart && t < faultEnd
    }

    private mutating func millis(_ range: ClosedRange<Double>) -> Int64 {
        Int64((range.lowerBound + rng.unit() * (range.upperBound - range.lowerBound)) * 1e6)
    }

    private mutating func newSpan() -> String { HexNumber.digits(rng.next(), 16) }

    private mutating func emit(
        _ pod: Int, _ time: Int64, _ stream: LogStream, _ lines: [String], severity: String?, trace: LineTrace? = nil
    ) {
        // A dead container writes nothing.
        guard pods[pod].restart(at: time) != nil else { return }
        events.append(ScenarioEvent(time: time, pod: pod, stream: stream, lines: lines, severity: severity, trace: trace, sequence: sequence))
        sequence += 1
    }

    // MARK: - Crashes

    /// The faulty workload's containers die again and again while the fault lasts, each
    /// restart waiting longer (the kubelet's back-off: at once, then 10 s, 20 s, 40 s...).
    private mutating func scheduleCrashes() {
        guard spec.faultKind == .crash else { return }
        let startup = workloads[faulty].format.startupSeconds
        for pod in podsOf[faulty] {
            var crash = faultStart + millis(2_000...25_000)
            var backoff = 1.0
            while crash < faultEnd {
                let start = crash + Int64(backoff * 1e9) + millis(200...900)
                let ready = start + millis(startup.lowerBound * 1000...startup.upperBound * 1000)
                pods[pod].restarts.append((crash, start, ready))
                backoff = backoff < 10 ? 10 : min(300, backoff * 2)
                // Memory fills up again after a minute or two of traffic.
                crash = ready + millis(35_000...100_000)
            }
        }
        for pod in podsOf[faulty] {
            for r in pods[pod].restarts { lastWords(pod, before: r.crash) }
        }
    }

    /// What a process writes just before it dies; nothing when the kernel kills it.
    private mutating func lastWords(_ pod: Int, before crash: Int64) {
        let w = workloads[pods[pod].workload]
        let t = crash - millis(40...1_500)
        switch w.format {
        case .springBoot2, .springBoot3:
            var lines = [springHeader(w, t, "ERROR", trace: nil, thread: "nio-8080-exec-\(rng.int(1...10))",
                                      logger: "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
                                      message: "Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Handler dispatch failed: java.lang.OutOfMemoryError: Java heap space] with root cause")]
            lines.append("java.lang.OutOfMemoryError: Java heap space")
            lines += ["\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)",
                      "\tat java.base/java.lang.AbstractStringBuilder.ensureCapacityInternal(AbstractStringBuilder.java:228)",
                      "\tat com.fasterxml.jackson.core.util.TextBuffer.expand(TextBuffer.java:1006)",
                      "\tat com.example.\(w.name).web.\(entity(w.name))Controller.list(\(entity(w.name))Controller.java:57)"]
            emit(pod, t, .stdout, lines, severity: "error")
        case .goZap:
            emit(pod, t - millis(1_000...3_000), .stderr,
                 [zapLine(t - 2 * Self.second, "warn", "runtime/memory.go:41", "memory usage above 90% of limit",
                          fields: [("heap_inuse_mb", "\(rng.int(460...505))", true), ("limit_mb", "512", true)], trace: nil)],
                 severity: "warn")
        case .goSlog:
            var lines = ["panic: runtime error: invalid memory address or nil pointer dereference",
                         "[signal SIGSEGV: segmentation violation code=0x1 addr=0x\(HexNumber.digits(UInt64(rng.int(8...64)), 2)) pc=0x\(HexNumber.digits(rng.next(), 6))]",
                         "",
                         "goroutine \(rng.int(30...9000)) [running]:"]
            lines += ["github.com/example/\(w.name)/internal/stock.(*Allocator).Reserve(0x0, {0xc0004a2000, 0xc})",
                      "\t/app/internal/stock/allocator.go:88 +0x2c",
                      "github.com/example/\(w.name)/internal/api.(*Server).reserve(0xc000136000, {0xa1c2f8, 0xc0002b4000}, 0xc0002c8000)",
                      "\t/app/internal/api/reserve.go:47 +0x1b4",
                      "net/http.HandlerFunc.ServeHTTP(0xc000124000?, {0xa1c2f8?, 0xc0002b4000?}, 0x0?)",
                      "\t/usr/local/go/src/net/http/server.go:2220 +0x29",
                      "created by net/http.(*Server).Serve in goroutine 1",
                      "\t/usr/local/go/src/net/http/server.go:3360 +0x485"]
            emit(pod, t, .stderr, lines, severity: nil)
        case .pythonOTel, .pythonJSON:
            let worker = rng.int(7...40)
            emit(pod, t - millis(500...2_000), .stderr, ["[\(Stamp.gunicorn(t - Self.second))] [1] [CRITICAL] WORKER TIMEOUT (pid:\(worker))"], severity: "fatal")
            emit(pod, t, .stderr, ["[\(Stamp.gunicorn(t))] [1] [ERROR] Worker (pid:\(worker)) was sent SIGKILL! Perhaps out of memory?"], severity: "error")
        case .nodePino:
            emit(pod, t, .stdout, [pinoLine(t, pod, 60, "uncaught exception, exiting", fields: [],
                                            error: ("RangeError", "Maximum call stack size exceeded", "    at normalizeZone (/app/src/zones.js:17:10)\n    at normalizeZone (/app/src/zones.js:21:12)\n    at normalizeZone (/app/src/zones.js:21:12)"),
                                            trace: nil)], severity: "fatal")
        case .postgres, .redis, .nginxIngress, .klog, .javaLogback:
            break
        }
    }

    /// What each restarted container writes while it starts.
    private mutating func startups() {
        for pod in pods.indices {
            for r in pods[pod].restarts { startupLines(pod, start: r.start, ready: r.ready) }
        }
    }

    private mutating func startupLines(_ pod: Int, start: Int64, ready: Int64) {
        let w = workloads[pods[pod].workload]
        let step = max(1, (ready - start) / 8)
        var t = start
        func next(_ generator: inout SplitMix64) -> Int64 {
            t += step / 2 + Int64(generator.below(Int(step / 2)))
            return t
        }
        switch w.format {
        case .springBoot2, .springBoot3:
            let app = entity(w.name) + "Application"
            let seconds = String(format: "%.3f", Double(ready - start) / 1e9)
            let lines: [(String, String)] = [
                ("c.e.\(w.name).\(app)", "Starting \(app) v2.4.\(rng.int(0...9)) using Java 21.0.5 with PID 1 (/app/app.jar started by app in /app)"),
                ("c.e.\(w.name).\(app)", "No active profile set, falling back to 1 default profile: \"default\""),
                ("o.s.b.w.embedded.tomcat.TomcatWebServer", "Tomcat initialized with port 8080 (http)"),
                ("com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Starting..."),
                ("com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Start completed."),
                ("o.s.b.w.embedded.tomcat.TomcatWebServer", "Tomcat started on port 8080 (http) with context path '/'"),
            ]
            for (logger, message) in lines {
                let time = next(&rng)
                emit(pod, time, .stdout, [springHeader(w, time, " INFO", trace: nil, thread: "main", logger: logger, message: message)], severity: "info")
            }
            emit(pod, ready, .stdout, [springHeader(w, ready, " INFO", trace: nil, thread: "main", logger: "c.e.\(w.name).\(app)",
                                                   message: "Started \(app) in \(seconds) seconds (process running for \(String(format: "%.3f", Double(ready - start) / 1e9 + 0.6)))")],
                 severity: "info")
        case .goZap:
            emit(pod, next(&rng), .stderr, [zapLine(t, "info", "cmd/server/main.go:48", "starting \(w.name)",
                                                    fields: [("version", "1.14.2", false), ("go", "go1.23.4", false)], trace: nil)], severity: "info")
            emit(pod, ready, .stderr, [zapLine(ready, "info", "cmd/server/main.go:91", "listening", fields: [("addr", ":\(w.port)", false)], trace: nil)], severity: "info")
        case .goSlog:
            let time = next(&rng)
            emit(pod, time, .stderr, ["time=\(Stamp.iso(time)) level=INFO msg=\"starting \(w.name)\" version=3.2.0 go=go1.23.4"], severity: "info")
            let connected = next(&rng)
            emit(pod, connected, .stderr, ["time=\(Stamp.iso(connected)) level=INFO msg=\"connected to redis\" addr=\(workloads[ScenarioTopology.index(of: "cache") ?? 0].host):6379"], severity: "info")
            emit(pod, ready, .stderr, ["time=\(Stamp.iso(ready)) level=INFO msg=listening addr=:\(w.port)"], severity: "info")
        case .pythonOTel, .pythonJSON:
            for message in ["Starting gunicorn 22.0.0", "Listening at: http://0.0.0.0:\(w.port) (1)", "Using worker: gthread"] {
                let time = next(&rng)
                emit(pod, time, .stderr, ["[\(Stamp.gunicorn(time))] [1] [INFO] \(message)"], severity: "info")
            }
            for _ in 0..<2 {
                let time = next(&rng)
                emit(pod, time, .stderr, ["[\(Stamp.gunicorn(time))] [1] [INFO] Booting worker with pid: \(rng.int(7...60))"], severity: "info")
            }
        case .postgres:
            let lsn = rng.int(0x1000000...0x2FFFFFF)
            let messages = [
                "LOG:  starting PostgreSQL 16.4 (Debian 16.4-1.pgdg120+2) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit",
                "LOG:  listening on IPv4 address \"0.0.0.0\", port 5432",
                "LOG:  database system was interrupted; last known up at \(Stamp.postgres(start - 90 * Self.second).prefix(19)) UTC",
                "LOG:  database system was not properly shut down; automatic recovery in progress",
                "LOG:  redo starts at 0/\(String(lsn, radix: 16, uppercase: true))",
                "LOG:  redo done at 0/\(String(lsn + rng.int(4096...900_000), radix: 16, uppercase: true)) system usage: CPU: user: 0.0\(rng.int(1...9)) s, system: 0.00 s, elapsed: 0.0\(rng.int(1...9)) s",
                "LOG:  checkpoint starting: end-of-recovery immediate wait",
            ]
            for message in messages {
                let time = next(&rng)
                emit(pod, time, .stderr, ["\(Stamp.postgres(time)) [\(message.contains("listening") || message.hasPrefix("LOG:  starting") ? 1 : rng.int(28...40))] \(message)"], severity: nil)
            }
            emit(pod, ready, .stderr, ["\(Stamp.postgres(ready)) [1] LOG:  database system is ready to accept connections"], severity: nil)
        case .redis:
            let lines = [
                ("C", "#", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
                ("C", "#", "Redis version=7.2.5, bits=64, commit=00000000, modified=0, pid=1, just started"),
                ("M", "*", "Running mode=standalone, port=6379."),
                ("M", "*", "Server initialized"),
                ("M", "*", "Loading RDB produced by version 7.2.5"),
                ("M", "*", "DB loaded from disk: 0.0\(rng.int(10...99)) seconds"),
            ]
            for (role, mark, message) in lines {
                let time = next(&rng)
                emit(pod, time, .stdout, ["1:\(role) \(Stamp.redis(time)) \(mark) \(message)"], severity: nil)
            }
            emit(pod, ready, .stdout, ["1:M \(Stamp.redis(ready)) * Ready to accept connections tcp"], severity: nil)
        case .nodePino:
            emit(pod, next(&rng), .stdout, [pinoLine(t, pod, 30, "loaded carrier rate tables", fields: [("carriers", "3", true)], trace: nil)], severity: "info")
            emit(pod, ready, .stdout, [pinoLine(ready, pod, 30, "\(w.name) listening on :\(w.port)", fields: [], trace: nil)], severity: "info")
        case .nginxIngress, .klog, .javaLogback:
            break
        }
    }

    // MARK: - Calls

    /// Routes a call to one of the callee's pods the way a Service does: a pod that died
    /// stays in the endpoints for a few seconds (readiness probes have not failed yet), and
    /// with no ready pod at all the connection is refused.
    private mutating func pickPod(_ workload: Int, at t: Int64) -> Int {
        ScenarioPod.route(among: podsOf[workload], pods: pods, at: t, rng: &rng)
    }

    private mutating func call(_ callee: Int, at t: Int64, timeoutMs: Int64, ask: Ask, context: inout RequestContext) -> CallResult {
        let network = millis(0.2...1.2)
        let pod = pickPod(callee, at: t)
        if !pods[pod].isReady(at: t + network) {
            if workloads[callee].format == .postgres && pods[pod].isStarting(at: t + network) {
                let time = t + network + millis(0.2...1)
                emit(pod, time, .stderr, ["\(Stamp.postgres(time)) [\(rng.int(30...900))] FATAL:  the database system is starting up"], severity: "fatal")
                return CallResult(end: time + network, status: 503, failure: .datastore("FATAL:  the database system is starting up"))
            }
            return CallResult(end: t + network + millis(0.3...2), status: 503, failure: .refused)
        }
        var slow: Int64 = 0
        if faultActive(callee, .latency, at: t), rng.chance(spec.faultIntensity) { slow = millis(1_500...6_000) }
        var result = serve(ask, workload: callee, pod: pod, at: t + network, slow: slow, context: &context)
        result.end += network
        if let crash = pods[pod].crash(in: t, result.end) {
            return CallResult(end: crash + network, status: 502, failure: .reset)
        }
        if result.end > t + timeoutMs * Self.ms {
            return CallResult(end: t + timeoutMs * Self.ms, status: 504, failure: .timeout)
        }
        return result
    }

    private mutating func serve(_ ask: Ask, workload: Int, pod: Int, at start: Int64, slow: Int64, context: inout RequestContext) -> CallResult {
        switch ask {
        case .page(let page): return frontend(pod, page, start, slow, &context)
        case .product, .search: return catalog(pod, ask, start, slow, &context)
        case .history, .placeOrder: return orders(pod, ask, start, slow, &context)
        case .reserve: return inventory(pod, start, slow, &context)
        case .quote: return shipping(pod, start, slow, &context)
        case .charge: return payments(pod, start, slow, &context)
        case .sql(let write): return database(pod, write: write, start, slow)
        case .redis(let write, let key): return cache(pod, write: write, key: key, start, slow)
        }
    }

    private func index(_ name: String) -> Int { ScenarioTopology.index(of: name) ?? 0 }

    private func url(_ callee: Int, _ path: String) -> String {
        "http://\(workloads[callee].host):\(workloads[callee].port)\(path)"
    }

    // MARK: - The edge

    private mutating func ingress(_ edge: Int, at t: Int64) {
        let pod = podsOf[edge][0]
        let x = rng.unit()
        let page: Page = x < 0.5 ? .browse : x < 0.65 ? .search : x < 0.75 ? .history : .checkout
        var context = RequestContext(
            traceID: HexNumber.digits(rng.next(), 16) + HexNumber.digits(rng.next(), 16), customer: rng.int(10_000...99_999),
            order: rng.int(1_000_000...9_999_999), product: rng.int(1_000...99_999), sku: rng.int(10_000...99_999),
            quantity: rng.int(1...4), amount: "\(rng.int(5...480)).\(rng.int(10...99))",
            query: rng.pick(["running shoes", "espresso machine", "tent", "desk lamp", "rain jacket", "usb-c hub"]), page: page)
        let span = newSpan()
        let frontendIndex = index("frontend")
        let result = call(frontendIndex, at: t + millis(0.1...0.4), timeoutMs: 10_000, ask: .page(page), context: &context)
        var status = result.status
        if let failure = result.failure {
            switch failure {
            case .timeout: status = 504
            case .refused, .reset, .datastore: status = 502
            case .status(let code): status = code
            }
        }
        let end = result.end + millis(0.05...0.3)
        let path: String
        switch page {
        case .browse: path = "/api/products/\(context.product)"
        case .search: path = "/api/search?q=\(context.query.replacingOccurrences(of: " ", with: "+"))"
        case .history: path = "/api/orders"
        case .checkout: path = "/api/checkout"
        }
        let client = rng.chance(0.5) ? "203.0.113.\(rng.int(1...254))" : "198.51.100.\(rng.int(1...254))"
        let agent = rng.pick([
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "okhttp/4.12.0",
        ])
        let size = status < 400 ? rng.int(300...40_000) : rng.int(20...200)
        let seconds = String(format: "%.3f", Double(end - t) / 1e9)
        let upstreamSeconds = String(format: "%.3f", Double(result.end - t) / 1e9)
        let upstream = "\(pods[podsOf[frontendIndex][0]].ip):\(workloads[frontendIndex].port)"
        let line = "\(client) - - [\(Stamp.nginx(end))] \"\(page.method) \(path) HTTP/2.0\" \(status) \(size) \"https://shop.example.com/\" \"\(agent)\" \(rng.int(200...900)) \(seconds) [shop-frontend-8080] [] \(upstream) \(size) \(upstreamSeconds) \(status) \(HexNumber.digits(rng.next(), 16))\(HexNumber.digits(rng.next(), 16)) \"\(LineTrace(trace: context.traceID, span: span).traceparent)\""
        emit(pod, end, .stdout, [line], severity: status >= 500 ? "error" : status >= 400 ? "warn" : "info",
             trace: LineTrace(trace: context.traceID, span: span))
        if t < faultStart {
            baselineRequests += 1
            if status >= 500 { baselineFailures += 1 }
        } else if t < faultEnd {
            windowRequests += 1
            if status >= 500 { windowFailures += 1 }
        }
    }

    // MARK: - frontend (Go, zap JSON)

    private func zapLine(_ time: Int64, _ level: String, _ caller: String, _ message: String,
                         fields: [(String, String, Bool)], trace: LineTrace?) -> String {
        var line = "{\"level\":\"\(level)\",\"ts\":\(Stamp.epoch(time)),\"caller\":\"\(caller)\",\"msg\":\"\(message.jsonEscaped)\""
        for (key, value, numeric) in fields {
            line += numeric ? ",\"\(key)\":\(value)" : ",\"\(key)\":\"\(value.jsonEscaped)\""
        }
        if let trace { line += ",\"trace_id\":\"\(trace.trace)\",\"span_id\":\"\(trace.span)\"" }
        return line + "}"
    }

    private mutating func frontend(_ pod: Int, _ page: Page, _ start: Int64, _ slow: Int64, _ context: inout RequestContext) -> CallResult {
        let trace = LineTrace(trace: context.traceID, span: newSpan())
        let begin = start + slow + millis(0.3...2.5)
        let path: String
        switch page {
        case .browse: path = "/api/products/\(context.product)"
        case .search: path = "/api/search"
        case .history: path = "/api/orders"
        case .checkout: path = "/api/checkout"
        }
        if faultActive(index("frontend"), .exceptions, at: start), rng.chance(spec.faultIntensity) {
            let end = begin + millis(0.2...2)
            let stack = "github.com/example/shop/frontend/internal/cart.(*View).Totals\n\t/app/internal/cart/view.go:118\ngithub.com/example/shop/frontend/internal/server.(*Server).\(page == .checkout ? "checkout" : "page")\n\t/app/internal/server/handlers.go:64\nnet/http.HandlerFunc.ServeHTTP\n\t/usr/local/go/src/net/http/server.go:2220"
            emit(pod, end, .stderr, [zapLine(end, "error", "server/recover.go:31", "panic recovered",
                                              fields: [("error", "runtime error: invalid memory address or nil pointer dereference", false),
                                                       ("method", page.method, false), ("path", path, false), ("stacktrace", stack, false)],
                                              trace: trace)], severity: "error", trace: trace)
            return CallResult(end: end + millis(0.1...0.5), status: 500, failure: .status(500))
        }
        let callee: Int
        let ask: Ask
        let timeout: Int64
        let calleePath: String
        switch page {
        case .browse: (callee, ask, timeout, calleePath) = (index("catalog"), .product(context.product), 2_000, "/products/\(context.product)")
        case .search: (callee, ask, timeout, calleePath) = (index("catalog"), .search(context.query), 2_000, "/search")
        case .history: (callee, ask, timeout, calleePath) = (index("orders"), .history, 5_000, "/api/v1/orders?customer=u-\(context.customer)")
        case .checkout: (callee, ask, timeout, calleePath) = (index("orders"), .placeOrder, 8_000, "/api/v1/orders")
        }
        let result = call(callee, at: begin, timeoutMs: timeout, ask: ask, context: &context)
        var status = result.status
        var end = result.end + millis(0.2...1.5)
        if let failure = result.failure {
            let target = url(callee, calleePath)
            let verb = page == .checkout ? "Post" : "Get"
            let error: String
            switch failure {
            case .refused: error = "\(verb) \"\(target)\": dial tcp \(serviceIPs[callee]):\(workloads[callee].port): connect: connection refused"
            case .reset: error = "\(verb) \"\(target)\": read tcp \(pods[pod].ip):\(rng.int(32768...60999))->\(serviceIPs[callee]):\(workloads[callee].port): read: connection reset by peer"
            case .timeout: error = "\(verb) \"\(target)\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            case .status(let code): error = "unexpected status \(code) from \(page.method) \(target)"
            case .datastore(let text): error = text
            }
            status = {
                if case .timeout = failure { return 504 }
                if case .status(let code) = failure, code < 500 { return code }
                return 502
            }()
            emit(pod, result.end + millis(0.05...0.3), .stderr,
                 [zapLine(result.end, "error", "server/upstream.go:57", "upstream request failed",
                          fields: [("upstream", workloads[callee].name, false), ("error", error, false)], trace: trace)],
                 severity: "error", trace: trace)
            end += millis(0.1...0.4)
        }
        let level = status >= 500 ? "error" : "info"
        let duration = String(format: "%.1f", Double(end - start) / 1e6)
        emit(pod, end, .stderr, [zapLine(end, level, "server/middleware.go:42", "request completed",
                                          fields: [("method", page.method, false), ("path", path, false), ("status", "\(status)", true),
                                                   ("duration_ms", duration, true)], trace: trace)],
             severity: level, trace: trace)
        return CallResult(end: end, status: status, failure: status >= 500 ? .status(status) : nil)
    }

    // MARK: - catalog (Python, python-json-logger)

    private mutating func pythonJSONLine(_ time: Int64, _ level: String, _ logger: String, _ message: String,
                                         fields: [(String, String, Bool)], trace: LineTrace?, exception: [String]? = nil) -> String {
        var line = "{\"asctime\": \"\(Stamp.python(time))\", \"levelname\": \"\(level)\", \"name\": \"\(logger)\", \"message\": \"\(message.jsonEscaped)\""
        for (key, value, numeric) in fields {
            line += numeric ? ", \"\(key)\": \(value)" : ", \"\(key)\": \"\(value.jsonEscaped)\""
        }
        if let exception { line += ", \"exc_info\": \"\(exception.joined(separator: "\n").jsonEscaped)\"" }
        if let trace {
            line += ", \"otelTraceID\": \"\(trace.trace)\", \"otelSpanID\": \"\(trace.span)\", \"otelServiceName\": \"catalog\""
        }
        return line + "}"
    }

    private static let pythonLevels = ["debug": "DEBUG", "info": "INFO", "warn": "WARNING", "error": "ERROR"]

    private mutating func catalog(_ pod: Int, _ ask: Ask, _ start: Int64, _ slow: Int64, _ context: inout RequestContext) -> CallResult {
        let trace = LineTrace(trace: context.traceID, span: newSpan())
        var t = start + slow + millis(0.5...3)
        let cacheIndex = index("cache")
        let path: String
        if case .product(let id) = ask { path = "/products/\(id)" } else { path = "/search" }
        if faultActive(index("catalog"), .exceptions, at: start), rng.chance(spec.faultIntensity) {
            let exception = [
                "Traceback (most recent call last):",
                "  File \"/usr/local/lib/python3.12/site-packages/flask/app.py\", line 880, in full_dispatch_request",
                "    rv = self.dispatch_request()",
                "  File \"/app/catalog/views.py\", line 64, in \(path.hasPrefix("/search") ? "search" : "get_product")",
                "    return jsonify(serialize(product, currency=request.args.get(\"currency\")))",
                "  File \"/app/catalog/serializers.py\", line 31, in serialize",
                "    \"price\": product.price.to_minor_units(currency),",
                "AttributeError: 'NoneType' object has no attribute 'to_minor_units'",
            ]
            emit(pod, t, .stderr, [pythonJSONLine(t, "ERROR", "catalog.app", "Exception on \(path) [GET]", fields: [], trace: trace, exception: exception)],
                 severity: "error", trace: trace)
            return CallResult(end: t + millis(0.2...1), status: 500, failure: .status(500))
        }
        let key: String
        if case .product(let id) = ask { key = "product:\(id)" } else { key = "search:\(context.query.replacingOccurrences(of: " ", with: "-"))" }
        let lookup = call(cacheIndex, at: t, timeoutMs: 500, ask: .redis(write: false, key: key), context: &context)
        t = lookup.end
        if let failure = lookup.failure {
            let exception = ["Traceback (most recent call last):",
                             "  File \"/app/catalog/cache.py\", line 22, in get",
                             "    raw = self.client.get(key)",
                             "  File \"/usr/local/lib/python3.12/site-packages/redis/connection.py\", line 357, in connect",
                             "    raise ConnectionError(self._error_message(e))",
                             redisPyError(failure)]
            t += millis(0.1...0.5)
            emit(pod, t, .stderr, [pythonJSONLine(t, "ERROR", "catalog.cache", "Cache lookup failed for \(key)", fields: [], trace: trace, exception: exception)],
                 severity: "error", trace: trace)
            return CallResult(end: t + millis(0.1...0.5), status: 503, failure: .status(503))
        }
        var status = 200
        if case .product(let id) = ask {
            if rng.chance(0.03) {
                status = 404
                t += millis(1...6)
                emit(pod, t, .stderr, [pythonJSONLine(t, "WARNING", "catalog.views", "Product \(id) not found", fields: [("product_id", "\(id)", true)], trace: trace)],
                     severity: "warn", trace: trace)
            } else if rng.chance(0.3) {
                // A miss: read the product, then cache it. A failed write is not worth failing the page.
                t += millis(4...40)
                let store = call(cacheIndex, at: t, timeoutMs: 500, ask: .redis(write: true, key: key), context: &context)
                t = store.end
                if let failure = store.failure {
                    emit(pod, t, .stderr, [pythonJSONLine(t, "WARNING", "catalog.cache", "Could not cache \(key): \(redisPyError(failure))", fields: [], trace: trace)],
                         severity: "warn", trace: trace)
                }
            }
        } else {
            t += millis(8...60)
        }
        t += millis(0.3...2)
        let duration = String(format: "%.1f", Double(t - start) / 1e6)
        if case .search(let query) = ask {
            emit(pod, t, .stderr, [pythonJSONLine(t, "INFO", "catalog.views", "Search '\(query)' returned \(rng.int(0...120)) results",
                                                  fields: [("duration_ms", duration, true)], trace: trace)], severity: "info", trace: trace)
        }
        emit(pod, t, .stderr, [pythonJSONLine(t, "INFO", "catalog.access", "GET \(path) \(status)",
                                              fields: [("status", "\(status)", true), ("duration_ms", duration, true)], trace: trace)],
             severity: "info", trace: trace)
        if slow > 0 { slowWarning(pod, t, "GET \(path)", t - start, trace) }
        return CallResult(end: t, status: status, failure: nil)
    }

    private func redisPyError(_ failure: CallFailure) -> String {
        let host = workloads[index("cache")].host
        switch failure {
        case .refused: return "redis.exceptions.ConnectionError: Error 111 connecting to \(host):6379. Connection refused."
        case .reset: return "redis.exceptions.ConnectionError: Connection closed by server."
        case .timeout: return "redis.exceptions.TimeoutError: Timeout reading from \(host):6379"
        case .status(let code): return "redis.exceptions.ResponseError: unexpected reply \(code)"
        case .datastore(let text): return "redis.exceptions.ResponseError: \(text)"
        }
    }

    // MARK: - orders (Java, Spring Boot 2 with Sleuth)

    private func springHeader(_ w: ScenarioWorkload, _ time: Int64, _ level: String, trace: LineTrace?, thread: String, logger: String, message: String) -> String {
        let paddedThread = String(repeating: " ", count: max(0, 15 - thread.count)) + thread.suffix(15)
        let paddedLogger = logger.count >= 40 ? String(logger.suffix(40)) : logger + String(repeating: " ", count: 40 - logger.count)
        if w.format == .springBoot3 {
            let ids = trace.map { "[\($0.trace)-\($0.span)] " } ?? ""
            return "\(Stamp.iso(time)) \(level) 1 --- [\(w.name)] [\(paddedThread)] \(ids)\(paddedLogger) : \(message)"
        }
        let ids = trace.map { "[\(w.name),\($0.trace),\($0.span)]" } ?? "[\(w.name),,]"
        return "\(Stamp.spring(time)) \(level) \(ids) 1 --- [\(paddedThread)] \(paddedLogger) : \(message)"
    }

    private func entity(_ name: String) -> String {
        name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The Tomcat frames under an application's call, outermost last.
    private static let servletFrames = [
        "\tat org.springframework.web.servlet.mvc.method.annotation.ServletInvocableHandlerMethod.invokeAndHandle(ServletInvocableHandlerMethod.java:118)",
        "\tat org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
        "\tat org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)",
        "\tat jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)",
        "\tat org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:140)",
        "\tat org.apache.coyote.http11.Http11Processor.service(Http11Processor.java:397)",
        "\tat org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1744)",
        "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
    ]

    private mutating func orders(_ pod: Int, _ ask: Ask, _ start: Int64, _ slow: Int64, _ context: inout RequestContext) -> CallResult {
        let w = workloads[index("orders")]
        let trace = LineTrace(trace: context.traceID, span: newSpan())
        let thread = "nio-8080-exec-\(rng.int(1...10))"
        var t = start + millis(0.5...2)
        guard case .placeOrder = ask else {
            t += slow + millis(3...25)
            if faultActive(index("orders"), .exceptions, at: start), rng.chance(spec.faultIntensity) {
                return ordersException(pod, t, trace, thread, operation: "listOrders")
            }
            emit(pod, t, .stdout, [springHeader(w, t, " INFO", trace: trace, thread: thread, logger: "c.e.orders.web.OrderController",
                                                message: "Listed \(rng.int(0...40)) orders for customer u-\(context.customer)")],
                 severity: "info", trace: trace)
            if slow > 0 { slowWarning(pod, t, "GET /api/v1/orders", t - start, trace) }
            return .ok(t + millis(0.2...1))
        }
        emit(pod, t, .stdout, [springHeader(w, t, " INFO", trace: trace, thread: thread, logger: "c.e.orders.service.OrderService",
                                            message: "Creating order \(context.order) for customer u-\(context.customer) with \(context.quantity) item(s)")],
             severity: "info", trace: trace)
        t += slow + millis(1...6)
        if faultActive(index("orders"), .exceptions, at: start), rng.chance(spec.faultIntensity) {
            return ordersException(pod, t, trace, thread, operation: "placeOrder")
        }
        for (name, path, timeout, client, method, argument) in [
            ("inventory", "/api/v1/reservations", Int64(2_000), "InventoryClient", "reserve", "ReservationRequest"),
            ("shipping", "/api/v1/quotes", Int64(1_500), "ShippingClient", "quote", "QuoteRequest"),
            ("payments", "/api/v1/charges", Int64(4_000), "PaymentsClient", "charge", "ChargeRequest"),
        ] {
            let callee = index(name)
            let ask: Ask = name == "inventory" ? .reserve : name == "shipping" ? .quote : .charge
            let result = call(callee, at: t, timeoutMs: timeout, ask: ask, context: &context)
            t = result.end + millis(0.2...1)
            if let failure = result.failure {
                let target = url(callee, path)
                var lines = [springHeader(w, t, "ERROR", trace: trace, thread: thread, logger: "c.e.orders.service.OrderService",
                                          message: "Order \(context.order) failed: \(name) call failed")]
                let cause: [String]
                switch failure {
                case .refused:
                    lines.append("feign.RetryableException: Connection refused executing POST \(target)")
                    cause = ["Caused by: java.net.ConnectException: Connection refused",
                             "\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)",
                             "\tat java.base/sun.nio.ch.NioSocketImpl.timedFinishConnect(NioSocketImpl.java:554)"]
                case .reset, .datastore:
                    lines.append("feign.RetryableException: Connection reset executing POST \(target)")
                    cause = ["Caused by: java.net.SocketException: Connection reset",
                             "\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:318)"]
                case .timeout:
                    lines.append("feign.RetryableException: Read timed out executing POST \(target)")
                    cause = ["Caused by: java.net.SocketTimeoutException: Read timed out",
                             "\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)"]
                case .status(let code):
                    let reason = code == 503 ? "ServiceUnavailable: [503 Service Unavailable]" : code == 504 ? "GatewayTimeout: [504 Gateway Timeout]" : "InternalServerError: [500 Internal Server Error]"
                    lines.append("feign.FeignException$\(reason) during [POST] to [\(target)] [\(client)#\(method)(\(argument))]: [{\"error\":\"internal_error\"}]")
                    cause = []
                }
                lines += ["\tat feign.SynchronousMethodHandler.executeAndDecode(SynchronousMethodHandler.java:129)",
                          "\tat feign.SynchronousMethodHandler.invoke(SynchronousMethodHandler.java:89)",
                          "\tat com.example.orders.client.\(client).\(method)(Unknown Source)",
                          "\tat com.example.orders.service.OrderService.placeOrder(OrderService.java:\(name == "inventory" ? 74 : 91))",
                          "\tat com.example.orders.web.OrderController.create(OrderController.java:38)"]
                lines += Self.servletFrames
                if !cause.isEmpty { lines += cause + ["\t... \(rng.int(80...95)) more"] }
                emit(pod, t, .stdout, lines, severity: "error", trace: trace)
                return CallResult(end: t + millis(0.5...2), status: 500, failure: .status(500))
            }
            if result.status == 409 || result.status == 402 {
                let message = result.status == 409
                    ? "Order \(context.order) rejected: insufficient stock for SKU-\(context.sku)"
                    : "Payment declined for order \(context.order)"
                emit(pod, t, .stdout, [springHeader(w, t, " WARN", trace: trace, thread: thread, logger: "c.e.orders.service.OrderService", message: message)],
                     severity: "warn", trace: trace)
                return CallResult(end: t + millis(0.3...1), status: result.status, failure: nil)
            }
        }
        t += millis(1...4)
        emit(pod, t, .stdout, [springHeader(w, t, " INFO", trace: trace, thread: thread, logger: "c.e.orders.service.OrderService",
                                            message: "Order \(context.order) confirmed: total \(context.amount) EUR, payment captured")],
             severity: "info", trace: trace)
        if slow > 0 || t - start > 2_000 * Self.ms { slowWarning(pod, t, "POST /api/v1/orders", t - start, trace) }
        notify(at: t + millis(20...900), context: context)
        return .ok(t + millis(0.3...1), 201)
    }

    private mutating func ordersException(_ pod: Int, _ t: Int64, _ trace: LineTrace, _ thread: String, operation: String) -> CallResult {
        let w = workloads[index("orders")]
        var lines = [springHeader(w, t, "ERROR", trace: trace, thread: thread, logger: "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
                                  message: "Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed: java.lang.NullPointerException: Cannot invoke \"com.example.orders.domain.Address.getCountry()\" because \"shipping\" is null] with root cause")]
        lines += ["java.lang.NullPointerException: Cannot invoke \"com.example.orders.domain.Address.getCountry()\" because \"shipping\" is null",
                  "\tat com.example.orders.service.TaxCalculator.rateFor(TaxCalculator.java:42)",
                  "\tat com.example.orders.service.OrderService.\(operation)(OrderService.java:\(operation == "placeOrder" ? 66 : 120))",
                  "\tat com.example.orders.web.OrderController.\(operation == "placeOrder" ? "create" : "list")(OrderController.java:38)"]
        lines += Self.servletFrames
        emit(pod, t, .stdout, lines, severity: "error", trace: trace)
        return CallResult(end: t + millis(0.5...2), status: 500, failure: .status(500))
    }

    // MARK: - notifications (Java, Spring Boot 3 with Micrometer), fed by order events

    private mutating func notify(at time: Int64, context: RequestContext) {
        let consumer = index("notifications")
        var pod = podsOf[consumer][rng.below(podsOf[consumer].count)]
        var t = time
        // A consumer that is down reads the event once it is back.
        if !pods[pod].isReady(at: t) {
            pod = podsOf[consumer].first { pods[$0].isReady(at: t) } ?? pod
            if let back = pods[pod].restarts.first(where: { t >= $0.crash && t < $0.ready })?.ready { t = back + millis(50...2_000) }
        }
        let w = workloads[consumer]
        let trace = LineTrace(trace: context.traceID, span: newSpan())
        let thread = "ntainer#0-0-C-1"
        if faultActive(consumer, .exceptions, at: t), rng.chance(spec.faultIntensity) {
            var lines = [springHeader(w, t, "ERROR", trace: trace, thread: thread, logger: "o.s.k.l.KafkaMessageListenerContainer",
                                      message: "Error handler threw an exception")]
            lines += ["org.springframework.kafka.listener.ListenerExecutionFailedException: Listener method 'public void com.example.notifications.OrderEventsListener.onOrderConfirmed(com.example.notifications.OrderConfirmed)' threw exception",
                      "\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.decorateException(KafkaMessageListenerContainer.java:2945)",
                      "Caused by: java.lang.IllegalArgumentException: Unknown template 'order-confirmation-v2'",
                      "\tat com.example.notifications.mail.TemplateRegistry.get(TemplateRegistry.java:31)",
                      "\tat com.example.notifications.OrderEventsListener.onOrderConfirmed(OrderEventsListener.java:44)",
                      "\t... 14 more"]
            emit(pod, t, .stdout, lines, severity: "error", trace: trace)
            return
        }
        if faultActive(consumer, .latency, at: t), rng.chance(spec.faultIntensity) { t += millis(1_500...6_000) }
        emit(pod, t, .stdout, [springHeader(w, t, " INFO", trace: trace, thread: thread, logger: "c.e.n.OrderEventsListener",
                                            message: "Sent order confirmation for order \(context.order) to customer u-\(context.customer)")],
             severity: "info", trace: trace)
    }

    // MARK: - inventory (Go, slog logfmt)

    private mutating func inventory(_ pod: Int, _ start: Int64, _ slow: Int64, _ context: inout RequestContext) -> CallResult {
        let trace = LineTrace(trace: context.traceID, span: newSpan())
        var t = start + slow + millis(0.3...2)
        let ids = "trace_id=\(trace.trace) span_id=\(trace.span)"
        if faultActive(index("inventory"), .exceptions, at: start), rng.chance(spec.faultIntensity) {
            emit(pod, t, .stderr, ["time=\(Stamp.iso(t)) level=ERROR msg=\"reservation failed\" sku=SKU-\(context.sku) err=\("allocate SKU-\(context.sku): stock for warehouse wh-\(rng.int(1...6)) would become negative (\(-rng.int(1...5)))".logfmtValue) \(ids)"],
                 severity: "error", trace: trace)
            return CallResult(end: t + millis(0.1...0.5), status: 500, failure: .status(500))
        }
        if rng.chance(0.02) {
            emit(pod, t, .stderr, ["time=\(Stamp.iso(t)) level=WARN msg=\"insufficient stock\" sku=SKU-\(context.sku) requested=\(context.quantity) available=0 \(ids)"],
                 severity: "warn", trace: trace)
            return CallResult(end: t + millis(0.1...0.5), status: 409, failure: nil)
        }
        let cache = index("cache")
        let result = call(cache, at: t, timeoutMs: 500, ask: .redis(write: true, key: "reservation:\(context.order)"), context: &context)
        t = result.end + millis(0.1...0.6)
        if let failure = result.failure {
            let local = "\(pods[pod].ip):\(rng.int(32768...60999))"
            let error: String
            switch failure {
            case .refused: error = "dial tcp \(serviceIPs[cache]):6379: connect: connection refused"
            case .reset: error = "read tcp \(local)->\(serviceIPs[cache]):6379: read: connection reset by peer"
            case .timeout: error = "read tcp \(local)->\(serviceIPs[cache]):6379: i/o timeout"
            case .status(let code): error = "unexpected reply \(code)"
            case .datastore(let text): error = text
            }
            emit(pod, t, .stderr, ["time=\(Stamp.iso(t)) level=ERROR msg=\"reservation failed\" sku=SKU-\(context.sku) addr=\(workloads[cache].host):6379 err=\(error.logfmtValue) \(ids)"],
                 severity: "error", trace: trace)
            return CallResult(end: t + millis(0.1...0.5), status: 503, failure: .status(503))
        }
        let duration = String(format: "%.1f", Double(t - start) / 1e6)
        emit(pod, t, .stderr, ["time=\(Stamp.iso(t)) level=INFO msg=\"stock reserved\" sku=SKU-\(context.sku) qty=\(context.quantity) warehouse=wh-\(rng.int(1...6)) duration_ms=\(duration) \(ids)"],
             severity: "info", trace: trace)
        if slow > 0 { slowWarning(pod, t, "POST /api/v1/reservations", t - start, trace) }
        return .ok(t + millis(0.1...0.4), 201)
    }

    // MARK: - shipping (Node.js, pino JSON)

    private func pinoLine(_ time: Int64, _ pod: Int, _ level: Int, _ message: String, fields: [(String, String, Bool)],
                          error: (type: String, message: String, stack: String)? = nil, trace: LineTrace?) -> String {
        var line = "{\"level\":\(level),\"time\":\(time / Self.ms),\"pid\":1,\"hostname\":\"\(pods[pod].name)\""
        if let trace { line += ",\"trace_id\":\"\(trace.trace)\",\"span_id\":\"\(trace.span)\",\"trace_flags\":\"01\"" }
        for (key, value, numeric) in fields {
            line += numeric ? ",\"\(key)\":\(value)" : ",\"\(key)\":\"\(value.jsonEscaped)\""
        }
        if let error {
            let stack = "\(error.type): \(error.message)\n\(error.stack)"
            line += ",\"err\":{\"type\":\"\(error.type)\",\"message\":\"\(error.message.jsonEscaped)\",\"stack\":\"\(stack.jsonEscaped)\"}"
        }
        return line + ",\"msg\":\"\(message.jsonEscaped)\"}"
    }

    private mutating func shipping(_ pod: Int, _ start: Int64, _ slow: Int64, _ context: inout RequestContext) -> CallResult {
        let trace = LineTrace(trace: context.traceID, span: newSpan())
        let t = start + slow + millis(0.5...4)
        if faultActive(index("shipping"), .exceptions, at: start), rng.chance(spec.faultIntensity) {
            emit(pod, t, .stdout, [pinoLine(t, pod, 50, "quote failed", fields: [("order", "\(context.order)", false)],
                                            error: ("TypeError", "Cannot read properties of undefined (reading 'zone')",
                                                    "    at quote (/app/src/quote.js:42:31)\n    at /app/src/routes.js:18:20\n    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)"),
                                            trace: trace)], severity: "error", trace: trace)
            return CallResult(end: t + millis(0.1...0.5), status: 500, failure: .status(500))
        }
        let carrier = rng.pick(["DHL", "UPS", "DPD"])
        emit(pod, t, .stdout, [pinoLine(t, pod, 30, "quote computed",
                                        fields: [("order", "\(context.order)", false), ("carrier", carrier, false), ("zone", "EU-\(rng.int(1...4))", false),
                                                 ("price", "\(rng.int(3...19)).\(rng.pick(["49", "90", "99"]))", false), ("duration_ms", "\(Int((t - start) / Self.ms))", true)],
                                        trace: trace)], severity: "info", trace: trace)
        if slow > 0 { slowWarning(pod, t, "POST /api/v1/quotes", t - start, trace) }
        return .ok(t + millis(0.1...0.4))
    }

    // MARK: - payments (Python, logging with OpenTelemetry's format, gunicorn)

    private func pythonOTelLine(_ time: Int64, _ level: String, _ logger: String, _ file: String, _ trace: LineTrace?, _ message: String) -> String {
        let ids = trace.map { "trace_id=\($0.trace) span_id=\($0.span) resource.service.name=payments trace_sampled=True" }
            ?? "trace_id=0 span_id=0 resource.service.name=payments trace_sampled=False"
        return "\(Stamp.python(time)) \(Self.pythonLevels[level] ?? level) [\(logger)] [\(file)] [\(ids)] - \(message)"
    }

    private mutating func payments(_ pod: Int, _ start: Int64, _ slow: Int64, _ context: inout RequestContext) -> CallResult {
        let trace = LineTrace(trace: context.traceID, span: newSpan())
        var t = start + millis(0.3...2)
        emit(pod, t, .stderr, [pythonOTelLine(t, "info", "payments.api", "views.py:71", trace,
                                              "Authorizing charge for order \(context.order) amount=\(context.amount) currency=EUR")],
             severity: "info", trace: trace)
        t += slow + millis(1...4)
        if faultActive(index("payments"), .exceptions, at: start), rng.chance(spec.faultIntensity) {
            var lines = [pythonOTelLine(t, "error", "payments.app", "app.py:875", trace, "Exception on /api/v1/charges [POST]")]
            lines += ["Traceback (most recent call last):",
                      "  File \"/usr/local/lib/python3.12/site-packages/flask/app.py\", line 880, in full_dispatch_request",
                      "    rv = self.dispatch_request()",
                      "  File \"/usr/local/lib/python3.12/site-packages/flask/app.py\", line 865, in dispatch_request",
                      "    return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)",
                      "  File \"/app/payments/views.py\", line 78, in create_charge",
                      "    amount = to_minor_units(body[\"amount\"], body[\"currency\"])",
                      "KeyError: 'currency'"]
            emit(pod, t, .stderr, lines, severity: "error", trace: trace)
            return CallResult(end: t + millis(0.3...1), status: 500, failure: .status(500))
        }
        // The card network.
        t += rng.chance(0.01) ? millis(1_000...2_500) : millis(60...250)
        if rng.chance(0.02) {
            emit(pod, t, .stderr, [pythonOTelLine(t, "warn", "payments.provider", "provider.py:112", trace,
                                                  "Charge declined for order \(context.order): card_declined (do_not_honor)")],
                 severity: "warn", trace: trace)
            return CallResult(end: t + millis(0.3...1), status: 402, failure: nil)
        }
        let database = index("payments-db")
        let result = call(database, at: t, timeoutMs: 10_000, ask: .sql(write: true), context: &context)
        t = result.end + millis(0.2...1)
        if let failure = result.failure {
            let host = workloads[database].host
            let connect = ["  File \"/app/payments/db.py\", line 19, in connection",
                           "    return psycopg2.connect(dsn, connect_timeout=3)",
                           "  File \"/usr/local/lib/python3.12/site-packages/psycopg2/__init__.py\", line 122, in connect",
                           "    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)"]
            let execute = ["  File \"/app/payments/repository.py\", line 41, in save_charge",
                           "    cur.execute(INSERT_CHARGE, charge.as_row())"]
            var frames: [String]
            var error: [String]
            switch failure {
            case .refused:
                frames = connect
                error = ["psycopg2.OperationalError: connection to server at \"\(host)\" (\(serviceIPs[database])), port 5432 failed: Connection refused",
                         "\tIs the server running on that host and accepting TCP/IP connections?"]
            case .reset:
                frames = execute
                error = ["psycopg2.OperationalError: server closed the connection unexpectedly",
                         "\tThis probably means the server terminated abnormally",
                         "\tbefore or while processing the request."]
            case .timeout, .status:
                frames = execute
                error = ["psycopg2.OperationalError: timeout expired"]
            case .datastore(let text):
                if text.hasPrefix("FATAL") {
                    frames = connect
                    error = ["psycopg2.OperationalError: connection to server at \"\(host)\" (\(serviceIPs[database])), port 5432 failed: \(text)"]
                } else if text.contains("No space left") {
                    frames = execute
                    error = ["psycopg2.errors.DiskFull: \(text)", "HINT:  Check free disk space."]
                } else if text.contains("statement timeout") {
                    frames = execute
                    error = ["psycopg2.errors.QueryCanceled: \(text)"]
                } else {
                    frames = execute
                    error = ["psycopg2.errors.SerializationFailure: \(text)"]
                }
            }
            var lines = [pythonOTelLine(t, "error", "payments.api", "views.py:96", trace, "Charge failed for order \(context.order)")]
            lines += ["Traceback (most recent call last):",
                      "  File \"/app/payments/views.py\", line 92, in create_charge",
                      "    repository.save_charge(charge)"]
            lines += frames + error
            emit(pod, t, .stderr, lines, severity: "error", trace: trace)
            if case .refused = failure { return CallResult(end: t + millis(0.3...1), status: 503, failure: .status(503)) }
            return CallResult(end: t + millis(0.3...1), status: 500, failure: .status(500))
        }
        let duration = Double(t - start) / 1e6
        emit(pod, t, .stderr, [pythonOTelLine(t, "info", "payments.api", "views.py:101", trace,
                                              "Charge ch_\(HexNumber.digits(rng.next(), 16)) captured for order \(context.order) amount=\(context.amount) currency=EUR duration_ms=\(Int(duration))")],
             severity: "info", trace: trace)
        if slow > 0 || duration > 1_000 { slowWarning(pod, t, "POST /api/v1/charges", t - start, trace) }
        return .ok(t + millis(0.2...0.8), 201)
    }

    // MARK: - payments-db (PostgreSQL) and cache (Redis): no trace ids in their lines

    private static let insertCharge = "INSERT INTO charges (id, order_id, amount_minor, currency, status, created_at) VALUES ($1, $2, $3, $4, $5, now())"

    private mutating func database(_ pod: Int, write: Bool, _ start: Int64, _ slow: Int64) -> CallResult {
        let backend = rng.int(100...9_999)
        let work = millis(0.5...6) + (rng.chance(0.004) ? millis(500...1_500) : 0)
        let me = index("payments-db")
        if write, rng.chance(0.0015) {
            // Two writers racing on the same order: rare, and part of any healthy day.
            let t = start + work
            emit(pod, t, .stderr, ["\(Stamp.postgres(t)) [\(backend)] ERROR:  could not serialize access due to concurrent update"], severity: "error")
            emit(pod, t, .stderr, ["\(Stamp.postgres(t)) [\(backend)] STATEMENT:  \(Self.insertCharge)"], severity: nil)
            return CallResult(end: t, status: 500, failure: .datastore("could not serialize access due to concurrent update"))
        }
        if write, faultActive(me, .exceptions, at: start), rng.chance(spec.faultIntensity) {
            let t = start + millis(0.5...3)
            let text = "could not extend file \"base/16384/\(24_601 + rng.below(3))\": No space left on device"
            emit(pod, t, .stderr, ["\(Stamp.postgres(t)) [\(backend)] ERROR:  \(text)"], severity: "error")
            emit(pod, t, .stderr, ["\(Stamp.postgres(t)) [\(backend)] HINT:  Check free disk space."], severity: nil)
            emit(pod, t, .stderr, ["\(Stamp.postgres(t)) [\(backend)] STATEMENT:  \(Self.insertCharge)"], severity: nil)
            return CallResult(end: t, status: 500, failure: .datastore(text))
        }
        let total = work + slow
        if total > 3_000 * Self.ms {
            // statement_timeout = 3s
            let t = start + 3_000 * Self.ms
            emit(pod, t, .stderr, ["\(Stamp.postgres(t)) [\(backend)] ERROR:  canceling statement due to statement timeout"], severity: "error")
            emit(pod, t, .stderr, ["\(Stamp.postgres(t)) [\(backend)] STATEMENT:  \(Self.insertCharge)"], severity: nil)
            return CallResult(end: t, status: 500, failure: .datastore("canceling statement due to statement timeout"))
        }
        let end = start + total
        if total > 500 * Self.ms {
            emit(pod, end, .stderr, ["\(Stamp.postgres(end)) [\(backend)] LOG:  duration: \(String(format: "%.3f", Double(total) / 1e6)) ms  execute <unnamed>: \(Self.insertCharge)"],
                 severity: nil)
        }
        return .ok(end)
    }

    private static let misconf = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."

    private mutating func cache(_ pod: Int, write: Bool, key: String, _ start: Int64, _ slow: Int64) -> CallResult {
        let end = start + millis(0.05...0.8) + slow
        // A failed background save stops every write until a save succeeds again.
        if write, faultActive(index("cache"), .exceptions, at: start) {
            return CallResult(end: end, status: 500, failure: .datastore(Self.misconf))
        }
        return .ok(end)
    }

    /// The slow workload's own note that a request took long.
    private mutating func slowWarning(_ pod: Int, _ t: Int64, _ request: String, _ duration: Int64, _ trace: LineTrace) {
        let w = workloads[pods[pod].workload]
        let ms = Int(duration / Self.ms)
        switch w.format {
        case .springBoot2, .springBoot3:
            emit(pod, t, .stdout, [springHeader(w, t, " WARN", trace: trace, thread: "nio-8080-exec-\(rng.int(1...10))",
                                                logger: "c.e.\(w.name).web.RequestTimingFilter", message: "Slow request \(request) took \(ms) ms")],
                 severity: "warn", trace: trace)
        case .goZap:
            emit(pod, t, .stderr, [zapLine(t, "warn", "server/middleware.go:48", "slow request", fields: [("request", request, false), ("duration_ms", "\(ms)", true)], trace: trace)],
                 severity: "warn", trace: trace)
        case .goSlog:
            emit(pod, t, .stderr, ["time=\(Stamp.iso(t)) level=WARN msg=\"slow request\" request=\(request.logfmtValue) duration_ms=\(ms) trace_id=\(trace.trace) span_id=\(trace.span)"],
                 severity: "warn", trace: trace)
        case .pythonOTel:
            emit(pod, t, .stderr, [pythonOTelLine(t, "warn", "payments.timing", "middleware.py:27", trace, "Slow request \(request) took \(ms) ms")],
                 severity: "warn", trace: trace)
        case .pythonJSON:
            emit(pod, t, .stderr, [pythonJSONLine(t, "WARNING", "\(w.name).timing", "Slow request \(request) took \(ms) ms", fields: [("duration_ms", "\(ms)", true)], trace: trace)],
                 severity: "warn", trace: trace)
        case .nodePino:
            emit(pod, t, .stdout, [pinoLine(t, pod, 40, "slow request", fields: [("request", request, false), ("duration_ms", "\(ms)", true)], trace: trace)],
                 severity: "warn", trace: trace)
        case .postgres, .redis, .nginxIngress, .klog, .javaLogback:
            break
        }
    }

    // MARK: - Lines not tied to requests

    /// Periodic housekeeping, the same in the baseline and the window, plus what a broken
    /// datastore says about itself while the fault lasts.
    private mutating func background() {
        for pod in pods.indices {
            let w = workloads[pods[pod].workload]
            switch w.format {
            case .klog:
                every(pod, seconds: 30) { s, t in
                    [(t, "I\(Stamp.klog(t))       1 proxier.go:820] \"SyncProxyRules complete\" elapsed=\"\(s.rng.int(20...90)).\(s.rng.int(0...9))ms\"", "info")]
                }
                every(pod, seconds: 900) { s, t in
                    [(t, "W\(Stamp.klog(t))       1 endpointslicecache.go:349] \"Error getting endpoint slice cache keys\" err=\"no kubernetes.io/service-name label set on endpoint slice: shop/legacy-\(s.rng.int(100...999))\"", "warn")]
                }
            case .nginxIngress:
                every(pod, seconds: 600) { _, t in
                    [(t, "I\(Stamp.klog(t))       7 controller.go:213] \"Backend successfully reloaded\"", "info")]
                }
            case .goZap:
                every(pod, seconds: 60) { s, t in
                    [(t, s.zapLine(t, "info", "cache/stats.go:22", "session cache stats",
                                   fields: [("hits", "\(s.rng.int(200...900))", true), ("misses", "\(s.rng.int(5...80))", true)], trace: nil), "info")]
                }
            case .pythonJSON:
                every(pod, seconds: 300) { s, t in
                    [(t, s.pythonJSONLine(t, "INFO", "catalog.index", "Refreshed category index", fields: [("categories", "\(s.rng.int(40...60))", true)], trace: nil), "info")]
                }
            case .springBoot2:
                every(pod, seconds: 60) { s, t in
                    [(t, s.springHeader(w, t, " INFO", trace: nil, thread: "scheduling-1", logger: "c.e.orders.jobs.CartExpiryJob",
                                        message: "Expired \(s.rng.int(0...30)) abandoned carts"), "info")]
                }
            case .springBoot3:
                // A flaky mail relay: warnings and errors at a steady rate, before and during the incident alike.
                every(pod, seconds: 90) { s, t in
                    [(t, s.springHeader(w, t, " WARN", trace: nil, thread: "mail-retry-1", logger: "c.e.n.mail.MailSender",
                                        message: "Mail server smtp.mailrelay.example.net:587 slow to answer, retrying in 30s"), "warn")]
                }
                every(pod, seconds: 240) { s, t in
                    [(t, s.springHeader(w, t, "ERROR", trace: nil, thread: "mail-retry-1", logger: "c.e.n.mail.MailSender",
                                        message: "Could not deliver digest mail: Couldn't connect to host, port: smtp.mailrelay.example.net, 587; timeout 5000"), "error")]
                }
            case .goSlog:
                every(pod, seconds: 300) { s, t in
                    [(t, "time=\(Stamp.iso(t)) level=INFO msg=\"stock snapshot exported\" rows=\(s.rng.int(8_000...9_000)) bucket=s3://inventory-snapshots", "info")]
                }
            case .nodePino:
                every(pod, seconds: 600) { s, t in
                    [(t, s.pinoLine(t, pod, 30, "carrier rates refreshed", fields: [("carriers", "3", true)], trace: nil), "info")]
                }
            case .pythonOTel:
                every(pod, seconds: 60) { s, t in
                    [(t, s.pythonOTelLine(t, "info", "payments.provider", "health.py:18", nil, "Provider health check ok provider=stripe latency_ms=\(s.rng.int(40...160))"), "info")]
                }
            case .javaLogback:
                break
            case .postgres:
                every(pod, seconds: 300) { s, t in
                    let buffers = s.rng.int(200...3_000)
                    let done = t + Int64(s.rng.int(26_000...29_900)) * Self.ms
                    let write = Double(done - t) / 1e9 - 0.05
                    return [(t, "\(Stamp.postgres(t)) [27] LOG:  checkpoint starting: time", nil),
                            (done, "\(Stamp.postgres(done)) [27] LOG:  checkpoint complete: wrote \(buffers) buffers (\(String(format: "%.1f", Double(buffers) / 163.84))%); 0 WAL file(s) added, 0 removed, \(s.rng.int(0...2)) recycled; write=\(String(format: "%.3f", write)) s, sync=0.0\(s.rng.int(10...99)) s, total=\(String(format: "%.3f", write + 0.05)) s; sync files=\(s.rng.int(10...60)), longest=0.00\(s.rng.int(1...9)) s, average=0.001 s; distance=\(s.rng.int(2_000...20_000)) kB, estimate=\(s.rng.int(9_000...20_000)) kB", nil)]
                }
                every(pod, seconds: 900) { s, t in
                    [(t, "\(Stamp.postgres(t)) [\(s.rng.int(900...9_000))] LOG:  automatic vacuum of table \"payments.public.charges\": index scans: 1", nil)]
                }
            case .redis:
                if spec.faultKind == .exceptions && pods[pod].workload == faulty {
                    redisFailingSaves(pod)
                } else if spec.faultKind == .latency && pods[pod].workload == faulty {
                    redisSlowDisk(pod)
                }
                every(pod, seconds: 300) { s, t in
                    if s.faultActive(s.pods[pod].workload, .exceptions, at: t) { return [] }
                    let child = s.rng.int(100...9_000)
                    let saved = t + Int64(s.rng.int(60...200)) * Self.ms
                    return [(t, "1:M \(Stamp.redis(t)) * \(s.rng.int(100...900)) changes in 300 seconds. Saving...", nil),
                            (t + Self.ms, "1:M \(Stamp.redis(t + Self.ms)) * Background saving started by pid \(child)", nil),
                            (saved, "\(child):C \(Stamp.redis(saved)) * DB saved on disk", nil),
                            (saved + 80 * Self.ms, "1:M \(Stamp.redis(saved + 80 * Self.ms)) * Background saving terminated with success", nil)]
                }
            }
        }
    }

    /// Emits the lines `lines(t)` returns (each with its own time) every `seconds`, with
    /// jitter, over the whole scenario.
    private mutating func every(_ pod: Int, seconds: Double, _ lines: (inout ScenarioSimulator, Int64) -> [(time: Int64, text: String, severity: String?)]) {
        let stream: LogStream
        switch workloads[pods[pod].workload].format {
        case .springBoot2, .springBoot3, .redis, .nodePino: stream = .stdout
        default: stream = .stderr
        }
        var t = spec.startTime + Int64(rng.unit() * seconds * 1e9)
        while t < spec.endTime {
            for line in lines(&self, t) {
                emit(pod, line.time, stream, [line.text], severity: line.severity)
            }
            t += Int64(seconds * (0.9 + 0.2 * rng.unit()) * 1e9)
        }
    }

    /// A full disk: every background save fails, and Redis says so every few seconds.
    private mutating func redisFailingSaves(_ pod: Int) {
        var t = faultStart + millis(100...3_000)
        while t < faultEnd {
            let child = rng.int(100...9_000)
            emit(pod, t, .stdout, ["1:M \(Stamp.redis(t)) * 1 changes in 5 seconds. Saving..."], severity: nil)
            emit(pod, t + Self.ms, .stdout, ["1:M \(Stamp.redis(t + Self.ms)) * Background saving started by pid \(child)"], severity: nil)
            emit(pod, t + 40 * Self.ms, .stdout, ["\(child):C \(Stamp.redis(t + 40 * Self.ms)) # Write error saving DB on disk: No space left on device"], severity: nil)
            emit(pod, t + 60 * Self.ms, .stdout, ["1:M \(Stamp.redis(t + 60 * Self.ms)) # Background saving error"], severity: nil)
            t += millis(5_000...6_000)
        }
    }

    /// A busy disk under the append-only file.
    private mutating func redisSlowDisk(_ pod: Int) {
        var t = faultStart + millis(100...3_000)
        while t < faultEnd {
            emit(pod, t, .stdout, ["1:M \(Stamp.redis(t)) * Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis."],
                 severity: nil)
            t += millis(2_000...12_000)
        }
    }
}
