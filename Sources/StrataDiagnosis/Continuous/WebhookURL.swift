#if canImport(Glibc)
import Glibc
#endif

/// A webhook URL as checked at start: http or https, a host, no blank or control character,
/// and not an address where the collector would be talking to its own machine's or cloud's
/// infrastructure instead of a receiver. Notifications carry incident details and go out
/// signed; a URL pointing at a link-local address (169.254.0.0/16, fe80::/10: where cloud
/// metadata services answer, with the instance's credentials) would let whoever writes the
/// configuration — or a receiver redirecting — read or poke those services. Such addresses are
/// refused unless the webhook says `allow_link_local: true`.
public struct WebhookURL: Sendable, Equatable {
    public enum Scheme: String, Sendable { case http, https }

    public var scheme: Scheme
    /// As written, IPv6 literals without their brackets; lowercased.
    public var host: String
    public var port: Int

    /// What a host is, judged by its shape alone (no name is resolved here).
    public enum HostClass: Sendable, Equatable {
        /// A name, or an address outside the classes below.
        case ordinary
        /// 169.254.0.0/16, fe80::/10, or an IPv6 address carrying a 169.254.x.x address
        /// (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96).
        case linkLocal
        /// A metadata service address outside the link-local ranges: fd00:ec2::254, the IPv6
        /// instance metadata address of EC2. It has no class of its own (it lies in the unique
        /// local range fc00::/7, which in-cluster receivers use too), so it is the one address
        /// named here.
        case metadataService
    }

    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `text`; the problem says what is wrong and what to write instead.
    public static func parse(_ text: String) throws(Problem) -> WebhookURL {
        if let bad = text.unicodeScalars.first(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            let what = bad == " " ? "a space" : "a control character (U+\(String(bad.value, radix: 16, uppercase: true)))"
            throw Problem(description: "url '\(text)' contains \(what); percent-encode it (%20 for a space) or remove it")
        }
        let lower = text.lowercased()
        let scheme: Scheme
        let rest: Substring
        if lower.hasPrefix("https://") {
            scheme = .https
            rest = lower.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            scheme = .http
            rest = lower.dropFirst(7)
        } else {
            throw Problem(description: "url '\(text)' must start with http:// or https://")
        }
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw Problem(description: "url '\(text)' opens an IPv6 address with '[' but does not close it with ']'")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Problem(description: "url '\(text)' has '\(after)' after its IPv6 address; expected :PORT") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else {
            throw Problem(description: "url '\(text)' has no host; write the receiver's address, e.g. https://alerts.example/hooks/strata")
        }
        var port = scheme == .https ? 443 : 80
        if let portText, !portText.isEmpty {
            guard portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), let number = Int(portText), (1...65535).contains(number) else {
                throw Problem(description: "url '\(text)' has port '\(portText)'; expected a number from 1 to 65535")
            }
            port = number
        }
        return WebhookURL(scheme: scheme, host: String(host), port: port)
    }

    public var hostClass: HostClass { Self.classify(host: host) }

    /// Whether two URLs reach the same receiver (scheme, host and port): the only redirects a
    /// notification follows.
    public func isSameOrigin(as other: WebhookURL) -> Bool {
        scheme == other.scheme && host == other.host && port == other.port
    }

    public static func classify(host: String) -> HostClass {
        // An IPv6 zone (`fe80::1%eth0`, `%25` in a URL) names an interface, not an address.
        let address = host.split(separator: "%", maxSplits: 1).first.map(String.init) ?? host
        var v6 = in6_addr()
        if address.contains(":"), inet_pton(AF_INET6, address, &v6) == 1 {
            return classify(ipv6: withUnsafeBytes(of: v6) { Array($0) })
        }
        // inet_aton reads every form a resolver accepts for IPv4 — 169.254.169.254, but also
        // 2852039166, 0xa9fea9fe, 0251.0376.0251.0376 and 169.254.43518 — so none slips past.
        var v4 = in_addr()
        if inet_aton(address, &v4) != 0 {
            let value = UInt32(bigEndian: v4.s_addr)
            return isLinkLocal(ipv4: value) ? .linkLocal : .ordinary
        }
        return .ordinary
    }

    static func isLinkLocal(ipv4: UInt32) -> Bool { ipv4 >> 16 == 0xA9FE }

    static func classify(ipv6 bytes: [UInt8]) -> HostClass {
        guard bytes.count == 16 else { return .ordinary }
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return .linkLocal }
        let embedded = UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15])
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        let compatible = bytes[0..<12].allSatisfy { $0 == 0 }
        let nat64 = bytes[0..<12].elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0])
        if mapped || compatible || nat64, isLinkLocal(ipv4: embedded) { return .linkLocal }
        let ec2Metadata: [UInt8] = [0xFD, 0x00, 0x0E, 0xC2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54]
        if bytes == ec2Metadata { return .metadataService }
        return .ordinary
    }
}
