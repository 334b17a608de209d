import Foundation
import StrataCore
import StrataSampleData
import StrataTestSupport
import Testing

@Suite final class GeneratorTests {
    /// Paths handed to the generator (which creates them), removed when the test's instance goes.
    private var directories: [String] = []

    deinit {
        for directory in directories { ScratchDirectory.remove(directory) }
    }

    private func temporaryDirectory() -> String {
        let path = ScratchDirectory.uniquePath("sample")
        directories.append(path)
        return path
    }

    private func smallSpec(bytes: Int = 1_500_000, seed: UInt64 = 7) -> NodeLogTreeSpec {
        var spec = NodeLogTreeSpec()
        spec.containers = 12
        spec.namespaces = 3
        spec.totalBytes = bytes
        spec.seed = seed
        return spec
    }

    // MARK: - Layout

    @Test func layoutAndSymlinks() throws {
        let root = temporaryDirectory()
        let spec = smallSpec()
        let tree = try NodeLogTreeGenerator.generate(spec, into: root)
        let fm = FileManager.default

        let restarted = tree.files.filter { $0.restart == 1 }
        #expect(!restarted.isEmpty)
        #expect(tree.files.count == (spec.containers + restarted.count))
        #expect(Set(tree.files.map(\.format)) == [.cri, .docker])
        #expect(Set(tree.files.map(\.namespace)).count <= spec.namespaces)
        #expect(Set(tree.files.map(\.containerID)).count == tree.files.count)

        let alphabet = "[bcdfghjklmnpqrstvwxz2456789]"
        for file in tree.files {
            let directory = "\(tree.root)/var/log/pods/\(file.namespace)_\(file.pod)_\(file.podUID)/\(file.container)"
            #expect(file.path == "\(directory)/\(file.restart).log")
            var isDirectory: ObjCBool = false
            let exists = fm.fileExists(atPath: file.path, isDirectory: &isDirectory)
            #expect(exists)
            #expect(!isDirectory.boolValue)
            #expect(try (fm.attributesOfItem(atPath: file.path)[.type] as? FileAttributeType) == .typeRegular)
            #expect((try fm.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.intValue == file.bytes)

            #expect(
                file.symlinkPath == tree.root
                    + "/var/log/containers/\(file.pod)_\(file.namespace)_\(file.container)-\(file.containerID).log")
            #expect((try? fm.destinationOfSymbolicLink(atPath: file.symlinkPath)) != nil, "\(file.symlinkPath)")
            #expect(
                URL(fileURLWithPath: file.symlinkPath).resolvingSymlinksInPath().path
                    == URL(fileURLWithPath: file.path).resolvingSymlinksInPath().path)
            #expect(fm.contents(atPath: file.symlinkPath) == fm.contents(atPath: file.path))

            #expect(matches(file.containerID, "^[0-9a-f]{64}$"), "\(file.containerID)")
            #expect(matches(file.podUID, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))
            let name = NSRegularExpression.escapedPattern(for: file.workload)
            switch file.workloadKind {
            case .deployment: #expect(matches(file.pod, "^\(name)-\(alphabet){10}-\(alphabet){5}$"), "\(file.pod)")
            case .statefulSet: #expect(matches(file.pod, "^\(name)-[0-9]+$"), "\(file.pod)")
            case .daemonSet: #expect(matches(file.pod, "^\(name)-\(alphabet){5}$"), "\(file.pod)")
            }
            #expect(file.pod.count <= 63)
        }
        for file in restarted {
            let first = (file.path as NSString).deletingLastPathComponent + "/0.log"
            #expect(fm.fileExists(atPath: first))
            #expect(tree.files.contains { $0.path == first && $0.containerID != file.containerID })
        }
        let links = try fm.contentsOfDirectory(atPath: tree.root + "/var/log/containers")
        #expect(links.count == tree.files.count)
    }

    // MARK: - Determinism

    @Test func sameSeedSameBytes() throws {
        let a = try NodeLogTreeGenerator.generate(smallSpec(), into: temporaryDirectory())
        let b = try NodeLogTreeGenerator.generate(smallSpec(), into: temporaryDirectory())
        #expect(a.files.count == b.files.count)
        for (x, y) in zip(a.files, b.files) {
            #expect(relative(x.path, a.root) == relative(y.path, b.root))
            #expect(relative(x.symlinkPath, a.root) == relative(y.symlinkPath, b.root))
            #expect(x.recordCount == y.recordCount)
            #expect(FileManager.default.contents(atPath: x.path) == FileManager.default.contents(atPath: y.path))
        }
        let c = try NodeLogTreeGenerator.generate(smallSpec(seed: 8), into: temporaryDirectory())
        #expect((a.files.map { relative($0.path, a.root) }) != (c.files.map { relative($0.path, c.root) }))
        let (first, otherSeed) = (a.files[0].path, c.files[0].path)
        #expect(FileManager.default.contents(atPath: first) != FileManager.default.contents(atPath: otherSeed))
    }

    // MARK: - Envelopes and counts

    @Test func linesAreWellFormedAndCountsMatch() throws {
        var spec = smallSpec(bytes: 2_000_000)
        spec.stackTraceRate = 0.05
        spec.longLineRate = 0.01
        spec.crossStreamInterleaveRate = 0.3
        let tree = try NodeLogTreeGenerator.generate(spec, into: temporaryDirectory())
        var sawTrace = (java: false, python: false, go: false)
        var multiline = 0
        var partial = 0
        for file in tree.files {
            let parsed = try parse(file)
            #expect(parsed.malformed == 0, "\(file.path)")
            check(parsed, against: file)
            multiline += file.multilineRecords
            partial += file.partialRecords

            var previous: Int64 = 0
            for line in parsed.lines {
                #expect(line.time > previous, "timestamps increase in \(file.path)")
                previous = line.time
            }
            #expect(file.firstTimestamp >= spec.startTime)
            #expect(file.lastTimestamp < (spec.startTime + Int64(spec.spanSeconds + 1) * 1_000_000_000))
            #expect(parsed.lines.first?.time == file.firstTimestamp)
            #expect(parsed.lines.last?.time == file.lastTimestamp)

            for record in parsed.records {
                let text = String(decoding: record.lines[0], as: UTF8.self)
                // Application JSON lines are valid JSON once partials are joined.
                if record.lines.count == 1, text.hasPrefix("{") {
                    #expect(throws: Never.self, "\(text)") {
                        try JSONSerialization.jsonObject(with: Data(record.lines[0]))
                    }
                }
                if record.lines.count > 1 {
                    let rest = record.lines.dropFirst().map { String(decoding: $0, as: UTF8.self) }
                    if rest.contains(where: { $0.hasPrefix("\tat ") }) { sawTrace.java = true }
                    if rest.contains("Traceback (most recent call last):") { sawTrace.python = true }
                    if rest.contains(where: { $0.hasPrefix("goroutine ") }) { sawTrace.go = true }
                }
            }
        }
        #expect(multiline > 0)
        #expect(partial > 0)
        #expect(sawTrace.java && sawTrace.python && sawTrace.go, "\(sawTrace)")
        #expect(tree.totalStdoutRecords > 0)
        #expect(tree.totalStderrRecords > 0)
    }

    @Test func dockerLinesAreValidJSON() throws {
        var spec = smallSpec(bytes: 1_000_000)
        spec.criFraction = 0
        spec.longLineRate = 0.01
        let tree = try NodeLogTreeGenerator.generate(spec, into: temporaryDirectory())
        #expect(tree.files.allSatisfy { $0.format == .docker })
        var escapes = Set<String>()
        for file in tree.files {
            let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
                let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: String]
                #expect((object.map { Set($0.keys) }) == ["log", "stream", "time"])
                let text = String(decoding: line, as: UTF8.self)
                #expect(text.hasPrefix("{\"log\":\""), "\(text)")
                for escape in ["\\\"", "\\\\", "\\t", "\\u001b", "\\u003c", "\\u0026"] where text.contains(escape) {
                    escapes.insert(escape)
                }
            }
        }
        // Quotes, backslashes, tabs (Java frames) at least; the others depend on the mix.
        #expect(escapes.isSuperset(of: ["\\\"", "\\\\", "\\t"]), "\(escapes)")
    }

    @Test func totalSizeNearTarget() throws {
        let spec = smallSpec(bytes: 6_000_000)
        let tree = try NodeLogTreeGenerator.generate(spec, into: temporaryDirectory())
        let ratio = Double(tree.totalBytes) / Double(spec.totalBytes)
        #expect(abs(ratio - 1) <= 0.05)
        let onDisk = tree.files.reduce(0) {
            $0 + ((try? FileManager.default.attributesOfItem(atPath: $1.path)[.size] as? NSNumber)?.intValue ?? 0)
        }
        #expect(onDisk == tree.totalBytes)
    }

    @Test func partialLinesHoldExactly16KiB() throws {
        var spec = smallSpec(bytes: 3_000_000)
        spec.longLineRate = 0.05
        spec.stackTraceRate = 0
        let tree = try NodeLogTreeGenerator.generate(spec, into: temporaryDirectory())
        var partials: [LogFormat: Int] = [:]
        for file in tree.files {
            let parsed = try parse(file)
            check(parsed, against: file)
            var inPartial: [Bool] = [false, false]
            for line in parsed.lines {
                if line.partial {
                    #expect(line.message.count == 16_384, "\(file.path)")
                    partials[file.format, default: 0] += 1
                } else if inPartial[line.stream] {
                    #expect(line.message.count > 0)
                    #expect(line.message.count <= 16_384)
                } else {
                    #expect(line.message.count <= 16_384)
                }
                inPartial[line.stream] = line.partial
            }
        }
        #expect(partials[.cri, default: 0] > 0)
        #expect(partials[.docker, default: 0] > 0)
    }

    @Test func corruptLinesAreCounted() throws {
        var spec = smallSpec(bytes: 1_500_000)
        spec.corruptLineRate = 0.02
        let tree = try NodeLogTreeGenerator.generate(spec, into: temporaryDirectory())
        var malformed = 0
        var invalidUTF8 = 0
        for file in tree.files {
            let parsed = try parse(file)
            check(parsed, against: file)
            malformed += parsed.malformed
            invalidUTF8 += parsed.lines.filter { String(validating: $0.message, as: UTF8.self) == nil }.count
        }
        #expect(malformed > 0)
        #expect(invalidUTF8 > 0)
        #expect((tree.files.reduce(0) { $0 + $1.corruptRecords }) > 0)
    }

    // MARK: - A small independent reader

    struct Line {
        var stream: Int  // 0 stdout, 1 stderr
        var partial: Bool
        var time: Int64
        var message: [UInt8]
    }

    struct Record {
        var stream: Int
        var lines: [[UInt8]]
        var physicalLines: Int
    }

    struct Parsed {
        var lines: [Line] = []
        var malformed = 0
        var records: [Record] = []
        var physicalLines = 0
        var bytes = 0
    }

    private func parse(_ file: GeneratedFile) throws -> Parsed {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file.path)))
        var parsed = Parsed()
        parsed.bytes = data.count
        #expect(data.last == UInt8(ascii: "\n"), "file ends with a newline")
        var start = 0
        // Joined partials and open records, per stream.
        var pending: [[UInt8]] = [[], []]
        var pendingParts = [0, 0]
        var open: [Int?] = [nil, nil]
        for i in data.indices where data[i] == UInt8(ascii: "\n") {
            let raw = Array(data[start..<i])
            start = i + 1
            parsed.physicalLines += 1
            guard let line = file.format == .cri ? parseCRI(raw) : parseDocker(raw) else {
                parsed.malformed += 1
                #expect(pending[0].isEmpty && pending[1].isEmpty, "malformed line inside a partial sequence")
                continue
            }
            parsed.lines.append(line)
            pending[line.stream] += line.message
            pendingParts[line.stream] += 1
            if line.partial { continue }
            let logical = pending[line.stream]
            let parts = pendingParts[line.stream]
            pending[line.stream] = []
            pendingParts[line.stream] = 0
            if let index = open[line.stream], !startsRecord(logical) {
                parsed.records[index].lines.append(logical)
                parsed.records[index].physicalLines += parts
            } else {
                open[line.stream] = parsed.records.count
                parsed.records.append(Record(stream: line.stream, lines: [logical], physicalLines: parts))
            }
        }
        #expect(pending[0].isEmpty && pending[1].isEmpty, "file ends inside a partial sequence")
        return parsed
    }

    private func check(
        _ parsed: Parsed, against file: GeneratedFile, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let name = (file.path as NSString).lastPathComponent + " " + file.profile
        #expect(parsed.bytes == file.bytes, "\(name)",
            sourceLocation: sourceLocation)
        #expect(parsed.physicalLines == file.lineCount, "\(name)",
            sourceLocation: sourceLocation)
        #expect(parsed.malformed == file.malformedLines, "\(name)",
            sourceLocation: sourceLocation)
        #expect((parsed.lines.filter { $0.stream == 0 }.count) == file.stdoutLines, "\(name)",
            sourceLocation: sourceLocation)
        #expect((parsed.lines.filter { $0.stream == 1 }.count) == file.stderrLines, "\(name)",
            sourceLocation: sourceLocation)
        #expect((parsed.records.filter { $0.stream == 0 }.count) == file.stdoutRecords, "\(name)",
            sourceLocation: sourceLocation)
        #expect((parsed.records.filter { $0.stream == 1 }.count) == file.stderrRecords, "\(name)",
            sourceLocation: sourceLocation)
        #expect((parsed.records.count + parsed.malformed) == file.recordCount, "\(name)",
            sourceLocation: sourceLocation)
        #expect((parsed.records.filter { $0.lines.count > 1 }.count) == file.multilineRecords, "\(name)",
            sourceLocation: sourceLocation)
        #expect((parsed.records.filter { $0.physicalLines > $0.lines.count }.count) == file.partialRecords, "\(name)",
            sourceLocation: sourceLocation)
    }

    /// The documented start-of-record rule.
    private func startsRecord(_ line: [UInt8]) -> Bool {
        guard let first = line.first else { return false }
        if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) || first == UInt8(ascii: "{") { return true }
        let text = String(decoding: line.prefix(12), as: UTF8.self)
        if first == UInt8(ascii: "[") { return !text.hasPrefix("[signal ") }
        for prefix in ["time=", "ts=", "level=", "logger=", "panic: "] where text.hasPrefix(prefix) { return true }
        return matches(text, "^[IWEF][0-9]{4} ")
    }

    /// `<RFC3339Nano> <stdout|stderr> <P|F> <message>`
    private func parseCRI(_ raw: [UInt8]) -> Line? {
        let fields = raw.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, let time = parseTime(Array(fields[0])) else { return nil }
        let stream: Int
        switch String(decoding: fields[1], as: UTF8.self) {
        case "stdout": stream = 0
        case "stderr": stream = 1
        default: return nil
        }
        let tag = String(decoding: fields[2], as: UTF8.self)
        guard tag == "P" || tag == "F" else { return nil }
        return Line(stream: stream, partial: tag == "P", time: time, message: Array(fields[3]))
    }

    /// `{"log":"...","stream":"...","time":"..."}` read byte by byte (raw invalid UTF-8 allowed).
    private func parseDocker(_ raw: [UInt8]) -> Line? {
        let head = Array("{\"log\":\"".utf8)
        guard raw.starts(with: head) else { return nil }
        var i = head.count
        var log: [UInt8] = []
        while true {
            guard i < raw.count else { return nil }
            let b = raw[i]
            if b == UInt8(ascii: "\"") { break }
            guard b >= 0x20 else { return nil }
            if b != UInt8(ascii: "\\") {
                log.append(b)
                i += 1
                continue
            }
            guard i + 1 < raw.count else { return nil }
            switch raw[i + 1] {
            case UInt8(ascii: "\""): log.append(0x22)
            case UInt8(ascii: "\\"): log.append(0x5C)
            case UInt8(ascii: "/"): log.append(0x2F)
            case UInt8(ascii: "n"): log.append(0x0A)
            case UInt8(ascii: "t"): log.append(0x09)
            case UInt8(ascii: "r"): log.append(0x0D)
            case UInt8(ascii: "u"):
                guard i + 6 <= raw.count, let code = UInt32(String(decoding: raw[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16),
                    let scalar = Unicode.Scalar(code)
                else { return nil }
                log += Array(String(Character(scalar)).utf8)
                i += 4
            default: return nil
            }
            i += 2
        }
        let rest = String(decoding: raw[i...], as: UTF8.self)
        let stream: Int
        if rest.hasPrefix("\",\"stream\":\"stdout\",\"time\":\"") {
            stream = 0
        } else if rest.hasPrefix("\",\"stream\":\"stderr\",\"time\":\"") {
            stream = 1
        } else {
            return nil
        }
        let timeText = rest.dropFirst("\",\"stream\":\"stdout\",\"time\":\"".count)
        guard timeText.hasSuffix("\"}"), let time = parseTime(Array(timeText.dropLast(2).utf8)) else { return nil }
        let partial = log.last != 0x0A
        if !partial { log.removeLast() }
        return Line(stream: stream, partial: partial, time: time, message: log)
    }

    /// RFC 3339 in UTC with an optional fraction of up to 9 digits, to nanoseconds.
    private func parseTime(_ bytes: [UInt8]) -> Int64? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard matches(text, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$") else { return nil }
        let digits = Array(text.utf8).map { Int64($0) - 48 }
        func number(_ from: Int, _ count: Int) -> Int64 { digits[from..<(from + count)].reduce(0) { $0 * 10 + $1 } }
        let (y, m, d) = (number(0, 4), number(5, 2), number(8, 2))
        let days = RFC3339.daysFromCivil(year: y, month: m, day: d)
        var ns = ((days * 24 + number(11, 2)) * 60 + number(14, 2)) * 60 + number(17, 2)
        ns *= 1_000_000_000
        if text.count > 21 {
            let fraction = text.dropFirst(20).dropLast()
            ns += Int64(fraction + String(repeating: "0", count: 9 - fraction.count))!
        }
        return ns
    }

    private func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }

    private func relative(_ path: String, _ root: String) -> String { String(path.dropFirst(root.count)) }
}
