#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes as a dictionary key, hashed in one call (an `[UInt8]` key would feed the hasher byte
/// by byte) and compared with memcmp.
struct ByteKey: Hashable, Sendable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (lhs: ByteKey, rhs: ByteKey) -> Bool {
        guard lhs.bytes.count == rhs.bytes.count else { return false }
        return lhs.bytes.withUnsafeBytes { left in
            rhs.bytes.withUnsafeBytes { right in
                guard let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return true }
                return memcmp(leftBase, rightBase, left.count) == 0
            }
        }
    }
}

/// FNV-1a, 64 bits: stable across runs, processes and platforms (Swift's Hasher is seeded per
/// process, so it cannot name anything that is persisted).
func fnv1a64<C: Sequence>(_ bytes: C, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 where C.Element == UInt8 {
    var value = seed
    for byte in bytes {
        value ^= UInt64(byte)
        value &*= 0x0000_0100_0000_01b3
    }
    return value
}
