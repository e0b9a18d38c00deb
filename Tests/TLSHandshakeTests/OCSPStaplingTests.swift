import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
import X509
@testable import TLSHandshake

/// The stapled-OCSP handshakes of these tests (also used by AlertTableTests): the
/// server presents `server` (leaf, revoked or stranger) and staples `staple`.
enum OCSPHandshake {
    static func file(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: vectorURL("x509/ocsp/\(name)"))) }
    static func cert(_ name: String) throws -> Certificate { try Certificate(derEncoded: try PEM.parse(try file("\(name).pem"))[0].der) }

    /// A day after the responses were made (they are valid for seven), in milliseconds.
    static func when() throws -> UInt64 {
        let r = try OCSPResponse(derEncoded: try file("good-by-ca.der"))
        guard let made = r.basic?.responses.first?.thisUpdate.secondsSinceEpoch else { throw X509Error(.unexpectedStructure, "no answer") }
        return UInt64(made + 86400) * 1000
    }

    /// The handshake for `assertAlert`: only its error matters.
    static func attempt(_ version: ProtocolVersion, server: String = "leaf", staple: [UInt8]?,
                        policy: StapledOCSPPolicy = .verifyIfPresent, verify: Bool = true, daysLater: Int = 0,
                        customVerifier: Bool = false) throws {
        try run(version, server: server, staple: staple, policy: policy, verify: verify, daysLater: daysLater,
                customVerifier: customVerifier)
    }

    /// The client after the handshake, or the client's error.
    @discardableResult
    static func run(_ version: ProtocolVersion, server: String = "leaf", staple: [UInt8]?,
                    policy: StapledOCSPPolicy = .verifyIfPresent, verify: Bool = true, daysLater: Int = 0,
                    customVerifier: Bool = false) throws -> TLSConnection {
        let key = try PrivateKeyParser.parse(try file("\(server).key")).key
        // A custom verifier reports no verified path: the issuer then comes from the chain.
        let chain = customVerifier ? [try cert(server), try cert("ca")] : [try cert(server)]
        var certified = try CertifiedKey(certificates: chain, privateKey: key)
        certified.ocspResponse = staple
        var s = TLSConfiguration()
        s.certificates = [certified]
        var c = TLSConfiguration()
        c.serverName = "ocsp-leaf.test"
        c.requestOCSPStapling = true
        c.stapledOCSPPolicy = policy
        c.peerVerifier = customVerifier ? TrustingVerifier()
            : X509PeerVerifier(trustStore: verify ? TrustStore(certificates: [try cert("ca")]) : nil)
        let now = try when() + UInt64(daysLater) * 86_400_000
        c.clock = { now }
        c.minVersion = version; c.maxVersion = version
        s.minVersion = version; s.maxVersion = version
        let pair = Pair(client: c, server: s, seed: "ocsp-\(version)-\(server)")
        try pair.pump()
        return pair.client
    }
}

/// An application's own verifier: says "verified" and reports no path.
final class TrustingVerifier: PeerCertificateVerifier {
    func verify(chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity {
        guard let leaf = chain.first, let key = try Certificate(derEncoded: leaf).publicKey else {
            throw HandshakeError(.badCertificate, "no key")
        }
        return PeerIdentity(publicKey: key, chain: chain, verified: true, verdict: "trusted by the application")
    }
}

/// The client's check of stapled OCSP responses (RFC 6066 8, RFC 6960), with the
/// openssl-made responses of Vectors/x509/ocsp, in TLS 1.3 and TLS 1.2.
final class StapledOCSPCheckTests: XCTestCase {
    func file(_ name: String) throws -> [UInt8] { try OCSPHandshake.file(name) }

    func testGoodAnswersAreReported() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            for name in ["good-by-ca", "good-by-delegate", "good-sha256-certid"] {
                let client = try OCSPHandshake.run(version, staple: try file("\(name).der"))
                XCTAssertEqual(client.status, .established, "\(version) \(name)")
                guard case .good(let thisUpdate, let nextUpdate)? = client.negotiated?.ocspStatus else {
                    return XCTFail("\(version) \(name): \(String(describing: client.negotiated?.ocspStatus))")
                }
                XCTAssertEqual(nextUpdate.map { $0 - thisUpdate }, 7 * 86400)
                XCTAssertEqual(client.negotiated?.ocspResponse, try file("\(name).der"))
            }
        }
    }

    func testRevokedAndForgedResponsesEndTheHandshake() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            assertAlert(try OCSPHandshake.attempt(version, server: "revoked", staple: try file("revoked.der")), .certificateRevoked, "\(version)")
            // A response about another certificate, and ones signed by someone the CA did not authorise.
            assertAlert(try OCSPHandshake.attempt(version, staple: try file("revoked.der")), .badCertificateStatusResponse, "\(version)")
            assertAlert(try OCSPHandshake.attempt(version, staple: try file("by-unauthorised-cert.der")), .badCertificateStatusResponse, "\(version)")
            assertAlert(try OCSPHandshake.attempt(version, staple: try file("by-other-ca.der")), .badCertificateStatusResponse, "\(version)")
            assertAlert(try OCSPHandshake.attempt(version, staple: [0x30, 0x03, 0x0a, 0x01]), .badCertificateStatusResponse, "\(version) malformed")
            // Out of date: a good answer eight days on (nextUpdate was seven).
            assertAlert(try OCSPHandshake.attempt(version, staple: try file("good-by-ca.der"), daysLater: 8),
                        .badCertificateStatusResponse, "\(version) expired")
            // Tampered: one bit of the signature (the CA certificate copy follows it).
            var tampered = try file("good-by-ca.der")
            let signature = try XCTUnwrap(try OCSPResponse(derEncoded: tampered).basic?.signature)
            let at = try XCTUnwrap((0...(tampered.count - signature.count)).first {
                tampered[$0..<($0 + signature.count)].elementsEqual(signature)
            })
            tampered[at + signature.count - 1] ^= 1
            assertAlert(try OCSPHandshake.attempt(version, staple: tampered), .badCertificateStatusResponse, "\(version) tampered")
        }
    }

    func testPolicies() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            // No response, or an unsigned error status, or `unknown`: fine unless stapling is required.
            XCTAssertEqual(try OCSPHandshake.run(version, staple: nil).negotiated?.ocspStatus, .absent, "\(version)")
            XCTAssertEqual(try OCSPHandshake.run(version, staple: try file("try-later.der")).negotiated?.ocspStatus, .absent, "\(version)")
            XCTAssertEqual(try OCSPHandshake.run(version, server: "stranger", staple: try file("unknown.der")).negotiated?.ocspStatus,
                           .unknown, "\(version)")
            assertAlert(try OCSPHandshake.attempt(version, staple: nil, policy: .require), .badCertificateStatusResponse, "\(version)")
            assertAlert(try OCSPHandshake.attempt(version, staple: try file("try-later.der"), policy: .require), .badCertificateStatusResponse, "\(version)")
            assertAlert(try OCSPHandshake.attempt(version, server: "stranger", staple: try file("unknown.der"), policy: .require),
                        .badCertificateStatusResponse, "\(version)")
            XCTAssertEqual(try OCSPHandshake.run(version, staple: try file("good-by-ca.der"), policy: .require).status, .established)
            // Handed over: even a revoked answer is only passed on.
            let handedOver = try OCSPHandshake.run(version, server: "revoked", staple: try file("revoked.der"), policy: .handOver)
            XCTAssertEqual(handedOver.status, .established)
            XCTAssertEqual(handedOver.negotiated?.ocspStatus, .notChecked("responses are handed over unchecked"))
            // A custom verifier that reports no path: the chain's second certificate signed the
            // leaf, so the revoked answer is still acted on (not skipped).
            assertAlert(try OCSPHandshake.attempt(version, server: "revoked", staple: try file("revoked.der"), customVerifier: true),
                        .certificateRevoked, "\(version) custom verifier")
            XCTAssertEqual(try OCSPHandshake.run(version, staple: try file("good-by-ca.der"), customVerifier: true).status, .established)
            // Without a verified issuer there is nothing to check against.
            let unverified = try OCSPHandshake.run(version, server: "revoked", staple: try file("revoked.der"), verify: false)
            guard case .notChecked? = unverified.negotiated?.ocspStatus else {
                return XCTFail("\(version): \(String(describing: unverified.negotiated?.ocspStatus))")
            }
            assertAlert(try OCSPHandshake.attempt(version, staple: try file("good-by-ca.der"), policy: .require, verify: false),
                        .badCertificateStatusResponse, "\(version)")
        }
    }
}
