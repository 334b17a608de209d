/// Errors of the on-disk store. Each says which file and structure failed and what to do.
public struct StoreError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A checksum, magic number or length did not match: the file is damaged.
        case corrupt
        /// The file was written by a newer format version.
        case unsupportedVersion
        /// The operating system refused a read or write.
        case io
        /// Another process holds the data directory's lock (it is writing there).
        case inUse
        /// The path holds no manifest and no write-ahead log.
        case notADataDirectory
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
