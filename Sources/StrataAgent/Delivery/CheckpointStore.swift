import GRDB
import StrataCore

/// Where reading of one file stands: for each stream sequence (stdout, stderr), every line of
/// that sequence that starts before the offset has been delivered (see LineAssembler).
public struct FilePosition: Sendable, Equatable {
    public var key: FileKey
    public var path: String
    public var fingerprint: FileHeadChecksum
    /// Bumped each time the file is found truncated (copytruncate), so positions from before a
    /// truncation never win over smaller offsets after it.
    public var generation: Int
    public var stdoutOffset: Int64
    public var stderrOffset: Int64

    public init(
        key: FileKey, path: String, fingerprint: FileHeadChecksum, generation: Int = 0, stdoutOffset: Int64 = 0,
        stderrOffset: Int64 = 0
    ) {
        self.key = key
        self.path = path
        self.fingerprint = fingerprint
        self.generation = generation
        self.stdoutOffset = stdoutOffset
        self.stderrOffset = stderrOffset
    }

    /// Where to start reading again: the smaller of the two sequence offsets.
    public var resumeOffset: Int64 { min(stdoutOffset, stderrOffset) }

    /// Whether `self` is at or past `other` on the same file.
    public func isAtOrAfter(_ other: FilePosition) -> Bool {
        if generation != other.generation { return generation > other.generation }
        return stdoutOffset >= other.stdoutOffset && stderrOffset >= other.stderrOffset
    }

    /// The later of two positions of the same file, sequence by sequence.
    public func latest(_ other: FilePosition) -> FilePosition {
        if generation != other.generation { return generation > other.generation ? self : other }
        var result = self
        result.stdoutOffset = max(stdoutOffset, other.stdoutOffset)
        result.stderrOffset = max(stderrOffset, other.stderrOffset)
        if other.fingerprint.length > fingerprint.length { result.fingerprint = other.fingerprint }
        return result
    }
}

public struct CheckpointStoreError: Error, CustomStringConvertible {
    public var description: String
}

/// Durable per-file positions in SQLite (WAL mode), the way Fluent Bit keeps its tail DB.
/// Positions are written only for batches the receiver acknowledged (or that were moved to
/// the dead-letter directory), in one transaction per acknowledgement.
public final class CheckpointStore: Sendable {
    private let database: DatabaseQueue
    public let path: String

    public init(directory: String) throws {
        path = directory + "/checkpoints.sqlite"
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // FULL makes each commit durable at the cost of one fsync per acknowledgement,
            // which happens at most a few times a second.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            try FileSystem.makeDirectory(directory)
            database = try DatabaseQueue(path: path, configuration: configuration)
            try database.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS file_positions (
                            file_key TEXT PRIMARY KEY,
                            path TEXT NOT NULL,
                            fingerprint INTEGER NOT NULL,
                            fingerprint_length INTEGER NOT NULL,
                            generation INTEGER NOT NULL,
                            stdout_offset INTEGER NOT NULL,
                            stderr_offset INTEGER NOT NULL,
                            updated_at INTEGER NOT NULL
                        )
                        """)
            }
        } catch {
            throw CheckpointStoreError(
                description:
                    "cannot open the checkpoint database at \(path): \(error). Check that the checkpoint directory exists and is writable."
            )
        }
    }

    public func loadAll() throws -> [FileKey: FilePosition] {
        try database.read { db in
            var result: [FileKey: FilePosition] = [:]
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM file_positions")
            for row in rows {
                guard let key = FileKey(string: row["file_key"]) else { continue }
                let fingerprint = FileHeadChecksum(
                    checksum: UInt32(truncatingIfNeeded: row["fingerprint"] as Int64),
                    length: row["fingerprint_length"])
                result[key] = FilePosition(
                    key: key, path: row["path"], fingerprint: fingerprint, generation: row["generation"],
                    stdoutOffset: row["stdout_offset"], stderrOffset: row["stderr_offset"])
            }
            return result
        }
    }

    public func commit(_ positions: some Collection<FilePosition>, now: Int64 = WallClock.nowNanos()) throws {
        guard !positions.isEmpty else { return }
        try database.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO file_positions
                        (file_key, path, fingerprint, fingerprint_length, generation, stdout_offset, stderr_offset, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(file_key) DO UPDATE SET
                        path = excluded.path, fingerprint = excluded.fingerprint,
                        fingerprint_length = excluded.fingerprint_length, generation = excluded.generation,
                        stdout_offset = excluded.stdout_offset, stderr_offset = excluded.stderr_offset,
                        updated_at = excluded.updated_at
                    """)
            for position in positions {
                try statement.execute(arguments: [
                    position.key.description, position.path, Int64(position.fingerprint.checksum),
                    position.fingerprint.length, position.generation, position.stdoutOffset, position.stderrOffset,
                    now,
                ])
            }
        }
    }

    /// Forgets files that are gone: called with the keys still present on disk.
    public func removeAll(except keep: Set<FileKey>, untouchedSince cutoff: Int64) throws {
        try database.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT file_key, updated_at FROM file_positions")
            for row in rows {
                let keyText: String = row["file_key"]
                let updated: Int64 = row["updated_at"]
                if let key = FileKey(string: keyText), !keep.contains(key), updated < cutoff {
                    try db.execute(sql: "DELETE FROM file_positions WHERE file_key = ?", arguments: [keyText])
                }
            }
        }
    }
}
