import CGcrypt

/// An ECDSA public key on P-256 or P-384 (uncompressed point).
public struct ECDSAPublicKey: Equatable {
    public let curve: NISTCurve
    public let point: [UInt8]
    private let handle: KeyHandle

    public static func == (a: ECDSAPublicKey, b: ECDSAPublicKey) -> Bool { a.curve == b.curve && a.point == b.point }

    public init(curve: NISTCurve, point: [UInt8]) throws {
        let ctx = try CurveContext(curve)
        gcry_mpi_point_release(try ctx.decodePoint(point))
        self.curve = curve
        self.point = point
        self.handle = try KeyHandle(.list([.token("public-key"), .list([
            .token("ecc"), .pair("curve", curve.gcryName), .pair("q", point)])]))
    }

    /// Verifies a DER-encoded ECDSA-Sig-Value (as TLS and X.509 carry it).
    public func verify(signature: [UInt8], message: [UInt8], hash: HashAlgorithm) throws {
        let (r, s) = try ECDSASignatureCoding.decode(signature)
        let sig: SExp = .list([.token("sig-val"), .list([.token("ecdsa"), .pair("r", r), .pair("s", s)])])
        let data = PublicKeyOperation.hashData(["raw"], hash: hash, digest: Digest.hash(hash, message))
        try PublicKeyOperation.verify(signature: sig, data: data, key: handle)
    }
}

/// An ECDSA private key; signatures are deterministic (RFC 6979), which is
/// also the faster path in libgcrypt.
public struct ECDSAPrivateKey {
    public let publicKey: ECDSAPublicKey
    public let scalar: [UInt8]
    private let handle: KeyHandle

    public init(curve: NISTCurve, scalar: [UInt8]) throws {
        let pair = try NISTCurvePrivateKey(curve: curve, scalar: scalar)
        self.publicKey = try ECDSAPublicKey(curve: curve, point: pair.publicKeyBytes)
        self.scalar = pair.scalar
        self.handle = try KeyHandle(.list([.token("private-key"), .list([
            .token("ecc"), .pair("curve", curve.gcryName), .pair("q", pair.publicKeyBytes), .pair("d", pair.scalar)])]))
    }

    public var curve: NISTCurve { publicKey.curve }

    public func sign(message: [UInt8], hash: HashAlgorithm) throws -> [UInt8] {
        let data = PublicKeyOperation.hashData(["rfc6979"], hash: hash, digest: Digest.hash(hash, message))
        let result = try PublicKeyOperation.sign(data: data, key: handle)
        guard let r = result.value(of: "r"), let s = result.value(of: "s") else {
            throw CryptoError.library(code: -1, message: "no r/s in ECDSA signature")
        }
        return ECDSASignatureCoding.encode(r: r, s: s)
    }
}

/// DER coding of ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, strict:
/// minimal lengths and integers, positive values, no trailing bytes.
public enum ECDSASignatureCoding {
    public static func decode(_ der: [UInt8]) throws -> (r: [UInt8], s: [UInt8]) {
        var reader = DERReader(der)
        let seq = try reader.element(tag: 0x30)
        guard reader.atEnd else { throw CryptoError.malformedSignature("trailing bytes after ECDSA signature") }
        var inner = DERReader(seq)
        let r = try inner.positiveInteger()
        let s = try inner.positiveInteger()
        guard inner.atEnd else { throw CryptoError.malformedSignature("extra fields in ECDSA signature") }
        return (r, s)
    }

    public static func encode(r: [UInt8], s: [UInt8]) -> [UInt8] {
        func integer(_ v: [UInt8]) -> [UInt8] {
            var m = minimalUnsigned(v)
            if let f = m.first, f & 0x80 != 0 { m.insert(0, at: 0) }
            return [0x02] + length(m.count) + m
        }
        let body = integer(r) + integer(s)
        return [0x30] + length(body.count) + body
    }

    static func length(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        if n < 0x100 { return [0x81, UInt8(n)] }
        return [0x82, UInt8(n >> 8), UInt8(n & 0xff)]
    }
}

/// Just enough DER to read an ECDSA signature, without trapping on any input.
struct DERReader {
    private let bytes: [UInt8]
    private var index = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var atEnd: Bool { index == bytes.count }

    mutating func element(tag: UInt8) throws -> [UInt8] {
        guard index < bytes.count, bytes[index] == tag else { throw CryptoError.malformedSignature("expected DER tag \(tag)") }
        index += 1
        guard index < bytes.count else { throw CryptoError.malformedSignature("truncated DER length") }
        let first = bytes[index]; index += 1
        var len = 0
        if first < 0x80 {
            len = Int(first)
        } else {
            let count = Int(first & 0x7f)
            guard count >= 1, count <= 2, bytes.count - index >= count else { throw CryptoError.malformedSignature("bad DER length") }
            for _ in 0..<count { len = len << 8 | Int(bytes[index]); index += 1 }
            guard len >= 0x80, !(count == 2 && len < 0x100) else { throw CryptoError.malformedSignature("non-minimal DER length") }
        }
        guard bytes.count - index >= len else { throw CryptoError.malformedSignature("DER length beyond the data") }
        defer { index += len }
        return Array(bytes[index..<(index + len)])
    }

    mutating func positiveInteger() throws -> [UInt8] {
        let v = try element(tag: 0x02)
        guard let first = v.first else { throw CryptoError.malformedSignature("empty INTEGER") }
        guard first & 0x80 == 0 else { throw CryptoError.malformedSignature("negative INTEGER") }
        if first == 0 {
            guard v.count > 1, v[1] & 0x80 != 0 else { throw CryptoError.malformedSignature("non-minimal INTEGER") }
        }
        let m = minimalUnsigned(v)
        guard m != [0] else { throw CryptoError.malformedSignature("zero INTEGER") }
        return m
    }
}
