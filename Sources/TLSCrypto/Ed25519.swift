import CGcrypt

/// An Ed25519 public key (32 bytes, RFC 8032 encoding).
public struct Ed25519PublicKey: Equatable {
    public let rawRepresentation: [UInt8]
    private let handle: KeyHandle

    public static func == (a: Ed25519PublicKey, b: Ed25519PublicKey) -> Bool { a.rawRepresentation == b.rawRepresentation }

    public init(rawRepresentation: [UInt8]) throws {
        guard rawRepresentation.count == 32 else {
            throw CryptoError.invalidPublicKey("Ed25519 public key must be 32 bytes, not \(rawRepresentation.count)")
        }
        self.rawRepresentation = rawRepresentation
        self.handle = try KeyHandle(.list([.token("public-key"), .list([
            .token("ecc"), .pair("curve", "Ed25519"), .list([.token("flags"), .token("eddsa")]),
            .pair("q", rawRepresentation)])]))
    }

    public func verify(signature: [UInt8], message: [UInt8]) throws {
        guard signature.count == 64 else {
            throw CryptoError.malformedSignature("Ed25519 signature must be 64 bytes, not \(signature.count)")
        }
        let sig: SExp = .list([.token("sig-val"), .list([
            .token("eddsa"), .pair("r", Array(signature[0..<32])), .pair("s", Array(signature[32..<64]))])])
        try PublicKeyOperation.verify(signature: sig, data: Ed25519PrivateKey.data(message), key: handle)
    }
}

/// An Ed25519 private key: the 32-byte seed of RFC 8032.
public struct Ed25519PrivateKey {
    public let seed: [UInt8]
    public let publicKey: Ed25519PublicKey
    private let handle: KeyHandle

    public init(seed: [UInt8]) throws {
        guard seed.count == 32 else { throw CryptoError.invalidKeyLength(expected: 32, actual: seed.count) }
        let secretOnly = try SExp.list([.token("private-key"), .list([
            .token("ecc"), .pair("curve", "Ed25519"), .list([.token("flags"), .token("eddsa")]),
            .pair("d", seed)])]).make()
        // libgcrypt derives Q from d when asked for it in the EdDSA encoding.
        var ctx: gcry_ctx_t? = nil
        try Gcrypt.check(gcry_mpi_ec_new(&ctx, secretOnly.raw, nil))
        guard let c = ctx else { throw CryptoError.library(code: -1, message: "gcry_mpi_ec_new returned nothing") }
        defer { gcry_ctx_release(c) }
        guard let q = gcry_mpi_ec_get_mpi("q@eddsa", c, 1) else {
            throw CryptoError.invalidPrivateKey("could not derive the Ed25519 public key")
        }
        defer { gcry_mpi_release(q) }
        var nbits: UInt32 = 0
        guard let p = gcry_mpi_get_opaque(q, &nbits) else { throw CryptoError.invalidPrivateKey("public key not opaque") }
        var pub = Array(UnsafeRawBufferPointer(start: p, count: Int(nbits + 7) / 8))
        if pub.count == 33, pub[0] == 0x40 { pub.removeFirst() }
        self.seed = seed
        self.publicKey = try Ed25519PublicKey(rawRepresentation: pub)
        self.handle = try KeyHandle(.list([.token("private-key"), .list([
            .token("ecc"), .pair("curve", "Ed25519"), .list([.token("flags"), .token("eddsa")]),
            .pair("q", pub), .pair("d", seed)])]))
    }

    static func data(_ message: [UInt8]) -> SExp {
        .list([.token("data"), .list([.token("flags"), .token("eddsa")]), .pair("hash-algo", "sha512"), .pair("value", message)])
    }

    public func sign(message: [UInt8]) throws -> [UInt8] {
        let result = try PublicKeyOperation.sign(data: Ed25519PrivateKey.data(message), key: handle)
        guard let r = result.value(of: "r"), let s = result.value(of: "s"), r.count <= 32, s.count <= 32 else {
            throw CryptoError.library(code: -1, message: "no r/s in Ed25519 signature")
        }
        return [UInt8](repeating: 0, count: 32 - r.count) + r + [UInt8](repeating: 0, count: 32 - s.count) + s
    }
}
