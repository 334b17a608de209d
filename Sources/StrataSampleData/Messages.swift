/// Application log lines: the styles real workloads write (Spring/logback, logstash JSON,
/// log4j, JVM GC, zap, zerolog, istio, envoy access, logfmt flavours, klog, Go's `log`,
/// nginx access/error, Python logging, gunicorn), rendered straight into bytes.

enum LogStream: Sendable {
    case stdout, stderr

    var other: LogStream { self == .stdout ? .stderr : .stdout }
}

enum Style: Sendable, Equatable {
    case logback, logstash, log4j, jvmGC
    case zap, zerolog
    case istio, envoyAccess
    case logfmt
    case klog
    case goStdlib
    case nginxAccess, nginxError
    case pythonText, pythonJSON, gunicorn

    /// Styles always written to one stream, whatever the container does with its main log.
    var fixedStream: LogStream? {
        switch self {
        case .nginxAccess, .envoyAccess, .jvmGC: return .stdout
        case .nginxError, .gunicorn: return .stderr
        default: return nil
        }
    }
}

enum TraceKind: Sendable {
    case java, python, goHTTPPanic, goKlogPanic
}

enum LogfmtFlavor: Sendable { case slog, logrus, gokit, grafana }
enum PythonFlavor: Sendable { case otel, plain, ansi }

/// Everything about how one container logs, decided once per container.
struct ContainerStyle: Sendable {
    var primary: Style
    var secondary: [(style: Style, weight: Double)] = []
    /// Fraction of primary-style records written to stderr.
    var primaryStderr: Double
    var traceKind: TraceKind
    var traceStream: LogStream
    /// Style of the line that heads a multi-line trace.
    var traceHeader: Style
    var springBoot3 = false
    var zapISOTime = false
    var logfmtFlavor = LogfmtFlavor.slog
    var pythonFlavor = PythonFlavor.plain
    var withTraceparent = false

    init(profile: Profile, domain: WorkloadTemplate.Domain, rng: inout SplitMix64) {
        switch profile {
        case .javaSpring:
            primary = rng.chance(0.25) ? .logstash : .logback
            secondary = [(.jvmGC, 0.03)]
            primaryStderr = 0.02
            traceKind = .java
            traceStream = .stdout
            traceHeader = .logback
            springBoot3 = rng.chance(0.5)
        case .javaKafka:
            primary = .log4j
            secondary = [(.jvmGC, 0.05)]
            primaryStderr = 0
            traceKind = .java
            traceStream = .stdout
            traceHeader = .log4j
        case .goZap:
            primary = rng.chance(0.3) && domain != .controller ? .zerolog : .zap
            secondary = [(.klog, 0.08)]
            primaryStderr = primary == .zap ? 0.85 : 0.1
            traceKind = domain == .controller ? .goKlogPanic : .goHTTPPanic
            traceStream = .stderr
            traceHeader = domain == .controller ? .klog : .goStdlib
            zapISOTime = domain == .controller
        case .goLogfmt:
            primary = .logfmt
            primaryStderr = [0.0, 0.5, 1.0][rng.below(3)]
            traceKind = .goHTTPPanic
            traceStream = .stderr
            traceHeader = .goStdlib
            logfmtFlavor = domain == .infrastructure ? [.logrus, .gokit, .grafana][rng.below(3)] : .slog
        case .goKlog:
            primary = .klog
            primaryStderr = 0.95
            traceKind = .goKlogPanic
            traceStream = .stderr
            traceHeader = .klog
        case .goStdlib:
            primary = .goStdlib
            primaryStderr = 0.9
            traceKind = .goHTTPPanic
            traceStream = .stderr
            traceHeader = .goStdlib
            withTraceparent = rng.chance(0.5)
        case .envoy:
            primary = .envoyAccess
            secondary = [(.istio, 0.3)]
            primaryStderr = 0
            traceKind = .goHTTPPanic
            traceStream = .stderr
            traceHeader = .goStdlib
        case .nginx:
            primary = .nginxAccess
            secondary = [(.nginxError, 0.05), (.klog, 0.06)]
            primaryStderr = 0
            traceKind = .goKlogPanic
            traceStream = .stderr
            traceHeader = .klog
            withTraceparent = rng.chance(0.5)
        case .python:
            primary = rng.chance(0.25) ? .pythonJSON : .pythonText
            secondary = [(.gunicorn, 0.03)]
            primaryStderr = rng.chance(0.6) ? 0.9 : 0.05
            traceKind = .python
            traceStream = primaryStderr > 0.5 ? .stderr : .stdout
            traceHeader = .pythonText
            pythonFlavor = [.otel, .plain, .ansi][rng.below(3)]
        }
    }
}

/// Trace and span ids, as 128 and 64 random bits.
struct TraceContext: Sendable {
    var hi: UInt64
    var lo: UInt64
    var span: UInt64
}

extension LineWriter {
    mutating func append(traceID t: TraceContext) {
        append(hex: t.hi, digits: 16)
        append(hex: t.lo, digits: 16)
    }

    mutating func append(spanID t: TraceContext) { append(hex: t.span, digits: 16) }

    /// W3C `traceparent`: `00-<trace>-<span>-01`.
    mutating func append(traceparent t: TraceContext) {
        append("00-")
        append(traceID: t)
        append(UInt8(ascii: "-"))
        append(spanID: t)
        append("-01")
    }

    /// JSON-escapes (quotes, backslashes, control characters) everything written since `start`.
    mutating func escapeJSON(from start: Int) {
        var clean = true
        for i in start..<bytes.count where bytes[i] < 0x20 || bytes[i] == 0x22 || bytes[i] == 0x5C {
            clean = false
            break
        }
        if clean { return }
        let tail = Array(bytes[start...])
        bytes.removeSubrange(start...)
        for b in tail { appendJSONEscaped(b) }
    }

    @inline(__always) mutating func appendJSONEscaped(_ b: UInt8) {
        switch b {
        case 0x22: append("\\\"")
        case 0x5C: append("\\\\")
        case 0x0A: append("\\n")
        case 0x09: append("\\t")
        case 0x0D: append("\\r")
        case 0..<0x20:
            append("\\u00")
            append(hex: UInt64(b), digits: 2)
        default: append(b)
        }
    }

    /// logfmt quoting: a value holding a space, `=`, `"`, a backslash or a control character
    /// (or nothing at all) is quoted and escaped.
    mutating func quoteLogfmt(from start: Int) {
        var needs = bytes.count == start
        for i in start..<bytes.count where bytes[i] <= 0x20 || bytes[i] == 0x3D || bytes[i] == 0x22 || bytes[i] == 0x5C {
            needs = true
            break
        }
        if !needs { return }
        let tail = Array(bytes[start...])
        bytes.removeSubrange(start...)
        append(UInt8(ascii: "\""))
        for b in tail { appendJSONEscaped(b) }
        append(UInt8(ascii: "\""))
    }
}

/// Level spellings of the various libraries, indexed by `Level.rawValue`.
enum Levels {
    static let upper: [StaticString] = ["DEBUG", "INFO", "WARN", "ERROR"]
    static let lower: [StaticString] = ["debug", "info", "warn", "error"]
    static let logrus: [StaticString] = ["debug", "info", "warning", "error"]
    static let python: [StaticString] = ["DEBUG", "INFO", "WARNING", "ERROR"]
    static let klog: [StaticString] = ["I", "I", "W", "E"]
    static let bracketed: [StaticString] = ["[DEBUG] ", "[INFO] ", "[WARN] ", "[ERROR] "]
    static let pythonFiles: [StaticString] = ["views.py", "tasks.py", "models.py", "client.py"]
}

func bytesList(_ strings: [String]) -> [[UInt8]] { strings.map { Array($0.utf8) } }

/// Writes the log lines of one container. Owns its random stream, so the lines depend only on
/// the seed and the container.
struct MessageFactory {
    var rng: SplitMix64
    let style: ContainerStyle
    let templates: TemplateSet
    let app: [UInt8]
    let namespace: [UInt8]
    let pod: [UInt8]
    let podIP: [UInt8]
    /// gunicorn's worker pid.
    let pid: Int
    let tracePool: [TraceContext]
    private var current: TraceContext?
    private var gcCount = 0
    private var connectionCount: Int

    // Java
    let loggers: [(full: [UInt8], short: [UInt8])]
    let threads: [[UInt8]]
    // Go, klog, Python
    let sourceFiles: [[UInt8]]
    let klogThread: Int
    let pythonLoggers: [[UInt8]]

    init(container: PlannedContainer, style: ContainerStyle, podIP: String, tracePool: [TraceContext], rng: SplitMix64) {
        self.rng = rng
        self.style = style
        self.tracePool = tracePool
        switch container.container.domain {
        case .service: templates = Vocabulary.serviceTemplates
        case .controller: templates = Vocabulary.controllerTemplates
        case .infrastructure: templates = Vocabulary.infrastructureTemplates
        }
        app = Array(container.container.app.utf8)
        namespace = Array(container.namespace.utf8)
        pod = Array(container.pod.utf8)
        self.podIP = Array(podIP.utf8)
        pid = self.rng.int(7...40)
        klogThread = self.rng.chance(0.5) ? 1 : self.rng.int(7...90)
        connectionCount = self.rng.int(1000...90000)

        let packageSegment = container.container.app.replacingOccurrences(of: "-", with: "")
        let entity = MessageFactory.entityName(container.container.app)
        let classes = [
            "com.example.\(packageSegment).web.\(entity)Controller",
            "com.example.\(packageSegment).service.\(entity)Service",
            "com.example.\(packageSegment).repository.\(entity)Repository",
            "com.example.\(packageSegment).client.PaymentsClient",
            "com.example.\(packageSegment).messaging.EventPublisher",
            "org.springframework.web.servlet.DispatcherServlet",
            "org.hibernate.engine.jdbc.spi.SqlExceptionHelper",
            "com.zaxxer.hikari.pool.HikariPool",
            "org.apache.kafka.clients.producer.KafkaProducer",
            "org.springframework.boot.SpringApplication",
        ]
        loggers = classes.map { (Array($0.utf8), Array(MessageFactory.abbreviate($0, to: 39).utf8)) }
        threads = bytesList(
            (1...12).map { "http-nio-8080-exec-\($0)" } + ["main", "scheduling-1", "kafka-producer-network-thread | producer-1",
                                                             "HikariPool-1 housekeeper", "task-3"])
        switch container.container.domain {
        case .controller:
            sourceFiles = bytesList(["controller.go", "reflector.go", "leaderelection.go", "shared_informer.go",
                                     "proxier.go", "reconciler.go", "server.go"])
        case .infrastructure:
            sourceFiles = bytesList(["head.go", "manager.go", "endpoint.go", "scrape.go", "main.go", "compact.go"])
        case .service:
            sourceFiles = bytesList(["http/handler.go", "http/middleware.go", "store/postgres.go", "cache/redis.go",
                                     "worker/consumer.go", "cmd/server/main.go"])
        }
        pythonLoggers = bytesList([
            "\(packageSegment).api", "\(packageSegment).worker", "\(packageSegment).db", "sqlalchemy.engine",
            "urllib3.connectionpool",
        ])
    }

    /// `payments-gateway` → `Payment`, `orders` → `Order`.
    static func entityName(_ app: String) -> String {
        var word = String(app.split(separator: "-").first ?? "app")
        if word.hasSuffix("s") { word.removeLast() }
        return word.prefix(1).uppercased() + word.dropFirst()
    }

    /// logback's `%logger{n}`: shorten package segments to their initial, left to right, until
    /// the name fits; the class name is never shortened.
    static func abbreviate(_ name: String, to length: Int) -> String {
        var parts = name.split(separator: ".").map(String.init)
        var i = 0
        while parts.joined(separator: ".").count > length && i < parts.count - 1 {
            parts[i] = String(parts[i].prefix(1))
            i += 1
        }
        return parts.joined(separator: ".")
    }

    // MARK: - Choices

    mutating func randomLevel() -> Level {
        let x = rng.below(100)
        return x < 6 ? .debug : x < 86 ? .info : x < 96 ? .warn : .error
    }

    /// The style and stream of the next ordinary record.
    mutating func pickStyleAndStream() -> (Style, LogStream) {
        var x = rng.unit()
        for (s, w) in style.secondary {
            if x < w { return (s, s.fixedStream ?? .stderr) }
            x -= w
        }
        let p = style.primary
        return (p, p.fixedStream ?? (rng.chance(style.primaryStderr) ? .stderr : .stdout))
    }

    /// Requests keep their trace for a few lines; some trace ids come from a node-wide pool so
    /// the same trace shows up in several containers.
    mutating func traceContext(probability: Double) -> TraceContext? {
        guard rng.chance(probability) else { return nil }
        if current == nil || rng.chance(0.3) {
            current = rng.chance(0.5) && !tracePool.isEmpty
                ? rng.pick(tracePool) : TraceContext(hi: rng.next(), lo: rng.next(), span: 0)
        }
        current!.span = rng.next()
        return current
    }

    // MARK: - Rendering templates

    mutating func render(_ pieces: [Piece], into w: inout LineWriter) {
        for piece in pieces {
            switch piece {
            case .text(let t): w.append(t)
            case .slot(let s): render(s, into: &w)
            }
        }
    }

    mutating func render(_ slot: Slot, into w: inout LineWriter) {
        switch slot {
        case .int(let lo, let hi): w.append(decimal: rng.int(lo...hi))
        case .uuid: w.append(uuid: rng.next(), rng.next())
        case .hex(let n):
            if n > 16 { w.append(hex: rng.next(), digits: n - 16) }
            w.append(hex: rng.next(), digits: min(n, 16))
        case .millis: w.append(decimal: millis())
        case .seconds:
            let ms = millis()
            w.append(decimal: ms / 1000)
            w.append(UInt8(ascii: "."))
            w.append(decimal: ms % 1000, width: 3)
        case .money:
            w.append(decimal: rng.int(1...999))
            w.append(UInt8(ascii: "."))
            w.append(decimal: rng.below(100), width: 2)
        case .podIP:
            w.append("10.244.")
            w.append(decimal: rng.below(4))
            w.append(UInt8(ascii: "."))
            w.append(decimal: rng.int(2...250))
        case .clientIP:
            if rng.chance(0.5) { w.append("10.0.") } else { w.append("203.0.") }
            w.append(decimal: rng.below(256))
            w.append(UInt8(ascii: "."))
            w.append(decimal: rng.int(1...254))
        case .path: render(rng.pick(Vocabulary.paths), into: &w)
        case .method:
            let x = rng.below(100)
            w.append(x < 70 ? "GET" : x < 90 ? "POST" : x < 95 ? "PUT" : x < 98 ? "DELETE" : "PATCH")
        case .status: w.append(decimal: status())
        case .sku:
            w.append("SKU-")
            w.append(decimal: rng.int(10000...99999))
        case .user:
            w.append("u-")
            w.append(decimal: rng.int(10000...99999))
        case .word(let list): w.append(rng.pick(Vocabulary.words(list)))
        }
    }

    /// Mostly a few milliseconds, with a long tail.
    mutating func millis() -> Int {
        let u = rng.unit()
        return Int(u * u * u * 2000) + 1
    }

    mutating func status() -> Int {
        let x = rng.below(1000)
        switch x {
        case ..<800: return 200
        case ..<850: return 201
        case ..<880: return 204
        case ..<910: return 304
        case ..<930: return 400
        case ..<940: return 401
        case ..<970: return 404
        case ..<980: return 429
        case ..<990: return 500
        case ..<995: return 502
        default: return 503
        }
    }

    mutating func textFields(_ t: Template, into w: inout LineWriter) {
        for f in t.fields {
            w.append(UInt8(ascii: " "))
            w.append(f.key)
            w.append(UInt8(ascii: "="))
            render(f.value, into: &w)
        }
    }

    mutating func jsonString(_ pieces: [Piece], into w: inout LineWriter) {
        w.append(UInt8(ascii: "\""))
        let start = w.count
        render(pieces, into: &w)
        w.escapeJSON(from: start)
        w.append(UInt8(ascii: "\""))
    }

    /// `,"key":value` members; `spaced` gives Python's `json.dumps` separators.
    mutating func jsonFields(_ t: Template, spaced: Bool = false, into w: inout LineWriter) {
        for f in t.fields {
            w.append(spaced ? ", \"" : ",\"")
            w.append(f.key)
            w.append(spaced ? "\": " : "\":")
            if f.isNumeric { render(f.value, into: &w) } else { jsonString(f.value, into: &w) }
        }
    }

    mutating func logfmtFields(_ t: Template, into w: inout LineWriter) {
        for f in t.fields {
            w.append(UInt8(ascii: " "))
            w.append(f.key)
            w.append(UInt8(ascii: "="))
            let start = w.count
            render(f.value, into: &w)
            w.quoteLogfmt(from: start)
        }
    }

    // MARK: - Filler for long lines

    /// About `count` bytes of an order payload, e.g. `{"items":[{"sku":"SKU-12345","qty":2,...}]}`,
    /// ASCII only; quotes written as `\"` when `escaped` (the payload sits in a JSON string).
    mutating func filler(_ count: Int, escaped: Bool, into w: inout LineWriter) {
        guard count > 0 else { return }
        let q: StaticString = escaped ? "\\\"" : "\""
        let end = w.count + count
        w.append("{"); w.append(q); w.append("items"); w.append(q); w.append(":[")
        var first = true
        while w.count < end - 40 {
            if !first { w.append(UInt8(ascii: ",")) }
            first = false
            w.append("{"); w.append(q); w.append("sku"); w.append(q); w.append(":"); w.append(q)
            w.append("SKU-")
            w.append(decimal: rng.int(10000...99999))
            w.append(q); w.append(","); w.append(q); w.append("qty"); w.append(q); w.append(":")
            w.append(decimal: rng.int(1...9))
            w.append(","); w.append(q); w.append("price"); w.append(q); w.append(":")
            w.append(decimal: rng.int(1...499))
            w.append(UInt8(ascii: "."))
            w.append(decimal: rng.below(100), width: 2)
            w.append("}")
        }
        w.append("]}")
    }

    /// About `count` bytes of query string: `&ids=123456,234567,...`.
    mutating func queryFiller(_ count: Int, into w: inout LineWriter) {
        guard count > 0 else { return }
        let end = w.count + count
        w.append("&ids=")
        w.append(decimal: rng.int(100000...999999))
        while w.count < end {
            w.append(UInt8(ascii: ","))
            w.append(decimal: rng.int(100000...999999))
        }
    }

    mutating func textFiller(_ count: Int, into w: inout LineWriter) {
        guard count > 0 else { return }
        w.append(" payload=")
        filler(count, escaped: false, into: &w)
    }

    // MARK: - Styles

    /// Writes one single-line message in `style`. `filler` adds about that many bytes of
    /// payload (for long lines); `level` nil draws one.
    mutating func write(_ s: Style, time: Int64, level: Level? = nil, filler: Int = 0, into w: inout LineWriter) {
        let level = level ?? randomLevel()
        // The application stamps its line a little before the runtime does.
        let appTime = CivilTime(nanosSinceEpoch: time - Int64(rng.int(1000...900_000)))
        switch s {
        case .logback: logback(level, appTime, templates.pick(level, &rng), filler, &w)
        case .logstash: logstash(level, appTime, filler, &w)
        case .log4j: log4j(level, appTime, Vocabulary.kafkaTemplates.pick(level, &rng), filler, &w)
        case .jvmGC: jvmGC(appTime, &w)
        case .zap: zap(level, appTime, time, filler, &w)
        case .zerolog: zerolog(level, appTime, filler, &w)
        case .istio: istio(level, appTime, filler, &w)
        case .envoyAccess: envoyAccess(appTime, filler, &w)
        case .logfmt: logfmt(level, appTime, filler, &w)
        case .klog: klog(level, appTime, templates.pick(level, &rng), filler, &w)
        case .goStdlib: goStdlib(level, appTime, filler, &w)
        case .nginxAccess: nginxAccess(appTime, filler, &w)
        case .nginxError: nginxError(appTime, filler, &w)
        case .pythonText: pythonText(level, appTime, templates.pick(level, &rng), filler, &w)
        case .pythonJSON: pythonJSON(level, appTime, filler, &w)
        case .gunicorn: gunicorn(level, appTime, &w)
        }
    }

    static let javaLevels: [StaticString] = ["DEBUG", " INFO", " WARN", "ERROR"]

    /// Spring Boot's default console pattern, with Sleuth's `[app,trace,span]` (Boot 2) or
    /// Micrometer's `[app] [thread] [trace-span]` (Boot 3).
    mutating func logback(_ level: Level, _ c: CivilTime, _ t: Template, _ filler: Int, _ w: inout LineWriter,
                          logger: Int? = nil, thread: Int? = nil) {
        let trace = traceContext(probability: 0.7)
        let logger = loggers[logger ?? (rng.chance(0.8) ? rng.below(5) : rng.below(loggers.count))]
        let thread = threads[thread ?? rng.below(threads.count)]
        if style.springBoot3 {
            w.append(iso: c, digits: 3)
        } else {
            w.append(date: c)
            w.append(UInt8(ascii: " "))
            w.append(clock: c)
            w.append(UInt8(ascii: "."))
            w.append(fraction: c, digits: 3)
        }
        w.append(UInt8(ascii: " "))
        w.append(MessageFactory.javaLevels[level.rawValue])
        if style.springBoot3 {
            w.append(" 1 --- [")
            w.append(app)
            w.append("] [")
            w.append(field: thread, width: 15)
            w.append("] ")
            if let trace {
                w.append(UInt8(ascii: "["))
                w.append(traceID: trace)
                w.append(UInt8(ascii: "-"))
                w.append(spanID: trace)
                w.append("] ")
            }
        } else {
            w.append(" [")
            w.append(app)
            w.append(UInt8(ascii: ","))
            if let trace {
                w.append(traceID: trace)
                w.append(UInt8(ascii: ","))
                w.append(spanID: trace)
            } else {
                w.append(UInt8(ascii: ","))
            }
            w.append("] 1 --- [")
            w.append(field: thread, width: 15)
            w.append("] ")
        }
        w.append(field: logger.short, width: -40)
        w.append(" : ")
        render(t.message, into: &w)
        textFields(t, into: &w)
        textFiller(filler, into: &w)
    }

    /// logstash-logback-encoder's JSON.
    mutating func logstash(_ level: Level, _ c: CivilTime, _ filler: Int, _ w: inout LineWriter) {
        let t = templates.pick(level, &rng)
        let trace = traceContext(probability: 0.7)
        w.append("{\"@timestamp\":\"")
        w.append(iso: c, digits: 3)
        w.append("\",\"@version\":\"1\",\"message\":")
        jsonString(t.message, into: &w)
        w.append(",\"logger_name\":\"")
        w.append(loggers[rng.below(loggers.count)].full)
        w.append("\",\"thread_name\":\"")
        w.append(threads[rng.below(threads.count)])
        w.append("\",\"level\":\"")
        w.append(Levels.upper[level.rawValue])
        w.append("\",\"level_value\":")
        w.append(decimal: (level.rawValue + 1) * 10000)
        jsonFields(t, into: &w)
        if let trace {
            w.append(",\"traceId\":\"")
            w.append(traceID: trace)
            w.append("\",\"spanId\":\"")
            w.append(spanID: trace)
            w.append("\"")
        }
        if level == .error && rng.chance(0.3) {
            // A stack trace kept on one line, as the encoder writes it.
            w.append(",\"stack_trace\":\"java.lang.IllegalStateException: ")
            let start = w.count
            render(t.message, into: &w)
            w.escapeJSON(from: start)
            for _ in 0..<rng.int(3...8) {
                w.append("\\n\\tat ")
                w.append(rng.pick(StackTraces.javaRequestFrames))
            }
            w.append("\\n\"")
        }
        if filler > 0 {
            w.append(",\"payload\":\"")
            self.filler(filler, escaped: true, into: &w)
            w.append("\"")
        }
        w.append("}")
    }

    /// Kafka's log4j pattern `[%d] %p %m (%c)`.
    mutating func log4j(_ level: Level, _ c: CivilTime, _ t: Template, _ filler: Int, _ w: inout LineWriter) {
        w.append(UInt8(ascii: "["))
        w.append(date: c)
        w.append(UInt8(ascii: " "))
        w.append(clock: c)
        w.append(UInt8(ascii: ","))
        w.append(fraction: c, digits: 3)
        w.append("] ")
        w.append(Levels.upper[level.rawValue])
        w.append(UInt8(ascii: " "))
        render(t.message, into: &w)
        textFiller(filler, into: &w)
    }

    /// Unified JVM logging (`-Xlog:gc:stdout:time,level,tags`).
    mutating func jvmGC(_ c: CivilTime, _ w: inout LineWriter) {
        gcCount += 1
        w.append(UInt8(ascii: "["))
        w.append(date: c)
        w.append(UInt8(ascii: "T"))
        w.append(clock: c)
        w.append(UInt8(ascii: "."))
        w.append(fraction: c, digits: 3)
        w.append("+0000][info][gc] GC(")
        w.append(decimal: gcCount)
        let total = 256 << rng.below(4)
        let before = rng.int(total / 3...total - 10)
        w.append(rng.chance(0.9) ? ") Pause Young (Normal) (G1 Evacuation Pause) " : ") Pause Young (Concurrent Start) (G1 Humongous Allocation) ")
        w.append(decimal: before)
        w.append("M->")
        w.append(decimal: rng.int(8...before / 2))
        w.append("M(")
        w.append(decimal: total)
        w.append("M) ")
        w.append(decimal: rng.int(1...40))
        w.append(UInt8(ascii: "."))
        w.append(decimal: rng.below(1000), width: 3)
        w.append("ms")
    }

    /// zap's production JSON encoder (epoch `ts`), or controller-runtime's (ISO8601 `ts`).
    mutating func zap(_ level: Level, _ c: CivilTime, _ time: Int64, _ filler: Int, _ w: inout LineWriter) {
        let t = templates.pick(level, &rng)
        let trace = traceContext(probability: style.zapISOTime ? 0.05 : 0.6)
        w.append("{\"level\":\"")
        w.append(Levels.lower[level.rawValue])
        w.append("\",\"ts\":")
        if style.zapISOTime {
            w.append(UInt8(ascii: "\""))
            w.append(iso: c, digits: 3)
            w.append(UInt8(ascii: "\""))
        } else {
            w.append(epochSeconds: time - 450_000, digits: 6)
        }
        w.append(",\"logger\":\"")
        w.append(app)
        w.append(style.zapISOTime ? ".controller" : ".http")
        w.append("\",\"caller\":\"")
        w.append(rng.pick(sourceFiles))
        w.append(UInt8(ascii: ":"))
        w.append(decimal: rng.int(20...400))
        w.append("\",\"msg\":")
        jsonString(t.message, into: &w)
        jsonFields(t, into: &w)
        if let trace {
            w.append(",\"trace_id\":\"")
            w.append(traceID: trace)
            w.append("\",\"span_id\":\"")
            w.append(spanID: trace)
            w.append("\"")
        }
        if level == .error && rng.chance(0.4) {
            w.append(",\"stacktrace\":\"")
            for i in 0..<rng.int(2...6) {
                if i > 0 { w.append("\\n") }
                let frame = rng.pick(StackTraces.goFrames)
                w.append(frame.function)
                w.append("\\n\\t")
                w.append(frame.file)
            }
            w.append("\"")
        }
        if filler > 0 {
            w.append(",\"payload\":\"")
            self.filler(filler, escaped: true, into: &w)
            w.append("\"")
        }
        w.append("}")
    }

    mutating func zerolog(_ level: Level, _ c: CivilTime, _ filler: Int, _ w: inout LineWriter) {
        let t = templates.pick(level, &rng)
        let trace = traceContext(probability: 0.6)
        w.append("{\"level\":\"")
        w.append(Levels.lower[level.rawValue])
        w.append("\",\"service\":\"")
        w.append(app)
        w.append("\",\"time\":\"")
        w.append(iso: c, digits: 0)
        w.append(UInt8(ascii: "\""))
        jsonFields(t, into: &w)
        if let trace {
            w.append(",\"trace_id\":\"")
            w.append(traceID: trace)
            w.append("\",\"span_id\":\"")
            w.append(spanID: trace)
            w.append("\"")
        }
        if filler > 0 {
            w.append(",\"payload\":\"")
            self.filler(filler, escaped: true, into: &w)
            w.append("\"")
        }
        w.append(",\"message\":")
        jsonString(t.message, into: &w)
        w.append("}")
    }

    /// istio's tab-separated console format.
    mutating func istio(_ level: Level, _ c: CivilTime, _ filler: Int, _ w: inout LineWriter) {
        let t = Vocabulary.istioTemplates.pick(level, &rng)
        w.append(iso: c, digits: 6)
        w.append(UInt8(ascii: "\t"))
        w.append(Levels.lower[level.rawValue])
        w.append(UInt8(ascii: "\t"))
        w.append(rng.pick(Vocabulary.words(.scope)))
        w.append(UInt8(ascii: "\t"))
        render(t.message, into: &w)
        textFields(t, into: &w)
        textFiller(filler, into: &w)
    }

    /// Envoy's default access log format, as the istio sidecar writes it.
    mutating func envoyAccess(_ c: CivilTime, _ filler: Int, _ w: inout LineWriter) {
        let service = rng.pick(Vocabulary.words(.svc))
        w.append(UInt8(ascii: "["))
        w.append(iso: c, digits: 3)
        w.append("] \"")
        render(.method, into: &w)
        w.append(UInt8(ascii: " "))
        render(.path, into: &w)
        queryFiller(filler, into: &w)
        w.append(" HTTP/1.1\" ")
        let status = status()
        w.append(decimal: status)
        w.append(status < 500 ? " - via_upstream - \"-\" " : " UF upstream_reset_before_response_started{connection_failure} - \"-\" ")
        w.append(decimal: rng.below(2000))
        w.append(UInt8(ascii: " "))
        w.append(decimal: rng.int(0...90000))
        w.append(UInt8(ascii: " "))
        let ms = millis()
        w.append(decimal: ms)
        w.append(UInt8(ascii: " "))
        w.append(decimal: max(0, ms - 1))
        w.append(" \"-\" \"")
        w.append(rng.pick(Vocabulary.words(.agent)))
        w.append("\" \"")
        w.append(uuid: rng.next(), rng.next())
        w.append("\" \"")
        w.append(service)
        w.append(":8080\" \"")
        render(.podIP, into: &w)
        w.append(":8080\" outbound|8080||")
        w.append(service)
        w.append(UInt8(ascii: "."))
        w.append(namespace)
        w.append(".svc.cluster.local ")
        w.append(podIP)
        w.append(UInt8(ascii: ":"))
        w.append(decimal: rng.int(32768...60999))
        w.append(" 10.96.")
        w.append(decimal: rng.below(256))
        w.append(UInt8(ascii: "."))
        w.append(decimal: rng.int(1...254))
        w.append(":8080 ")
        w.append(podIP)
        w.append(UInt8(ascii: ":"))
        w.append(decimal: rng.int(32768...60999))
        w.append(" - default")
    }

    mutating func logfmt(_ level: Level, _ c: CivilTime, _ filler: Int, _ w: inout LineWriter) {
        let t = templates.pick(level, &rng)
        let trace = traceContext(probability: style.logfmtFlavor == .slog ? 0.6 : 0.05)
        let levelName: StaticString
        switch style.logfmtFlavor {
        case .slog:
            w.append("time=")
            w.append(iso: c, digits: 3)
            w.append(" level=")
            levelName = Levels.upper[level.rawValue]
        case .logrus:
            w.append("level=")
            w.append(Levels.logrus[level.rawValue])
            levelName = ""
        case .gokit:
            w.append("ts=")
            w.append(iso: c, digits: 3)
            w.append(" caller=")
            w.append(rng.pick(sourceFiles))
            w.append(UInt8(ascii: ":"))
            w.append(decimal: rng.int(20...2000))
            w.append(" level=")
            levelName = Levels.lower[level.rawValue]
        case .grafana:
            w.append("logger=context userId=")
            w.append(decimal: rng.below(20))
            w.append(" orgId=1 t=")
            w.append(iso: c, digits: 6)
            w.append(" level=")
            levelName = Levels.lower[level.rawValue]
        }
        w.append(levelName)
        w.append(" msg=")
        let start = w.count
        render(t.message, into: &w)
        w.quoteLogfmt(from: start)
        logfmtFields(t, into: &w)
        if let trace {
            w.append(" trace_id=")
            w.append(traceID: trace)
            w.append(" span_id=")
            w.append(spanID: trace)
        }
        if filler > 0 {
            w.append(" payload=\"")
            self.filler(filler, escaped: true, into: &w)
            w.append(UInt8(ascii: "\""))
        }
    }

    /// klog: `I1121 10:00:00.123456       1 file.go:123] msg`, structured (`"msg" k="v"`) when the
    /// template has fields.
    mutating func klog(_ level: Level, _ c: CivilTime, _ t: Template, _ filler: Int, _ w: inout LineWriter) {
        w.append(Levels.klog[level.rawValue])
        w.append(klog: c)
        w.append(decimal: klogThread, width: 8, pad: UInt8(ascii: " "))
        w.append(UInt8(ascii: " "))
        w.append(rng.pick(sourceFiles))
        w.append(UInt8(ascii: ":"))
        w.append(decimal: rng.int(20...900))
        w.append("] ")
        if t.fields.isEmpty {
            render(t.message, into: &w)
        } else {
            jsonString(t.message, into: &w)
            for f in t.fields {
                w.append(UInt8(ascii: " "))
                w.append(f.key)
                w.append(UInt8(ascii: "="))
                if f.isNumeric { render(f.value, into: &w) } else { jsonString(f.value, into: &w) }
            }
        }
        if filler > 0 {
            w.append(" payload=\"")
            self.filler(filler, escaped: true, into: &w)
            w.append(UInt8(ascii: "\""))
        }
    }

    /// Go's `log` package with `Lshortfile`, ids in the message.
    mutating func goStdlib(_ level: Level, _ c: CivilTime, _ filler: Int, _ w: inout LineWriter) {
        let t = templates.pick(level, &rng)
        let trace = traceContext(probability: 0.5)
        w.append(date: c, separator: UInt8(ascii: "/"))
        w.append(UInt8(ascii: " "))
        w.append(clock: c)
        w.append(UInt8(ascii: " "))
        w.append(rng.pick(sourceFiles))
        w.append(UInt8(ascii: ":"))
        w.append(decimal: rng.int(20...400))
        w.append(": ")
        w.append(Levels.bracketed[level.rawValue])
        render(t.message, into: &w)
        textFields(t, into: &w)
        if let trace {
            if style.withTraceparent {
                w.append(" traceparent=")
                w.append(traceparent: trace)
            } else {
                w.append(" TraceID: ")
                w.append(traceID: trace)
                w.append(" SpanID: ")
                w.append(spanID: trace)
            }
        }
        textFiller(filler, into: &w)
    }

    /// ingress-nginx's `upstreaminfo` access log format, optionally with `$http_traceparent`.
    mutating func nginxAccess(_ c: CivilTime, _ filler: Int, _ w: inout LineWriter) {
        let service = rng.pick(Vocabulary.words(.svc))
        render(.clientIP, into: &w)
        w.append(" - - [")
        w.append(nginx: c)
        w.append("] \"")
        render(.method, into: &w)
        w.append(UInt8(ascii: " "))
        render(.path, into: &w)
        queryFiller(filler, into: &w)
        w.append(rng.chance(0.7) ? " HTTP/1.1\" " : " HTTP/2.0\" ")
        let status = status()
        w.append(decimal: status)
        w.append(UInt8(ascii: " "))
        let size = rng.int(0...60000)
        w.append(decimal: size)
        w.append(rng.chance(0.5) ? " \"-\" \"" : " \"https://shop.example.com/\" \"")
        w.append(rng.pick(Vocabulary.words(.agent)))
        w.append("\" ")
        w.append(decimal: rng.int(200...1500))
        w.append(UInt8(ascii: " "))
        render(.seconds, into: &w)
        w.append(" [")
        w.append(namespace)
        w.append(UInt8(ascii: "-"))
        w.append(service)
        w.append("-8080] [] ")
        render(.podIP, into: &w)
        w.append(":8080 ")
        w.append(decimal: size)
        w.append(UInt8(ascii: " "))
        render(.seconds, into: &w)
        w.append(UInt8(ascii: " "))
        w.append(decimal: status)
        w.append(UInt8(ascii: " "))
        w.append(hex: rng.next(), digits: 16)
        w.append(hex: rng.next(), digits: 16)
        if style.withTraceparent {
            if let trace = traceContext(probability: 0.8) {
                w.append(" \"")
                w.append(traceparent: trace)
                w.append(UInt8(ascii: "\""))
            } else {
                w.append(" \"-\"")
            }
        }
    }

    mutating func nginxError(_ c: CivilTime, _ filler: Int, _ w: inout LineWriter) {
        w.append(date: c, separator: UInt8(ascii: "/"))
        w.append(UInt8(ascii: " "))
        w.append(clock: c)
        connectionCount += rng.int(1...50)
        let upstreamTimeout = rng.chance(0.6)
        w.append(upstreamTimeout ? " [error] " : " [warn] ")
        w.append(decimal: rng.int(20...40))
        w.append(UInt8(ascii: "#"))
        w.append(decimal: rng.int(20...40))
        w.append(": *")
        w.append(decimal: connectionCount)
        w.append(upstreamTimeout
            ? " upstream timed out (110: Operation timed out) while reading response header from upstream, client: "
            : " an upstream response is buffered to a temporary file /tmp/nginx/proxy_temp/3/01/0000000013 while reading upstream, client: ")
        render(.clientIP, into: &w)
        w.append(", server: shop.example.com, request: \"")
        render(.method, into: &w)
        w.append(UInt8(ascii: " "))
        let pathStart = w.count
        render(.path, into: &w)
        let path = Array(w.bytes[pathStart...])
        w.append(" HTTP/1.1\", upstream: \"http://")
        render(.podIP, into: &w)
        w.append(":8080")
        w.append(path)
        w.append("\", host: \"shop.example.com\"")
        if filler > 0 {
            w.append(UInt8(ascii: " "))
            self.filler(filler, escaped: false, into: &w)
        }
    }

    static let pythonLevels: [StaticString] = ["DEBUG", "INFO", "WARNING", "ERROR"]
    static let ansiLevels: [StaticString] = [
        "\u{1B}[36mDEBUG\u{1B}[0m   ", "\u{1B}[32mINFO\u{1B}[0m    ", "\u{1B}[33mWARNING\u{1B}[0m ",
        "\u{1B}[31mERROR\u{1B}[0m   ",
    ]

    /// Python `logging` formats: OpenTelemetry's instrumented format, a plain one, and a
    /// colourised one (ANSI escapes).
    mutating func pythonText(_ level: Level, _ c: CivilTime, _ t: Template, _ filler: Int, _ w: inout LineWriter) {
        let logger = rng.chance(0.8) ? pythonLoggers[rng.below(2)] : rng.pick(pythonLoggers)
        w.append(date: c)
        w.append(UInt8(ascii: " "))
        w.append(clock: c)
        w.append(UInt8(ascii: ","))
        w.append(fraction: c, digits: 3)
        w.append(UInt8(ascii: " "))
        switch style.pythonFlavor {
        case .otel:
            let trace = traceContext(probability: 0.7)
            w.append(MessageFactory.pythonLevels[level.rawValue])
            w.append(" [")
            w.append(logger)
            w.append("] [")
            w.append(rng.pick(Levels.pythonFiles))
            w.append(UInt8(ascii: ":"))
            w.append(decimal: rng.int(10...300))
            w.append("] [trace_id=")
            if let trace { w.append(traceID: trace) } else { w.append(UInt8(ascii: "0")) }
            w.append(" span_id=")
            if let trace { w.append(spanID: trace) } else { w.append(UInt8(ascii: "0")) }
            w.append(" resource.service.name=")
            w.append(app)
            w.append(trace != nil ? " trace_sampled=True] - " : " trace_sampled=False] - ")
        case .plain:
            w.append("- ")
            w.append(logger)
            w.append(" - ")
            w.append(MessageFactory.pythonLevels[level.rawValue])
            w.append(" - ")
        case .ansi:
            w.append(MessageFactory.ansiLevels[level.rawValue])
            w.append(logger)
            w.append(": ")
        }
        render(t.message, into: &w)
        textFields(t, into: &w)
        if style.pythonFlavor == .plain, let trace = traceContext(probability: 0.4) {
            w.append(" trace_id=")
            w.append(traceID: trace)
            w.append(" span_id=")
            w.append(spanID: trace)
        }
        textFiller(filler, into: &w)
    }

    /// python-json-logger with OpenTelemetry fields (`json.dumps` separators).
    mutating func pythonJSON(_ level: Level, _ c: CivilTime, _ filler: Int, _ w: inout LineWriter) {
        let t = templates.pick(level, &rng)
        let trace = traceContext(probability: 0.7)
        w.append("{\"asctime\": \"")
        w.append(date: c)
        w.append(UInt8(ascii: " "))
        w.append(clock: c)
        w.append(UInt8(ascii: ","))
        w.append(fraction: c, digits: 3)
        w.append("\", \"levelname\": \"")
        w.append(MessageFactory.pythonLevels[level.rawValue])
        w.append("\", \"name\": \"")
        w.append(rng.pick(pythonLoggers))
        w.append("\", \"message\": ")
        jsonString(t.message, into: &w)
        jsonFields(t, spaced: true, into: &w)
        if let trace {
            w.append(", \"otelTraceID\": \"")
            w.append(traceID: trace)
            w.append("\", \"otelSpanID\": \"")
            w.append(spanID: trace)
            w.append("\"")
        }
        if filler > 0 {
            w.append(", \"payload\": \"")
            self.filler(filler, escaped: true, into: &w)
            w.append("\"")
        }
        w.append("}")
    }

    mutating func gunicorn(_ level: Level, _ c: CivilTime, _ w: inout LineWriter, template: Template? = nil) {
        let t = template ?? Vocabulary.gunicornTemplates.pick(level, &rng)
        w.append(UInt8(ascii: "["))
        w.append(date: c)
        w.append(UInt8(ascii: " "))
        w.append(clock: c)
        w.append(" +0000] [")
        w.append(decimal: pid)
        w.append("] [")
        w.append(Levels.python[level.rawValue])
        w.append("] ")
        render(t.message, into: &w)
    }
}
