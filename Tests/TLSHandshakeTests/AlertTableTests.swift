import Foundation
import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
@testable import TLSHandshake

// Holds the code to Spec/alerts.md: one test per row of that table, each
// provoking exactly its condition through real `TLSConnection`s (forged bytes
// are built with the public codecs and, where they must be protected, sealed
// with the traffic secrets the endpoints log through `keyLog`).

// MARK: - Wire helpers

/// One record as it appears on the wire (not deprotected).
struct WireRecord: Equatable {
    var type: UInt8
    var version: [UInt8]
    var body: [UInt8]

    var header: [UInt8] { [type] + version + [UInt8(body.count >> 8), UInt8(body.count & 0xff)] }
    var bytes: [UInt8] { header + body }
}

/// Splits bytes into records (a trailing partial record is dropped).
func splitRecords(_ bytes: [UInt8]) -> [WireRecord] {
    var out: [WireRecord] = []
    var i = 0
    while i + 5 <= bytes.count {
        let length = Int(bytes[i + 3]) << 8 | Int(bytes[i + 4])
        guard i + 5 + length <= bytes.count else { break }
        out.append(WireRecord(type: bytes[i], version: [bytes[i + 1], bytes[i + 2]], body: Array(bytes[(i + 5)..<(i + 5 + length)])))
        i += 5 + length
    }
    return out
}

/// Splits a handshake byte stream into messages (header included).
func splitMessages(_ bytes: [UInt8]) -> [[UInt8]] {
    var out: [[UInt8]] = []
    var i = 0
    while i + 4 <= bytes.count {
        let length = Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        guard i + 4 + length <= bytes.count else { break }
        out.append(Array(bytes[i..<(i + 4 + length)]))
        i += 4 + length
    }
    return out
}

/// Seals and opens TLS 1.3 records under one traffic secret, with its own
/// sequence number: a stand-in for the peer's record layer.
final class Sealer {
    let key: AEADKey
    let iv: [UInt8]
    var seq: UInt64 = 0

    init(_ secret: [UInt8], suite: CipherSuite = .tlsAES128GCMSHA256) {
        precondition(!secret.isEmpty, "secret was not logged")
        let (k, iv) = TLS13KDF.trafficKeys(suite, secret: secret)
        key = try! AEADKey(suite.aead, key: k)
        self.iv = iv
    }

    private func nonce() -> [UInt8] {
        var n = iv
        for i in 0..<8 { n[4 + i] ^= UInt8(truncatingIfNeeded: seq >> UInt64(56 - 8 * i)) }
        return n
    }

    /// A protected record carrying exactly `inner` (TLSInnerPlaintext).
    func seal(inner: [UInt8], version: [UInt8] = [3, 3]) -> [UInt8] {
        let length = inner.count + 16
        let header: [UInt8] = [23] + version + [UInt8(length >> 8), UInt8(length & 0xff)]
        let sealed = try! key.seal(nonce: nonce(), aad: header, plaintext: inner)
        seq += 1
        return header + sealed
    }

    func protect(_ type: ContentType, _ content: [UInt8], padding: Int = 0) -> [UInt8] {
        seal(inner: content + [type.rawValue] + [UInt8](repeating: 0, count: padding))
    }

    /// Opens a protected record: (inner type, content).
    func open(_ record: WireRecord) throws -> (type: UInt8, content: [UInt8]) {
        let inner = try key.open(nonce: nonce(), aad: record.header, ciphertextAndTag: record.body)
        seq += 1
        var end = inner.count
        while end > 0 && inner[end - 1] == 0 { end -= 1 }
        guard end > 0 else { return (0, []) }
        return (inner[end - 1], Array(inner[..<(end - 1)]))
    }
}

/// The secrets one endpoint logged.
final class KeyLog {
    var secrets: [String: [UInt8]] = [:]
    subscript(_ label: String) -> [UInt8] { secrets[label] ?? [] }
}

/// One flight: the plaintext records that open it (ServerHello, CCS) and the
/// handshake messages it carries under handshake keys, decrypted.
struct Flight {
    var plain: [WireRecord]
    var messages: [[UInt8]]
    let secret: [UInt8]

    init(_ bytes: [UInt8], secret: [UInt8]) throws {
        let records = splitRecords(bytes)
        plain = Array(records.prefix { $0.type != 23 })
        self.secret = secret
        let opener = Sealer(secret)
        var stream: [UInt8] = []
        for r in records.dropFirst(plain.count) {
            let (type, content) = try opener.open(r)
            XCTAssertEqual(type, ContentType.handshake.rawValue, "flights carry handshake messages only")
            stream += content
        }
        messages = splitMessages(stream)
    }

    func index(_ type: HandshakeType) -> Int? { messages.firstIndex { $0.first == type.rawValue } }

    /// Changes the body of the first message of `type` (the header follows).
    mutating func edit(_ type: HandshakeType, file: StaticString = #filePath, line: UInt = #line, _ change: (inout [UInt8]) throws -> Void) rethrows {
        guard let i = index(type) else { return XCTFail("no \(type.name) in the flight", file: file, line: line) }
        var body = Array(messages[i].dropFirst(4))
        try change(&body)
        messages[i] = HandshakeMessage(typeCode: type.rawValue, body: body).raw
    }

    mutating func replace(_ type: HandshakeType, with message: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        guard let i = index(type) else { return XCTFail("no \(type.name) in the flight", file: file, line: line) }
        messages[i] = message
    }

    /// How the protected part is put on the wire (nil: all messages in one record).
    var sealing: ((Sealer, [[UInt8]]) -> [UInt8])?

    /// The flight on the wire again: plaintext records, then the messages
    /// sealed from sequence number 0.
    func bytes() -> [UInt8] {
        let sealer = Sealer(secret)
        var out = plain.flatMap(\.bytes)
        if let protected = sealing {
            out += protected(sealer, messages)
        } else if !messages.isEmpty {
            out += sealer.protect(.handshake, messages.flatMap { $0 })
        }
        return out
    }
}

/// A client and a server joined by memory whose secrets are logged, so a test
/// can read and forge protected records.
final class Harness {
    let client: TLSConnection
    let server: TLSConnection
    let clientLog = KeyLog()
    let serverLog = KeyLog()
    /// The last bytes `serverFlight` took from the server.
    var lastServerOutput: [UInt8] = []

    init(client c: TLSConfiguration? = nil, server s: TLSConfiguration? = nil, seed: String = "alerts") {
        let (dc, ds) = baseConfigs()
        var c = c ?? dc, s = s ?? ds
        let cl = clientLog, sl = serverLog
        c.keyLog = { label, _, secret in cl.secrets[label] = secret }
        s.keyLog = { label, _, secret in sl.secrets[label] = secret }
        client = TLSConnection(role: .client, config: c, random: ScriptedRandom(seed: Array("c-\(seed)".utf8)))
        server = TLSConnection(role: .server, config: s, random: ScriptedRandom(seed: Array("s-\(seed)".utf8)))
    }

    /// The client's first flight (its ClientHello record).
    func clientHello() throws -> [UInt8] {
        try client.start()
        return client.takeOutput()
    }

    /// Runs the ClientHello through the server and returns its first flight.
    func serverFlight() throws -> Flight {
        try server.receive(try clientHello())
        lastServerOutput = server.takeOutput()
        return try Flight(lastServerOutput, secret: serverLog["SERVER_HANDSHAKE_TRAFFIC_SECRET"])
    }

    /// Runs the server's first flight through the client and returns the
    /// client's second flight.
    func clientFlight() throws -> Flight {
        _ = try serverFlight()
        try client.receive(lastServerOutput)
        return try Flight(client.takeOutput(), secret: clientLog["CLIENT_HANDSHAKE_TRAFFIC_SECRET"])
    }

    func pump() throws {
        if client.status == .idle { try client.start() }
        for _ in 0..<64 {
            let toServer = client.takeOutput()
            if !toServer.isEmpty { try server.receive(toServer) }
            let toClient = server.takeOutput()
            if !toClient.isEmpty { try client.receive(toClient) }
            if toServer.isEmpty && toClient.isEmpty && !client.hasOutput && !server.hasOutput { return }
        }
        XCTFail("pump did not settle")
    }

    /// Completes the handshake; the connections have sent no application data.
    static func established(client c: TLSConfiguration? = nil, server s: TLSConfiguration? = nil) throws -> Harness {
        let h = Harness(client: c, server: s)
        try h.pump()
        XCTAssertEqual(h.client.status, .established)
        XCTAssertEqual(h.server.status, .established)
        return h
    }

    /// Seals records as the client would under its first application secret
    /// (valid while the client has sent no application record itself).
    func clientApplicationSealer() -> Sealer { Sealer(clientLog["CLIENT_TRAFFIC_SECRET_0"]) }
    func serverApplicationSealer() -> Sealer { Sealer(serverLog["SERVER_TRAFFIC_SECRET_0"]) }
}

/// Forged messages and records.
enum Forge {
    static let x25519Share: [UInt8] = try! KeyAgreementGroup.x25519.generate(random: ScriptedRandom(seed: [1])).publicKeyBytes
    static let p256Share: [UInt8] = try! KeyAgreementGroup.p256.generate(random: ScriptedRandom(seed: [2])).publicKeyBytes
    static let p384Share: [UInt8] = try! KeyAgreementGroup.p384.generate(random: ScriptedRandom(seed: [3])).publicKeyBytes

    static func record(_ type: UInt8, _ body: [UInt8], version: [UInt8] = [3, 3]) -> [UInt8] {
        WireRecord(type: type, version: version, body: body).bytes
    }

    static func handshakeRecord(_ message: [UInt8]) -> [UInt8] { record(22, message, version: [3, 1]) }

    static func keyShares(_ entries: [(UInt16, [UInt8])]) -> Extension {
        Extension(type: ExtensionType.keyShare,
                  data: ExtensionCodec.encodeClientKeyShares(entries.map { KeyShareEntry(group: $0.0, keyExchange: $0.1) }))
    }

    static func u16List(_ type: UInt16, _ values: [UInt16]) -> Extension {
        Extension(type: type, data: ExtensionCodec.encodeU16List(values))
    }

    /// What a well-behaved TLS 1.3 client sends: supported_versions, groups
    /// x25519 and secp256r1, the default signature schemes, an x25519 share,
    /// psk_key_exchange_modes.
    static func standardExtensions() -> [Extension] {
        [
            Extension(type: ExtensionType.supportedVersions, data: ExtensionCodec.encodeClientSupportedVersions([0x0304])),
            u16List(ExtensionType.supportedGroups, [NamedGroup.x25519.rawValue, NamedGroup.secp256r1.rawValue]),
            u16List(ExtensionType.signatureAlgorithms, SignatureScheme.defaultSchemes.map(\.rawValue)),
            keyShares([(NamedGroup.x25519.rawValue, x25519Share)]),
            Extension(type: ExtensionType.pskKeyExchangeModes, data: [1, 1]),
        ]
    }

    static func standardHello() -> ClientHello {
        ClientHello(random: [UInt8](repeating: 7, count: 32), sessionID: [UInt8](repeating: 9, count: 32),
                    cipherSuites: CipherSuite.tls13Suites.map(\.rawValue), extensions: standardExtensions())
    }

    /// A ClientHello message (header included), edited.
    static func clientHello(_ edit: (inout ClientHello) -> Void = { _ in }) -> [UInt8] {
        var ch = standardHello()
        edit(&ch)
        return ch.encode()
    }

    static func pskExtension() -> Extension {
        Extension(type: ExtensionType.preSharedKey, data: ExtensionCodec.encodeOfferedPSKs(OfferedPSKs(
            identities: [PSKIdentity(identity: [1, 2, 3, 4], obfuscatedTicketAge: 0)],
            binders: [[UInt8](repeating: 0xab, count: 32)])))
    }
}

extension Array where Element == Extension {
    func without(_ type: UInt16) -> [Extension] { filter { $0.type != type } }
    func replacing(_ type: UInt16, with data: [UInt8]) -> [Extension] {
        map { $0.type == type ? Extension(type: type, data: data) : $0 }
    }
}

/// A verifier that rejects every chain with the given alert.
final class RejectingVerifier: PeerCertificateVerifier {
    let alert: AlertDescription
    init(_ alert: AlertDescription) { self.alert = alert }
    func verify(chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity {
        throw HandshakeError(alert, "test verifier rejects every chain")
    }
}

/// A verifier that breaks the contract and throws an error of its own type
/// (as an X.509 layer might).
final class ForeignErrorVerifier: PeerCertificateVerifier {
    struct ParseFailure: Error {}
    func verify(chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity { throw ParseFailure() }
}

// MARK: - Assertions

/// `body` fails with our own `alert` and leaves `conn` failed with it.
func expectFailure(_ conn: TLSConnection, _ alert: AlertDescription, reason: String? = nil,
                   file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
    XCTAssertThrowsError(try body(), "expected \(alert.name)", file: file, line: line) { error in
        guard let e = error as? HandshakeError else {
            return XCTFail("not a HandshakeError: \(error)", file: file, line: line)
        }
        XCTAssertEqual(e.alert, alert, "\(e)", file: file, line: line)
        XCTAssertFalse(e.fromPeer, "\(e)", file: file, line: line)
        if let reason {
            XCTAssertTrue(e.reason.contains(reason), "reason '\(e.reason)' does not mention '\(reason)'", file: file, line: line)
        }
    }
    XCTAssertEqual(conn.status, .failed, file: file, line: line)
    XCTAssertEqual(conn.failure?.alert, alert, "\(String(describing: conn.failure))", file: file, line: line)
}

/// The last record `failing` put out is its fatal alert: plaintext `02 <code>`,
/// or a protected record the size of one alert, which `peer` (required then)
/// must decode as that alert from the peer.
func assertAlertSent(by failing: TLSConnection, _ alert: AlertDescription, peer: TLSConnection? = nil,
                     file: StaticString = #filePath, line: UInt = #line) {
    guard failing.status == .failed else {
        return XCTFail("the side that should have failed is \(failing.status): no alert to check", file: file, line: line)
    }
    let out = failing.takeOutput()
    let records = splitRecords(out)
    guard let last = records.last else {
        return XCTFail("no alert record in the output of the failing side", file: file, line: line)
    }
    switch last.type {
    case ContentType.alert.rawValue:
        XCTAssertEqual(last.body, [AlertLevel.fatal.rawValue, alert.rawValue], "plaintext alert record", file: file, line: line)
    case ContentType.applicationData.rawValue:
        XCTAssertEqual(last.body.count, 2 + 1 + 16, "a protected record the size of one alert", file: file, line: line)
        XCTAssertNotNil(peer, "a protected alert is checked by feeding it to the peer", file: file, line: line)
    default:
        XCTFail("the last record is of type \(last.type), not an alert", file: file, line: line)
    }
    if let peer {
        // Whatever came before the alert (the rest of a flight) first, then the alert alone.
        if records.count > 1 {
            XCTAssertNoThrow(try peer.receive(records.dropLast().flatMap(\.bytes)), file: file, line: line)
        }
        _ = peer.takeOutput()
        XCTAssertThrowsError(try peer.receive(last.bytes), "the peer reads the alert", file: file, line: line)
        XCTAssertEqual(peer.failure?.alert, alert, "the peer sees \(alert.name): \(String(describing: peer.failure))", file: file, line: line)
        XCTAssertEqual(peer.failure?.fromPeer, true, "the peer reports it as the peer's alert", file: file, line: line)
        XCTAssertFalse(peer.hasOutput, "an alert is not answered with an alert", file: file, line: line)
    }
}

/// A server that receives `bytes` (beside a started client that can read its
/// plaintext alert) fails with `alert` and sends it.
func assertServerRejects(_ bytes: [UInt8], _ alert: AlertDescription, server s: TLSConfiguration? = nil, reason: String? = nil,
                         file: StaticString = #filePath, line: UInt = #line) {
    let h = Harness(server: s)
    XCTAssertNoThrow(try h.client.start(), file: file, line: line)
    _ = h.client.takeOutput()
    expectFailure(h.server, alert, reason: reason, file: file, line: line) { try h.server.receive(bytes) }
    assertAlertSent(by: h.server, alert, peer: h.client, file: file, line: line)
}

func assertServerRejectsHello(_ alert: AlertDescription, server s: TLSConfiguration? = nil, reason: String? = nil,
                              file: StaticString = #filePath, line: UInt = #line, _ edit: (inout ClientHello) -> Void) {
    assertServerRejects(Forge.handshakeRecord(Forge.clientHello(edit)), alert, server: s, reason: reason, file: file, line: line)
}

/// The server's ServerHello, edited, makes the client fail with `alert`; the
/// client's alert is plaintext (it has no keys to protect it with).
func assertClientRejectsServerHello(_ alert: AlertDescription, client c: TLSConfiguration? = nil, server s: TLSConfiguration? = nil,
                                    reason: String? = nil, file: StaticString = #filePath, line: UInt = #line,
                                    _ edit: (inout ServerHello) throws -> Void) throws {
    let h = Harness(client: c, server: s)
    let flight = try h.serverFlight()
    let record = try XCTUnwrap(flight.plain.first, file: file, line: line)
    XCTAssertEqual(record.type, ContentType.handshake.rawValue, file: file, line: line)
    var sh = try ServerHello(body: Array(record.body.dropFirst(4)))
    try edit(&sh)
    expectFailure(h.client, alert, reason: reason, file: file, line: line) {
        try h.client.receive(Forge.record(22, sh.encode()))
    }
    assertAlertSent(by: h.client, alert, file: file, line: line)
}

/// The server's first flight, edited, makes the client fail with `alert`, sent
/// under the client handshake keys.
func assertClientRejectsFlight(_ alert: AlertDescription, client c: TLSConfiguration? = nil, server s: TLSConfiguration? = nil,
                               reason: String? = nil, file: StaticString = #filePath, line: UInt = #line,
                               _ edit: (inout Flight) throws -> Void) throws {
    let h = Harness(client: c, server: s)
    var flight = try h.serverFlight()
    XCTAssertEqual(flight.bytes(), h.lastServerOutput, "re-sealing an unchanged flight reproduces it", file: file, line: line)
    try edit(&flight)
    expectFailure(h.client, alert, reason: reason, file: file, line: line) { try h.client.receive(flight.bytes()) }
    // After ServerHello the client protects its alert with its handshake keys (RFC 8446 6): the server decodes it.
    assertAlertSent(by: h.client, alert, peer: h.server, file: file, line: line)
}

/// The client's second flight, edited, makes the server fail with `alert`,
/// which the server protects and the (established) client decodes.
func assertServerRejectsClientFlight(_ alert: AlertDescription, client c: TLSConfiguration? = nil, server s: TLSConfiguration? = nil,
                                     reason: String? = nil, file: StaticString = #filePath, line: UInt = #line,
                                     _ edit: (inout Flight) throws -> Void) throws {
    let h = Harness(client: c, server: s)
    var flight = try h.clientFlight()
    XCTAssertEqual(h.client.status, .established, file: file, line: line)
    try edit(&flight)
    expectFailure(h.server, alert, reason: reason, file: file, line: line) { try h.server.receive(flight.bytes()) }
    assertAlertSent(by: h.server, alert, peer: h.client, file: file, line: line)
}

/// An established server receives `records` from the "client" and fails with
/// `alert`, which the real client decodes.
func assertEstablishedServerRejects(_ alert: AlertDescription, reason: String? = nil,
                                    file: StaticString = #filePath, line: UInt = #line,
                                    _ records: (Harness, Sealer) -> [UInt8]) throws {
    let h = try Harness.established()
    let bytes = records(h, h.clientApplicationSealer())
    expectFailure(h.server, alert, reason: reason, file: file, line: line) { try h.server.receive(bytes) }
    assertAlertSent(by: h.server, alert, peer: h.client, file: file, line: line)
}

func clientAuthConfigs(required: Bool = true, clientHasCertificate: Bool = true) -> (TLSConfiguration, TLSConfiguration) {
    let clientCert = TestKeys.certified("client", TestKeys.ecdsaP256)
    var (c, s) = baseConfigs()
    s.clientAuthentication = required ? .require : .request
    s.peerVerifier = LabelVerifier([clientCert])
    if clientHasCertificate { c.certificates = [clientCert] }
    return (c, s)
}

/// A server that always answers the first ClientHello (x25519 share only) with
/// a HelloRetryRequest for secp256r1.
func hrrConfigs() -> (TLSConfiguration, TLSConfiguration) {
    var (c, s) = baseConfigs()
    s.groups = [.secp256r1, .x25519]
    s.insistOnPreferredGroup = true
    return (c, s)
}

// MARK: - The table

final class AlertTableTests: XCTestCase {

    // MARK: Record layer

    func testPartialRecordHeaderWaits() throws {
        let h = Harness()
        let hello = try h.clientHello()
        for i in 0..<5 {
            try h.server.receive([hello[i]])
            XCTAssertFalse(h.server.hasOutput, "nothing is sent after \(i + 1) header bytes")
            XCTAssertNil(h.server.failure)
            XCTAssertEqual(h.server.status, .handshaking)
        }
        try h.server.receive(Array(hello[5...]))
        XCTAssertNil(h.server.failure)
        XCTAssertTrue(h.server.hasOutput, "the completed record is processed")
    }

    func testPartialRecordBodyWaits() throws {
        // Plaintext: the ClientHello record, cut inside its body.
        let h = Harness()
        let hello = try h.clientHello()
        for cut in [6, hello.count / 2, hello.count - 1] {
            let s = TLSConnection(role: .server, config: baseConfigs().1, random: ScriptedRandom(seed: [9]))
            try s.receive(Array(hello[..<cut]))
            XCTAssertFalse(s.hasOutput, "nothing sent with \(cut) of \(hello.count) bytes")
            XCTAssertNil(s.failure)
            try s.receive(Array(hello[cut...]))
            XCTAssertTrue(s.hasOutput)
            XCTAssertNil(s.failure)
        }
        // Protected: an application data record, cut inside its body.
        let e = try Harness.established()
        try e.client.write([UInt8](repeating: 5, count: 100))
        let record = e.client.takeOutput()
        try e.server.receive(Array(record[..<60]))
        XCTAssertEqual(e.server.read(), [])
        XCTAssertFalse(e.server.hasOutput)
        XCTAssertNil(e.server.failure)
        try e.server.receive(Array(record[60...]))
        XCTAssertEqual(e.server.read(), [UInt8](repeating: 5, count: 100))
    }

    func testProtectedRecordLongerThanLimit() throws {
        // 2^14 + 256 is the largest TLSCiphertext.length: only its header arrived, nothing happens yet.
        let ok = try Harness.established()
        try ok.server.receive([23, 3, 3, 0x41, 0x00])
        XCTAssertNil(ok.server.failure)
        XCTAssertFalse(ok.server.hasOutput)
        // 2^14 + 257 is refused from the header alone.
        let h = try Harness.established()
        expectFailure(h.server, .recordOverflow) { try h.server.receive([23, 3, 3, 0x41, 0x01]) }
        assertAlertSent(by: h.server, .recordOverflow, peer: h.client)
    }

    func testProtectedInnerPlaintextTooLong() throws {
        let h = try Harness.established()
        let sealer = h.clientApplicationSealer()
        // 2^14 bytes of content + the type byte: the largest TLSInnerPlaintext.
        try h.server.receive(sealer.protect(.applicationData, [UInt8](repeating: 1, count: 16384)))
        XCTAssertEqual(h.server.read()?.count, 16384)
        // One padding byte more: 2^14 + 2.
        let tooLong = sealer.protect(.applicationData, [UInt8](repeating: 1, count: 16384), padding: 1)
        expectFailure(h.server, .recordOverflow) { try h.server.receive(tooLong) }
        assertAlertSent(by: h.server, .recordOverflow, peer: h.client)
    }

    func testPlaintextRecordLongerThan2to14() throws {
        // Exactly 2^14: waits for the body.
        let s = TLSConnection(role: .server, config: baseConfigs().1, random: ScriptedRandom(seed: [9]))
        try s.receive([22, 3, 1, 0x40, 0x00])
        XCTAssertNil(s.failure)
        XCTAssertFalse(s.hasOutput)
        assertServerRejects([22, 3, 1, 0x40, 0x01], .recordOverflow)
    }

    func testUnknownContentType() {
        assertServerRejects([24, 3, 3, 0, 1, 0], .unexpectedMessage)
    }

    func testUnknownInnerContentType() throws {
        try assertEstablishedServerRejects(.unexpectedMessage, reason: "inner content type") { _, sealer in
            sealer.seal(inner: [1, 2, 3, 24])
        }
    }

    func testApplicationDataBeforeHandshake() {
        assertServerRejects([23, 3, 3, 0, 3, 1, 2, 3], .unexpectedMessage)
    }

    func testApplicationDataDuringHandshake() throws {
        // Application data under the server's handshake keys, between EncryptedExtensions and Certificate.
        try assertClientRejectsFlight(.unexpectedMessage, reason: "before the handshake") { flight in
            let ee = try XCTUnwrap(flight.index(.encryptedExtensions))
            flight.sealing = { sealer, messages in
                sealer.protect(.handshake, messages[ee])
                    + sealer.protect(.applicationData, [1, 2, 3])
                    + sealer.protect(.handshake, messages[(ee + 1)...].flatMap { $0 })
            }
        }
    }

    func testZeroLengthHandshakeRecord() throws {
        assertServerRejects([22, 3, 1, 0, 0], .unexpectedMessage)
    }

    func testAlertRecordOfWrongLength() {
        assertServerRejects(Forge.record(21, [2, 40, 0]), .decodeError)
        assertServerRejects(Forge.record(21, [2]), .decodeError)
    }

    func testAlertOfUnknownLevel() {
        assertServerRejects(Forge.record(21, [3, AlertDescription.handshakeFailure.rawValue]), .illegalParameter, reason: "unknown alert level")
    }

    func testTooManyWarningAlerts() throws {
        // user_canceled at warning level is ignored, but only 4 (limits.maxWarningAlerts) in a row.
        let h = try Harness.established()
        let sealer = h.clientApplicationSealer()
        for _ in 0..<4 { try h.server.receive(sealer.protect(.alert, [1, AlertDescription.userCanceled.rawValue])) }
        XCTAssertNil(h.server.failure, "4 warning alerts in a row are fine")
        expectFailure(h.server, .unexpectedMessage, reason: "warning alerts") {
            try h.server.receive(sealer.protect(.alert, [1, AlertDescription.userCanceled.rawValue]))
        }
        assertAlertSent(by: h.server, .unexpectedMessage, peer: h.client)
        // The limit is the configured one.
        var s = baseConfigs().1
        s.limits.maxWarningAlerts = 2
        let h2 = try Harness.established(server: s)
        let sealer2 = h2.clientApplicationSealer()
        for _ in 0..<2 { try h2.server.receive(sealer2.protect(.alert, [1, AlertDescription.userCanceled.rawValue])) }
        XCTAssertNil(h2.server.failure, "2 warning alerts in a row are fine")
        expectFailure(h2.server, .unexpectedMessage, reason: "warning alerts") {
            try h2.server.receive(sealer2.protect(.alert, [1, AlertDescription.userCanceled.rawValue]))
        }
        assertAlertSent(by: h2.server, .unexpectedMessage, peer: h2.client)
    }

    func testTamperedCiphertext() throws {
        // A flipped ciphertext bit.
        var h = try Harness.established()
        try h.client.write([1, 2, 3, 4])
        var record = h.client.takeOutput()
        record[6] ^= 0x01
        expectFailure(h.server, .badRecordMac) { try h.server.receive(record) }
        assertAlertSent(by: h.server, .badRecordMac, peer: h.client)
        // A changed header (the additional data).
        h = try Harness.established()
        try h.client.write([1, 2, 3, 4])
        record = h.client.takeOutput()
        record[2] = 1
        expectFailure(h.server, .badRecordMac) { try h.server.receive(record) }
        assertAlertSent(by: h.server, .badRecordMac, peer: h.client)
        // A flipped bit in the server's protected handshake flight.
        h = Harness()
        _ = try h.serverFlight()
        var flight = h.lastServerOutput
        flight[flight.count - 1] ^= 0x80
        expectFailure(h.client, .badRecordMac) { try h.client.receive(flight) }
        assertAlertSent(by: h.client, .badRecordMac, peer: h.server)
    }

    func testProtectedRecordOnlyPadding() throws {
        try assertEstablishedServerRejects(.unexpectedMessage, reason: "all zeros") { _, sealer in
            sealer.seal(inner: [0, 0, 0, 0])
        }
        try assertEstablishedServerRejects(.unexpectedMessage, reason: "all zeros") { _, sealer in
            sealer.seal(inner: [])
        }
    }

    func testTooManyEmptyRecords() throws {
        let h = try Harness.established()
        for _ in 0..<32 { try h.client.write([]) }
        try h.server.receive(h.client.takeOutput())
        XCTAssertNil(h.server.failure, "32 empty records in a row are fine")
        try h.client.write([])
        expectFailure(h.server, .unexpectedMessage, reason: "empty records") { try h.server.receive(h.client.takeOutput()) }
        assertAlertSent(by: h.server, .unexpectedMessage, peer: h.client)
    }

    func testSSLv2ClientHello() {
        // SSL 2.0 CLIENT-HELLO: 2-byte header with the high bit set, msg_type 1, version 3.1.
        var hello: [UInt8] = [0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10]
        hello += [UInt8](repeating: 0xc0, count: 21) + [UInt8](repeating: 0x11, count: 16)
        assertServerRejects(hello, .protocolVersion, reason: "SSL 2.0")
    }

    func testPlaintextHandshakeAfterKeys() throws {
        let h = Harness()
        _ = try h.serverFlight()
        let finished = HandshakeMessage(.finished, body: [UInt8](repeating: 0, count: 32)).raw
        expectFailure(h.server, .unexpectedMessage, reason: "unprotected") { try h.server.receive(Forge.record(22, finished)) }
        try h.client.receive(h.lastServerOutput)  // so the client can read what the server protects
        assertAlertSent(by: h.server, .unexpectedMessage, peer: h.client)
    }

    func testHandshakeMessageLargerThanLimit() {
        // Default limit 65536: a header declaring 65537 bytes is refused before any body arrives.
        assertServerRejects([22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x01], .illegalParameter, reason: "exceeds the limit")
        // A configured limit of 1000.
        var s = baseConfigs().1
        s.limits.maxHandshakeMessageSize = 1000
        let waiting = TLSConnection(role: .server, config: s, random: ScriptedRandom(seed: [9]))
        XCTAssertNoThrow(try waiting.receive([22, 3, 1, 0, 4, 1, 0x00, 0x03, 0xe8]), "1000 bytes: waits for them")
        XCTAssertFalse(waiting.hasOutput)
        assertServerRejects([22, 3, 1, 0, 4, 1, 0x00, 0x03, 0xe9], .illegalParameter, server: s, reason: "exceeds the limit")
    }

    func testHandshakeMessageSpansKeyChange() throws {
        // Server: the record carrying the ClientHello also carries the start of another message.
        let h = Harness()
        var record = try XCTUnwrap(splitRecords(try h.clientHello()).first)
        record.body += [20, 0, 0]
        expectFailure(h.server, .unexpectedMessage, reason: "spans a key change") { try h.server.receive(record.bytes) }
        assertAlertSent(by: h.server, .unexpectedMessage, peer: h.client)
        // Client: the record carrying the ServerHello also carries the start of EncryptedExtensions.
        let h2 = Harness()
        let flight = try h2.serverFlight()
        var sh = flight.plain[0]
        sh.body += [8, 0]
        expectFailure(h2.client, .unexpectedMessage, reason: "spans a key change") { try h2.client.receive(sh.bytes) }
        assertAlertSent(by: h2.client, .unexpectedMessage, peer: h2.server)
    }

    func testChangeCipherSpecBeforeClientHello() {
        // RFC 8446 5: a change_cipher_spec before the first ClientHello is an unexpected record.
        assertServerRejects(Forge.record(20, [1]), .unexpectedMessage)
    }

    func testChangeCipherSpecAfterHandshake() throws {
        let h = try Harness.established()
        expectFailure(h.server, .unexpectedMessage) { try h.server.receive(Forge.record(20, [1])) }
        assertAlertSent(by: h.server, .unexpectedMessage, peer: h.client)
        let h2 = try Harness.established()
        expectFailure(h2.client, .unexpectedMessage) { try h2.client.receive(Forge.record(20, [1])) }
        assertAlertSent(by: h2.client, .unexpectedMessage, peer: h2.server)
    }

    func testChangeCipherSpecWrongValue() throws {
        for body in [[2], [1, 1]] as [[UInt8]] {
            let h = Harness()
            _ = try h.serverFlight()
            expectFailure(h.server, .unexpectedMessage) { try h.server.receive(Forge.record(20, body)) }
            try h.client.receive(h.lastServerOutput)
            assertAlertSent(by: h.server, .unexpectedMessage, peer: h.client)
        }
    }

    func testProtectedChangeCipherSpec() throws {
        try assertClientRejectsFlight(.unexpectedMessage, reason: "protected change_cipher_spec") { flight in
            flight.sealing = { sealer, messages in
                sealer.protect(.changeCipherSpec, [1]) + sealer.protect(.handshake, messages.flatMap { $0 })
            }
        }
    }

    func testUnexpectedHandshakeMessage() throws {
        // The full matrix is Spec/tls13-states.md, held by StateTableTests. Here, through connections:
        // a Finished as the server's first message,
        let finished = HandshakeMessage(.finished, body: [UInt8](repeating: 0, count: 32)).raw
        assertServerRejects(Forge.handshakeRecord(finished), .unexpectedMessage, reason: "in state waitClientHello")
        // a Certificate where the client expects EncryptedExtensions,
        try assertClientRejectsFlight(.unexpectedMessage, reason: "in state waitEncryptedExtensions") { flight in
            flight.messages.remove(at: try XCTUnwrap(flight.index(.encryptedExtensions)))
        }
        // and a Finished after the handshake.
        try assertEstablishedServerRejects(.unexpectedMessage, reason: "after the handshake") { _, sealer in
            sealer.protect(.handshake, finished)
        }
    }

    func testUnknownHandshakeType() {
        assertServerRejects(Forge.handshakeRecord([99, 0, 0, 0]), .unexpectedMessage, reason: "unknown handshake message type")
    }

    func testClientHelloAfterHandshake() throws {
        try assertEstablishedServerRejects(.unexpectedMessage, reason: "after the handshake") { _, sealer in
            sealer.protect(.handshake, Forge.clientHello())
        }
    }

    // MARK: ClientHello (server side)

    func testClientHelloTrailingBytes() throws {
        // The forged hello itself is fine.
        let h = Harness()
        try h.server.receive(Forge.handshakeRecord(Forge.clientHello()))
        XCTAssertNil(h.server.failure)
        XCTAssertTrue(h.server.hasOutput)
        // One byte after the extensions, inside the message.
        var body = Array(Forge.clientHello().dropFirst(4))
        body.append(0)
        assertServerRejects(Forge.handshakeRecord(HandshakeMessage(.clientHello, body: body).raw), .decodeError, reason: "trailing")
    }

    func testClientHelloTruncatedAtEveryLength() {
        let hello = Forge.standardHello()
        let body = Array(hello.encode().dropFirst(4))
        // Where the extensions block would start, the message is a complete extension-less (TLS 1.2) hello.
        let endOfCompression = 2 + 32 + 1 + hello.sessionID.count + 2 + 2 * hello.cipherSuites.count + 1 + hello.compressionMethods.count
        let expected = AlertDescription.decodeError
        var wrong: [String] = []
        for n in 0..<body.count {
            let s = TLSConnection(role: .server, config: baseConfigs().1, random: ScriptedRandom(seed: [9]))
            let record = Forge.handshakeRecord(HandshakeMessage(.clientHello, body: Array(body[..<n])).raw)
            let want: AlertDescription = n == endOfCompression ? .protocolVersion : expected
            do {
                try s.receive(record)
                wrong.append("\(n): accepted")
            } catch let e as HandshakeError {
                if e.alert != want { wrong.append("\(n): \(e)") }
            } catch {
                wrong.append("\(n): \(error)")
            }
            if splitRecords(s.takeOutput()).last?.body != [2, want.rawValue] { wrong.append("\(n): no \(want.name) alert sent") }
        }
        XCTAssertEqual(wrong, [], "ClientHello bodies of \(body.count) bytes truncated")
    }

    func testClientHelloDuplicateExtension() {
        assertServerRejectsHello(.illegalParameter, reason: "duplicate extension") { ch in
            ch.extensions.append(Forge.u16List(ExtensionType.supportedGroups, [NamedGroup.x25519.rawValue]))
        }
    }

    func testClientHelloPreSharedKeyNotLast() {
        assertServerRejectsHello(.illegalParameter, reason: "pre_shared_key") { ch in
            ch.extensions.insert(Forge.pskExtension(), at: 1)
        }
    }

    func testClientHelloPreSharedKeyWithoutModes() {
        // RFC 8446 4.2.9: pre_shared_key without psk_key_exchange_modes: the server MUST abort.
        assertServerRejectsHello(.missingExtension) { ch in
            ch.extensions = ch.extensions.without(ExtensionType.pskKeyExchangeModes) + [Forge.pskExtension()]
        }
    }

    func testClientHelloWithoutSupportedVersions() {
        assertServerRejectsHello(.protocolVersion) { ch in
            ch.extensions = ch.extensions.without(ExtensionType.supportedVersions)
        }
    }

    func testClientHelloOffersOnlyTLS12() {
        assertServerRejectsHello(.protocolVersion) { ch in
            ch.extensions = ch.extensions.replacing(ExtensionType.supportedVersions,
                                                    with: ExtensionCodec.encodeClientSupportedVersions([0x0303]))
        }
    }

    func testClientHelloWithoutSignatureAlgorithms() {
        assertServerRejectsHello(.missingExtension, reason: "signature_algorithms") { ch in
            ch.extensions = ch.extensions.without(ExtensionType.signatureAlgorithms)
        }
    }

    func testClientHelloWithoutSupportedGroups() {
        assertServerRejectsHello(.missingExtension, reason: "supported_groups") { ch in
            ch.extensions = ch.extensions.without(ExtensionType.supportedGroups)
        }
    }

    func testClientHelloWithoutKeyShare() {
        assertServerRejectsHello(.missingExtension, reason: "key_share") { ch in
            ch.extensions = ch.extensions.without(ExtensionType.keyShare)
        }
    }

    func testClientHelloKeyShareGroupNotInSupportedGroups() {
        assertServerRejectsHello(.illegalParameter, reason: "not in supported_groups") { ch in
            ch.extensions = ch.extensions
                .replacing(ExtensionType.supportedGroups, with: ExtensionCodec.encodeU16List([NamedGroup.x25519.rawValue]))
                .map { $0.type == ExtensionType.keyShare
                    ? Forge.keyShares([(NamedGroup.x25519.rawValue, Forge.x25519Share), (NamedGroup.secp256r1.rawValue, Forge.p256Share)])
                    : $0 }
        }
    }

    func testClientHelloDuplicateKeyShare() {
        assertServerRejectsHello(.illegalParameter, reason: "two key shares") { ch in
            ch.extensions = ch.extensions.map { $0.type == ExtensionType.keyShare
                ? Forge.keyShares([(NamedGroup.x25519.rawValue, Forge.x25519Share), (NamedGroup.x25519.rawValue, Forge.x25519Share)])
                : $0 }
        }
    }

    func testClientHelloInvalidKeyShare() {
        let x = NamedGroup.x25519.rawValue, p = NamedGroup.secp256r1.rawValue
        var offCurve: [UInt8] = [4] + [UInt8](repeating: 0, count: 64)
        offCurve[32] = 1; offCurve[64] = 1  // (1, 1) is not on P-256
        let compressed: [UInt8] = [2] + Forge.p256Share[1..<33]
        let cases: [(String, UInt16, [UInt8])] = [
            ("x25519 share of 31 bytes", x, Array(Forge.x25519Share.prefix(31))),
            ("x25519 share of 33 bytes", x, Forge.x25519Share + [0]),
            ("x25519 low-order point (all zeros)", x, [UInt8](repeating: 0, count: 32)),
            ("x25519 low-order point (u = 1)", x, [1] + [UInt8](repeating: 0, count: 31)),
            ("P-256 point not on the curve", p, offCurve),
            ("P-256 compressed point", p, compressed),
            ("P-256 share of 64 bytes", p, Array(Forge.p256Share.dropFirst())),
        ]
        for (what, group, share) in cases {
            assertServerRejectsHello(.illegalParameter, reason: "key share is invalid") { ch in
                ch.extensions = ch.extensions
                    .replacing(ExtensionType.supportedGroups, with: ExtensionCodec.encodeU16List([group]))
                    .map { $0.type == ExtensionType.keyShare ? Forge.keyShares([(group, share)]) : $0 }
            }
            _ = what
        }
    }

    func testClientHelloNoCommonCipherSuite() {
        assertServerRejectsHello(.handshakeFailure, reason: "cipher suite") { ch in
            ch.cipherSuites = [CipherSuite.ecdheECDSAWithAES128GCMSHA256.rawValue, 0x1304]
        }
        var s = baseConfigs().1
        s.cipherSuites = [.tlsAES256GCMSHA384]
        assertServerRejectsHello(.handshakeFailure, server: s, reason: "cipher suite") { ch in
            ch.cipherSuites = [CipherSuite.tlsAES128GCMSHA256.rawValue]
        }
    }

    func testClientHelloNoCommonGroup() {
        var s = baseConfigs().1
        s.groups = [.secp384r1]
        assertServerRejectsHello(.handshakeFailure, server: s, reason: "no common group") { _ in }
    }

    func testClientHelloNoUsableSignatureScheme() {
        // The server has only a P-256 key; the client accepts only RSA-PSS.
        assertServerRejectsHello(.handshakeFailure, reason: "signature algorithms") { ch in
            ch.extensions = ch.extensions.replacing(ExtensionType.signatureAlgorithms,
                                                    with: ExtensionCodec.encodeU16List([SignatureScheme.rsaPSSRSAESHA256.rawValue]))
        }
    }

    func testClientHelloNonNullCompression() {
        assertServerRejectsHello(.illegalParameter, reason: "compression") { ch in ch.compressionMethods = [1, 0] }
        assertServerRejectsHello(.illegalParameter, reason: "compression") { ch in ch.compressionMethods = [1] }
    }

    func testClientHelloSessionIDTooLong() {
        // legacy_session_id<0..32>: 33 bytes do not conform to the syntax (decode_error, RFC 8446 6.2).
        assertServerRejectsHello(.decodeError) { ch in ch.sessionID = [UInt8](repeating: 1, count: 33) }
    }

    func testSecondClientHelloChangesHello() throws {
        // An extension changed (through the client's test hook).
        var (c, s) = hrrConfigs()
        c.overrideClientHelloExtensions = { ext, second in
            second ? ext.replacing(ExtensionType.signatureAlgorithms,
                                   with: ExtensionCodec.encodeU16List([SignatureScheme.ecdsaSecp256r1SHA256.rawValue])) : ext
        }
        var h = Harness(client: c, server: s)
        expectFailure(h.server, .illegalParameter, reason: "changed its extensions") { try h.pump() }
        assertAlertSent(by: h.server, .illegalParameter, peer: h.client)

        // The random changed.
        (c, s) = hrrConfigs()
        h = Harness(client: c, server: s)
        try h.server.receive(try h.clientHello())
        try h.client.receive(h.server.takeOutput())
        var records = splitRecords(h.client.takeOutput())
        let i = try XCTUnwrap(records.firstIndex { $0.type == 22 })
        var ch2 = try ClientHello(body: Array(records[i].body.dropFirst(4)))
        ch2.random[0] ^= 1
        records[i].body = ch2.encode()
        expectFailure(h.server, .illegalParameter, reason: "differs from the first") { try h.server.receive(records.flatMap(\.bytes)) }
        assertAlertSent(by: h.server, .illegalParameter, peer: h.client)
    }

    func testSecondClientHelloWrongKeyShare() {
        var (c, s) = hrrConfigs()
        c.overrideClientHelloExtensions = { ext, second in
            second ? ext.map { $0.type == ExtensionType.keyShare ? Forge.keyShares([(NamedGroup.x25519.rawValue, Forge.x25519Share)]) : $0 } : ext
        }
        let h = Harness(client: c, server: s)
        expectFailure(h.server, .illegalParameter, reason: "requested key share") { try h.pump() }
        assertAlertSent(by: h.server, .illegalParameter, peer: h.client)
    }

    func testSecondClientHelloWithoutCookie() {
        var (c, s) = hrrConfigs()
        s.helloRetryCookie = { hash in Array("cookie".utf8) + hash }
        c.overrideClientHelloExtensions = { ext, second in second ? ext.without(ExtensionType.cookie) : ext }
        let h = Harness(client: c, server: s)
        expectFailure(h.server, .illegalParameter, reason: "cookie") { try h.pump() }
        assertAlertSent(by: h.server, .illegalParameter, peer: h.client)
    }

    func testALPNMismatch() {
        var (c, s) = baseConfigs()
        c.alpnProtocols = ["h2", "http/1.1"]
        s.alpnProtocols = ["spdy/1"]
        let h = Harness(client: c, server: s)
        expectFailure(h.server, .noApplicationProtocol) { try h.pump() }
        assertAlertSent(by: h.server, .noApplicationProtocol, peer: h.client)
    }

    // MARK: ServerHello and HelloRetryRequest (client side)

    func testServerHelloWrongSessionIDEcho() throws {
        try assertClientRejectsServerHello(.illegalParameter, reason: "legacy_session_id_echo") { sh in sh.sessionIDEcho[0] ^= 1 }
        try assertClientRejectsServerHello(.illegalParameter, reason: "legacy_session_id_echo") { sh in sh.sessionIDEcho = [] }
    }

    func testServerHelloSuiteNotOffered() throws {
        var c = baseConfigs().0
        c.cipherSuites = [.tlsAES128GCMSHA256]
        for suite: UInt16 in [CipherSuite.tlsAES256GCMSHA384.rawValue, CipherSuite.ecdheECDSAWithAES128GCMSHA256.rawValue, 0x1304] {
            try assertClientRejectsServerHello(.illegalParameter, client: c, reason: "cipher suite") { sh in sh.cipherSuite = suite }
        }
    }

    func testServerHelloGroupNotOffered() throws {
        // secp384r1 is in the client's supported_groups but it sent no share for it; x448 it does not support at all.
        for (group, share) in [(NamedGroup.secp384r1.rawValue, Forge.p384Share), (0x001e as UInt16, [UInt8](repeating: 5, count: 56))] {
            try assertClientRejectsServerHello(.illegalParameter, reason: "group") { sh in
                sh.extensions = sh.extensions.replacing(ExtensionType.keyShare,
                                                        with: ExtensionCodec.encodeServerKeyShare(KeyShareEntry(group: group, keyExchange: share)))
            }
        }
    }

    func testServerHelloInvalidKeyShare() throws {
        for share in [[UInt8](repeating: 0, count: 32), Array(Forge.x25519Share.prefix(31))] {
            try assertClientRejectsServerHello(.illegalParameter, reason: "key share is invalid") { sh in
                sh.extensions = sh.extensions.replacing(ExtensionType.keyShare, with: ExtensionCodec.encodeServerKeyShare(
                    KeyShareEntry(group: NamedGroup.x25519.rawValue, keyExchange: share)))
            }
        }
    }

    func testServerHelloExtensionNotOffered() throws {
        // pre_shared_key is allowed in a ServerHello, but this client offered no PSK.
        try assertClientRejectsServerHello(.unsupportedExtension, reason: "did not offer") { sh in
            sh.extensions.append(Extension(type: ExtensionType.preSharedKey, data: [0, 0]))
        }
    }

    func testServerHelloExtensionNotAllowed() throws {
        // ALPN was offered, but it belongs in EncryptedExtensions (RFC 8446 4.2: illegal_parameter).
        var (c, s) = baseConfigs()
        c.alpnProtocols = ["h2"]
        s.alpnProtocols = ["h2"]
        try assertClientRejectsServerHello(.illegalParameter, client: c, server: s) { sh in
            sh.extensions.append(Extension(type: ExtensionType.alpn, data: ExtensionCodec.encodeALPN([Array("h2".utf8)])))
        }
    }

    func testServerHelloWithoutKeyShare() throws {
        try assertClientRejectsServerHello(.missingExtension, reason: "key_share") { sh in
            sh.extensions = sh.extensions.without(ExtensionType.keyShare)
        }
    }

    /// Client and server configurations where the client resumes a ticket from a first
    /// connection, with the given PSK modes on each side.
    func resumingConfigs(client modes: [PSKKeyExchangeMode], server serverModes: [PSKKeyExchangeMode]) throws
        -> (TLSConfiguration, TLSConfiguration) {
        var (c, s) = baseConfigs()
        s.ticketProtector = IdentityProtector()
        s.sessionTicketCount = 1
        let first = Pair(client: c, server: s, seed: "ticket")
        try first.pump()
        c.resumeSession = try XCTUnwrap(first.client.sessions.last)
        c.pskKeyExchangeModes = modes
        s.pskKeyExchangeModes = serverModes
        return (c, s)
    }

    func testServerHelloPSKWithoutKeyShareNotOffered() throws {
        let (c, s) = try resumingConfigs(client: [.pskDHE], server: [.pskDHE])
        try assertClientRejectsServerHello(.illegalParameter, client: c, server: s, reason: "psk_ke") { sh in
            XCTAssertTrue(sh.extensions.has(ExtensionType.preSharedKey), "the server resumed")
            sh.extensions = sh.extensions.without(ExtensionType.keyShare)
        }
    }

    func testServerHelloKeyShareWithPSKOnlyMode() throws {
        let (c, s) = try resumingConfigs(client: [.psk], server: [.psk])
        try assertClientRejectsServerHello(.illegalParameter, client: c, server: s, reason: "(EC)DHE with the PSK") { sh in
            XCTAssertTrue(sh.extensions.has(ExtensionType.preSharedKey), "the server resumed")
            XCTAssertFalse(sh.extensions.has(ExtensionType.keyShare), "psk_ke: no key share")
            let share = KeyShareEntry(group: NamedGroup.x25519.rawValue, keyExchange: [UInt8](repeating: 9, count: 32))
            sh.extensions.insert(Extension(type: ExtensionType.keyShare, data: ExtensionCodec.encodeServerKeyShare(share)), at: 0)
        }
    }

    func testStapledOCSPSaysRevoked() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            assertAlert(try OCSPHandshake.attempt(version, server: "revoked", staple: try OCSPHandshake.file("revoked.der")),
                        .certificateRevoked, "\(version)")
        }
    }

    func testStapledOCSPUnusable() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            assertAlert(try OCSPHandshake.attempt(version, staple: try OCSPHandshake.file("by-other-ca.der")),
                        .badCertificateStatusResponse, "\(version) forged")
            assertAlert(try OCSPHandshake.attempt(version, staple: nil, policy: .require),
                        .badCertificateStatusResponse, "\(version) required but absent")
        }
    }

    func testServerHelloVersionNotOffered() throws {
        try assertClientRejectsServerHello(.illegalParameter, reason: "supported_versions") { sh in
            sh.extensions = sh.extensions.replacing(ExtensionType.supportedVersions, with: ExtensionCodec.encode16(0x0303))
        }
    }

    func testServerHelloTLS12() throws {
        try assertClientRejectsServerHello(.protocolVersion, reason: "only TLS 1.3") { sh in
            sh.extensions = []
            sh.random = [UInt8](repeating: 0x42, count: 32)
        }
    }

    func testServerHelloDowngradeSentinel() throws {
        for sentinel in [downgradeSentinelTLS12, downgradeSentinelTLS11] {
            try assertClientRejectsServerHello(.illegalParameter, reason: "downgrade sentinel") { sh in
                sh.extensions = []
                sh.random = [UInt8](repeating: 0x42, count: 24) + sentinel
            }
        }
    }

    func testServerHelloNonNullCompression() throws {
        try assertClientRejectsServerHello(.illegalParameter, reason: "compression") { sh in sh.compressionMethod = 1 }
    }

    func testSecondHelloRetryRequest() throws {
        let (c, s) = hrrConfigs()
        let h = Harness(client: c, server: s)
        try h.server.receive(try h.clientHello())
        let hrrRecords = splitRecords(h.server.takeOutput())
        let hrr = try XCTUnwrap(hrrRecords.first { $0.type == 22 })
        try h.client.receive(hrrRecords.flatMap(\.bytes))
        XCTAssertTrue(h.client.hasOutput, "the client answered the first HelloRetryRequest")
        _ = h.client.takeOutput()
        expectFailure(h.client, .unexpectedMessage, reason: "second HelloRetryRequest") { try h.client.receive(hrr.bytes) }
        assertAlertSent(by: h.client, .unexpectedMessage)
    }

    /// The server's HelloRetryRequest, edited, makes the client fail with `alert`.
    func assertClientRejectsHRR(_ alert: AlertDescription, client c: TLSConfiguration, reason: String? = nil,
                                file: StaticString = #filePath, line: UInt = #line, _ edit: (inout ServerHello) -> Void) throws {
        let h = Harness(client: c, server: hrrConfigs().1)
        try h.server.receive(try h.clientHello())
        let record = try XCTUnwrap(splitRecords(h.server.takeOutput()).first)
        var hrr = try ServerHello(body: Array(record.body.dropFirst(4)))
        XCTAssertTrue(hrr.isHelloRetryRequest, file: file, line: line)
        edit(&hrr)
        expectFailure(h.client, alert, reason: reason, file: file, line: line) { try h.client.receive(Forge.record(22, hrr.encode())) }
        assertAlertSent(by: h.client, alert, file: file, line: line)
    }

    func testHelloRetryRequestWithoutChange() throws {
        // Asks for x25519, for which the first ClientHello already carried a share.
        try assertClientRejectsHRR(.illegalParameter, client: hrrConfigs().0, reason: "already sent a share") { hrr in
            hrr.extensions = hrr.extensions.replacing(ExtensionType.keyShare, with: ExtensionCodec.encode16(NamedGroup.x25519.rawValue))
        }
        // Asks for a group the client does not support (x448).
        try assertClientRejectsHRR(.illegalParameter, client: hrrConfigs().0, reason: "did not offer") { hrr in
            hrr.extensions = hrr.extensions.replacing(ExtensionType.keyShare, with: ExtensionCodec.encode16(0x001e))
        }
    }

    func testHelloRetryRequestExtensionNotAllowed() throws {
        // server_name was offered, but it has no place in a HelloRetryRequest (RFC 8446 4.2: illegal_parameter).
        try assertClientRejectsHRR(.illegalParameter, client: hrrConfigs().0) { hrr in
            hrr.extensions.insert(Extension(type: ExtensionType.serverName, data: []), at: 0)
        }
    }

    func testServerHelloSuiteChangedAfterHRR() throws {
        let (c, s) = hrrConfigs()
        let h = Harness(client: c, server: s)
        try h.server.receive(try h.clientHello())
        try h.client.receive(h.server.takeOutput())
        try h.server.receive(h.client.takeOutput())
        let record = try XCTUnwrap(splitRecords(h.server.takeOutput()).first)
        var sh = try ServerHello(body: Array(record.body.dropFirst(4)))
        XCTAssertFalse(sh.isHelloRetryRequest)
        XCTAssertEqual(sh.cipherSuite, CipherSuite.tlsAES128GCMSHA256.rawValue)
        sh.cipherSuite = CipherSuite.tlsAES256GCMSHA384.rawValue  // offered, but not the one the HelloRetryRequest chose
        expectFailure(h.client, .illegalParameter, reason: "changed after HelloRetryRequest") { try h.client.receive(Forge.record(22, sh.encode())) }
        assertAlertSent(by: h.client, .illegalParameter)
    }

    func testServerReadsClientPlaintextAlert() throws {
        // The client refuses the ServerHello and can only send a plaintext alert; the server, which has
        // already switched to the client's handshake keys, must still take it as the client's alert.
        let h = Harness()
        let flight = try h.serverFlight()
        var sh = try ServerHello(body: Array(flight.plain[0].body.dropFirst(4)))
        sh.sessionIDEcho[0] ^= 1
        XCTAssertThrowsError(try h.client.receive(Forge.record(22, sh.encode())))
        let alert = h.client.takeOutput()
        XCTAssertEqual(alert, Forge.record(21, [2, AlertDescription.illegalParameter.rawValue]))
        XCTAssertThrowsError(try h.server.receive(alert))
        XCTAssertEqual(h.server.failure?.alert, .illegalParameter, "\(String(describing: h.server.failure))")
        XCTAssertEqual(h.server.failure?.fromPeer, true)
        XCTAssertFalse(h.server.hasOutput, "an alert is not answered with an alert")
    }

    // MARK: EncryptedExtensions, Certificate, CertificateVerify, Finished (client side)

    func testEncryptedExtensionsForbiddenExtension() throws {
        for ext in [Extension(type: ExtensionType.keyShare, data: ExtensionCodec.encodeServerKeyShare(KeyShareEntry(group: 0x1d, keyExchange: Forge.x25519Share))),
                    Extension(type: ExtensionType.supportedVersions, data: [3, 4]),
                    Extension(type: ExtensionType.signatureAlgorithms, data: ExtensionCodec.encodeU16List([0x0403]))] {
            var s = baseConfigs().1
            s.extraEncryptedExtensions = [ext]
            let h = Harness(server: s)
            _ = try h.serverFlight()
            expectFailure(h.client, .illegalParameter, reason: "not allowed in EncryptedExtensions") { try h.client.receive(h.lastServerOutput) }
            assertAlertSent(by: h.client, .illegalParameter, peer: h.server)
        }
    }

    func testEncryptedExtensionsUnsolicitedExtension() throws {
        for ext in [Extension(type: ExtensionType.alpn, data: ExtensionCodec.encodeALPN([Array("h2".utf8)])),
                    Extension(type: 0x7a7a, data: [])] {
            var s = baseConfigs().1
            s.extraEncryptedExtensions = [ext]
            let h = Harness(server: s)
            _ = try h.serverFlight()
            expectFailure(h.client, .unsupportedExtension, reason: "did not offer") { try h.client.receive(h.lastServerOutput) }
            assertAlertSent(by: h.client, .unsupportedExtension, peer: h.server)
        }
    }

    func testCertificateRequestWithoutSignatureAlgorithms() throws {
        let (c, s) = clientAuthConfigs()
        try assertClientRejectsFlight(.missingExtension, client: c, server: s, reason: "signature_algorithms") { flight in
            flight.replace(.certificateRequest, with: CertificateRequest13(context: [], extensions: []).encode())
        }
    }

    func testEmptyServerCertificateChain() throws {
        try assertClientRejectsFlight(.decodeError, reason: "empty certificate chain") { flight in
            flight.replace(.certificate, with: Certificate13(context: [], entries: []).encode())
        }
    }

    func testServerCertificateRejectedByVerifier() throws {
        for alert in [AlertDescription.unknownCA, .certificateExpired, .badCertificate] {
            var c = baseConfigs().0
            c.peerVerifier = RejectingVerifier(alert)
            let h = Harness(client: c)
            _ = try h.serverFlight()
            expectFailure(h.client, alert) { try h.client.receive(h.lastServerOutput) }
            assertAlertSent(by: h.client, alert, peer: h.server)
        }
    }

    func testServerCertificateVerifierThrowsForeignError() throws {
        // The verifier breaks its contract (an error that is not a HandshakeError): the chain is
        // still refused, with bad_certificate, and the connection ends properly.
        var c = baseConfigs().0
        c.peerVerifier = ForeignErrorVerifier()
        let h = Harness(client: c)
        _ = try h.serverFlight()
        expectFailure(h.client, .badCertificate) { try h.client.receive(h.lastServerOutput) }
        assertAlertSent(by: h.client, .badCertificate, peer: h.server)
    }

    func testServerCertificateVerifySchemeNotOffered() throws {
        var c = baseConfigs().0
        c.signatureSchemes = [.ecdsaSecp256r1SHA256, .ecdsaSecp384r1SHA384, .ed25519]
        // Not offered at all; offered but for another curve; offered but for another key type.
        for scheme in [SignatureScheme.rsaPSSRSAESHA256, .ecdsaSecp384r1SHA384, .ed25519] {
            try assertClientRejectsFlight(.illegalParameter, client: c, reason: "scheme") { flight in
                flight.edit(.certificateVerify) { body in
                    body[0] = UInt8(scheme.rawValue >> 8); body[1] = UInt8(scheme.rawValue & 0xff)
                }
            }
        }
    }

    func testServerCertificateVerifyBadSignature() throws {
        try assertClientRejectsFlight(.decryptError, reason: "does not verify") { flight in
            flight.edit(.certificateVerify) { body in body[body.count - 1] ^= 0x01 }
        }
    }

    func testServerFinishedBad() throws {
        try assertClientRejectsFlight(.decryptError, reason: "Finished does not verify") { flight in
            flight.edit(.finished) { body in body[0] ^= 0x01 }
        }
    }

    func testFinishedWrongLength() throws {
        // Server Finished one byte short: a malformed message (decode_error), not a failed check.
        try assertClientRejectsFlight(.decodeError) { flight in
            flight.edit(.finished) { body in body.removeLast() }
        }
        // Client Finished one byte long.
        try assertServerRejectsClientFlight(.decodeError) { flight in
            flight.edit(.finished) { body in body.append(0) }
        }
    }

    // MARK: Client authentication and client Finished (server side)

    func testClientCertificateRequiredButAbsent() {
        let (c, s) = clientAuthConfigs(clientHasCertificate: false)
        let h = Harness(client: c, server: s)
        expectFailure(h.server, .certificateRequired) { try h.pump() }
        assertAlertSent(by: h.server, .certificateRequired, peer: h.client)
    }

    func testClientCertificateRejectedByVerifier() throws {
        var (c, s) = clientAuthConfigs()
        s.peerVerifier = RejectingVerifier(.unknownCA)
        var h = Harness(client: c, server: s)
        expectFailure(h.server, .unknownCA) { try h.pump() }
        assertAlertSent(by: h.server, .unknownCA, peer: h.client)
        s.peerVerifier = LabelVerifier([])
        h = Harness(client: c, server: s)
        expectFailure(h.server, .badCertificate) { try h.pump() }
        assertAlertSent(by: h.server, .badCertificate, peer: h.client)
    }

    func testClientCertificateVerifySchemeNotOffered() throws {
        var (c, s) = clientAuthConfigs()
        s.signatureSchemes = [.ecdsaSecp256r1SHA256, .ecdsaSecp384r1SHA384, .rsaPSSRSAESHA256]
        for scheme in [SignatureScheme.ed25519, .ecdsaSecp384r1SHA384] {
            try assertServerRejectsClientFlight(.illegalParameter, client: c, server: s, reason: "scheme") { flight in
                flight.edit(.certificateVerify) { body in
                    body[0] = UInt8(scheme.rawValue >> 8); body[1] = UInt8(scheme.rawValue & 0xff)
                }
            }
        }
    }

    func testClientCertificateVerifyBadSignature() throws {
        let (c, s) = clientAuthConfigs()
        try assertServerRejectsClientFlight(.decryptError, client: c, server: s, reason: "does not verify") { flight in
            flight.edit(.certificateVerify) { body in body[body.count - 1] ^= 0x01 }
        }
    }

    func testClientFinishedBad() throws {
        try assertServerRejectsClientFlight(.decryptError, reason: "Finished does not verify") { flight in
            flight.edit(.finished) { body in body[body.count - 1] ^= 0x01 }
        }
    }

    // MARK: Alerts from the peer, post-handshake messages

    func testPeerFatalAlertReportedFromPeer() throws {
        // Server, before anything else.
        var h = Harness()
        XCTAssertThrowsError(try h.server.receive(Forge.record(21, [2, AlertDescription.handshakeFailure.rawValue])))
        XCTAssertEqual(h.server.failure, HandshakeError(.handshakeFailure, h.server.failure?.reason ?? "", fromPeer: true))
        XCTAssertEqual(h.server.status, .failed)
        XCTAssertFalse(h.server.hasOutput, "an alert is not answered with an alert")
        // Client, waiting for the ServerHello.
        h = Harness()
        _ = try h.clientHello()
        XCTAssertThrowsError(try h.client.receive(Forge.record(21, [2, AlertDescription.protocolVersion.rawValue])))
        XCTAssertEqual(h.client.failure?.alert, .protocolVersion)
        XCTAssertEqual(h.client.failure?.fromPeer, true)
        XCTAssertFalse(h.client.hasOutput)
        // Established server, protected alert.
        h = try Harness.established()
        XCTAssertThrowsError(try h.server.receive(h.clientApplicationSealer().protect(.alert, [2, AlertDescription.internalError.rawValue])))
        XCTAssertEqual(h.server.failure?.alert, .internalError)
        XCTAssertEqual(h.server.failure?.fromPeer, true)
        XCTAssertFalse(h.server.hasOutput)
        XCTAssertThrowsError(try h.server.receive([]), "the failure is sticky")
    }

    func testPeerWarningAlertIsFatal() throws {
        // TLS 1.3: every alert but close_notify and user_canceled ends the connection, whatever its level.
        let h = try Harness.established()
        XCTAssertThrowsError(try h.server.receive(h.clientApplicationSealer().protect(.alert, [1, AlertDescription.unknownCA.rawValue])))
        XCTAssertEqual(h.server.failure?.alert, .unknownCA)
        XCTAssertEqual(h.server.failure?.fromPeer, true)
        XCTAssertFalse(h.server.hasOutput)
    }

    func testKeyUpdateBadValue() throws {
        try assertEstablishedServerRejects(.illegalParameter, reason: "request_update") { _, sealer in
            sealer.protect(.handshake, HandshakeMessage(.keyUpdate, body: [2]).raw)
        }
    }

    func testTooManyKeyUpdates() throws {
        let h = try Harness.established()
        for _ in 0..<32 { try h.client.updateKeys(requestPeerUpdate: false) }
        try h.server.receive(h.client.takeOutput())
        XCTAssertNil(h.server.failure, "32 KeyUpdates without data are fine")
        try h.client.updateKeys(requestPeerUpdate: false)
        expectFailure(h.server, .unexpectedMessage, reason: "too many KeyUpdates") { try h.server.receive(h.client.takeOutput()) }
        assertAlertSent(by: h.server, .unexpectedMessage, peer: h.client)
    }

    func testKeyUpdateNotAtRecordBoundary() throws {
        try assertEstablishedServerRejects(.unexpectedMessage, reason: "record boundary") { _, sealer in
            sealer.protect(.handshake, KeyUpdate(updateRequested: false).encode() + [24, 0])
        }
    }

    func testNewSessionTicketToServer() throws {
        try assertEstablishedServerRejects(.unexpectedMessage, reason: "NewSessionTicket") { _, sealer in
            sealer.protect(.handshake, NewSessionTicket13(lifetime: 60, ageAdd: 1, nonce: [0], ticket: [1, 2, 3], extensions: []).encode())
        }
    }

    // MARK: The table itself

    func testSpecTableNamesOnlyTestsOfThisFile() throws {
        let spec = try String(contentsOf: repositoryRoot.appendingPathComponent("Spec/alerts.md"), encoding: .utf8)
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let sides: Set<String> = ["client", "server", "both", "record"]
        let alertNames = Set(AlertDescription.allCases.map(\.name)).union(["none"])
        var ids = Set<String>(), tests = Set<String>()
        var rows = 0
        for line in spec.split(separator: "\n") where line.hasPrefix("|") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 5, cells[0] != "id", !cells[0].hasPrefix("-") else { continue }
            rows += 1
            let (id, side, alert) = (cells[0], cells[1], cells[3])
            let test = cells[4].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            XCTAssertNotNil(id.range(of: "^[a-z0-9]+(-[a-z0-9]+)*$", options: .regularExpression), "id \(id) is not kebab-case")
            XCTAssertTrue(ids.insert(id).inserted, "duplicate id \(id)")
            XCTAssertTrue(sides.contains(side), "\(id): side \(side)")
            XCTAssertTrue(alertNames.contains(alert.trimmingCharacters(in: CharacterSet(charactersIn: "`"))), "\(id): unknown alert \(alert)")
            XCTAssertFalse(cells[2].isEmpty, "\(id): no condition")
            XCTAssertTrue(tests.insert(test).inserted, "\(id): test \(test) already covers another row")
            XCTAssertTrue(source.contains("func \(test)("), "\(id): \(test) is not a method of AlertTableTests")
        }
        XCTAssertGreaterThan(rows, 40, "rows parsed from Spec/alerts.md")
        // And every test here is a row of the table.
        for line in source.split(separator: "\n") where line.hasPrefix("    func test") {
            let name = String(line.dropFirst(9).prefix { $0 != "(" })
            if name == "testSpecTableNamesOnlyTestsOfThisFile" { continue }
            XCTAssertTrue(tests.contains(name), "\(name) is not in Spec/alerts.md")
        }
    }
}
