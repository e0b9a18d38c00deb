import CGcrypt

/// How a signature is made: the key type together with hash and padding.
public enum SignatureAlgorithm: Equatable, Sendable, CustomStringConvertible {
    /// ECDSA with the given hash; the curve comes from the key.
    case ecdsa(HashAlgorithm)
    /// RSASSA-PKCS1-v1_5.
    case rsaPKCS1(HashAlgorithm)
    /// RSASSA-PSS with MGF1 over the same hash; `saltLength` nil means the hash length (as TLS requires).
    case rsaPSS(HashAlgorithm, saltLength: Int?)
    /// Pure Ed25519 (RFC 8032).
    case ed25519

    public var description: String {
        switch self {
        case .ecdsa(let h): return "ecdsa-\(h.rawValue)"
        case .rsaPKCS1(let h): return "rsa-pkcs1-\(h.rawValue)"
        case .rsaPSS(let h, let s): return "rsa-pss-\(h.rawValue)" + (s.map { "-salt\($0)" } ?? "")
        case .ed25519: return "ed25519"
        }
    }
}

/// A public key able to verify signatures.
public enum PublicKey: Equatable {
    case rsa(RSAPublicKey)
    case ecdsa(ECDSAPublicKey)
    case ed25519(Ed25519PublicKey)

    public func verify(signature: [UInt8], message: [UInt8], algorithm: SignatureAlgorithm) throws {
        switch (self, algorithm) {
        case (.rsa(let k), .rsaPKCS1), (.rsa(let k), .rsaPSS):
            try k.verify(signature: signature, message: message, algorithm: algorithm)
        case (.ecdsa(let k), .ecdsa(let hash)):
            try k.verify(signature: signature, message: message, hash: hash)
        case (.ed25519(let k), .ed25519):
            try k.verify(signature: signature, message: message)
        default:
            throw CryptoError.unsupportedAlgorithm("\(algorithm) with a \(kindName) key")
        }
    }

    public var kindName: String {
        switch self {
        case .rsa(let k): return "RSA-\(k.bitCount)"
        case .ecdsa(let k): return "ECDSA-\(k.curve.rawValue)"
        case .ed25519: return "Ed25519"
        }
    }
}

/// A private key able to sign.
public enum PrivateKey {
    case rsa(RSAPrivateKey)
    case ecdsa(ECDSAPrivateKey)
    case ed25519(Ed25519PrivateKey)

    public var publicKey: PublicKey {
        switch self {
        case .rsa(let k): return .rsa(k.publicKey)
        case .ecdsa(let k): return .ecdsa(k.publicKey)
        case .ed25519(let k): return .ed25519(k.publicKey)
        }
    }

    public func sign(message: [UInt8], algorithm: SignatureAlgorithm) throws -> [UInt8] {
        switch (self, algorithm) {
        case (.rsa(let k), .rsaPKCS1), (.rsa(let k), .rsaPSS):
            return try k.sign(message: message, algorithm: algorithm)
        case (.ecdsa(let k), .ecdsa(let hash)):
            return try k.sign(message: message, hash: hash)
        case (.ed25519(let k), .ed25519):
            return try k.sign(message: message)
        default:
            throw CryptoError.unsupportedAlgorithm("\(algorithm) with a \(publicKey.kindName) key")
        }
    }
}

// MARK: - Shared libgcrypt plumbing

enum PublicKeyOperation {
    static func hashData(_ flags: [String], hash: HashAlgorithm, digest: [UInt8], extra: [SExp] = []) -> SExp {
        var items: [SExp] = [.token("data")]
        if !flags.isEmpty { items.append(.list([.token("flags")] + flags.map(SExp.token))) }
        items.append(.list([.token("hash"), .token(hash.sexpName), .atom(digest)]))
        items.append(contentsOf: extra)
        return .list(items)
    }

    static func verify(signature: SExp, data: SExp, key: KeyHandle) throws {
        try memoizedInFuzzing("verify", [key.fuzzingIdentity, signature.rendered, data.rendered]) {
            try verifyNow(signature: signature, data: data, key: key.sexp)
        }
    }

    private static func verifyNow(signature: SExp, data: SExp, key: GcrySexp) throws {
        let s = try signature.make()
        let d = try data.make()
        let err = gcry_pk_verify(s.raw, d.raw, key.raw)
        guard err != 0 else { return }
        if tls_gcry_err_code(err) == Int32(GPG_ERR_BAD_SIGNATURE.rawValue) { throw CryptoError.signatureVerificationFailed }
        // Anything else means we built a request libgcrypt did not understand: a bug, not a bad signature.
        throw Gcrypt.error(err)
    }

    static func sign(data: SExp, key: KeyHandle) throws -> GcrySexp {
        try memoizedInFuzzing("sign", [key.fuzzingIdentity, data.rendered]) {
            try signNow(data: data, key: key.sexp)
        }
    }

    private static func signNow(data: SExp, key: GcrySexp) throws -> GcrySexp {
        let d = try data.make()
        var result: gcry_sexp_t? = nil
        try Gcrypt.check(gcry_pk_sign(&result, d.raw, key.raw))
        guard let r = result else { throw CryptoError.library(code: -1, message: "gcry_pk_sign returned nothing") }
        return GcrySexp(r)
    }
}

/// Holds a libgcrypt key S-expression so it is built once per key, not per operation.
final class KeyHandle {
    let sexp: GcrySexp
    #if FUZZING
    /// The key's own text, to recognise repeated operations (fuzzing builds only).
    let fuzzingIdentity: [UInt8]
    init(_ s: SExp) throws { sexp = try s.make(); fuzzingIdentity = s.rendered }
    #else
    init(_ s: SExp) throws { sexp = try s.make() }
    var fuzzingIdentity: [UInt8] { [] }
    #endif
}
