import Foundation
import StrataCore
import StrataStore

/// Opens a collector's data directory for reading only (`strata query --data-dir`), possibly
/// while a collector runs on it: reads `manifest.json`, opens the live segments, and reads the
/// write-ahead log entries not yet flushed — without truncating a torn tail, quarantining,
/// or writing anything (a `LogStore` would take the directory over). Follows the documented
/// formats (docs/FORMAT.md: manifest version 1, write-ahead log version 1).
public enum DataDirectoryReader {
    public struct Opened: Sendable {
        public var view: QueryEngine.StoreView
        /// Problems met (a segment that does not open, a damaged log entry); the rest is usable.
        public var warnings: [String]
    }

    public static func open(_ directory: String) throws -> Opened {
        let manifestPath = directory + "/manifest.json"
        var warnings: [String] = []
        var segments: [SegmentReader] = []
        var flushedThrough: UInt64 = 0
        if FileManager.default.fileExists(atPath: manifestPath) {
            guard let data = FileManager.default.contents(atPath: manifestPath) else {
                throw QueryError(.badParameter, "\(manifestPath): cannot be read (permissions?)")
            }
            let manifest: JSONValue
            do {
                manifest = try JSONValue.parse(Array(data))
            } catch {
                throw QueryError(.badParameter, "\(manifestPath): not a readable catalog (\(error))")
            }
            let version = manifest["version"]?.int ?? 0
            guard version == 1 else {
                throw QueryError(.badParameter, "\(manifestPath): catalog version \(version); this build reads version 1")
            }
            flushedThrough = UInt64(manifest["flushedThrough"]?.number ?? 0)
            for entry in manifest["segments"]?.array ?? [] {
                guard let file = entry["file"]?.string else { continue }
                do {
                    segments.append(try SegmentReader(path: directory + "/" + file))
                } catch {
                    warnings.append("segment \(file) left out: \(error)")
                }
            }
        } else if !FileManager.default.fileExists(atPath: directory + "/wal") {
            throw QueryError(.badParameter, "\(directory) is not a Strata data directory (no manifest.json and no wal/)")
        }
        let head = try readLog(directory + "/wal", from: flushedThrough, warnings: &warnings)
        return Opened(view: QueryEngine.StoreView(segments: segments, head: head), warnings: warnings)
    }

    /// Records of the log entries at or after `sequence`, in log order; a batch id logged twice
    /// counts once.
    static func readLog(_ directory: String, from sequence: UInt64, warnings: inout [String]) throws -> [LogRecord] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }.sorted()
        var records: [LogRecord] = []
        var seen = Set<BatchID>()
        for (index, name) in names.enumerated() {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            let bytes = [UInt8](data)
            var offset = 0
            while offset < bytes.count {
                guard let (entrySequence, payload, length) = entry(bytes, at: offset) else {
                    // A torn tail of the last file is an append in progress (or a crash): never
                    // acknowledged, so not part of the data.
                    if index < names.count - 1 { warnings.append("write-ahead log \(name): damaged entry at byte \(offset); the rest of the file is left out") }
                    break
                }
                offset += length
                guard entrySequence >= sequence else { continue }
                guard let batch = try? WireBatch.decode(payload) else {
                    warnings.append("write-ahead log entry \(entrySequence) does not decode; left out")
                    continue
                }
                guard seen.insert(batch.id).inserted else { continue }
                records += batch.records
            }
        }
        return records
    }

    /// `u32 length · u32 crc32c · u64 sequence · payload` (little endian; the CRC covers the
    /// sequence and payload, whose sum is `length`).
    static func entry(_ bytes: [UInt8], at offset: Int) -> (UInt64, [UInt8], Int)? {
        guard bytes.count - offset >= 16 else { return nil }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
        let length = Int(u32(offset))
        let checksum = u32(offset + 4)
        guard length >= 8, length <= 256 << 20, bytes.count - offset - 8 >= length else { return nil }
        guard crc32c(bytes[(offset + 8)..<(offset + 8 + length)]) == checksum else { return nil }
        let sequence = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + 8 + $1]) << (8 * UInt64($1)) }
        return (sequence, Array(bytes[(offset + 16)..<(offset + 8 + length)]), 8 + length)
    }
}
