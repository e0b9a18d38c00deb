import TLSCrypto
import TLSRecord

/// TLS cipher suites we implement (both versions), by IANA code point.
public enum CipherSuite: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    // TLS 1.3 (RFC 8446 B.4)
    case tlsAES128GCMSHA256 = 0x1301
    case tlsAES256GCMSHA384 = 0x1302
    case tlsCHACHA20POLY1305SHA256 = 0x1303
    // TLS 1.2 ECDHE (RFC 5289, RFC 7905)
    case ecdheECDSAWithAES128GCMSHA256 = 0xc02b
    case ecdheECDSAWithAES256GCMSHA384 = 0xc02c
    case ecdheRSAWithAES128GCMSHA256 = 0xc02f
    case ecdheRSAWithAES256GCMSHA384 = 0xc030
    case ecdheRSAWithCHACHA20POLY1305SHA256 = 0xcca8
    case ecdheECDSAWithCHACHA20POLY1305SHA256 = 0xcca9

    public var isTLS13: Bool { rawValue >> 8 == 0x13 }

    public var hash: HashAlgorithm {
        switch self {
        case .tlsAES256GCMSHA384, .ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384: return .sha384
        default: return .sha256
        }
    }

    public var aead: AEADAlgorithm {
        switch self {
        case .tlsAES128GCMSHA256, .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256: return .aes128GCM
        case .tlsAES256GCMSHA384, .ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384: return .aes256GCM
        case .tlsCHACHA20POLY1305SHA256, .ecdheRSAWithCHACHA20POLY1305SHA256, .ecdheECDSAWithCHACHA20POLY1305SHA256: return .chacha20Poly1305
        }
    }

    /// The IANA (RFC) name.
    public var name: String {
        switch self {
        case .tlsAES128GCMSHA256: return "TLS_AES_128_GCM_SHA256"
        case .tlsAES256GCMSHA384: return "TLS_AES_256_GCM_SHA384"
        case .tlsCHACHA20POLY1305SHA256: return "TLS_CHACHA20_POLY1305_SHA256"
        case .ecdheECDSAWithAES128GCMSHA256: return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        case .ecdheECDSAWithAES256GCMSHA384: return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
        case .ecdheRSAWithAES128GCMSHA256: return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        case .ecdheRSAWithAES256GCMSHA384: return "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        case .ecdheRSAWithCHACHA20POLY1305SHA256: return "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
        case .ecdheECDSAWithCHACHA20POLY1305SHA256: return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        }
    }

    /// The name OpenSSL uses (cipher strings, s_client output).
    public var openSSLName: String {
        switch self {
        case .tlsAES128GCMSHA256, .tlsAES256GCMSHA384, .tlsCHACHA20POLY1305SHA256: return name
        case .ecdheECDSAWithAES128GCMSHA256: return "ECDHE-ECDSA-AES128-GCM-SHA256"
        case .ecdheECDSAWithAES256GCMSHA384: return "ECDHE-ECDSA-AES256-GCM-SHA384"
        case .ecdheRSAWithAES128GCMSHA256: return "ECDHE-RSA-AES128-GCM-SHA256"
        case .ecdheRSAWithAES256GCMSHA384: return "ECDHE-RSA-AES256-GCM-SHA384"
        case .ecdheRSAWithCHACHA20POLY1305SHA256: return "ECDHE-RSA-CHACHA20-POLY1305"
        case .ecdheECDSAWithCHACHA20POLY1305SHA256: return "ECDHE-ECDSA-CHACHA20-POLY1305"
        }
    }

    public var description: String { name }

    public static let tls13Suites: [CipherSuite] = [.tlsAES128GCMSHA256, .tlsAES256GCMSHA384, .tlsCHACHA20POLY1305SHA256]
}

/// Named groups for key exchange (RFC 8446 4.2.7).
public enum NamedGroup: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    case secp256r1 = 0x0017
    case secp384r1 = 0x0018
    case x25519 = 0x001d

    public var keyAgreement: KeyAgreementGroup {
        switch self {
        case .secp256r1: return .p256
        case .secp384r1: return .p384
        case .x25519: return .x25519
        }
    }

    public var description: String {
        switch self {
        case .secp256r1: return "secp256r1"
        case .secp384r1: return "secp384r1"
        case .x25519: return "x25519"
        }
    }

    public init?(name: String) {
        switch name.lowercased() {
        case "x25519": self = .x25519
        case "secp256r1", "p-256", "p256", "prime256v1": self = .secp256r1
        case "secp384r1", "p-384", "p384": self = .secp384r1
        default: return nil
        }
    }
}

/// Signature schemes (RFC 8446 4.2.3).
public enum SignatureScheme: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    case rsaPKCS1SHA256 = 0x0401
    case rsaPKCS1SHA384 = 0x0501
    case rsaPKCS1SHA512 = 0x0601
    case ecdsaSecp256r1SHA256 = 0x0403
    case ecdsaSecp384r1SHA384 = 0x0503
    case ecdsaSecp521r1SHA512 = 0x0603
    case rsaPSSRSAESHA256 = 0x0804
    case rsaPSSRSAESHA384 = 0x0805
    case rsaPSSRSAESHA512 = 0x0806
    case ed25519 = 0x0807
    case rsaPSSPSSSHA256 = 0x0809
    case rsaPSSPSSSHA384 = 0x080a
    case rsaPSSPSSSHA512 = 0x080b

    public var algorithm: SignatureAlgorithm {
        switch self {
        case .rsaPKCS1SHA256: return .rsaPKCS1(.sha256)
        case .rsaPKCS1SHA384: return .rsaPKCS1(.sha384)
        case .rsaPKCS1SHA512: return .rsaPKCS1(.sha512)
        case .ecdsaSecp256r1SHA256: return .ecdsa(.sha256)
        case .ecdsaSecp384r1SHA384: return .ecdsa(.sha384)
        case .ecdsaSecp521r1SHA512: return .ecdsa(.sha512)
        case .rsaPSSRSAESHA256, .rsaPSSPSSSHA256: return .rsaPSS(.sha256, saltLength: nil)
        case .rsaPSSRSAESHA384, .rsaPSSPSSSHA384: return .rsaPSS(.sha384, saltLength: nil)
        case .rsaPSSRSAESHA512, .rsaPSSPSSSHA512: return .rsaPSS(.sha512, saltLength: nil)
        case .ed25519: return .ed25519
        }
    }

    /// Whether this scheme can be used with `key` (ECDSA schemes are tied to one curve in TLS 1.3).
    public func matches(_ key: PublicKey, tls13: Bool) -> Bool {
        switch (self, key) {
        case (.rsaPSSRSAESHA256, .rsa), (.rsaPSSRSAESHA384, .rsa), (.rsaPSSRSAESHA512, .rsa): return true
        case (.rsaPKCS1SHA256, .rsa), (.rsaPKCS1SHA384, .rsa), (.rsaPKCS1SHA512, .rsa): return !tls13
        case (.ecdsaSecp256r1SHA256, .ecdsa(let k)): return !tls13 || k.curve == .p256
        case (.ecdsaSecp384r1SHA384, .ecdsa(let k)): return !tls13 || k.curve == .p384
        case (.ed25519, .ed25519): return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .rsaPKCS1SHA256: return "rsa_pkcs1_sha256"
        case .rsaPKCS1SHA384: return "rsa_pkcs1_sha384"
        case .rsaPKCS1SHA512: return "rsa_pkcs1_sha512"
        case .ecdsaSecp256r1SHA256: return "ecdsa_secp256r1_sha256"
        case .ecdsaSecp384r1SHA384: return "ecdsa_secp384r1_sha384"
        case .ecdsaSecp521r1SHA512: return "ecdsa_secp521r1_sha512"
        case .rsaPSSRSAESHA256: return "rsa_pss_rsae_sha256"
        case .rsaPSSRSAESHA384: return "rsa_pss_rsae_sha384"
        case .rsaPSSRSAESHA512: return "rsa_pss_rsae_sha512"
        case .ed25519: return "ed25519"
        case .rsaPSSPSSSHA256: return "rsa_pss_pss_sha256"
        case .rsaPSSPSSSHA384: return "rsa_pss_pss_sha384"
        case .rsaPSSPSSSHA512: return "rsa_pss_pss_sha512"
        }
    }

    /// What we offer and accept by default, strongest first.
    public static let defaultSchemes: [SignatureScheme] = [
        .ecdsaSecp256r1SHA256, .ecdsaSecp384r1SHA384, .ed25519,
        .rsaPSSRSAESHA256, .rsaPSSRSAESHA384, .rsaPSSRSAESHA512,
        .rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512,
    ]
}

/// Extension code points (RFC 8446 4.2 and the RFCs listed in DESIGN.md).
public enum ExtensionType {
    public static let serverName: UInt16 = 0
    public static let statusRequest: UInt16 = 5
    public static let supportedGroups: UInt16 = 10
    public static let ecPointFormats: UInt16 = 11
    public static let signatureAlgorithms: UInt16 = 13
    public static let alpn: UInt16 = 16
    public static let extendedMasterSecret: UInt16 = 23
    public static let recordSizeLimit: UInt16 = 28
    public static let sessionTicket: UInt16 = 35
    public static let preSharedKey: UInt16 = 41
    public static let earlyData: UInt16 = 42
    public static let supportedVersions: UInt16 = 43
    public static let cookie: UInt16 = 44
    public static let pskKeyExchangeModes: UInt16 = 45
    public static let certificateAuthorities: UInt16 = 47
    public static let postHandshakeAuth: UInt16 = 49
    public static let signatureAlgorithmsCert: UInt16 = 50
    public static let keyShare: UInt16 = 51
    public static let renegotiationInfo: UInt16 = 0xff01
}

extension CipherSuite {
    /// By IANA name or OpenSSL name, case-insensitively.
    public init?(name: String) {
        guard name.utf8.count <= CipherSuite.longestName, let s = CipherSuite.byUppercasedName[name.uppercased()] else { return nil }
        self = s
    }

    private static let longestName = byUppercasedName.keys.map(\.utf8.count).max() ?? 0

    /// Both names of every suite, upper-cased (IANA names win a clash).
    private static let byUppercasedName: [String: CipherSuite] = {
        var names: [String: CipherSuite] = [:]
        for s in CipherSuite.allCases.reversed() {
            names[s.openSSLName.uppercased()] = s
            names[s.name.uppercased()] = s
        }
        return names
    }()
}

extension ProtocolVersion {
    /// The name OpenSSL prints ("TLSv1.3").
    public var openSSLName: String {
        switch rawValue {
        case 0x0304: return "TLSv1.3"
        case 0x0303: return "TLSv1.2"
        case 0x0302: return "TLSv1.1"
        case 0x0301: return "TLSv1"
        case 0x0300: return "SSLv3"
        default: return "unknown"
        }
    }
}
