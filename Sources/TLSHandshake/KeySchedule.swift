import TLSCrypto

/// The TLS 1.3 key schedule (RFC 8446 7.1) as a chain of types: an
/// `EarlySecret` becomes a `HandshakeSecret` with the (EC)DHE output, which
/// becomes a `MasterSecret`. Each stage can only produce the secrets that
/// belong to it.
public enum TLS13KDF {
    /// HKDF-Expand-Label.
    public static func expandLabel(_ hash: HashAlgorithm, secret: [UInt8], label: String, context: [UInt8], length: Int) -> [UInt8] {
        // HkdfLabel { uint16 length; opaque label<7..255> = "tls13 " + label; opaque context<0..255> },
        // built on the stack: this runs about 40 times per handshake.
        var label = label
        return label.withUTF8 { name in
            let prefix: StaticString = "tls13 "
            let labelLength = prefix.utf8CodeUnitCount + name.count
            precondition(labelLength <= 255 && context.count <= 255, "HkdfLabel field too long")
            return withUnsafeTemporaryAllocation(byteCount: 2 + 1 + labelLength + 1 + context.count, alignment: 1) { info in
                var i = 0
                func put(_ b: UInt8) { info[i] = b; i += 1 }
                func put(_ bytes: UnsafeRawBufferPointer) {
                    if let base = bytes.baseAddress, bytes.count > 0 { (info.baseAddress! + i).copyMemory(from: base, byteCount: bytes.count) }
                    i += bytes.count
                }
                put(UInt8(truncatingIfNeeded: length >> 8)); put(UInt8(truncatingIfNeeded: length))
                put(UInt8(labelLength))
                put(UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
                put(UnsafeRawBufferPointer(name))
                put(UInt8(context.count))
                context.withUnsafeBytes { put($0) }
                // Lengths here are ours (at most 255 * HashLen), so expansion cannot fail.
                return (try? HKDF.expand(hash, prk: secret, info: UnsafeRawBufferPointer(info), length: length)) ?? []
            }
        }
    }

    /// Derive-Secret(Secret, Label, Messages) with the transcript hash already computed.
    public static func deriveSecret(_ hash: HashAlgorithm, secret: [UInt8], label: String, transcriptHash: [UInt8]) -> [UInt8] {
        expandLabel(hash, secret: secret, label: label, context: transcriptHash, length: hash.digestLength)
    }

    /// Hash("") for each algorithm, computed once (the key schedule asks for it on every "derived" step).
    private static let emptyHashes: [HashAlgorithm: [UInt8]] =
        Dictionary(uniqueKeysWithValues: HashAlgorithm.allCases.map { ($0, Digest.hash($0, [UInt8]())) })
    static func emptyHash(_ hash: HashAlgorithm) -> [UInt8] { emptyHashes[hash] ?? Digest.hash(hash, [UInt8]()) }

    public static func finishedKey(_ hash: HashAlgorithm, trafficSecret: [UInt8]) -> [UInt8] {
        expandLabel(hash, secret: trafficSecret, label: "finished", context: [], length: hash.digestLength)
    }

    public static func finishedVerifyData(_ hash: HashAlgorithm, trafficSecret: [UInt8], transcriptHash: [UInt8]) -> [UInt8] {
        HMAC.authenticate(hash, key: finishedKey(hash, trafficSecret: trafficSecret), message: transcriptHash)
    }

    public static func nextTrafficSecret(_ hash: HashAlgorithm, _ secret: [UInt8]) -> [UInt8] {
        expandLabel(hash, secret: secret, label: "traffic upd", context: [], length: hash.digestLength)
    }

    public static func trafficKeys(_ suite: CipherSuite, secret: [UInt8]) -> (key: [UInt8], iv: [UInt8]) {
        let key = expandLabel(suite.hash, secret: secret, label: "key", context: [], length: suite.aead.keyLength)
        let iv = expandLabel(suite.hash, secret: secret, label: "iv", context: [], length: suite.aead.nonceLength)
        return (key, iv)
    }

    public static func resumptionPSK(_ hash: HashAlgorithm, resumptionMasterSecret: [UInt8], nonce: [UInt8]) -> [UInt8] {
        expandLabel(hash, secret: resumptionMasterSecret, label: "resumption", context: nonce, length: hash.digestLength)
    }

    /// TLS-Exporter (RFC 8446 7.5).
    public static func exporter(_ hash: HashAlgorithm, exporterSecret: [UInt8], label: String, context: [UInt8], length: Int) -> [UInt8] {
        let derived = deriveSecret(hash, secret: exporterSecret, label: label, transcriptHash: emptyHash(hash))
        return expandLabel(hash, secret: derived, label: "exporter", context: Digest.hash(hash, context), length: length)
    }
}

public struct EarlySecret {
    public let hash: HashAlgorithm
    public let secret: [UInt8]

    /// `psk` nil means no PSK: HKDF-Extract(0, 0...).
    public init(hash: HashAlgorithm, psk: [UInt8]?) {
        self.hash = hash
        self.secret = HKDF.extract(hash, salt: [], ikm: psk ?? [UInt8](repeating: 0, count: hash.digestLength))
    }

    public func binderKey(resumption: Bool) -> [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: resumption ? "res binder" : "ext binder", transcriptHash: TLS13KDF.emptyHash(hash))
    }

    public func clientEarlyTrafficSecret(transcriptHash: [UInt8]) -> [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: "c e traffic", transcriptHash: transcriptHash)
    }

    public func earlyExporterMasterSecret(transcriptHash: [UInt8]) -> [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: "e exp master", transcriptHash: transcriptHash)
    }

    public var derived: [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: "derived", transcriptHash: TLS13KDF.emptyHash(hash))
    }

    public func handshakeSecret(sharedSecret: [UInt8]) -> HandshakeSecret {
        HandshakeSecret(hash: hash, secret: HKDF.extract(hash, salt: derived, ikm: sharedSecret))
    }
}

public struct HandshakeSecret {
    public let hash: HashAlgorithm
    public let secret: [UInt8]

    public func clientTrafficSecret(transcriptHash: [UInt8]) -> [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: "c hs traffic", transcriptHash: transcriptHash)
    }

    public func serverTrafficSecret(transcriptHash: [UInt8]) -> [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: "s hs traffic", transcriptHash: transcriptHash)
    }

    public var derived: [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: "derived", transcriptHash: TLS13KDF.emptyHash(hash))
    }

    public var masterSecret: MasterSecret {
        MasterSecret(hash: hash, secret: HKDF.extract(hash, salt: derived, ikm: [UInt8](repeating: 0, count: hash.digestLength)))
    }
}

public struct MasterSecret {
    public let hash: HashAlgorithm
    public let secret: [UInt8]

    public func clientApplicationTrafficSecret(transcriptHash: [UInt8]) -> [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: "c ap traffic", transcriptHash: transcriptHash)
    }

    public func serverApplicationTrafficSecret(transcriptHash: [UInt8]) -> [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: "s ap traffic", transcriptHash: transcriptHash)
    }

    public func exporterMasterSecret(transcriptHash: [UInt8]) -> [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: "exp master", transcriptHash: transcriptHash)
    }

    public func resumptionMasterSecret(transcriptHash: [UInt8]) -> [UInt8] {
        TLS13KDF.deriveSecret(hash, secret: secret, label: "res master", transcriptHash: transcriptHash)
    }
}

/// The running transcript hash. Before the cipher suite (and so the hash) is
/// known, messages are buffered; HelloRetryRequest replaces ClientHello1 with
/// a synthetic message_hash (RFC 8446 4.4.1).
public struct Transcript {
    private var buffered: [UInt8] = []
    private var digest: Digest? = nil

    public init() {}

    public var hashAlgorithm: HashAlgorithm? { digest?.algorithm }

    public mutating func add(_ message: [UInt8]) {
        if digest != nil { digest?.update(message) } else { buffered.append(contentsOf: message) }
    }

    public mutating func start(_ hash: HashAlgorithm) {
        guard digest == nil else { return }
        var d = Digest(hash)
        d.update(buffered)
        buffered = []
        digest = d
    }

    /// Replaces everything so far (ClientHello1) with message_hash(Hash(ClientHello1)).
    public mutating func restartForHelloRetryRequest(_ hash: HashAlgorithm) {
        let ch1Hash: [UInt8] = digest?.finalize() ?? Digest.hash(hash, buffered)
        var d = Digest(hash)
        d.update([254, 0, 0, UInt8(hash.digestLength)] + ch1Hash)
        buffered = []
        digest = d
    }

    public func currentHash() -> [UInt8] {
        digest?.finalize() ?? []
    }

    /// The hash as if `extra` had been appended, without appending it.
    public func hash(appending extra: [UInt8]) -> [UInt8] {
        guard var d = digest else { return [] }
        d.update(extra)
        return d.finalize()
    }
}
