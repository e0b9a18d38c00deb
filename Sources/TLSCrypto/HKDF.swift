/// HKDF (RFC 5869), written over HMAC because libgcrypt 1.10 has none.
public enum HKDF {
    /// HKDF-Extract: an absent salt is a string of HashLen zeros.
    public static func extract(_ algorithm: HashAlgorithm, salt: [UInt8], ikm: [UInt8]) -> [UInt8] {
        let s = salt.isEmpty ? [UInt8](repeating: 0, count: algorithm.digestLength) : salt
        return HMAC.authenticate(algorithm, key: s, message: ikm)
    }

    /// HKDF-Expand: at most 255 * HashLen bytes.
    public static func expand(_ algorithm: HashAlgorithm, prk: [UInt8], info: [UInt8], length: Int) throws -> [UInt8] {
        try info.withUnsafeBytes { try expand(algorithm, prk: prk, info: $0, length: length) }
    }

    /// HKDF-Expand with `info` in the caller's memory (e.g. a label built on the stack).
    public static func expand(_ algorithm: HashAlgorithm, prk: [UInt8], info: UnsafeRawBufferPointer, length: Int) throws -> [UInt8] {
        let hashLen = algorithm.digestLength
        guard length >= 0, length <= 255 * hashLen else {
            throw CryptoError.invalidLength("HKDF-Expand length \(length) exceeds 255 * \(hashLen)")
        }
        guard prk.count >= hashLen else {
            throw CryptoError.invalidKeyLength(expected: hashLen, actual: prk.count)
        }
        // T(i) = HMAC(prk, T(i-1) || info || i), each one-shot (HMAC.oneShot: no handle).
        let blocks = (length + hashLen - 1) / hashLen
        var okm = [UInt8](repeating: 0, count: blocks * hashLen)
        prk.withUnsafeBytes { key in
            okm.withUnsafeMutableBytes { out in
                var counter: UInt8 = 1
                for i in 0..<blocks {
                    let previous = i == 0 ? UnsafeRawBufferPointer(start: nil, count: 0)
                                          : UnsafeRawBufferPointer(rebasing: out[((i - 1) * hashLen)..<(i * hashLen)])
                    withUnsafeBytes(of: counter) { c in
                        HMAC.oneShot(algorithm, key: key, previous, info, c,
                                     into: UnsafeMutableRawBufferPointer(rebasing: out[(i * hashLen)..<((i + 1) * hashLen)]))
                    }
                    counter &+= 1
                }
            }
        }
        if okm.count > length { okm.removeLast(okm.count - length) }
        return okm
    }
}
