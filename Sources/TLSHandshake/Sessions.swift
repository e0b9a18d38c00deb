import TLSCrypto
import TLSRecord

/// A resumable session: what a server seals into a ticket or keeps under a
/// session ID, and what a client keeps to resume later.
public struct StoredSession: Equatable {
    public var version: ProtocolVersion
    public var suite: CipherSuite
    /// TLS 1.2: the master secret. TLS 1.3: the resumption PSK.
    public var secret: [UInt8]
    public var extendedMasterSecret: Bool
    /// When the session (ticket) was issued, in milliseconds since the epoch.
    public var createdAtMillis: UInt64
    public var lifetimeSeconds: UInt32
    public var ageAdd: UInt32
    public var maxEarlyDataSize: UInt32
    public var alpn: String?
    public var serverName: String?
    /// The peer's certificate chain from the full handshake.
    public var peerChain: [[UInt8]]
    /// Client side: the ticket to present (TLS 1.3 identity or TLS 1.2 SessionTicket).
    public var ticket: [UInt8]
    /// TLS 1.2 session ID.
    public var sessionID: [UInt8]
    /// Random bytes naming this ticket, for single-use anti-replay.
    public var uniqueID: [UInt8]

    public init(version: ProtocolVersion, suite: CipherSuite, secret: [UInt8], extendedMasterSecret: Bool = true,
                createdAtMillis: UInt64, lifetimeSeconds: UInt32, ageAdd: UInt32 = 0, maxEarlyDataSize: UInt32 = 0,
                alpn: String? = nil, serverName: String? = nil, peerChain: [[UInt8]] = [], ticket: [UInt8] = [],
                sessionID: [UInt8] = [], uniqueID: [UInt8] = []) {
        self.version = version; self.suite = suite; self.secret = secret; self.extendedMasterSecret = extendedMasterSecret
        self.createdAtMillis = createdAtMillis; self.lifetimeSeconds = lifetimeSeconds; self.ageAdd = ageAdd
        self.maxEarlyDataSize = maxEarlyDataSize; self.alpn = alpn; self.serverName = serverName; self.peerChain = peerChain
        self.ticket = ticket; self.sessionID = sessionID; self.uniqueID = uniqueID
    }

    public func isExpired(nowMillis: UInt64) -> Bool {
        nowMillis < createdAtMillis || nowMillis - createdAtMillis > UInt64(lifetimeSeconds) * 1000
    }

    static let formatVersion: UInt8 = 1

    /// A self-describing binary form (for tickets and session files).
    public func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 256)
        w.u8(StoredSession.formatVersion)
        w.u16(version.rawValue)
        w.u16(suite.rawValue)
        w.vector8(secret)
        w.u8(extendedMasterSecret ? 1 : 0)
        w.u32(UInt32(createdAtMillis >> 32)); w.u32(UInt32(createdAtMillis & 0xffff_ffff))
        w.u32(lifetimeSeconds)
        w.u32(ageAdd)
        w.u32(maxEarlyDataSize)
        w.vector8(Array((alpn ?? "").utf8))
        w.vector8(Array((serverName ?? "").utf8))
        w.vector(3) { w in for c in peerChain { w.vector24(c) } }
        w.vector16(ticket)
        w.vector8(sessionID)
        w.vector8(uniqueID)
        return w.bytes
    }

    public init(bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        guard try r.u8() == StoredSession.formatVersion else { throw HandshakeError.decode("unknown session format") }
        version = ProtocolVersion(rawValue: try r.u16())
        guard version == .tls12 || version == .tls13 else { throw HandshakeError.decode("session version \(version)") }
        guard let s = CipherSuite(rawValue: try r.u16()) else { throw HandshakeError.decode("session cipher suite unknown") }
        suite = s
        secret = try r.vector8()
        guard !secret.isEmpty else { throw HandshakeError.decode("empty session secret") }
        extendedMasterSecret = try r.u8() == 1
        createdAtMillis = UInt64(try r.u32()) << 32 | UInt64(try r.u32())
        lifetimeSeconds = try r.u32()
        ageAdd = try r.u32()
        maxEarlyDataSize = try r.u32()
        let a = try r.vector8(), n = try r.vector8()
        alpn = a.isEmpty ? nil : String(decoding: a, as: UTF8.self)
        serverName = n.isEmpty ? nil : String(decoding: n, as: UTF8.self)
        var chain = try r.sub24()
        peerChain = []
        while !chain.isAtEnd { peerChain.append(try chain.vector24()) }
        ticket = try r.vector16()
        sessionID = try r.vector8()
        uniqueID = try r.vector8()
        try r.expectEnd("session")
    }
}

/// Server: sessions kept under TLS 1.2 session IDs.
public protocol ServerSessionStore: AnyObject {
    func store(id: [UInt8], session: StoredSession)
    func lookup(id: [UInt8]) -> StoredSession?
    func remove(id: [UInt8])
}

/// Server: seals sessions into tickets and opens them again (RFC 5077 / RFC 8446 4.6.1).
public protocol TicketProtector: AnyObject {
    func seal(_ plaintext: [UInt8]) -> [UInt8]?
    func open(_ ticket: [UInt8]) -> [UInt8]?
}

/// Client: sessions to resume, keyed by server name, port and peer ID.
public protocol ClientSessionStore: AnyObject {
    func store(key: String, session: StoredSession)
    /// The newest usable session for `key` (single-use tickets are taken out).
    func take(key: String, nowMillis: UInt64) -> StoredSession?
    func remove(key: String)
}

/// Server: remembers which tickets already carried early data (RFC 8446 8.1).
public protocol EarlyDataAntiReplay: AnyObject {
    /// True the first time `id` is seen while it can still be valid.
    func firstUse(_ id: [UInt8], expiresAtMillis: UInt64) -> Bool
}
