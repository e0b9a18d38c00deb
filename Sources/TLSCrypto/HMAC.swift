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
        let k = Array(key), m = Array(message)
        var out = [UInt8](repeating: 0, count: algorithm.digestLength)
        k.withUnsafeBytes { kb in
            m.withUnsafeBytes { mb in
                out.withUnsafeMutableBytes { HMAC.oneShot(algorithm, key: kb, mb, into: $0) }
            }
        }
        return out
    }

    /// HMAC(key, a || b || c) into `out` (at least digestLength bytes) as two
    /// hashes of gathered buffers (gcry_md_hash_buffers): no libgcrypt handle
    /// is opened, keyed and wiped, which cost 2-3 times the hashing itself for
    /// the short messages of the TLS key schedules. `out` may overlap the inputs.
    public static func oneShot(_ algorithm: HashAlgorithm, key: UnsafeRawBufferPointer, _ a: UnsafeRawBufferPointer,
                        _ b: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                        _ c: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                        into out: UnsafeMutableRawBufferPointer) {
        Gcrypt.ensureInitialized()
        let blockLength = algorithm.blockLength, digestLength = algorithm.digestLength
        precondition(out.count >= digestLength, "HMAC output buffer too small")
        withUnsafeTemporaryAllocation(byteCount: 2 * blockLength + digestLength, alignment: 16) { tmp in
            let ipad = tmp.baseAddress!, opad = ipad + blockLength, inner = opad + blockLength
            ipad.initializeMemory(as: UInt8.self, repeating: 0, count: blockLength)
            if key.count > blockLength {
                gcry_md_hash_buffer(algorithm.gcryAlgorithm, ipad, key.baseAddress, key.count)
            } else if key.count > 0 {
                ipad.copyMemory(from: key.baseAddress!, byteCount: key.count)
            }
            let ip = ipad.assumingMemoryBound(to: UInt8.self), op = opad.assumingMemoryBound(to: UInt8.self)
            for i in 0..<blockLength {
                let k = ip[i]
                ip[i] = k ^ 0x36
                op[i] = k ^ 0x5c
            }
            func buffer(_ p: UnsafeRawPointer?, _ n: Int) -> gcry_buffer_t {
                gcry_buffer_t(size: 0, off: 0, len: n, data: UnsafeMutableRawPointer(mutating: p))
            }
            var iov = (buffer(ipad, blockLength), buffer(a.baseAddress, a.count), buffer(b.baseAddress, b.count),
                       buffer(c.baseAddress, c.count))
            let err1 = withUnsafeMutableBytes(of: &iov) { raw in
                gcry_md_hash_buffers(algorithm.gcryAlgorithm, 0, inner, raw.baseAddress!.assumingMemoryBound(to: gcry_buffer_t.self), 4)
            }
            var outerIOV = (buffer(opad, blockLength), buffer(inner, digestLength))
            let err2 = withUnsafeMutableBytes(of: &outerIOV) { raw in
                gcry_md_hash_buffers(algorithm.gcryAlgorithm, 0, out.baseAddress, raw.baseAddress!.assumingMemoryBound(to: gcry_buffer_t.self), 2)
            }
            // Only an unknown algorithm fails, which HashAlgorithm rules out.
            precondition(err1 == 0 && err2 == 0, "gcry_md_hash_buffers failed")
            tmp.initializeMemory(as: UInt8.self, repeating: 0)
        }
    }
}
