/// One record as delivered to the layer above: deprotected, with the TLS 1.3
/// inner content type recovered and padding removed.
public struct Record: Equatable {
    /// The real content type (for TLS 1.3, the inner type).
    public var contentType: ContentType
    /// The legacy_record_version of the record header, as received.
    public var version: ProtocolVersion
    /// The content. It shares storage with the reader's buffer: drop it (or copy
    /// what you need) before the next `feed`/`nextRecord`, or the reader's next
    /// mutation has to copy its buffer.
    public var fragment: ArraySlice<UInt8>
    /// Whether the record was protected (false for plaintext records, including
    /// the TLS 1.3 compatibility change_cipher_spec).
    public var wasProtected: Bool

    public init(contentType: ContentType, version: ProtocolVersion, fragment: ArraySlice<UInt8>, wasProtected: Bool) {
        self.contentType = contentType
        self.version = version
        self.fragment = fragment
        self.wasProtected = wasProtected
    }
}

/// Reads records out of the bytes the peer sent. Sans-I/O: `feed` what arrived,
/// then call `nextRecord` until it returns nil.
///
/// Errors are sticky: after a failure every later `nextRecord` throws the same
/// error (the connection is over; the caller sends `error.alert`).
public struct RecordReader {
    public var limits: RecordLimits
    /// The negotiated version (nil before the hello messages settle it).
    public private(set) var version: ProtocolVersion?
    public private(set) var cipher: RecordCipher?
    /// Set when the first bytes received look like an SSL 2.0 ClientHello; the
    /// error thrown then is `protocol_version` with kind `.sslv2ClientHello`.
    public private(set) var sawSSLv2ClientHello = false

    private var buffer: [UInt8] = []
    private var start = 0
    private var recordsRead: UInt64 = 0
    private var emptyRecordsInARow = 0
    private var warningAlertsInARow = 0
    private var failure: RecordLayerError?
    /// Remaining budget while skipping rejected 0-RTT data; nil when not skipping.
    private var earlyDataSkipBudget: Int?

    /// TLS 1.3 server: accept unprotected alerts under the client's handshake
    /// keys until the first record deprotects (a client that refuses the
    /// ServerHello has no keys to protect its alert with).
    public var acceptsPlaintextAlerts = false

    public init(limits: RecordLimits = RecordLimits()) {
        self.limits = limits
    }

    /// Bytes received but not yet returned as records.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Hands over the bytes not yet consumed as records and forgets them.
    public mutating func takeBuffered() -> [UInt8] {
        let rest = Array(buffer[start...])
        buffer.removeAll(keepingCapacity: true)
        start = 0
        return rest
    }

    /// The error that ended this reader, if any.
    public var error: RecordLayerError? { failure }

    /// Installs the protection for records read from now on (nil = plaintext)
    /// and the negotiated version. With a cipher, the version must be the one
    /// the cipher frames (`.tls13` with `RecordCipher.tls13`).
    public mutating func setCipher(_ cipher: RecordCipher?, version: ProtocolVersion) {
        self.cipher = cipher
        self.version = version
    }

    // MARK: - input

    /// Appends received bytes.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Like `feed`, without copying when nothing is buffered: `bytes`' storage
    /// becomes the reader's buffer and `bytes` gets the reader's old, empty one
    /// (with its capacity). Otherwise the bytes are appended and `bytes` emptied.
    /// Either way `bytes` comes back empty.
    public mutating func feed(taking bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            swap(&buffer, &bytes)
        } else {
            bytes.withUnsafeBytes { feed($0) }
            bytes.removeAll(keepingCapacity: true)
        }
    }

    /// The bytes at `range` of the reader's buffer: a returned record's
    /// `fragment.indices` name its content there. Valid until the next `feed`
    /// (which may move or hand over the buffer); later `nextRecord` calls do not
    /// touch the bytes of records already returned.
    public func withBufferBytes<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= buffer.count, "range outside the reader's buffer")
        return try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Moves unread bytes to the front of the buffer, keeping its capacity.
    private mutating func compact() {
        guard start > 0 else { return }
        let remaining = buffer.count - start
        if remaining == 0 {
            buffer.removeAll(keepingCapacity: true)
        } else {
            let from = start
            buffer.withUnsafeMutableBytes { raw in
                guard let base = raw.baseAddress else { return }
                (base).copyMemory(from: UnsafeRawPointer(base + from), byteCount: remaining)
            }
            buffer.removeLast(from)
        }
        start = 0
    }

    // MARK: - rejected early data (RFC 8446 4.2.10)

    /// A server that rejects 0-RTT skips the client's early data: records with
    /// outer type application_data that cannot be deprotected (with no cipher
    /// installed, after a HelloRetryRequest: all of them) are dropped, up to
    /// `maxBytes` of data (max_early_data_size); more is `unexpected_message`.
    /// Skipping ends when a record deprotects under the installed cipher, or by
    /// `stopSkippingEarlyData()`.
    public mutating func skipRejectedEarlyData(maxBytes: Int) {
        earlyDataSkipBudget = max(0, maxBytes)
    }

    public mutating func stopSkippingEarlyData() { earlyDataSkipBudget = nil }

    public var isSkippingEarlyData: Bool { earlyDataSkipBudget != nil }

    private mutating func chargeSkippedEarlyData(_ bytes: Int) throws(RecordLayerError) {
        let remaining = (earlyDataSkipBudget ?? 0) - max(0, bytes)
        guard remaining >= 0 else {
            throw RecordLayerError(.unexpectedMessage, "rejected early data exceeds max_early_data_size", kind: .limitExceeded)
        }
        earlyDataSkipBudget = remaining
    }

    // MARK: - records

    /// Returns the next complete record, deprotected in place, or nil if more
    /// bytes are needed.
    ///
    /// A TLS 1.3 change_cipher_spec record is passed up unprotected (it must be
    /// exactly the byte 0x01); the caller decides whether it is allowed.
    public mutating func nextRecord() throws(RecordLayerError) -> Record? {
        if let failure { throw failure }
        do {
            return try readRecord()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func readRecord() throws(RecordLayerError) -> Record? {
        while true {
            let available = buffer.count - start
            guard available > 0 else { return nil }
            let first = buffer[start]

            // SSL 2.0 ClientHello (RFC 6101 E.2 / RFC 5246 E.2): two-byte header with
            // the high bit set, then msg_type 1 (client_hello).
            if recordsRead == 0 && first & 0x80 != 0 {
                guard available >= 3 else { return nil }
                if buffer[start + 2] == 1 {
                    sawSSLv2ClientHello = true
                    throw RecordLayerError(.protocolVersion, "SSL 2.0 ClientHello (SSL 2.0 is prohibited, RFC 6176)", kind: .sslv2ClientHello)
                }
            }
            guard let outerType = ContentType(rawValue: first) else {
                throw RecordLayerError(.unexpectedMessage, "unknown record content type \(first)")
            }
            guard available >= 5 else { return nil }
            let vMajor = buffer[start + 1], vMinor = buffer[start + 2]
            let recordVersion = ProtocolVersion(major: vMajor, minor: vMinor)
            try checkVersion(recordVersion)
            let length = Int(buffer[start + 3]) << 8 | Int(buffer[start + 4])

            // Decide protection and check the length before waiting for the body.
            let protected: RecordCipher?
            if let c = cipher {
                if c.framing == .tls13 {
                    switch outerType {
                    case .applicationData:
                        protected = c
                    case .changeCipherSpec:
                        protected = nil
                    case .alert where acceptsPlaintextAlerts:
                        protected = nil
                    case .alert, .handshake:
                        throw RecordLayerError(.unexpectedMessage, "unprotected \(outerType.name) record after TLS 1.3 keys are in use")
                    }
                } else {
                    protected = c
                }
            } else {
                protected = nil
            }
            if let c = protected {
                let expansion = c.framing == .tls13 ? limits.maxCiphertextExpansionTLS13 : limits.maxCiphertextExpansionTLS12
                let maxLength = limits.effectiveMaxPlaintext + min(max(0, expansion), 1 << 16)
                guard length <= maxLength else {
                    throw RecordLayerError(.recordOverflow, "protected record of \(length) bytes exceeds \(maxLength)", kind: .limitExceeded)
                }
            } else {
                guard length <= RecordLimits.protocolMaxPlaintext else {
                    throw RecordLayerError(.recordOverflow, "plaintext record of \(length) bytes exceeds 2^14", kind: .limitExceeded)
                }
            }
            guard available >= 5 + length else { return nil }

            let headerStart = start
            let bodyStart = start + 5
            let bodyEnd = bodyStart + length
            recordsRead &+= 1

            guard let c = protected else {
                // Plaintext. Application data is never legitimate unprotected,
                // except rejected early data being skipped.
                if outerType == .applicationData {
                    if earlyDataSkipBudget != nil {
                        try chargeSkippedEarlyData(length - 17)
                        start = bodyEnd
                        continue
                    }
                    throw RecordLayerError(.unexpectedMessage, "application data before record protection is in place")
                }
                start = bodyEnd
                return try deliver(outerType, recordVersion, bodyStart, bodyEnd, protected: false)
            }

            let tagLength = c.tagLength
            let explicitLength = c.explicitNonceLength
            guard length >= explicitLength + tagLength else {
                if earlyDataSkipBudget != nil {
                    try chargeSkippedEarlyData(length - 17)
                    start = bodyEnd
                    continue
                }
                throw RecordLayerError(.badRecordMac, "protected record of \(length) bytes is shorter than its nonce and tag", kind: .authenticationFailure)
            }
            let cipherStart = bodyStart + explicitLength
            let cipherEnd = bodyEnd - tagLength
            let innerLength = cipherEnd - cipherStart
            let maxInner = limits.effectiveMaxPlaintext + (c.framing == .tls13 ? 1 : 0)
            guard innerLength <= maxInner else {
                throw RecordLayerError(.recordOverflow, "record plaintext of \(innerLength) bytes exceeds \(maxInner)", kind: .limitExceeded)
            }

            var openError: RecordLayerError? = nil
            buffer.withUnsafeMutableBytes { raw in
                let header = UnsafeRawBufferPointer(rebasing: raw[headerStart..<bodyStart])
                let explicit = UnsafeRawBufferPointer(rebasing: raw[bodyStart..<cipherStart])
                let body = UnsafeMutableRawBufferPointer(rebasing: raw[cipherStart..<cipherEnd])
                let tag = UnsafeRawBufferPointer(rebasing: raw[cipherEnd..<bodyEnd])
                do throws(RecordLayerError) {
                    try c.open(header: header, explicitNonce: explicit, body: body, tag: tag)
                } catch {
                    openError = error
                }
            }
            if let openError {
                if earlyDataSkipBudget != nil && openError.kind == .authenticationFailure && outerType == .applicationData {
                    try chargeSkippedEarlyData(length - tagLength - 1)
                    start = bodyEnd
                    continue
                }
                throw openError
            }
            // A record that deprotects ends the skipping of rejected early data.
            earlyDataSkipBudget = nil
            acceptsPlaintextAlerts = false
            start = bodyEnd

            switch c.framing {
            case .tls12:
                return try deliver(outerType, recordVersion, cipherStart, cipherEnd, protected: true)
            case .tls13:
                // TLSInnerPlaintext: content || type || zeros. Find the last non-zero byte.
                var i = cipherEnd
                while i > cipherStart && buffer[i - 1] == 0 { i -= 1 }
                guard i > cipherStart else {
                    throw RecordLayerError(.unexpectedMessage, "TLS 1.3 inner plaintext has no content type (all zeros)")
                }
                let typeByte = buffer[i - 1]
                guard let innerType = ContentType(rawValue: typeByte) else {
                    throw RecordLayerError(.unexpectedMessage, "unknown inner content type \(typeByte)")
                }
                if innerType == .changeCipherSpec {
                    throw RecordLayerError(.unexpectedMessage, "protected change_cipher_spec record in TLS 1.3")
                }
                return try deliver(innerType, recordVersion, cipherStart, i - 1, protected: true)
            }
        }
    }

    /// legacy_record_version: before a version is negotiated the major byte must
    /// be 3 (else protocol_version); under TLS 1.2 it must be the negotiated
    /// version (protocol_version); under TLS 1.3 it is otherwise ignored (RFC 8446
    /// 5.1) but a major byte other than 3 is a decode_error.
    private func checkVersion(_ v: ProtocolVersion) throws(RecordLayerError) {
        guard let negotiated = version else {
            guard v.major == 3 else {
                throw RecordLayerError(.protocolVersion, "record version \(v) is not SSL 3.0/TLS")
            }
            return
        }
        if negotiated >= .tls13 {
            guard v.major == 3 else {
                throw RecordLayerError(.decodeError, "record version \(v) has major byte \(v.major), not 3")
            }
        } else if v != negotiated {
            throw RecordLayerError(.protocolVersion, "record version \(v) differs from the negotiated \(negotiated)")
        }
    }

    /// Applies the content rules common to plaintext and deprotected records.
    private mutating func deliver(_ type: ContentType, _ recordVersion: ProtocolVersion, _ from: Int, _ to: Int, protected: Bool) throws(RecordLayerError) -> Record {
        let length = to - from
        switch type {
        case .handshake:
            if length == 0 { throw RecordLayerError(.unexpectedMessage, "zero-length handshake fragment") }
        case .alert:
            if length == 0 { throw RecordLayerError(.unexpectedMessage, "zero-length alert fragment") }
            if length != 2 { throw RecordLayerError(.decodeError, "alert record of \(length) bytes, not exactly one 2-byte alert") }
        case .changeCipherSpec:
            let isOne = length == 1 && buffer[from] == 1
            if !isOne {
                if version ?? .tls13 >= .tls13 {
                    throw RecordLayerError(.unexpectedMessage, "change_cipher_spec is not the single byte 0x01")
                }
                throw RecordLayerError(length == 1 ? .illegalParameter : .decodeError, "change_cipher_spec is not the single byte 0x01")
            }
        case .applicationData:
            break
        }

        if length == 0 {
            emptyRecordsInARow += 1
            if emptyRecordsInARow > limits.maxEmptyRecordsInARow {
                throw RecordLayerError(.unexpectedMessage, "more than \(limits.maxEmptyRecordsInARow) empty records in a row", kind: .limitExceeded)
            }
        } else {
            emptyRecordsInARow = 0
        }
        if type == .alert && buffer[from] == AlertLevel.warning.rawValue {
            warningAlertsInARow += 1
            if warningAlertsInARow > limits.maxWarningAlertsInARow {
                throw RecordLayerError(.unexpectedMessage, "more than \(limits.maxWarningAlertsInARow) warning alerts in a row", kind: .limitExceeded)
            }
        } else {
            warningAlertsInARow = 0
        }
        return Record(contentType: type, version: recordVersion, fragment: buffer[from..<to], wasProtected: protected)
    }
}
