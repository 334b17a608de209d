import CStrataNative

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, as used by iSCSI,
// SCTP, ext4, Kafka and friends. Pure Swift, table driven, slicing-by-8.

/// Eight 256-entry tables laid out back to back: table k lives at [k*256 ..< (k+1)*256].
/// Table 0 is the classic byte-at-a-time table; table k advances a byte's
/// contribution by k further zero bytes, which lets the main loop fold eight
/// input bytes per iteration.
private let crc32cTables: [UInt32] = {
    let polynomial: UInt32 = 0x82F6_3B78
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for i in 0..<256 {
        var crc = UInt32(i)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1
        }
        tables[i] = crc
    }
    for k in 1..<8 {
        for i in 0..<256 {
            let previous = tables[(k - 1) * 256 + i]
            tables[k * 256 + i] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
        }
    }
    return tables
}()

/// Computes the CRC-32C (Castagnoli) checksum of `bytes`.
///
/// `seed` is the CRC of the data that precedes `bytes` (0 for none), so a
/// checksum can be computed incrementally:
/// `crc32c(b, seed: crc32c(a)) == crc32c(a + b)`.
/// The result uses the standard pre/post inversion: `crc32c("123456789") == 0xE3069283`.
public func crc32c(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return seed }
    if crc32cHardwareAvailable {
        return ~strata_crc32c_hardware(~seed, base, bytes.count)
    }
    return crc32cPortable(bytes, seed: seed)
}

/// SSE 4.2 computes CRC-32C an order of magnitude faster than the tables below.
let crc32cHardwareAvailable = strata_crc32c_hardware_available() == 1

/// The table-driven (slicing-by-8) CRC-32C, for CPUs without the instruction.
func crc32cPortable(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
    guard var pointer = bytes.baseAddress, bytes.count > 0 else { return seed }
    var remaining = bytes.count
    var crc = ~seed
    crc32cTables.withUnsafeBufferPointer { table in
        while remaining >= 8 {
            let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self)) ^ UInt64(crc)
            let t7 = table[7 * 256 + Int(truncatingIfNeeded: word & 0xFF)]
            let t6 = table[6 * 256 + Int(truncatingIfNeeded: (word >> 8) & 0xFF)]
            let t5 = table[5 * 256 + Int(truncatingIfNeeded: (word >> 16) & 0xFF)]
            let t4 = table[4 * 256 + Int(truncatingIfNeeded: (word >> 24) & 0xFF)]
            let t3 = table[3 * 256 + Int(truncatingIfNeeded: (word >> 32) & 0xFF)]
            let t2 = table[2 * 256 + Int(truncatingIfNeeded: (word >> 40) & 0xFF)]
            let t1 = table[1 * 256 + Int(truncatingIfNeeded: (word >> 48) & 0xFF)]
            let t0 = table[Int(truncatingIfNeeded: word >> 56)]
            crc = (t7 ^ t6) ^ (t5 ^ t4) ^ (t3 ^ t2) ^ (t1 ^ t0)
            pointer += 8
            remaining -= 8
        }
        while remaining > 0 {
            let byte = pointer.load(as: UInt8.self)
            crc = table[Int(truncatingIfNeeded: (crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            pointer += 1
            remaining -= 1
        }
    }
    return ~crc
}

/// Computes the CRC-32C (Castagnoli) checksum of `bytes`; see
/// `crc32c(_:seed:)` for the meaning of `seed`.
@inlinable
public func crc32c(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
    bytes.withUnsafeBytes { crc32c($0, seed: seed) }
}

/// Computes the CRC-32C (Castagnoli) checksum of `bytes`; see
/// `crc32c(_:seed:)` for the meaning of `seed`.
@inlinable
public func crc32c(_ bytes: ArraySlice<UInt8>, seed: UInt32 = 0) -> UInt32 {
    bytes.withUnsafeBytes { crc32c($0, seed: seed) }
}
