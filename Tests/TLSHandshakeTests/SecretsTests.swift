import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
@testable import TLSHandshake

/// Traffic secrets are wiped when a connection ends (in place, so no copy
/// survives in the handshake objects), never printed, and compared in
/// constant time where they are compared at all.
final class SecretsTests: XCTestCase {
    func isZero(_ secrets: [[UInt8]]) -> Bool { secrets.allSatisfy { $0.allSatisfy { $0 == 0 } } }

    func testSecretsWipedAfterCloseNotifyBothWays() throws {
        let pair = Pair(client: baseConfigs().0, server: baseConfigs().1)
        try pair.pump()
        let clientHeld = pair.client.heldSecrets, serverHeld = pair.server.heldSecrets
        XCTAssertEqual(clientHeld.count, 4)
        XCTAssertFalse(isZero(clientHeld)); XCTAssertFalse(isZero(serverHeld))
        pair.client.close()
        XCTAssertFalse(isZero(pair.client.heldSecrets), "the client still reads until the server's close_notify")
        try pair.pump()
        pair.server.close()
        try pair.pump()
        XCTAssertEqual(pair.client.status, .closed); XCTAssertEqual(pair.server.status, .closed)
        XCTAssertTrue(isZero(pair.client.heldSecrets)); XCTAssertTrue(isZero(pair.server.heldSecrets))
        // The arrays taken before share the storage that was wiped: no copy kept the secrets.
        XCTAssertTrue(isZero(clientHeld), "wiped in place"); XCTAssertTrue(isZero(serverHeld), "wiped in place")
    }

    func testSecretsWipedOnFailure() throws {
        let h = try Harness.established()
        let held = h.server.heldSecrets
        XCTAssertFalse(isZero(held))
        XCTAssertThrowsError(try h.server.receive(Forge.record(23, [UInt8](repeating: 1, count: 40))))
        XCTAssertEqual(h.server.status, .failed)
        XCTAssertTrue(isZero(h.server.heldSecrets)); XCTAssertTrue(isZero(held))
    }

    func testReplacedTrafficSecretsAreWipedOnKeyUpdate() throws {
        let pair = Pair(client: baseConfigs().0, server: baseConfigs().1)
        try pair.pump()
        let before = pair.client.heldSecrets
        try pair.client.updateKeys(requestPeerUpdate: true)
        try pair.pump()
        XCTAssertTrue(isZero([before[0], before[1]]), "both old traffic secrets (ours and the peer's) are zeroed")
        XCTAssertFalse(isZero([pair.client.heldSecrets[0]]))
        try pair.server.write([4]); try pair.pump()
        XCTAssertEqual(pair.readAll(pair.client), [4])
    }

    func testReadingAfterOurCloseStillWorks() throws {
        // Closing our side must not destroy what reading needs: a KeyUpdate and
        // data (and tickets) from the peer after our close_notify still work.
        let pair = Pair(client: baseConfigs().0, server: baseConfigs().1)
        try pair.pump()
        pair.client.close()
        try pair.server.updateKeys(requestPeerUpdate: false)
        try pair.server.write([1, 2, 3])
        try pair.pump()
        XCTAssertEqual(pair.readAll(pair.client), [1, 2, 3])
        XCTAssertNil(pair.client.failure)
    }

    func testKeyLogGetsItsOwnCopies() throws {
        final class Log { var secrets: [String: [UInt8]] = [:] }
        let log = Log()
        var c = baseConfigs().0
        c.keyLog = { label, _, secret in log.secrets[label] = secret }
        let pair = Pair(client: c, server: baseConfigs().1)
        try pair.pump()
        pair.client.close(); pair.server.close()
        try pair.pump()
        XCTAssertTrue(isZero(pair.client.heldSecrets))
        let logged = try XCTUnwrap(log.secrets["CLIENT_TRAFFIC_SECRET_0"])
        XCTAssertFalse(logged.allSatisfy { $0 == 0 }, "what the application logged is its own")
    }

    func testSecretsAreNeverPrinted() throws {
        let secret: [UInt8] = [0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x17, 0x28]
        let session = StoredSession(version: .tls13, suite: .tlsAES128GCMSHA256, secret: secret, createdAtMillis: 1,
                                    lifetimeSeconds: 2, alpn: "h2", ticket: [9, 9])
        let t13 = TLS13Secrets(suite: .tlsAES128GCMSHA256, clientTrafficSecret: secret, serverTrafficSecret: secret,
                               exporterMasterSecret: secret, resumptionMasterSecret: secret)
        let t12 = TLS12Session(suite: .ecdheECDSAWithAES128GCMSHA256, masterSecret: secret, clientRandom: [], serverRandom: [],
                               clientVerifyData: [], serverVerifyData: [], extendedMasterSecret: true, secureRenegotiation: true)
        let early = EarlySecret(hash: .sha256, psk: secret)
        let needles = ["161, 178, 195", "a1b2c3", "A1B2C3", "0xa1"] + [early.secret.prefix(3).map(String.init).joined(separator: ", ")]
        for value in [session, t13, t12, early, early.handshakeSecret(sharedSecret: secret), early.handshakeSecret(sharedSecret: secret).masterSecret] as [Any] {
            var dumped = ""
            dump(value, to: &dumped)
            for text in [String(describing: value), String(reflecting: value), "\(value)", dumped] {
                for n in needles { XCTAssertFalse(text.contains(n), "\(type(of: value)) prints its secret: \(text)") }
            }
            XCTAssertTrue(String(describing: value).contains("redacted"), String(describing: value))
        }
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2]))
        XCTAssertTrue(constantTimeEquals([UInt8](), [UInt8]()))
    }
}
