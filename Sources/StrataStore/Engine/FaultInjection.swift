#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Test-only crash points (docs/FORMAT.md, "Fault injection"). With `STRATA_FAULT=<point>` (or
/// `<point>@<n>` for the n-th time the point is reached) in the environment, the process
/// sends itself SIGKILL at that point, so the durability tests can stop a collector exactly
/// between two steps of a flush, compaction or retention pass. Without the variable every call
/// is one comparison against nil.
public enum FaultInjection {
    /// Every point the store knows, so a misspelt `STRATA_FAULT` can be reported at start.
    public static let points: Set<String> = [
        "ingest.after_wal",
        "flush.after_temp", "flush.after_rename", "flush.before_manifest", "flush.after_manifest",
        "compaction.after_temp", "compaction.after_rename", "compaction.before_manifest", "compaction.before_delete",
        "compaction.mid_delete",
        "retention.after_temp", "retention.before_manifest", "retention.before_delete",
    ]

    struct Target: Sendable {
        var point: String
        var occurrence: Int
    }

    static let target: Target? = {
        guard let raw = getenv("STRATA_FAULT") else { return nil }
        let text = String(cString: raw)
        guard !text.isEmpty else { return nil }
        if let at = text.firstIndex(of: "@"), let n = Int(text[text.index(after: at)...]), n >= 1 {
            return Target(point: String(text[..<at]), occurrence: n)
        }
        return Target(point: text, occurrence: 1)
    }()

    private static let hits = Mutex(0)

    /// The configured point, or nil; an unknown name is returned so the caller can warn.
    public static var configuredPoint: String? { target?.point }

    /// Kills the process with SIGKILL when `point` is the configured one (and this is its n-th hit).
    @inline(__always)
    static func check(_ point: @autoclosure () -> String) {
        guard let target else { return }
        let name = point()
        guard name == target.point else { return }
        let count = hits.withLock { hits -> Int in
            hits += 1
            return hits
        }
        if count == target.occurrence { kill(getpid(), SIGKILL) }
    }
}
