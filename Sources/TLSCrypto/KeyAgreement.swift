import CGcrypt

/// The elliptic-curve groups used for key agreement.
public enum KeyAgreementGroup: String, CaseIterable, Sendable {
    case x25519, p256, p384

    /// Length of the public key in TLS wire format (RFC 8446 4.2.8.2).
    public var publicKeyLength: Int {
        switch self {
        case .x25519: return 32
        case .p256: return 65
        case .p384: return 97
        }
    }

    public var sharedSecretLength: Int {
        switch self {
        case .x25519, .p256: return 32
        case .p384: return 48
        }
    }

    /// Creates an ephemeral key pair from `random`.
    public func generate(random: RandomSource) throws -> KeyAgreementPrivateKey {
        switch self {
        case .x25519:
            return .x25519(try X25519PrivateKey(rawRepresentation: random.bytes(32)))
        case .p256:
            return .nist(try NISTCurvePrivateKey.generate(.p256, random: random))
        case .p384:
            return .nist(try NISTCurvePrivateKey.generate(.p384, random: random))
        }
    }
}

/// An ephemeral private key for one of the `KeyAgreementGroup`s.
public enum KeyAgreementPrivateKey {
    case x25519(X25519PrivateKey)
    case nist(NISTCurvePrivateKey)

    public var group: KeyAgreementGroup {
        switch self {
        case .x25519: return .x25519
        case .nist(let k): return k.curve == .p256 ? .p256 : .p384
        }
    }

    public var publicKeyBytes: [UInt8] {
        switch self {
        case .x25519(let k): return k.publicKeyBytes
        case .nist(let k): return k.publicKeyBytes
        }
    }

    public func sharedSecret(peerPublicKey: [UInt8]) throws -> [UInt8] {
        switch self {
        case .x25519(let k): return try k.sharedSecret(peerPublicKey: peerPublicKey)
        case .nist(let k): return try k.sharedSecret(peerPublicKey: peerPublicKey)
        }
    }
}

/// X25519 (RFC 7748) through `gcry_ecc_mul_point`, which takes and returns
/// little-endian u-coordinates as the RFC writes them.
public struct X25519PrivateKey {
    public let rawRepresentation: [UInt8]
    public let publicKeyBytes: [UInt8]

    public init(rawRepresentation: [UInt8]) throws {
        guard rawRepresentation.count == 32 else {
            throw CryptoError.invalidKeyLength(expected: 32, actual: rawRepresentation.count)
        }
        self.rawRepresentation = rawRepresentation
        self.publicKeyBytes = try X25519PrivateKey.multiply(scalar: rawRepresentation, u: nil)
    }

    /// The raw RFC 7748 function X25519(k, u); `u == nil` means the base point 9.
    public static func multiply(scalar: [UInt8], u: [UInt8]?) throws -> [UInt8] {
        Gcrypt.ensureInitialized()
        guard scalar.count == 32 else { throw CryptoError.invalidKeyLength(expected: 32, actual: scalar.count) }
        if let u, u.count != 32 { throw CryptoError.invalidPublicKey("X25519 public key must be 32 bytes, not \(u.count)") }
        return try memoizedInFuzzing("x25519", [scalar, u ?? []]) {
        var out = [UInt8](repeating: 0, count: 32)
        let err: gpg_error_t = out.withUnsafeMutableBufferPointer { o in
            scalar.withUnsafeBufferPointer { s in
                if let u {
                    return u.withUnsafeBufferPointer { up in
                        gcry_ecc_mul_point(Int32(GCRY_ECC_CURVE25519.rawValue), o.baseAddress, s.baseAddress, up.baseAddress)
                    }
                }
                return gcry_ecc_mul_point(Int32(GCRY_ECC_CURVE25519.rawValue), o.baseAddress, s.baseAddress, nil)
            }
        }
        try Gcrypt.check(err)
        return out
        }
    }

    /// X25519 with the peer's public key; rejects the all-zero output that a
    /// low-order point produces (RFC 7748 section 6.1, RFC 8446 7.4.2).
    public func sharedSecret(peerPublicKey: [UInt8]) throws -> [UInt8] {
        let shared = try X25519PrivateKey.multiply(scalar: rawRepresentation, u: peerPublicKey)
        if shared.allSatisfy({ $0 == 0 }) { throw CryptoError.degenerateSharedSecret }
        return shared
    }
}

/// The NIST prime curves we support for ECDH and ECDSA.
public enum NISTCurve: String, Sendable, CaseIterable {
    case p256, p384

    public var fieldLength: Int { self == .p256 ? 32 : 48 }
    var gcryName: String { self == .p256 ? "NIST P-256" : "NIST P-384" }
    public var hash: HashAlgorithm { self == .p256 ? .sha256 : .sha384 }
}

/// Shared per-curve parameters, read once from libgcrypt.
final class CurveContext {
    let ctx: gcry_ctx_t
    let curve: NISTCurve

    init(_ curve: NISTCurve) throws {
        Gcrypt.ensureInitialized()
        var c: gcry_ctx_t? = nil
        try Gcrypt.check(gcry_mpi_ec_new(&c, nil, curve.gcryName))
        guard let made = c else { throw CryptoError.library(code: -1, message: "gcry_mpi_ec_new returned nothing") }
        self.ctx = made
        self.curve = curve
    }

    deinit { gcry_ctx_release(ctx) }

    func mpi(_ name: String) -> MPI? {
        gcry_mpi_ec_get_mpi(name, ctx, 1).map(MPI.init(raw:))
    }

    /// Parses an uncompressed SEC1 point and checks it lies on the curve.
    func decodePoint(_ bytes: [UInt8]) throws -> gcry_mpi_point_t {
        let fl = curve.fieldLength
        guard bytes.count == 1 + 2 * fl else {
            throw CryptoError.invalidPublicKey("\(curve.rawValue) point must be \(1 + 2 * fl) bytes, not \(bytes.count)")
        }
        guard bytes[0] == 0x04 else {
            throw CryptoError.invalidPublicKey("only uncompressed points (0x04) are accepted, not 0x\(String(bytes[0], radix: 16))")
        }
        let x = try MPI(unsigned: Array(bytes[1...fl]))
        let y = try MPI(unsigned: Array(bytes[(1 + fl)...]))
        guard let p = mpi("p") else { throw CryptoError.library(code: -1, message: "curve has no p") }
        guard x.compare(p) < 0, y.compare(p) < 0 else {
            throw CryptoError.invalidPublicKey("coordinate not below the field prime")
        }
        let one = MPI.new()
        gcry_mpi_set_ui(one.raw, 1)
        guard let point = gcry_mpi_point_set(nil, x.raw, y.raw, one.raw) else {
            throw CryptoError.library(code: -1, message: "gcry_mpi_point_set failed")
        }
        guard gcry_mpi_ec_curve_point(point, ctx) != 0 else {
            gcry_mpi_point_release(point)
            throw CryptoError.invalidPublicKey("point is not on \(curve.rawValue)")
        }
        return point
    }

    /// scalar * point (the generator when `point` is nil), as an uncompressed point
    /// or (for ECDH) just the x-coordinate.
    func multiply(scalar: MPI, point: gcry_mpi_point_t?, xOnly: Bool) throws -> [UInt8] {
        let result = gcry_mpi_point_new(0)
        defer { gcry_mpi_point_release(result) }
        if let point {
            gcry_mpi_ec_mul(result, scalar.raw, point, ctx)
        } else {
            guard let g = gcry_mpi_ec_get_point("g", ctx, 1) else {
                throw CryptoError.library(code: -1, message: "curve has no generator")
            }
            defer { gcry_mpi_point_release(g) }
            gcry_mpi_ec_mul(result, scalar.raw, g, ctx)
        }
        let x = MPI.new(), y = MPI.new()
        guard gcry_mpi_ec_get_affine(x.raw, y.raw, result, ctx) == 0 else {
            throw CryptoError.degenerateSharedSecret
        }
        let fl = curve.fieldLength
        if xOnly { return try x.bytes(paddedTo: fl) }
        return [0x04] + (try x.bytes(paddedTo: fl)) + (try y.bytes(paddedTo: fl))
    }
}

/// A private key on P-256 or P-384: the scalar d and its public point.
public struct NISTCurvePrivateKey {
    public let curve: NISTCurve
    /// d, big-endian, `curve.fieldLength` bytes.
    public let scalar: [UInt8]
    /// The uncompressed point 04 || X || Y.
    public let publicKeyBytes: [UInt8]

    public init(curve: NISTCurve, scalar: [UInt8]) throws {
        let ctx = try CurveContext(curve)
        guard scalar.count <= curve.fieldLength else {
            throw CryptoError.invalidPrivateKey("scalar longer than \(curve.fieldLength) bytes")
        }
        let d = try MPI(unsigned: scalar, secret: true)
        guard let n = ctx.mpi("n") else { throw CryptoError.library(code: -1, message: "curve has no order") }
        guard !d.isZero, d.compare(n) < 0 else {
            throw CryptoError.invalidPrivateKey("scalar out of range [1, n-1]")
        }
        self.curve = curve
        self.scalar = [UInt8](repeating: 0, count: curve.fieldLength - scalar.count) + scalar
        self.publicKeyBytes = try memoizedInFuzzing("nist-public", [Array(curve.rawValue.utf8), scalar]) {
            try ctx.multiply(scalar: d, point: nil, xOnly: false)
        }
    }

    /// Draws scalars from `random` until one lies in [1, n-1] (rejection sampling).
    public static func generate(_ curve: NISTCurve, random: RandomSource) throws -> NISTCurvePrivateKey {
        for _ in 0..<64 {
            let candidate = random.bytes(curve.fieldLength)
            if let key = try? NISTCurvePrivateKey(curve: curve, scalar: candidate) { return key }
        }
        throw CryptoError.invalidPrivateKey("random source produced no valid scalar in 64 tries")
    }

    /// ECDH: the x-coordinate of d * peer, after checking the peer point.
    public func sharedSecret(peerPublicKey: [UInt8]) throws -> [UInt8] {
        try memoizedInFuzzing("nist-ecdh", [Array(curve.rawValue.utf8), scalar, peerPublicKey]) {
        let ctx = try CurveContext(curve)
        let point = try ctx.decodePoint(peerPublicKey)
        defer { gcry_mpi_point_release(point) }
        let d = try MPI(unsigned: scalar, secret: true)
        return try ctx.multiply(scalar: d, point: point, xOnly: true)
        }
    }
}
