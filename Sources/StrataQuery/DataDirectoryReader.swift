import StrataStore

/// Opens a collector's data directory for reading only (`strata query --data-dir`), possibly
/// while a collector runs on it. The store reads its own directory
/// (`LogStore.openReadOnly(directory:)`); this gives the query engine its view of it.
public enum DataDirectoryReader {
    public struct Opened: Sendable {
        public var view: QueryEngine.StoreView
        /// Problems met (a segment that does not open, a damaged log entry); the rest is usable.
        public var warnings: [String]
    }

    public static func open(_ directory: String) throws -> Opened {
        let opened = try LogStore.openReadOnly(directory: directory)
        return Opened(view: opened.snapshot, warnings: opened.warnings)
    }
}
