import TLSRecord
import TLSHandshake
import X509

/// The twelve per-socket options of NSS's `set_ssl_option` / `get_ssl_option`.
///
/// `documentedDefault` is the page's default; `defaultValue` is ours. They
/// differ only where the page's default would enable a retired protocol:
/// SSLv2 (RFC 6176), SSLv3 (RFC 7568) and the SSLv2-compatible hello (RFC 6176)
/// are off and cannot be turned on.
public enum SSLOption: String, Sendable, CaseIterable {
    /// `SSL_SECURITY` (default on): off means the socket is plain TCP.
    case security
    /// `SSL_REQUEST_CERTIFICATE` (default off): a server asks the client for a certificate.
    case requestCertificate
    /// `SSL_REQUIRE_CERTIFICATE` (default `SSL_REQUIRE_FIRST_HANDSHAKE`): a server
    /// refuses clients without a certificate; only effective with `requestCertificate`.
    case requireCertificate
    /// `SSL_HANDSHAKE_AS_CLIENT` (default off): `accept` makes a socket that handshakes as a client.
    case handshakeAsClient
    /// `SSL_HANDSHAKE_AS_SERVER` (default off): `connect` makes the socket handshake as a server.
    case handshakeAsServer
    /// `SSL_ENABLE_FDX` (default off): one thread may read while another writes.
    /// Our sockets are always safe for that; the option is kept and reported.
    case enableFDX
    /// `SSL_ENABLE_SSL3`: SSL 3.0, retired by RFC 7568. Off; turning it on is an error.
    case enableSSL3
    /// `SSL_ENABLE_SSL2`: SSL 2.0, prohibited by RFC 6176. Off; turning it on is an error.
    case enableSSL2
    /// `SSL_ENABLE_TLS` (default on): TLS (here 1.2 and 1.3). Off leaves no protocol enabled.
    case enableTLS
    /// `SSL_V2_COMPATIBLE_HELLO`: SSLv2-format ClientHellos (RFC 6176 forbids sending
    /// them). Off; turning it off also turns `enableSSL2` off.
    case v2CompatibleHello
    /// `SSL_NO_CACHE` (default off): never resume a session and never let one be resumed.
    case noCache
    /// `SSL_ROLLBACK_DETECTION` (default on): the SSL 3.0 / TLS 1.0 version check
    /// in RSA key transport. We have no RSA key transport; the RFC 8446 downgrade
    /// sentinels are always checked. The value is kept and reported.
    case rollbackDetection

    /// The NSS constant's name ("SSL_SECURITY").
    public var nssName: String {
        switch self {
        case .security: return "SSL_SECURITY"
        case .requestCertificate: return "SSL_REQUEST_CERTIFICATE"
        case .requireCertificate: return "SSL_REQUIRE_CERTIFICATE"
        case .handshakeAsClient: return "SSL_HANDSHAKE_AS_CLIENT"
        case .handshakeAsServer: return "SSL_HANDSHAKE_AS_SERVER"
        case .enableFDX: return "SSL_ENABLE_FDX"
        case .enableSSL3: return "SSL_ENABLE_SSL3"
        case .enableSSL2: return "SSL_ENABLE_SSL2"
        case .enableTLS: return "SSL_ENABLE_TLS"
        case .v2CompatibleHello: return "SSL_V2_COMPATIBLE_HELLO"
        case .noCache: return "SSL_NO_CACHE"
        case .rollbackDetection: return "SSL_ROLLBACK_DETECTION"
        }
    }

    /// The default the NSS page documents, as `get_ssl_option` returns it
    /// (1 = on, 0 = off; `SSL_REQUIRE_CERTIFICATE` is `SSL_REQUIRE_FIRST_HANDSHAKE` = 2).
    public var documentedDefault: Int {
        switch self {
        case .security, .enableSSL3, .enableSSL2, .enableTLS, .v2CompatibleHello, .rollbackDetection: return 1
        case .requireCertificate: return RequireCertificate.firstHandshake.rawValue
        case .requestCertificate, .handshakeAsClient, .handshakeAsServer, .enableFDX, .noCache: return 0
        }
    }

    /// Our default, as `getOptionValue` returns it. Equal to `documentedDefault`
    /// except for the three retired-protocol options, which are 0.
    public var defaultValue: Int {
        switch self {
        case .enableSSL3, .enableSSL2, .v2CompatibleHello: return 0
        default: return documentedDefault
        }
    }

    /// The RFC that forbids turning this option on, if any.
    public var retiredBy: Int? {
        switch self {
        case .enableSSL2, .v2CompatibleHello: return 6176
        case .enableSSL3: return 7568
        default: return nil
        }
    }
}

/// Values of `SSL_REQUIRE_CERTIFICATE` (NSS's `SSL_REQUIRE_*`).
public enum RequireCertificate: Int, Sendable, CaseIterable {
    /// `SSL_REQUIRE_NEVER`: ask, but accept clients without a certificate.
    case never = 0
    /// `SSL_REQUIRE_ALWAYS`: refuse clients without a certificate, in every handshake.
    case always = 1
    /// `SSL_REQUIRE_FIRST_HANDSHAKE`: refuse them in the first handshake only;
    /// renegotiations still ask for a certificate but accept its absence.
    case firstHandshake = 2
    /// `SSL_REQUIRE_NO_ERROR`: ask for one; a missing or unverifiable certificate
    /// does not fail the handshake (the application decides afterwards).
    case noError = 3
}

/// Key-exchange types of `config_secure_server(cert, key, kea)` (NSS `ssl_kea_*`).
public enum KeyExchangeAlgorithm: String, Sendable, CaseIterable {
    /// `ssl_kea_null`: not a key exchange; refused.
    case null
    /// `ssl_kea_rsa`: an RSA certificate (used with ECDHE_RSA and TLS 1.3 RSA-PSS signatures).
    case rsa
    /// `ssl_kea_dh`: static or finite-field DH; not supported.
    case dh
    /// `ssl_kea_fortezza`: not supported.
    case fortezza
    /// `ssl_kea_ecdh`: an ECDSA or Ed25519 certificate (used with ECDHE_ECDSA and TLS 1.3).
    case ecdh
}

/// `get_security_status`'s first value (NSS `SSL_SECURITY_STATUS_*`).
public enum SecurityLevel: Int, Sendable {
    /// `SSL_SECURITY_STATUS_OFF`: no TLS on this socket (yet).
    case off = 0
    /// `SSL_SECURITY_STATUS_ON_HIGH`: TLS with a key of 128 bits or more (always, here).
    case high = 1
    /// `SSL_SECURITY_STATUS_ON_LOW`: weak keys; never the case with TLS 1.2/1.3 AEAD suites.
    case low = 2
}

/// NSS's `get_security_status()` tuple: (on, cipher, key_size, secret_key_size, issuer, subject).
public struct SecurityStatus: Equatable, Sendable {
    /// Whether TLS is on, and how strong.
    public let on: SecurityLevel
    /// The bulk cipher ("AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305"), or "" when off.
    public let cipher: String
    /// The session key size in bits.
    public let keySize: Int
    /// The secret part of it in bits (equal to `keySize`: no export ciphers).
    public let secretKeySize: Int
    /// The peer certificate's issuer as an RFC 4514 string, or "no certificate".
    public let issuer: String
    /// The peer certificate's subject as an RFC 4514 string, or "no certificate".
    public let subject: String
    /// The negotiated protocol version (an addition to NSS's tuple).
    public let version: TLSProtocolVersion?
    /// The negotiated cipher suite (an addition to NSS's tuple).
    public let cipherSuite: CipherSuite?

    /// The status of a socket with no TLS.
    public static let off = SecurityStatus(on: .off, cipher: "", keySize: 0, secretKeySize: 0,
                                           issuer: "no certificate", subject: "no certificate", version: nil, cipherSuite: nil)
}

extension CipherSuite {
    /// The bulk cipher's name as `get_security_status` reports it.
    public var bulkCipherName: String {
        switch aead {
        case .aes128GCM: return "AES-128-GCM"
        case .aes256GCM: return "AES-256-GCM"
        case .chacha20Poly1305: return "CHACHA20-POLY1305"
        }
    }

    /// The bulk cipher's key size in bits.
    public var keyBits: Int { aead == .aes128GCM ? 128 : 256 }
}

/// Cipher-suite numbers under their NSS / IANA constant names, for
/// `setCipherPref` / `getCipherPref`. The first nine are implemented; the rest
/// are here so seed code ports, and enabling them is an error.
public enum SSLCipherSuites {
    /// TLS 1.3 AES-128-GCM-SHA256.
    public static let TLS_AES_128_GCM_SHA256: UInt16 = 0x1301
    /// TLS 1.3 AES-256-GCM-SHA384.
    public static let TLS_AES_256_GCM_SHA384: UInt16 = 0x1302
    /// TLS 1.3 ChaCha20-Poly1305-SHA256.
    public static let TLS_CHACHA20_POLY1305_SHA256: UInt16 = 0x1303
    /// TLS 1.2 ECDHE-ECDSA AES-128-GCM.
    public static let TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: UInt16 = 0xc02b
    /// TLS 1.2 ECDHE-ECDSA AES-256-GCM.
    public static let TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: UInt16 = 0xc02c
    /// TLS 1.2 ECDHE-RSA AES-128-GCM.
    public static let TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: UInt16 = 0xc02f
    /// TLS 1.2 ECDHE-RSA AES-256-GCM.
    public static let TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: UInt16 = 0xc030
    /// TLS 1.2 ECDHE-RSA ChaCha20-Poly1305.
    public static let TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: UInt16 = 0xcca8
    /// TLS 1.2 ECDHE-ECDSA ChaCha20-Poly1305.
    public static let TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: UInt16 = 0xcca9
    /// Not implemented (no encryption): the page's example constant.
    public static let SSL_RSA_WITH_NULL_MD5: UInt16 = 0x0001
    /// Not implemented (RC4: RFC 7465).
    public static let SSL_RSA_WITH_RC4_128_MD5: UInt16 = 0x0004
    /// Not implemented (RC4: RFC 7465).
    public static let SSL_RSA_WITH_RC4_128_SHA: UInt16 = 0x0005
    /// Not implemented (3DES, RSA key transport).
    public static let SSL_RSA_WITH_3DES_EDE_CBC_SHA: UInt16 = 0x000a
    /// Not implemented (RSA key transport, CBC).
    public static let TLS_RSA_WITH_AES_128_CBC_SHA: UInt16 = 0x002f
    /// Not implemented (RSA key transport, CBC).
    public static let TLS_RSA_WITH_AES_256_CBC_SHA: UInt16 = 0x0035
    /// Not implemented (CBC).
    public static let TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: UInt16 = 0xc013
}
