import TLSCrypto

/// Makes a self-signed ECDSA P-256 certificate for a server that was given
/// none (tls-server's default, test peers). DER is written by hand: the
/// structure is fixed and small.
public enum SelfSignedCertificate {
    public struct Made {
        public let certificate: Certificate
        public let privateKey: PrivateKey
        public let pem: String
    }

    /// `names` become DNS or IP subjectAltNames; the first is also the CN.
    public static func make(names: [String] = ["localhost", "127.0.0.1", "::1"], validDays: Int = 30,
                            now: Int64, random: RandomSource = SystemRandom.shared) throws -> Made {
        let key = try ECDSAPrivateKey(curve: .p256, scalar: NISTCurvePrivateKey.generate(.p256, random: random).scalar)
        let ecdsaWithSHA256 = der(0x30, oid([1, 2, 840, 10045, 4, 3, 2]))
        let name = der(0x30, der(0x31, der(0x30, oid([2, 5, 4, 3]) + der(0x0c, Array((names.first ?? "localhost").utf8)))))
        let validity = der(0x30, generalizedTime(now - 3600) + generalizedTime(now + Int64(validDays) * 86400))
        let spki = der(0x30, der(0x30, oid([1, 2, 840, 10045, 2, 1]) + oid([1, 2, 840, 10045, 3, 1, 7]))
                        + der(0x03, [0] + key.publicKey.point))
        var sans: [UInt8] = []
        for n in names {
            if let ip = IPAddress.parse(n) { sans += der(0x87, ip) } else { sans += der(0x82, Array(n.utf8)) }
        }
        let extensions = der(0xa3, der(0x30,
            der(0x30, oid([2, 5, 29, 17]) + der(0x04, der(0x30, sans)))
            + der(0x30, oid([2, 5, 29, 15]) + der(0x01, [0xff]) + der(0x04, der(0x03, [0x07, 0x80])))
            + der(0x30, oid([2, 5, 29, 37]) + der(0x04, der(0x30, oid([1, 3, 6, 1, 5, 5, 7, 3, 1]))))
        ))
        var serial = random.bytes(16)
        serial[0] &= 0x7f
        serial[0] |= 0x01
        let tbs = der(0x30, der(0xa0, der(0x02, [2])) + der(0x02, serial) + ecdsaWithSHA256 + name + validity + name + spki + extensions)
        let signature = try key.sign(message: tbs, hash: .sha256)
        let certDER = der(0x30, tbs + ecdsaWithSHA256 + der(0x03, [0] + signature))
        let cert = try Certificate(derEncoded: certDER)
        return Made(certificate: cert, privateKey: .ecdsa(key), pem: cert.pemString)
    }

    static func der(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [tag]
        let n = content.count
        if n < 0x80 { out.append(UInt8(n)) }
        else if n < 0x100 { out += [0x81, UInt8(n)] }
        else if n < 0x10000 { out += [0x82, UInt8(n >> 8), UInt8(n & 0xff)] }
        else { out += [0x83, UInt8(n >> 16), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] }
        return out + content
    }

    static func oid(_ arcs: [UInt]) -> [UInt8] {
        var body: [UInt8] = [UInt8(arcs[0] * 40 + arcs[1])]
        for arc in arcs.dropFirst(2) {
            var chunk: [UInt8] = [UInt8(arc & 0x7f)]
            var v = arc >> 7
            while v > 0 { chunk.insert(UInt8(v & 0x7f) | 0x80, at: 0); v >>= 7 }
            body += chunk
        }
        return der(0x06, body)
    }

    static func generalizedTime(_ t: Int64) -> [UInt8] {
        let c = X509Time(secondsSinceEpoch: t).components
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let s = "\(c.year)" + two(c.month) + two(c.day) + two(c.hour) + two(c.minute) + two(c.second) + "Z"
        return der(0x18, Array(s.utf8))
    }
}
