/// Who sent a request, as far as the collector knows: the credential it presented and the peer
/// address. Front ends fill it in; the pipeline and the routes read it (roles and scopes will
/// hang off the credential).
public struct Caller: Sendable, Equatable, CustomStringConvertible {
    public enum Credential: Sendable, Equatable {
        /// No token is configured (loopback only), or none was checked.
        case anonymous
        /// The bearer token at this position of the configured tokens (never the secret itself).
        case bearerToken(index: Int)
    }

    public var credential: Credential
    /// The peer's IP address, when the transport knows it.
    public var peer: String?

    public init(credential: Credential = .anonymous, peer: String? = nil) {
        self.credential = credential
        self.peer = peer
    }

    /// A name for logs: "token 1 from 10.0.0.7", "anonymous".
    public var description: String {
        let name: String
        switch credential {
        case .anonymous: name = "anonymous"
        case .bearerToken(let index): name = "token \(index + 1)"
        }
        return peer.map { "\(name) from \($0)" } ?? name
    }
}
