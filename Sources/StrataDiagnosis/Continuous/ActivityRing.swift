import StrataCore

/// What one workload logged in one bucket, or summed over a range: the few counts detection
/// needs, cheap to add on the ingest path.
public struct WorkloadActivity: Sendable, Codable, Equatable {
    public var records = 0
    public var errors = 0
    public var warnings = 0
    /// Error and warning records by message shape: the record's template id when the collector
    /// annotated it, else a hash of its first line with variables masked.
    public var shapes: [String: Int] = [:]
    /// Failure signatures (`FailureSignature` raw values) in error and warning records.
    public var signatures: [String: Int] = [:]

    public init() {}

    /// The shape key that stands for everything beyond the per-bucket cap.
    public static let overflowShape = "(other)"

    mutating func count(level: RecordLevel, shape: String?, signatures: [FailureSignature], maxShapes: Int) {
        records += 1
        switch level {
        case .error: errors += 1
        case .warning: warnings += 1
        case .normal: break
        }
        if let shape {
            if shapes[shape] != nil || shapes.count < maxShapes - 1 {
                shapes[shape, default: 0] += 1
            } else {
                shapes[Self.overflowShape, default: 0] += 1
            }
        }
        for signature in signatures { self.signatures[signature.rawValue, default: 0] += 1 }
    }

    mutating func merge(_ other: WorkloadActivity) {
        records += other.records
        errors += other.errors
        warnings += other.warnings
        for (shape, count) in other.shapes { shapes[shape, default: 0] += count }
        for (signature, count) in other.signatures { signatures[signature, default: 0] += count }
    }
}

/// Workloads numbered as they are first seen, with a cache from a record's pod to its number
/// (thousands of records share a pod, and deriving the workload from the name is not free).
struct WorkloadDirectory {
    static let overflow = WorkloadIdentity(workload: Workload(namespace: "", name: "(other)"), kind: .pod)

    let maxWorkloads: Int
    private(set) var identities: [WorkloadIdentity] = []
    private var indexByWorkload: [Workload: Int] = [:]
    private var indexByPodKey: [String: Int] = [:]

    init(maxWorkloads: Int) { self.maxWorkloads = max(1, maxWorkloads) }

    mutating func index(of resource: Resource) -> Int {
        let podKey = (resource[ResourceKey.namespace] ?? "") + "\u{1}" + (resource[ResourceKey.pod] ?? "") + "\u{1}"
            + (resource[ResourceKey.node] ?? "") + "\u{1}" + (resource["k8s.deployment.name"] ?? "")
            + (resource["k8s.statefulset.name"] ?? "") + (resource["k8s.daemonset.name"] ?? "")
        if let index = indexByPodKey[podKey] { return index }
        let index = index(of: WorkloadResolver.identity(of: resource))
        // Pods come and go; a cache that only grows would hold every pod name ever seen.
        if indexByPodKey.count >= 8 * maxWorkloads { indexByPodKey.removeAll(keepingCapacity: true) }
        indexByPodKey[podKey] = index
        return index
    }

    mutating func index(of identity: WorkloadIdentity) -> Int {
        if let existing = indexByWorkload[identity.workload] { return existing }
        // The last slot is the shared overflow workload.
        let chosen = identities.count < maxWorkloads - 1 ? identity : Self.overflow
        if let existing = indexByWorkload[chosen.workload] { return existing }
        identities.append(chosen)
        indexByWorkload[chosen.workload] = identities.count - 1
        return identities.count - 1
    }

    func identity(_ index: Int) -> WorkloadIdentity { identities[index] }
    var count: Int { identities.count }
}

/// Per-workload activity in fixed time buckets, in a ring that covers the window plus the
/// baseline: memory is bounded by (buckets × workloads active per bucket × shapes per bucket),
/// whatever the ingest rate.
struct ActivityRing {
    let bucketNanos: Int64
    let maxShapesPerBucket: Int
    /// The bucket number each slot holds (`Int64.min`: empty).
    private var numbers: [Int64]
    private var slots: [[Int: WorkloadActivity]]
    /// Records stamped before the oldest bucket the ring still holds.
    private(set) var droppedTooOld = 0

    init(bucketNanos: Int64, span: Int64, maxShapesPerBucket: Int) {
        self.bucketNanos = max(1, bucketNanos)
        self.maxShapesPerBucket = max(1, maxShapesPerBucket)
        // One more than the span so a window ending at the current bucket's start still has
        // its full baseline while the current bucket fills.
        let capacity = Int((span + self.bucketNanos - 1) / self.bucketNanos) + 1
        numbers = [Int64](repeating: .min, count: capacity)
        slots = [[Int: WorkloadActivity]](repeating: [:], count: capacity)
    }

    var capacity: Int { numbers.count }

    func bucketNumber(_ time: Int64) -> Int64 {
        time >= 0 ? time / bucketNanos : (time - bucketNanos + 1) / bucketNanos
    }

    /// Counts one record. Records stamped after `now` arrived now, and count there.
    mutating func add(
        time: Int64, now: Int64, workload: Int, level: RecordLevel, shape: String?, signatures: [FailureSignature]
    ) {
        let current = bucketNumber(now)
        let number = min(bucketNumber(time), current)
        guard number > current - Int64(capacity) else {
            droppedTooOld += 1
            return
        }
        let slot = Int(((number % Int64(capacity)) + Int64(capacity)) % Int64(capacity))
        if numbers[slot] != number {
            // A slot holding a newer bucket means `now` went backwards: keep the newer data.
            guard numbers[slot] < number else {
                droppedTooOld += 1
                return
            }
            numbers[slot] = number
            slots[slot] = [:]
        }
        // Mutated in place through the defaulted subscript: copying the entry out and back
        // would copy its dictionaries on every error.
        slots[slot][workload, default: WorkloadActivity()].count(
            level: level, shape: shape, signatures: signatures, maxShapes: maxShapesPerBucket)
    }

    /// Sums per workload over the buckets that start in `[from, to)`.
    func totals(from: Int64, to: Int64) -> [Int: WorkloadActivity] {
        var result: [Int: WorkloadActivity] = [:]
        for (slot, number) in numbers.enumerated() where number != .min {
            let start = number * bucketNanos
            guard start >= from && start < to else { continue }
            for (workload, activity) in slots[slot] { result[workload, default: WorkloadActivity()].merge(activity) }
        }
        return result
    }

    /// What the ring holds, to check that memory stays bounded.
    var footprint: RingFootprint {
        var footprint = RingFootprint(buckets: capacity)
        for (slot, number) in numbers.enumerated() where number != .min {
            footprint.filledBuckets += 1
            footprint.workloadEntries += slots[slot].count
            footprint.shapeEntries += slots[slot].values.reduce(0) { $0 + $1.shapes.count }
        }
        return footprint
    }
}

public struct RingFootprint: Sendable, Equatable {
    public var buckets: Int
    public var filledBuckets = 0
    public var workloadEntries = 0
    public var shapeEntries = 0
}

/// The shape of an error or warning message, for counting new and rising failure messages
/// without mining templates on the ingest path.
enum MessageShape {
    /// The attribute the collector's template annotator writes (StrataServer's
    /// `TemplateAnnotator.attributeKey`; this module cannot import the server).
    static let templateAttribute = "template.id"

    static func key(of record: LogRecord) -> String {
        if let id = record.attributes.first(where: { $0.key == templateAttribute })?.value, !id.isEmpty { return id }
        let line = templateMessage(of: record.body)
        let masked = line.split(separator: " ", omittingEmptySubsequences: true)
            .map { MaskingTemplater.isVariable($0) ? "<*>" : String($0) }
            .joined(separator: " ")
        return "m" + MaskingTemplater.hash(masked)
    }
}
