import StrataSampleData

/// The seeded generator every test and benchmark uses, so a failing case repeats from its seed.
///
/// It is StrataSampleData's generator (SplitMix64): the sample data is drawn from it already,
/// and one implementation means a seed means the same sequence everywhere. As a
/// `RandomNumberGenerator` it also drives `Int.random(in:using:)` and `shuffled(using:)`.
public typealias SeededRandom = SplitMix64
