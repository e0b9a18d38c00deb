import TLSCrypto

/// One direction's record protection state: an AEAD key (its libgcrypt handle
/// made once), the static IV, and the sequence number.
///
/// Not thread-safe: one direction of one connection owns it.
public final class RecordCipher {
    /// How records are framed under this cipher.
    public enum Framing: Sendable, Equatable {
        /// RFC 8446 5.2: outer type application_data, TLSInnerPlaintext inside,
        /// AAD = the record header.
        case tls13
        /// RFC 5246 6.2.3.3: outer type is the real type, AAD = seq || type ||
        /// version || plaintext length.
        case tls12
    }

    public let framing: Framing
    public let algorithm: AEADAlgorithm

    /// The sequence number of the next record. It never wraps: after the record
    /// with number 2^64 - 1 the cipher is exhausted and refuses to work
    /// (RFC 8446 5.3, RFC 5246 6.1). (Settable inside the module, for tests.)
    public internal(set) var sequenceNumber: UInt64 = 0
    /// True once record 2^64 - 1 has been processed.
    public private(set) var isExhausted = false
    /// Records sealed or opened successfully under this key.
    public private(set) var recordsProtected: UInt64 = 0
    /// Records that failed authentication under this key (the connection
    /// normally ends at the first; the count is for integrity limits).
    public private(set) var authenticationFailures: UInt64 = 0

    /// Explicit nonce bytes carried in each record: 8 for TLS 1.2 AES-GCM
    /// (RFC 5288), 0 otherwise.
    public let explicitNonceLength: Int
    public var tagLength: Int { algorithm.tagLength }
    /// Bytes a protected record adds to its content, not counting TLS 1.3
    /// padding: explicit nonce + tag, plus the inner content type for TLS 1.3.
    public var overhead: Int { explicitNonceLength + algorithm.tagLength + (framing == .tls13 ? 1 : 0) }

    /// Records after which the caller should change keys (KeyUpdate in TLS 1.3,
    /// renegotiation or closure in TLS 1.2): 2^24 for AES-GCM, below the 2^24.5
    /// full-size-record limit of RFC 8446 5.5; 2^62 for ChaCha20-Poly1305, well
    /// before the sequence number could wrap.
    public var recommendedRecordLimit: UInt64 {
        switch algorithm {
        case .aes128GCM, .aes256GCM: return 1 << 24
        case .chacha20Poly1305: return 1 << 62
        }
    }
    public var keyUpdateRecommended: Bool { recordsProtected >= recommendedRecordLimit }

    /// For tests of usage limits: sets the count of records protected so far.
    public func forceRecordsProtected(_ count: UInt64) { recordsProtected = count }

    private let key: AEADKey
    /// 64 bytes allocated once: [0, 12) static IV (or the 4-byte salt),
    /// [16, 28) the per-record nonce, [32, 45) the TLS 1.2 AAD.
    private let scratch: UnsafeMutableRawPointer
    private static let nonceOffset = 16
    private static let aadOffset = 32
    private static let aadLength12 = 13

    private init(framing: Framing, algorithm: AEADAlgorithm, key: [UInt8], iv: [UInt8], explicitNonce: Bool) throws(RecordLayerError) {
        do {
            self.key = try AEADKey(algorithm, key: key)
        } catch {
            throw RecordLayerError(.internalError, "cannot set up \(algorithm.rawValue) key: \(error)", kind: .localFailure)
        }
        self.framing = framing
        self.algorithm = algorithm
        self.explicitNonceLength = explicitNonce ? 8 : 0
        scratch = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        iv.withUnsafeBytes { src in
            if let base = src.baseAddress { scratch.copyMemory(from: base, byteCount: min(src.count, 12)) }
        }
    }

    deinit {
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        scratch.deallocate()
    }

    /// TLS 1.3 (RFC 8446 5.2/5.3): nonce = iv XOR padded sequence number; AAD =
    /// the record header; inner plaintext = content || type || zero padding.
    /// `iv` must be 12 bytes.
    public static func tls13(_ algorithm: AEADAlgorithm, key: [UInt8], iv: [UInt8]) throws(RecordLayerError) -> RecordCipher {
        guard iv.count == algorithm.nonceLength else {
            throw RecordLayerError(.internalError, "TLS 1.3 IV must be \(algorithm.nonceLength) bytes, not \(iv.count)", kind: .localFailure)
        }
        return try RecordCipher(framing: .tls13, algorithm: algorithm, key: key, iv: iv, explicitNonce: false)
    }

    /// TLS 1.2 AEAD. AES-GCM (RFC 5288): `fixedIV` is the 4-byte implicit salt,
    /// each record carries an 8-byte explicit nonce (we send the sequence
    /// number). ChaCha20-Poly1305 (RFC 7905): `fixedIV` is 12 bytes, nonce = iv
    /// XOR padded sequence number, nothing explicit. AAD = seq(8) || type ||
    /// version || plaintext length.
    public static func tls12(_ algorithm: AEADAlgorithm, key: [UInt8], fixedIV: [UInt8]) throws(RecordLayerError) -> RecordCipher {
        let gcm = algorithm != .chacha20Poly1305
        let expected = gcm ? 4 : 12
        guard fixedIV.count == expected else {
            throw RecordLayerError(.internalError, "TLS 1.2 \(algorithm.rawValue) fixed IV must be \(expected) bytes, not \(fixedIV.count)", kind: .localFailure)
        }
        return try RecordCipher(framing: .tls12, algorithm: algorithm, key: key, iv: fixedIV, explicitNonce: gcm)
    }

    // MARK: - nonce and AAD

    private func checkUsable() throws(RecordLayerError) {
        if isExhausted {
            throw RecordLayerError(.internalError, "sequence number space exhausted: the keys must change before 2^64 records", kind: .localFailure)
        }
    }

    /// Nonce for the current sequence number: iv XOR (0^32 || seq), or
    /// salt || explicit for TLS 1.2 GCM.
    private func buildNonce(explicit: UnsafeRawBufferPointer?) {
        let nonce = scratch + RecordCipher.nonceOffset
        if explicitNonceLength == 8 {
            nonce.copyMemory(from: scratch, byteCount: 4)
            if let e = explicit?.baseAddress { (nonce + 4).copyMemory(from: e, byteCount: 8) }
        } else {
            nonce.copyMemory(from: scratch, byteCount: 12)
            let seq = sequenceNumber
            for i in 0..<8 {
                let b = UInt8(truncatingIfNeeded: seq >> UInt64(56 - 8 * i))
                let p = nonce + (4 + i)
                p.storeBytes(of: p.load(as: UInt8.self) ^ b, as: UInt8.self)
            }
        }
    }

    private var nonceBuffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: scratch + RecordCipher.nonceOffset, count: 12)
    }

    /// TLS 1.2 AAD: seq || type || version || length.
    private func buildAAD12(type: UInt8, versionHigh: UInt8, versionLow: UInt8, length: Int) -> UnsafeRawBufferPointer {
        let aad = scratch + RecordCipher.aadOffset
        let seq = sequenceNumber
        for i in 0..<8 {
            (aad + i).storeBytes(of: UInt8(truncatingIfNeeded: seq >> UInt64(56 - 8 * i)), as: UInt8.self)
        }
        (aad + 8).storeBytes(of: type, as: UInt8.self)
        (aad + 9).storeBytes(of: versionHigh, as: UInt8.self)
        (aad + 10).storeBytes(of: versionLow, as: UInt8.self)
        (aad + 11).storeBytes(of: UInt8(truncatingIfNeeded: length >> 8), as: UInt8.self)
        (aad + 12).storeBytes(of: UInt8(truncatingIfNeeded: length), as: UInt8.self)
        return UnsafeRawBufferPointer(start: aad, count: RecordCipher.aadLength12)
    }

    private func aad(header: UnsafeRawBufferPointer, bodyLength: Int) -> UnsafeRawBufferPointer {
        switch framing {
        case .tls13:
            return header
        case .tls12:
            return buildAAD12(type: header[0], versionHigh: header[1], versionLow: header[2], length: bodyLength)
        }
    }

    private func advance() {
        recordsProtected &+= 1
        if sequenceNumber == .max { isExhausted = true } else { sequenceNumber += 1 }
    }

    // MARK: - seal / open in place

    /// Seals one record in place. `header` is the 5-byte record header (already
    /// final); `explicitNonce` is `explicitNonceLength` bytes, filled here;
    /// `body` is encrypted in place (for TLS 1.3 it is the whole
    /// TLSInnerPlaintext); `tag` receives the tag.
    func seal(header: UnsafeRawBufferPointer, explicitNonce: UnsafeMutableRawBufferPointer,
              body: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer) throws(RecordLayerError) {
        try checkUsable()
        if explicitNonceLength == 8 {
            let seq = sequenceNumber
            for i in 0..<8 { explicitNonce[i] = UInt8(truncatingIfNeeded: seq >> UInt64(56 - 8 * i)) }
        }
        buildNonce(explicit: UnsafeRawBufferPointer(explicitNonce))
        let ad = aad(header: header, bodyLength: body.count)
        do {
            try key.seal(nonce: nonceBuffer, aad: ad, buffer: body, tag: tag)
        } catch {
            throw RecordLayerError(.internalError, "sealing failed: \(error)", kind: .localFailure)
        }
        advance()
    }

    /// Stepwise `seal` (see RecordWriter): `beginSeal` with the final header,
    /// the explicit nonce to fill and the body length; `sealStep` for content
    /// encrypted on its way into the record; `finishSeal` over the rest of the
    /// body, in place, and the tag.
    func beginSeal(header: UnsafeRawBufferPointer, explicitNonce: UnsafeMutableRawBufferPointer, bodyLength: Int) throws(RecordLayerError) {
        try checkUsable()
        if explicitNonceLength == 8 {
            let seq = sequenceNumber
            for i in 0..<8 { explicitNonce[i] = UInt8(truncatingIfNeeded: seq >> UInt64(56 - 8 * i)) }
        }
        buildNonce(explicit: UnsafeRawBufferPointer(explicitNonce))
        let ad = aad(header: header, bodyLength: bodyLength)
        do {
            try key.beginSeal(nonce: nonceBuffer, aad: ad)
        } catch {
            throw RecordLayerError(.internalError, "sealing failed: \(error)", kind: .localFailure)
        }
    }

    /// False on failure, kept for `takeStepFailure`.
    func sealStep(from input: UnsafeRawPointer, to output: UnsafeMutableRawPointer, count: Int) -> Bool {
        do {
            try key.sealStep(from: input, to: output, count: count)
            return true
        } catch {
            stepFailure = RecordLayerError(.internalError, "sealing failed: \(error)", kind: .localFailure)
            return false
        }
    }

    private var stepFailure: RecordLayerError?

    func takeStepFailure() -> RecordLayerError? {
        defer { stepFailure = nil }
        return stepFailure
    }

    func finishSeal(rest: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer) throws(RecordLayerError) {
        do {
            try key.finishSeal(buffer: rest, tag: tag)
        } catch {
            throw RecordLayerError(.internalError, "sealing failed: \(error)", kind: .localFailure)
        }
        advance()
    }

    /// Opens one record in place; on failure nothing advances and the body is
    /// zeroed. `header` is the received 5-byte header; for TLS 1.2 the AAD length
    /// is `body.count` (the plaintext length).
    func open(header: UnsafeRawBufferPointer, explicitNonce: UnsafeRawBufferPointer,
              body: UnsafeMutableRawBufferPointer, tag: UnsafeRawBufferPointer) throws(RecordLayerError) {
        try checkUsable()
        buildNonce(explicit: explicitNonce)
        let ad = aad(header: header, bodyLength: body.count)
        do {
            try key.open(nonce: nonceBuffer, aad: ad, buffer: body, tag: tag)
        } catch CryptoError.authenticationFailure {
            authenticationFailures &+= 1
            throw RecordLayerError(.badRecordMac, "record \(sequenceNumber) failed authentication", kind: .authenticationFailure)
        } catch {
            throw RecordLayerError(.internalError, "opening failed: \(error)", kind: .localFailure)
        }
        advance()
    }
}
