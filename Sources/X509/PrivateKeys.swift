import SwiftASN1
import TLSCrypto

/// The container a private key came in.
public enum PrivateKeyFormat: String, Sendable {
    /// PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5208, RFC 5958), "PRIVATE KEY".
    case pkcs8
    /// PKCS#8 EncryptedPrivateKeyInfo with PBES2 (RFC 5958, RFC 8018), "ENCRYPTED PRIVATE KEY".
    case encryptedPKCS8 = "encrypted-pkcs8"
    /// PKCS#1 RSAPrivateKey (RFC 8017 A.1.2), "RSA PRIVATE KEY".
    case pkcs1
    /// SEC 1 ECPrivateKey (RFC 5915), "EC PRIVATE KEY".
    case sec1
}

/// A private key read from a file, with the format it was in.
public struct LoadedPrivateKey {
    public let key: PrivateKey
    public let format: PrivateKeyFormat

    /// The public half, for matching against certificates.
    public var publicKey: PublicKey { key.publicKey }
}

/// Reads private keys in PEM or DER: PKCS#8 (plain and PBES2-encrypted), PKCS#1, SEC 1.
public enum PrivateKeyParser {
    /// PBKDF2 iteration counts above this are refused (a hostile file could otherwise stall us).
    public static let maximumIterations = 2_000_000

    /// Parses PEM text (the first key block) or DER bytes.
    public static func parse(_ bytes: [UInt8], passphrase: [UInt8]? = nil) throws -> LoadedPrivateKey {
        if PEM.looksLikePEM(bytes) {
            return try parse(blocks: try PEM.parse(bytes), passphrase: passphrase)
        }
        return try parseDER(bytes, passphrase: passphrase)
    }

    /// The first private key among already parsed PEM blocks.
    public static func parse(blocks: [PEMBlock], passphrase: [UInt8]? = nil) throws -> LoadedPrivateKey {
        for block in blocks {
            switch block.label {
            case "PRIVATE KEY":
                return LoadedPrivateKey(key: try parsePKCS8(block.der), format: .pkcs8)
            case "ENCRYPTED PRIVATE KEY":
                return LoadedPrivateKey(key: try parseEncryptedPKCS8(block.der, passphrase: passphrase), format: .encryptedPKCS8)
            case "RSA PRIVATE KEY", "EC PRIVATE KEY":
                if block.headers["Proc-Type"] != nil || block.headers["DEK-Info"] != nil {
                    throw X509Error(.unsupportedFormat,
                                    "legacy OpenSSL-encrypted PEM key (Proc-Type/DEK-Info); convert it to encrypted PKCS#8 (openssl pkcs8 -topk8)")
                }
                if block.label == "RSA PRIVATE KEY" {
                    return LoadedPrivateKey(key: try parsePKCS1(block.der), format: .pkcs1)
                }
                return LoadedPrivateKey(key: try parseSEC1(block.der, curveFromAlgorithm: nil), format: .sec1)
            default:
                continue  // EC PARAMETERS, CERTIFICATE, ...
            }
        }
        throw X509Error(.noPEMBlock, "no private key block (PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY)")
    }

    public static func parse(pem text: String, passphrase: String? = nil) throws -> LoadedPrivateKey {
        try parse(Array(text.utf8), passphrase: passphrase.map { Array($0.utf8) })
    }

    /// DER of any of the four formats, told apart by their structure.
    public static func parseDER(_ der: [UInt8], passphrase: [UInt8]? = nil) throws -> LoadedPrivateKey {
        let root = try SwiftASN1Bridge.parse(der, "private key")
        var seq = try root.sequence("private key")
        let first = try seq.next("first field")
        let second = try seq.next("second field")
        if first.identifier == Tag.sequence {
            return LoadedPrivateKey(key: try parseEncryptedPKCS8(der, passphrase: passphrase), format: .encryptedPKCS8)
        }
        guard first.identifier == Tag.integer else {
            throw X509Error(.unexpectedStructure, "not a private key structure")
        }
        if second.identifier == Tag.sequence {
            return LoadedPrivateKey(key: try parsePKCS8(der), format: .pkcs8)
        }
        if second.identifier == Tag.integer {
            return LoadedPrivateKey(key: try parsePKCS1(der), format: .pkcs1)
        }
        if second.identifier == Tag.octetString {
            return LoadedPrivateKey(key: try parseSEC1(der, curveFromAlgorithm: nil), format: .sec1)
        }
        throw X509Error(.unexpectedStructure, "not a private key structure")
    }

    // MARK: PKCS#8

    /// PrivateKeyInfo / OneAsymmetricKey (v1 or v2).
    public static func parsePKCS8(_ der: [UInt8]) throws -> PrivateKey {
        var seq = try SwiftASN1Bridge.parse(der, "PrivateKeyInfo").sequence("PrivateKeyInfo")
        let version = try seq.next("version").smallInt("PKCS#8 version", limit: 255)
        guard version <= 1 else { throw X509Error(.unsupportedVersion, "PKCS#8 version \(version)") }
        var alg = try seq.next("privateKeyAlgorithm").sequence("privateKeyAlgorithm")
        let oid = try alg.next("algorithm").oid("private key algorithm")
        let params = alg.nextIfAny()
        try alg.finish()
        let keyOctets = Array(try seq.next("privateKey").octetString("privateKey"))
        _ = seq.optional(Tag.context(0))  // attributes
        var publicKey: [UInt8]? = nil
        if let pk = seq.optional(Tag.context(1)) {
            guard version == 1 else { throw X509Error(.unexpectedStructure, "publicKey in a v1 PrivateKeyInfo") }
            let (bytes, unused) = try pk.bitString("publicKey", tag: Tag.context(1))
            guard unused == 0 else { throw X509Error(.invalidPrivateKey, "publicKey is not whole bytes") }
            publicKey = Array(bytes)
        }
        try seq.finish()

        switch oid {
        case .rsaEncryption, .rsassaPSS:
            if oid == .rsaEncryption, let p = params { try p.null("rsaEncryption parameters") }
            return try parsePKCS1(keyOctets)
        case .ecPublicKey:
            guard let p = params else { throw X509Error(.invalidPrivateKey, "EC key without a curve") }
            let curve = try namedCurve(p)
            let key = try parseSEC1(keyOctets, curveFromAlgorithm: curve)
            if let pub = publicKey, pub != key.publicKeyPoint {
                throw X509Error(.invalidPrivateKey, "PKCS#8 publicKey does not match the private key")
            }
            return key
        case .ed25519:
            guard params == nil else { throw X509Error(.invalidPrivateKey, "Ed25519 key with parameters") }
            // RFC 8410 7: the privateKey OCTET STRING holds a CurvePrivateKey, itself an OCTET STRING.
            let inner = Array(try SwiftASN1Bridge.parse(keyOctets, "CurvePrivateKey").octetString("CurvePrivateKey"))
            guard inner.count == 32 else { throw X509Error(.invalidPrivateKey, "Ed25519 seed of \(inner.count) bytes") }
            let key: Ed25519PrivateKey
            do { key = try Ed25519PrivateKey(seed: inner) } catch { throw X509Error(.invalidPrivateKey, "Ed25519: \(error)") }
            if let pub = publicKey, pub != key.publicKey.rawRepresentation {
                throw X509Error(.invalidPrivateKey, "PKCS#8 publicKey does not match the Ed25519 seed")
            }
            return .ed25519(key)
        default:
            throw X509Error(.unsupportedAlgorithm, "private key algorithm \(oid)")
        }
    }

    /// EncryptedPrivateKeyInfo with PBES2 (PBKDF2 + AES-CBC), as `openssl genpkey -aes256`
    /// and `openssl pkcs8 -topk8 -v2 aes-256-cbc` write it.
    public static func parseEncryptedPKCS8(_ der: [UInt8], passphrase: [UInt8]?) throws -> PrivateKey {
        var seq = try SwiftASN1Bridge.parse(der, "EncryptedPrivateKeyInfo").sequence("EncryptedPrivateKeyInfo")
        var alg = try seq.next("encryptionAlgorithm").sequence("encryptionAlgorithm")
        let scheme = try alg.next("algorithm").oid("encryption scheme")
        guard scheme == .pbes2 else {
            throw X509Error(.unsupportedAlgorithm, "key encryption scheme \(scheme) (only PBES2 is supported)")
        }
        var pbes2 = try alg.next("PBES2-params").sequence("PBES2-params")
        try alg.finish()
        let encrypted = Array(try seq.next("encryptedData").octetString("encryptedData"))
        try seq.finish()

        var kdf = try pbes2.next("keyDerivationFunc").sequence("keyDerivationFunc")
        let kdfOID = try kdf.next("algorithm").oid("key derivation function")
        guard kdfOID == .pbkdf2 else { throw X509Error(.unsupportedAlgorithm, "key derivation \(kdfOID) (only PBKDF2)") }
        var kdfParams = try kdf.next("PBKDF2-params").sequence("PBKDF2-params")
        try kdf.finish()
        let saltNode = try kdfParams.next("salt")
        guard saltNode.identifier == Tag.octetString else {
            throw X509Error(.unsupportedAlgorithm, "PBKDF2 salt from another source")
        }
        let salt = Array(try saltNode.octetString("salt"))
        let iterations = try kdfParams.next("iterationCount").smallInt("iterationCount", limit: Int(Int32.max))
        guard iterations >= 1, iterations <= maximumIterations else {
            throw X509Error(.unsupportedAlgorithm, "PBKDF2 iteration count \(iterations) outside 1...\(maximumIterations)")
        }
        let keyLength = try kdfParams.optional(Tag.integer).map { try $0.smallInt("keyLength", limit: 64) }
        var prf = PasswordBasedEncryption.PRF.hmacSHA1
        if let prfNode = kdfParams.optional(Tag.sequence) {
            var p = try prfNode.sequence("prf")
            let prfOID = try p.next("algorithm").oid("prf")
            if let n = p.nextIfAny() { try n.null("prf parameters") }
            try p.finish()
            switch prfOID {
            case .hmacWithSHA1: prf = .hmacSHA1
            case .hmacWithSHA256: prf = .hmacSHA256
            case .hmacWithSHA384: prf = .hmacSHA384
            case .hmacWithSHA512: prf = .hmacSHA512
            default: throw X509Error(.unsupportedAlgorithm, "PBKDF2 PRF \(prfOID)")
            }
        }
        try kdfParams.finish()

        var enc = try pbes2.next("encryptionScheme").sequence("encryptionScheme")
        try pbes2.finish()
        let cipherOID = try enc.next("algorithm").oid("cipher")
        let cipherKeyLength: Int
        switch cipherOID {
        case .aes128CBC: cipherKeyLength = 16
        case .aes192CBC: cipherKeyLength = 24
        case .aes256CBC: cipherKeyLength = 32
        default: throw X509Error(.unsupportedAlgorithm, "key encryption cipher \(cipherOID) (only AES-CBC)")
        }
        let iv = Array(try enc.next("IV").octetString("AES-CBC IV"))
        try enc.finish()
        guard iv.count == 16 else { throw X509Error(.unexpectedStructure, "AES-CBC IV of \(iv.count) bytes") }
        if let kl = keyLength, kl != cipherKeyLength {
            throw X509Error(.unexpectedStructure, "PBKDF2 keyLength \(kl) does not fit the cipher")
        }
        guard let password = passphrase else {
            throw X509Error(.passphraseRequired, "the key is encrypted; a passphrase is needed")
        }
        let plaintext: [UInt8]
        do {
            let key = try PasswordBasedEncryption.pbkdf2(password: password, salt: salt, iterations: iterations,
                                                         keyLength: cipherKeyLength, prf: prf)
            plaintext = try PasswordBasedEncryption.aesCBCDecrypt(key: key, iv: iv, ciphertext: encrypted)
        } catch CryptoError.decryptionFailed {
            throw X509Error(.wrongPassphrase, "the passphrase does not decrypt the key")
        } catch {
            throw X509Error(.unsupportedAlgorithm, "key decryption: \(error)")
        }
        // With a wrong passphrase the padding is right by chance about once in 256 tries;
        // the plaintext is then garbage, which must not parse as a key.
        do {
            return try parsePKCS8(plaintext)
        } catch let e as X509Error where e.code == .invalidDER || e.code == .unexpectedStructure {
            throw X509Error(.wrongPassphrase, "the decrypted data is not a key (wrong passphrase?)")
        }
    }

    // MARK: PKCS#1 and SEC 1

    /// RSAPrivateKey (two-prime).
    public static func parsePKCS1(_ der: [UInt8]) throws -> PrivateKey {
        var seq = try SwiftASN1Bridge.parse(der, "RSAPrivateKey").sequence("RSAPrivateKey")
        let version = try seq.next("version").smallInt("RSAPrivateKey version", limit: 255)
        guard version == 0 else { throw X509Error(.unsupportedAlgorithm, "multi-prime RSA key (version \(version))") }
        let n = try seq.next("modulus").unsignedIntegerBytes("modulus")
        let e = try seq.next("publicExponent").unsignedIntegerBytes("publicExponent")
        let d = try seq.next("privateExponent").unsignedIntegerBytes("privateExponent")
        let p = try seq.next("prime1").unsignedIntegerBytes("prime1")
        let q = try seq.next("prime2").unsignedIntegerBytes("prime2")
        _ = try seq.next("exponent1").unsignedIntegerBytes("exponent1")
        _ = try seq.next("exponent2").unsignedIntegerBytes("exponent2")
        _ = try seq.next("coefficient").unsignedIntegerBytes("coefficient")
        try seq.finish()
        guard n.count <= 2048, d.count <= 2048, p.count <= 1024, q.count <= 1024, e.count <= 2048 else {
            throw X509Error(.invalidPrivateKey, "RSA key too large")
        }
        do {
            return .rsa(try RSAPrivateKey(modulus: n, publicExponent: e, privateExponent: d, prime1: p, prime2: q))
        } catch {
            throw X509Error(.invalidPrivateKey, "RSA: \(error)")
        }
    }

    /// ECPrivateKey (RFC 5915). The curve comes from the PKCS#8 algorithm or the
    /// key's own [0] parameters; when both are present they must agree.
    public static func parseSEC1(_ der: [UInt8], curveFromAlgorithm: NISTCurve?) throws -> PrivateKey {
        var seq = try SwiftASN1Bridge.parse(der, "ECPrivateKey").sequence("ECPrivateKey")
        let version = try seq.next("version").smallInt("ECPrivateKey version", limit: 255)
        guard version == 1 else { throw X509Error(.unsupportedVersion, "ECPrivateKey version \(version)") }
        let scalar = Array(try seq.next("privateKey").octetString("privateKey"))
        var curve = curveFromAlgorithm
        if let p = seq.optional(Tag.context(0)) {
            var inner = try p.reader(Tag.context(0), "parameters")
            let c = try namedCurve(try inner.next("ECParameters"))
            try inner.finish()
            if let a = curve, a != c { throw X509Error(.invalidPrivateKey, "EC curve in the key differs from the algorithm's") }
            curve = c
        }
        var publicKey: [UInt8]? = nil
        if let pk = seq.optional(Tag.context(1)) {
            var inner = try pk.reader(Tag.context(1), "publicKey")
            publicKey = try inner.next("publicKey").bitStringBytes("EC publicKey")
            try inner.finish()
        }
        try seq.finish()
        guard let c = curve else { throw X509Error(.invalidPrivateKey, "EC key without a curve") }
        guard !scalar.isEmpty, scalar.count <= c.fieldLength else {
            throw X509Error(.invalidPrivateKey, "EC private key of \(scalar.count) bytes for a \(c.fieldLength)-byte curve")
        }
        let key: ECDSAPrivateKey
        do { key = try ECDSAPrivateKey(curve: c, scalar: scalar) } catch { throw X509Error(.invalidPrivateKey, "EC: \(error)") }
        if let pub = publicKey, pub != key.publicKey.point {
            throw X509Error(.invalidPrivateKey, "EC publicKey does not match the private scalar")
        }
        return .ecdsa(key)
    }

    static func namedCurve(_ node: ASN1Node) throws -> NISTCurve {
        guard node.identifier == Tag.oid else {
            throw X509Error(.unsupportedFormat, "explicit EC domain parameters (RFC 5480 allows only named curves)")
        }
        let oid = try node.oid("namedCurve")
        switch oid {
        case .secp256r1: return .p256
        case .secp384r1: return .p384
        default: throw X509Error(.unsupportedAlgorithm, "EC curve \(oid)")
        }
    }

    // MARK: pairing keys with certificates

    /// Throws `keyMismatch` unless the private key is the one whose public half the certificate holds.
    public static func checkMatch(_ key: PrivateKey, certificate: Certificate) throws {
        guard let certKey = certificate.publicKey else {
            throw X509Error(.keyMismatch, "the certificate's key is unusable: \(certificate.publicKeyError?.message ?? "unknown")")
        }
        guard certKey == key.publicKey else {
            throw X509Error(.keyMismatch, "the private key (\(key.publicKey.kindName)) does not belong to \(certificate.subject)")
        }
    }
}

extension PrivateKey {
    /// The uncompressed point of an ECDSA key, for comparisons.
    var publicKeyPoint: [UInt8]? {
        if case .ecdsa(let k) = self { return k.publicKey.point }
        return nil
    }
}

/// Public keys: "PUBLIC KEY" PEM blocks or DER SubjectPublicKeyInfo.
public enum PublicKeyParser {
    public static func parse(_ bytes: [UInt8]) throws -> SubjectPublicKeyInfo {
        if PEM.looksLikePEM(bytes) { return try parse(blocks: try PEM.parse(bytes)) }
        return try SubjectPublicKeyInfo(derEncoded: bytes)
    }

    /// The first PUBLIC KEY among already parsed PEM blocks.
    public static func parse(blocks: [PEMBlock]) throws -> SubjectPublicKeyInfo {
        guard let block = blocks.first(where: { $0.label == "PUBLIC KEY" }) else {
            throw X509Error(.noPEMBlock, "no PUBLIC KEY block")
        }
        return try SubjectPublicKeyInfo(derEncoded: block.der)
    }
}

enum SwiftASN1Bridge {
    static func parse(_ bytes: [UInt8], _ what: String) throws -> ASN1Node { try parseDER(bytes, what) }
}
