import TLSRecord

/// A handshake failure: the alert that goes on the wire and a reason for people.
/// Received alerts come back as `peerAlert`.
public struct HandshakeError: Error, Equatable, CustomStringConvertible {
    public let alert: AlertDescription
    public let reason: String
    /// True when the peer sent the alert (we only report it).
    public let fromPeer: Bool

    public init(_ alert: AlertDescription, _ reason: String, fromPeer: Bool = false) {
        self.alert = alert
        self.reason = reason
        self.fromPeer = fromPeer
    }

    public var description: String {
        fromPeer ? "peer sent \(alert.name): \(reason)" : "\(alert.name): \(reason)"
    }

    static func decode(_ reason: String) -> HandshakeError { HandshakeError(.decodeError, reason) }
    static func illegal(_ reason: String) -> HandshakeError { HandshakeError(.illegalParameter, reason) }
    static func unexpected(_ reason: String) -> HandshakeError { HandshakeError(.unexpectedMessage, reason) }
}
