/// RFC 8446 section 6 / RFC 5246 section 7.2.
public enum AlertLevel: UInt8, Sendable, CustomStringConvertible {
    case warning = 1
    case fatal = 2

    public var name: String { self == .warning ? "warning" : "fatal" }
    public var description: String { name }
}

/// Every alert in RFC 8446 section 6, plus the TLS 1.2-era codes that are still
/// in the IANA registry (RFC 5246 section 7.2, RFC 6066).
public enum AlertDescription: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case closeNotify = 0
    case unexpectedMessage = 10
    case badRecordMac = 20
    /// TLS 1.0 only (RFC 5246: `decryption_failed_RESERVED`); never sent.
    case decryptionFailed = 21
    case recordOverflow = 22
    /// TLS 1.2 and earlier (compression); never sent.
    case decompressionFailure = 30
    case handshakeFailure = 40
    /// SSL 3.0 only (RFC 5246: `no_certificate_RESERVED`); never sent.
    case noCertificate = 41
    case badCertificate = 42
    case unsupportedCertificate = 43
    case certificateRevoked = 44
    case certificateExpired = 45
    case certificateUnknown = 46
    case illegalParameter = 47
    case unknownCA = 48
    case accessDenied = 49
    case decodeError = 50
    case decryptError = 51
    /// Export cipher suites (RFC 5246: `export_restriction_RESERVED`); never sent.
    case exportRestriction = 60
    case protocolVersion = 70
    case insufficientSecurity = 71
    case internalError = 80
    case inappropriateFallback = 86
    case userCanceled = 90
    /// TLS 1.2 and earlier (renegotiation refused; warning level).
    case noRenegotiation = 100
    case missingExtension = 109
    case unsupportedExtension = 110
    /// RFC 6066 client_certificate_url; TLS 1.2 and earlier.
    case certificateUnobtainable = 111
    case unrecognizedName = 112
    case badCertificateStatusResponse = 113
    /// RFC 6066 client_certificate_url; TLS 1.2 and earlier.
    case badCertificateHashValue = 114
    case unknownPSKIdentity = 115
    case certificateRequired = 116
    case noApplicationProtocol = 120
    /// Encrypted ClientHello (IANA registered).
    case echRequired = 121

    /// The RFC's snake_case name.
    public var name: String {
        switch self {
        case .closeNotify: return "close_notify"
        case .unexpectedMessage: return "unexpected_message"
        case .badRecordMac: return "bad_record_mac"
        case .decryptionFailed: return "decryption_failed_RESERVED"
        case .recordOverflow: return "record_overflow"
        case .decompressionFailure: return "decompression_failure"
        case .handshakeFailure: return "handshake_failure"
        case .noCertificate: return "no_certificate_RESERVED"
        case .badCertificate: return "bad_certificate"
        case .unsupportedCertificate: return "unsupported_certificate"
        case .certificateRevoked: return "certificate_revoked"
        case .certificateExpired: return "certificate_expired"
        case .certificateUnknown: return "certificate_unknown"
        case .illegalParameter: return "illegal_parameter"
        case .unknownCA: return "unknown_ca"
        case .accessDenied: return "access_denied"
        case .decodeError: return "decode_error"
        case .decryptError: return "decrypt_error"
        case .exportRestriction: return "export_restriction_RESERVED"
        case .protocolVersion: return "protocol_version"
        case .insufficientSecurity: return "insufficient_security"
        case .internalError: return "internal_error"
        case .inappropriateFallback: return "inappropriate_fallback"
        case .userCanceled: return "user_canceled"
        case .noRenegotiation: return "no_renegotiation"
        case .missingExtension: return "missing_extension"
        case .unsupportedExtension: return "unsupported_extension"
        case .certificateUnobtainable: return "certificate_unobtainable"
        case .unrecognizedName: return "unrecognized_name"
        case .badCertificateStatusResponse: return "bad_certificate_status_response"
        case .badCertificateHashValue: return "bad_certificate_hash_value"
        case .unknownPSKIdentity: return "unknown_psk_identity"
        case .certificateRequired: return "certificate_required"
        case .noApplicationProtocol: return "no_application_protocol"
        case .echRequired: return "ech_required"
        }
    }

    public var description: String { "\(name)(\(rawValue))" }

    /// RFC 8446 section 6: in TLS 1.3 only these two may be sent at warning level;
    /// every other alert is an error alert whatever its level.
    public var isClosureAlert: Bool { self == .closeNotify || self == .userCanceled }
}

/// One alert message: exactly two bytes on the wire.
public struct Alert: Equatable, Sendable {
    public var level: AlertLevel
    public var description: AlertDescription

    public init(level: AlertLevel, description: AlertDescription) {
        self.level = level
        self.description = description
    }

    public static func fatal(_ d: AlertDescription) -> Alert { Alert(level: .fatal, description: d) }
    public static func warning(_ d: AlertDescription) -> Alert { Alert(level: .warning, description: d) }
    public static let closeNotify = Alert(level: .warning, description: .closeNotify)

    public func encode() -> [UInt8] { [level.rawValue, description.rawValue] }

    /// Parses an alert record's content. Not exactly two bytes: `decode_error`.
    /// An unknown level or description is `illegal_parameter` (RFC 8446 section 6:
    /// an unknown alert is an error alert; the connection ends either way).
    public init<C: Collection>(bytes: C) throws(RecordLayerError) where C.Element == UInt8 {
        guard bytes.count == 2, let first = bytes.first, let last = bytes.dropFirst().first else {
            throw RecordLayerError(.decodeError, "alert of \(bytes.count) bytes, not 2")
        }
        guard let level = AlertLevel(rawValue: first) else {
            throw RecordLayerError(.illegalParameter, "unknown alert level \(first)")
        }
        guard let description = AlertDescription(rawValue: last) else {
            throw RecordLayerError(.illegalParameter, "unknown alert description \(last) (level \(level))")
        }
        self.level = level
        self.description = description
    }
}

extension Alert {
    /// "fatal bad_record_mac". (`description` is the RFC's field name, so the
    /// type is not CustomStringConvertible.)
    public var text: String { "\(level.name) \(description.name)" }
}
