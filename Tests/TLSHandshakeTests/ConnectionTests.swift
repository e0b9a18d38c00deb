import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
@testable import TLSHandshake

final class ConnectionTests: XCTestCase {
    func testEverySuiteGroupAndKeyType() throws {
        let keys: [(String, PrivateKey, SignatureScheme)] = [
            ("p256", TestKeys.ecdsaP256, .ecdsaSecp256r1SHA256),
            ("p384", TestKeys.ecdsaP384, .ecdsaSecp384r1SHA384),
            ("ed25519", TestKeys.ed25519, .ed25519),
            ("rsa", TestKeys.rsa2048, .rsaPSSRSAESHA256),
        ]
        for suite in CipherSuite.tls13Suites {
            for group in NamedGroup.allCases {
                for (name, key, scheme) in keys {
                    let certified = TestKeys.certified(name, key)
                    var (c, s) = baseConfigs(serverKey: certified)
                    c.cipherSuites = [suite]
                    c.keyShareGroups = [group]
                    c.groups = [group]
                    let pair = Pair(client: c, server: s, seed: "\(suite)\(group)\(name)")
                    try pair.pump()
                    XCTAssertEqual(pair.client.status, .established)
                    XCTAssertEqual(pair.server.status, .established)
                    let n = try XCTUnwrap(pair.client.negotiated)
                    XCTAssertEqual(n.cipherSuite, suite)
                    XCTAssertEqual(n.group, group)
                    XCTAssertEqual(n.signatureScheme, scheme, "\(name)")
                    XCTAssertEqual(n.version, .tls13)
                    XCTAssertFalse(n.usedHelloRetryRequest)
                    XCTAssertEqual(pair.server.negotiated?.cipherSuite, suite)
                    let hello = Array("hello from \(suite) \(group) \(name)".utf8)
                    try pair.client.write(hello)
                    try pair.pump()
                    XCTAssertEqual(pair.readAll(pair.server), hello)
                    try pair.server.write(hello.reversed())
                    try pair.pump()
                    XCTAssertEqual(pair.readAll(pair.client), hello.reversed())
                }
            }
        }
    }

    func testServerPreferenceAndClientPreference() throws {
        var (c, s) = baseConfigs()
        c.cipherSuites = [.tlsCHACHA20POLY1305SHA256, .tlsAES256GCMSHA384]
        s.cipherSuites = [.tlsAES256GCMSHA384, .tlsCHACHA20POLY1305SHA256]
        var pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.client.negotiated?.cipherSuite, .tlsAES256GCMSHA384)
        s.serverPreference = false
        pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.client.negotiated?.cipherSuite, .tlsCHACHA20POLY1305SHA256)
    }

    func testHelloRetryRequestWhenNoShareIsUsable() throws {
        var (c, s) = baseConfigs()
        c.keyShareGroups = [.x25519]
        c.groups = [.x25519, .secp384r1]
        s.groups = [.secp384r1]
        let pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.client.negotiated?.group, .secp384r1)
        XCTAssertEqual(pair.client.negotiated?.usedHelloRetryRequest, true)
        XCTAssertEqual(pair.server.negotiated?.usedHelloRetryRequest, true)
        try pair.client.write([1, 2, 3]); try pair.pump()
        XCTAssertEqual(pair.readAll(pair.server), [1, 2, 3])
    }

    func testForcedHelloRetryRequestWithCookie() throws {
        var (c, s) = baseConfigs()
        s.groups = [.secp256r1, .x25519]
        s.insistOnPreferredGroup = true
        s.helloRetryCookie = { hash in Array("cookie".utf8) + hash }
        let pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.client.negotiated?.group, .secp256r1)
        XCTAssertEqual(pair.client.negotiated?.usedHelloRetryRequest, true)
        _ = c
    }

    func testNoCommonGroupOrSuite() throws {
        var (c, s) = baseConfigs()
        c.groups = [.x25519]; c.keyShareGroups = [.x25519]
        s.groups = [.secp384r1]
        var pair = Pair(client: c, server: s)
        assertAlert(try pair.pump(), .handshakeFailure, "no common group")
        XCTAssertEqual(pair.server.failure?.alert, .handshakeFailure)
        assertAlert(try pair.client.receive(pair.server.takeOutput()), .handshakeFailure, "the alert reaches the client")
        XCTAssertEqual(pair.client.failure?.alert, .handshakeFailure, "the client sees the server's alert")
        XCTAssertEqual(pair.client.failure?.fromPeer, true)

        (c, s) = baseConfigs()
        c.cipherSuites = [.tlsAES128GCMSHA256]
        s.cipherSuites = [.tlsAES256GCMSHA384]
        pair = Pair(client: c, server: s)
        assertAlert(try pair.pump(), .handshakeFailure, "no common suite")
    }

    func testALPN() throws {
        var (c, s) = baseConfigs()
        c.alpnProtocols = ["h2", "http/1.1"]
        s.alpnProtocols = ["http/1.1", "h2"]
        var pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.client.negotiated?.alpn, "http/1.1")
        XCTAssertEqual(pair.server.negotiated?.alpn, "http/1.1")
        s.alpnProtocols = ["spdy/1"]
        pair = Pair(client: c, server: s)
        assertAlert(try pair.pump(), .noApplicationProtocol)
    }

    func testSNISelectsCertificate() throws {
        let a = TestKeys.certified("a", TestKeys.ecdsaP256, names: ["a.example"])
        let b = TestKeys.certified("b", TestKeys.ed25519, names: ["*.b.example"])
        var (c, s) = baseConfigs(serverKey: a)
        s.certificates = [a, b]
        c.peerVerifier = LabelVerifier([a, b])
        c.serverName = "www.b.example"
        var pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.client.negotiated?.peer?.chain.first, b.chain[0])
        XCTAssertEqual(pair.server.negotiated?.serverName, "www.b.example")
        c.serverName = "a.example"
        pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.client.negotiated?.peer?.chain.first, a.chain[0])
    }

    func testClientAuthentication() throws {
        let clientCert = TestKeys.certified("client", TestKeys.ecdsaP384)
        var (c, s) = baseConfigs()
        s.clientAuthentication = .require
        s.certificateAuthorities = [[0x30, 0x00]]
        s.peerVerifier = LabelVerifier([clientCert])
        var seenNames: [[UInt8]] = []
        c.clientCertificateProvider = { names in seenNames = names; return clientCert }
        var pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.server.negotiated?.peer?.chain, clientCert.chain)
        XCTAssertEqual(seenNames, [[0x30, 0x00]])

        // Required but absent: certificate_required.
        c.clientCertificateProvider = { _ in nil }
        pair = Pair(client: c, server: s)
        assertAlert(try pair.pump(), .certificateRequired)

        // Requested but absent: fine.
        s.clientAuthentication = .request
        pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.server.status, .established)
        XCTAssertNil(pair.server.negotiated?.peer)
    }

    /// Keys held outside the process (`CertifiedKey(chain:publicKey:signer:)`): schemes are
    /// chosen for the public key, and every signature comes from the signer, in TLS 1.3 and 1.2,
    /// for the server and for client authentication.
    func testExternalSignerKeys() throws {
        struct SignerDown: Error {}
        for version in [ProtocolVersion.tls13, .tls12] {
            var schemes: [String] = []
            func external(_ name: String, _ key: PrivateKey) -> CertifiedKey {
                CertifiedKey(chain: [Array("cert:\(name)".utf8)], publicKey: key.publicKey, names: ["localhost"]) { scheme, content in
                    schemes.append("\(name) \(scheme)")
                    return try key.sign(message: content, algorithm: scheme.algorithm)
                }
            }
            let serverKey = external("rsa", TestKeys.rsa2048)
            let clientKey = external("p384", TestKeys.ecdsaP384)
            XCTAssertNil(serverKey.privateKey)
            var (c, s) = baseConfigs(serverKey: serverKey)
            c.minVersion = version; c.maxVersion = version
            s.minVersion = version; s.maxVersion = version
            s.clientAuthentication = .require
            s.peerVerifier = LabelVerifier([clientKey])
            c.certificates = [clientKey]
            let pair = Pair(client: c, server: s, seed: "external-\(version)")
            try pair.pump()
            XCTAssertEqual(pair.client.status, .established, "\(version)")
            XCTAssertEqual(pair.server.negotiated?.peer?.chain, clientKey.chain, "\(version)")
            XCTAssertEqual(schemes.count, 2, "\(version): \(schemes)")
            XCTAssertTrue(schemes.contains { $0.hasPrefix("rsa rsa_pss_rsae") }, "\(version): \(schemes)")
            // TLS 1.2 ECDSA schemes name a hash, not a curve (RFC 8446 4.2.3).
            let clientScheme = version == .tls13 ? "p384 ecdsa_secp384r1" : "p384 ecdsa_"
            XCTAssertTrue(schemes.contains { $0.hasPrefix(clientScheme) }, "\(version): \(schemes)")

            // A signer that fails ends the handshake; nothing is signed in its place.
            let broken = CertifiedKey(chain: serverKey.chain, publicKey: serverKey.publicKey, names: ["localhost"]) { _, _ in
                throw SignerDown()
            }
            var (c2, s2) = baseConfigs(serverKey: broken)
            c2.minVersion = version; c2.maxVersion = version
            s2.minVersion = version; s2.maxVersion = version
            let failing = Pair(client: c2, server: s2, seed: "broken-\(version)")
            XCTAssertThrowsError(try failing.pump(), "\(version)")
            XCTAssertNotEqual(failing.client.status, .established, "\(version)")
        }
    }

    func testKeyUpdateBothDirections() throws {
        let (c, s) = baseConfigs()
        let pair = Pair(client: c, server: s)
        try pair.pump()
        for round in 0..<3 {
            try pair.client.updateKeys(requestPeerUpdate: round == 1)
            try pair.client.write([UInt8(round)])
            try pair.pump()
            XCTAssertEqual(pair.readAll(pair.server), [UInt8(round)])
            try pair.server.updateKeys(requestPeerUpdate: round == 2)
            try pair.server.write([UInt8(round + 10)])
            try pair.pump()
            XCTAssertEqual(pair.readAll(pair.client), [UInt8(round + 10)])
        }
        try pair.client.write([42]); try pair.pump()
        XCTAssertEqual(pair.readAll(pair.server), [42])
    }

    func testExporterAgreesAndDependsOnLabelAndContext() throws {
        let (c, s) = baseConfigs()
        let pair = Pair(client: c, server: s)
        try pair.pump()
        let a = try pair.client.exportKeyingMaterial(label: "EXPERIMENTAL test", context: [1], length: 32)
        XCTAssertEqual(a, try pair.server.exportKeyingMaterial(label: "EXPERIMENTAL test", context: [1], length: 32))
        XCTAssertNotEqual(a, try pair.server.exportKeyingMaterial(label: "EXPERIMENTAL test", context: [2], length: 32))
        XCTAssertNotEqual(a, try pair.server.exportKeyingMaterial(label: "EXPERIMENTAL other", context: [1], length: 32))
    }

    func testLargeTransferArrivesIntact() throws {
        let (c, s) = baseConfigs()
        let pair = Pair(client: c, server: s)
        try pair.pump()
        let random = ScriptedRandom(seed: [7])
        let payload = random.bytes(1_000_000)
        try pair.client.write(payload)
        let wire = pair.client.takeOutput()
        XCTAssertEqual(wire.count, payload.count + (payload.count + 16383) / 16384 * 22, "16 KiB records, 22 bytes of overhead each")
        try pair.server.receive(wire)
        XCTAssertEqual(pair.readAll(pair.server), payload)
    }

    func testCloseNotify() throws {
        let (c, s) = baseConfigs()
        let pair = Pair(client: c, server: s)
        try pair.pump()
        try pair.client.write([9])
        pair.client.close()
        try pair.pump()
        XCTAssertEqual(pair.server.read(), [9])
        XCTAssertNil(pair.server.read(), "after close_notify, read says end of stream")
        XCTAssertTrue(pair.server.peerClosed)
        XCTAssertThrowsError(try pair.client.write([1]))
    }

    func testPaddingHidesLength() throws {
        var (c, s) = baseConfigs()
        c.padding = .padToMultiple(256)
        let pair = Pair(client: c, server: s)
        try pair.pump()
        try pair.client.write([1])
        let short = pair.client.takeOutput()
        try pair.client.write([UInt8](repeating: 2, count: 200))
        let longer = pair.client.takeOutput()
        XCTAssertEqual(short.count, longer.count)
        XCTAssertEqual(short.count, 5 + 256 + 16)
        try pair.server.receive(short + longer)
        XCTAssertEqual(pair.readAll(pair.server), [1] + [UInt8](repeating: 2, count: 200))
    }

    func testSecretsAreLoggedOnlyWhenAsked() throws {
        var (c, s) = baseConfigs()
        var clientLog: [String: [UInt8]] = [:], serverLog: [String: [UInt8]] = [:]
        c.keyLog = { label, _, secret in clientLog[label] = secret }
        s.keyLog = { label, _, secret in serverLog[label] = secret }
        let pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(Set(clientLog.keys), ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                             "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"])
        for (k, v) in serverLog { XCTAssertEqual(clientLog[k], v, k) }
    }
}

final class PostHandshakeAuthTests: XCTestCase {
    func testServerRequestsACertificateAfterTheHandshake() throws {
        let clientCert = TestKeys.certified("client", TestKeys.ed25519)
        var (c, s) = baseConfigs()
        c.certificates = [clientCert]
        s.peerVerifier = LabelVerifier([clientCert])
        let pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertNil(pair.server.negotiated?.peer)
        try pair.client.updateKeys(requestPeerUpdate: true)  // keys move on first: the Finished must use the current secret
        try pair.pump()
        try pair.server.requestClientCertificate(required: true)
        XCTAssertTrue(pair.server.awaitingClientCertificate)
        try pair.pump()
        XCTAssertFalse(pair.server.awaitingClientCertificate)
        XCTAssertEqual(pair.server.negotiated?.peer?.chain, clientCert.chain)
        try pair.client.write([1]); try pair.pump()
        XCTAssertEqual(pair.readAll(pair.server), [1])
    }

    func testRequiredButNoCertificateIsCertificateRequired() throws {
        var (c, s) = baseConfigs()
        c.clientCertificateProvider = { _ in nil }  // offers post_handshake_auth but has nothing
        let pair = Pair(client: c, server: s)
        try pair.pump()
        try pair.server.requestClientCertificate(required: true)
        assertAlert(try pair.pump(), .certificateRequired)
        (c, s) = baseConfigs()
        let plain = Pair(client: c, server: s)
        try plain.pump()
        XCTAssertThrowsError(try plain.server.requestClientCertificate(), "the client never offered post_handshake_auth")
    }

    func testAutomaticKeyUpdateNearTheAEADLimit() throws {
        let (c, s) = baseConfigs()
        let pair = Pair(client: c, server: s)
        try pair.pump()
        var clientLog: [String] = []
        pair.client.onHandshakeMessage = { sent, raw in if sent { clientLog.append(HandshakeType(rawValue: raw[0])?.name ?? "?") } }
        pair.client.forceRecordCountForTesting(1 << 24)
        try pair.client.write([1]); try pair.pump()
        XCTAssertEqual(pair.readAll(pair.server), [1])
        XCTAssertTrue(pair.client.sentKeyUpdates > 0, "a KeyUpdate went out before the write")
    }
}

final class RecordSizeLimitTests: XCTestCase {
    func testServerHonoursTheClientsRecordSizeLimit() throws {
        var (c, s) = baseConfigs()
        c.recordSizeLimit = 100
        let pair = Pair(client: c, server: s)
        try pair.pump()
        let data = [UInt8](repeating: 0x5a, count: 1000)
        try pair.server.write(data)
        let wire = pair.server.takeOutput()
        // Walk the records: none carries more than 99 bytes of content (+1 type byte, +16 tag).
        var i = 0, records = 0
        while i + 5 <= wire.count {
            let len = Int(wire[i + 3]) << 8 | Int(wire[i + 4])
            XCTAssertLessThanOrEqual(len, 100 + 16)
            i += 5 + len
            records += 1
        }
        XCTAssertEqual(records, 11, "1000 bytes in 99-byte pieces")
        try pair.client.receive(wire)
        XCTAssertEqual(pair.readAll(pair.client), data)
        // The client's own writes are not limited by its own advertisement.
        try pair.client.write(data)
        XCTAssertEqual(pair.client.takeOutput().count, 5 + 1000 + 1 + 16)
    }

    func testTooSmallLimitIsIllegalParameter() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            var (c, s) = baseConfigs()
            c.minVersion = version; c.maxVersion = version; s.minVersion = version; s.maxVersion = version
            c.overrideClientHelloExtensions = { ours, _ in ours + [Extension(type: ExtensionType.recordSizeLimit, data: [0, 63])] }
            let pair = Pair(client: c, server: s)
            assertAlert(try pair.pump(), .illegalParameter)
        }
    }

    /// Protected TLS 1.2 records' plaintext lengths, from the record headers (AEAD:
    /// an 8-byte explicit nonce for AES-GCM, none for ChaCha20, then a 16-byte tag).
    func plaintextLengths12(_ wire: [UInt8], explicitNonce: Int) -> [Int] {
        var lengths: [Int] = []
        var i = 0
        while i + 5 <= wire.count {
            let len = Int(wire[i + 3]) << 8 | Int(wire[i + 4])
            lengths.append(len - explicitNonce - 16)
            i += 5 + len
        }
        return lengths
    }

    func testTLS12LimitsAreNegotiatedAndHonouredBothWays() throws {
        for suite in [CipherSuite.ecdheECDSAWithAES128GCMSHA256, .ecdheECDSAWithCHACHA20POLY1305SHA256] {
            var (c, s) = baseConfigs()
            c.minVersion = .tls12; c.maxVersion = .tls12; s.minVersion = .tls12; s.maxVersion = .tls12
            c.cipherSuites = [suite]
            c.recordSizeLimit = 100
            s.recordSizeLimit = 200
            let pair = Pair(client: c, server: s)
            try pair.pump()
            XCTAssertEqual(pair.client.negotiated?.cipherSuite, suite)
            let nonce = suite == .ecdheECDSAWithAES128GCMSHA256 ? 8 : 0
            let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
            try pair.server.write(data)
            let toClient = pair.server.takeOutput()
            XCTAssertEqual(plaintextLengths12(toClient, explicitNonce: nonce), [Int](repeating: 100, count: 10), "\(suite)")
            try pair.client.receive(toClient)
            XCTAssertEqual(pair.readAll(pair.client), data)
            try pair.client.write(data)
            let toServer = pair.client.takeOutput()
            XCTAssertEqual(plaintextLengths12(toServer, explicitNonce: nonce), [Int](repeating: 200, count: 5), "\(suite)")
            try pair.server.receive(toServer)
            XCTAssertEqual(pair.readAll(pair.server), data)
        }
    }

    func testTLS12ServerAnswersTheExtensionEvenWithoutALimitOfItsOwn() throws {
        var (c, s) = baseConfigs()
        c.minVersion = .tls12; c.maxVersion = .tls12; s.minVersion = .tls12; s.maxVersion = .tls12
        c.recordSizeLimit = 16385  // a TLS 1.3 value: a TLS 1.2 server must not refuse it
        let pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.server.status, .established)
        let data = [UInt8](repeating: 7, count: 20000)
        try pair.server.write(data)
        let wire = pair.server.takeOutput()
        XCTAssertEqual(plaintextLengths12(wire, explicitNonce: 8).max(), 16384)
        try pair.client.receive(wire)
        XCTAssertEqual(pair.readAll(pair.client), data)
    }
}

final class OCSPStaplingTests: XCTestCase {
    let response: [UInt8] = [0x30, 0x03, 0x0a, 0x01, 0x00]  // OCSPResponse { responseStatus successful } stand-in

    func testStapledResponseReachesTheClientInBothVersions() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            var key = TestKeys.certified("p256", TestKeys.ecdsaP256)
            key.ocspResponse = response
            var (c, s) = baseConfigs(serverKey: key)
            c.minVersion = version; c.maxVersion = version; s.minVersion = version; s.maxVersion = version
            c.requestOCSPStapling = true
            var pair = Pair(client: c, server: s)
            try pair.pump()
            XCTAssertEqual(pair.client.negotiated?.ocspResponse, response, "\(version)")
            // Not asked, not sent.
            c.requestOCSPStapling = false
            pair = Pair(client: c, server: s)
            try pair.pump()
            XCTAssertNil(pair.client.negotiated?.ocspResponse, "\(version)")
        }
    }

    func testUnrequestedStapleIsUnsupportedExtension() throws {
        let (c, s) = baseConfigs()
        let client = ClientHandshake(config: c, random: ScriptedRandom(seed: [1]))
        let server = ServerHandshake(config: s, random: ScriptedRandom(seed: [2]))
        var ch: [UInt8] = []
        for a in try client.start() { if case .send(let m) = a { ch = m } }
        var flight: [[UInt8]] = []
        for a in try server.handle(try ReceivedMessage(raw: ch)) { if case .send(let m) = a { flight.append(m) } }
        _ = try client.handle(try ReceivedMessage(raw: flight[0]))
        _ = try client.handle(try ReceivedMessage(raw: flight[1]))
        var cert = try Certificate13(body: Array(flight[2].dropFirst(4)))
        cert.entries[0].extensions = [Extension(type: ExtensionType.statusRequest, data: [1, 0, 0, 1, 0])]
        assertAlert(_ = try client.handle(try ReceivedMessage(raw: cert.encode())), .unsupportedExtension)
    }
}

final class ConfigurationValidationTests: XCTestCase {
    func testValuesThatCannotBeEncodedAreRefusedAtStart() {
        let cases: [(String, (inout TLSConfiguration) -> Void)] = [
            ("long ALPN", { $0.alpnProtocols = [String(repeating: "a", count: 256)] }),
            ("empty ALPN", { $0.alpnProtocols = [""] }),
            ("long SNI", { $0.serverName = String(repeating: "a", count: 256) + ".example" }),
            ("no suites", { $0.cipherSuites = [] }),
            ("min above max", { $0.minVersion = .tls13; $0.maxVersion = .tls12 }),
            ("tiny record limit", { $0.recordSizeLimit = 10 }),
        ]
        for (name, change) in cases {
            var (c, _) = baseConfigs()
            change(&c)
            let conn = TLSConnection(role: .client, config: c, random: ScriptedRandom(seed: [1]))
            XCTAssertThrowsError(try conn.start(), name) { e in
                XCTAssertEqual((e as? HandshakeError)?.alert, .internalError, name)
            }
            XCTAssertEqual(conn.status, .failed, name)
            XCTAssertTrue(conn.takeOutput().isEmpty, "\(name): nothing goes on the wire")
        }
    }
}

final class KeyUpdateReplyTests: XCTestCase {
    /// The peer answers our update_requested with its own KeyUpdate and data in one flight.
    func testDataRightBehindThePeersKeyUpdate() throws {
        let (c, s) = baseConfigs()
        let pair = Pair(client: c, server: s)
        try pair.pump()
        try pair.client.updateKeys(requestPeerUpdate: true)
        try pair.client.write(Array("GET /\r\n\r\n".utf8))
        try pair.server.receive(pair.client.takeOutput())
        XCTAssertEqual(pair.readAll(pair.server), Array("GET /\r\n\r\n".utf8))
        try pair.server.write(Array("page".utf8))          // behind the automatic KeyUpdate
        pair.server.close()                                  // and close_notify, as s_server -www does
        let flight = pair.server.takeOutput()
        try pair.client.receive(flight)
        XCTAssertEqual(pair.readAll(pair.client), Array("page".utf8))
        XCTAssertNil(pair.client.read(), "then the end of the stream")
    }
}
