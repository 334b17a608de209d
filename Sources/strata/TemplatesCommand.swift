import ArgumentParser
import Foundation
import StrataTemplates

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `strata templates ...`: message templates. A group, so the collector-backed listing
/// (`strata templates [QUERY] --since 1h`) can join `mine` as its default subcommand.
struct TemplatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "Message templates: constant text with variables written <*>.",
        discussion: "See docs/TEMPLATES.md for the masks, the miner and the state file.",
        subcommands: [TemplatesListCommand.self, TemplatesMineCommand.self],
        defaultSubcommand: TemplatesListCommand.self)
}

struct TemplatesMineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mine",
        abstract: "Mine templates offline: one message per line on standard input.",
        discussion: """
            Writes one line per input line, in order: TEMPLATE_ID<TAB>TEMPLATE. The template is the
            one the message joined, with its id and text as they stood at that moment. An id is a
            hash of the template text; when a template later generalizes or merges, its old id
            becomes an alias of the new one (kept in the --state file, see docs/TEMPLATES.md).
            A trailing carriage return is dropped; an empty line is a message with no tokens.
            No collector is needed. With --state, templates and ids are loaded from the file when it
            exists and saved to it at the end, so ids stay the same across runs.
            """)

    @Option(name: .long, help: "Template state file to load (if present) and save at the end.")
    var state: String?

    @Option(name: .long, help: "Also write the final template list (ID<TAB>COUNT<TAB>TEMPLATE) to this file.")
    var templatesOut: String?

    func run() throws {
        let miner: TemplateMiner
        if let state, FileManager.default.fileExists(atPath: state) {
            do {
                miner = try TemplateMiner(contentsOf: URL(fileURLWithPath: state))
            } catch {
                throw ValidationError("--state \(state): \(error)")
            }
        } else {
            miner = TemplateMiner()
        }
        var output = OutputBuffer(descriptor: STDOUT_FILENO)
        try LineReader.forEachLine(descriptor: STDIN_FILENO) { line in
            let match = miner.add(utf8: line)
            output.writeLine(id: match.id, text: match.text)
            if output.pending >= 1 << 20 { try output.flush() }
        }
        try output.flush()
        if let state { try miner.save(to: URL(fileURLWithPath: state)) }
        if let templatesOut {
            var listing = ""
            for template in miner.templates { listing += "\(template.id)\t\(template.count)\t\(template.text)\n" }
            do {
                try listing.write(toFile: templatesOut, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("cannot write --templates-out \(templatesOut): \(error.localizedDescription)")
            }
        }
    }
}

/// Reads a descriptor in 1 MiB blocks and hands out lines without copying (readLine() costs a
/// String and a lock per line). A line longer than the buffer is passed whole, from a grown buffer.
enum LineReader {
    struct ReadError: Error, CustomStringConvertible {
        var code: Int32
        var description: String { "cannot read standard input: \(String(cString: strerror(code)))" }
    }

    static func forEachLine(descriptor: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var filled = 0
        var endOfInput = false
        while !endOfInput {
            if filled == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let readCount = buffer.withUnsafeMutableBytes { raw in
                read(descriptor, raw.baseAddress! + filled, raw.count - filled)
            }
            if readCount < 0 {
                if errno == EINTR { continue }
                throw ReadError(code: errno)
            }
            if readCount == 0 { endOfInput = true }
            filled += readCount
            var consumed = 0
            try buffer.withUnsafeBufferPointer { bytes in
                guard let base = bytes.baseAddress else { return }
                while consumed < filled {
                    let remaining = filled - consumed
                    guard let newline = memchr(base + consumed, 0x0A, remaining) else {
                        if endOfInput {
                            try body(UnsafeBufferPointer(start: base + consumed, count: remaining).droppingCarriageReturn)
                            consumed = filled
                        }
                        break
                    }
                    let lineEnd = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                    try body(UnsafeBufferPointer(start: base + consumed, count: lineEnd - consumed).droppingCarriageReturn)
                    consumed = lineEnd + 1
                }
            }
            if consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    if filled > consumed { memmove(raw.baseAddress!, raw.baseAddress! + consumed, filled - consumed) }
                }
                filled -= consumed
            }
        }
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    fileprivate var droppingCarriageReturn: UnsafeBufferPointer<UInt8> {
        guard let base = baseAddress, count > 0, base[count - 1] == 0x0D else { return self }
        return UnsafeBufferPointer(start: base, count: count - 1)
    }
}

/// Buffered `ID<TAB>TEXT\n` lines to a descriptor.
struct OutputBuffer {
    let descriptor: Int32
    private var bytes: [UInt8] = []

    init(descriptor: Int32) {
        self.descriptor = descriptor
        bytes.reserveCapacity(1 << 21)
    }

    var pending: Int { bytes.count }

    mutating func writeLine(id: TemplateID, text: String) {
        let offset = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 16))
        TemplateID.writeHex(id.rawValue, into: &bytes, at: offset)
        bytes.append(0x09)
        bytes.append(contentsOf: text.utf8)
        bytes.append(0x0A)
    }

    struct WriteError: Error, CustomStringConvertible {
        var code: Int32
        var description: String { "cannot write standard output: \(String(cString: strerror(code)))" }
    }

    mutating func flush() throws {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                write(descriptor, raw.baseAddress! + written, raw.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw WriteError(code: errno)
            }
            written += result
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
