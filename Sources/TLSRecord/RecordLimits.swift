/// The limits a `RecordReader` (and `HandshakeReassembler`) enforces on what the
/// peer sends. The defaults are the protocol maxima plus denial-of-service caps.
public struct RecordLimits: Equatable, Sendable {
    /// The protocol limit on record content: 2^14 (RFC 8446 5.1, RFC 5246 6.2.1).
    public static let protocolMaxPlaintext = 16384

    /// Largest content (TLSPlaintext.fragment, or TLSInnerPlaintext.content in
    /// TLS 1.3) accepted in a *protected* record. Lowered by the record_size_limit
    /// we advertised (RFC 8449; see `applyRecordSizeLimit`). Unprotected records are
    /// always held to the protocol limit of 2^14 (RFC 8449 section 4). Values
    /// above 2^14 are treated as 2^14.
    public var maxPlaintext: Int = RecordLimits.protocolMaxPlaintext
    /// TLSCiphertext.length may exceed the plaintext limit by at most this much
    /// in TLS 1.3 (RFC 8446 5.2: 2^14 + 256).
    public var maxCiphertextExpansionTLS13: Int = 256
    /// ... and by this much in TLS 1.2 (RFC 5246 6.2.3: 2^14 + 2048).
    public var maxCiphertextExpansionTLS12: Int = 2048
    /// Zero-length application data records (and TLS 1.3 padding-only records)
    /// accepted in a row before `unexpected_message`.
    public var maxEmptyRecordsInARow: Int = 32
    /// Warning-level alerts accepted in a row before `unexpected_message`.
    public var maxWarningAlertsInARow: Int = 4
    /// Largest handshake message body (the 24-bit length) accepted.
    public var maxHandshakeMessageSize: Int = 65536

    public init() {}

    /// Earlier name of `maxPlaintext`.
    @available(*, deprecated, renamed: "maxPlaintext")
    public var maxPlaintextLength: Int {
        get { maxPlaintext }
        set { maxPlaintext = newValue }
    }

    /// `maxCiphertextExpansionTLS13` for TLS 1.3, `maxCiphertextExpansionTLS12` otherwise.
    public func maxCiphertextExpansion(for version: ProtocolVersion) -> Int {
        version >= .tls13 ? maxCiphertextExpansionTLS13 : maxCiphertextExpansionTLS12
    }

    /// The effective content limit for protected records.
    var effectiveMaxPlaintext: Int { min(max(maxPlaintext, 0), RecordLimits.protocolMaxPlaintext) }

    /// Content bytes allowed per protected record when the record_size_limit
    /// extension carries `recordSizeLimit` (RFC 8449 section 4): in TLS 1.3 the
    /// limit counts the whole TLSInnerPlaintext (content type and padding), so the
    /// content gets one byte less; in TLS 1.2 it is the plaintext itself. The
    /// result is capped at 2^14. Values below 64 are illegal in the extension; the
    /// caller rejects them (illegal_parameter) before calling this.
    public static func contentLimit(forRecordSizeLimit recordSizeLimit: Int, version: ProtocolVersion) -> Int {
        let content = version >= .tls13 ? recordSizeLimit - 1 : recordSizeLimit
        return min(max(content, 1), protocolMaxPlaintext)
    }

    /// Applies the record_size_limit *we advertised* to what we accept.
    public mutating func applyRecordSizeLimit(_ recordSizeLimit: Int, version: ProtocolVersion) {
        maxPlaintext = RecordLimits.contentLimit(forRecordSizeLimit: recordSizeLimit, version: version)
    }
}
