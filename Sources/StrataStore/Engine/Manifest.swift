import Foundation
import StrataCore

/// The catalog of a data directory: which segments are live, which were quarantined, and the
/// batch ids recently stored (so an agent's retry is recognised across flushes and restarts).
/// Written whole to `manifest.json` by write-temporary, fsync, rename, fsync-directory, so a crash
/// leaves the old or the new catalog, never a mix. Format: docs/FORMAT.md ("Manifest").
struct Manifest: Codable, Sendable {
    /// 2: `sources` (the highest stored position per source). Version 1 files are read as
    /// having none; a build that reads only version 1 refuses version 2 by its number.
    static let version = 2

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

    /// One remembered source of `SourceMemory`, as flushed into segments.
    struct StoredSource: Codable, Sendable, Hashable {
        var node: String
        var device: UInt64
        var inode: UInt64
        var headChecksum: UInt32
        var headLength: UInt32
        /// 0 stdout, 1 stderr.
        var sequence: UInt8
        var end: UInt64
        var piece: UInt32
        /// When a record of the source was last stored (ns).
        var at: Int64
    }

    var version = Manifest.version
    var segments: [Segment] = []
    var quarantined: [Quarantined] = []
    var recentBatches: [RecentBatch] = []
    /// Every WAL entry below this sequence is in a segment.
    var flushedThrough: UInt64 = 0
    var nextSegmentNumber: UInt64 = 1
    /// Absent in version 1 files; nil and empty mean the same.
    var sources: [StoredSource]?

    /// The flushed part of the source memory.
    var sourceMemory: SourceMemory {
        var entries: [FileSource: SourceMemory.Entry] = [:]
        for stored in sources ?? [] {
            let source = FileSource(
                node: stored.node, device: stored.device, inode: stored.inode, headChecksum: stored.headChecksum,
                headLength: stored.headLength, sequence: stored.sequence)
            let entry = SourceMemory.Entry(highest: SourceOffset(end: stored.end, piece: stored.piece), lastStored: stored.at)
            if let known = entries[source], known.highest >= entry.highest { continue }
            entries[source] = entry
        }
        return SourceMemory(entries: entries)
    }

    mutating func setSources(_ memory: SourceMemory) {
        // Sorted so that an unchanged memory writes the same bytes.
        sources = memory.entries.map { source, entry in
            StoredSource(
                node: source.node, device: source.device, inode: source.inode, headChecksum: source.headChecksum,
                headLength: source.headLength, sequence: source.sequence, end: entry.highest.end,
                piece: entry.highest.piece, at: entry.lastStored)
        }.sorted {
            ($0.node, $0.device, $0.inode, $0.headChecksum, $0.sequence) < ($1.node, $1.device, $1.inode, $1.headChecksum, $1.sequence)
        }
    }

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
