import Foundation
import TLSCrypto
import TLSRecord

/// A certificate chain (leaf first, DER) with the private key of its leaf.
public struct CertifiedKey {
    public var chain: [[UInt8]]
    /// The leaf's private key; nil when `signer` holds it elsewhere (a hardware token,
    /// a replayed trace whose private keys were never published).
    public let privateKey: PrivateKey?
    /// The leaf's public key: signature schemes are chosen to fit it.
    public let publicKey: PublicKey
    /// DNS names (and IP literals) the leaf is valid for, used to pick a
    /// certificate by SNI. Filled from subjectAltName by whoever loads it.
    public var names: [String]
    /// Replaces the private-key operation (hardware keys, or trace replays
    /// whose randomised signatures must be reproduced exactly).
    public var signer: ((SignatureScheme, [UInt8]) throws -> [UInt8])?
    /// A DER OCSP response for the leaf, stapled when the client asks (RFC 6066 8, RFC 8446 4.4.2.1).
    public var ocspResponse: [UInt8]?

    public init(chain: [[UInt8]], privateKey: PrivateKey, names: [String] = [],
                signer: ((SignatureScheme, [UInt8]) throws -> [UInt8])? = nil) {
        self.chain = chain
        self.privateKey = privateKey
        self.publicKey = privateKey.publicKey
        self.names = names
        self.signer = signer
    }

    /// A key held outside this process: every signature comes from `signer`, which is
    /// given the scheme and the exact bytes to sign.
    public init(chain: [[UInt8]], publicKey: PublicKey, names: [String] = [],
                signer: @escaping (SignatureScheme, [UInt8]) throws -> [UInt8]) {
        self.chain = chain
        self.privateKey = nil
        self.publicKey = publicKey
        self.names = names
        self.signer = signer
    }

    func sign(_ scheme: SignatureScheme, _ content: [UInt8]) throws -> [UInt8] {
        if let signer { return try signer(scheme, content) }
        guard let privateKey else {
            // Only reachable if a caller cleared `signer` on a key built without a private key.
            throw HandshakeError(.internalError, "certificate has neither a private key nor a signer")
        }
        return try privateKey.sign(message: content, algorithm: scheme.algorithm)
    }
}

/// Which end of the connection the peer is.
public enum PeerRole: Sendable { case server, client }

/// What a certificate check learned about the peer.
public struct PeerIdentity {
    public var publicKey: PublicKey
    public var chain: [[UInt8]]
    public var subject: String
    public var issuer: String
    /// True when the chain and name were verified against trust anchors.
    public var verified: Bool
    /// The verified path as DER, leaf first and trust anchor last (empty when not verified
    /// or when the verifier does not report it). The stapled OCSP check takes the issuer here.
    public var verifiedPath: [[UInt8]] = []
    /// The verifier's verdict in words ("ok", or why verification was skipped).
    public var verdict: String

    public init(publicKey: PublicKey, chain: [[UInt8]], subject: String = "", issuer: String = "",
                verified: Bool, verdict: String) {
        self.publicKey = publicKey; self.chain = chain; self.subject = subject; self.issuer = issuer
        self.verified = verified; self.verdict = verdict
    }
}

/// Checks a peer's certificate chain. The X.509 module provides the real one;
/// replays and tests may provide their own. Errors must be `HandshakeError`s
/// naming the alert (bad_certificate, unknown_ca, certificate_expired, ...).
public protocol PeerCertificateVerifier {
    func verify(chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity
}

public enum ClientAuthentication: Sendable { case none, request, require }

/// What a client does with a stapled OCSP response (RFC 6066 8, RFC 6960).
public enum StapledOCSPPolicy: Sendable {
    /// Hand the response over as received; no check.
    case handOver
    /// When the chain was verified, check a stapled answer: `revoked` ends the handshake
    /// with certificate_revoked, a forged, expired or mismatched response with
    /// bad_certificate_status_response; no response, an error status or `unknown` let it go on.
    case verifyIfPresent
    /// Must-staple: as `verifyIfPresent`, and no usable `good` answer is
    /// bad_certificate_status_response.
    case require
}

/// The verdict on a stapled OCSP response, when the client asked for one.
public enum StapledOCSPStatus: Equatable, Sendable {
    /// Not checked, and why (the policy hands responses over, or the chain was not verified).
    case notChecked(String)
    /// Nothing usable was stapled (no response, or an unsigned error status such as tryLater).
    case absent
    /// The responder vouches for the certificate, from `thisUpdate` until `nextUpdate` (Unix seconds).
    case good(thisUpdate: Int64, nextUpdate: Int64?)
    /// The responder does not know the certificate.
    case unknown
}

/// How a TLS 1.3 PSK (a resumption ticket) is used (RFC 8446 4.2.9).
public enum PSKKeyExchangeMode: UInt8, Sendable, CaseIterable {
    /// psk_ke: the PSK alone; a resumed connection has no forward secrecy of its own.
    case psk = 0
    /// psk_dhe_ke: the PSK plus a fresh (EC)DHE exchange.
    case pskDHE = 1
}

/// Record padding for TLS 1.3 (RFC 8446 5.4), applied when sending.
public typealias RecordPadding = PaddingPolicy

/// Limits that keep a hostile peer from making us do unbounded work. Each has
/// a safe default and, when exceeded, a specific error (alert and reason).
public struct HandshakeLimits {
    /// Largest handshake message body: illegal_parameter ("exceeds the limit").
    public var maxHandshakeMessageSize = 65_536
    /// Certificates in the peer's chain: decode_error; total DER bytes: bad_certificate.
    public var maxCertificateChainLength = 10
    public var maxCertificateChainBytes = 256 * 1024
    /// KeyUpdates received with no application data between them: unexpected_message.
    public var maxKeyUpdatesWithoutData = 32
    /// Warning alerts in a row (TLS 1.2 warnings, user_canceled): unexpected_message.
    public var maxWarningAlerts = 4
    /// Bytes of handshake records received before the handshake (or a
    /// renegotiation) completes: unexpected_message ("before the handshake completed").
    public var maxBufferedHandshakeBytes = 256 * 1024
    /// Extensions in one ClientHello, ServerHello or EncryptedExtensions
    /// (the decoder's own ceiling is 128): decode_error.
    public var maxExtensions = 64
    /// Protocol names in a peer's ALPN list: decode_error.
    public var maxALPNProtocols = 64
    /// Empty records (and TLS 1.3 padding-only records) in a row: unexpected_message.
    public var maxEmptyRecordsInARow = 32
    public init() {}
}

/// Everything that shapes a connection's handshake.
public struct TLSConfiguration {
    public var minVersion: ProtocolVersion = .tls12
    public var maxVersion: ProtocolVersion = .tls13
    /// In preference order. The server honours its own order by default.
    public var cipherSuites: [CipherSuite] = [
        .tlsAES128GCMSHA256, .tlsAES256GCMSHA384, .tlsCHACHA20POLY1305SHA256,
        .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256,
        .ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384,
        .ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheRSAWithCHACHA20POLY1305SHA256,
    ]
    public var groups: [NamedGroup] = [.x25519, .secp256r1, .secp384r1]
    /// Client: the groups to send key shares for in the first ClientHello.
    public var keyShareGroups: [NamedGroup] = [.x25519]
    public var signatureSchemes: [SignatureScheme] = SignatureScheme.defaultSchemes
    public var alpnProtocols: [String] = []
    public var serverPreference = true
    /// Server: when the client sent no share for our most preferred common
    /// group, ask for it with a HelloRetryRequest instead of using a share we
    /// like less. (Also the way to force a HelloRetryRequest in tests.)
    public var insistOnPreferredGroup = false

    /// Client: the name sent in SNI and checked against the server's certificate.
    public var serverName: String?
    /// Client: verify the server's certificate (on by default).
    public var verifyPeer = true
    public var peerVerifier: PeerCertificateVerifier?

    /// Server: its certificates (several key types may be given; one is chosen
    /// per connection). Client: the certificate for client authentication.
    public var certificates: [CertifiedKey] = []
    /// Server: choose a certificate from the SNI name (nil = the default choice).
    public var certificateSelector: ((String?) -> CertifiedKey?)?
    /// Client: asked for a certificate when the server requests one, with the
    /// CA names the server sent (DER). Nil answer = no certificate.
    public var clientCertificateProvider: (([[UInt8]]) -> CertifiedKey?)?
    public var clientAuthentication: ClientAuthentication = .none
    /// Server: DER distinguished names to put in certificate_authorities.
    public var certificateAuthorities: [[UInt8]] = []

    /// Client: ask the server to staple an OCSP response (status_request, RFC 6066 8).
    /// The response is handed over in `NegotiatedParameters.ocspResponse` and checked
    /// as `stapledOCSPPolicy` says; the verdict is `NegotiatedParameters.ocspStatus`.
    public var requestOCSPStapling = false
    public var stapledOCSPPolicy: StapledOCSPPolicy = .verifyIfPresent

    /// record_size_limit (RFC 8449) to advertise: the largest record we accept
    /// (64...16385). Nil: the client does not send it; a server still answers
    /// a client that does, with 16385 (TLS 1.3) or 16384 (TLS 1.2).
    public var recordSizeLimit: Int?

    /// Client: add TLS_FALLBACK_SCSV (RFC 7507) because this is a retry with a lower version.
    public var sendFallbackSCSV = false
    /// TLS 1.2: accept or start secure renegotiation (RFC 5746). Insecure renegotiation never happens.
    public var allowRenegotiation = true
    /// Server: client authentication in renegotiated handshakes (nil = as in the first),
    /// e.g. NSS's SSL_REQUIRE_FIRST_HANDSHAKE asks, but no longer requires, later on.
    public var renegotiationClientAuthentication: ClientAuthentication?
    public var maxRenegotiations = 4

    /// Client: send a session ID and change_cipher_spec (RFC 8446 D.4).
    public var middleboxCompatibility = true
    public var padding: PaddingPolicy = .none
    public var limits = HandshakeLimits()

    /// Milliseconds since the epoch. Injected so handshakes replay exactly.
    public var clock: () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// Server: the TLS 1.2 session-ID cache (nil = session IDs are not offered).
    public var serverSessionStore: ServerSessionStore?
    /// Server: seals tickets (TLS 1.3 NewSessionTicket, TLS 1.2 RFC 5077). Nil = no tickets.
    public var ticketProtector: TicketProtector?
    /// Client: where sessions are kept and looked up, under `sessionKey`
    /// (host:port, plus the NSS peer ID when one is set).
    public var clientSessionStore: ClientSessionStore?
    public var sessionKey: String?
    /// Client: resume exactly this session (e.g. read from a file), ahead of the store.
    public var resumeSession: StoredSession?
    /// NSS `SSL_NO_CACHE`: neither offer nor store sessions.
    public var sessionCacheDisabled = false
    /// TLS 1.3 PSK key exchange modes. Client: offered in this order. Server: the first
    /// one the client also offers is used; psk_dhe_ke needs a usable key share, so with
    /// `[.pskDHE, .psk]` a resuming hello without one resumes with psk_ke rather than
    /// getting a HelloRetryRequest (as OpenSSL's -allow_no_dhe_kex does).
    /// psk_ke (`.psk`) resumes without (EC)DHE, giving up forward secrecy for the resumed
    /// connection: add it only for peers that need it (OpenSSL's `-allow_no_dhe_kex`).
    public var pskKeyExchangeModes: [PSKKeyExchangeMode] = [.pskDHE]
    /// Client: early data to send in the first flight when the session allows it (TLS 1.3 0-RTT).
    public var earlyData: [UInt8] = []
    /// Server: refuse early data replays (single-use tickets); nil = never accept early data.
    public var antiReplay: EarlyDataAntiReplay?
    /// How far a client's ticket age may be from ours (milliseconds).
    public var ticketAgeTolerance: UInt64 = 10_000

    /// Server: how many NewSessionTickets to send after the handshake, their
    /// lifetime, and the function that seals a session into a ticket (nil = no tickets).
    public var sessionTicketCount = 2
    public var sessionTicketLifetime: UInt32 = 7200
    public var ticketSealer: ((TicketContent) -> [UInt8]?)?
    /// Server: max_early_data_size advertised in tickets (0 = no early data).
    public var maxEarlyDataSize: UInt32 = 0

    /// Opt-in key logging in the NSS SSLKEYLOGFILE format (label, client random,
    /// secret) for debugging with Wireshark. Never set by default.
    public var keyLog: ((String, [UInt8], [UInt8]) -> Void)?

    /// Server: make the HelloRetryRequest cookie (nil = no cookie). Given the
    /// hash of the first ClientHello.
    public var helloRetryCookie: (([UInt8]) -> [UInt8])?

    /// Test and replay hooks: replace the ClientHello extensions the client
    /// would send, add EncryptedExtensions the server would not send on its
    /// own, or replace a TLS 1.3 CertificateRequest's extensions. Never needed by applications.
    public var overrideClientHelloExtensions: ((_ ours: [Extension], _ secondHello: Bool) -> [Extension])?
    public var extraEncryptedExtensions: [Extension] = []
    public var overrideCertificateRequestExtensions: [Extension]?

    public init() {}

    /// Checks values that would not fit the wire format, so that encoding can never fail later.
    public func validate() throws {
        for p in alpnProtocols where p.utf8.isEmpty || p.utf8.count > 255 {
            throw HandshakeError(.internalError, "ALPN protocol names must be 1 to 255 bytes (\(p.utf8.count))")
        }
        guard alpnProtocols.reduce(0, { $0 + 1 + $1.utf8.count }) < 65536 else { throw HandshakeError(.internalError, "ALPN list too long") }
        if let n = serverName, n.utf8.count > 255 { throw HandshakeError(.internalError, "server name longer than 255 bytes") }
        guard !cipherSuites.isEmpty else { throw HandshakeError(.internalError, "no cipher suite enabled") }
        guard !groups.isEmpty else { throw HandshakeError(.internalError, "no group enabled") }
        guard minVersion <= maxVersion else { throw HandshakeError(.internalError, "minimum version above maximum version") }
        for c in certificates {
            guard !c.chain.isEmpty, c.chain.allSatisfy({ !$0.isEmpty && $0.count < 1 << 24 }) else {
                throw HandshakeError(.internalError, "certificate chain entries must be 1 byte to 16 MiB")
            }
            if let o = c.ocspResponse, o.isEmpty || o.count >= 1 << 24 { throw HandshakeError(.internalError, "OCSP response size") }
        }
        guard certificateAuthorities.allSatisfy({ !$0.isEmpty && $0.count < 65536 }) else {
            throw HandshakeError(.internalError, "certificate authority names must be 1 to 65535 bytes")
        }
        if let l = recordSizeLimit, l < 64 || l > 16385 { throw HandshakeError(.internalError, "record_size_limit must be 64...16385") }
        guard !pskKeyExchangeModes.isEmpty, Set(pskKeyExchangeModes).count == pskKeyExchangeModes.count else {
            throw HandshakeError(.internalError, "PSK key exchange modes must be non-empty, without repeats")
        }
    }

    var tls13Enabled: Bool { maxVersion.rawValue >= ProtocolVersion.tls13.rawValue && minVersion.rawValue <= ProtocolVersion.tls13.rawValue }
    var tls12Enabled: Bool { minVersion.rawValue <= ProtocolVersion.tls12.rawValue && maxVersion.rawValue >= ProtocolVersion.tls12.rawValue }
}

/// What a finished handshake agreed on.
public struct NegotiatedParameters {
    public var version: ProtocolVersion
    public var cipherSuite: CipherSuite
    public var group: NamedGroup?
    public var signatureScheme: SignatureScheme?
    public var alpn: String?
    public var serverName: String?
    public var peer: PeerIdentity?
    public var resumed: Bool
    public var usedHelloRetryRequest: Bool
    /// TLS 1.3 0-RTT: nil when none was offered, else whether the server took it.
    public var earlyDataAccepted: Bool? = nil
    /// TLS 1.2 session ID (empty when none).
    public var sessionID: [UInt8] = []
    /// The stapled OCSP response, when the client asked and the server sent one.
    public var ocspResponse: [UInt8]? = nil
    /// The client's verdict on it (nil when stapling was not requested or nothing was checked, as on resumption).
    public var ocspStatus: StapledOCSPStatus? = nil
}

/// What a server seals into a TLS 1.3 session ticket.
public struct TicketContent {
    public var suite: CipherSuite
    public var psk: [UInt8]
    public var ageAdd: UInt32
    public var lifetime: UInt32
    public var alpn: String?
    public var serverName: String?
    public var maxEarlyDataSize: UInt32
}
