import Foundation
import StrataCore

/// The catalog of a data directory: which segments are live, which were quarantined, and the
/// batch ids recently stored (so an agent's retry is recognised across flushes and restarts).
/// Written whole to `manifest.json` by write-temporary, fsync, rename, fsync-directory, so a crash
/// leaves the old or the new catalog, never a mix. Format: docs/FORMAT.md ("Manifest").
struct Manifest: Codable, Sendable {
    static let version = 1

    struct Segment: Codable, Sendable, Hashable {
        /// Relative to the data directory.
        var file: String
        /// Start of the hour the rows fall in (ns since the epoch).
        var partition: Int64
        var info: SegmentInfo
    }

    struct Quarantined: Codable, Sendable, Hashable {
        var file: String
        var reason: String
        var at: Int64
    }

    struct RecentBatch: Codable, Sendable, Hashable {
        var id: String
        var at: Int64
    }

    var version = Manifest.version
    var segments: [Segment] = []
    var quarantined: [Quarantined] = []
    var recentBatches: [RecentBatch] = []
    /// Every WAL entry below this sequence is in a segment.
    var flushedThrough: UInt64 = 0
    var nextSegmentNumber: UInt64 = 1

    static func decode(_ bytes: [UInt8], path: String) throws -> Manifest {
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(bytes))
        } catch {
            throw StoreError(.corrupt, "\(path): unreadable catalog (\(error)); restore it from a backup or move it away to rebuild from the segments")
        }
        guard manifest.version <= Manifest.version else {
            throw StoreError(.unsupportedVersion, "\(path): catalog version \(manifest.version) is newer than this build reads (\(Manifest.version))")
        }
        guard manifest.version >= 1 else {
            throw StoreError(.corrupt, "\(path): catalog version \(manifest.version) is invalid")
        }
        return manifest
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }
}

extension [Manifest.Segment] {
    /// Bytes of these segment files on disk.
    var fileBytes: Int64 { reduce(0) { $0 + Int64($1.info.bytes) } }
}
