/// A property a fuzz input broke: what the input did that it must not. A trap (overflow, index
/// out of range) is a finding too, but the process dies with it and the fuzzer reports it.
public struct FuzzFinding: Error, CustomStringConvertible, Sendable {
    public var target: String
    public var message: String
    public var input: [UInt8]

    public var description: String {
        let shown = input.prefix(256).map { byte -> String in
            (0x20..<0x7F).contains(byte) && byte != 0x5C ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
        }.joined()
        return "\(target): \(message); input (\(input.count) bytes): \(shown)\(input.count > 256 ? "…" : "")"
    }
}

/// What one input led to, in a few words ("accepted", "refused: bad_time"). The built-in
/// campaign keeps an input in its corpus when it leads somewhere no earlier input led: a cheap
/// stand-in for the coverage feedback libFuzzer has (docs/RELIABILITY.md, "Fuzzing").
public typealias FuzzOutcome = String

/// One decoder or parser under fuzzing: the inputs it starts from, the tokens worth splicing
/// in, and the check that runs one input and throws when a property fails.
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    public let seeds: [[UInt8]]
    /// Fragments of the input language (keywords, delimiters, edge numbers) the mutator inserts.
    public let dictionary: [[UInt8]]
    public let maxInputBytes: Int
    private let check: @Sendable ([UInt8]) throws(FuzzViolation) -> FuzzOutcome

    public init(
        name: String, summary: String, seeds: [[UInt8]], dictionary: [[UInt8]] = [], maxInputBytes: Int = 4096,
        check: @escaping @Sendable ([UInt8]) throws(FuzzViolation) -> FuzzOutcome
    ) {
        self.name = name
        self.summary = summary
        self.seeds = seeds
        self.dictionary = dictionary
        self.maxInputBytes = maxInputBytes
        self.check = check
    }

    /// Runs one input; a broken property becomes a finding that carries the input.
    @discardableResult
    public func run(_ input: [UInt8]) throws(FuzzFinding) -> FuzzOutcome {
        do throws(FuzzViolation) {
            return try check(input)
        } catch {
            throw FuzzFinding(target: name, message: error.message, input: input)
        }
    }
}

/// A property broken inside a check (the target adds its name and the input).
public struct FuzzViolation: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Throws unless `condition` holds.
@inline(__always)
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzViolation) {
    if !condition { throw FuzzViolation(message()) }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

/// Every target, in the order `strata-fuzz list` shows them.
public enum FuzzTargets {
    public static let all: [FuzzTarget] = [
        TimeTargets.instant, TimeTargets.rfc3339, TimeTargets.range, UnitTargets.sizesAndDurations,
        QueryTargets.parseAndPlan, JSONTargets.value, NDJSONTargets.records, WireTargets.batch,
        CodecTargets.zstd, CodecTargets.lz4, CodecTargets.gzip, RuntimeTargets.cri, RuntimeTargets.docker,
        NormalizerTargets.body, ConfigTargets.yaml,
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
