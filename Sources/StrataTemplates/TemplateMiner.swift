import Foundation
import Synchronization

/// An online template miner: each message is masked (universal variable masks, `Masker`),
/// then joined to the most similar template of the same length and first word (a Drain-like
/// fixed-depth tree), or to one of another length it equals once runs of one value are left
/// out, or starts a new one. Templates that differ only in words merge once those words keep
/// taking new values (a Good–Turing estimate with a Wilson bound). A template only ever
/// generalizes; its id is a hash of its text, and the ids it had before stay resolvable
/// through the alias table (`resolve(_:)`). docs/TEMPLATES.md describes the method.
///
/// Thread safety: a final class whose state sits behind a `Mutex`; call it from any number of
/// threads or tasks. Masking, the costly part, runs outside the lock.
public final class TemplateMiner: Sendable {
    /// One configuration for every source. The defaults are the product's settings; nothing in
    /// them depends on a log format.
    public struct Configuration: Sendable, Hashable, Codable {
        /// Fraction of a template's positions a message must match (equal constant, pattern
        /// shape, or variable against variable) to join it.
        public var similarityThreshold: Double = 0.5
        /// Whether a template's `<*>` counts as a match for any constant token of a message.
        public var wildcardsCount: Bool = false
        /// The word-or-value decision (docs/TEMPLATES.md): templates that differ only in words
        /// merge, the words becoming `<*>`, when the estimated chance that the next message
        /// brings a word never seen there (Good–Turing: the share of messages whose word was
        /// seen once) is at least this, with `variableConfidence` standard errors of margin.
        /// 0.5: a new value is more likely than a repeated one.
        public var newValueThreshold: Double = 0.5
        /// Standard errors of margin (Wilson lower bound) for `newValueThreshold`; 1.96 is the
        /// usual 95% interval. With every word seen once, it asks for 4 distinct words at 0.5.
        public var variableConfidence: Double = 1.96
        /// Whether the value of `key=value` is always a variable. Off: it becomes one only where
        /// it varies (the word-or-value decision), or when it looks like a value.
        public var maskKeyValueValues: Bool = false
        /// Whether a single-token quoted string (`'x'`, `"x"`) is always a variable.
        public var maskQuotedStrings: Bool = true
        /// Whether identifiers with a digit anywhere (`blk3a9f2`, `node-7b`) are variables.
        public var maskDigitIdentifiers: Bool = true
        /// Whether dates written with month and weekday names are one variable.
        public var maskNamedDates: Bool = true
        /// Whether a run of space-separated variables is one variable like a comma list.
        public var collapseSpaceLists: Bool = true
        /// Whether a message that joins no template of its token count may join one of another
        /// count it equals once runs holding a variable are left out (docs/TEMPLATES.md).
        public var alignAcrossTokenCounts: Bool = true
        /// Tokens kept per message; the rest of a longer message is one trailing `<*>`.
        public var maxTokens: Int = 64
        /// Templates kept; past this, an unmatched message joins an all-variable template of
        /// its token count, so memory stays bounded on hostile input.
        public var maxTemplates: Int = 50_000
        /// Distinct masked messages remembered for the fast path (cleared when full).
        public var cacheCapacity: Int = 65_536

        public init() {}

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Configuration()
            func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
                try container.decodeIfPresent(T.self, forKey: key) ?? fallback
            }
            similarityThreshold = try value(.similarityThreshold, defaults.similarityThreshold)
            wildcardsCount = try value(.wildcardsCount, defaults.wildcardsCount)
            newValueThreshold = try value(.newValueThreshold, defaults.newValueThreshold)
            variableConfidence = try value(.variableConfidence, defaults.variableConfidence)
            maskKeyValueValues = try value(.maskKeyValueValues, defaults.maskKeyValueValues)
            maskQuotedStrings = try value(.maskQuotedStrings, defaults.maskQuotedStrings)
            maskDigitIdentifiers = try value(.maskDigitIdentifiers, defaults.maskDigitIdentifiers)
            maskNamedDates = try value(.maskNamedDates, defaults.maskNamedDates)
            collapseSpaceLists = try value(.collapseSpaceLists, defaults.collapseSpaceLists)
            alignAcrossTokenCounts = try value(.alignAcrossTokenCounts, defaults.alignAcrossTokenCounts)
            maxTokens = try value(.maxTokens, defaults.maxTokens)
            maxTemplates = try value(.maxTemplates, defaults.maxTemplates)
            cacheCapacity = try value(.cacheCapacity, defaults.cacheCapacity)
        }

        var maskOptions: Masker.Options {
            Masker.Options(
                maskKeyValueValues: maskKeyValueValues, maskQuotedStrings: maskQuotedStrings,
                maxTokens: max(1, maxTokens), maskDigitIdentifiers: maskDigitIdentifiers,
                maskNamedDates: maskNamedDates, collapseSpaceLists: collapseSpaceLists)
        }
    }

    public let configuration: Configuration
    private let options: Masker.Options
    private let state: Mutex<MinerState>

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        self.options = configuration.maskOptions
        self.state = Mutex(MinerState(configuration: configuration))
    }

    // MARK: mining

    /// Learns from `message` and returns its template as it stands after the message.
    @discardableResult
    public func add(_ message: String) -> TemplateMatch {
        var message = message
        return message.withUTF8 { add(utf8: $0) }
    }

    /// `add` over raw bytes (invalid UTF-8 is kept as bytes; the template text repairs it).
    @discardableResult
    public func add(utf8 bytes: UnsafeBufferPointer<UInt8>) -> TemplateMatch {
        let masked = Masker.mask(bytes, options: options)
        return state.withLock { $0.add(masked) }
    }

    /// The template `add` would put `message` in, if one exists; learns nothing.
    public func match(_ message: String) -> TemplateMatch? {
        var message = message
        return message.withUTF8 { match(utf8: $0) }
    }

    public func match(utf8 bytes: UnsafeBufferPointer<UInt8>) -> TemplateMatch? {
        let masked = Masker.mask(bytes, options: options)
        return state.withLock { $0.match(masked) }
    }

    /// The message with the universal masks applied, before any clustering.
    public func masked(_ message: String) -> String {
        var message = message
        return message.withUTF8 { String(decoding: Masker.mask($0, options: options).bytes, as: UTF8.self) }
    }

    /// Every live template, in creation order.
    public var templates: [TemplateSummary] { state.withLock { $0.summaries } }

    public var templateCount: Int { state.withLock { $0.liveCount } }

    /// The template an id stands for now. An id handed out before its template generalized or
    /// merged into another resolves, through the alias table, to the surviving template.
    public func template(id: TemplateID) -> TemplateSummary? {
        state.withLock { state in
            state.cluster(for: id).map { TemplateSummary(id: $0.id, text: $0.text, count: $0.count) }
        }
    }

    /// The id that stands for `id` now (itself when it is live or unknown).
    public func resolve(_ id: TemplateID) -> TemplateID { state.withLock { $0.resolve(id) } }

    /// Every id that resolves to the live template `id` (itself included), for queries over
    /// records stored with an id handed out before a merge.
    public func aliases(of id: TemplateID) -> [TemplateID] {
        state.withLock { state in
            let target = state.resolve(id)
            return [target] + state.aliases.keys.filter { $0 != target && state.resolve($0) == target }.sorted()
        }
    }

    /// The alias table: every retired id and the live id it resolves to.
    public var aliasTable: [TemplateID: TemplateID] {
        state.withLock { state in
            var table: [TemplateID: TemplateID] = [:]
            for key in state.aliases.keys { table[key] = state.resolve(key) }
            return table
        }
    }

    // MARK: persistence (docs/TEMPLATES.md)

    /// The miner's state in the versioned JSON format.
    public func encodedState() throws -> Data {
        let file = state.withLock { state in
            var aliases: [String: TemplateID] = [:]
            for key in state.aliases.keys { aliases[key.description] = state.resolve(key) }
            return TemplateFile(
                format: TemplateFile.formatName, version: TemplateFile.currentVersion, configuration: configuration,
                templates: state.clusters.filter(\.isLive).map { cluster in
                    TemplateFile.Entry(
                        id: cluster.id, tokens: cluster.tokens.map { String(decoding: state.symbols.bytes[Int($0)], as: UTF8.self) },
                        leaf: nil, count: cluster.count, overflow: cluster.isOverflow ? true : nil)
                },
                aliases: aliases)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(file)
    }

    /// Writes the state to `url` atomically (a temporary file renamed over it), so a crash
    /// leaves either the old or the new file.
    public func save(to url: URL) throws {
        let data = try encodedState()
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw TemplateStoreError.writeFailed(path: url.path, reason: "\(error)")
        }
    }

    /// Restores a miner from `encodedState()` output. The saved configuration is used unless
    /// one is given (ids and templates are kept either way).
    public convenience init(state data: Data, configuration: Configuration? = nil) throws {
        let file: TemplateFile
        do {
            file = try JSONDecoder().decode(TemplateFile.self, from: data)
        } catch {
            throw TemplateStoreError.corrupt(reason: "\(error)")
        }
        guard file.format == TemplateFile.formatName else {
            throw TemplateStoreError.corrupt(reason: "format is '\(file.format)', expected '\(TemplateFile.formatName)'")
        }
        guard TemplateFile.readableVersions.contains(file.version) else {
            throw TemplateStoreError.unsupportedVersion(file.version)
        }
        let legacy = file.version == 1
        var saved = file.configuration
        if legacy {
            // A version 1 configuration set the previous method (maxWordVariants, key=value
            // values always masked); only its size limits carry over.
            var current = Configuration()
            current.maxTokens = saved.maxTokens
            current.maxTemplates = saved.maxTemplates
            current.cacheCapacity = saved.cacheCapacity
            saved = current
        }
        self.init(configuration: configuration ?? saved)
        try state.withLock { state in
            var seen: Set<TemplateID> = []
            for entry in file.templates {
                guard seen.insert(entry.id).inserted else {
                    throw TemplateStoreError.corrupt(reason: "template id \(entry.id) appears twice")
                }
                guard entry.count >= 0 else {
                    throw TemplateStoreError.corrupt(reason: "template \(entry.id) has a negative count")
                }
                state.restore(
                    id: entry.id, tokens: entry.tokens, count: entry.count, overflow: entry.overflow == true, legacy: legacy)
            }
            for (key, target) in file.aliases ?? [:] {
                guard let id = TemplateID(key) else {
                    throw TemplateStoreError.corrupt(reason: "alias '\(key)' is not a template id")
                }
                guard state.ids[id] == nil else {
                    throw TemplateStoreError.corrupt(reason: "alias \(id) is also a live template")
                }
                guard state.ids[state.resolve(target)] != nil else {
                    throw TemplateStoreError.corrupt(reason: "alias \(id) names \(target), which is not a template")
                }
                state.aliases[id] = target
            }
        }
    }

    /// Loads a file written by `save(to:)`.
    public convenience init(contentsOf url: URL, configuration: Configuration? = nil) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TemplateStoreError.readFailed(path: url.path, reason: "\(error)")
        }
        try self.init(state: data, configuration: configuration)
    }
}

public enum TemplateStoreError: Error, CustomStringConvertible, Equatable {
    case readFailed(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case corrupt(reason: String)
    case unsupportedVersion(Int)

    public var description: String {
        switch self {
        case .readFailed(let path, let reason):
            "cannot read the template state \(path): \(reason)"
        case .writeFailed(let path, let reason):
            "cannot write the template state \(path): \(reason); check the directory exists and is writable"
        case .corrupt(let reason):
            "the template state is not a valid strata-templates file (\(reason)); restore a backup or delete it to start over"
        case .unsupportedVersion(let version):
            "the template state has format version \(version); this build reads versions 1 and \(TemplateFile.currentVersion)"
        }
    }
}

/// The persisted form (docs/TEMPLATES.md).
struct TemplateFile: Codable {
    static let formatName = "strata-templates"
    static let currentVersion = 2
    static let readableVersions: Set<Int> = [1, 2]

    struct Entry: Codable {
        var id: TemplateID
        /// Template tokens; `<*>` is a variable, other tokens may hold `<*>` inside (`[<*>]`).
        var tokens: [String]
        /// Version 1 only: the first token of the message that created the template (ignored
        /// on load; the tree leaf follows the template's own first token).
        var leaf: String?
        var count: Int
        var overflow: Bool?
    }

    var format: String
    var version: Int
    var configuration: TemplateMiner.Configuration
    var templates: [Entry]
    /// Version 2: retired id -> the live id it resolves to.
    var aliases: [String: TemplateID]?
}
