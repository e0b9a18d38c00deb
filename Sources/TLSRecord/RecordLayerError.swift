/// Every failure of the record layer, with the alert the caller must send.
public struct RecordLayerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Broad class of the failure, so callers (and fuzzers) can tell them apart
    /// without parsing `reason`.
    public enum Kind: String, Sendable {
        /// The peer broke a protocol rule (bad framing, bad type, bad length).
        case protocolViolation
        /// Record deprotection failed (`bad_record_mac`).
        case authenticationFailure
        /// A configured resource limit was exceeded (record size, handshake
        /// message size, empty records or warning alerts in a row, early data).
        case limitExceeded
        /// The first bytes look like an SSL 2.0 ClientHello (answer with
        /// `protocol_version`; RFC 6176).
        case sslv2ClientHello
        /// Our own state or the caller's use is wrong (sequence number
        /// exhausted, bad key length, library failure, invalid write).
        case localFailure
    }

    /// The alert to send to the peer.
    public let alert: AlertDescription
    /// Human-readable detail, for logs and tests; never sent.
    public let reason: String
    public let kind: Kind

    public init(_ alert: AlertDescription, _ reason: String, kind: Kind = .protocolViolation) {
        self.alert = alert
        self.reason = reason
        self.kind = kind
    }

    public init(alert: AlertDescription, reason: String, kind: Kind = .protocolViolation) {
        self.init(alert, reason, kind: kind)
    }

    public var description: String { "\(alert.name): \(reason)" }
}
