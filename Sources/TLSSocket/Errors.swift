import TLSRecord
import TLSHandshake
import X509

/// An operation did not finish before its timeout expired: NSS's
/// `PR_IO_TIMEOUT_ERROR`, Python's `socket.timeout`.
///
/// It is its own type, distinct from every other error this module throws, so
/// `catch is TimeoutError` never catches anything else. Nothing is lost when it
/// is thrown: bytes not yet sent stay queued and are sent first by the next
/// operation, and received bytes stay buffered, so the operation may be retried.
public struct TimeoutError: Error, Equatable, CustomStringConvertible {
    /// What timed out ("recv", "accept", "handshake", ...).
    public let operation: String
    /// The limit that expired.
    public let timeout: Duration

    /// Makes the error for `operation` that ran out of `timeout`.
    public init(operation: String, timeout: Duration) {
        self.operation = operation
        self.timeout = timeout
    }

    /// "recv timed out after 0.5 seconds".
    public var description: String { "\(operation) timed out after \(timeout)" }
}

/// Everything else that can go wrong in the NSS- and Python-style APIs: the
/// codes NSS reports through `NSPRError` and Python through `ssl.SSLError` and
/// its subclasses. Operating-system errors keep their own type, `SocketError`
/// (errno and text). The pyOpenSSL-style `SSL.Connection` maps these onto
/// pyOpenSSL's classes (`SSL.Error`, `SSL.ZeroReturnError`, ...).
public struct SSLError: Error, Equatable, CustomStringConvertible {
    /// The kind of failure; stable, to switch on.
    public enum Code: String, Sendable, CaseIterable {
        /// SSLv2, SSLv3, TLS 1.0 or 1.1 was asked for: `retiredBy` names the RFC.
        case retiredProtocol = "retired_protocol"
        /// Every protocol version is disabled (e.g. `SSL_ENABLE_TLS` turned off).
        case noProtocolEnabled = "no_protocol_enabled"
        /// The handshake or the record layer failed; `alert` says how (sent or, with `fromPeer`, received).
        case handshakeFailed = "handshake_failed"
        /// The peer's certificate was refused; `certificateFailure` says why when known.
        case badCertificate = "bad_certificate"
        /// A value, option or call that is not valid here (`SEC_ERROR_INVALID_ARGS`).
        case invalidArgument = "invalid_argument"
        /// The socket is not connected, or has no TLS session yet.
        case notConnected = "not_connected"
        /// An imported socket does not know whether to act as client or server:
        /// `resetHandshake(asServer:)` was not called.
        case noHandshakeRole = "no_handshake_role"
        /// The socket was closed.
        case closed = "closed"
        /// Something this library does not do (TLS over UDP, static DH key exchange, ...).
        case unsupported = "unsupported"
        /// A non-blocking operation could not proceed (`PR_WOULD_BLOCK_ERROR`, `SSLWantReadError`).
        case wouldBlock = "would_block"
        /// The peer closed the connection without close_notify (`SSLEOFError`), reported
        /// only when ragged EOFs are not suppressed.
        case raggedEOF = "ragged_eof"
        /// A certificate, key or CA file could not be loaded, or the key does not match.
        case credentials = "credentials"
        /// A cipher list selects no cipher suite this library implements.
        case noCipherSelected = "no_cipher_selected"
        /// The session cache, tickets or resumption are needed and the engine does not provide them yet.
        case notAvailable = "not_available"
    }

    /// The kind of failure.
    public let code: Code
    /// What happened, in words.
    public let message: String
    /// The TLS alert sent (or received, when `fromPeer`), for protocol failures.
    public var alert: AlertDescription?
    /// True when the peer sent the alert.
    public var fromPeer: Bool = false
    /// For `retiredProtocol`: the RFC that retired the version (6176, 7568 or 8996).
    public var retiredBy: Int?
    /// For `badCertificate`: the X.509 check that failed.
    public var certificateFailure: CertificateFailureReason?

    /// Makes an error of `code` described by `message`.
    public init(_ code: Code, _ message: String, alert: AlertDescription? = nil, fromPeer: Bool = false,
                retiredBy: Int? = nil, certificateFailure: CertificateFailureReason? = nil) {
        self.code = code
        self.message = message
        self.alert = alert
        self.fromPeer = fromPeer
        self.retiredBy = retiredBy
        self.certificateFailure = certificateFailure
    }

    /// "handshake_failed: peer sent handshake_failure ...".
    public var description: String { "\(code.rawValue): \(message)" }

    /// The error for a handshake or record-layer failure reported by the engine.
    static func from(_ e: HandshakeError, certificateFailure: CertificateFailureReason? = nil) -> SSLError {
        // Our own refusal of the peer's certificate is badCertificate; everything
        // else (including the peer refusing ours) is a handshake failure.
        let certificateAlerts: Set<AlertDescription> = [.badCertificate, .unsupportedCertificate, .certificateRevoked,
                                                        .certificateExpired, .certificateUnknown, .unknownCA]
        let code: Code = !e.fromPeer && certificateAlerts.contains(e.alert) ? .badCertificate : .handshakeFailed
        return SSLError(code, e.description, alert: e.alert, fromPeer: e.fromPeer, certificateFailure: certificateFailure)
    }
}

/// The protocol versions the seeds name, and the RFCs that retired the old ones.
///
/// Only TLS 1.2 and TLS 1.3 are ever negotiated. The others exist so that code
/// written against the seeds compiles; asking for them is an `SSLError` with
/// code `.retiredProtocol` naming the RFC.
public enum TLSProtocolVersion: String, Sendable, CaseIterable, Comparable {
    /// SSL 2.0: prohibited by RFC 6176.
    case ssl2 = "SSLv2"
    /// SSL 3.0: deprecated by RFC 7568.
    case ssl3 = "SSLv3"
    /// TLS 1.0: deprecated by RFC 8996.
    case tls10 = "TLSv1"
    /// TLS 1.1: deprecated by RFC 8996.
    case tls11 = "TLSv1.1"
    /// TLS 1.2 (RFC 5246).
    case tls12 = "TLSv1.2"
    /// TLS 1.3 (RFC 8446).
    case tls13 = "TLSv1.3"

    /// The RFC that retired this version, or nil for TLS 1.2 and 1.3.
    public var retiredBy: Int? {
        switch self {
        case .ssl2: return 6176
        case .ssl3: return 7568
        case .tls10, .tls11: return 8996
        case .tls12, .tls13: return nil
        }
    }

    /// The engine's version value (nil for SSLv2, which has no TLS version number).
    public var wireVersion: ProtocolVersion? {
        switch self {
        case .ssl2: return nil
        case .ssl3: return .ssl3
        case .tls10: return .tls10
        case .tls11: return .tls11
        case .tls12: return .tls12
        case .tls13: return .tls13
        }
    }

    /// The seeds' name for it ("TLSv1.2").
    public var name: String { rawValue }

    /// The retirement error for this version, or nil when it may be used.
    public var retirementError: SSLError? {
        guard let rfc = retiredBy else { return nil }
        let what: String
        switch self {
        case .ssl2: what = "SSL 2.0 is prohibited by RFC 6176"
        case .ssl3: what = "SSL 3.0 is deprecated by RFC 7568"
        default: what = "\(self == .tls10 ? "TLS 1.0" : "TLS 1.1") is deprecated by RFC 8996"
        }
        return SSLError(.retiredProtocol, "\(what); only TLS 1.2 and TLS 1.3 are supported", retiredBy: rfc)
    }

    /// Throws the retirement error for a retired version.
    public func requireSupported() throws {
        if let e = retirementError { throw e }
    }

    private var order: Int { Self.allCases.firstIndex(of: self)! }
    /// Older versions sort first.
    public static func < (a: TLSProtocolVersion, b: TLSProtocolVersion) -> Bool { a.order < b.order }

    /// The version for an engine value (nil for values we do not know).
    init?(_ v: ProtocolVersion) {
        switch v {
        case .ssl3: self = .ssl3
        case .tls10: self = .tls10
        case .tls11: self = .tls11
        case .tls12: self = .tls12
        case .tls13: self = .tls13
        default: return nil
        }
    }
}
