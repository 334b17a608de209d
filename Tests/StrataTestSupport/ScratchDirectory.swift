import Foundation

/// A directory of its own under the system's temporary directory, removed with everything in it
/// when the value goes away.
public final class ScratchDirectory: Sendable {
    public let path: String

    /// Creates `strata-<label>-<unique>`. Should the temporary directory refuse it, the first use
    /// of `path` fails with the file system's error, which names the path.
    public init(_ label: String = "test") {
        path = ScratchDirectory.uniquePath(label)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { ScratchDirectory.remove(path) }

    /// A fresh path under the temporary directory that nothing has created yet, for code that
    /// must create its directory itself; the caller removes it (`remove(_:)`).
    public static func uniquePath(_ label: String) -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("strata-\(label)-\(UUID().uuidString)")
    }

    /// Removes `path` and everything under it; a path already gone is fine.
    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
