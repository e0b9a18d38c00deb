import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
@testable import TLSHandshake

/// One test per row of Spec/alerts-tls12.md.
final class TLS12AlertTests: XCTestCase {
    typealias Drive = TLS12StateTableTests.Drive

    func configs12(_ key: CertifiedKey = TestKeys.certified("p256", TestKeys.ecdsaP256)) -> (TLSConfiguration, TLSConfiguration) {
        var (c, s) = baseConfigs(serverKey: key)
        c.minVersion = .tls12; c.maxVersion = .tls12
        s.minVersion = .tls12; s.maxVersion = .tls12
        return (c, s)
    }

    /// Runs a message-level handshake, letting `edit` change items in flight; returns the error thrown.
    func failure(_ d: Drive, edit: (_ toServer: Bool, _ item: inout TLS12StateTableTests.Item) -> Void) -> HandshakeError? {
        do {
            while true {
                if !d.toServer.isEmpty {
                    var item = d.toServer.removeFirst(); edit(true, &item); try d.deliver(item, toServer: true)
                } else if !d.toClient.isEmpty {
                    var item = d.toClient.removeFirst(); edit(false, &item); try d.deliver(item, toServer: false)
                } else { return nil }
            }
        } catch { return error as? HandshakeError }
    }

    func mutate(_ type: HandshakeType, toServer wanted: Bool, _ change: @escaping (inout [UInt8]) -> Void) -> (Bool, inout TLS12StateTableTests.Item) -> Void {
        return { toServer, item in
            guard toServer == wanted, case .message(var m) = item, m.first == type.rawValue else { return }
            change(&m)
            item = .message(m)
        }
    }

    func serverHelloFor(_ c: TLSConfiguration, _ s: TLSConfiguration) throws -> (ClientHandshake, [UInt8]) {
        let client = ClientHandshake(config: c, random: ScriptedRandom(seed: [1]))
        let server = ServerHandshake(config: s, random: ScriptedRandom(seed: [2]))
        var ch: [UInt8] = []
        for a in try client.start() { if case .send(let m) = a { ch = m } }
        var sh: [UInt8] = []
        for a in try server.handle(try ReceivedMessage(raw: ch)) { if case .send(let m) = a, m.first == 2, sh.isEmpty { sh = m } }
        return (client, sh)
    }

    // MARK: server side

    func testOnlyRetiredVersionsOffered() throws {
        let (c, s) = configs12()
        let server = ServerHandshake(config: s, random: ScriptedRandom(seed: [2]))
        var hello = ClientHello(random: [UInt8](repeating: 1, count: 32), sessionID: [], cipherSuites: [0xc02b], extensions: [])
        hello.legacyVersion = 0x0302
        assertAlert(_ = try server.handle(try ReceivedMessage(raw: hello.encode())), .protocolVersion)
        _ = c
    }

    func testFallbackSCSV() throws {
        var (c, s) = configs12()
        s.maxVersion = .tls13
        c.sendFallbackSCSV = true
        let d = Pair(client: c, server: s)
        assertAlert(try d.pump(), .inappropriateFallback)
    }

    func testNoCommonSuiteForOurCertificates() throws {
        var (c, s) = configs12()
        c.cipherSuites = [.ecdheRSAWithAES128GCMSHA256]  // our certificate is ECDSA
        assertAlert(try Pair(client: c, server: s).pump(), .handshakeFailure)
    }

    func testNonEmptyRenegotiationInfoInitially() throws {
        var (c, s) = configs12()
        c.overrideClientHelloExtensions = { ours, _ in ours.map { $0.type == ExtensionType.renegotiationInfo ? Extension(type: $0.type, data: [1, 9]) : $0 } }
        assertAlert(try Pair(client: c, server: s).pump(), .handshakeFailure)
    }

    func testPointFormatsWithoutUncompressed() throws {
        var (c, s) = configs12()
        c.overrideClientHelloExtensions = { ours, _ in ours.map { $0.type == ExtensionType.ecPointFormats ? Extension(type: $0.type, data: [1, 1]) : $0 } }
        assertAlert(try Pair(client: c, server: s).pump(), .illegalParameter)
    }

    func testRecordSizeLimitTooSmall12() throws {
        var (c, s) = configs12()
        c.overrideClientHelloExtensions = { ours, _ in ours + [Extension(type: ExtensionType.recordSizeLimit, data: [0, 63])] }
        assertAlert(try Pair(client: c, server: s).pump(), .illegalParameter)
    }

    func testInvalidClientKeyExchangePoint() throws {
        let d = try Drive()
        // x25519 (the default group): u = 0 is a low-order point whose shared secret is all zeros.
        let e = failure(d, edit: mutate(.clientKeyExchange, toServer: true) { m in m = [16, 0, 0, 33, 32] + [UInt8](repeating: 0, count: 32) })
        XCTAssertEqual(e?.alert, .illegalParameter, "\(String(describing: e))")
    }

    func testBadClientFinished12() throws {
        let d = try Drive()
        let e = failure(d, edit: mutate(.finished, toServer: true) { m in m[m.count - 1] ^= 0x01 })
        XCTAssertEqual(e?.alert, .decryptError)
    }

    func testFinishedWrongLength12() throws {
        for toServer in [true, false] {
            let d = try Drive()
            let e = failure(d, edit: mutate(.finished, toServer: toServer) { m in m = [20, 0, 0, 11] + Array(m[4..<15]) })
            XCTAssertEqual(e?.alert, .decodeError, "to server: \(toServer)")
        }
    }

    func testChangeCipherSpecTooEarly() throws {
        let d = try Drive()
        try d.run { d.server.tls12State == "waitClientKeyExchange" }
        assertAlert(_ = try d.server.receivedChangeCipherSpec(), .unexpectedMessage)
    }

    func testRequiredClientCertificateMissing12() throws {
        var (c, s) = configs12()
        s.clientAuthentication = .require
        c.clientCertificateProvider = { _ in nil }
        assertAlert(try Pair(client: c, server: s).pump(), .handshakeFailure)
    }

    func testBadClientCertificateVerify12() throws {
        let d = try Drive(clientAuth: true)
        let e = failure(d, edit: mutate(.certificateVerify, toServer: true) { m in m[m.count - 2] ^= 0x40 })
        XCTAssertEqual(e?.alert, .decryptError)
    }

    // MARK: client side

    func testDowngradeSentinel() throws {
        var (c, s) = configs12()
        c.maxVersion = .tls13
        s.maxVersion = .tls13
        c.overrideClientHelloExtensions = { ours, _ in ours.filter { $0.type != ExtensionType.supportedVersions } }
        assertAlert(try Pair(client: c, server: s).pump(), .illegalParameter)
    }

    func testServerHelloSuiteNotOffered12() throws {
        let (c, s) = configs12()
        let (client, sh) = try serverHelloFor(c, s)
        var bad = try ServerHello(body: Array(sh.dropFirst(4)))
        bad.cipherSuite = CipherSuite.ecdheRSAWithAES256GCMSHA384.rawValue
        var c2 = c; c2.cipherSuites = [.ecdheECDSAWithAES128GCMSHA256]
        let client2 = ClientHandshake(config: c2, random: ScriptedRandom(seed: [1]))
        _ = try client2.start()
        assertAlert(_ = try client2.handle(try ReceivedMessage(raw: bad.encode())), .illegalParameter)
        _ = client
    }

    func testServerHelloExtensionNotOffered12() throws {
        let (c, s) = configs12()
        let (client, sh) = try serverHelloFor(c, s)
        var bad = try ServerHello(body: Array(sh.dropFirst(4)))
        bad.extensions.append(Extension(type: 0x3377, data: []))
        assertAlert(_ = try client.handle(try ReceivedMessage(raw: bad.encode())), .unsupportedExtension)
    }

    func testServerRecordSizeLimitOutOfRange12() throws {
        var (c, s) = configs12()
        c.recordSizeLimit = 1000  // offered, so the server answers with its own
        for value in [63, 16385] as [UInt16] {
            let (client, sh) = try serverHelloFor(c, s)
            var bad = try ServerHello(body: Array(sh.dropFirst(4)))
            XCTAssertTrue(bad.extensions.has(ExtensionType.recordSizeLimit), "the server answered the extension")
            bad.extensions = bad.extensions.map {
                $0.type == ExtensionType.recordSizeLimit ? Extension(type: $0.type, data: [UInt8(value >> 8), UInt8(value & 0xff)]) : $0
            }
            assertAlert(_ = try client.handle(try ReceivedMessage(raw: bad.encode())), .illegalParameter, "\(value)")
        }
    }

    func testBadServerKeyExchangeSignature() throws {
        let d = try Drive()
        let e = failure(d, edit: mutate(.serverKeyExchange, toServer: false) { m in m[m.count - 3] ^= 0x10 })
        XCTAssertEqual(e?.alert, .decryptError)
    }

    func testServerKeyExchangeGroupNotOffered() throws {
        let d = try Drive()
        // Group 0x0019 (secp521r1) was never offered.
        let e = failure(d, edit: mutate(.serverKeyExchange, toServer: false) { m in m[5] = 0x00; m[6] = 0x19 })
        XCTAssertEqual(e?.alert, .illegalParameter)
    }

    func testServerKeyExchangeSchemeNotOffered() throws {
        let d = try Drive()
        let e = failure(d, edit: mutate(.serverKeyExchange, toServer: false) { m in
            // scheme sits after curve_type(1) group(2) and the point vector
            let pointLength = Int(m[7])
            m[8 + pointLength] = 0x02; m[9 + pointLength] = 0x03   // ecdsa_sha1: never offered
        })
        XCTAssertEqual(e?.alert, .illegalParameter)
    }

    func testCertificateKeyDoesNotFitSuite() throws {
        // An RSA suite, but the server's certificate (as the client sees it) is ECDSA.
        var (c, s) = configs12(TestKeys.certified("rsa", TestKeys.rsa2048))
        let ecdsa = TestKeys.certified("p256", TestKeys.ecdsaP256)
        c.peerVerifier = LabelVerifier([ecdsa])
        let client = ClientHandshake(config: c, random: ScriptedRandom(seed: [1]))
        let server = ServerHandshake(config: s, random: ScriptedRandom(seed: [2]))
        var ch: [UInt8] = []
        for a in try client.start() { if case .send(let m) = a { ch = m } }
        var flight: [[UInt8]] = []
        for a in try server.handle(try ReceivedMessage(raw: ch)) { if case .send(let m) = a { flight.append(m) } }
        _ = try client.handle(try ReceivedMessage(raw: flight[0]))
        assertAlert(_ = try client.handle(try ReceivedMessage(raw: Certificate12(chain: ecdsa.chain).encode())), .unsupportedCertificate)
    }

    func testBadServerFinished12() throws {
        let d = try Drive()
        let e = failure(d, edit: mutate(.finished, toServer: false) { m in m[m.count - 1] ^= 0x01 })
        XCTAssertEqual(e?.alert, .decryptError)
    }

    func testRenegotiationInfoMismatch() throws {
        let (c, s) = configs12()
        let pair = Pair(client: c, server: s)
        try pair.pump()
        let previous = try XCTUnwrap(pair.client.currentSessionForTesting)
        var forged = previous
        forged.serverVerifyData[0] ^= 1
        let client = ClientHandshake(config: c, random: ScriptedRandom(seed: [7]), renegotiatingFrom: forged)
        let server = ServerHandshake(config: s, random: ScriptedRandom(seed: [8]), renegotiatingFrom: previous)
        var ch: [UInt8] = []
        for a in try client.start() { if case .send(let m) = a { ch = m } }
        var sh: [UInt8] = []
        for a in try server.handle(try ReceivedMessage(raw: ch)) { if case .send(let m) = a, sh.isEmpty { sh = m } }
        assertAlert(_ = try client.handle(try ReceivedMessage(raw: sh)), .handshakeFailure)
    }

    func testRenegotiationRefusedIsAWarning() throws {
        var (c, s) = configs12()
        s.allowRenegotiation = false
        let pair = Pair(client: c, server: s)
        try pair.pump()
        try pair.client.renegotiate()
        let hello = pair.client.takeOutput()
        try pair.server.receive(hello)
        let answer = pair.server.takeOutput()
        XCTAssertEqual(pair.server.status, .established)
        try pair.client.receive(answer)   // the warning is survivable
        XCTAssertEqual(pair.client.status, .established)
        try pair.client.write([1]); try pair.pump()
        XCTAssertEqual(pair.readAll(pair.server), [1])
        _ = c
    }

    func testTooManyRenegotiations() throws {
        var (c, s) = configs12()
        s.maxRenegotiations = 1
        c.maxRenegotiations = 5
        let pair = Pair(client: c, server: s)
        try pair.pump()
        try pair.client.renegotiate(); try pair.pump()
        let before = try pair.client.exportKeyingMaterial(label: "EXPERIMENTAL n", context: [], length: 8)
        try pair.client.renegotiate(); try pair.pump()
        XCTAssertEqual(try pair.client.exportKeyingMaterial(label: "EXPERIMENTAL n", context: [], length: 8), before,
                       "the second renegotiation was refused: the keys did not change")
        XCTAssertEqual(pair.server.status, .established)
    }

    func testEveryRowHasATest() throws {
        let spec = try String(contentsOf: repositoryRoot.appendingPathComponent("Spec/alerts-tls12.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        var named = Set<String>()
        for line in spec.split(separator: "\n") where line.hasPrefix("| ") && !line.hasPrefix("| id") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let test = cells.last else { continue }
            named.insert(test)
            XCTAssertTrue(source.contains("func \(test)("), "row names \(test), which is not a test here")
        }
        XCTAssertGreaterThanOrEqual(named.count, 20)
        let declared = source.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("func test"), let name = t.dropFirst(5).split(separator: "(").first else { return nil }
            return String(name)
        }
        for t in declared where t != "testEveryRowHasATest" {
            XCTAssertTrue(named.contains(t), "\(t) has no row in Spec/alerts-tls12.md")
        }
    }
}
