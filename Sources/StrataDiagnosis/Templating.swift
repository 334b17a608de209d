import StrataCore
import StrataTemplates

/// The seam to template mining: one message in, a stable template id and its text out.
/// The diagnosis learns templates over the baseline first and the window second, so a
/// template id means the same pattern on both sides of the comparison.
public protocol MessageTemplating: AnyObject {
    func template(for message: String) -> (id: String, text: String)
}

/// The message a template is mined from: the first line (a stack trace's frames are not the
/// message), capped so one huge line cannot dominate the miner's cost.
func templateMessage(of body: String) -> String {
    var line = body.prefix { $0 != "\n" && $0 != "\r" }
    if line.utf8.count > 600 { line = Substring(String(decoding: line.utf8.prefix(600), as: UTF8.self)) }
    return String(line)
}

/// A dependency-free templater: tokens holding digits, hex runs, UUIDs, addresses, paths or
/// quoted text become `<*>`. Same message shape, same id. Used in tests and wherever a
/// `TemplateMiner` is not supplied; it does not merge templates whose constant words differ.
public final class MaskingTemplater: MessageTemplating {
    private var cache: [String: (String, String)] = [:]

    public init() {}

    public func template(for message: String) -> (id: String, text: String) {
        if let hit = cache[message] { return hit }
        let text = message.split(separator: " ", omittingEmptySubsequences: true).map { token -> String in
            Self.isVariable(token) ? "<*>" : String(token)
        }.joined(separator: " ")
        let result = (Self.hash(text), text)
        if cache.count < 200_000 { cache[message] = result }
        return result
    }

    static func isVariable(_ token: Substring) -> Bool {
        if token.contains(where: \.isNumber) { return true }
        if token.hasPrefix("\"") || token.hasPrefix("'") { return true }
        if token.contains("/") && token.count > 1 { return true }
        if token.contains("=") { return token.split(separator: "=", maxSplits: 1).count == 2 }
        return false
    }

    /// FNV-1a, 64 bits, as 16 hex digits: stable across runs and platforms.
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// The product's online miner (StrataTemplates): templates generalize as messages arrive and
/// keep their ids here, so a message in the window and one in the baseline share an id
/// whenever they share a pattern. (The miner names a template after its text, so its id
/// changes when it generalizes or merges, the old id becoming an alias; this templater hands
/// out the first id of a template for as long as the template lives.)
public final class MinerTemplater: MessageTemplating {
    private let miner: TemplateMiner
    /// Every id the miner returned -> the id handed out for it, and the order it was first seen.
    private var handedOut: [TemplateID: (id: String, order: Int)] = [:]

    public init(miner: TemplateMiner = TemplateMiner()) { self.miner = miner }

    public func template(for message: String) -> (id: String, text: String) {
        let match = miner.add(message)
        if let known = handedOut[match.id] { return (known.id, match.text) }
        // A live id not seen before: a new template, or one that generalized or absorbed others
        // (their ids now resolve to it). Keep the earliest id handed out among those.
        let aliases = miner.aliasTable
        var chosen = (id: match.id.description, order: handedOut.count)
        for (old, given) in handedOut where (aliases[old] ?? old) == match.id && given.order < chosen.order {
            chosen = given
        }
        handedOut[match.id] = chosen
        return (chosen.id, match.text)
    }
}

/// The templater `strata diagnose` uses.
public enum DiagnosisTemplater {
    public static func make() -> MessageTemplating { MinerTemplater() }
}
