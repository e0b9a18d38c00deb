import CGcrypt

/// HMAC over SHA-2 (RFC 2104), one-shot or incremental.
public struct HMAC {
    public let algorithm: HashAlgorithm
    private let handle: DigestHandle

    public init<K: Collection>(_ algorithm: HashAlgorithm, key: K) where K.Element == UInt8 {
        self.algorithm = algorithm
        // HMAC zero-pads the key to the block size, so an empty key equals a
        // one-byte zero key; libgcrypt refuses zero-length keys.
        var k = Array(key)
        if k.isEmpty { k = [0] }
        let h: DigestHandle? = k.withUnsafeBytes { try? DigestHandle(algorithm, hmacKey: $0) }
        guard let opened = h else { fatalError("gcry_md_open(HMAC) failed for \(algorithm)") }
        self.handle = opened
    }

    public func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if bytes.withContiguousStorageIfAvailable({ handle.write(UnsafeRawBufferPointer($0)) }) == nil {
            Array(bytes).withUnsafeBytes { handle.write($0) }
        }
    }

    /// Returns the MAC and resets the state to "key set, nothing written".
    public func finalize() -> [UInt8] {
        let out = handle.readBytes()
        handle.reset()
        return out
    }

    public static func authenticate<K: Collection, M: Collection>(_ algorithm: HashAlgorithm, key: K, message: M) -> [UInt8]
    where K.Element == UInt8, M.Element == UInt8 {
        let mac = HMAC(algorithm, key: key)
        mac.update(message)
        return mac.finalize()
    }
}
