import CGcrypt

/// An RSA public key (n, e).
public struct RSAPublicKey: Equatable {
    public let modulus: [UInt8]
    public let exponent: [UInt8]
    private let handle: KeyHandle

    public static func == (a: RSAPublicKey, b: RSAPublicKey) -> Bool {
        a.modulus == b.modulus && a.exponent == b.exponent
    }

    /// Sizes outside 1024...16384 bits are refused here; TLS and X.509 apply
    /// their own (higher) minimum as policy.
    public init(modulus: [UInt8], exponent: [UInt8]) throws {
        let n = minimalUnsigned(modulus), e = minimalUnsigned(exponent)
        let bits = RSAPublicKey.bitLength(n)
        guard bits >= 1024, bits <= 16384 else {
            throw CryptoError.invalidPublicKey("RSA modulus of \(bits) bits is outside 1024...16384")
        }
        guard let last = n.last, last & 1 == 1 else { throw CryptoError.invalidPublicKey("RSA modulus is even") }
        guard let eLast = e.last, eLast & 1 == 1, e != [1], e.count <= n.count else {
            throw CryptoError.invalidPublicKey("RSA public exponent is invalid")
        }
        self.modulus = n
        self.exponent = e
        self.handle = try KeyHandle(.list([.token("public-key"),
                                           .list([.token("rsa"), .pair("n", n), .pair("e", e)])]))
    }

    static func bitLength(_ minimal: [UInt8]) -> Int {
        guard let first = minimal.first, first != 0 else { return 0 }
        return (minimal.count - 1) * 8 + (8 - first.leadingZeroBitCount)
    }

    public var bitCount: Int { RSAPublicKey.bitLength(modulus) }

    /// The data S-expression for a PKCS#1 v1.5 or PSS signature over `message`.
    static func paddedDigest(_ algorithm: SignatureAlgorithm, message: [UInt8]) throws -> SExp {
        switch algorithm {
        case .rsaPKCS1(let hash):
            return PublicKeyOperation.hashData(["pkcs1"], hash: hash, digest: Digest.hash(hash, message))
        case .rsaPSS(let hash, let salt):
            return PublicKeyOperation.hashData(["pss"], hash: hash, digest: Digest.hash(hash, message),
                                               extra: [.pair("salt-length", String(salt ?? hash.digestLength))])
        default:
            throw CryptoError.unsupportedAlgorithm("\(algorithm) with an RSA key")
        }
    }
    public var byteCount: Int { (bitCount + 7) / 8 }

    public func verify(signature: [UInt8], message: [UInt8], algorithm: SignatureAlgorithm) throws {
        guard signature.count == byteCount else {
            throw CryptoError.malformedSignature("RSA signature is \(signature.count) bytes; the modulus is \(byteCount)")
        }
        let data = try RSAPublicKey.paddedDigest(algorithm, message: message)
        let sig: SExp = .list([.token("sig-val"), .list([.token("rsa"), .pair("s", signature)])])
        try PublicKeyOperation.verify(signature: sig, data: data, key: handle)
    }
}

/// An RSA private key with its CRT parameters.
public struct RSAPrivateKey {
    public let publicKey: RSAPublicKey
    private let handle: KeyHandle

    /// Takes PKCS#1 components. libgcrypt wants p < q and u = p^-1 mod q, so the
    /// primes are swapped when needed and u is computed here.
    public init(modulus: [UInt8], publicExponent: [UInt8], privateExponent: [UInt8],
                prime1: [UInt8], prime2: [UInt8]) throws {
        let pub = try RSAPublicKey(modulus: modulus, exponent: publicExponent)
        var p = try MPI(unsigned: prime1, secret: true)
        var q = try MPI(unsigned: prime2, secret: true)
        if p.compare(q) > 0 { swap(&p, &q) }
        let u = MPI.new()
        guard gcry_mpi_invm(u.raw, p.raw, q.raw) != 0 else {
            throw CryptoError.invalidPrivateKey("RSA primes are not coprime")
        }
        // n must equal p * q, or every signature would be garbage.
        let product = MPI.new()
        gcry_mpi_mul(product.raw, p.raw, q.raw)
        guard try product.bytes() == pub.modulus else {
            throw CryptoError.invalidPrivateKey("RSA modulus is not the product of the primes")
        }
        let d = minimalUnsigned(privateExponent)
        let key: SExp = .list([.token("private-key"), .list([
            .token("rsa"), .pair("n", pub.modulus), .pair("e", pub.exponent), .pair("d", d),
            .pair("p", try p.bytes()), .pair("q", try q.bytes()), .pair("u", try u.bytes()),
        ])])
        self.handle = try KeyHandle(key)
        self.publicKey = pub
        let check = gcry_pk_testkey(handle.sexp.raw)
        guard check == 0 else { throw CryptoError.invalidPrivateKey("libgcrypt rejects the RSA key: \(Gcrypt.error(check))") }
    }

    public func sign(message: [UInt8], algorithm: SignatureAlgorithm) throws -> [UInt8] {
        let data = try RSAPublicKey.paddedDigest(algorithm, message: message)
        let result = try PublicKeyOperation.sign(data: data, key: handle)
        guard let s = result.value(of: "s") else { throw CryptoError.library(code: -1, message: "no s in RSA signature") }
        let minimal = minimalUnsigned(s)
        guard minimal.count <= publicKey.byteCount else { throw CryptoError.library(code: -1, message: "RSA signature too long") }
        return [UInt8](repeating: 0, count: publicKey.byteCount - minimal.count) + minimal
    }
}
