import SwiftASN1
import TLSCrypto

/// Digest algorithms that appear in certificate signatures, including the ones we refuse.
public enum DigestKind: String, Sendable, Equatable {
    case md2, md5, sha1, sha224, sha256, sha384, sha512

    /// MD2, MD5 and SHA-1 are broken for signatures (collisions); never accepted.
    public var isWeak: Bool { self == .md2 || self == .md5 || self == .sha1 }

    /// The TLSCrypto hash, for the ones libgcrypt is asked to use.
    public var hashAlgorithm: HashAlgorithm? {
        switch self {
        case .sha256: return .sha256
        case .sha384: return .sha384
        case .sha512: return .sha512
        default: return nil
        }
    }

    var oid: OID {
        switch self {
        case .md2: return OID("1.2.840.113549.2.2")
        case .md5: return .md5
        case .sha1: return .sha1
        case .sha224: return .sha224
        case .sha256: return .sha256
        case .sha384: return .sha384
        case .sha512: return .sha512
        }
    }

    static func from(_ oid: OID) -> DigestKind? {
        switch oid {
        case .md5: return .md5
        case .sha1: return .sha1
        case .sha224: return .sha224
        case .sha256: return .sha256
        case .sha384: return .sha384
        case .sha512: return .sha512
        case OID("1.2.840.113549.2.2"): return .md2
        default: return nil
        }
    }
}

/// The algorithm a certificate (or CRL, or OCSP response) is signed with.
public enum CertificateSignatureAlgorithm: Equatable, Sendable, CustomStringConvertible {
    case rsaPKCS1(DigestKind)
    case rsaPSS(hash: DigestKind, mgfHash: DigestKind, saltLength: Int)
    case ecdsa(DigestKind)
    case ed25519
    case unsupported(OID)

    public var digest: DigestKind? {
        switch self {
        case .rsaPKCS1(let d), .ecdsa(let d), .rsaPSS(let d, _, _): return d
        case .ed25519, .unsupported: return nil
        }
    }

    /// True for MD2/MD5/SHA-1 based signatures (also when PSS uses SHA-1 for MGF1).
    public var isWeak: Bool {
        if case .rsaPSS(let h, let m, _) = self { return h.isWeak || m.isWeak }
        return digest?.isWeak ?? false
    }

    public var description: String {
        switch self {
        case .rsaPKCS1(let d): return "\(d.rawValue)WithRSAEncryption"
        case .rsaPSS(let h, let m, let s): return "RSASSA-PSS(\(h.rawValue), MGF1-\(m.rawValue), salt \(s))"
        case .ecdsa(let d): return "ecdsa-with-\(d.rawValue.uppercased())"
        case .ed25519: return "Ed25519"
        case .unsupported(let oid): return "unsupported(\(oid.dotted))"
        }
    }

    /// The TLSCrypto algorithm to verify with; nil when weak or unsupported.
    public var tlsCryptoAlgorithm: SignatureAlgorithm? {
        switch self {
        case .rsaPKCS1(let d): return d.hashAlgorithm.map { .rsaPKCS1($0) }
        case .rsaPSS(let h, let m, let s):
            guard h == m, let hash = h.hashAlgorithm else { return nil }
            return .rsaPSS(hash, saltLength: s)
        case .ecdsa(let d): return d.hashAlgorithm.map { .ecdsa($0) }
        case .ed25519: return .ed25519
        case .unsupported: return nil
        }
    }

    /// Parses an AlgorithmIdentifier used for a signature.
    static func parse(_ node: ASN1Node) throws -> CertificateSignatureAlgorithm {
        var seq = try node.sequence("signature AlgorithmIdentifier")
        let oid = try seq.next("algorithm").oid("signature algorithm")
        let params = seq.nextIfAny()
        try seq.finish()
        func noParamsOrNull() throws {
            if let p = params { try p.null("\(oid) parameters") }
        }
        func noParams() throws {
            if params != nil { throw X509Error(.unexpectedStructure, "\(oid) takes no parameters") }
        }
        switch oid {
        case .md2WithRSAEncryption: try noParamsOrNull(); return .rsaPKCS1(.md2)
        case .md5WithRSAEncryption: try noParamsOrNull(); return .rsaPKCS1(.md5)
        case .sha1WithRSAEncryption: try noParamsOrNull(); return .rsaPKCS1(.sha1)
        case .sha224WithRSAEncryption: try noParamsOrNull(); return .rsaPKCS1(.sha224)
        case .sha256WithRSAEncryption: try noParamsOrNull(); return .rsaPKCS1(.sha256)
        case .sha384WithRSAEncryption: try noParamsOrNull(); return .rsaPKCS1(.sha384)
        case .sha512WithRSAEncryption: try noParamsOrNull(); return .rsaPKCS1(.sha512)
        // RFC 5758 3.2: ECDSA parameters are absent; a NULL is tolerated as other readers do.
        case .ecdsaWithSHA1: try noParamsOrNull(); return .ecdsa(.sha1)
        case .ecdsaWithSHA224: try noParamsOrNull(); return .ecdsa(.sha224)
        case .ecdsaWithSHA256: try noParamsOrNull(); return .ecdsa(.sha256)
        case .ecdsaWithSHA384: try noParamsOrNull(); return .ecdsa(.sha384)
        case .ecdsaWithSHA512: try noParamsOrNull(); return .ecdsa(.sha512)
        case .ed25519: try noParams(); return .ed25519
        case .rsassaPSS:
            guard let p = params else { throw X509Error(.unexpectedStructure, "RSASSA-PSS without parameters") }
            return try parsePSSParameters(p)
        default:
            return .unsupported(oid)
        }
    }

    /// RSASSA-PSS-params (RFC 4055 3.1): every field has a default (SHA-1, MGF1-SHA-1, 20, 1).
    static func parsePSSParameters(_ node: ASN1Node) throws -> CertificateSignatureAlgorithm {
        var seq = try node.sequence("RSASSA-PSS-params")
        var hash = DigestKind.sha1
        var mgfHash = DigestKind.sha1
        var salt = 20
        if let h = seq.optional(Tag.context(0)) {
            var inner = try h.reader(Tag.context(0), "hashAlgorithm")
            hash = try hashAlgorithm(try inner.next("hashAlgorithm"))
            try inner.finish()
        }
        if let m = seq.optional(Tag.context(1)) {
            var inner = try m.reader(Tag.context(1), "maskGenAlgorithm")
            var alg = try inner.next("maskGenAlgorithm").sequence("maskGenAlgorithm")
            try inner.finish()
            guard try alg.next("mgf").oid("mask generation function") == .mgf1 else {
                throw X509Error(.unsupportedAlgorithm, "PSS mask generation other than MGF1")
            }
            mgfHash = try hashAlgorithm(try alg.next("MGF1 hash"))
            try alg.finish()
        }
        if let s = seq.optional(Tag.context(2)) {
            var inner = try s.reader(Tag.context(2), "saltLength")
            salt = try inner.next("saltLength").smallInt("PSS saltLength", limit: 1024)
            try inner.finish()
        }
        if let t = seq.optional(Tag.context(3)) {
            var inner = try t.reader(Tag.context(3), "trailerField")
            guard try inner.next("trailerField").smallInt("PSS trailerField", limit: 255) == 1 else {
                throw X509Error(.unsupportedAlgorithm, "PSS trailerField other than 1")
            }
            try inner.finish()
        }
        try seq.finish()
        return .rsaPSS(hash: hash, mgfHash: mgfHash, saltLength: salt)
    }

    /// A hash AlgorithmIdentifier (parameters absent or NULL).
    static func hashAlgorithm(_ node: ASN1Node) throws -> DigestKind {
        var seq = try node.sequence("hash AlgorithmIdentifier")
        let oid = try seq.next("algorithm").oid("hash algorithm")
        if let p = seq.nextIfAny() { try p.null("hash parameters") }
        try seq.finish()
        guard let d = DigestKind.from(oid) else { throw X509Error(.unsupportedAlgorithm, "hash \(oid)") }
        return d
    }
}

/// The kind of key in a SubjectPublicKeyInfo.
public enum PublicKeyAlgorithm: Equatable, Sendable, CustomStringConvertible {
    case rsa
    /// id-RSASSA-PSS keys (RFC 4055): RSA keys restricted to PSS signatures.
    case rsaPSS
    case ecdsa(NISTCurve)
    case ed25519
    /// Parsed but not usable here (DSA, P-521, Ed448, ...). `detail` names it.
    case unsupported(OID, detail: String)

    public var description: String {
        switch self {
        case .rsa: return "RSA"
        case .rsaPSS: return "RSA-PSS"
        case .ecdsa(let c): return "ECDSA \(c == .p256 ? "P-256" : "P-384")"
        case .ed25519: return "Ed25519"
        case .unsupported(let oid, let d): return "unsupported \(oid) \(d)"
        }
    }
}

/// A SubjectPublicKeyInfo: the algorithm, the key bytes and the exact DER.
public struct SubjectPublicKeyInfo: Sendable, Equatable {
    public let der: [UInt8]
    public let algorithm: PublicKeyAlgorithm
    /// The subjectPublicKey BIT STRING contents (RSAPublicKey DER, EC point, Ed25519 key).
    public let keyBytes: [UInt8]
    /// For RSA: the modulus and exponent (unsigned big-endian).
    public let rsaModulus: [UInt8]?
    public let rsaExponent: [UInt8]?

    public static func == (a: SubjectPublicKeyInfo, b: SubjectPublicKeyInfo) -> Bool { a.der == b.der }

    public init(derEncoded bytes: [UInt8]) throws {
        try self.init(node: try parseDER(bytes, "SubjectPublicKeyInfo"))
    }

    init(node: ASN1Node) throws {
        der = Array(node.encodedBytes)
        var seq = try node.sequence("SubjectPublicKeyInfo")
        var alg = try seq.next("algorithm").sequence("public key AlgorithmIdentifier")
        let oid = try alg.next("algorithm").oid("public key algorithm")
        let params = alg.nextIfAny()
        try alg.finish()
        keyBytes = try seq.next("subjectPublicKey").bitStringBytes("subjectPublicKey")
        try seq.finish()
        var modulus: [UInt8]? = nil
        var exponent: [UInt8]? = nil
        switch oid {
        case .rsaEncryption, .rsassaPSS:
            if oid == .rsaEncryption, let p = params { try p.null("rsaEncryption parameters") }
            var rsa = try parseDER(keyBytes, "RSAPublicKey").sequence("RSAPublicKey")
            modulus = try rsa.next("modulus").unsignedIntegerBytes("RSA modulus")
            exponent = try rsa.next("publicExponent").unsignedIntegerBytes("RSA exponent")
            try rsa.finish()
            algorithm = oid == .rsaEncryption ? .rsa : .rsaPSS
        case .ecPublicKey:
            guard let p = params else { throw X509Error(.invalidPublicKey, "EC key without curve parameters") }
            guard p.identifier == Tag.oid else {
                throw X509Error(.unsupportedFormat, "EC key with explicit or implicit curve parameters (RFC 5480 allows only named curves)")
            }
            let curve = try p.oid("EC curve")
            switch curve {
            case .secp256r1: algorithm = .ecdsa(.p256)
            case .secp384r1: algorithm = .ecdsa(.p384)
            default: algorithm = .unsupported(oid, detail: "curve \(curve)")
            }
        case .ed25519:
            guard params == nil else { throw X509Error(.invalidPublicKey, "Ed25519 key with parameters") }
            guard keyBytes.count == 32 else { throw X509Error(.invalidPublicKey, "Ed25519 key of \(keyBytes.count) bytes") }
            algorithm = .ed25519
        default:
            algorithm = .unsupported(oid, detail: "")
        }
        rsaModulus = modulus
        rsaExponent = exponent
    }

    /// The strength figure policies compare: RSA modulus bits, EC field bits, 256 for Ed25519.
    public var keySizeBits: Int {
        switch algorithm {
        case .rsa, .rsaPSS:
            guard let m = rsaModulus, let i = m.firstIndex(where: { $0 != 0 }) else { return 0 }
            return (m.count - i - 1) * 8 + (8 - m[i].leadingZeroBitCount)
        case .ecdsa(let c): return c.fieldLength * 8
        case .ed25519: return 256
        case .unsupported: return 0
        }
    }

    /// Builds the TLSCrypto key (a libgcrypt handle); throws for unsupported or invalid keys.
    public func makePublicKey() throws -> PublicKey {
        do {
            switch algorithm {
            case .rsa, .rsaPSS:
                return .rsa(try RSAPublicKey(modulus: rsaModulus ?? [], exponent: rsaExponent ?? []))
            case .ecdsa(let curve):
                return .ecdsa(try ECDSAPublicKey(curve: curve, point: keyBytes))
            case .ed25519:
                return .ed25519(try Ed25519PublicKey(rawRepresentation: keyBytes))
            case .unsupported(let oid, let d):
                throw X509Error(.unsupportedAlgorithm, "public key algorithm \(oid) \(d)")
            }
        } catch let e as CryptoError {
            throw X509Error(.invalidPublicKey, "\(algorithm) key: \(e)")
        }
    }
}
