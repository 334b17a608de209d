import StrataCore

/// Result order: by timestamp, ties broken by a content fingerprint, so the order (and a cursor
/// into it) does not depend on where a record is stored — head, segment, or a segment that
/// compaction rewrote.
public enum ResultOrder: String, Sendable, Hashable {
    case newestFirst = "desc"
    case oldestFirst = "asc"
}

/// A record's place in the result order.
public struct OrderKey: Sendable, Hashable, Comparable {
    public var timestamp: Int64
    public var fingerprint: UInt64

    public init(timestamp: Int64, fingerprint: UInt64) {
        self.timestamp = timestamp
        self.fingerprint = fingerprint
    }

    public init(_ record: LogRecord) {
        self.init(timestamp: record.timestamp, fingerprint: RecordContentHash.of(record))
    }

    public static func < (a: OrderKey, b: OrderKey) -> Bool {
        (a.timestamp, a.fingerprint) < (b.timestamp, b.fingerprint)
    }

    /// Whether `self` comes before `other` in `order`.
    func precedes(_ other: OrderKey, in order: ResultOrder) -> Bool {
        order == .newestFirst ? other < self : self < other
    }
}

/// A stable 64-bit hash of a record's content (FNV-1a over a canonical serialization): the same
/// in every process and on every machine, unlike `Hasher`.
public enum RecordContentHash {
    public static func of(_ record: LogRecord) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func byte(_ b: UInt8) {
            hash ^= UInt64(b)
            hash &*= 0x0000_0100_0000_01b3
        }
        func integer(_ value: UInt64) {
            var v = value
            for _ in 0..<8 {
                byte(UInt8(truncatingIfNeeded: v))
                v >>= 8
            }
        }
        func string(_ text: String) {
            integer(UInt64(text.utf8.count))
            for b in text.utf8 { byte(b) }
        }
        integer(UInt64(bitPattern: record.timestamp))
        integer(UInt64(bitPattern: record.observedTimestamp))
        byte(record.stream.rawValue)
        byte(record.severity?.rawValue ?? 0)
        integer(UInt64(record.flags.rawValue))
        string(record.traceID?.description ?? "")
        string(record.spanID?.description ?? "")
        string(record.body)
        integer(UInt64(record.attributes.count))
        for attribute in record.attributes {
            string(attribute.key)
            string(attribute.value)
        }
        integer(UInt64(record.resource.attributes.count))
        for attribute in record.resource.attributes {
            string(attribute.key)
            string(attribute.value)
        }
        return hash
    }
}

/// Where the previous page ended: the order key of its last record and how many records with
/// exactly that key it already returned (identical records share a key). Serialized as an
/// opaque token: `1.<d|a>.<timestamp>.<fingerprint hex>.<count>`.
public struct Cursor: Sendable, Hashable, CustomStringConvertible {
    public var order: ResultOrder
    public var key: OrderKey
    public var returnedAtKey: Int

    public init(order: ResultOrder, key: OrderKey, returnedAtKey: Int) {
        self.order = order
        self.key = key
        self.returnedAtKey = returnedAtKey
    }

    public var description: String {
        "1.\(order == .newestFirst ? "d" : "a").\(key.timestamp).\(String(key.fingerprint, radix: 16)).\(returnedAtKey)"
    }

    public init(parsing text: String) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "1", parts[1] == "d" || parts[1] == "a",
            let timestamp = Int64(parts[2]), let fingerprint = UInt64(parts[3], radix: 16),
            let count = Int(parts[4]), count >= 1
        else {
            throw QueryError(.badCursor, "the cursor '\(text)' is not one this server issued; start again without a cursor")
        }
        self.init(order: parts[1] == "d" ? .newestFirst : .oldestFirst, key: OrderKey(timestamp: timestamp, fingerprint: fingerprint), returnedAtKey: count)
    }

    /// The cursor after `page` (sorted in `order`), continuing from `previous`.
    static func after(_ page: [(key: OrderKey, record: LogRecord)], order: ResultOrder, previous: Cursor?) -> Cursor? {
        guard let last = page.last?.key else { return nil }
        var count = page.reduce(0) { $0 + ($1.key == last ? 1 : 0) }
        if let previous, previous.key == last { count += previous.returnedAtKey }
        return Cursor(order: order, key: last, returnedAtKey: count)
    }
}

/// The best `limit` records seen so far in `order`: memory stays bounded by `limit` however
/// many records match. A binary heap whose root is the worst kept record.
struct TopRecords {
    let limit: Int
    let order: ResultOrder
    private(set) var heap: [(key: OrderKey, record: LogRecord)] = []

    init(limit: Int, order: ResultOrder) {
        self.limit = limit
        self.order = order
        heap.reserveCapacity(min(limit, 4096))
    }

    var isFull: Bool { heap.count >= limit }
    /// The worst record kept (the first to go), when full.
    var worst: OrderKey? { isFull ? heap.first?.key : nil }

    /// Whether a record with this timestamp could still enter (cheap test before building it).
    func couldAccept(timestamp: Int64) -> Bool {
        guard let worst else { return limit > 0 }
        return order == .newestFirst ? timestamp >= worst.timestamp : timestamp <= worst.timestamp
    }

    /// `a` is worse than `b` (later in the order): the heap keeps the worst at the root.
    private func worse(_ a: OrderKey, _ b: OrderKey) -> Bool { b.precedes(a, in: order) }

    mutating func offer(_ key: OrderKey, _ record: LogRecord) {
        guard limit > 0 else { return }
        if heap.count < limit {
            heap.append((key, record))
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard worse(heap[i].key, heap[parent].key) else { break }
                heap.swapAt(i, parent)
                i = parent
            }
            return
        }
        guard worse(heap[0].key, key) else { return }
        heap[0] = (key, record)
        var i = 0
        while true {
            let left = 2 * i + 1
            let right = left + 1
            var worst = i
            if left < heap.count && worse(heap[left].key, heap[worst].key) { worst = left }
            if right < heap.count && worse(heap[right].key, heap[worst].key) { worst = right }
            if worst == i { break }
            heap.swapAt(i, worst)
            i = worst
        }
    }

    /// The kept records, best first.
    func sorted() -> [(key: OrderKey, record: LogRecord)] {
        heap.sorted { $0.key.precedes($1.key, in: order) }
    }
}
