import Foundation
import Logging
import StrataCore
import StrataQuery
import StrataTemplates
import Synchronization

/// Gives every record the id of its message template before it is stored, so `template:<id>`
/// is an ordinary field term and `count by template` an ordinary grouping.
///
/// The miner's state lives in `<data-dir>/templates.json`. Ids are derived from the masked text
/// of the first message of a template, so a record acknowledged after the last save but before
/// a crash gets the same id again when its template is re-learned; saving only keeps the
/// generalized texts and counts.
public final class TemplateAnnotator: Sendable {
    /// The attribute that carries the id: 16 hex digits.
    public static let attributeKey = Field.templateAttribute

    public let miner: TemplateMiner
    private let stateURL: URL
    private let logger: Logger
    /// Whether messages were mined since the last save: an idle collector rewrites nothing.
    private let changed = Mutex(false)

    public init(dataDirectory: String, logger: Logger) {
        stateURL = URL(fileURLWithPath: dataDirectory).appendingPathComponent("templates.json")
        self.logger = logger
        if FileManager.default.fileExists(atPath: stateURL.path) {
            do {
                miner = try TemplateMiner(contentsOf: stateURL)
                return
            } catch {
                // The ids stay stable without the file (they come from the text); only the
                // generalized texts are relearned.
                logger.error(
                    "template state unreadable, starting empty",
                    metadata: ["path": "\(stateURL.path)", "error": "\(error)"])
            }
        }
        miner = TemplateMiner()
    }

    /// Mines the first line of each body: frames of a stack trace are not the message.
    public func annotate(_ records: inout [LogRecord]) {
        guard !records.isEmpty else { return }
        changed.withLock { $0 = true }
        for index in records.indices {
            let id = records[index].body.utf8.withContiguousStorageIfAvailable { bytes in
                miner.add(utf8: Self.firstLine(bytes)).id
            } ?? miner.add(String(records[index].body.prefix { $0 != "\n" })).id
            records[index].attributes.removeAll { $0.key == Self.attributeKey }
            records[index].attributes.append(Attribute(Self.attributeKey, id.description))
        }
    }

    static func firstLine(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard let newline = bytes.firstIndex(of: 0x0A) else { return bytes }
        return UnsafeBufferPointer(rebasing: bytes[..<newline])
    }

    /// Writes the state atomically when messages were mined since the last save; failures are
    /// logged, never fatal (ids do not depend on it), and the next save tries again.
    public func save() {
        guard changed.withLock({ value in defer { value = false }; return value }) else { return }
        do {
            try miner.save(to: stateURL)
        } catch {
            changed.withLock { $0 = true }
            logger.error("could not save template state", metadata: ["path": "\(stateURL.path)", "error": "\(error)"])
        }
    }
}
