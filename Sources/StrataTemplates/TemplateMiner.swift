import Foundation
import Synchronization

/// An online template miner: each message is masked (universal variable masks, `Masker`),
/// then joined to the most similar template of the same length and first token, or starts a
/// new one (a Drain-like fixed-depth tree). A template only ever generalizes (constant tokens
/// become `<*>` or keep their punctuation around one) and keeps its id while doing so.
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
        /// Templates of one leaf that may differ from a message only by words before the
        /// message joins one of them (the word position becomes `<*>`) instead of starting another.
        public var maxWordVariants: Int = 16
        /// Whether the value of `key=value` is always a variable (otherwise only when it looks
        /// like one or varies).
        public var maskKeyValueValues: Bool = true
        /// Whether a single-token quoted string (`'x'`, `"x"`) is always a variable.
        public var maskQuotedStrings: Bool = true
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
            similarityThreshold =
                try container.decodeIfPresent(Double.self, forKey: .similarityThreshold) ?? defaults.similarityThreshold
            wildcardsCount = try container.decodeIfPresent(Bool.self, forKey: .wildcardsCount) ?? defaults.wildcardsCount
            maskKeyValueValues =
                try container.decodeIfPresent(Bool.self, forKey: .maskKeyValueValues) ?? defaults.maskKeyValueValues
            maskQuotedStrings =
                try container.decodeIfPresent(Bool.self, forKey: .maskQuotedStrings) ?? defaults.maskQuotedStrings
            maxWordVariants = try container.decodeIfPresent(Int.self, forKey: .maxWordVariants) ?? defaults.maxWordVariants
            maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens) ?? defaults.maxTokens
            maxTemplates = try container.decodeIfPresent(Int.self, forKey: .maxTemplates) ?? defaults.maxTemplates
            cacheCapacity = try container.decodeIfPresent(Int.self, forKey: .cacheCapacity) ?? defaults.cacheCapacity
        }

        var maskOptions: Masker.Options {
            Masker.Options(
                maskKeyValueValues: maskKeyValueValues, maskQuotedStrings: maskQuotedStrings,
                maxTokens: max(1, maxTokens))
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

    /// Every template, in creation order.
    public var templates: [TemplateSummary] { state.withLock { $0.summaries } }

    public var templateCount: Int { state.withLock { $0.clusters.count } }

    public func template(id: TemplateID) -> TemplateSummary? {
        state.withLock { state in
            state.clusters.first { $0.id == id }.map { TemplateSummary(id: $0.id, text: $0.text, count: $0.count) }
        }
    }

    // MARK: persistence (docs/TEMPLATES.md)

    /// The miner's state in the versioned JSON format.
    public func encodedState() throws -> Data {
        let file = state.withLock { state in
            TemplateFile(
                format: TemplateFile.formatName, version: TemplateFile.currentVersion, configuration: configuration,
                templates: state.clusters.map { cluster in
                    TemplateFile.Entry(
                        id: cluster.id, tokens: cluster.tokens.map { String(decoding: state.symbols.bytes[Int($0)], as: UTF8.self) },
                        leaf: cluster.leaf.first == SymbolTable.wildcard
                            ? nil : String(decoding: state.symbols.bytes[Int(cluster.leaf.first)], as: UTF8.self),
                        count: cluster.count, overflow: cluster.isOverflow ? true : nil)
                })
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
        guard file.version == TemplateFile.currentVersion else {
            throw TemplateStoreError.unsupportedVersion(file.version)
        }
        self.init(configuration: configuration ?? file.configuration)
        try state.withLock { state in
            for entry in file.templates {
                guard !state.ids.contains(entry.id) else {
                    throw TemplateStoreError.corrupt(reason: "template id \(entry.id) appears twice")
                }
                guard entry.count >= 0 else {
                    throw TemplateStoreError.corrupt(reason: "template \(entry.id) has a negative count")
                }
                let tokens = entry.tokens.map { state.symbols.intern(Array($0.utf8)) }
                let leaf = state.restoredLeaf(tokenCount: tokens.count, firstToken: entry.overflow == true ? nil : entry.leaf)
                _ = state.insert(
                    Cluster(
                        id: entry.id, tokens: tokens, text: state.render(tokens), count: entry.count, leaf: leaf,
                        isOverflow: entry.overflow == true))
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
            "the template state has format version \(version); this build reads version \(TemplateFile.currentVersion)"
        }
    }
}

/// The persisted form (docs/TEMPLATES.md).
struct TemplateFile: Codable {
    static let formatName = "strata-templates"
    static let currentVersion = 1

    struct Entry: Codable {
        var id: TemplateID
        /// Template tokens; `<*>` is a variable, other tokens may hold `<*>` inside (`[<*>]`).
        var tokens: [String]
        /// The first token of the message that created the template (its tree leaf), or
        /// absent when that token was a variable.
        var leaf: String?
        var count: Int
        var overflow: Bool?
    }

    var format: String
    var version: Int
    var configuration: TemplateMiner.Configuration
    var templates: [Entry]
}
