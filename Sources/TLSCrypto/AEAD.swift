import CGcrypt

/// The AEAD algorithms of TLS 1.2 and 1.3 (RFC 5116 interface).
public enum AEADAlgorithm: String, CaseIterable, Sendable {
    case aes128GCM, aes256GCM, chacha20Poly1305

    public var keyLength: Int {
        switch self {
        case .aes128GCM: return 16
        case .aes256GCM, .chacha20Poly1305: return 32
        }
    }

    public var nonceLength: Int { 12 }
    public var tagLength: Int { 16 }

    var gcryCipher: Int32 {
        switch self {
        case .aes128GCM: return Int32(GCRY_CIPHER_AES.rawValue)
        case .aes256GCM: return Int32(GCRY_CIPHER_AES256.rawValue)
        case .chacha20Poly1305: return Int32(GCRY_CIPHER_CHACHA20.rawValue)
        }
    }

    var gcryMode: Int32 {
        switch self {
        case .aes128GCM, .aes256GCM: return Int32(GCRY_CIPHER_MODE_GCM.rawValue)
        case .chacha20Poly1305: return Int32(GCRY_CIPHER_MODE_POLY1305.rawValue)
        }
    }
}

/// An AEAD key with its libgcrypt cipher handle, set up once and reused for
/// every record sealed or opened under it. Not safe to share between threads
/// (one direction of one connection owns it).
public final class AEADKey {
    public let algorithm: AEADAlgorithm
    private let handle: gcry_cipher_hd_t

    public init<K: Collection>(_ algorithm: AEADAlgorithm, key: K) throws where K.Element == UInt8 {
        Gcrypt.ensureInitialized()
        let keyBytes = Array(key)
        guard keyBytes.count == algorithm.keyLength else {
            throw CryptoError.invalidKeyLength(expected: algorithm.keyLength, actual: keyBytes.count)
        }
        var h: gcry_cipher_hd_t? = nil
        try Gcrypt.check(gcry_cipher_open(&h, algorithm.gcryCipher, algorithm.gcryMode, 0))
        guard let opened = h else { throw CryptoError.library(code: -1, message: "gcry_cipher_open returned no handle") }
        let err = keyBytes.withUnsafeBytes { gcry_cipher_setkey(opened, $0.baseAddress, $0.count) }
        if err != 0 { gcry_cipher_close(opened); throw Gcrypt.error(err) }
        self.algorithm = algorithm
        self.handle = opened
    }

    deinit { gcry_cipher_close(handle) }

    private func start(nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer) throws {
        guard nonce.count == algorithm.nonceLength else {
            throw CryptoError.invalidNonceLength(expected: algorithm.nonceLength, actual: nonce.count)
        }
        try Gcrypt.check(tls_gcry_cipher_setiv(handle, nonce.baseAddress, nonce.count))
        if aad.count > 0 {
            try Gcrypt.check(gcry_cipher_authenticate(handle, aad.baseAddress, aad.count))
        }
    }

    /// Encrypts `buffer` in place and writes the tag into `tag` (exactly `tagLength` bytes).
    public func seal(nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
                     buffer: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer) throws {
        guard tag.count == algorithm.tagLength else {
            throw CryptoError.invalidLength("tag buffer must be \(algorithm.tagLength) bytes, not \(tag.count)")
        }
        try start(nonce: nonce, aad: aad)
        // libgcrypt wants the final data call flagged when it is the only one.
        try Gcrypt.check(tls_gcry_cipher_final(handle))
        if buffer.count > 0 {
            try Gcrypt.check(tls_gcry_cipher_encrypt_inplace(handle, buffer.baseAddress, buffer.count))
        }
        try Gcrypt.check(gcry_cipher_gettag(handle, tag.baseAddress, tag.count))
    }

    // MARK: Stepwise sealing
    // For a record built around its content: begin, encrypt the content's first
    // bytes (a multiple of 64) straight from the caller's memory into the record,
    // then finish over the rest in place. GCM and ChaCha20-Poly1305 accept any
    // number of such steps before the last; the result is that of `seal`.

    /// Sets the nonce and the additional data of a record to seal stepwise.
    public func beginSeal(nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer) throws {
        try start(nonce: nonce, aad: aad)
    }

    /// Encrypts `count` bytes (a multiple of 64) from `input` to `output` (not overlapping).
    public func sealStep(from input: UnsafeRawPointer, to output: UnsafeMutableRawPointer, count: Int) throws {
        guard count % 64 == 0 else { throw CryptoError.invalidLength("a sealing step must be a multiple of 64 bytes, not \(count)") }
        guard count > 0 else { return }
        try Gcrypt.check(gcry_cipher_encrypt(handle, output, count, input, count))
    }

    /// Encrypts the rest of the plaintext in place and writes the tag.
    public func finishSeal(buffer: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer) throws {
        guard tag.count == algorithm.tagLength else {
            throw CryptoError.invalidLength("tag buffer must be \(algorithm.tagLength) bytes, not \(tag.count)")
        }
        try Gcrypt.check(tls_gcry_cipher_final(handle))
        if buffer.count > 0 {
            try Gcrypt.check(tls_gcry_cipher_encrypt_inplace(handle, buffer.baseAddress, buffer.count))
        }
        try Gcrypt.check(gcry_cipher_gettag(handle, tag.baseAddress, tag.count))
    }

    /// Decrypts `buffer` in place after checking `tag`. On failure the buffer is
    /// zeroed so no unauthenticated plaintext escapes.
    public func open(nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
                     buffer: UnsafeMutableRawBufferPointer, tag: UnsafeRawBufferPointer) throws {
        guard tag.count == algorithm.tagLength else { throw CryptoError.authenticationFailure }
        try start(nonce: nonce, aad: aad)
        try Gcrypt.check(tls_gcry_cipher_final(handle))
        if buffer.count > 0 {
            try Gcrypt.check(tls_gcry_cipher_decrypt_inplace(handle, buffer.baseAddress, buffer.count))
        }
        let err = gcry_cipher_checktag(handle, tag.baseAddress, tag.count)
        if err != 0 {
            if let base = buffer.baseAddress { base.initializeMemory(as: UInt8.self, repeating: 0, count: buffer.count) }
            throw CryptoError.authenticationFailure
        }
    }

    /// Convenience: returns ciphertext || tag.
    public func seal(nonce: [UInt8], aad: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        var out = plaintext + [UInt8](repeating: 0, count: algorithm.tagLength)
        let n = plaintext.count
        try out.withUnsafeMutableBytes { raw in
            try nonce.withUnsafeBytes { nb in
                try aad.withUnsafeBytes { ab in
                    try seal(nonce: nb, aad: ab, buffer: UnsafeMutableRawBufferPointer(rebasing: raw[0..<n]),
                             tag: UnsafeMutableRawBufferPointer(rebasing: raw[n...]))
                }
            }
        }
        return out
    }

    /// Convenience: takes ciphertext || tag, returns the plaintext.
    public func open(nonce: [UInt8], aad: [UInt8], ciphertextAndTag: [UInt8]) throws -> [UInt8] {
        guard ciphertextAndTag.count >= algorithm.tagLength else { throw CryptoError.authenticationFailure }
        var buf = ciphertextAndTag
        let n = buf.count - algorithm.tagLength
        try buf.withUnsafeMutableBytes { raw in
            try nonce.withUnsafeBytes { nb in
                try aad.withUnsafeBytes { ab in
                    try open(nonce: nb, aad: ab, buffer: UnsafeMutableRawBufferPointer(rebasing: raw[0..<n]),
                             tag: UnsafeRawBufferPointer(rebasing: raw[n...]))
                }
            }
        }
        buf.removeLast(algorithm.tagLength)
        return buf
    }
}
