/// The record-layer content types of TLS 1.2 and 1.3 (RFC 8446 section 5.1,
/// RFC 5246 section 6.2.1). Any other value on the wire is `unexpected_message`.
public enum ContentType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case changeCipherSpec = 20
    case alert = 21
    case handshake = 22
    case applicationData = 23

    /// The RFC's snake_case name.
    public var name: String {
        switch self {
        case .changeCipherSpec: return "change_cipher_spec"
        case .alert: return "alert"
        case .handshake: return "handshake"
        case .applicationData: return "application_data"
        }
    }

    public var description: String { "\(name)(\(rawValue))" }
}

/// A protocol version as it appears on the wire (`legacy_record_version`,
/// `legacy_version`, `supported_versions` entries).
public struct ProtocolVersion: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(major: UInt8, minor: UInt8) { self.rawValue = UInt16(major) << 8 | UInt16(minor) }

    public static let ssl3 = ProtocolVersion(rawValue: 0x0300)
    public static let tls10 = ProtocolVersion(rawValue: 0x0301)
    public static let tls11 = ProtocolVersion(rawValue: 0x0302)
    public static let tls12 = ProtocolVersion(rawValue: 0x0303)
    public static let tls13 = ProtocolVersion(rawValue: 0x0304)

    public var major: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) }
    public var minor: UInt8 { UInt8(truncatingIfNeeded: rawValue) }

    public static func < (lhs: ProtocolVersion, rhs: ProtocolVersion) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch rawValue {
        case 0x0300: return "SSL 3.0"
        case 0x0301: return "TLS 1.0"
        case 0x0302: return "TLS 1.1"
        case 0x0303: return "TLS 1.2"
        case 0x0304: return "TLS 1.3"
        default:
            let hex = String(rawValue, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }
}

/// Handshake message types (RFC 8446 section 4, RFC 5246 section 7.4, RFC 6066
/// for certificate_status).
public enum HandshakeType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case helloRequest = 0
    case clientHello = 1
    case serverHello = 2
    case newSessionTicket = 4
    case endOfEarlyData = 5
    case encryptedExtensions = 8
    case certificate = 11
    case serverKeyExchange = 12
    case certificateRequest = 13
    case serverHelloDone = 14
    case certificateVerify = 15
    case clientKeyExchange = 16
    case finished = 20
    case certificateStatus = 22
    case keyUpdate = 24
    case messageHash = 254

    /// The RFC's snake_case name.
    public var name: String {
        switch self {
        case .helloRequest: return "hello_request"
        case .clientHello: return "client_hello"
        case .serverHello: return "server_hello"
        case .newSessionTicket: return "new_session_ticket"
        case .endOfEarlyData: return "end_of_early_data"
        case .encryptedExtensions: return "encrypted_extensions"
        case .certificate: return "certificate"
        case .serverKeyExchange: return "server_key_exchange"
        case .certificateRequest: return "certificate_request"
        case .serverHelloDone: return "server_hello_done"
        case .certificateVerify: return "certificate_verify"
        case .clientKeyExchange: return "client_key_exchange"
        case .finished: return "finished"
        case .certificateStatus: return "certificate_status"
        case .keyUpdate: return "key_update"
        case .messageHash: return "message_hash"
        }
    }

    public var description: String { "\(name)(\(rawValue))" }
}
