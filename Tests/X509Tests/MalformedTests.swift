import Foundation
import TLSCrypto
import X509
import XCTest

/// Truncations, bit flips and junk: parsing never traps and every failure is an X509Error
/// (or, through the verifier's DER entry point, a `malformed` verification error).
final class MalformedTests: XCTestCase {
    let samples = ["leaves/leaf-ecdsa-p256.pem", "leaves/leaf-rsa-pss-sha256.pem", "intermediates/int-nc-ip.pem",
                   "leaves/leaf-host-san-email-uri.pem", "roots/root-v1.pem", "leaves/leaf-ed25519.pem"]

    func testEveryTruncationFails() throws {
        for s in samples {
            let der = try Corpus.certificate(s).der
            for n in 0..<der.count {
                XCTAssertThrowsError(try Certificate(derEncoded: Array(der.prefix(n))), "\(s) cut to \(n)") {
                    XCTAssertTrue($0 is X509Error, "\(s) cut to \(n): \($0)")
                }
            }
            // Trailing bytes are refused too.
            XCTAssertThrowsError(try Certificate(derEncoded: der + [0])) {
                XCTAssertEqual(($0 as? X509Error)?.code, .invalidDER)
            }
        }
    }

    func testEveryBitFlipParsesOrFailsCleanly() throws {
        var failures: [X509Error.Code: Int] = [:]
        var parsed = 0
        for s in samples {
            let der = try Corpus.certificate(s).der
            for bit in 0..<(der.count * 8) {
                var b = der
                b[bit / 8] ^= UInt8(1 << (7 - bit % 8))
                do {
                    let c = try Certificate(derEncoded: b)
                    // Whatever parsed must still render without trapping.
                    _ = c.subject.rfc4514String + c.issuer.rfc4514String + c.description
                    _ = c.subjectAlternativeNames?.map(\.description)
                    parsed += 1
                } catch let e as X509Error {
                    failures[e.code, default: 0] += 1
                } catch {
                    XCTFail("\(s) bit \(bit): not an X509Error: \(error)")
                }
            }
        }
        // Both outcomes occur, and the errors are specific (several codes, not one catch-all).
        XCTAssertGreaterThan(parsed, 0)
        XCTAssertGreaterThan(failures[.invalidDER, default: 0], 0)
        XCTAssertGreaterThan(failures[.unexpectedStructure, default: 0], 0)
        XCTAssertGreaterThanOrEqual(failures.count, 4, "\(failures)")
    }

    /// A flipped bit in the signed part either fails to parse or fails verification.
    func testBitFlipsInTheSignedPartNeverVerify() throws {
        let leaf = try Corpus.certificate("leaves/leaf-ecdsa-p256.pem")
        let int = try Corpus.certificate("intermediates/int-ecdsa.pem")
        let root = try Corpus.certificate("roots/root-ecdsa.pem")
        let verifier = CertificateVerifier(trustStore: TrustStore(certificates: [root]))
        let time = X509Time(secondsSinceEpoch: 1_767_225_600)
        XCTAssertNoThrow(try verifier.verify(chainDER: [leaf.der, int.der], hostname: "www.example.com", time: time))
        guard let tbsStart = leaf.der.firstRange(of: leaf.tbsDER)?.lowerBound else { return XCTFail("no TBS") }
        var verified = 0
        for bit in stride(from: tbsStart * 8, to: (tbsStart + leaf.tbsDER.count) * 8, by: 3) {
            var b = leaf.der
            b[bit / 8] ^= UInt8(1 << (bit % 8))
            do {
                _ = try verifier.verify(chainDER: [b, int.der], hostname: nil, purpose: .any, time: time)
                verified += 1
            } catch let e as CertificateVerificationError {
                XCTAssertNotEqual(e.reason, .emptyChain)
            }
        }
        XCTAssertEqual(verified, 0, "a modified certificate verified")
    }

    func testJunk() {
        var rng = SystemRandomNumberGenerator()
        for len in [0, 1, 2, 3, 10, 100, 1000] {
            for _ in 0..<50 {
                var b = (0..<len).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if len > 0 { b[0] = 0x30 }
                do { _ = try Certificate(derEncoded: b) } catch is X509Error {} catch {
                    XCTFail("junk: not an X509Error: \(error)")
                }
                do { _ = try Certificate.parseMany(b) } catch is X509Error {} catch {
                    XCTFail("junk: not an X509Error: \(error)")
                }
            }
        }
        // Deep nesting stops at swift-asn1's depth limit instead of recursing without end.
        let deep = [UInt8](repeating: 0x30, count: 1) + [0x80]
        XCTAssertThrowsError(try Certificate(derEncoded: deep))
        var nested: [UInt8] = [0x05, 0x00]
        for _ in 0..<200 { nested = [0x30] + derLen(nested.count) + nested }
        XCTAssertThrowsError(try Certificate(derEncoded: nested)) { XCTAssertEqual(($0 as? X509Error)?.code, .invalidDER) }
    }

    /// The fuzz entry point returns for corpus files, their mutations and junk.
    func testFuzzEntryPoint() throws {
        XCTAssertEqual(X509Fuzz.parseEverything(try Corpus.bytes("bundle/ca-bundle.pem")), 4)
        XCTAssertGreaterThanOrEqual(X509Fuzz.parseEverything(try Corpus.bytes("keys/ec-p256.sec1.der")), 1)
        XCTAssertEqual(X509Fuzz.parseEverything(Array("CN=x".utf8)), 1)
        XCTAssertEqual(X509Fuzz.parseEverything(Array("::1".utf8)), 1)
        XCTAssertEqual(X509Fuzz.parseEverything([]), 1)  // only as the empty RFC 4514 name
        let der = try Corpus.certificate("intermediates/int-nc-dns.pem").der
        for i in stride(from: 0, to: der.count, by: 5) {
            var b = der
            b[i] = b[i] &+ 0x41
            X509Fuzz.parseEverything(b)
            X509Fuzz.parseEverything(Array(der[i...]))
        }
    }

    func derLen(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        if n < 0x100 { return [0x81, UInt8(n)] }
        return [0x82, UInt8(n >> 8), UInt8(n & 0xff)]
    }

    func testStructuralErrorsAreSpecific() throws {
        let der = try Corpus.certificate("leaves/leaf-ecdsa-p256.pem").der
        // The inner signature AlgorithmIdentifier must equal the outer one: ecdsa-with-SHA256
        // (2a 86 48 ce 3d 04 03 02) becomes ecdsa-with-SHA384 (...03 03) inside the TBS only.
        let sigOID: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]
        guard let r = der.firstRange(of: sigOID) else { return XCTFail("no OID") }
        var b = der
        b[r.upperBound - 1] = 0x03
        XCTAssertThrowsError(try Certificate(derEncoded: b)) {
            XCTAssertEqual(($0 as? X509Error)?.code, .signatureAlgorithmMismatch)
        }
        // Certificates built with one fault each.
        let key = try TestPKI.newP256()
        func code(_ ext: [TestPKI.Ext], version: Int = 3) throws -> X509Error.Code? {
            let der = try TestPKI.certificateDER(subject: "CN=x", issuer: "CN=x", subjectKey: key.publicKey, issuerKey: key,
                                                 extensions: ext, version: version)
            do { _ = try Certificate(derEncoded: der); return nil } catch { return (error as? X509Error)?.code }
        }
        XCTAssertNil(try code([TestPKI.ski([1, 2, 3])]))
        XCTAssertEqual(try code([TestPKI.ski([1]), TestPKI.ski([2])]), .duplicateExtension)
        XCTAssertEqual(try code([TestPKI.ski([1])], version: 1), .unsupportedVersion)
        XCTAssertEqual(try code([TestPKI.Ext(oid: .subjectAltName, critical: false, value: [0x30, 0x00])]), .malformedExtension)
        XCTAssertEqual(try code([TestPKI.Ext(oid: .basicConstraints, critical: true, value: [0x30, 0x03, 0x01, 0x01, 0x01])]), .malformedExtension)
        XCTAssertEqual(try code([TestPKI.Ext(oid: .keyUsage, critical: true, value: [0x03, 0x02, 0x07, 0x81])]), .malformedExtension)  // padding bit set
        XCTAssertEqual(try code([TestPKI.Ext(oid: .extKeyUsage, critical: false, value: [0x04, 0x00])]), .malformedExtension)
        XCTAssertEqual(try code([TestPKI.Ext(oid: .subjectAltName, critical: false, value: TestPKI.seq(TestPKI.tlv(0x87, [1, 2, 3])))]), .malformedExtension)
        // An unknown critical extension parses but is flagged.
        let unknown = OID(dotted: "1.3.6.1.4.1.55555.9")!
        let flagged = try TestPKI.certificateDER(subject: "CN=x", issuer: "CN=x", subjectKey: key.publicKey, issuerKey: key,
                                                 extensions: [TestPKI.Ext(oid: unknown, critical: true, value: [0x05, 0x00])])
        XCTAssertEqual(try Certificate(derEncoded: flagged).unhandledCriticalExtensions, [unknown])
    }
}
