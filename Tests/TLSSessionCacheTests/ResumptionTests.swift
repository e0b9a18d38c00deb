import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
import X509
@testable import TLSHandshake
@testable import TLSSessionCache

/// A verifier that counts calls: a resumed handshake must not check a certificate.
final class CountingVerifier: PeerCertificateVerifier {
    let key: PublicKey
    var calls = 0
    init(_ key: PublicKey) { self.key = key }
    func verify(chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity {
        calls += 1
        return PeerIdentity(publicKey: key, chain: chain, subject: "CN=test", issuer: "CN=test", verified: true, verdict: "ok")
    }
}

final class ResumptionTests: XCTestCase {
    var clock: UInt64 = 1_800_000_000_000
    static let made = try! SelfSignedCertificate.make(now: 1_800_000_000, random: ScriptedRandom(seed: [3]))
    let serverKey: PrivateKey = ResumptionTests.made.privateKey
    let certDER: [UInt8] = ResumptionTests.made.certificate.der
    lazy var verifier = CountingVerifier(serverKey.publicKey)

    func configs(version: ProtocolVersion) -> (TLSConfiguration, TLSConfiguration) {
        var server = TLSConfiguration()
        // A real certificate is not needed: the counting verifier accepts the label.
        server.certificates = [CertifiedKey(chain: [certDER], privateKey: serverKey)]
        server.minVersion = version; server.maxVersion = version
        server.clock = { [unowned self] in self.clock }
        var client = TLSConfiguration()
        client.minVersion = version; client.maxVersion = version
        client.serverName = "localhost"
        client.peerVerifier = verifier
        client.clock = { [unowned self] in self.clock }
        client.clientSessionStore = MemoryClientSessionStore()
        client.sessionKey = "localhost:443"
        return (client, server)
    }

    func connect(_ c: TLSConfiguration, _ s: TLSConfiguration, seed: String) throws -> (TLSConnection, TLSConnection) {
        let client = TLSConnection(role: .client, config: c, random: ScriptedRandom(seed: Array("c\(seed)".utf8)))
        let server = TLSConnection(role: .server, config: s, random: ScriptedRandom(seed: Array("s\(seed)".utf8)))
        try client.start()
        for _ in 0..<16 {
            let a = client.takeOutput(); if !a.isEmpty { try server.receive(a) }
            let b = server.takeOutput(); if !b.isEmpty { try client.receive(b) }
            if a.isEmpty && b.isEmpty { break }
        }
        return (client, server)
    }

    func testTLS13TicketResumptionSkipsTheCertificate() throws {
        var (c, s) = configs(version: .tls13)
        s.ticketProtector = TicketKeyRing(now: { [unowned self] in Int64(self.clock / 1000) })
        s.sessionTicketCount = 2
        let (c1, s1) = try connect(c, s, seed: "1")
        XCTAssertEqual(c1.negotiated?.resumed, false)
        XCTAssertEqual(s1.negotiated?.resumed, false)
        XCTAssertEqual(c1.sessions.count, 2, "two tickets arrived")
        XCTAssertEqual(verifier.calls, 1)
        clock += 5_000
        let (c2, s2) = try connect(c, s, seed: "2")
        XCTAssertEqual(c2.negotiated?.resumed, true)
        XCTAssertEqual(s2.negotiated?.resumed, true)
        XCTAssertEqual(verifier.calls, 1, "no certificate check on resumption")
        XCTAssertNil(c2.negotiated?.signatureScheme, "no CertificateVerify on resumption")
        XCTAssertEqual(c2.negotiated?.peer?.chain, [certDER], "the peer is known from the first handshake")
        XCTAssertEqual(c2.negotiated?.peer?.subject, "CN=localhost")
        try c2.write([1, 2, 3]); try s2.receive(c2.takeOutput())
        XCTAssertEqual(s2.read(), [1, 2, 3])
        // Tickets are single-use: two connections used both; the third resumes with a ticket from the second.
        let (c3, _) = try connect(c, s, seed: "3")
        XCTAssertEqual(c3.negotiated?.resumed, true)
        // Expired tickets are not offered.
        clock += 8 * 24 * 3600 * 1000
        let (c4, _) = try connect(c, s, seed: "4")
        XCTAssertEqual(c4.negotiated?.resumed, false)
        _ = c
    }

    func testTLS13EarlyDataAcceptedOnceThenRejected() throws {
        var (c, s) = configs(version: .tls13)
        s.ticketProtector = TicketKeyRing(now: { [unowned self] in Int64(self.clock / 1000) })
        s.maxEarlyDataSize = 1024
        s.antiReplay = SingleUseTicketRegistry(clock: { [unowned self] in self.clock })
        let (c1, _) = try connect(c, s, seed: "e1")
        let ticket = try XCTUnwrap(c1.sessions.last)
        XCTAssertEqual(ticket.maxEarlyDataSize, 1024)
        c.resumeSession = ticket
        c.earlyData = Array("early bird".utf8)
        clock += 1000
        let (c2, s2) = try connect(c, s, seed: "e2")
        XCTAssertEqual(c2.negotiated?.earlyDataAccepted, true)
        XCTAssertEqual(s2.negotiated?.earlyDataAccepted, true)
        XCTAssertEqual(s2.read(), Array("early bird".utf8))
        // The same ticket again (a replay): resumption works, early data is refused and skipped.
        let (c3, s3) = try connect(c, s, seed: "e3")
        XCTAssertEqual(c3.negotiated?.resumed, true)
        XCTAssertEqual(c3.negotiated?.earlyDataAccepted, false)
        XCTAssertEqual(s3.read(), [], "rejected early data never reaches the application")
        try c3.write([7]); try s3.receive(c3.takeOutput())
        XCTAssertEqual(s3.read(), [7])
    }

    func testTLS13BadBinderIsDecryptError() throws {
        var (c, s) = configs(version: .tls13)
        s.ticketProtector = TicketKeyRing(now: { [unowned self] in Int64(self.clock / 1000) })
        let (c1, _) = try connect(c, s, seed: "b1")
        var ticket = try XCTUnwrap(c1.sessions.last)
        ticket.secret[0] ^= 1  // the client's PSK no longer matches the sealed one
        c.resumeSession = ticket
        XCTAssertThrowsError(try connect(c, s, seed: "b2")) { e in
            XCTAssertEqual((e as? HandshakeError)?.alert, .decryptError)
        }
    }

    /// psk_ke (RFC 8446 4.2.9): used only when both sides allow it; a resumption without
    /// (EC)DHE has no group and no key_share, and still carries data and early data.
    func testTLS13PSKWithoutKeyExchange() throws {
        var (c, s) = configs(version: .tls13)
        s.ticketProtector = TicketKeyRing(now: { [unowned self] in Int64(self.clock / 1000) })
        s.sessionTicketCount = 8
        s.maxEarlyDataSize = 1024
        s.antiReplay = SingleUseTicketRegistry(clock: { [unowned self] in self.clock })
        let (c1, _) = try connect(c, s, seed: "k1")
        XCTAssertEqual(c1.negotiated?.group, .x25519)
        func resume(client: [PSKKeyExchangeMode], server: [PSKKeyExchangeMode], seed: String,
                    early: [UInt8] = []) throws -> (TLSConnection, TLSConnection) {
            var c2 = c, s2 = s
            c2.pskKeyExchangeModes = client
            s2.pskKeyExchangeModes = server
            c2.earlyData = early
            clock += 1000
            return try connect(c2, s2, seed: seed)
        }
        // Both allow psk_ke and the server prefers it: no group, no key share.
        var (c2, s2) = try resume(client: [.psk, .pskDHE], server: [.psk, .pskDHE], seed: "k2")
        XCTAssertEqual(c2.negotiated?.resumed, true)
        XCTAssertEqual(s2.negotiated?.resumed, true)
        XCTAssertNil(c2.negotiated?.group)
        XCTAssertNil(s2.negotiated?.group)
        try c2.write([1, 2]); try s2.receive(c2.takeOutput())
        XCTAssertEqual(s2.read(), [1, 2])
        XCTAssertEqual(try c2.exportKeyingMaterial(label: "EXPERIMENTAL k", context: [], length: 16),
                       try s2.exportKeyingMaterial(label: "EXPERIMENTAL k", context: [], length: 16))
        // The server prefers psk_dhe_ke: a fresh exchange.
        (c2, s2) = try resume(client: [.psk, .pskDHE], server: [.pskDHE, .psk], seed: "k3")
        XCTAssertEqual(c2.negotiated?.resumed, true)
        XCTAssertEqual(c2.negotiated?.group, .x25519)
        // The server does not allow psk_ke, the client offers nothing else: a full handshake.
        let calls = verifier.calls
        (c2, s2) = try resume(client: [.psk], server: [.pskDHE], seed: "k4")
        XCTAssertEqual(c2.negotiated?.resumed, false)
        XCTAssertEqual(c2.negotiated?.group, .x25519)
        XCTAssertEqual(verifier.calls, calls + 1, "a full handshake checks the certificate")
        // Only psk_ke on both sides, with early data.
        (c2, s2) = try resume(client: [.psk], server: [.psk], seed: "k5", early: Array("early".utf8))
        XCTAssertEqual(c2.negotiated?.resumed, true)
        XCTAssertNil(c2.negotiated?.group)
        XCTAssertEqual(c2.negotiated?.earlyDataAccepted, true)
        XCTAssertEqual(s2.read(), Array("early".utf8))
    }

    /// A psk_ke hello may leave out supported_groups and key_share (RFC 8446 9.2); the
    /// server then resumes, or, with no PSK it can use alone, names the missing extension.
    func testTLS13PSKOnlyHelloWithoutGroups() throws {
        var (c, s) = configs(version: .tls13)
        s.ticketProtector = TicketKeyRing(now: { [unowned self] in Int64(self.clock / 1000) })
        let (c1, _) = try connect(c, s, seed: "g1")
        c.resumeSession = try XCTUnwrap(c1.sessions.last)
        c.pskKeyExchangeModes = [.psk]
        c.overrideClientHelloExtensions = { ours, _ in
            ours.filter { $0.type != ExtensionType.supportedGroups && $0.type != ExtensionType.keyShare }
        }
        s.pskKeyExchangeModes = [.psk]
        let (c2, s2) = try connect(c, s, seed: "g2")
        XCTAssertEqual(s2.negotiated?.resumed, true)
        XCTAssertNil(s2.negotiated?.group)
        XCTAssertEqual(c2.status, .established)

        // The server does not allow psk_ke: the hello lacks what a full handshake needs.
        s.pskKeyExchangeModes = [.pskDHE]
        XCTAssertThrowsError(try connect(c, s, seed: "g3")) { e in
            XCTAssertEqual((e as? HandshakeError)?.alert, .missingExtension, "\(e)")
        }
        // psk_ke allowed, but the ticket does not open (another server's): no PSK to use
        // alone and no groups to fall back on.
        s.pskKeyExchangeModes = [.psk]
        var foreign = try XCTUnwrap(c.resumeSession)
        foreign.ticket = Array(repeating: 7, count: foreign.ticket.count)
        var stranger = c
        stranger.resumeSession = foreign
        XCTAssertThrowsError(try connect(stranger, s, seed: "g5")) { e in
            XCTAssertEqual((e as? HandshakeError)?.alert, .handshakeFailure, "\(e)")
        }
        // key_share without supported_groups is malformed whatever the modes.
        s.pskKeyExchangeModes = [.psk]
        c.overrideClientHelloExtensions = { ours, _ in ours.filter { $0.type != ExtensionType.supportedGroups } }
        XCTAssertThrowsError(try connect(c, s, seed: "g4")) { e in
            XCTAssertEqual((e as? HandshakeError)?.alert, .missingExtension, "\(e)")
        }
        // Modes must be given, once each.
        var bad = TLSConfiguration()
        bad.pskKeyExchangeModes = []
        XCTAssertThrowsError(try bad.validate())
        bad.pskKeyExchangeModes = [.psk, .psk]
        XCTAssertThrowsError(try bad.validate())
    }

    /// The server prefers psk_dhe_ke but the client sent no share it can use: rather than a
    /// HelloRetryRequest, it resumes with psk_ke when both allow it.
    func testTLS13PSKOnlyInsteadOfHelloRetryRequest() throws {
        var (c, s) = configs(version: .tls13)
        s.ticketProtector = TicketKeyRing(now: { [unowned self] in Int64(self.clock / 1000) })
        let (c1, _) = try connect(c, s, seed: "h1")
        c.resumeSession = try XCTUnwrap(c1.sessions.last)
        c.groups = [.secp256r1, .x25519]
        c.keyShareGroups = [.secp256r1]
        s.groups = [.x25519]
        c.pskKeyExchangeModes = [.pskDHE, .psk]
        s.pskKeyExchangeModes = [.pskDHE, .psk]
        let (c2, s2) = try connect(c, s, seed: "h2")
        XCTAssertEqual(c2.negotiated?.resumed, true)
        XCTAssertNil(s2.negotiated?.group, "psk_ke")
        XCTAssertEqual(s2.negotiated?.usedHelloRetryRequest, false)
        // Without psk_ke the same hello gets a HelloRetryRequest, then psk_dhe_ke on x25519.
        s.pskKeyExchangeModes = [.pskDHE]
        c.resumeSession = try XCTUnwrap(c2.sessions.last ?? c1.sessions.first)
        let (c3, s3) = try connect(c, s, seed: "h3")
        XCTAssertEqual(c3.negotiated?.resumed, true)
        XCTAssertEqual(s3.negotiated?.group, .x25519)
        XCTAssertEqual(s3.negotiated?.usedHelloRetryRequest, true)
    }

    /// TLS 1.2 configurations whose server resumes by tickets or by its session-ID cache.
    func configs12(useTickets: Bool) -> (TLSConfiguration, TLSConfiguration) {
        var (c, s) = configs(version: .tls12)
        if useTickets {
            s.ticketProtector = TicketKeyRing(now: { [unowned self] in Int64(self.clock / 1000) })
        } else {
            s.serverSessionStore = MemoryServerSessionStore(clock: { [unowned self] in self.clock })
        }
        return (c, s)
    }

    func testTLS12SessionIDAndTicketResumption() throws {
        for useTickets in [false, true] {
            let (c, s) = configs12(useTickets: useTickets)
            let calls = verifier.calls
            let (c1, s1) = try connect(c, s, seed: "t\(useTickets)1")
            XCTAssertEqual(c1.negotiated?.resumed, false)
            let session = try XCTUnwrap(c1.currentSession)
            XCTAssertEqual(session.version, .tls12)
            XCTAssertEqual(useTickets ? !session.ticket.isEmpty : !session.sessionID.isEmpty, true)
            let ex1 = try c1.exportKeyingMaterial(label: "EXPERIMENTAL r", context: [], length: 16)
            XCTAssertEqual(ex1, try s1.exportKeyingMaterial(label: "EXPERIMENTAL r", context: [], length: 16))
            let (c2, s2) = try connect(c, s, seed: "t\(useTickets)2")
            XCTAssertEqual(c2.negotiated?.resumed, true, "tickets: \(useTickets)")
            XCTAssertEqual(s2.negotiated?.resumed, true)
            XCTAssertEqual(verifier.calls, calls + 1, "only the full handshake checked a certificate")
            try c2.write([4]); try s2.receive(c2.takeOutput())
            XCTAssertEqual(s2.read(), [4])
            try s2.write([5]); try c2.receive(s2.takeOutput())
            XCTAssertEqual(c2.read(), [5])
            XCTAssertNotEqual(try c2.exportKeyingMaterial(label: "EXPERIMENTAL r", context: [], length: 16), ex1, "fresh randoms, fresh keys")
        }
    }

    /// A connection's TLS 1.2 master secret is zeroed in place when it ends, while the
    /// cached copies (client and server) are their own and keep resuming.
    func testTLS12MasterSecretWipedAtCloseWhileCachesKeepTheirs() throws {
        for useTickets in [false, true] {
            let (c, s) = configs12(useTickets: useTickets)
            func closeBoth(_ client: TLSConnection, _ server: TLSConnection) throws {
                client.close(); try server.receive(client.takeOutput())
                server.close(); try client.receive(server.takeOutput())
                XCTAssertEqual(client.status, .closed); XCTAssertEqual(server.status, .closed)
            }
            var resumedAtLeastOnce = false
            for round in 1...3 {
                let (client, server) = try connect(c, s, seed: "w\(useTickets)\(round)")
                XCTAssertEqual(client.negotiated?.resumed, round > 1, "round \(round), tickets: \(useTickets)")
                resumedAtLeastOnce = resumedAtLeastOnce || client.negotiated?.resumed == true
                let held = [try XCTUnwrap(client.currentSessionForTesting).masterSecret,
                            try XCTUnwrap(server.currentSessionForTesting).masterSecret]
                XCTAssertEqual(held[0], held[1])
                XCTAssertFalse(held[0].allSatisfy { $0 == 0 })
                try closeBoth(client, server)
                XCTAssertTrue(held.allSatisfy { $0.allSatisfy { $0 == 0 } }, "wiped in place, every copy sharing the storage")
                let cached = try XCTUnwrap(client.currentSession)
                XCTAssertFalse(cached.secret.allSatisfy { $0 == 0 }, "the cache's copy is its own")
            }
            XCTAssertTrue(resumedAtLeastOnce)
        }
    }

    func testInvalidatedSessionIsNotResumed() throws {
        var (c, s) = configs(version: .tls12)
        s.serverSessionStore = MemoryServerSessionStore(clock: { [unowned self] in self.clock })
        let (c1, _) = try connect(c, s, seed: "i1")
        XCTAssertNotNil(c1.currentSession)
        c1.invalidateSession()
        XCTAssertNil(c1.currentSession)
        let (c2, _) = try connect(c, s, seed: "i2")
        XCTAssertEqual(c2.negotiated?.resumed, false)
        c.sessionCacheDisabled = true
        let (c3, _) = try connect(c, s, seed: "i3")
        XCTAssertEqual(c3.negotiated?.resumed, false)
        XCTAssertNil(c3.currentSession, "SSL_NO_CACHE: nothing kept")
    }

    func testTicketKeyRotationAndSharedFile() throws {
        var now: Int64 = 1_000_000
        let path = NSTemporaryDirectory() + "ticket-keys-\(getpid()).txt"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let a = try TicketKeyRing(file: path, rotationInterval: 100, decryptLifetime: 300, now: { now })
        let b = try TicketKeyRing(file: path, rotationInterval: 100, decryptLifetime: 300, now: { now })
        let t1 = try XCTUnwrap(a.seal([1, 2, 3]))
        XCTAssertEqual(b.open(t1), [1, 2, 3], "a second process with the same file opens the ticket")
        now += 150
        try a.rotateIfDue()
        XCTAssertEqual(a.currentKeys.count, 2)
        now += 1  // b re-reads the changed file on its next use
        let t2 = try XCTUnwrap(b.seal([4]))
        XCTAssertEqual(Array(t2.prefix(16)), a.currentKeys.last?.name, "b encrypts with the rotated key")
        XCTAssertEqual(a.open(t2), [4])
        XCTAssertEqual(a.open(t1), [1, 2, 3], "old key still decrypts")
        now += 400
        XCTAssertNil(a.open(t1), "past its decrypt lifetime")
        var bad = t2; bad[bad.count - 1] ^= 1
        XCTAssertNil(a.open(bad))
        XCTAssertThrowsError(try TicketKeyRing.parse("zz 00 1"))
    }

    func testStoredSessionRoundTripAndRejectsGarbage() throws {
        let s = StoredSession(version: .tls13, suite: .tlsAES256GCMSHA384, secret: [1, 2, 3], createdAtMillis: 42, lifetimeSeconds: 7,
                              ageAdd: 9, maxEarlyDataSize: 100, alpn: "h2", serverName: "a.example", peerChain: [[5, 6]],
                              ticket: [7], sessionID: [8], uniqueID: [9])
        XCTAssertEqual(try StoredSession(bytes: s.encode()), s)
        let enc = s.encode()
        for cut in 0..<enc.count { XCTAssertThrowsError(try StoredSession(bytes: Array(enc.prefix(cut)))) }
        XCTAssertThrowsError(try StoredSession(bytes: enc + [0]))
    }

    func testServerSessionCacheIsBoundedLRUWithTTL() {
        var now: UInt64 = 0
        let store = MemoryServerSessionStore(capacity: 2, clock: { now })
        func session(_ id: UInt8) -> StoredSession {
            StoredSession(version: .tls12, suite: .ecdheECDSAWithAES128GCMSHA256, secret: [id], createdAtMillis: now, lifetimeSeconds: 10)
        }
        store.store(id: [1], session: session(1))
        store.store(id: [2], session: session(2))
        XCTAssertNotNil(store.lookup(id: [1]))  // 1 is now more recent than 2
        store.store(id: [3], session: session(3))
        XCTAssertNil(store.lookup(id: [2]), "least recently used goes")
        XCTAssertNotNil(store.lookup(id: [1]))
        now += 11_000
        XCTAssertNil(store.lookup(id: [1]), "expired")
    }
}

final class LRUTableTests: XCTestCase {
    func testEvictionOrderAndCapacityUnderChurn() {
        let t = LRUTable<Int>(capacity: 3)
        for i in 0..<3 { t.set([UInt8(i)], i, expiresAt: 100) }
        XCTAssertEqual(t.get([0], now: 0), 0)        // 0 becomes most recent: order 0, 2, 1
        t.set([3], 3, expiresAt: 100)                 // evicts 1
        XCTAssertNil(t.get([1], now: 0))
        XCTAssertEqual(t.get([2], now: 0), 2)
        t.set([4], 4, expiresAt: 100)                 // evicts 0 (order now 4, 2, 3 → LRU was 0? no: 2 used last)
        XCTAssertNil(t.get([0], now: 0))
        XCTAssertEqual(t.count, 3)
        XCTAssertEqual(t.take([3], now: 0), 3)
        XCTAssertNil(t.get([3], now: 0), "take removes")
        XCTAssertTrue(t.insertIfAbsent([5], 5, expiresAt: 10, now: 0))
        XCTAssertFalse(t.insertIfAbsent([5], 6, expiresAt: 10, now: 5))
        XCTAssertTrue(t.insertIfAbsent([5], 7, expiresAt: 20, now: 10), "expired entries may be replaced")
        // Heavy churn stays bounded and consistent.
        let big = LRUTable<Int>(capacity: 1000)
        for i in 0..<50_000 { big.set(Array(withUnsafeBytes(of: i) { Array($0) }), i, expiresAt: 1) }
        XCTAssertEqual(big.count, 1000)
        XCTAssertEqual(big.get(Array(withUnsafeBytes(of: 49_999) { Array($0) }), now: 0), 49_999)
        XCTAssertNil(big.get(Array(withUnsafeBytes(of: 48_999) { Array($0) }), now: 0))
    }
}
