import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
@testable import TLSHandshake

/// Every limit in `HandshakeLimits` (and the renegotiation and early-data caps
/// in `TLSConfiguration`): the default is safe, the value is configurable, and
/// going past it is a specific error.
final class LimitsTests: XCTestCase {
    func tls12Configs() -> (TLSConfiguration, TLSConfiguration) {
        var (c, s) = baseConfigs()
        c.minVersion = .tls12; c.maxVersion = .tls12
        s.minVersion = .tls12; s.maxVersion = .tls12
        return (c, s)
    }

    func testDefaults() {
        let l = HandshakeLimits()
        XCTAssertEqual(l.maxHandshakeMessageSize, 65_536)
        XCTAssertEqual(l.maxCertificateChainLength, 10)
        XCTAssertEqual(l.maxCertificateChainBytes, 256 * 1024)
        XCTAssertEqual(l.maxKeyUpdatesWithoutData, 32)
        XCTAssertEqual(l.maxWarningAlerts, 4)
        XCTAssertEqual(l.maxBufferedHandshakeBytes, 256 * 1024)
        XCTAssertEqual(l.maxExtensions, 64)
        XCTAssertEqual(l.maxALPNProtocols, 64)
        XCTAssertEqual(l.maxEmptyRecordsInARow, 32)
        XCTAssertEqual(TLSConfiguration().maxRenegotiations, 4)
        XCTAssertEqual(TLSConfiguration().maxEarlyDataSize, 0, "no early data unless asked for")
    }

    // MARK: handshake message size

    func testHandshakeMessageSize() {
        var s = baseConfigs().1
        s.limits.maxHandshakeMessageSize = 200
        // A ClientHello header announcing 201 bytes is refused before they arrive.
        assertServerRejects([22, 3, 1, 0, 4, 1, 0x00, 0x00, 201], .illegalParameter, server: s, reason: "exceeds the limit")
        // The client: the server's CertificateVerify (an ECDSA signature) is over 50 bytes.
        var c = baseConfigs().0
        c.limits.maxHandshakeMessageSize = 50
        let pair = Pair(client: c, server: baseConfigs().1)
        assertAlert(try pair.pump(), .illegalParameter, "the server's CertificateVerify is larger than the client's limit")
    }

    // MARK: certificate chain

    func testCertificateChainLength() throws {
        let key = TestKeys.certified("p256", TestKeys.ecdsaP256)
        var long = key
        long.chain = [key.chain[0], Array("cert:intermediate1".utf8), Array("cert:intermediate2".utf8)]
        var (c, s) = baseConfigs(serverKey: long)
        c.peerVerifier = LabelVerifier([key])
        c.limits.maxCertificateChainLength = 2
        let pair = Pair(client: c, server: s)
        assertAlert(try pair.pump(), .badCertificate, "3 certificates, limit 2")
        XCTAssertTrue(pair.client.failure?.reason.contains("longer than 2") == true, "\(String(describing: pair.client.failure))")
        c.limits.maxCertificateChainLength = 3
        s.certificates = [long]
        let ok = Pair(client: c, server: s)
        XCTAssertNoThrow(try ok.pump(), "3 certificates, limit 3")
        XCTAssertEqual(ok.client.status, .established)
    }

    func testCertificateChainBytesClientAndServer() throws {
        let key = TestKeys.certified("p256", TestKeys.ecdsaP256)
        var (c, s) = baseConfigs(serverKey: key)
        c.limits.maxCertificateChainBytes = key.chain[0].count - 1
        assertAlert(try Pair(client: c, server: s).pump(), .badCertificate, "server chain one byte over")
        c.limits.maxCertificateChainBytes = key.chain[0].count
        XCTAssertNoThrow(try Pair(client: c, server: s).pump(), "exactly at the limit")

        // The server holds a client's certificate chain to the same limit (TLS 1.3 and 1.2).
        for tls12 in [false, true] {
            var (c2, s2) = tls12 ? tls12Configs() : baseConfigs(serverKey: key)
            let clientKey = TestKeys.certified("client-p384", TestKeys.ecdsaP384)
            c2.clientCertificateProvider = { _ in clientKey }
            s2.clientAuthentication = .require
            s2.peerVerifier = LabelVerifier([clientKey])
            s2.limits.maxCertificateChainBytes = clientKey.chain[0].count - 1
            let pair = Pair(client: c2, server: s2)
            XCTAssertThrowsError(try pair.pump(), "tls12=\(tls12)")
            XCTAssertEqual(pair.server.failure?.alert, .badCertificate, "tls12=\(tls12): \(String(describing: pair.server.failure))")
            XCTAssertTrue(pair.server.failure?.reason.contains("larger than") == true)
            s2.limits.maxCertificateChainBytes = clientKey.chain[0].count
            let ok = Pair(client: c2, server: s2)
            XCTAssertNoThrow(try ok.pump(), "tls12=\(tls12)")
            XCTAssertEqual(ok.server.negotiated?.peer?.subject, "cert:client-p384")
        }
    }

    // MARK: extensions and ALPN

    func testNumberOfExtensions() {
        func hello(extra: Int) -> (inout ClientHello) -> Void {
            return { ch in
                // Unknown extensions are ignored by the server; only their number matters.
                let filler = (0..<extra).map { Extension(type: UInt16(0xfa00 + $0), data: []) }
                ch.extensions.insert(contentsOf: filler, at: 0)
            }
        }
        // The standard hello has 5 extensions.
        var s = baseConfigs().1
        s.limits.maxExtensions = 8
        assertServerRejectsHello(.decodeError, server: s, reason: "more than 8 extensions", hello(extra: 4))
        let h = Harness(server: s)
        XCTAssertNoThrow(try h.server.receive(Forge.handshakeRecord(Forge.clientHello(hello(extra: 3)))), "8 extensions are fine")
        XCTAssertEqual(h.server.status, .handshaking)
        // The default: 64.
        assertServerRejectsHello(.decodeError, reason: "more than 64 extensions", hello(extra: 60))
        let d = Harness()
        XCTAssertNoThrow(try d.server.receive(Forge.handshakeRecord(Forge.clientHello(hello(extra: 59)))))
        // A real client's hello against a server that allows very few.
        s.limits.maxExtensions = 3
        let pair = Pair(client: baseConfigs().0, server: s)
        XCTAssertThrowsError(try pair.pump())
        XCTAssertEqual(pair.server.failure?.alert, .decodeError)
    }

    func testALPNListSize() {
        func alpn(_ n: Int) -> (inout ClientHello) -> Void {
            return { ch in
                let names = (0..<n).map { Array("p\($0)".utf8) } + [Array("h2".utf8)]
                ch.extensions.insert(Extension(type: ExtensionType.alpn, data: ExtensionCodec.encodeALPN(names)), at: 0)
            }
        }
        var s = baseConfigs().1
        s.alpnProtocols = ["h2"]
        s.limits.maxALPNProtocols = 3
        assertServerRejectsHello(.decodeError, server: s, reason: "more than 3 ALPN protocols", alpn(3))
        let h = Harness(server: s)
        XCTAssertNoThrow(try h.server.receive(Forge.handshakeRecord(Forge.clientHello(alpn(2)))), "3 names are fine")
        s.limits = HandshakeLimits()
        assertServerRejectsHello(.decodeError, server: s, reason: "more than 64 ALPN protocols", alpn(64))
        // TLS 1.2 servers read the list through the same limit.
        var (c12, s12) = tls12Configs()
        s12.alpnProtocols = ["h2"]
        s12.limits.maxALPNProtocols = 1
        c12.alpnProtocols = ["h3", "h2"]
        let pair = Pair(client: c12, server: s12)
        XCTAssertThrowsError(try pair.pump())
        XCTAssertEqual(pair.server.failure?.alert, .decodeError)
        s12.limits.maxALPNProtocols = 2
        let ok = Pair(client: c12, server: s12)
        XCTAssertNoThrow(try ok.pump())
        XCTAssertEqual(ok.server.negotiated?.alpn, "h2")
    }

    // MARK: handshake bytes before completion

    func testHandshakeBytesBeforeCompletion() throws {
        // The server's flight (ServerHello, CertificateVerify and all) is over 150 bytes.
        var c = baseConfigs().0
        c.limits.maxBufferedHandshakeBytes = 150
        let pair = Pair(client: c, server: baseConfigs().1)
        assertAlert(try pair.pump(), .unexpectedMessage)
        XCTAssertTrue(pair.client.failure?.reason.contains("before the handshake completed") == true, "\(String(describing: pair.client.failure))")
        // The server counts the client's hello, even split in one-byte records.
        var s = baseConfigs().1
        s.limits.maxBufferedHandshakeBytes = 100
        let h = Harness(server: s)
        let hello = splitRecords(try h.clientHello())[0].body
        var sent = 0
        XCTAssertThrowsError(try {
            for b in hello { try h.server.receive(Forge.record(22, [b], version: [3, 1])); sent += 1 }
        }())
        XCTAssertEqual(sent, 100, "101st byte refused")
        XCTAssertEqual(h.server.failure?.alert, .unexpectedMessage)
        // After the handshake the count starts again: post-handshake messages are not held to it.
        var c2 = baseConfigs().0
        c2.limits.maxBufferedHandshakeBytes = 4000
        let p2 = Pair(client: c2, server: baseConfigs().1)
        try p2.pump()
        for _ in 0..<20 { try p2.server.updateKeys(requestPeerUpdate: false); try p2.server.write([1]) }
        XCTAssertNoThrow(try p2.pump())
        XCTAssertEqual(p2.client.status, .established)
    }

    // MARK: record-level limits

    func testEmptyRecordsInARow() throws {
        var s = baseConfigs().1
        s.limits.maxEmptyRecordsInARow = 2
        let h = try Harness.established(server: s)
        let sealer = h.clientApplicationSealer()
        try h.server.receive(sealer.protect(.applicationData, []) + sealer.protect(.applicationData, []))
        try h.server.receive(sealer.protect(.applicationData, [7]))  // data resets the count
        try h.server.receive(sealer.protect(.applicationData, []) + sealer.protect(.applicationData, []))
        XCTAssertNil(h.server.failure)
        expectFailure(h.server, .unexpectedMessage, reason: "empty records") { try h.server.receive(sealer.protect(.applicationData, [])) }
        // The default is 32.
        let d = try Harness.established()
        let ds = d.clientApplicationSealer()
        try d.server.receive((0..<32).flatMap { _ in ds.protect(.applicationData, []) })
        expectFailure(d.server, .unexpectedMessage, reason: "more than 32 empty records") { try d.server.receive(ds.protect(.applicationData, [])) }
    }

    func testWarningAlertsInARowTLS12() throws {
        // A server that refuses renegotiation answers each attempt with a
        // no_renegotiation warning; the client takes 2 such warnings in a row, not 3.
        var (c, s) = tls12Configs()
        s.allowRenegotiation = false
        c.maxRenegotiations = 10
        c.limits.maxWarningAlerts = 2
        let pair = Pair(client: c, server: s)
        try pair.pump()
        for _ in 0..<2 {
            try pair.client.renegotiate()
            try pair.pump()
        }
        XCTAssertEqual(pair.client.status, .established)
        try pair.client.renegotiate()
        assertAlert(try pair.pump(), .unexpectedMessage, "third warning in a row")
        XCTAssertTrue(pair.client.failure?.reason.contains("warning alerts") == true)
    }

    // MARK: KeyUpdate

    func testKeyUpdatesWithoutData() throws {
        var s = baseConfigs().1
        s.limits.maxKeyUpdatesWithoutData = 3
        let h = try Harness.established(server: s)
        let suite = CipherSuite.tlsAES128GCMSHA256
        var secret = h.clientLog["CLIENT_TRAFFIC_SECRET_0"]
        var sealer = Sealer(secret)
        func keyUpdate() -> [UInt8] {
            let record = sealer.protect(.handshake, KeyUpdate(updateRequested: false).encode())
            secret = TLS13KDF.nextTrafficSecret(suite.hash, secret)
            sealer = Sealer(secret)
            return record
        }
        for _ in 0..<3 { try h.server.receive(keyUpdate()) }
        try h.server.receive(sealer.protect(.applicationData, [1]))  // data resets the count
        for _ in 0..<3 { try h.server.receive(keyUpdate()) }
        XCTAssertNil(h.server.failure)
        XCTAssertEqual(h.server.read(), [1])
        expectFailure(h.server, .unexpectedMessage, reason: "too many KeyUpdates") { try h.server.receive(keyUpdate()) }
    }

    // MARK: renegotiation

    func testRenegotiationsPerConnection() throws {
        // Client side: its own renegotiations are capped.
        var (c, s) = tls12Configs()
        c.maxRenegotiations = 1
        let pair = Pair(client: c, server: s)
        try pair.pump()
        try pair.client.renegotiate()
        try pair.pump()
        assertAlert(try pair.client.renegotiate(), .handshakeFailure, "second renegotiation, limit 1")
        // Server side: past its cap it refuses with a no_renegotiation warning and the connection goes on.
        c.maxRenegotiations = 10
        s.maxRenegotiations = 2
        let p2 = Pair(client: c, server: s)
        var serverHellos = 0
        p2.server.onHandshakeMessage = { sent, raw in if sent, raw.first == HandshakeType.serverHello.rawValue { serverHellos += 1 } }
        try p2.pump()
        for _ in 0..<3 {
            try p2.client.renegotiate()
            try p2.pump()
        }
        XCTAssertEqual(serverHellos, 3, "the first handshake and 2 renegotiations; the third was refused")
        try p2.client.write([9]); try p2.pump()
        XCTAssertEqual(p2.readAll(p2.server), [9])
        XCTAssertEqual(p2.server.status, .established)
    }

    // MARK: early data

    final class ClearTickets: TicketProtector {
        func seal(_ plaintext: [UInt8]) -> [UInt8]? { [0xee] + plaintext }
        func open(_ ticket: [UInt8]) -> [UInt8]? { ticket.first == 0xee ? Array(ticket.dropFirst()) : nil }
    }

    final class AntiReplay: EarlyDataAntiReplay {
        var seen = Set<[UInt8]>()
        func firstUse(_ id: [UInt8], expiresAtMillis: UInt64) -> Bool { seen.insert(id).inserted }
    }

    func testEarlyDataSize() throws {
        var (c, s) = baseConfigs()
        s.ticketProtector = ClearTickets()
        s.antiReplay = AntiReplay()
        s.maxEarlyDataSize = 1000
        let first = Pair(client: c, server: s)
        try first.pump()
        let session = try XCTUnwrap(first.client.currentSession)
        XCTAssertEqual(session.maxEarlyDataSize, 1000)

        // Within the limit: accepted.
        c.resumeSession = session
        c.earlyData = [UInt8](repeating: 0x61, count: 1000)
        let ok = Pair(client: c, server: s, seed: "ok")
        try ok.pump()
        XCTAssertEqual(ok.server.negotiated?.earlyDataAccepted, true)
        XCTAssertEqual(ok.readAll(ok.server).count, 1000)

        // The server's limit is lowered after it issued the ticket: 1000 bytes of
        // early data against a limit of 100 is unexpected_message.
        var s2 = s
        s2.maxEarlyDataSize = 100
        s2.antiReplay = AntiReplay()
        let over = Pair(client: c, server: s2, seed: "over")
        XCTAssertThrowsError(try over.pump())
        XCTAssertEqual(over.server.failure?.alert, .unexpectedMessage)
        XCTAssertTrue(over.server.failure?.reason.contains("max_early_data_size") == true, "\(String(describing: over.server.failure))")
    }
}
