import TLSCrypto
import TLSRecord

/// What a handshake step asks the connection to do, in order.
public enum HandshakeAction {
    /// Send this handshake message (header included) under the current write keys.
    case send([UInt8])
    /// Send a middlebox-compatibility change_cipher_spec record.
    case sendChangeCipherSpec
    case setReadKeys(RecordCipher)
    case setWriteKeys(RecordCipher)
    /// The handshake is complete (the application may now send and receive).
    case complete(NegotiatedParameters)
}

/// A received handshake message: its type and body, and the raw bytes for the transcript.
public struct ReceivedMessage {
    public var type: HandshakeType
    public var body: [UInt8]
    public var raw: [UInt8]

    public init(type: HandshakeType, body: [UInt8], raw: [UInt8]) {
        self.type = type; self.body = body; self.raw = raw
    }

    /// Parses a complete message from its wire bytes (header included).
    public init(raw: [UInt8]) throws {
        var r = ByteReader(raw)
        let t = try r.u8()
        let len = try r.u24()
        let body = try r.bytes(len)
        try r.expectEnd("handshake message")
        guard let type = HandshakeType(rawValue: t) else { throw HandshakeError.unexpected("unknown handshake message type \(t)") }
        self.init(type: type, body: body, raw: raw)
    }
}

func tls13Cipher(_ suite: CipherSuite, secret: [UInt8]) throws -> RecordCipher {
    let (key, iv) = TLS13KDF.trafficKeys(suite, secret: secret)
    do {
        return try RecordCipher.tls13(suite.aead, key: key, iv: iv)
    } catch {
        throw HandshakeError(.internalError, "cannot set up record protection: \(error)")
    }
}

/// Secrets of an established TLS 1.3 connection that outlive the handshake
/// (KeyUpdate, exporters, resumption).
public struct TLS13Secrets {
    public var suite: CipherSuite
    public var clientTrafficSecret: [UInt8]
    public var serverTrafficSecret: [UInt8]
    public var exporterMasterSecret: [UInt8]
    public var resumptionMasterSecret: [UInt8]

    mutating func wipe() {
        secureZero(&clientTrafficSecret)
        secureZero(&serverTrafficSecret)
        secureZero(&exporterMasterSecret)
        secureZero(&resumptionMasterSecret)
    }
}

/// Picks the signature scheme for our key among those the peer accepts, in our order.
func chooseSignatureScheme(ours: [SignatureScheme], peerOffered: [UInt16], key: PublicKey, tls13: Bool) -> SignatureScheme? {
    ours.first { s in peerOffered.contains(s.rawValue) && s.matches(key, tls13: tls13) }
}
