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

    /// A day after the responses were made (they are valid for seven).
    static let when: UInt64 = {
        let r = try? OCSPResponse(derEncoded: try file("good-by-ca.der"))
        return UInt64((r?.basic?.responses.first?.thisUpdate.secondsSinceEpoch ?? 0) + 86400) * 1000
    }()

    /// The handshake for `assertAlert`: only its error matters.
    static func attempt(_ version: ProtocolVersion, server: String = "leaf", staple: [UInt8]?,
                        policy: StapledOCSPPolicy = .verifyIfPresent) throws {
        try run(version, server: server, staple: staple, policy: policy)
    }

    /// The client after the handshake, or the client's error.
    @discardableResult
    static func run(_ version: ProtocolVersion, server: String = "leaf", staple: [UInt8]?,
                    policy: StapledOCSPPolicy = .verifyIfPresent, verify: Bool = true) throws -> TLSConnection {
        let key = try PrivateKeyParser.parse(try file("\(server).key")).key
        var certified = try CertifiedKey(certificates: [try cert(server)], privateKey: key)
        certified.ocspResponse = staple
        var s = TLSConfiguration()
        s.certificates = [certified]
        var c = TLSConfiguration()
        c.serverName = "ocsp-leaf.test"
        c.requestOCSPStapling = true
        c.stapledOCSPPolicy = policy
        c.peerVerifier = X509PeerVerifier(trustStore: verify ? TrustStore(certificates: [try cert("ca")]) : nil)
        let now = when
        c.clock = { now }
        c.minVersion = version; c.maxVersion = version
        s.minVersion = version; s.maxVersion = version
        let pair = Pair(client: c, server: s, seed: "ocsp-\(version)-\(server)")
        try pair.pump()
        return pair.client
    }
}

/// The client's check of stapled OCSP responses (RFC 6066 8, RFC 6960), with the
/// openssl-made responses of Vectors/x509/ocsp, in TLS 1.3 and TLS 1.2.
final class StapledOCSPCheckTests: XCTestCase {
    func file(_ name: String) throws -> [UInt8] { try OCSPHandshake.file(name) }

    @discardableResult
    func handshake(_ version: ProtocolVersion, server: String = "leaf", staple: [UInt8]?,
                   policy: StapledOCSPPolicy = .verifyIfPresent, verify: Bool = true) throws -> TLSConnection {
        try OCSPHandshake.run(version, server: server, staple: staple, policy: policy, verify: verify)
    }

    func attempt(_ version: ProtocolVersion, server: String = "leaf", staple: [UInt8]?,
                 policy: StapledOCSPPolicy = .verifyIfPresent, verify: Bool = true) throws {
        try OCSPHandshake.run(version, server: server, staple: staple, policy: policy, verify: verify)
    }

    func testGoodAnswersAreReported() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            for name in ["good-by-ca", "good-by-delegate", "good-sha256-certid"] {
                let client = try handshake(version, staple: try file("\(name).der"))
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
            assertAlert(try attempt(version, server: "revoked", staple: try file("revoked.der")), .certificateRevoked, "\(version)")
            // A response about another certificate, and ones signed by someone the CA did not authorise.
            assertAlert(try attempt(version, staple: try file("revoked.der")), .badCertificateStatusResponse, "\(version)")
            assertAlert(try attempt(version, staple: try file("by-unauthorised-cert.der")), .badCertificateStatusResponse, "\(version)")
            assertAlert(try attempt(version, staple: try file("by-other-ca.der")), .badCertificateStatusResponse, "\(version)")
            assertAlert(try attempt(version, staple: [0x30, 0x03, 0x0a, 0x01]), .badCertificateStatusResponse, "\(version) malformed")
        }
    }

    func testPolicies() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            // No response, or an unsigned error status, or `unknown`: fine unless stapling is required.
            XCTAssertEqual(try handshake(version, staple: nil).negotiated?.ocspStatus, .absent, "\(version)")
            XCTAssertEqual(try handshake(version, staple: try file("try-later.der")).negotiated?.ocspStatus, .absent, "\(version)")
            XCTAssertEqual(try handshake(version, server: "stranger", staple: try file("unknown.der")).negotiated?.ocspStatus,
                           .unknown, "\(version)")
            assertAlert(try attempt(version, staple: nil, policy: .require), .badCertificateStatusResponse, "\(version)")
            assertAlert(try attempt(version, staple: try file("try-later.der"), policy: .require), .badCertificateStatusResponse, "\(version)")
            assertAlert(try attempt(version, server: "stranger", staple: try file("unknown.der"), policy: .require),
                        .badCertificateStatusResponse, "\(version)")
            XCTAssertEqual(try handshake(version, staple: try file("good-by-ca.der"), policy: .require).status, .established)
            // Handed over: even a revoked answer is only passed on.
            let handedOver = try handshake(version, server: "revoked", staple: try file("revoked.der"), policy: .handOver)
            XCTAssertEqual(handedOver.status, .established)
            XCTAssertEqual(handedOver.negotiated?.ocspStatus, .notChecked("responses are handed over unchecked"))
            // Without a verified issuer there is nothing to check against.
            let unverified = try handshake(version, server: "revoked", staple: try file("revoked.der"), verify: false)
            guard case .notChecked? = unverified.negotiated?.ocspStatus else {
                return XCTFail("\(version): \(String(describing: unverified.negotiated?.ocspStatus))")
            }
            assertAlert(try attempt(version, staple: try file("good-by-ca.der"), policy: .require, verify: false),
                        .badCertificateStatusResponse, "\(version)")
        }
    }
}
