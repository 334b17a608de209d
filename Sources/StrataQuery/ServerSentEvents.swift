/// An incremental `text/event-stream` parser (the subset the tail API uses: `id`, `event`,
/// `data`, comments): feed it bytes as they arrive, get whole events back.
public struct ServerSentEvents: Sendable {
    public struct Event: Sendable, Equatable {
        public var id: String?
        public var type: String?
        public var data: String
    }

    private var pending: [UInt8] = []
    private var id: String?
    private var type: String?
    private var data: [String] = []

    public init() {}

    public mutating func feed(_ bytes: [UInt8]) -> [Event] {
        pending += bytes
        var events: [Event] = []
        var start = 0
        while let newline = pending[start...].firstIndex(of: 0x0A) {
            var line = pending[start..<newline]
            if line.last == 0x0D { line = line.dropLast() }
            start = newline + 1
            if line.isEmpty {
                if !data.isEmpty || type != nil {
                    events.append(Event(id: id, type: type, data: data.joined(separator: "\n")))
                }
                id = nil
                type = nil
                data = []
                continue
            }
            if line.first == UInt8(ascii: ":") { continue }
            let text = String(decoding: line, as: UTF8.self)
            let field: Substring
            var value: Substring
            if let colon = text.firstIndex(of: ":") {
                field = text[..<colon]
                value = text[text.index(after: colon)...]
                if value.first == " " { value = value.dropFirst() }
            } else {
                field = Substring(text)
                value = ""
            }
            switch field {
            case "id": id = String(value)
            case "event": type = String(value)
            case "data": data.append(String(value))
            default: break
            }
        }
        pending.removeFirst(start)
        return events
    }
}
