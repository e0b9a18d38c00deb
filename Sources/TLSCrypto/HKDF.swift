/// HKDF (RFC 5869), written over HMAC because libgcrypt 1.10 has none.
public enum HKDF {
    /// HKDF-Extract: an absent salt is a string of HashLen zeros.
    public static func extract(_ algorithm: HashAlgorithm, salt: [UInt8], ikm: [UInt8]) -> [UInt8] {
        let s = salt.isEmpty ? [UInt8](repeating: 0, count: algorithm.digestLength) : salt
        return HMAC.authenticate(algorithm, key: s, message: ikm)
    }

    /// HKDF-Expand: at most 255 * HashLen bytes.
    public static func expand(_ algorithm: HashAlgorithm, prk: [UInt8], info: [UInt8], length: Int) throws -> [UInt8] {
        let hashLen = algorithm.digestLength
        guard length >= 0, length <= 255 * hashLen else {
            throw CryptoError.invalidLength("HKDF-Expand length \(length) exceeds 255 * \(hashLen)")
        }
        guard prk.count >= hashLen else {
            throw CryptoError.invalidKeyLength(expected: hashLen, actual: prk.count)
        }
        var okm: [UInt8] = []
        okm.reserveCapacity(length + hashLen)
        var previous: [UInt8] = []
        var counter: UInt8 = 1
        let mac = HMAC(algorithm, key: prk)
        while okm.count < length {
            mac.update(previous)
            mac.update(info)
            mac.update(CollectionOfOne(counter))
            previous = mac.finalize()
            okm.append(contentsOf: previous)
            counter &+= 1
        }
        return Array(okm.prefix(length))
    }
}
