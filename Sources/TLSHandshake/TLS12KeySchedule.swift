import TLSCrypto

/// The TLS 1.2 pseudo-random function (RFC 5246 section 5) and the values
/// derived with it: master secret (plain and extended, RFC 7627), key block,
/// Finished verify_data and exporters (RFC 5705).
public enum TLS12PRF {
    /// PRF(secret, label, seed) = P_hash(secret, label + seed), `length` bytes.
    public static func prf(_ hash: HashAlgorithm, secret: [UInt8], label: String, seed: [UInt8], length: Int) -> [UInt8] {
        var labelSeed: [UInt8] = []
        labelSeed.reserveCapacity(label.utf8.count + seed.count)
        labelSeed.append(contentsOf: label.utf8)
        labelSeed.append(contentsOf: seed)
        let n = hash.digestLength
        let blocks = (length + n - 1) / n
        var out = [UInt8](repeating: 0, count: blocks * n)
        // A(1) = HMAC(secret, labelSeed); block i = HMAC(secret, A(i) || labelSeed);
        // A(i+1) = HMAC(secret, A(i)). One-shot HMACs: no libgcrypt handle per call.
        withUnsafeTemporaryAllocation(byteCount: n, alignment: 16) { a in
            secret.withUnsafeBytes { key in
                labelSeed.withUnsafeBytes { ls in
                    out.withUnsafeMutableBytes { o in
                        HMAC.oneShot(hash, key: key, ls, into: a)
                        for i in 0..<blocks {
                            HMAC.oneShot(hash, key: key, UnsafeRawBufferPointer(a), ls,
                                         into: UnsafeMutableRawBufferPointer(rebasing: o[(i * n)..<((i + 1) * n)]))
                            if i + 1 < blocks { HMAC.oneShot(hash, key: key, UnsafeRawBufferPointer(a), into: a) }
                        }
                    }
                }
            }
            a.initializeMemory(as: UInt8.self, repeating: 0)
        }
        if out.count > length { out.removeLast(out.count - length) }
        return out
    }

    public static func masterSecret(_ hash: HashAlgorithm, preMasterSecret: [UInt8], clientRandom: [UInt8], serverRandom: [UInt8]) -> [UInt8] {
        prf(hash, secret: preMasterSecret, label: "master secret", seed: clientRandom + serverRandom, length: 48)
    }

    public static func extendedMasterSecret(_ hash: HashAlgorithm, preMasterSecret: [UInt8], sessionHash: [UInt8]) -> [UInt8] {
        prf(hash, secret: preMasterSecret, label: "extended master secret", seed: sessionHash, length: 48)
    }

    /// The write keys and IVs: client key, server key, client IV, server IV.
    public static func keyBlock(_ suite: CipherSuite, masterSecret: [UInt8], clientRandom: [UInt8], serverRandom: [UInt8])
        -> (clientKey: [UInt8], serverKey: [UInt8], clientIV: [UInt8], serverIV: [UInt8]) {
        let keyLength = suite.aead.keyLength
        let ivLength = fixedIVLength(suite)
        let block = prf(suite.hash, secret: masterSecret, label: "key expansion", seed: serverRandom + clientRandom,
                        length: 2 * keyLength + 2 * ivLength)
        let ck = Array(block[0..<keyLength])
        let sk = Array(block[keyLength..<(2 * keyLength)])
        let civ = Array(block[(2 * keyLength)..<(2 * keyLength + ivLength)])
        let siv = Array(block[(2 * keyLength + ivLength)...])
        return (ck, sk, civ, siv)
    }

    /// AES-GCM takes a 4-byte implicit salt (RFC 5288); ChaCha20-Poly1305 a 12-byte IV (RFC 7905).
    static func fixedIVLength(_ suite: CipherSuite) -> Int { suite.aead == .chacha20Poly1305 ? 12 : 4 }

    public static func verifyData(_ hash: HashAlgorithm, masterSecret: [UInt8], client: Bool, transcriptHash: [UInt8]) -> [UInt8] {
        prf(hash, secret: masterSecret, label: client ? "client finished" : "server finished", seed: transcriptHash, length: 12)
    }

    /// RFC 5705 keying-material exporter.
    public static func exporter(_ hash: HashAlgorithm, masterSecret: [UInt8], label: String, clientRandom: [UInt8], serverRandom: [UInt8],
                                context: [UInt8]?, length: Int) -> [UInt8] {
        var seed = clientRandom + serverRandom
        if let context {
            seed += [UInt8(context.count >> 8), UInt8(context.count & 0xff)] + context
        }
        return prf(hash, secret: masterSecret, label: label, seed: seed, length: length)
    }
}

extension CipherSuite {
    /// TLS 1.2 suites: whether the certificate key must be ECDSA/EdDSA (else RSA).
    var requiresECDSACertificate: Bool {
        switch self {
        case .ecdheECDSAWithAES128GCMSHA256, .ecdheECDSAWithAES256GCMSHA384, .ecdheECDSAWithCHACHA20POLY1305SHA256: return true
        default: return false
        }
    }

    func acceptsKey(_ key: PublicKey) -> Bool {
        switch key {
        case .rsa: return !requiresECDSACertificate
        case .ecdsa, .ed25519: return requiresECDSACertificate
        }
    }
}
