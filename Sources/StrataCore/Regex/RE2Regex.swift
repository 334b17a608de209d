import CRE2Shim
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pattern that RE2 rejected.
public struct RegexError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The pattern as given.
    public let pattern: String
    /// RE2's error message, e.g. "missing ): (abc".
    public let message: String

    public init(pattern: String, message: String) {
        self.pattern = pattern
        self.message = message
    }

    public var description: String { "invalid regular expression '\(pattern)': \(message)" }
}

/// Literal strings that any match of a regular expression requires, as
/// computed by RE2's prefilter (`re2::FilteredRE2`).
///
/// Semantics: atoms are lowercased by RE2 (ASCII and RE2's simple Unicode
/// case folding), so test them against a lowercased copy of the text or with a
/// case-insensitive substring search. If a text matches the regex, then:
/// - `.all`: nothing is known; every text is a candidate. This is what RE2
///   gives for patterns like `.*`, for patterns whose literals are all
///   shorter than the minimum atom length, and when the exact formula was
///   too large to enumerate and no single atom is required by all of it.
/// - `.atoms(a)`: the text contains *every* atom in `a` (a conjunction).
/// - `.anyOf(clauses)`: for *at least one* clause, the text contains every
///   atom of that clause (disjunctive normal form of RE2's AND/OR prefilter
///   tree; e.g. `(abc|abd)` gives `[["abc"], ["abd"]]`).
///
/// These are necessary conditions only: a text that satisfies them may still
/// not match. Atoms are sorted; clauses are sorted by size, then content.
/// The DNF is enumerated exactly up to 256 clauses; beyond that (e.g. a
/// product of many alternations) the result degrades to `.atoms` of the atoms
/// every clause needs, or `.all`.
public enum RequiredLiterals: Sendable, Hashable {
    case all
    case atoms([String])
    case anyOf([[String]])

    /// Evaluates the condition, given a predicate telling whether the
    /// (lowercased) text contains an atom. `.all` is always satisfied.
    public func isSatisfied(by containsAtom: (String) -> Bool) -> Bool {
        switch self {
        case .all:
            return true
        case .atoms(let atoms):
            return atoms.allSatisfy(containsAtom)
        case .anyOf(let clauses):
            return clauses.contains { $0.allSatisfy(containsAtom) }
        }
    }

    /// Every atom mentioned (sorted, distinct).
    public var allAtoms: [String] {
        switch self {
        case .all: return []
        case .atoms(let atoms): return atoms
        case .anyOf(let clauses): return Array(Set(clauses.joined())).sorted()
        }
    }
}

/// A compiled RE2 regular expression (linear-time matching, no backtracking).
///
/// Patterns and texts are UTF-8; leftmost-first semantics like Perl/Go. All
/// offsets are UTF-8 byte offsets. Instances are immutable and safe to share
/// between threads and tasks.
public final class RE2Regex: @unchecked Sendable {
    /// The pattern as given.
    public let pattern: String
    /// Whether the regex was compiled case-insensitively.
    public let isCaseInsensitive: Bool
    /// Number of capturing groups, not counting the implicit group 0.
    public let numberOfCaptureGroups: Int
    /// Group names indexed by group number: `groupNames[i]` is the name of
    /// capturing group i (nil when unnamed); `groupNames[0]` (the whole
    /// match) is always nil. `groupNames.count == numberOfCaptureGroups + 1`.
    public let groupNames: [String?]

    private let handle: OpaquePointer
    private let groupIndexByName: [String: Int]
    // Cache for `requiredLiterals`.
    private let cachedLiterals = Mutex<RequiredLiterals?>(nil)

    /// Default minimum atom length for `requiredLiterals`.
    public static let defaultMinAtomLength = 3

    /// Compiles `pattern`.
    /// - Throws: `RegexError` with RE2's message when the pattern is invalid
    ///   or too large for RE2's default memory budget.
    public init(_ pattern: String, caseInsensitive: Bool = false) throws {
        var options = cre2_options()
        cre2_options_init(&options)
        options.case_insensitive = caseInsensitive ? 1 : 0
        var errorMessage: UnsafeMutablePointer<CChar>?
        let compiled = re2WithUTF8Bytes(pattern) { bytes in
            cre2_compile(re2CString(bytes.baseAddress), bytes.count, &options, &errorMessage)
        }
        guard let compiled else {
            var message = "could not compile the pattern (out of memory?)"
            if let errorMessage {
                message = String(cString: errorMessage)
                cre2_string_free(errorMessage)
            }
            throw RegexError(pattern: pattern, message: message)
        }
        let groups = Int(cre2_num_groups(compiled))
        var names = [String?](repeating: nil, count: groups + 1)
        var byName: [String: Int] = [:]
        if groups > 0 {
            for index in 1...groups {
                if let name = cre2_group_name(compiled, Int32(index)) {
                    let string = String(cString: name)
                    names[index] = string
                    byName[string] = index
                }
            }
        }
        self.handle = compiled
        self.pattern = pattern
        self.isCaseInsensitive = caseInsensitive
        self.numberOfCaptureGroups = groups
        self.groupNames = names
        self.groupIndexByName = byName
    }

    deinit {
        cre2_free(handle)
    }

    /// The index of the capturing group called `name`, if any.
    public func groupIndex(named name: String) -> Int? { groupIndexByName[name] }

    // MARK: Boolean matching (search)

    /// Whether the regex matches somewhere in `text` (a search, like Go's
    /// `MatchString`; anchor with `^...$` for a full match, or use `fullMatch`).
    public func matches(_ text: String) -> Bool {
        re2WithUTF8Bytes(text) { matches($0) }
    }

    public func matches(_ text: Substring) -> Bool {
        re2WithUTF8Bytes(text) { matches($0) }
    }

    /// Whether the regex matches somewhere in the UTF-8 bytes.
    public func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        cre2_partial_match(handle, re2CString(bytes.baseAddress), bytes.count) == 1
    }

    public func matches(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBytes { matches($0) }
    }

    public func matches(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { matches($0) }
    }

    /// Whether the regex matches the whole of `text`.
    public func fullMatch(_ text: String) -> Bool {
        re2WithUTF8Bytes(text) { fullMatch($0) }
    }

    /// Whether the regex matches the whole of the UTF-8 bytes.
    public func fullMatch(_ bytes: UnsafeRawBufferPointer) -> Bool {
        cre2_full_match(handle, re2CString(bytes.baseAddress), bytes.count) == 1
    }

    // MARK: Byte-offset API

    /// The first match starting at or after byte offset `start`, as byte
    /// ranges: element 0 is the whole match, element i capturing group i
    /// (nil when the group did not participate). Returns nil when there is no
    /// match or `start` is outside `0...bytes.count`. The whole buffer is the
    /// matching context, so `^` and `\b` see the bytes before `start`.
    public func captureRanges(in bytes: UnsafeRawBufferPointer, from start: Int = 0) -> [Range<Int>?]? {
        guard start >= 0, start <= bytes.count else { return nil }
        let slots = numberOfCaptureGroups + 1
        return withUnsafeTemporaryAllocation(of: Int64.self, capacity: 2 * slots) { ranges -> [Range<Int>?]? in
            guard let base = ranges.baseAddress else { return nil }
            let found = cre2_match(handle, re2CString(bytes.baseAddress), bytes.count, start, base, Int32(slots))
            guard found == 1 else { return nil }
            var result: [Range<Int>?] = []
            result.reserveCapacity(slots)
            for i in 0..<slots {
                let lower = Int(ranges[2 * i])
                let upper = Int(ranges[2 * i + 1])
                result.append(lower >= 0 && upper >= lower ? lower..<upper : nil)
            }
            return result
        }
    }

    /// The byte range of the first match starting at or after `start`.
    public func firstMatchRange(in bytes: UnsafeRawBufferPointer, from start: Int = 0) -> Range<Int>? {
        guard start >= 0, start <= bytes.count else { return nil }
        var range: (Int64, Int64) = (-1, -1)
        let found = withUnsafeMutablePointer(to: &range) { pair in
            pair.withMemoryRebound(to: Int64.self, capacity: 2) { base in
                cre2_match(handle, re2CString(bytes.baseAddress), bytes.count, start, base, 1)
            }
        }
        guard found == 1, range.0 >= 0, range.1 >= range.0 else { return nil }
        return Int(range.0)..<Int(range.1)
    }

    /// All successive non-overlapping matches, as byte ranges, left to right.
    ///
    /// Empty matches are reported, except one that starts exactly where the
    /// previous match ended (Go's `FindAllIndex` rule); after an empty match
    /// the search resumes at the next UTF-8 character. E.g. `a*` on "baaac"
    /// gives 0..<0, 1..<4, 5..<5.
    public func allMatchRanges(in bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var position = 0
        var previousEnd = -1
        let count = bytes.count
        while position <= count {
            guard let match = firstMatchRange(in: bytes, from: position) else { break }
            var accept = true
            if match.upperBound == position {
                // Empty match at `position`.
                if match.lowerBound == previousEnd { accept = false }
                position = nextCharacterBoundary(in: bytes, after: position)
            } else {
                position = match.upperBound
            }
            previousEnd = match.upperBound
            if accept { result.append(match) }
        }
        return result
    }

    public func allMatchRanges(in bytes: [UInt8]) -> [Range<Int>] {
        bytes.withUnsafeBytes { allMatchRanges(in: $0) }
    }

    /// Byte ranges relative to the start of the slice (0 = `bytes.startIndex`).
    public func allMatchRanges(in bytes: ArraySlice<UInt8>) -> [Range<Int>] {
        bytes.withUnsafeBytes { allMatchRanges(in: $0) }
    }

    /// All successive non-overlapping matches in `text` (see the byte version).
    public func allMatchRanges(in text: String) -> [Range<String.Index>] {
        let byteRanges = re2WithUTF8Bytes(text) { allMatchRanges(in: $0) }
        return byteRanges.map { stringRange(in: text, $0) }
    }

    // MARK: String captures

    /// The first match in `text` at or after `start` (default: the start of
    /// `text`): element 0 is the whole match, element i capturing group i, nil
    /// for groups that did not participate. Returns nil when there is no
    /// match, or when `start` is not within `text`.
    public func captures(_ text: String, from start: String.Index? = nil) -> [Substring?]? {
        var offset = 0
        if let start {
            guard start >= text.startIndex, start <= text.endIndex else { return nil }
            offset = text.utf8.distance(from: text.utf8.startIndex, to: start)
        }
        guard let ranges = re2WithUTF8Bytes(text, { captureRanges(in: $0, from: offset) }) else { return nil }
        return ranges.map { range in range.map { text[stringRange(in: text, $0)] } }
    }

    /// The named groups that participated in the first match in `text`,
    /// keyed by name; nil when there is no match.
    public func namedCaptures(_ text: String) -> [String: Substring]? {
        guard let groups = captures(text) else { return nil }
        var result: [String: Substring] = [:]
        result.reserveCapacity(groupIndexByName.count)
        for (name, index) in groupIndexByName where index < groups.count {
            if let value = groups[index] { result[name] = value }
        }
        return result
    }

    // MARK: Required literals

    /// Literals any match requires, with atoms of at least
    /// `defaultMinAtomLength` (3) bytes; computed once, then cached. See
    /// `RequiredLiterals` for the exact semantics.
    public var requiredLiterals: RequiredLiterals {
        cachedLiterals.withLock { cached in
            if let cached { return cached }
            let computed = requiredLiterals(minAtomLength: Self.defaultMinAtomLength)
            cached = computed
            return computed
        }
    }

    /// Literals any match requires, with atoms of at least `minAtomLength`
    /// bytes (values below 1 count as 1). Recomputed on every call (it
    /// re-compiles the pattern inside RE2's FilteredRE2). Returns `.all` if
    /// the analysis fails (e.g. out of memory), which is always correct.
    public func requiredLiterals(minAtomLength: Int) -> RequiredLiterals {
        let minimum = Int32(clamping: max(1, minAtomLength))
        guard let literals = cre2_required_literals(handle, minimum, nil) else { return .all }
        defer { cre2_literals_free(literals) }
        guard cre2_literals_can_prefilter(literals) == 1 else { return .all }
        let atomCount = cre2_literals_atom_count(literals)
        var atoms: [String] = []
        atoms.reserveCapacity(atomCount)
        for i in 0..<atomCount {
            guard let atom = cre2_literals_atom(literals, i) else { return .all }
            atoms.append(String(cString: atom))
        }
        let clauseCount = cre2_literals_clause_count(literals)
        var clauses: [[String]] = []
        clauses.reserveCapacity(clauseCount)
        for c in 0..<clauseCount {
            let size = cre2_literals_clause_size(literals, c)
            var clause: [String] = []
            clause.reserveCapacity(size)
            for k in 0..<size {
                let index = Int(cre2_literals_clause_atom(literals, c, k))
                guard index >= 0, index < atoms.count else { return .all }
                clause.append(atoms[index])
            }
            guard !clause.isEmpty else { return .all }
            clauses.append(clause)
        }
        switch clauses.count {
        case 0: return .all
        case 1: return .atoms(clauses[0])
        default: return .anyOf(clauses)
        }
    }

    // MARK: Helpers

    private func nextCharacterBoundary(in bytes: UnsafeRawBufferPointer, after position: Int) -> Int {
        var next = position + 1
        while next < bytes.count, bytes[next] & 0xC0 == 0x80 { next += 1 }
        return next
    }

    private func stringRange(in text: String, _ range: Range<Int>) -> Range<String.Index> {
        let utf8 = text.utf8
        let count = utf8.count
        let lower = utf8.index(utf8.startIndex, offsetBy: min(max(range.lowerBound, 0), count))
        let upper = utf8.index(utf8.startIndex, offsetBy: min(max(range.upperBound, range.lowerBound, 0), count))
        return lower..<upper
    }
}

/// Views a raw pointer as the `const char *` the C API expects.
@inline(__always)
private func re2CString(_ pointer: UnsafeRawPointer?) -> UnsafePointer<CChar>? {
    pointer?.assumingMemoryBound(to: CChar.self)
}

/// Runs `body` on the UTF-8 bytes of `text` without copying when the string
/// is stored contiguously (always the case for native Swift strings).
@inline(__always)
private func re2WithUTF8Bytes<S: StringProtocol, R>(_ text: S, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let result = text.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
        return result
    }
    var copy = String(text)
    return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}
