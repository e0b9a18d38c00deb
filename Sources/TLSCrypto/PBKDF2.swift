import CGcrypt

/// Password-based key derivation and CBC decryption, for encrypted PKCS#8 keys (PBES2).
public enum PasswordBasedEncryption {
    /// The PRFs PBES2 names; HMAC-SHA1 is PKCS#5's historical default and only ever used here.
    public enum PRF: Sendable { case hmacSHA1, hmacSHA256, hmacSHA384, hmacSHA512
        var gcry: UInt {
            switch self {
            case .hmacSHA1: return UInt(GCRY_MD_SHA1.rawValue)
            case .hmacSHA256: return UInt(GCRY_MD_SHA256.rawValue)
            case .hmacSHA384: return UInt(GCRY_MD_SHA384.rawValue)
            case .hmacSHA512: return UInt(GCRY_MD_SHA512.rawValue)
            }
        }
    }

    public static func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int, keyLength: Int, prf: PRF) throws -> [UInt8] {
        Gcrypt.ensureInitialized()
        guard iterations >= 1, iterations <= 10_000_000 else { throw CryptoError.invalidLength("PBKDF2 iteration count \(iterations)") }
        guard keyLength >= 1, keyLength <= 64 else { throw CryptoError.invalidLength("PBKDF2 key length \(keyLength)") }
        var out = [UInt8](repeating: 0, count: keyLength)
        let pw = password.isEmpty ? [0] : password
        let err = out.withUnsafeMutableBytes { o in
            pw.withUnsafeBytes { p in
                salt.withUnsafeBytes { s in
                    gcry_kdf_derive(p.baseAddress, password.count, Int32(GCRY_KDF_PBKDF2.rawValue), Int32(prf.gcry),
                                    s.baseAddress, s.count, UInt(iterations), keyLength, o.baseAddress)
                }
            }
        }
        try Gcrypt.check(err)
        return out
    }

    /// AES-CBC decryption with PKCS#7 padding removal (key of 16, 24 or 32 bytes).
    public static func aesCBCDecrypt(key: [UInt8], iv: [UInt8], ciphertext: [UInt8]) throws -> [UInt8] {
        Gcrypt.ensureInitialized()
        let algo: Int32
        switch key.count {
        case 16: algo = Int32(GCRY_CIPHER_AES.rawValue)
        case 24: algo = Int32(GCRY_CIPHER_AES192.rawValue)
        case 32: algo = Int32(GCRY_CIPHER_AES256.rawValue)
        default: throw CryptoError.invalidKeyLength(expected: 32, actual: key.count)
        }
        guard iv.count == 16 else { throw CryptoError.invalidNonceLength(expected: 16, actual: iv.count) }
        guard !ciphertext.isEmpty, ciphertext.count % 16 == 0 else { throw CryptoError.decryptionFailed }
        var h: gcry_cipher_hd_t? = nil
        try Gcrypt.check(gcry_cipher_open(&h, algo, Int32(GCRY_CIPHER_MODE_CBC.rawValue), 0))
        guard let hd = h else { throw CryptoError.library(code: -1, message: "gcry_cipher_open returned no handle") }
        defer { gcry_cipher_close(hd) }
        try key.withUnsafeBytes { try Gcrypt.check(gcry_cipher_setkey(hd, $0.baseAddress, $0.count)) }
        try iv.withUnsafeBytes { try Gcrypt.check(tls_gcry_cipher_setiv(hd, $0.baseAddress, $0.count)) }
        var buf = ciphertext
        try buf.withUnsafeMutableBytes { try Gcrypt.check(tls_gcry_cipher_decrypt_inplace(hd, $0.baseAddress, $0.count)) }
        guard let pad = buf.last, pad >= 1, pad <= 16, buf.count >= Int(pad),
              buf.suffix(Int(pad)).allSatisfy({ $0 == pad }) else {
            throw CryptoError.decryptionFailed
        }
        buf.removeLast(Int(pad))
        return buf
    }
}
