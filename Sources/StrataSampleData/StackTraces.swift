/// Multi-line stack traces, one `[UInt8]` per physical line, the first being the header line
/// that starts the record. Every other line is a continuation under the rule documented on
/// `GeneratedFile`: it never begins with a digit, `{`, `[` (but `[signal `), `time=`, `ts=`,
/// `level=`, `logger=`, `panic: ` or a klog header.
enum StackTraces {
    /// Frames of a Spring MVC request on Tomcat, innermost first: a trace ends with a suffix
    /// of this list (always down to `Thread.run`).
    static let javaRequestFrames: [[UInt8]] = bytesList([
        "java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
        "java.base/java.lang.reflect.Method.invoke(Method.java:580)",
        "org.springframework.aop.support.AopUtils.invokeJoinpointUsingReflection(AopUtils.java:355)",
        "org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:184)",
        "org.springframework.transaction.interceptor.TransactionInterceptor.invoke(TransactionInterceptor.java:119)",
        "org.springframework.aop.framework.CglibAopProxy$DynamicAdvisedInterceptor.intercept(CglibAopProxy.java:720)",
        "org.springframework.web.method.support.InvocableHandlerMethod.invokeForRequest(InvocableHandlerMethod.java:182)",
        "org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter.handleInternal(RequestMappingHandlerAdapter.java:808)",
        "org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)",
        "org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)",
        "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)",
        "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:140)",
        "org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:167)",
        "org.apache.coyote.http11.Http11Processor.service(Http11Processor.java:397)",
        "org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1744)",
        "java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1144)",
        "java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:642)",
        "org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run(TaskThread.java:61)",
        "java.base/java.lang.Thread.run(Thread.java:1583)",
    ])

    /// Library frames where exceptions are thrown, innermost first within each group.
    static let javaLibraryFrames: [[[UInt8]]] = [
        ["org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2733)",
         "org.postgresql.jdbc.PgPreparedStatement.executeUpdate(PgPreparedStatement.java:152)",
         "com.zaxxer.hikari.pool.ProxyPreparedStatement.executeUpdate(ProxyPreparedStatement.java:61)",
         "org.hibernate.engine.jdbc.internal.ResultSetReturnImpl.executeUpdate(ResultSetReturnImpl.java:194)"],
        ["java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)",
         "java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099)",
         "feign.Client$Default.execute(Client.java:104)",
         "feign.SynchronousMethodHandler.invoke(SynchronousMethodHandler.java:103)"],
        ["io.grpc.stub.ClientCalls.toStatusRuntimeException(ClientCalls.java:268)",
         "io.grpc.stub.ClientCalls.blockingUnaryCall(ClientCalls.java:167)"],
        ["org.apache.kafka.clients.producer.internals.ProducerBatch.completeFutureAndFireCallbacks(ProducerBatch.java:264)",
         "org.apache.kafka.clients.producer.internals.Sender.sendProducerData(Sender.java:402)"],
        ["reactor.core.publisher.BlockingSingleSubscriber.blockingGet(BlockingSingleSubscriber.java:127)",
         "reactor.core.publisher.Mono.block(Mono.java:1742)"],
    ].map(bytesList)

    static let javaMethods: [[UInt8]] = bytesList([
        "handle", "process", "confirm", "reserve", "lambda$submit$0", "apply", "findById", "publish", "create",
    ])

    /// Exception lines; a second string, when present, is a further line of the message.
    static let javaExceptions: [(line: [Piece], detail: [Piece]?)] = [
        ("java.lang.IllegalStateException: Order {uuid} is in state CANCELLED", nil),
        ("java.lang.NullPointerException: Cannot invoke \"com.example.domain.Customer.getId()\" because \"customer\" is null", nil),
        ("org.springframework.dao.DataIntegrityViolationException: could not execute statement; SQL [n/a]; constraint [orders_pkey]", nil),
        ("org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint \"orders_pkey\"",
         "  Detail: Key (id)=({int:100000-999999}) already exists."),
        ("java.net.SocketTimeoutException: Read timed out", nil),
        ("feign.RetryableException: Connection refused executing POST http://{svc}:8080/api/v1/charges", nil),
        ("io.grpc.StatusRuntimeException: UNAVAILABLE: io exception", nil),
        ("com.fasterxml.jackson.databind.exc.InvalidFormatException: Cannot deserialize value of type `java.time.LocalDate` from String \"2026-13-01\": Failed to deserialize java.time.LocalDate", nil),
        ("java.util.concurrent.TimeoutException: Did not observe any item or terminal signal within 5000ms in 'map'", nil),
        ("org.apache.kafka.common.errors.TimeoutException: Expiring 3 record(s) for {topic}-4: 30001 ms has passed since batch creation", nil),
        ("java.net.ConnectException: Connection refused", nil),
    ].map { (Piece.parse(Substring($0.0)), $0.1.map { Piece.parse(Substring($0)) }) }

    static let javaHeaders = TemplateSet([
        "E:Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed] with root cause",
        "E:Unexpected error while processing order {uuid}",
        "E:Failed to handle message from {topic} | partition={int:0-11} offset={int:100000-9999999}",
        "E:Scheduled task threw an exception",
    ])
    static let javaCrashHeader = Template("E:Application run failed")
    static let kafkaHeaders = TemplateSet([
        "E:[ReplicaManager broker=1] Error processing fetch with max size 1048576 from consumer on partition {topic}-{int:0-11} (kafka.server.ReplicaManager)",
        "E:[KafkaApi-1] Unexpected error handling request (kafka.server.KafkaApis)",
    ])
    static let kafkaCrashHeader = Template(
        "E:[KafkaServer id=1] Fatal error during KafkaServer startup. Prepare to shutdown (kafka.server.KafkaServer)")

    static let pythonHeaders = TemplateSet([
        "E:Exception on {path} [{method}]",
        "E:Unhandled exception in task process_invoice | task_id={uuid}",
        "E:Error processing message from {topic} | offset={int:100000-9999999}",
    ])

    /// (file, line, function, source line)
    static let pythonFrames: [(file: [UInt8], function: [UInt8], code: [UInt8])] = [
        ("/usr/local/lib/python3.12/site-packages/flask/app.py", "wsgi_app", "response = self.full_dispatch_request()"),
        ("/usr/local/lib/python3.12/site-packages/flask/app.py", "dispatch_request", "return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)"),
        ("/usr/local/lib/python3.12/site-packages/celery/app/trace.py", "trace_task", "R = retval = fun(*args, **kwargs)"),
        ("/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/base.py", "_execute_context", "self.dialect.do_execute("),
        ("/usr/local/lib/python3.12/site-packages/requests/adapters.py", "send", "raise ConnectionError(e, request=request)"),
        ("/app/catalog/views.py", "get_product", "product = repo.find(product_id)"),
        ("/app/catalog/repository.py", "find", "return self.session.execute(stmt).scalar_one()"),
        ("/app/worker/tasks.py", "process_invoice", "customer = payload[\"customer_id\"]"),
        ("/app/worker/tasks.py", "charge", "resp = client.post(url, json=body, timeout=5)"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8), Array($0.2.utf8)) }

    static let pythonExceptions: [[Piece]] = [
        "KeyError: 'customer_id'",
        "ValueError: invalid literal for int() with base 10: 'abc'",
        "sqlalchemy.exc.NoResultFound: No row was found when one was required",
        "requests.exceptions.ConnectionError: HTTPConnectionPool(host='{svc}', port=8080): Max retries exceeded with url: /api/v1/charges (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3c2a1b4d90>: Failed to establish a new connection: [Errno 111] Connection refused'))",
        "psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update",
        "TimeoutError: timed out",
        "AttributeError: 'NoneType' object has no attribute 'id'",
    ].map { Piece.parse(Substring($0)) }

    /// Innermost first: net/http handler frames (0..<5), then client-go/controller-runtime ones.
    static let goFrames: [(function: [UInt8], file: [UInt8])] = [
        ("github.com/example/shop/internal/store.(*Postgres).GetCart(0xc0001a4000, {0xa1d0a8, 0xc00018e0f0}, {0xc0002d6000, 0xc})",
         "/app/internal/store/postgres.go:142 +0x2f4"),
        ("github.com/example/shop/internal/server.(*Handler).ServeHTTP(0xc000112340, {0xa1c2f8, 0xc0002b4000}, 0xc0002c8000)",
         "/app/internal/server/handler.go:87 +0x1a5"),
        ("github.com/example/shop/internal/server.(*Server).withTracing.func1({0xa1c2f8, 0xc0002b4000}, 0xc0002c8000)",
         "/app/internal/server/middleware.go:54 +0x1c8"),
        ("net/http.HandlerFunc.ServeHTTP(0xc000124000?, {0xa1c2f8?, 0xc0002b4000?}, 0x0?)",
         "/usr/local/go/src/net/http/server.go:2220 +0x29"),
        ("net/http.serverHandler.ServeHTTP({0xc0001a2000?}, {0xa1c2f8?, 0xc0002b4000?}, 0xc0002c8000?)",
         "/usr/local/go/src/net/http/server.go:3210 +0x8e"),
        ("sigs.k8s.io/controller-runtime/pkg/internal/controller.(*Controller).reconcileHandler(0xc0003fe000, {0x2a1c2f8, 0xc0005b4000}, {0x1d7e6a0, 0xc0006c8000})",
         "/go/pkg/mod/sigs.k8s.io/controller-runtime@v0.19.1/pkg/internal/controller/controller.go:316 +0x3bc"),
        ("k8s.io/client-go/tools/cache.(*processorListener).run.func1()",
         "/go/pkg/mod/k8s.io/client-go@v0.31.2/tools/cache/shared_informer.go:976 +0x13e"),
        ("k8s.io/apimachinery/pkg/util/wait.BackoffUntil.func1(0x30?)",
         "/go/pkg/mod/k8s.io/apimachinery@v0.31.2/pkg/util/wait/backoff.go:226 +0x33"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }
}

extension MessageFactory {
    /// A complete trace: the lines and the stream they go to. `crash` gives the last words of
    /// a process before a restart.
    mutating func trace(time: Int64, crash: Bool = false) -> (lines: [[UInt8]], stream: LogStream) {
        var lines: [[UInt8]] = []
        var w = LineWriter(capacity: 256)
        let c = CivilTime(nanosSinceEpoch: time - Int64(rng.int(1000...900_000)))
        switch style.traceKind {
        case .java:
            if style.traceHeader == .log4j {
                let t = crash ? StackTraces.kafkaCrashHeader : StackTraces.kafkaHeaders.pick(.error, &rng)
                log4j(.error, c, t, 0, &w)
            } else {
                let t = crash ? StackTraces.javaCrashHeader : StackTraces.javaHeaders.pick(.error, &rng)
                // The crash comes from SpringApplication on the main thread.
                logback(.error, c, t, 0, &w, logger: crash ? 9 : nil, thread: crash ? 12 : nil)
            }
            line(&w, into: &lines)
            javaTrace(into: &lines, &w)
            return (lines, style.traceStream)
        case .python:
            if crash {
                gunicorn(.error, c, &w, template: Template("E:Exception in worker process"))
            } else {
                pythonText(.error, c, StackTraces.pythonHeaders.pick(.error, &rng), 0, &w)
            }
            line(&w, into: &lines)
            pythonTrace(into: &lines, &w)
            return (lines, crash ? .stderr : style.traceStream)
        case .goHTTPPanic, .goKlogPanic:
            if crash {
                goFatalPanic(into: &lines, &w)
                return (lines, .stderr)
            }
            if style.traceKind == .goKlogPanic {
                w.append("E")
                w.append(klog: c)
                w.append(decimal: klogThread, width: 8, pad: UInt8(ascii: " "))
                w.append(" runtime.go:79] Observed a panic: \"invalid memory address or nil pointer dereference\" (runtime error: invalid memory address or nil pointer dereference)")
            } else {
                w.append(date: c, separator: UInt8(ascii: "/"))
                w.append(UInt8(ascii: " "))
                w.append(clock: c)
                w.append(" http: panic serving ")
                render(.clientIP, into: &w)
                w.append(UInt8(ascii: ":"))
                w.append(decimal: rng.int(32768...60999))
                w.append(rng.chance(0.5)
                    ? ": runtime error: invalid memory address or nil pointer dereference"
                    : ": runtime error: index out of range [3] with length 3")
            }
            line(&w, into: &lines)
            goroutine(running: true, recovered: true, klog: style.traceKind == .goKlogPanic, into: &lines, &w)
            return (lines, style.traceStream)
        }
    }

    /// `<exception>` (and a detail line), library and application frames, the request frames
    /// down to `Thread.run`; then up to three `Caused by:` sections ending in `... N more`.
    private mutating func javaTrace(into lines: inout [[UInt8]], _ w: inout LineWriter) {
        let requestFrames = StackTraces.javaRequestFrames
        let outer = rng.below(requestFrames.count - 2)
        let depthZeroFrames = requestFrames.count - outer
        for depth in 0..<4 {
            guard depth == 0 || rng.chance(depth == 1 ? 0.6 : 0.3) else { break }
            let exception = rng.pick(StackTraces.javaExceptions)
            if depth > 0 { w.append("Caused by: ") }
            render(exception.line, into: &w)
            line(&w, into: &lines)
            if let detail = exception.detail {
                render(detail, into: &w)
                line(&w, into: &lines)
            }
            let library = rng.pick(StackTraces.javaLibraryFrames)
            for frame in library.prefix(rng.int(1...library.count)) {
                w.append("\tat ")
                w.append(frame)
                line(&w, into: &lines)
            }
            for _ in 0..<rng.int(1...3) {
                // An application frame: com.example.orders.service.OrderService.confirm(OrderService.java:142)
                let full = loggers[rng.below(5)].full
                w.append("\tat ")
                w.append(full)
                w.append(UInt8(ascii: "."))
                w.append(rng.pick(StackTraces.javaMethods))
                w.append(UInt8(ascii: "("))
                if let dot = full.lastIndex(of: UInt8(ascii: ".")) { w.append(full[(dot + 1)...]) }
                w.append(".java:")
                w.append(decimal: rng.int(20...400))
                w.append(UInt8(ascii: ")"))
                line(&w, into: &lines)
            }
            if depth == 0 {
                for frame in requestFrames[outer...] {
                    w.append("\tat ")
                    w.append(frame)
                    line(&w, into: &lines)
                }
            } else {
                w.append("\t... ")
                w.append(decimal: depthZeroFrames + rng.int(0...3))
                w.append(rng.chance(0.5) ? " more" : " common frames omitted")
                line(&w, into: &lines)
            }
        }
    }

    /// Moves the line in `w` to `lines`.
    private func line(_ w: inout LineWriter, into lines: inout [[UInt8]]) {
        lines.append(w.bytes)
        w.removeAll()
    }

    private mutating func pythonTrace(into lines: inout [[UInt8]], _ w: inout LineWriter) {
        var chained = 0
        repeat {
            if chained > 0 {
                lines.append([])
                lines.append(Array(rng.chance(0.5)
                    ? "During handling of the above exception, another exception occurred:"
                    : "The above exception was the direct cause of the following exception:"))
                lines.append([])
            }
            lines.append(Array("Traceback (most recent call last):"))
            for _ in 0..<rng.int(2...9) {
                let f = rng.pick(StackTraces.pythonFrames)
                w.append("  File \"")
                w.append(f.file)
                w.append("\", line ")
                w.append(decimal: rng.int(12...1600))
                w.append(", in ")
                w.append(f.function)
                lines.append(w.bytes)
                w.removeAll()
                w.append("    ")
                w.append(f.code)
                lines.append(w.bytes)
                w.removeAll()
                if rng.chance(0.2) {
                    w.append("    ")
                    w.append(repeating: UInt8(ascii: "^"), count: min(f.code.count, rng.int(6...40)))
                    lines.append(w.bytes)
                    w.removeAll()
                }
            }
            render(rng.pick(StackTraces.pythonExceptions), into: &w)
            lines.append(w.bytes)
            w.removeAll()
            chained += 1
        } while chained < 3 && rng.chance(0.25)
    }

    /// A goroutine dump. `recovered`: the panic was caught by net/http or apimachinery (their
    /// recovery frames come first); otherwise it killed the process.
    private mutating func goroutine(
        running: Bool, recovered: Bool, klog: Bool, into lines: inout [[UInt8]], _ w: inout LineWriter
    ) {
        w.append("goroutine ")
        w.append(decimal: recovered ? rng.int(20...90000) : running ? 1 : rng.int(2...400))
        w.append(running ? " [running]:" : " [select]:")
        line(&w, into: &lines)
        func frame(_ function: StaticString, _ file: StaticString, _ lines: inout [[UInt8]]) {
            lines.append(Array(function))
            lines.append(Array(file))
        }
        if recovered {
            if klog {
                frame("k8s.io/apimachinery/pkg/util/runtime.logPanic({0x1d2e6a0, 0x3a7c4e0})",
                      "\t/go/pkg/mod/k8s.io/apimachinery@v0.31.2/pkg/util/runtime/runtime.go:75 +0x85", &lines)
                frame("k8s.io/apimachinery/pkg/util/runtime.HandleCrash({0x0, 0x0, 0xc0004e2380?})",
                      "\t/go/pkg/mod/k8s.io/apimachinery@v0.31.2/pkg/util/runtime/runtime.go:49 +0x6b", &lines)
            } else {
                frame("net/http.(*conn).serve.func1()", "\t/usr/local/go/src/net/http/server.go:1947 +0xbe", &lines)
            }
            frame("panic({0x8d4a20?, 0xc0001a6018?})", "\t/usr/local/go/src/runtime/panic.go:785 +0x132", &lines)
        }
        // Innermost frames first, down to the goroutine's entry point.
        let frames = klog ? StackTraces.goFrames[5...] : StackTraces.goFrames[..<5]
        for f in frames.dropFirst(rng.below(frames.count - 1)) {
            lines.append(f.function)
            w.append(UInt8(ascii: "\t"))
            w.append(f.file)
            line(&w, into: &lines)
        }
        if klog {
            frame("created by k8s.io/client-go/tools/cache.(*processorListener).run in goroutine 87",
                  "\t/go/pkg/mod/k8s.io/client-go@v0.31.2/tools/cache/shared_informer.go:968 +0x6a", &lines)
        } else {
            frame("net/http.(*conn).serve(0xc0001b6000, {0xa1d0a8, 0xc00018e0f0})",
                  "\t/usr/local/go/src/net/http/server.go:2092 +0x5d0", &lines)
            frame("created by net/http.(*Server).Serve in goroutine 1",
                  "\t/usr/local/go/src/net/http/server.go:3360 +0x485", &lines)
        }
    }

    /// An unrecovered panic: the process dies right after writing it.
    private mutating func goFatalPanic(into lines: inout [[UInt8]], _ w: inout LineWriter) {
        if rng.chance(0.7) {
            lines.append(Array("panic: runtime error: invalid memory address or nil pointer dereference"))
            w.append("[signal SIGSEGV: segmentation violation code=0x1 addr=0x")
            w.append(hex: UInt64(rng.int(0...0x40)), digits: 2)
            w.append(" pc=0x")
            w.append(hex: rng.next(), digits: 7)
            w.append(UInt8(ascii: "]"))
            lines.append(w.bytes)
            w.removeAll()
        } else {
            lines.append(Array("panic: assignment to entry in nil map"))
        }
        lines.append([])
        goroutine(running: true, recovered: false, klog: false, into: &lines, &w)
        if rng.chance(0.5) {
            lines.append([])
            goroutine(running: false, recovered: false, klog: false, into: &lines, &w)
        }
    }
}
