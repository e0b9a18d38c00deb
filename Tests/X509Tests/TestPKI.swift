import Foundation
import TLSCrypto
import X509

/// Builds certificates in tests (DER by hand, signed with TLSCrypto keys), for the
/// cases the corpus does not cover.
enum TestPKI {
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        let n = content.count
        let len: [UInt8]
        if n < 0x80 { len = [UInt8(n)] } else if n < 0x100 { len = [0x81, UInt8(n)] } else { len = [0x82, UInt8(n >> 8), UInt8(n & 0xff)] }
        return [tag] + len + content
    }
    static func seq(_ parts: [UInt8]...) -> [UInt8] { tlv(0x30, parts.flatMap { $0 }) }
    static func oid(_ o: OID) -> [UInt8] { tlv(0x06, o.derContent) }
    static func int(_ v: Int) -> [UInt8] {
        var b: [UInt8] = []
        var x = v
        repeat { b.insert(UInt8(x & 0xff), at: 0); x >>= 8 } while x > 0
        if let f = b.first, f & 0x80 != 0 { b.insert(0, at: 0) }
        return tlv(0x02, b)
    }
    static func octets(_ b: [UInt8]) -> [UInt8] { tlv(0x04, b) }
    static func bits(_ b: [UInt8], unused: UInt8 = 0) -> [UInt8] { tlv(0x03, [unused] + b) }
    static func utc(_ t: X509Time) -> [UInt8] {
        let c = t.components
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        if c.year >= 1950 && c.year < 2050 {
            return tlv(0x17, Array("\(two(c.year % 100))\(two(c.month))\(two(c.day))\(two(c.hour))\(two(c.minute))\(two(c.second))Z".utf8))
        }
        return tlv(0x18, Array("\(c.year)\(two(c.month))\(two(c.day))\(two(c.hour))\(two(c.minute))\(two(c.second))Z".utf8))
    }

    struct Ext {
        let oid: OID
        let critical: Bool
        let value: [UInt8]
    }

    static func basicConstraints(ca: Bool, pathLen: Int? = nil) -> Ext {
        var body: [UInt8] = ca ? [0x01, 0x01, 0xff] : []
        if let p = pathLen { body += int(p) }
        return Ext(oid: .basicConstraints, critical: true, value: tlv(0x30, body))
    }
    static func keyUsage(_ bitsByte: UInt8) -> Ext {
        var unused: UInt8 = 0
        while unused < 7, bitsByte & (1 << unused) == 0 { unused += 1 }
        return Ext(oid: .keyUsage, critical: true, value: bits([bitsByte], unused: unused))
    }
    static func eku(_ oids: [OID]) -> Ext { Ext(oid: .extKeyUsage, critical: false, value: tlv(0x30, oids.flatMap(oid))) }
    static func sanDNS(_ names: [String]) -> Ext {
        Ext(oid: .subjectAltName, critical: false, value: tlv(0x30, names.flatMap { tlv(0x82, Array($0.utf8)) }))
    }
    static func ski(_ id: [UInt8]) -> Ext { Ext(oid: .subjectKeyIdentifier, critical: false, value: octets(id)) }
    static func aki(_ id: [UInt8]) -> Ext { Ext(oid: .authorityKeyIdentifier, critical: false, value: seq(tlv(0x80, id))) }
    static func nameConstraintsDNS(permitted: [String]) -> Ext {
        let subtrees = permitted.flatMap { seq(tlv(0x82, Array($0.utf8))) }
        return Ext(oid: .nameConstraints, critical: true, value: seq(tlv(0xa0, subtrees)))
    }

    /// The AlgorithmIdentifier DER for signing with `key`.
    static func algorithm(for key: PrivateKey) -> (der: [UInt8], alg: SignatureAlgorithm) {
        switch key {
        case .rsa: return (seq(oid(.sha256WithRSAEncryption), [0x05, 0x00]), .rsaPKCS1(.sha256))
        case .ecdsa(let k):
            return k.curve == .p256 ? (seq(oid(.ecdsaWithSHA256)), .ecdsa(.sha256)) : (seq(oid(.ecdsaWithSHA384)), .ecdsa(.sha384))
        case .ed25519: return (seq(oid(.ed25519)), .ed25519)
        }
    }

    static func spki(_ key: PublicKey) -> [UInt8] {
        switch key {
        case .ecdsa(let k):
            return seq(seq(oid(.ecPublicKey), oid(k.curve == .p256 ? .secp256r1 : .secp384r1)), bits(k.point))
        case .ed25519(let k):
            return seq(seq(oid(.ed25519)), bits(k.rawRepresentation))
        case .rsa(let k):
            func uint(_ b: [UInt8]) -> [UInt8] { tlv(0x02, (b.first.map { $0 & 0x80 != 0 } ?? true) ? [0] + b : b) }
            return seq(seq(oid(.rsaEncryption), [0x05, 0x00]), bits(seq(uint(k.modulus), uint(k.exponent))))
        }
    }

    /// A signed certificate.
    static func certificate(subject: String, issuer: String, subjectKey: PublicKey, issuerKey: PrivateKey,
                            notBefore: X509Time = X509Time(secondsSinceEpoch: 1_735_689_600),
                            notAfter: X509Time = X509Time(secondsSinceEpoch: 2_051_222_400),
                            extensions: [Ext], serial: Int = 1, version: Int = 3) throws -> Certificate {
        try Certificate(derEncoded: try certificateDER(subject: subject, issuer: issuer, subjectKey: subjectKey, issuerKey: issuerKey,
                                                       notBefore: notBefore, notAfter: notAfter, extensions: extensions,
                                                       serial: serial, version: version))
    }

    /// The DER of a signed certificate, not parsed (so it may be malformed on purpose).
    static func certificateDER(subject: String, issuer: String, subjectKey: PublicKey, issuerKey: PrivateKey,
                               notBefore: X509Time = X509Time(secondsSinceEpoch: 1_735_689_600),
                               notAfter: X509Time = X509Time(secondsSinceEpoch: 2_051_222_400),
                               extensions: [Ext], serial: Int = 1, version: Int = 3) throws -> [UInt8] {
        let (algDER, alg) = algorithm(for: issuerKey)
        var tbs: [UInt8] = []
        if version > 1 { tbs += tlv(0xa0, int(version - 1)) }
        tbs += int(serial)
        tbs += algDER
        tbs += try DistinguishedName(rfc4514: issuer).der
        tbs += seq(utc(notBefore), utc(notAfter))
        tbs += try DistinguishedName(rfc4514: subject).der
        tbs += spki(subjectKey)
        if !extensions.isEmpty {
            let list = extensions.flatMap { e in
                seq(oid(e.oid), e.critical ? [0x01, 0x01, 0xff] : [], octets(e.value))
            }
            tbs += tlv(0xa3, seq(list))
        }
        let tbsDER = tlv(0x30, tbs)
        let signature = try issuerKey.sign(message: tbsDER, algorithm: alg)
        return seq(tbsDER, algDER, bits(signature))
    }

    static func key(_ relative: String) throws -> PrivateKey {
        try PrivateKeyParser.parse(try Corpus.bytes(relative)).key
    }

    static func newP256() throws -> PrivateKey {
        .ecdsa(try ECDSAPrivateKey(curve: .p256, scalar: SystemRandom.shared.bytes(31) + [1]))
    }
}
