import CGcrypt

/// The SHA-2 functions TLS 1.2 and 1.3 use. SHA-1 and MD5 are deliberately absent:
/// nothing in the protocol core may compute them.
public enum HashAlgorithm: String, CaseIterable, Sendable {
    case sha256, sha384, sha512

    public var digestLength: Int {
        switch self {
        case .sha256: return 32
        case .sha384: return 48
        case .sha512: return 64
        }
    }

    public var blockLength: Int {
        switch self {
        case .sha256: return 64
        case .sha384, .sha512: return 128
        }
    }

    var gcryAlgorithm: Int32 {
        switch self {
        case .sha256: return Int32(GCRY_MD_SHA256.rawValue)
        case .sha384: return Int32(GCRY_MD_SHA384.rawValue)
        case .sha512: return Int32(GCRY_MD_SHA512.rawValue)
        }
    }

    /// The name libgcrypt's S-expressions use.
    var sexpName: String { rawValue }
}

/// Owns one libgcrypt message-digest handle.
final class DigestHandle {
    let handle: gcry_md_hd_t
    let algorithm: HashAlgorithm

    init(_ algorithm: HashAlgorithm, hmacKey: UnsafeRawBufferPointer? = nil) throws {
        Gcrypt.ensureInitialized()
        var h: gcry_md_hd_t? = nil
        let flags: UInt32 = hmacKey == nil ? 0 : UInt32(GCRY_MD_FLAG_HMAC.rawValue)
        try Gcrypt.check(gcry_md_open(&h, algorithm.gcryAlgorithm, flags))
        guard let opened = h else { throw CryptoError.library(code: -1, message: "gcry_md_open returned no handle") }
        if let key = hmacKey {
            let err = gcry_md_setkey(opened, key.baseAddress, key.count)
            if err != 0 { gcry_md_close(opened); throw Gcrypt.error(err) }
        }
        self.handle = opened
        self.algorithm = algorithm
    }

    private init(copying other: DigestHandle) throws {
        var h: gcry_md_hd_t? = nil
        try Gcrypt.check(gcry_md_copy(&h, other.handle))
        guard let copied = h else { throw CryptoError.library(code: -1, message: "gcry_md_copy returned no handle") }
        self.handle = copied
        self.algorithm = other.algorithm
    }

    func copy() -> DigestHandle {
        // gcry_md_copy only fails on memory exhaustion, which Swift treats as fatal anyway.
        guard let c = try? DigestHandle(copying: self) else { fatalError("gcry_md_copy failed") }
        return c
    }

    func write(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        gcry_md_write(handle, base, bytes.count)
    }

    /// Reads the result; the handle is finalised and must not be written again.
    func read(into out: UnsafeMutableRawBufferPointer) {
        guard let p = gcry_md_read(handle, algorithm.gcryAlgorithm) else { return }
        let n = Swift.min(out.count, algorithm.digestLength)
        out.baseAddress?.copyMemory(from: p, byteCount: n)
    }

    func readBytes() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: algorithm.digestLength)
        out.withUnsafeMutableBytes { read(into: $0) }
        return out
    }

    func reset() { gcry_md_reset(handle) }

    deinit { gcry_md_close(handle) }
}

/// An incremental SHA-2 hash with value semantics: copying a `Digest` is cheap
/// until one of the copies is written to, so "the hash so far" (which the TLS
/// transcript needs many times) costs one handle copy.
public struct Digest {
    public let algorithm: HashAlgorithm
    private var box: DigestHandle

    public init(_ algorithm: HashAlgorithm) {
        self.algorithm = algorithm
        guard let h = try? DigestHandle(algorithm) else { fatalError("gcry_md_open failed for \(algorithm)") }
        self.box = h
    }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if !isKnownUniquelyReferenced(&box) { box = box.copy() }
        let handle = box
        if let done = bytes.withContiguousStorageIfAvailable({ handle.write(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        Array(bytes).withUnsafeBytes { handle.write($0) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        if !isKnownUniquelyReferenced(&box) { box = box.copy() }
        box.write(bytes)
    }

    /// The digest of everything written so far; the running state is unchanged.
    public func finalize() -> [UInt8] {
        box.copy().readBytes()
    }

    /// SHA-1, for identifiers that protocols still define with it (OCSP CertID and
    /// responder key hashes, RFC 6960). Never used for signatures or key derivation.
    public static func sha1Identifier<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        oneShot(Int32(GCRY_MD_SHA1.rawValue), length: 20, bytes)
    }

    public static func hash<C: Collection>(_ algorithm: HashAlgorithm, _ bytes: C) -> [UInt8] where C.Element == UInt8 {
        oneShot(algorithm.gcryAlgorithm, length: algorithm.digestLength, bytes)
    }

    private static func oneShot<C: Collection>(_ gcryAlgorithm: Int32, length: Int, _ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out = [UInt8](repeating: 0, count: length)
        let write: (UnsafeRawBufferPointer) -> Void = { input in
            out.withUnsafeMutableBytes { o in
                gcry_md_hash_buffer(gcryAlgorithm, o.baseAddress, input.baseAddress, input.count)
            }
        }
        Gcrypt.ensureInitialized()
        if bytes.withContiguousStorageIfAvailable({ write(UnsafeRawBufferPointer($0)) }) == nil {
            Array(bytes).withUnsafeBytes(write)
        }
        return out
    }
}
