import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
@testable import TLSHandshake

final class TLS12Tests: XCTestCase {
    let tls12Suites: [CipherSuite] = CipherSuite.allCases.filter { !$0.isTLS13 }

    func configs(_ key: CertifiedKey, clientMax: ProtocolVersion = .tls12, serverMax: ProtocolVersion = .tls13) -> (TLSConfiguration, TLSConfiguration) {
        var (c, s) = baseConfigs(serverKey: key)
        c.minVersion = .tls12; c.maxVersion = clientMax
        s.minVersion = .tls12; s.maxVersion = serverMax
        return (c, s)
    }

    func testEverySuiteGroupAndKeyType() throws {
        let keys: [(String, PrivateKey)] = [("p256", TestKeys.ecdsaP256), ("p384", TestKeys.ecdsaP384), ("ed25519", TestKeys.ed25519), ("rsa", TestKeys.rsa2048)]
        var handshakes = 0
        for suite in tls12Suites {
            for group in NamedGroup.allCases {
                for (name, key) in keys where suite.acceptsKey(key.publicKey) {
                    var (c, s) = configs(TestKeys.certified(name, key))
                    c.cipherSuites = [suite]
                    // RFC 8422 5.1: an ECDSA certificate's curve must be in the client's list too.
                    c.groups = [group]
                    if case .ecdsa(let k) = key.publicKey {
                        let curve: NamedGroup = k.curve == .p256 ? .secp256r1 : .secp384r1
                        if curve != group { c.groups.append(curve) }
                    }
                    s.groups = [group]
                    let pair = Pair(client: c, server: s, seed: "\(suite)\(group)\(name)")
                    try pair.pump()
                    let n = try XCTUnwrap(pair.client.negotiated, "\(suite) \(group) \(name)")
                    XCTAssertEqual(n.version, .tls12)
                    XCTAssertEqual(n.cipherSuite, suite)
                    XCTAssertEqual(n.group, group)
                    XCTAssertEqual(pair.server.negotiated?.cipherSuite, suite)
                    let data = Array("tls12 \(suite) \(group) \(name)".utf8)
                    try pair.client.write(data); try pair.pump()
                    XCTAssertEqual(pair.readAll(pair.server), data)
                    try pair.server.write(data + data); try pair.pump()
                    XCTAssertEqual(pair.readAll(pair.client), data + data)
                    handshakes += 1
                }
            }
        }
        XCTAssertEqual(handshakes, 3 * 3 * 3 + 3 * 3 * 1, "ECDSA suites x 3 EC/Ed keys, RSA suites x 1 RSA key, 3 groups each")
    }

    func testVersionNegotiation() throws {
        let key = TestKeys.certified("p256", TestKeys.ecdsaP256)
        // Both sides able: 1.3.
        var (c, s) = configs(key, clientMax: .tls13, serverMax: .tls13)
        var pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.client.negotiated?.version, .tls13)
        // Server limited to 1.2, client offers both: 1.2 without a sentinel (the server cannot do 1.3).
        (c, s) = configs(key, clientMax: .tls13, serverMax: .tls12)
        pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.client.negotiated?.version, .tls12)
        // Client limited to 1.3, server to 1.2: protocol_version.
        (c, s) = configs(key, clientMax: .tls13, serverMax: .tls12)
        c.minVersion = .tls13
        pair = Pair(client: c, server: s)
        assertAlert(try pair.pump(), .protocolVersion)
    }

    func testDowngradeSentinelIsWrittenAndChecked() throws {
        let key = TestKeys.certified("p256", TestKeys.ecdsaP256)
        // A 1.3-capable server answering a 1.2-only client marks its random.
        var (c, s) = configs(key, clientMax: .tls12, serverMax: .tls13)
        var serverRandom: [UInt8] = []
        var pair = Pair(client: c, server: s)
        pair.client.onHandshakeMessage = { sent, raw in
            if !sent, raw.first == 2 { serverRandom = Array(raw[6..<38]) }
        }
        try pair.pump()
        XCTAssertEqual(Array(serverRandom.suffix(8)), downgradeSentinelTLS12)
        XCTAssertEqual(pair.client.negotiated?.version, .tls12, "a 1.2-only client does not check the sentinel")

        // A 1.3-capable client that receives a marked TLS 1.2 ServerHello aborts:
        // simulate an attacker who strips supported_versions from the ClientHello.
        (c, s) = configs(key, clientMax: .tls13, serverMax: .tls13)
        c.overrideClientHelloExtensions = { ours, _ in ours.filter { $0.type != ExtensionType.supportedVersions } }
        pair = Pair(client: c, server: s)
        assertAlert(try pair.pump(), .illegalParameter, "sentinel detected")
        XCTAssertTrue(pair.client.failure?.reason.contains("downgrade") ?? false)
    }

    func testFallbackSCSV() throws {
        let key = TestKeys.certified("p256", TestKeys.ecdsaP256)
        var (c, s) = configs(key, clientMax: .tls12, serverMax: .tls13)
        c.sendFallbackSCSV = true
        let pair = Pair(client: c, server: s)
        assertAlert(try pair.pump(), .inappropriateFallback)
        (c, s) = configs(key, clientMax: .tls12, serverMax: .tls12)
        c.sendFallbackSCSV = true
        let ok = Pair(client: c, server: s)
        try ok.pump()
        XCTAssertEqual(ok.client.negotiated?.version, .tls12, "no fallback when the server's best is 1.2 too")
    }

    func testClientAuthentication12() throws {
        let clientCert = TestKeys.certified("client", TestKeys.rsa2048)
        var (c, s) = configs(TestKeys.certified("p256", TestKeys.ecdsaP256))
        s.clientAuthentication = .require
        s.peerVerifier = LabelVerifier([clientCert])
        c.certificates = [clientCert]
        var pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.server.negotiated?.peer?.chain, clientCert.chain)
        c.certificates = []
        pair = Pair(client: c, server: s)
        assertAlert(try pair.pump(), .handshakeFailure)
    }

    func testRenegotiationFromEitherSide() throws {
        let (c, s) = configs(TestKeys.certified("rsa", TestKeys.rsa2048))
        let pair = Pair(client: c, server: s)
        try pair.pump()
        let exporterBefore = try pair.client.exportKeyingMaterial(label: "EXPERIMENTAL x", context: [], length: 16)
        try pair.client.renegotiate()
        try pair.client.write([1])
        try pair.pump()
        XCTAssertEqual(pair.readAll(pair.server), [1])
        let exporterAfter = try pair.client.exportKeyingMaterial(label: "EXPERIMENTAL x", context: [], length: 16)
        XCTAssertNotEqual(exporterBefore, exporterAfter, "new master secret after renegotiation")
        XCTAssertEqual(exporterAfter, try pair.server.exportKeyingMaterial(label: "EXPERIMENTAL x", context: [], length: 16))
        try pair.server.renegotiate()
        try pair.pump()
        try pair.server.write([2]); try pair.pump()
        XCTAssertEqual(pair.readAll(pair.client), [2])
        XCTAssertNotEqual(try pair.server.exportKeyingMaterial(label: "EXPERIMENTAL x", context: [], length: 16), exporterAfter)
    }

    func testRenegotiationMayRelaxClientAuthentication() throws {
        let clientCert = TestKeys.certified("client", TestKeys.ecdsaP256)
        var (c, s) = configs(TestKeys.certified("p256", TestKeys.ecdsaP256))
        s.clientAuthentication = .require
        s.renegotiationClientAuthentication = .request      // NSS SSL_REQUIRE_FIRST_HANDSHAKE
        s.peerVerifier = LabelVerifier([clientCert])
        var offers = 0
        c.clientCertificateProvider = { _ in offers += 1; return offers == 1 ? clientCert : nil }
        let pair = Pair(client: c, server: s)
        try pair.pump()
        XCTAssertEqual(pair.server.negotiated?.peer?.chain, clientCert.chain)
        try pair.client.renegotiate()
        try pair.pump()
        XCTAssertEqual(pair.server.completedHandshakes, 2, "the renegotiation without a certificate succeeded")
        XCTAssertNil(pair.server.negotiated?.peer)
        // Without the relaxation the same renegotiation fails.
        s.renegotiationClientAuthentication = nil
        offers = 0
        let strict = Pair(client: c, server: s)
        try strict.pump()
        try strict.client.renegotiate()
        assertAlert(try strict.pump(), .handshakeFailure)
    }

    func testRenegotiationRefusedByConfiguration() throws {
        var (c, s) = configs(TestKeys.certified("p256", TestKeys.ecdsaP256))
        s.allowRenegotiation = false
        let pair = Pair(client: c, server: s)
        try pair.pump()
        try pair.client.renegotiate()
        try pair.pump()  // the server answers with a no_renegotiation warning; the connection goes on
        try pair.client.write([5]); try pair.pump()
        XCTAssertEqual(pair.readAll(pair.server), [5])
        XCTAssertEqual(pair.client.status, .established)
        c.allowRenegotiation = false
        let p2 = Pair(client: c, server: baseConfigs(serverKey: TestKeys.certified("p256", TestKeys.ecdsaP256)).1)
        _ = p2
    }

    func testPRFKnownAnswer() {
        // TLS 1.2 PRF-SHA256 test vector widely used for RFC 5246 implementations
        // (secret 9bbe436ba940f017b17652849a71db35, seed a0ba9f936cda311827a6f796ffd5198c, label "test label").
        let out = TLS12PRF.prf(.sha256, secret: try! [UInt8](hex: "9bbe436ba940f017b17652849a71db35"), label: "test label",
                               seed: try! [UInt8](hex: "a0ba9f936cda311827a6f796ffd5198c"), length: 100)
        XCTAssertEqual(out.hexString, "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66")
    }
}
