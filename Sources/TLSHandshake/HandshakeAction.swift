import Foundation
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
    /// Back to plaintext writing (a ClientHello2 after 0-RTT keys were installed).
    case dropWriteKeys
    /// Send application data now (TLS 1.3 0-RTT early data under the early keys).
    case sendApplicationData([UInt8])
    /// The server rejected 0-RTT: skip the client's early data, up to this many bytes.
    case skipEarlyData(Int)
    /// record_size_limit (RFC 8449) agreed: the peer's limit for what we send,
    /// ours for what we accept, and the version that frames them.
    case limitRecordSize(peer: Int, ours: Int, version: ProtocolVersion)
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
    /// The handshake transcript through the client Finished: post-handshake
    /// authentication continues it (RFC 8446 4.4).
    public var transcript = Transcript()
    /// Server: the client offered post_handshake_auth.
    public var peerOffersPostHandshakeAuth = false

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

/// Computes the PSK binders of `hello` in place (RFC 8446 4.2.11.2): each is
/// an HMAC under the binder key over the transcript up to the binders list.
func fillBinders(_ hello: inout ClientHello, psks: [(secret: [UInt8], hash: HashAlgorithm)], transcriptBefore: Transcript?) throws {
    guard let index = hello.extensions.lastIndex(where: { $0.type == ExtensionType.preSharedKey }) else { return }
    var offered = try ExtensionCodec.offeredPSKs(hello.extensions[index].data)
    guard offered.binders.count == psks.count else { throw HandshakeError(.internalError, "binder count mismatch") }
    let encoded = hello.encode()
    let truncated = Array(encoded.dropLast(hello.bindersLength))
    for (i, psk) in psks.enumerated() {
        let th: [UInt8]
        if let t = transcriptBefore, t.hashAlgorithm == psk.hash { th = t.hash(appending: truncated) } else { th = Digest.hash(psk.hash, truncated) }
        let binderKey = EarlySecret(hash: psk.hash, psk: psk.secret).binderKey(resumption: true)
        offered.binders[i] = TLS13KDF.finishedVerifyData(psk.hash, trafficSecret: binderKey, transcriptHash: th)
    }
    hello.extensions[index].data = ExtensionCodec.encodeOfferedPSKs(offered)
}

/// The binder a server expects for identity `index`.
func expectedBinder(_ hello: ClientHello, raw: [UInt8], psk: [UInt8], hash: HashAlgorithm, transcriptBefore: Transcript?) -> [UInt8] {
    let truncated = Array(raw.dropLast(hello.bindersLength))
    let th: [UInt8]
    if let t = transcriptBefore, t.hashAlgorithm == hash { th = t.hash(appending: truncated) } else { th = Digest.hash(hash, truncated) }
    let binderKey = EarlySecret(hash: hash, psk: psk).binderKey(resumption: true)
    return TLS13KDF.finishedVerifyData(hash, trafficSecret: binderKey, transcriptHash: th)
}

/// Builds the peer identity of a resumed session from the chain kept with it.
/// Parsing the leaf (and checking its key) is cached per chain: every
/// resumption of a session presents the same one.
func resumedPeer(_ chain: [[UInt8]]) -> PeerIdentity? {
    guard !chain.isEmpty else { return nil }
    if let known = ResumedPeerCache.shared.lookup(chain) { return known }
    guard var p = try? X509PeerVerifier(trustStore: nil).verify(chain: chain, serverName: nil, peer: .server) else { return nil }
    p.verified = true
    p.verdict = "ok (verified in the original handshake)"
    ResumedPeerCache.shared.store(chain, p)
    return p
}

/// Peer identities of resumed sessions by chain, bounded, process-wide.
final class ResumedPeerCache: @unchecked Sendable {
    static let shared = ResumedPeerCache()
    private var entries: [[[UInt8]]: PeerIdentity] = [:]
    private let lock = NSLock()
    private let capacity = 256
    /// The last hit, held (so its storage cannot be freed and reused): a chain
    /// sharing its array storage is the same chain, found without hashing it.
    private var last: (chain: [[UInt8]], peer: PeerIdentity)?

    func lookup(_ chain: [[UInt8]]) -> PeerIdentity? {
        lock.lock(); defer { lock.unlock() }
        if let l = last, l.chain.count == chain.count,
           l.chain.withUnsafeBufferPointer({ a in chain.withUnsafeBufferPointer { $0.baseAddress == a.baseAddress } }) {
            return l.peer
        }
        guard let p = entries[chain] else { return nil }
        last = (chain, p)
        return p
    }

    func store(_ chain: [[UInt8]], _ p: PeerIdentity) {
        lock.lock(); defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[chain] = p
        last = (chain, p)
    }
}
