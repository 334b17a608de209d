import StrataCore
import StrataSampleData

/// Byte-level mutations in the manner of libFuzzer's: bit flips, random and "interesting"
/// bytes, inserted, erased and repeated runs, dictionary tokens, crossover with another corpus
/// entry. Seeded, so a campaign is reproducible from its seed.
struct Mutator {
    var random: SplitMix64

    /// Numbers at the edges of the integer widths parsers use, as text and as little-endian bytes.
    static let edgeNumbers: [[UInt8]] = {
        let values: [Int64] = [0, -1, 1, 127, 128, 255, 256, 65535, 65536, Int64(Int32.max), Int64(Int32.min), .max, .min]
        var result = values.map { Array(String($0).utf8) }
        result += values.map { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
        result += ["18446744073709551615", "9223372036854775808", "1e308", "1e400", "-0", "NaN"].map { Array($0.utf8) }
        return result
    }()

    mutating func mutate(_ input: [UInt8], corpus: [[UInt8]], dictionary: [[UInt8]], maxBytes: Int) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + random.below(4)) { mutateOnce(&bytes, corpus: corpus, dictionary: dictionary) }
        if bytes.count > maxBytes { bytes.removeLast(bytes.count - maxBytes) }
        return bytes
    }

    private mutating func position(in bytes: [UInt8]) -> Int { random.below(bytes.count + 1) }

    private mutating func mutateOnce(_ bytes: inout [UInt8], corpus: [[UInt8]], dictionary: [[UInt8]]) {
        switch random.below(10) {
        case 0 where !bytes.isEmpty:
            bytes[random.below(bytes.count)] ^= 1 << UInt8(random.below(8))
        case 1 where !bytes.isEmpty:
            bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
        case 2:
            let count = 1 + random.below(8)
            bytes.insert(contentsOf: (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: position(in: bytes))
        case 3 where !bytes.isEmpty:
            let start = random.below(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + random.below(16)))
        case 4 where !bytes.isEmpty:
            // Repeat a run: deep nesting, long tokens, many members.
            let start = random.below(bytes.count)
            let run = Array(bytes[start..<min(bytes.count, start + 1 + random.below(8))])
            let copies = 1 + random.below(random.chance(0.1) ? 512 : 8)
            bytes.insert(contentsOf: Array([[UInt8]](repeating: run, count: copies).joined()), at: start)
        case 5, 6 where !dictionary.isEmpty:
            bytes.insert(contentsOf: random.pick(dictionary), at: position(in: bytes))
        case 7:
            bytes.insert(contentsOf: random.pick(Self.edgeNumbers), at: position(in: bytes))
        case 8 where !corpus.isEmpty:
            let other = random.pick(corpus)
            let cut = position(in: bytes)
            let from = random.below(other.count + 1)
            bytes = Array(bytes[..<cut]) + Array(other[from...])
        default:
            if !bytes.isEmpty { bytes.removeLast(random.below(bytes.count) + 1) }
        }
    }
}

/// What a campaign did.
public struct FuzzStatistics: Sendable {
    public var executions = 0
    public var corpusSize = 0
    public var outcomes = 0
}

/// The built-in fuzzing loop, for `swift test` (a fixed seed and a bounded number of inputs)
/// and for `strata-fuzz run` without libFuzzer. It has no coverage feedback; it keeps an
/// input when it produced an outcome no earlier input produced, and it always mutates from
/// the seeds and those inputs. `make fuzz` runs the same targets under libFuzzer, which does
/// use coverage.
public struct FuzzCampaign {
    public let target: FuzzTarget
    private var mutator: Mutator
    private var corpus: [[UInt8]]
    private var seenOutcomes: Set<FuzzOutcome> = []
    static let maxCorpus = 512

    public init(target: FuzzTarget, seed: UInt64) {
        self.target = target
        mutator = Mutator(random: SplitMix64(seed: seed))
        corpus = target.seeds.isEmpty ? [[]] : target.seeds
    }

    /// An outcome without its numbers and quoted text ("truncated at byte 17" and "at byte 18" are one path
    /// through the decoder), cut short, so the corpus keeps inputs that took new paths.
    static func shape(_ outcome: FuzzOutcome) -> FuzzOutcome {
        var shaped = ""
        var lastWasDigit = false
        var quoted = false
        for character in outcome.prefix(160) {
            // Quoted text is the input echoed back ("found 'now+x'"), not a path.
            if character == "'" { quoted.toggle(); shaped.append(character); continue }
            if quoted { continue }
            let isDigit = character.isASCII && character.isNumber
            if !isDigit { shaped.append(character) } else if !lastWasDigit { shaped.append("#") }
            lastWasDigit = isDigit
        }
        return shaped
    }

    /// Runs the seeds, then mutated inputs until `iterations` have run or `deadline` (a
    /// monotonic time in nanoseconds) has passed; the first finding ends the campaign.
    public mutating func run(iterations: Int, deadline: Int64 = .max) throws(FuzzFinding) -> FuzzStatistics {
        var statistics = FuzzStatistics()
        for seed in target.seeds {
            seenOutcomes.insert(Self.shape(try target.run(seed)))
            statistics.executions += 1
        }
        while statistics.executions < iterations {
            if statistics.executions % 64 == 0, WallClock.monotonicNanos() >= deadline { break }
            let parent = mutator.random.pick(corpus)
            let input = mutator.mutate(parent, corpus: corpus, dictionary: target.dictionary, maxBytes: target.maxInputBytes)
            let outcome = try target.run(input)
            statistics.executions += 1
            if seenOutcomes.insert(Self.shape(outcome)).inserted {
                if corpus.count >= Self.maxCorpus, corpus.count > target.seeds.count { corpus.remove(at: target.seeds.count + mutator.random.below(corpus.count - target.seeds.count)) }
                corpus.append(input)
            }
        }
        statistics.corpusSize = corpus.count
        statistics.outcomes = seenOutcomes.count
        return statistics
    }
}
