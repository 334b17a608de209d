import Foundation

/// Incidents on disk: `<data-dir>/incidents/<id>.json`, one file per incident holding its
/// state, history, current report and pending notifications. Each write goes to a temporary
/// file, is fsynced and renamed over the old one, and the directory is fsynced: after a crash
/// a file is either the old version or the new one, never a mix, so a state change and the
/// notifications it owes are lost or kept together.
public struct IncidentStore: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw IncidentStoreError("cannot create the incident directory \(directory): \(error.localizedDescription)")
        }
    }

    /// `<data-dir>/incidents`.
    public static func directory(inDataDirectory dataDirectory: String) -> String {
        (dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory) + "/incidents"
    }

    public struct Loaded {
        public var incidents: [Incident]
        /// Files that could not be read; each was renamed to `<name>.unreadable` so it is kept
        /// for inspection and not read again.
        public var problems: [String]
    }

    public func loadAll() -> Loaded {
        var loaded = Loaded(incidents: [], problems: [])
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            loaded.problems.append("cannot list \(directory): \(error.localizedDescription)")
            return loaded
        }
        let decoder = Incident.decoder()
        for name in names where name.hasSuffix(".json") {
            let path = directory + "/" + name
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                loaded.incidents.append(try decoder.decode(Incident.self, from: data))
            } catch {
                loaded.problems.append("\(path) is not a readable incident (\(error)); renamed to \(name).unreadable")
                _ = rename(path, path + ".unreadable")
            }
        }
        // A crash between writing a temporary file and renaming it leaves the temporary behind.
        for name in names where name.hasSuffix(".json.tmp") { unlink(directory + "/" + name) }
        return loaded
    }

    public func save(_ incident: Incident) throws {
        let data: Data
        do {
            data = try Incident.encoder(pretty: false).encode(incident)
        } catch {
            throw IncidentStoreError("cannot encode incident \(incident.id): \(error)")
        }
        try Self.writeDurably(Array(data), to: path(of: incident.id))
    }

    public func remove(id: String) throws {
        guard unlink(path(of: id)) == 0 || errno == ENOENT else {
            throw IncidentStoreError("cannot remove \(path(of: id)): \(String(cString: strerror(errno)))")
        }
    }

    func path(of id: String) -> String { directory + "/" + id + ".json" }

    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        func failure(_ action: String, _ target: String) -> IncidentStoreError {
            IncidentStoreError("\(action) \(target) failed: \(String(cString: strerror(errno)))")
        }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("creating", temporary) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(fd, base + written, buffer.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                let error = failure("writing", temporary)
                close(fd)
                unlink(temporary)
                throw error
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let error = failure("fsync of", temporary)
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = failure("renaming into", path)
            unlink(temporary)
            throw error
        }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        let dfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw failure("opening directory", directory) }
        defer { close(dfd) }
        guard fsync(dfd) == 0 else { throw failure("fsync of directory", directory) }
    }
}

public struct IncidentStoreError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
