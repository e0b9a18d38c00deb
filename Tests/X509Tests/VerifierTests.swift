import Foundation
import TLSCrypto
import TestSupport
import X509
import XCTest

final class VerifierTests: XCTestCase {
    let t2026 = X509Time(secondsSinceEpoch: 1_767_225_600)
    let org = "O=TLS Swift Test PKI,C=US"

    func reason(_ body: () throws -> Any) -> CertificateFailureReason? {
        do { _ = try body(); return nil } catch let e as CertificateVerificationError { return e.reason } catch {
            XCTFail("unexpected error \(error)"); return nil
        }
    }

    func testReasonNamesAreStable() {
        let expected = ["expired", "not_yet_valid", "unknown_issuer", "bad_signature", "not_a_ca", "path_length_exceeded",
                        "key_usage", "extended_key_usage", "name_constraints", "hostname_mismatch",
                        "unsupported_critical_extension", "weak_signature_algorithm", "unsupported_algorithm",
                        "chain_too_long", "loop", "key_too_small", "malformed", "empty_chain"]
        XCTAssertEqual(CertificateFailureReason.allCases.map(\.rawValue), expected)
    }

    func testChainAsDERAndResult() throws {
        let leaf = try Corpus.certificate("leaves/leaf-rsa.pem")
        let int = try Corpus.certificate("intermediates/int-rsa.pem")
        let root = try Corpus.certificate("roots/root-rsa.pem")
        let v = CertificateVerifier(trustStore: TrustStore(certificates: [root]))
        let chain = try v.verify(chainDER: [leaf.der, int.der], hostname: "www.example.com", time: t2026)
        XCTAssertEqual(chain.certificates, [leaf, int, root])
        XCTAssertEqual(chain.trustAnchor, root)
        XCTAssertEqual(reason { try v.verify(chainDER: [], hostname: nil, time: self.t2026) }, .emptyChain)
        XCTAssertEqual(reason { try v.verify(chainDER: [[0x30, 0x00]], hostname: nil, time: self.t2026) }, .malformed)
        XCTAssertEqual(reason { try v.verify(chainDER: [leaf.der, [1, 2, 3]], hostname: nil, time: self.t2026) }, .malformed)
        XCTAssertEqual(reason { try v.verify(chainDER: [leaf.der, int.der], hostname: "www.example.org", time: self.t2026) }, .hostnameMismatch)
        // Twice: the second run is answered from the signature cache and must agree.
        XCTAssertNoThrow(try v.verify(chainDER: [leaf.der, int.der], hostname: "www.example.com", time: t2026))
        XCTAssertEqual(reason { try v.verify(leaf: leaf, intermediates: [int], time: X509Time(secondsSinceEpoch: 2_300_000_000)) }, .expired)
    }

    /// RFC 8448's server certificate: self-signed RSA-1024, pinned as a trust anchor.
    func testRFC8448CertificateNeedsALowerRSAMinimum() throws {
        let trace = try String(contentsOf: vectorURL("rfc8448/simple-1rtt.trace"), encoding: .utf8)
        guard let line = trace.split(separator: "\n").first(where: { $0.hasPrefix("param server_certificate = ") }) else {
            return XCTFail("no server_certificate in the trace")
        }
        let der = try [UInt8](hex: String(line.dropFirst("param server_certificate = ".count)))
        let cert = try Certificate(derEncoded: der)
        XCTAssertEqual(cert.subject.rfc4514String, "CN=rsa")
        XCTAssertEqual(cert.publicKeyInfo.keySizeBits, 1024)
        let store = TrustStore(certificates: [cert])
        let t2020 = X509Time(secondsSinceEpoch: 1_600_000_000)
        XCTAssertEqual(reason { try CertificateVerifier(trustStore: store).verify(leaf: cert, time: t2020) }, .keyTooSmall)
        var policy = VerificationPolicy()
        policy.minimumRSAKeyBits = 1024
        let chain = try CertificateVerifier(trustStore: store, policy: policy).verify(leaf: cert, time: t2020)
        XCTAssertEqual(chain.certificates, [cert])
        // Not trusted: unknown issuer, whatever the policy.
        XCTAssertEqual(reason { try CertificateVerifier(trustStore: TrustStore(), policy: policy).verify(leaf: cert, time: t2020) }, .unknownIssuer)
    }

    func testIntermediateEKUAndPinnedLeafAndCNFallback() throws {
        let rootKey = try TestPKI.key("private/root-ecdsa.key")
        let root = try Corpus.certificate("roots/root-ecdsa.pem")
        let rootName = root.subject.rfc4514String
        let caKey = try TestPKI.newP256()
        let leafKey = try TestPKI.newP256()
        // An intermediate restricted to clientAuth.
        let ca = try TestPKI.certificate(subject: "CN=Client-only CA,\(org)", issuer: rootName, subjectKey: caKey.publicKey,
                                         issuerKey: rootKey, extensions: [TestPKI.basicConstraints(ca: true), TestPKI.keyUsage(0x06),
                                                                           TestPKI.eku([.clientAuth])])
        let leaf = try TestPKI.certificate(subject: "CN=www.example.com,\(org)", issuer: "CN=Client-only CA,\(org)",
                                           subjectKey: leafKey.publicKey, issuerKey: caKey,
                                           extensions: [TestPKI.basicConstraints(ca: false), TestPKI.sanDNS(["www.example.com"])])
        let v = CertificateVerifier(trustStore: TrustStore(certificates: [root]))
        XCTAssertEqual(reason { try v.verify(leaf: leaf, intermediates: [ca], hostname: "www.example.com", purpose: .server, time: self.t2026) }, .extendedKeyUsage)
        XCTAssertNoThrow(try v.verify(leaf: leaf, intermediates: [ca], purpose: .client, time: t2026))
        XCTAssertNoThrow(try v.verify(leaf: leaf, intermediates: [ca], purpose: .any, time: t2026))

        // A self-signed leaf trusted directly (pinned).
        let selfKey = try TestPKI.newP256()
        let pinned = try TestPKI.certificate(subject: "CN=pinned.example", issuer: "CN=pinned.example", subjectKey: selfKey.publicKey,
                                             issuerKey: selfKey, extensions: [TestPKI.sanDNS(["pinned.example"]), TestPKI.eku([.serverAuth])])
        let pv = CertificateVerifier(trustStore: TrustStore(certificates: [pinned]))
        XCTAssertEqual(try pv.verify(leaf: pinned, hostname: "pinned.example", time: t2026).certificates, [pinned])
        XCTAssertEqual(reason { try pv.verify(leaf: pinned, hostname: "other.example", time: self.t2026) }, .hostnameMismatch)
        XCTAssertEqual(reason { try pv.verify(leaf: pinned, purpose: .client, time: self.t2026) }, .extendedKeyUsage)

        // CN fallback (an option), and name constraints then apply to the CN too.
        let ncKey = try TestPKI.newP256()
        let ncCA = try TestPKI.certificate(subject: "CN=NC CA,\(org)", issuer: rootName, subjectKey: ncKey.publicKey, issuerKey: rootKey,
                                           extensions: [TestPKI.basicConstraints(ca: true), TestPKI.nameConstraintsDNS(permitted: ["example.com"])])
        let cnLeaf = try TestPKI.certificate(subject: "CN=www.other.org,\(org)", issuer: "CN=NC CA,\(org)", subjectKey: leafKey.publicKey,
                                             issuerKey: ncKey, extensions: [TestPKI.basicConstraints(ca: false)])
        XCTAssertEqual(reason { try v.verify(leaf: cnLeaf, intermediates: [ncCA], hostname: "www.other.org", time: self.t2026) }, .hostnameMismatch)
        var policy = VerificationPolicy()
        policy.allowCommonNameFallback = true
        let lax = CertificateVerifier(trustStore: TrustStore(certificates: [root]), policy: policy)
        XCTAssertEqual(reason { try lax.verify(leaf: cnLeaf, intermediates: [ncCA], hostname: "www.other.org", time: self.t2026) }, .nameConstraints)
        let cnLeafOK = try TestPKI.certificate(subject: "CN=a.example.com,\(org)", issuer: "CN=NC CA,\(org)", subjectKey: leafKey.publicKey,
                                               issuerKey: ncKey, extensions: [TestPKI.basicConstraints(ca: false)])
        XCTAssertNoThrow(try lax.verify(leaf: cnLeafOK, intermediates: [ncCA], hostname: "a.example.com", time: t2026))
        XCTAssertEqual(reason { try v.verify(leaf: cnLeafOK, intermediates: [ncCA], hostname: "a.example.com", time: self.t2026) }, .hostnameMismatch)
    }

    func testTrustAnchorValidityIsAPolicy() throws {
        let key = try TestPKI.newP256()
        let oldRoot = try TestPKI.certificate(subject: "CN=Old Root", issuer: "CN=Old Root", subjectKey: key.publicKey, issuerKey: key,
                                              notBefore: X509Time(secondsSinceEpoch: 1_500_000_000),
                                              notAfter: X509Time(secondsSinceEpoch: 1_700_000_000),
                                              extensions: [TestPKI.basicConstraints(ca: true)])
        let leafKey = try TestPKI.newP256()
        let leaf = try TestPKI.certificate(subject: "CN=leaf", issuer: "CN=Old Root", subjectKey: leafKey.publicKey, issuerKey: key,
                                           extensions: [TestPKI.sanDNS(["leaf.example"])])
        let store = TrustStore(certificates: [oldRoot])
        XCTAssertEqual(reason { try CertificateVerifier(trustStore: store).verify(leaf: leaf, time: self.t2026) }, .expired)
        var policy = VerificationPolicy()
        policy.checkTrustAnchorValidity = false
        XCTAssertNoThrow(try CertificateVerifier(trustStore: store, policy: policy).verify(leaf: leaf, hostname: "leaf.example", time: t2026))
        // A pinned (trusted) leaf is held to its own validity whatever that policy says.
        let pinnedStore = TrustStore(certificates: [leaf])
        XCTAssertNoThrow(try CertificateVerifier(trustStore: pinnedStore, policy: policy).verify(leaf: leaf, time: t2026))
        XCTAssertEqual(reason { try CertificateVerifier(trustStore: pinnedStore, policy: policy)
            .verify(leaf: leaf, time: X509Time(secondsSinceEpoch: 2_100_000_000)) }, .expired)
    }

    /// Many same-name impostors: path building stays bounded and still finds the real issuer.
    func testManyCandidatesAreBounded() throws {
        let rootKey = try TestPKI.key("private/root-ecdsa.key")
        let root = try Corpus.certificate("roots/root-ecdsa.pem")
        var pool: [Certificate] = []
        for i in 0..<30 {
            let k = try TestPKI.newP256()
            pool.append(try TestPKI.certificate(subject: "CN=Same Name CA", issuer: root.subject.rfc4514String, subjectKey: k.publicKey,
                                                issuerKey: rootKey, extensions: [TestPKI.basicConstraints(ca: true)], serial: 100 + i))
        }
        let realKey = try TestPKI.newP256()
        let real = try TestPKI.certificate(subject: "CN=Same Name CA", issuer: root.subject.rfc4514String, subjectKey: realKey.publicKey,
                                           issuerKey: rootKey, extensions: [TestPKI.basicConstraints(ca: true)], serial: 99)
        let leafKey = try TestPKI.newP256()
        let leaf = try TestPKI.certificate(subject: "CN=leaf", issuer: "CN=Same Name CA", subjectKey: leafKey.publicKey, issuerKey: realKey,
                                           extensions: [TestPKI.sanDNS(["leaf.example"])])
        let v = CertificateVerifier(trustStore: TrustStore(certificates: [root]))
        let chain = try v.verify(leaf: leaf, intermediates: pool + [real], hostname: "leaf.example", time: t2026)
        XCTAssertEqual(chain.certificates[1], real)
        var tight = VerificationPolicy()
        tight.maximumCandidateChecks = 5
        let r = reason { try CertificateVerifier(trustStore: TrustStore(certificates: [root]), policy: tight)
            .verify(leaf: leaf, intermediates: pool + [real], hostname: "leaf.example", time: self.t2026) }
        XCTAssertNotNil(r)
    }

    func testTrustStoreSources() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("x509-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for r in ["root-rsa", "root-ecdsa", "root-ed25519"] {
            try Data(try Corpus.bytes("roots/\(r).pem")).write(to: dir.appendingPathComponent("\(r).pem"))
        }
        // A duplicate under another name, a DER copy, and a file that is no certificate.
        try Data(try Corpus.bytes("roots/root-rsa.pem")).write(to: dir.appendingPathComponent("abcd1234.0"))
        try Data(try Corpus.certificate("roots/root-v1.pem").der).write(to: dir.appendingPathComponent("root-v1.der"))
        try Data("hello".utf8).write(to: dir.appendingPathComponent("README"))
        let store = try TrustStore(directory: dir.path)
        XCTAssertEqual(store.count, 4)
        XCTAssertEqual(store.skippedFiles, ["README"])
        XCTAssertTrue(store.contains(try Corpus.certificate("roots/root-v1.pem")))
        XCTAssertFalse(store.contains(try Corpus.certificate("roots/root-other.pem")))
        XCTAssertThrowsError(try TrustStore(pemFile: dir.appendingPathComponent("README").path)) {
            XCTAssertEqual(($0 as? X509Error)?.code, .noPEMBlock)
        }
        XCTAssertThrowsError(try TrustStore(pemFile: dir.appendingPathComponent("missing").path)) {
            XCTAssertEqual(($0 as? X509Error)?.code, .io)
        }
        if TrustStore.systemBundlePaths.contains(where: { FileManager.default.fileExists(atPath: $0) }) {
            let system = try TrustStore.system()
            XCTAssertGreaterThan(system.count, 50)
        }
    }

    func testCertificateDatabase() throws {
        let db = CertificateDatabase()
        let rsaCert = try Certificate(pemEncoded: try Corpus.text("keys/rsa-2048.cert.pem"))
        let rsaKey = try TestPKI.key("keys/rsa-2048.pkcs8.pem")
        let ecCert = try Certificate(pemEncoded: try Corpus.text("keys/ec-p256.cert.pem"))
        let root = try Corpus.certificate("roots/root-ecdsa.pem")
        let int = try Corpus.certificate("intermediates/int-ecdsa.pem")
        let leaf = try Corpus.certificate("leaves/leaf-ecdsa-p256.pem")
        try db.add(rsaCert, key: rsaKey, nickname: "rsa-server")
        try db.add(ecCert, nickname: "ec-server")
        try db.add(root, nickname: "Test Root ECDSA", trustedCA: true)
        try db.add(int, nickname: "Test Intermediate ECDSA")
        try db.add(leaf, nickname: "www")
        XCTAssertThrowsError(try db.add(leaf, nickname: "www")) { XCTAssertEqual(($0 as? X509Error)?.code, .nickname) }
        XCTAssertEqual(db.certificate(nickname: "rsa-server"), rsaCert)
        XCTAssertNil(db.certificate(nickname: "nobody"))
        XCTAssertEqual(db.nicknamesWithKeys, ["rsa-server"])
        XCTAssertThrowsError(try db.addKey(rsaKey, forNickname: "ec-server")) { XCTAssertEqual(($0 as? X509Error)?.code, .keyMismatch) }
        try db.importFiles(certificate: Corpus.url("keys/ed25519.cert.pem").path, key: Corpus.url("keys/ed25519.pkcs8.aes256.pem").path,
                           passphrase: "test-password", nickname: "ed-server")
        XCTAssertEqual(db.nicknamesWithKeys, ["rsa-server", "ed-server"])
        XCTAssertEqual(db.privateKey(for: rsaCert)?.publicKey, rsaCert.publicKey)
        XCTAssertNil(db.privateKey(for: ecCert))
        XCTAssertEqual(db.nickname(of: leaf), "www")
        XCTAssertEqual(db.checkValidTimes(leaf, at: t2026), .valid)
        XCTAssertEqual(db.checkValidTimes(leaf, at: X509Time(secondsSinceEpoch: 2_200_000_000)), .expired)
        XCTAssertEqual(db.checkValidTimes(leaf, at: X509Time(secondsSinceEpoch: 1_000_000_000)), .notYetValid)
        // CA names: the direct issuer, an issuer further up the stored chain, or none.
        XCTAssertTrue(db.issuerIsIn(leaf, caNames: [int.subject]))
        XCTAssertTrue(db.issuerIsIn(leaf, caNames: [try DistinguishedName(rfc4514: "CN=Test Root ECDSA P-256,O=TLS Swift Test PKI,C=US")]))
        XCTAssertTrue(db.issuerIsIn(leaf, caNamesDER: [root.subject.der]))
        XCTAssertFalse(db.issuerIsIn(leaf, caNames: [try Corpus.certificate("roots/root-rsa.pem").subject]))
        XCTAssertFalse(db.issuerIsIn(rsaCert, caNames: [root.subject]))
        XCTAssertEqual(db.chain(for: leaf), [leaf, int, root])
        // The trusted CAs form a trust store that verifies the stored chain.
        let store = db.trustStore
        XCTAssertEqual(store.certificates, [root])
        XCTAssertNoThrow(try CertificateVerifier(trustStore: store).verify(leaf: leaf, intermediates: [int], hostname: "www.example.com", time: t2026))
        db.remove(nickname: "rsa-server")
        XCTAssertEqual(db.nicknamesWithKeys, ["ed-server"])
    }
}
