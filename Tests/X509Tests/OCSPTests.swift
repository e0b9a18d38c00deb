import XCTest
import TestSupport
import TLSCrypto
@testable import X509

/// RFC 6960 responses made by `openssl ocsp` (Tools/scripts/make-ocsp-vectors.sh): parsing,
/// and the checks a client applies to a stapled response.
final class OCSPTests: XCTestCase {
    func response(_ name: String) throws -> OCSPResponse { try OCSPResponse(derEncoded: try Corpus.bytes("ocsp/\(name).der")) }
    func cert(_ name: String) throws -> Certificate { try Certificate(pemEncoded: try Corpus.text("ocsp/\(name).pem")) }

    /// A day after the response was made: inside [thisUpdate, nextUpdate].
    func dayAfter(_ r: OCSPResponse) throws -> X509Time {
        let single = try XCTUnwrap(r.basic?.responses.first)
        return X509Time(secondsSinceEpoch: single.thisUpdate.secondsSinceEpoch + 86400)
    }

    func assertFails(_ name: String, _ certificate: String, issuer: String = "ca", at time: X509Time? = nil,
                     _ reason: OCSPCheckError.Reason, saying words: String? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try response(name)
        let when = try time ?? dayAfter(r)
        XCTAssertThrowsError(try r.check(try cert(certificate), issuer: try cert(issuer), at: when), name, file: file, line: line) { e in
            XCTAssertEqual((e as? OCSPCheckError)?.reason, reason, "\(name): \(e)", file: file, line: line)
            if let words { XCTAssertTrue("\(e)".contains(words), "\(name): \(e)", file: file, line: line) }
        }
    }

    func testParsesWhatOpenSSLMakes() throws {
        let good = try response("good-by-ca")
        XCTAssertEqual(good.status, .successful)
        let basic = try XCTUnwrap(good.basic)
        XCTAssertEqual(basic.responderID, .byName(try cert("ca").subject))
        XCTAssertEqual(basic.responses.count, 1)
        let single = try XCTUnwrap(basic.responses.first)
        XCTAssertEqual(single.hashAlgorithm, .sha1)
        XCTAssertEqual(single.serialNumber, try cert("leaf").serialNumber)
        XCTAssertEqual(single.status, .good)
        XCTAssertEqual(try XCTUnwrap(single.nextUpdate).secondsSinceEpoch - single.thisUpdate.secondsSinceEpoch, 7 * 86400)
        XCTAssertEqual(basic.signatureAlgorithm, .ecdsa(.sha256))

        let delegated = try XCTUnwrap(try response("good-by-delegate").basic)
        XCTAssertEqual(delegated.responderID, .byKey(Digest.sha1Identifier(try cert("responder").publicKeyInfo.keyBytes)))
        XCTAssertEqual(delegated.certificates.map(\.der), [try cert("responder").der])
        XCTAssertEqual(try response("good-sha256-certid").basic?.responses.first?.hashAlgorithm, .sha256)
        XCTAssertNil(try response("good-no-next-update").basic?.responses.first?.nextUpdate)

        let tryLater = try response("try-later")
        XCTAssertEqual(tryLater.status, .tryLater)
        XCTAssertNil(tryLater.basic)
    }

    func testGoodRevokedAndUnknownAnswers() throws {
        for name in ["good-by-ca", "good-sha256-certid", "good-by-delegate"] {
            let r = try response(name)
            XCTAssertEqual(try r.check(try cert("leaf"), issuer: try cert("ca"), at: try dayAfter(r)).status, .good, name)
        }
        // Without nextUpdate ("newer information is always available", RFC 6960 4.2.2.1) an
        // answer is fresh for a day by default, not for ever.
        let open = try response("good-no-next-update")
        let made = try XCTUnwrap(open.basic?.responses.first?.thisUpdate.secondsSinceEpoch)
        XCTAssertEqual(try open.check(try cert("leaf"), issuer: try cert("ca"), at: X509Time(secondsSinceEpoch: made + 3600)).status, .good)
        XCTAssertThrowsError(try open.check(try cert("leaf"), issuer: try cert("ca"), at: X509Time(secondsSinceEpoch: made + 2 * 86400))) { e in
            XCTAssertEqual((e as? OCSPCheckError)?.reason, .expired, "\(e)")
        }
        XCTAssertEqual(try open.check(try cert("leaf"), issuer: try cert("ca"), at: X509Time(secondsSinceEpoch: made + 2 * 86400),
                                      maxAgeWithoutNextUpdate: 3 * 86400).status, .good)

        let revoked = try response("revoked")
        let answer = try revoked.check(try cert("revoked"), issuer: try cert("ca"), at: try dayAfter(revoked))
        XCTAssertEqual(answer.status, .revoked(at: try XCTUnwrap(X509Time(year: 2026, month: 11, day: 1)), reason: 1))

        let unknown = try response("unknown")
        XCTAssertEqual(try unknown.check(try cert("stranger"), issuer: try cert("ca"), at: try dayAfter(unknown)).status, .unknown)
    }

    func testResponsesThatMustNotBeTrusted() throws {
        // Signed by a certificate of the CA's without id-kp-OCSPSigning, and by another CA.
        try assertFails("by-unauthorised-cert", "leaf", .unauthorizedResponder, saying: "not authorised for OCSPSigning")
        try assertFails("by-other-ca", "leaf", .unauthorizedResponder, saying: "was not issued by")
        // An OCSPSigning certificate from an impostor with the CA's name: the CA's key did not sign it.
        try assertFails("by-forged-delegate", "leaf", .unauthorizedResponder, saying: "does not verify with")
        // About another certificate, or from another issuer's point of view.
        try assertFails("good-by-ca", "revoked", .noMatchingResponse)
        try assertFails("good-by-ca", "leaf", issuer: "other", .noMatchingResponse)
        // An error status carries no answer.
        try assertFails("try-later", "leaf", at: X509Time(secondsSinceEpoch: 1_800_000_000), .notSuccessful)
        // Out of its time window (5 minutes of skew allowed).
        let r = try response("good-by-ca")
        let thisUpdate = try XCTUnwrap(r.basic?.responses.first?.thisUpdate.secondsSinceEpoch)
        try assertFails("good-by-ca", "leaf", at: X509Time(secondsSinceEpoch: thisUpdate + 8 * 86400), .expired)
        try assertFails("good-by-ca", "leaf", at: X509Time(secondsSinceEpoch: thisUpdate - 3600), .notYetValid)
        XCTAssertNoThrow(try r.check(try cert("leaf"), issuer: try cert("ca"), at: X509Time(secondsSinceEpoch: thisUpdate - 200)))

        // One bit of the signature changed (found by its bytes: a copy of the CA certificate follows it).
        var tampered = try Corpus.bytes("ocsp/good-by-ca.der")
        let signature = try XCTUnwrap(r.basic?.signature)
        let at = try XCTUnwrap((0...(tampered.count - signature.count)).first { tampered[$0..<($0 + signature.count)].elementsEqual(signature) })
        tampered[at + signature.count - 1] ^= 1
        let bad = try OCSPResponse(derEncoded: tampered)
        XCTAssertThrowsError(try bad.check(try cert("leaf"), issuer: try cert("ca"), at: try dayAfter(r))) { e in
            XCTAssertEqual((e as? OCSPCheckError)?.reason, .badSignature, "\(e)")
        }
    }

    func testMalformedResponsesAreSpecificErrors() throws {
        let good = try Corpus.bytes("ocsp/good-by-ca.der")
        let cases: [(String, [UInt8], X509Error.Code)] = [
            ("empty", [], .invalidDER),
            ("truncated", Array(good.dropLast(3)), .invalidDER),
            ("trailing byte", good + [0], .invalidDER),
            ("status not ENUMERATED", [0x30, 0x03, 0x02, 0x01, 0x00], .unexpectedStructure),
            ("unknown status 4", [0x30, 0x03, 0x0a, 0x01, 0x04], .unexpectedStructure),
            ("successful without responseBytes", [0x30, 0x03, 0x0a, 0x01, 0x00], .unexpectedStructure),
            ("not a SEQUENCE", [0x31, 0x00], .unexpectedStructure),
        ]
        for (what, bytes, code) in cases {
            XCTAssertThrowsError(try OCSPResponse(derEncoded: bytes), what) { e in
                XCTAssertEqual((e as? X509Error)?.code, code, "\(what): \(e)")
            }
        }
        // Every truncation of a real response fails cleanly (never traps).
        for n in stride(from: 0, to: good.count, by: 7) {
            XCTAssertThrowsError(try OCSPResponse(derEncoded: Array(good.prefix(n))), "prefix \(n)")
        }
    }
    /// A response built here and signed with the CA's key: it checks as good, so the
    /// encoder below matches the parser; then with extensions added to it.
    func built(responseExtension: (critical: Bool, oid: String)? = nil,
               singleExtension: (critical: Bool, oid: String)? = nil) throws -> OCSPResponse {
        let ca = try cert("ca"), leaf = try cert("leaf")
        let key = try PrivateKeyParser.parse(try Corpus.bytes("ocsp/ca.key")).key
        func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] { derElement(tag, content) }
        func extensions(_ e: (critical: Bool, oid: String)?) throws -> [UInt8] {
            guard let e, let oid = OID(dotted: e.oid) else { return [] }
            let ext = tlv(0x30, oid.derEncoded + (e.critical ? [0x01, 0x01, 0xff] : []) + tlv(0x04, [0x04, 0x02, 0x00, 0x00]))
            return tlv(0xa1, tlv(0x30, ext))
        }
        let time = try XCTUnwrap(response("good-by-ca").basic?.responses.first?.thisUpdate)
        let generalized = tlv(0x18, Array(String(time.description.filter { $0.isNumber } + "Z").utf8))
        let certID = tlv(0x30, tlv(0x30, OID.sha1.derEncoded + [0x05, 0x00])
                         + tlv(0x04, Digest.sha1Identifier(ca.subject.der))
                         + tlv(0x04, Digest.sha1Identifier(ca.publicKeyInfo.keyBytes))
                         + tlv(0x02, leaf.serialNumber))
        let single = tlv(0x30, certID + [0x80, 0x00] + generalized + (try extensions(singleExtension)))
        let tbs = tlv(0x30, tlv(0xa1, ca.subject.der) + generalized + tlv(0x30, single) + (try extensions(responseExtension)))
        let signature = try key.sign(message: tbs, algorithm: .ecdsa(.sha256))
        let ecdsaSHA256: [UInt8] = [0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]
        let basic = tlv(0x30, tbs + ecdsaSHA256 + tlv(0x03, [0] + signature))
        let bytes = tlv(0x30, [0x0a, 0x01, 0x00] + tlv(0xa0, tlv(0x30, OID.ocspBasic.derEncoded + tlv(0x04, basic))))
        return try OCSPResponse(derEncoded: bytes)
    }

    func testCriticalExtensionsAreNotRelied() throws {
        let when = try dayAfter(try response("good-by-ca"))
        let nonce = "1.3.6.1.5.5.7.48.1.2"
        for (what, r) in [("plain", try built()), ("non-critical response extension", try built(responseExtension: (false, nonce))),
                          ("non-critical single extension", try built(singleExtension: (false, "1.2.3.4")))] {
            XCTAssertEqual(try r.check(try cert("leaf"), issuer: try cert("ca"), at: when).status, .good, what)
        }
        for (what, r) in [("critical response extension", try built(responseExtension: (true, nonce))),
                          ("critical single extension", try built(singleExtension: (true, "1.2.3.4")))] {
            XCTAssertThrowsError(try r.check(try cert("leaf"), issuer: try cert("ca"), at: when), what) { e in
                XCTAssertEqual((e as? OCSPCheckError)?.reason, .unhandledCriticalExtension, "\(what): \(e)")
            }
        }
    }
}
