import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataAgent

/// Builds a container log file line by line, feeds an assembler like the tailer does, and
/// remembers each line's offsets.
private struct LogFile {
    struct RawLine {
        var bytes: [UInt8]
        var start: Int64
        var end: Int64
    }

    let format: RuntimeFormat
    var lines: [RawLine] = []
    var size: Int64 = 0
    var time: Int64 = 1_700_000_000_000_000_000

    init(_ format: RuntimeFormat = .cri) { self.format = format }

    /// Appends a raw line (without `\n`) and returns its index.
    @discardableResult
    mutating func raw(_ text: String) -> Int {
        raw(Array(text.utf8))
    }

    @discardableResult
    mutating func raw(_ bytes: [UInt8]) -> Int {
        let start = size
        size += Int64(bytes.count) + 1
        lines.append(RawLine(bytes: bytes, start: start, end: size))
        return lines.count - 1
    }

    /// One CRI (or docker) line; `partial` selects tag P / a log value without "\n".
    @discardableResult
    mutating func line(_ stream: LogStream = .stdout, _ message: String, partial: Bool = false) -> Int {
        time += 1_000
        let stamp = RFC3339.format(nanos: time)
        switch format {
        case .cri:
            return raw("\(stamp) \(stream.name) \(partial ? "P" : "F") \(message)")
        case .docker:
            var escaped = ""
            for scalar in message.unicodeScalars {
                switch scalar {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\t": escaped += "\\t"
                case "\n": escaped += "\\n"
                case "<": escaped += "\\u003c"
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            return raw(#"{"log":""# + escaped + (partial ? "" : "\\n") + #"","stream":""# + stream.name + #"","time":""# + stamp + #""}"#)
        }
    }

    /// Several lines of one stream.
    mutating func lines(_ stream: LogStream = .stdout, _ text: String) {
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) { line(stream, String(l)) }
    }

    func entry(_ index: Int) -> RuntimeEntry { format.decode(lines[index].bytes) }
}

/// Runs an assembler over (part of) a file.
private struct Harness {
    var assembler: LineAssembler
    var records: [AssembledRecord] = []
    var next = 0

    init(_ configuration: AssemblyConfiguration = AssemblyConfiguration()) {
        assembler = LineAssembler(configuration: configuration)
    }

    /// Feeds the file's lines not fed yet, all arriving at `now`.
    mutating func feed(_ file: LogFile, now: Int64 = 0, resume: ResumePoint? = nil) {
        while next < file.lines.count {
            let line = file.lines[next]
            next += 1
            let entry = file.format.decode(line.bytes)
            if let resume {
                if line.start < resume.readOffset { continue }
                if resume.shouldSkip(lineStart: line.start, entry: entry) { continue }
            }
            assembler.append(entry, lineStart: line.start, lineEnd: line.end, now: now) { records.append($0) }
        }
    }

    mutating func flushAll() { assembler.flushAll { records.append($0) } }
    mutating func flushExpired(now: Int64) { assembler.flushExpired(now: now) { records.append($0) } }

    var texts: [String] { records.map { String(decoding: $0.body, as: UTF8.self) } }
}

private func ckpt(_ sequence: CheckpointSequence, _ offset: Int64) -> StreamCheckpoint {
    StreamCheckpoint(sequence: sequence, offset: offset)
}

private struct PrefixPredicate: LinePredicate {
    let prefix: [UInt8]
    func matches(_ line: UnsafeRawBufferPointer) -> Bool {
        line.count >= prefix.count && zip(line, prefix).allSatisfy { $0 == $1 }
    }
}

final class MultilineTests: XCTestCase {
    let second: Int64 = 1_000_000_000

    // MARK: Partial lines

    func testCRIPartialJoining() {
        var file = LogFile()
        file.line(.stdout, "first ", partial: true)
        file.line(.stdout, "second ", partial: true)
        let last = file.line(.stdout, "third")
        file.line(.stdout, "next")
        var h = Harness()
        h.feed(file)
        XCTAssertEqual(h.texts, ["first second third"])
        XCTAssertEqual(h.records[0].flags, [])
        XCTAssertEqual(h.records[0].timestamp, file.entry(0).time)
        XCTAssertEqual(h.records[0].checkpoint, ckpt(.stdout, file.lines[last].end))
        h.flushAll()
        XCTAssertEqual(h.texts, ["first second third", "next"])
        XCTAssertEqual(h.records[1].checkpoint, ckpt(.stdout, file.size))
        XCTAssertFalse(h.assembler.hasPending)
    }

    func testDockerPartialJoining() {
        var file = LogFile(.docker)
        file.line(.stderr, "aaa", partial: true)
        file.line(.stderr, "bbb", partial: true)
        file.line(.stderr, "ccc")
        var h = Harness(AssemblyConfiguration(builtinRules: []))
        h.feed(file)
        XCTAssertEqual(h.texts, ["aaabbbccc"])
        XCTAssertEqual(h.records[0].stream, .stderr)
        XCTAssertEqual(h.records[0].checkpoint, ckpt(.stderr, file.size))
    }

    func testPartialsOfTheTwoStreamsJoinIndependently() {
        var file = LogFile()
        file.line(.stdout, "out-1 ", partial: true)
        file.line(.stderr, "err-1 ", partial: true)
        file.line(.stdout, "out-2")
        file.line(.stderr, "err-2")
        var h = Harness(AssemblyConfiguration(builtinRules: []))
        h.feed(file)
        XCTAssertEqual(h.texts, ["out-1 out-2", "err-1 err-2"])
        XCTAssertEqual(h.records.map(\.stream), [.stdout, .stderr])
        XCTAssertEqual(h.records[0].checkpoint, ckpt(.stdout, file.lines[2].end))
        XCTAssertEqual(h.records[1].checkpoint, ckpt(.stderr, file.lines[3].end))
    }

    func testCarriageReturnSplitAcrossPieces() {
        var file = LogFile()
        file.line(.stdout, "dos line\r", partial: true)
        file.line(.stdout, "")
        var h = Harness(AssemblyConfiguration(builtinRules: []))
        h.feed(file)
        XCTAssertEqual(h.texts, ["dos line"])

        var docker = LogFile(.docker)
        docker.line(.stdout, "dos line\r", partial: true)
        docker.line(.stdout, "")
        var d = Harness(AssemblyConfiguration(builtinRules: []))
        d.feed(docker)
        XCTAssertEqual(d.texts, ["dos line"])
    }

    func testPartialPendingAtFlushIsFlagged() {
        var file = LogFile()
        file.line(.stdout, "complete")
        file.line(.stdout, "never fin", partial: true)
        var h = Harness()
        h.feed(file)
        h.flushAll()
        XCTAssertEqual(h.texts, ["complete", "never fin"])
        XCTAssertEqual(h.records[0].flags, [])
        XCTAssertEqual(h.records[1].flags, [.partial, .flushedByTimeout])
        XCTAssertEqual(h.records[1].checkpoint, ckpt(.stdout, file.size))
    }

    func testEmptyMessages() {
        var file = LogFile()
        file.line(.stdout, "")
        file.line(.stdout, "x")
        file.line(.stdout, "")
        var h = Harness(AssemblyConfiguration(builtinRules: []))
        h.feed(file)
        XCTAssertEqual(h.texts, ["", "x", ""])
        XCTAssertEqual(h.records.map(\.checkpoint), file.lines.map { ckpt(.stdout, $0.end) })
    }

    func testNoRulesEmitsImmediately() {
        var file = LogFile()
        file.lines(.stdout, "java.lang.Exception: x\n\tat a.b.C.d(C.java:1)")
        var h = Harness(AssemblyConfiguration(builtinRules: []))
        h.feed(file)
        XCTAssertEqual(h.texts, ["java.lang.Exception: x", "\tat a.b.C.d(C.java:1)"])
        XCTAssertFalse(h.assembler.hasPending)
        XCTAssertNil(h.assembler.oldestPendingDeadline)
    }

    // MARK: Envelope errors

    func testCorruptLineFlushesStdoutAndStandsAlone() {
        var file = LogFile()
        file.lines(.stdout, "ERROR failed\njava.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)")
        file.line(.stderr, "stderr pending")
        file.line(.stdout, "half", partial: true)
        let bad = file.raw("garbage that is no CRI line")
        file.line(.stdout, "after")
        var h = Harness()
        h.feed(file)
        XCTAssertEqual(
            h.texts,
            [
                "ERROR failed\njava.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)", "half",
                "garbage that is no CRI line",
            ])
        XCTAssertEqual(h.records[0].flags, .multiline)
        XCTAssertEqual(h.records[0].checkpoint, ckpt(.stdout, file.lines[2].end))
        XCTAssertEqual(h.records[1].flags, .partial)
        XCTAssertEqual(h.records[1].checkpoint, ckpt(.stdout, file.lines[4].end))
        XCTAssertEqual(h.records[2].flags, .parseError)
        XCTAssertEqual(h.records[2].stream, .unknown)
        XCTAssertEqual(h.records[2].timestamp, 0)
        XCTAssertEqual(h.records[2].checkpoint, ckpt(.stdout, file.lines[bad].end))
        // stderr was untouched and is still pending; its oldest line bounds the peer checkpoint.
        XCTAssertEqual(h.records[2].peerCheckpoint, ckpt(.stderr, file.lines[3].start))
        h.flushAll()
        XCTAssertEqual(Array(h.texts[3...]), ["after", "stderr pending"])
    }

    func testCorruptDockerLineKeptWhole() {
        var file = LogFile(.docker)
        file.line(.stdout, "ok")
        let raw = #"{"log":"broken \ud800 escape\n","stream":"stdout","time":"2023-01-29T08:42:10Z"}"#
        file.raw(raw)
        var h = Harness(AssemblyConfiguration(builtinRules: []))
        h.feed(file)
        XCTAssertEqual(h.texts, ["ok", raw])
        XCTAssertEqual(h.records[1].flags, .parseError)
    }

    // MARK: Size cap

    func testLongLineSplitIntoTruncatedPieces() {
        var file = LogFile()
        file.line(.stdout, String(repeating: "0123456789", count: 2) + "abcde")
        var h = Harness(AssemblyConfiguration(maxRecordBytes: 10, builtinRules: []))
        h.feed(file)
        XCTAssertEqual(h.texts, ["0123456789", "0123456789", "abcde"])
        XCTAssertTrue(h.records.allSatisfy { $0.flags == .truncated })
        XCTAssertEqual(h.records.map(\.checkpoint), [nil, nil, ckpt(.stdout, file.size)])
        XCTAssertTrue(h.records.allSatisfy { $0.timestamp == file.entry(0).time })
    }

    func testLongLineWithGroupingKeepsLastPiecePending() {
        var file = LogFile()
        file.line(.stdout, "ERROR " + String(repeating: "x", count: 30))
        file.line(.stdout, "\tat a.B(X:1)")
        var h = Harness(AssemblyConfiguration(maxRecordBytes: 26))
        h.feed(file)
        XCTAssertEqual(h.texts, ["ERROR " + String(repeating: "x", count: 20)])
        XCTAssertEqual(h.records[0].checkpoint, nil)
        XCTAssertEqual(h.records[0].flags, .truncated)
        // The tail of the cut line stays pending, and the frame joins it.
        h.flushAll()
        XCTAssertEqual(h.texts.last, String(repeating: "x", count: 10) + "\n\tat a.B(X:1)")
        XCTAssertEqual(h.records[1].flags, [.truncated, .multiline, .flushedByTimeout])
        XCTAssertEqual(h.records[1].checkpoint, ckpt(.stdout, file.size))
        XCTAssertEqual(h.records[1].timestamp, file.entry(0).time)
    }

    func testPartialLineLongerThanCap() {
        var file = LogFile()
        file.line(.stdout, "before")
        file.line(.stdout, "aaaaaaaa", partial: true)
        file.line(.stdout, "bbbbbbbb", partial: true)
        file.line(.stdout, "cccc")
        file.line(.stdout, "after")
        var h = Harness(AssemblyConfiguration(maxRecordBytes: 10))
        h.feed(file)
        h.flushAll()
        XCTAssertEqual(h.texts, ["before", "aaaaaaaabb", "bbbbbbcccc", "after"])
        XCTAssertEqual(h.records.map(\.flags), [[], .truncated, .truncated, []])
        XCTAssertEqual(
            h.records.map(\.checkpoint),
            [ckpt(.stdout, file.lines[0].end), nil, ckpt(.stdout, file.lines[3].end), ckpt(.stdout, file.size)])
        XCTAssertEqual(h.records[1].timestamp, file.entry(1).time)
    }

    func testTruncatedPartialPendingAtTimeout() {
        var file = LogFile()
        file.line(.stdout, "aaaaaaaa", partial: true)
        file.line(.stdout, "bbbbbbbb", partial: true)
        var h = Harness(AssemblyConfiguration(maxRecordBytes: 10))
        h.feed(file, now: 0)
        XCTAssertEqual(h.texts, ["aaaaaaaabb"])
        XCTAssertEqual(h.assembler.oldestPendingDeadline, second)
        h.flushExpired(now: second)
        XCTAssertEqual(h.texts, ["aaaaaaaabb", "bbbbbb"])
        XCTAssertEqual(h.records[1].flags, [.partial, .truncated, .flushedByTimeout])
        XCTAssertEqual(h.records[1].checkpoint, ckpt(.stdout, file.size))
    }

    func testSplitKeepsUTF8CharactersWhole() {
        var file = LogFile()
        file.line(.stdout, "abcdefgh€€€")  // 8 ASCII + 3 x 3 bytes
        var h = Harness(AssemblyConfiguration(maxRecordBytes: 10, builtinRules: []))
        h.feed(file)
        XCTAssertEqual(h.texts, ["abcdefgh", "€€€"])
        XCTAssertEqual(h.records.map { $0.body.count }, [8, 9])
    }

    func testGroupOverCapIsSplitAtLineBoundaries() {
        var file = LogFile()
        file.lines(
            .stdout,
            """
            ERROR request failed
            java.lang.RuntimeException: x
            \tat a.B.one(B.java:1)
            \tat a.B.two(B.java:2)
            \tat a.B.three(B.java:3)
            INFO next
            """)
        var h = Harness(AssemblyConfiguration(maxRecordBytes: 72))
        h.feed(file)
        h.flushAll()
        XCTAssertEqual(
            h.texts,
            [
                "ERROR request failed\njava.lang.RuntimeException: x\n\tat a.B.one(B.java:1)",
                "\tat a.B.two(B.java:2)\n\tat a.B.three(B.java:3)",
                "INFO next",
            ])
        XCTAssertEqual(h.records[0].flags, [.multiline, .truncated])
        XCTAssertEqual(h.records[1].flags, [.multiline, .truncated])
        XCTAssertEqual(h.records[2].flags, [])
        XCTAssertTrue(h.records.allSatisfy { $0.body.count <= 72 })
        XCTAssertEqual(h.records[0].checkpoint, ckpt(.stdout, file.lines[2].end))
        XCTAssertEqual(h.records[1].checkpoint, ckpt(.stdout, file.lines[4].end))
        XCTAssertEqual(h.records[1].timestamp, file.entry(3).time)
    }

    func testCorruptLineLongerThanCap() {
        var file = LogFile()
        file.raw("0123456789012345")
        var h = Harness(AssemblyConfiguration(maxRecordBytes: 10))
        h.feed(file)
        XCTAssertEqual(h.texts, ["0123456789", "012345"])
        XCTAssertEqual(h.records.map(\.flags), [[.parseError, .truncated], [.parseError, .truncated]])
        XCTAssertEqual(h.records.map(\.checkpoint), [nil, ckpt(.stdout, file.size)])
    }

    // MARK: Java

    static let springBoot = """
        2024-03-01 12:00:00.123 ERROR 1 --- [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed; nested exception is java.lang.IllegalStateException: order 42 has no items] with root cause
        java.lang.IllegalStateException: order 42 has no items
        \tat com.example.shop.OrderService.total(OrderService.java:57) ~[classes/:na]
        \tat com.example.shop.OrderController.show(OrderController.java:31) ~[classes/:na]
        \tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method) ~[na:na]
        \tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883) ~[spring-webmvc-5.3.9.jar:5.3.9]
        \tat org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run(TaskThread.java:61) ~[tomcat-embed-core-9.0.50.jar:9.0.50]
        \tat java.base/java.lang.Thread.run(Thread.java:829) ~[na:na]
        Caused by: org.springframework.dao.EmptyResultDataAccessException: Incorrect result size: expected 1, actual 0
        \tat org.springframework.jdbc.core.JdbcTemplate.queryForObject(JdbcTemplate.java:880) ~[spring-jdbc-5.3.9.jar:5.3.9]
        \tat com.example.shop.OrderRepository.find(OrderRepository.java:22) ~[classes/:na]
        \t... 12 more
        \tSuppressed: java.io.IOException: close failed
        \t\tat com.example.shop.Conn.close(Conn.java:9)
        \t\t... 3 common frames omitted
        """

    func testSpringBootStackTrace() {
        var file = LogFile()
        file.lines(.stdout, Self.springBoot)
        let lastTrace = file.lines.count - 1
        file.line(.stdout, "2024-03-01 12:00:01.000  INFO 1 --- [           main] c.e.shop.ShopApplication : next request")
        var h = Harness()
        h.feed(file)
        XCTAssertEqual(h.texts, [Self.springBoot])
        XCTAssertEqual(h.records[0].flags, .multiline)
        XCTAssertEqual(h.records[0].timestamp, file.entry(0).time)
        XCTAssertEqual(h.records[0].checkpoint, ckpt(.stdout, file.lines[lastTrace].end))
        h.flushAll()
        XCTAssertEqual(h.records.count, 2)
        XCTAssertEqual(h.records[1].flags, [])
    }

    func testJavaHeaderJoinsOnlyAPendingPlainLine() {
        var file = LogFile()
        // Nothing pending: the header starts a record (printStackTrace output).
        file.lines(.stdout, "java.lang.NullPointerException\n\tat a.B.c(B.java:1)")
        // A second exception right after a trace is a new record.
        file.lines(.stdout, "com.example.FooError: second\n\tat a.B.d(B.java:2)")
        // An uncaught exception.
        file.lines(.stdout, "Exception in thread \"main\" java.lang.Error: x\n\tat a.Main.main(Main.java:3)")
        // Things that look a bit like headers but are not.
        file.lines(.stdout, "INFO com.example.Service: started\ncom.example.Exceptional: no\nsome.ErrorHandler started")
        var h = Harness()
        h.feed(file)
        h.flushAll()
        XCTAssertEqual(
            h.texts,
            [
                "java.lang.NullPointerException\n\tat a.B.c(B.java:1)",
                "com.example.FooError: second\n\tat a.B.d(B.java:2)",
                "Exception in thread \"main\" java.lang.Error: x\n\tat a.Main.main(Main.java:3)",
                "INFO com.example.Service: started", "com.example.Exceptional: no", "some.ErrorHandler started",
            ])
    }

    func testOrphanFramesStayTogether() {
        var file = LogFile()
        file.lines(.stdout, "\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)\n    at Object.<anonymous> (/app/x.js:1:1)")
        file.line(.stdout, "    at the moment nothing")  // matches the frame shape: documented limitation
        file.line(.stdout, "done")
        var h = Harness()
        h.feed(file)
        h.flushAll()
        XCTAssertEqual(h.texts.count, 2)
        XCTAssertEqual(h.texts[0].split(separator: "\n").count, 4)
        XCTAssertEqual(h.texts[1], "done")
    }

    // MARK: Python

    static let pythonChained = """
        Traceback (most recent call last):
          File "/app/config.py", line 10, in load
            return json.loads(raw)
                   ^^^^^^^^^^^^^^^
          File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
            return _default_decoder.decode(s)
        json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)

        During handling of the above exception, another exception occurred:

        Traceback (most recent call last):
          File "/app/main.py", line 20, in <module>
            load("")
          File "/app/config.py", line 12, in load
            raise ConfigError("bad config") from err
        ConfigError: bad config

        The above exception was the direct cause of the following exception:

        Traceback (most recent call last):
          File "/app/main.py", line 22, in <module>
            sys.exit(main())
        SystemExit: 1
        """

    func testPythonChainedTraceback() {
        var file = LogFile()
        file.lines(.stderr, Self.pythonChained)
        let last = file.lines.count - 1
        file.line(.stderr, "INFO:root:restarting")
        var h = Harness()
        h.feed(file)
        XCTAssertEqual(h.texts, [Self.pythonChained])
        XCTAssertEqual(h.records[0].flags, .multiline)
        XCTAssertEqual(h.records[0].stream, .stderr)
        XCTAssertEqual(h.records[0].checkpoint, ckpt(.stderr, file.lines[last].end))
        h.flushAll()
        XCTAssertEqual(h.texts.last, "INFO:root:restarting")
        XCTAssertEqual(h.records.last?.flags, [])
    }

    func testPythonLoggerExceptionJoinsItsLogLine() {
        let text = """
            ERROR:app:payment failed
            Traceback (most recent call last):
              File "/app/pay.py", line 5, in charge
                raise TimeoutError()
            TimeoutError
            """
        var file = LogFile()
        file.lines(.stdout, text)
        file.line(.stdout, "Traceback (most recent call last):")  // a new, separate traceback
        file.line(.stdout, "  File \"/app/x.py\", line 1, in <module>")
        file.line(.stdout, "KeyError: 'id'")
        file.line(.stdout, "plain line")
        var h = Harness()
        h.feed(file)
        h.flushAll()
        XCTAssertEqual(
            h.texts,
            [
                text, "Traceback (most recent call last):\n  File \"/app/x.py\", line 1, in <module>\nKeyError: 'id'",
                "plain line",
            ])
    }

    func testPythonTracebackCutByAnOrdinaryLine() {
        var file = LogFile()
        file.lines(.stdout, "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n2024-03-01 next message")
        var h = Harness()
        h.feed(file)
        h.flushAll()
        XCTAssertEqual(h.texts, ["Traceback (most recent call last):\n  File \"a.py\", line 1, in f", "2024-03-01 next message"])
    }

    // MARK: Go

    static let goPanic = """
        panic: runtime error: invalid memory address or nil pointer dereference
        [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x47b0d4]

        goroutine 1 [running]:
        main.(*Server).handle(0x0, {0x4c6f20, 0xc000012345})
        \t/app/server.go:42 +0x14
        main.main()
        \t/app/main.go:17 +0x85

        goroutine 6 [chan receive]:
        net/http.(*conn).serve(0xc000118000, {0x7d1f50, 0xc0000a2000})
        \t/usr/local/go/src/net/http/server.go:1930 +0x3d
        created by main.main in goroutine 1
        \t/app/main.go:12 +0x5a
        exit status 2
        """

    func testGoPanicWithTwoGoroutines() {
        var file = LogFile()
        file.line(.stderr, "2024/03/01 12:00:00 serving on :8080")
        file.lines(.stderr, Self.goPanic)
        let last = file.lines.count - 1
        file.line(.stderr, "2024/03/01 12:00:05 serving on :8080")
        var h = Harness()
        h.feed(file)
        XCTAssertEqual(h.texts, ["2024/03/01 12:00:00 serving on :8080", Self.goPanic])
        XCTAssertEqual(h.records[1].flags, .multiline)
        XCTAssertEqual(h.records[1].checkpoint, ckpt(.stderr, file.lines[last].end))
        h.flushAll()
        XCTAssertEqual(h.texts.last, "2024/03/01 12:00:05 serving on :8080")
    }

    func testGoRecoveredPanicAndFatalError() {
        let recovered = """
            panic: first [recovered]
            \tpanic: second

            goroutine 1 [running]:
            main.main.func1()
            \t/app/main.go:8 +0x25
            panic({0x4a1b20?, 0x5a6d40?})
            \t/usr/local/go/src/runtime/panic.go:770 +0x132
            """
        let fatal = """
            fatal error: all goroutines are asleep - deadlock!

            goroutine 1 [chan receive]:
            main.main()
            \t/app/main.go:5 +0x2d
            """
        var file = LogFile()
        file.lines(.stderr, recovered)
        file.lines(.stderr, fatal)
        file.line(.stderr, "level=info msg=bye")
        var h = Harness()
        h.feed(file)
        h.flushAll()
        XCTAssertEqual(h.texts, [recovered, fatal, "level=info msg=bye"])
    }

    // MARK: Streams

    func testInterleavedStreamsGroupIndependently() {
        var file = LogFile()
        file.line(.stdout, "ERROR handler failed")
        file.line(.stderr, "Traceback (most recent call last):")
        file.line(.stdout, "java.lang.IllegalStateException: boom")
        file.line(.stderr, "  File \"/app/a.py\", line 3, in f")
        file.line(.stdout, "\tat com.x.Handler.run(Handler.java:10)")
        file.line(.stderr, "ValueError: bad")
        file.line(.stdout, "INFO next out")
        file.line(.stderr, "INFO next err")
        var h = Harness()
        h.feed(file)
        XCTAssertEqual(
            h.texts,
            [
                "ERROR handler failed\njava.lang.IllegalStateException: boom\n\tat com.x.Handler.run(Handler.java:10)",
                "Traceback (most recent call last):\n  File \"/app/a.py\", line 3, in f\nValueError: bad",
            ])
        XCTAssertEqual(h.records.map(\.stream), [.stdout, .stderr])
        XCTAssertEqual(h.records[0].checkpoint, ckpt(.stdout, file.lines[4].end))
        // The stderr group is still pending when the stdout record goes out.
        XCTAssertEqual(h.records[0].peerCheckpoint, ckpt(.stderr, file.lines[1].start))
        XCTAssertEqual(h.records[1].checkpoint, ckpt(.stderr, file.lines[5].end))
        XCTAssertEqual(h.records[1].peerCheckpoint, ckpt(.stdout, file.lines[6].start))
        XCTAssertEqual(h.assembler.resumePoint, ResumePoint(stdoutOffset: file.lines[6].start, stderrOffset: file.lines[7].start))
        h.flushAll()
        XCTAssertEqual(h.texts.suffix(2), ["INFO next out", "INFO next err"])
        XCTAssertEqual(h.assembler.resumePoint, ResumePoint(stdoutOffset: file.size, stderrOffset: file.size))
    }

    func testStdoutOnlyFileAdvancesStderrThroughPeer() {
        var file = LogFile()
        for i in 0..<5 { file.line(.stdout, "line \(i)") }
        var h = Harness()
        h.feed(file)
        h.flushAll()
        var resume = ResumePoint()
        for record in h.records { resume.advance(past: record) }
        XCTAssertEqual(resume, ResumePoint(stdoutOffset: file.size, stderrOffset: file.size))
        XCTAssertEqual(resume.readOffset, file.size)
    }

    // MARK: Timeout

    func testTimeoutFlush() {
        var file = LogFile()
        file.line(.stdout, "single line")
        var h = Harness(AssemblyConfiguration(flushTimeoutNanos: second))
        h.feed(file, now: 10 * second)
        XCTAssertTrue(h.assembler.hasPending)
        XCTAssertEqual(h.assembler.oldestPendingDeadline, 11 * second)
        h.flushExpired(now: 11 * second - 1)
        XCTAssertEqual(h.records.count, 0)
        h.flushExpired(now: 11 * second)
        XCTAssertEqual(h.texts, ["single line"])
        XCTAssertEqual(h.records[0].flags, [])  // a lone ordinary line is complete
        XCTAssertNil(h.assembler.oldestPendingDeadline)

        // A trace cut by the timeout is flagged; a later frame starts its own (java) record.
        file.lines(.stdout, "ERROR x\njava.lang.Exception: y\n\tat a.B.c(B.java:1)")
        h.feed(file, now: 20 * second)
        file.line(.stderr, "panic: alone")
        h.feed(file, now: 20 * second + 500_000_000)
        XCTAssertEqual(h.assembler.oldestPendingDeadline, 21 * second)
        h.flushExpired(now: 21 * second)
        XCTAssertEqual(h.texts.count, 2)
        XCTAssertEqual(h.records[1].flags, [.multiline, .flushedByTimeout])
        XCTAssertEqual(h.assembler.oldestPendingDeadline, 21 * second + 500_000_000)
        file.line(.stdout, "\tat a.B.d(B.java:2)")
        h.feed(file, now: 21 * second + 100)
        h.flushExpired(now: 30 * second)
        XCTAssertEqual(h.texts.suffix(2), ["\tat a.B.d(B.java:2)", "panic: alone"])
        // Open traces are flagged even with a single line.
        XCTAssertEqual(h.records[2].flags, .flushedByTimeout)
        XCTAssertEqual(h.records[3].flags, .flushedByTimeout)
        XCTAssertFalse(h.assembler.hasPending)
    }

    func testPendingPartialKeepsGroupWaiting() {
        var file = LogFile()
        file.line(.stdout, "ERROR x")
        var h = Harness(AssemblyConfiguration(flushTimeoutNanos: second))
        h.feed(file, now: 0)
        file.line(.stdout, "\tat a.B.c(B.java:1) and a long ", partial: true)
        h.feed(file, now: second - 1)
        h.flushExpired(now: second)
        XCTAssertEqual(h.records.count, 0)
        file.line(.stdout, "tail")
        h.feed(file, now: second + 1)
        h.flushAll()
        XCTAssertEqual(h.texts, ["ERROR x\n\tat a.B.c(B.java:1) and a long tail"])
    }

    // MARK: Start pattern

    func testStartPatternMode() {
        let pattern = PrefixPredicate(prefix: Array("[20".utf8))
        var file = LogFile()
        file.line(.stdout, "orphan continuation")
        file.line(.stdout, "[2024-03-01] first")
        file.line(.stdout, "  detail 1")
        file.line(.stdout, "Traceback (most recent call last):")  // builtins are off
        file.line(.stdout, "[2024-03-01] second")
        file.line(.stderr, "[2024-03-01] err")
        file.line(.stderr, "err detail")
        var h = Harness(AssemblyConfiguration(startPattern: pattern))
        h.feed(file)
        h.flushAll()
        XCTAssertEqual(
            h.texts,
            [
                "orphan continuation", "[2024-03-01] first\n  detail 1\nTraceback (most recent call last):",
                "[2024-03-01] second", "[2024-03-01] err\nerr detail",
            ])
        XCTAssertEqual(
            h.records.map(\.flags), [[], .multiline, [], [.multiline, .flushedByTimeout]])
        XCTAssertEqual(h.records[1].checkpoint, ckpt(.stdout, file.lines[3].end))
    }

    // MARK: Checkpoints and resume

    func testResumePointSkipDecision() {
        let resume = ResumePoint(stdoutOffset: 300, stderrOffset: 100)
        XCTAssertEqual(resume.readOffset, 100)
        XCTAssertTrue(resume.shouldSkip(lineStart: 200, sequence: .stdout))
        XCTAssertFalse(resume.shouldSkip(lineStart: 300, sequence: .stdout))
        XCTAssertFalse(resume.shouldSkip(lineStart: 200, sequence: .stderr))
        XCTAssertTrue(resume.shouldSkip(lineStart: 99, sequence: .stderr))
        let corrupt = RuntimeEntry(time: 0, stream: .unknown, content: [], envelopeError: true)
        XCTAssertTrue(resume.shouldSkip(lineStart: 200, entry: corrupt))
        XCTAssertEqual(CheckpointSequence(stream: .unknown), .stdout)
        var advanced = resume
        advanced.advance(to: ckpt(.stderr, 50))
        XCTAssertEqual(advanced, resume)  // never backwards
        advanced.advance(to: ckpt(.stderr, 400))
        XCTAssertEqual(advanced.readOffset, 300)
    }

    func testRestartAfterDeliveringPartOfAStackTrace() {
        var file = LogFile()
        file.line(.stdout, "INFO one")
        file.lines(.stdout, "ERROR two\njava.lang.Exception: x\n\tat a.B.c(B.java:1)")
        file.line(.stderr, "err one")
        file.line(.stdout, "INFO three")
        var first = Harness()
        first.feed(file)
        first.flushAll()
        XCTAssertEqual(first.texts, ["INFO one", "ERROR two\njava.lang.Exception: x\n\tat a.B.c(B.java:1)", "INFO three", "err one"])
        // Only the first record was delivered before a crash.
        var resume = ResumePoint()
        resume.advance(past: first.records[0])
        XCTAssertEqual(resume, ResumePoint(stdoutOffset: file.lines[0].end, stderrOffset: file.lines[1].end))
        var second = Harness()
        second.feed(file, resume: resume)
        second.flushAll()
        XCTAssertEqual(second.texts, Array(first.texts[1...]))  // nothing lost, nothing repeated

        // Three delivered: stdout is done up to "INFO three", stderr is not.
        resume = ResumePoint()
        for record in first.records.prefix(3) { resume.advance(past: record) }
        XCTAssertEqual(resume, ResumePoint(stdoutOffset: file.size, stderrOffset: file.lines[4].start))
        var third = Harness()
        third.feed(file, resume: resume)
        third.flushAll()
        XCTAssertEqual(third.texts, ["err one"])
    }

    func testRestartAfterAFirstPieceRereadsTheWholeLine() {
        var file = LogFile()
        file.line(.stdout, "short")
        file.line(.stdout, "0123456789abcdefghij")
        file.line(.stdout, "tail")
        var first = Harness(AssemblyConfiguration(maxRecordBytes: 10, builtinRules: []))
        first.feed(file)
        XCTAssertEqual(first.texts, ["short", "0123456789", "abcdefghij", "tail"])
        XCTAssertEqual(
            first.records.map(\.checkpoint),
            [ckpt(.stdout, file.lines[0].end), nil, ckpt(.stdout, file.lines[1].end), ckpt(.stdout, file.size)])
        // Crash after delivering "short" and the first piece: the piece carries no stdout
        // checkpoint, so the whole long line is read again (one piece repeated, nothing lost).
        var resume = ResumePoint()
        for record in first.records.prefix(2) { resume.advance(past: record) }
        XCTAssertEqual(resume.stdoutOffset, file.lines[0].end)
        var second = Harness(AssemblyConfiguration(maxRecordBytes: 10, builtinRules: []))
        second.feed(file, resume: resume)
        XCTAssertEqual(second.texts, ["0123456789", "abcdefghij", "tail"])
    }

    func testContinuationAfterTimedOutPartialIsItsOwnLine() {
        var file = LogFile()
        file.line(.stdout, "runtime died mid-", partial: true)
        var h = Harness(AssemblyConfiguration(flushTimeoutNanos: second))
        h.feed(file, now: 0)
        h.flushExpired(now: second)
        XCTAssertEqual(h.texts, ["runtime died mid-"])
        XCTAssertEqual(h.records[0].flags, [.partial, .flushedByTimeout])
        XCTAssertEqual(h.records[0].checkpoint, ckpt(.stdout, file.size))
        file.line(.stdout, "line")
        h.feed(file, now: 5 * second)
        h.flushAll()
        XCTAssertEqual(h.texts, ["runtime died mid-", "line"])
        XCTAssertEqual(h.records[1].flags, [])
    }

    func testCorruptLinesAreSkippedWithTheStdoutSequence() {
        var file = LogFile()
        file.raw("corrupt one")
        file.line(.stderr, "err")
        file.raw("corrupt two")
        var h = Harness(AssemblyConfiguration(builtinRules: []))
        h.feed(file)
        XCTAssertEqual(h.texts, ["corrupt one", "err", "corrupt two"])
        var resume = ResumePoint()
        for record in h.records.prefix(2) { resume.advance(past: record) }
        XCTAssertEqual(resume, ResumePoint(stdoutOffset: file.lines[1].end, stderrOffset: file.lines[1].end))
        var again = Harness(AssemblyConfiguration(builtinRules: []))
        again.feed(file, resume: resume)
        XCTAssertEqual(again.texts, ["corrupt two"])
    }

    /// Random files (both streams, traces, partials, corrupt lines); for every crash point,
    /// a restart from the delivered checkpoints loses no line.
    func testRestartAtEveryRecordLosesNothing() {
        var rng = SeededRandom(seed: 7)
        for round in 0..<30 {
            var file = LogFile(round % 2 == 0 ? .cri : .docker)
            var expected: [String] = []  // every logical line, unique
            for i in 0..<40 {
                let stream: LogStream = rng.next() % 3 == 0 ? .stderr : .stdout
                switch rng.next() % 8 {
                case 0:
                    let lines = ["ERROR r\(round) l\(i)", "java.lang.Exception: e\(i)", "\tat a.B.m\(i)(B.java:\(i))"]
                    for l in lines { file.line(stream, l) }
                    expected += lines
                case 1:
                    let lines = ["Traceback (most recent call last):", "  File \"f\(i).py\", line \(i)", "E\(i)Error: x"]
                    for l in lines { file.line(stream, l) }
                    expected += lines
                case 2:
                    file.line(stream, "partial r\(round) l\(i) a-", partial: true)
                    file.line(stream, "b-", partial: true)
                    file.line(stream, "c")
                    expected.append("partial r\(round) l\(i) a-b-c")
                case 3:
                    let raw = "corrupt r\(round) l\(i)"
                    file.raw(raw)
                    expected.append(raw)
                default:
                    let l = "plain r\(round) l\(i)"
                    file.line(stream, l)
                    expected.append(l)
                }
            }
            var full = Harness()
            full.feed(file)
            full.flushAll()
            let allLines = full.records.flatMap { $0.body.split(separator: 0x0A, omittingEmptySubsequences: false) }
                .map { String(decoding: $0, as: UTF8.self) }
            XCTAssertEqual(Set(allLines), Set(expected))
            XCTAssertEqual(allLines.count, expected.count)

            for delivered in 0...full.records.count {
                var resume = ResumePoint()
                for record in full.records.prefix(delivered) { resume.advance(past: record) }
                var restarted = Harness()
                restarted.feed(file, resume: resume)
                restarted.flushAll()
                let seen = (full.records.prefix(delivered) + restarted.records).flatMap {
                    $0.body.split(separator: 0x0A, omittingEmptySubsequences: false)
                }.map { String(decoding: $0, as: UTF8.self) }
                XCTAssertEqual(Set(expected).subtracting(seen), [], "lost: round \(round), delivered \(delivered)")
                // Complete records carry exact checkpoints here, so nothing is delivered twice.
                XCTAssertEqual(seen.count, expected.count, "round \(round), delivered \(delivered)")
            }
        }
    }
}

final class LostContinuationTests: XCTestCase {
    func testAPartialFollowedByANewLogLineIsKeptApart() {
        var assembler = LineAssembler(configuration: AssemblyConfiguration())
        var records: [AssembledRecord] = []
        let partial = RuntimeEntry(time: 1, stream: .stdout, isPartial: true, content: Array(repeating: UInt8(ascii: "x"), count: 16384))
        let next = RuntimeEntry(time: 2, stream: .stdout, content: Array("18:03:40.630 INFO  o.c.Controller#42 next request".utf8))
        assembler.append(partial, lineStart: 0, lineEnd: 16400, now: 0) { records.append($0) }
        assembler.append(next, lineStart: 16400, lineEnd: 16460, now: 0) { records.append($0) }
        assembler.flushAll { records.append($0) }
        XCTAssertEqual(records.count, 2)
        XCTAssertTrue(records[0].flags.contains(.partial))
        XCTAssertEqual(records[0].body.count, 16384)
        XCTAssertEqual(String(decoding: records[1].body, as: UTF8.self), "18:03:40.630 INFO  o.c.Controller#42 next request")
    }

    func testARealContinuationIsStillJoined() {
        var assembler = LineAssembler(configuration: AssemblyConfiguration())
        var records: [AssembledRecord] = []
        assembler.append(RuntimeEntry(time: 1, stream: .stdout, isPartial: true, content: Array("{\"order\":[1,2,".utf8)), lineStart: 0, lineEnd: 10, now: 0) { records.append($0) }
        assembler.append(RuntimeEntry(time: 1, stream: .stdout, content: Array("3]}".utf8)), lineStart: 10, lineEnd: 20, now: 0) { records.append($0) }
        assembler.flushAll { records.append($0) }
        XCTAssertEqual(records.map { String(decoding: $0.body, as: UTF8.self) }, ["{\"order\":[1,2,3]}"])
    }

    func testHeaderShapes() {
        for header in ["2026-11-21T10:00:00Z x", "2026-11-21 10:00:00,1 INFO", "2026/11/21 10:00:00 x", "10:00:00.123 INFO", "I1121 10:00:00.123456 1 x.go:1] m"] {
            XCTAssertTrue(LostContinuation.startsNewRecord(Array(header.utf8)), header)
        }
        for middle in ["123 more bytes", "abc", "10:00 is not a stamp", "2026 was a year", ""] {
            XCTAssertFalse(LostContinuation.startsNewRecord(Array(middle.utf8)), middle)
        }
    }
}

final class TraceShapeTests: XCTestCase {
    func assemble(_ lines: [String]) -> [String] {
        var assembler = LineAssembler(configuration: AssemblyConfiguration())
        var records: [String] = []
        var offset: Int64 = 0
        for line in lines {
            let end = offset + Int64(line.utf8.count) + 1
            assembler.append(RuntimeEntry(time: 1, stream: .stderr, content: Array(line.utf8)), lineStart: offset, lineEnd: end, now: 0) {
                records.append(String(decoding: $0.body, as: UTF8.self))
            }
            offset = end
        }
        assembler.flushAll { records.append(String(decoding: $0.body, as: UTF8.self)) }
        return records
    }

    func testGoroutineDumpAfterALogLineJoinsIt() {
        let trace = [
            "2026/11/21 10:00:04 http: panic serving 10.0.1.2:48805: runtime error: invalid memory address",
            "goroutine 44663 [running]:",
            "net/http.(*conn).serve.func1()",
            "\t/usr/local/go/src/net/http/server.go:1947 +0xbe",
            "panic({0x8d4a20?, 0xc0001a6018?})",
            "\t/usr/local/go/src/runtime/panic.go:785 +0x132",
        ]
        XCTAssertEqual(assemble(trace + ["level=info msg=next"]), [trace.joined(separator: "\n"), "level=info msg=next"])
    }

    func testMultiLineExceptionMessageStaysInTheTrace() {
        let trace = [
            "2026-11-21 10:00:00.000 ERROR 1 --- [main] c.e.Repo : insert failed",
            "org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint \"orders_pkey\"",
            "  Detail: Key (id)=(284177) already exists.",
            "\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2733)",
        ]
        XCTAssertEqual(assemble(trace + ["2026-11-21 10:00:01.000  INFO 1 --- [main] c.e.Repo : ok"]).count, 2)
        XCTAssertEqual(assemble(trace).first, trace.joined(separator: "\n"))
    }
}
