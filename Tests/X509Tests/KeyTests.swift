import Foundation
import TLSCrypto
import X509
import XCTest

/// Every file of Vectors/x509/keys (keys.jsonl) through the key parsers.
final class KeyTests: XCTestCase {
    static let password = Array("test-password".utf8)

    /// keys.jsonl calls these "pkcs8", but `openssl pkey -outform DER` (3.0) wrote the
    /// traditional form (RSAPrivateKey / ECPrivateKey), as `openssl asn1parse` shows.
    /// Accepted only while the bytes really are in that form.
    static let knownMislabelled: [String: PrivateKeyFormat] = [
        "rsa-2048.pkcs8.der": .pkcs1,
        "ec-p256.pkcs8.der": .sec1,
    ]

    /// The container by structure: the tag of the second field of the outer SEQUENCE.
    static func derContainer(_ der: [UInt8]) -> PrivateKeyFormat? {
        guard der.count > 4, der[0] == 0x30 else { return nil }
        var i = der[1] & 0x80 != 0 ? 2 + Int(der[1] & 0x7f) : 2
        guard i + 1 < der.count else { return nil }
        if der[i] == 0x30 { return .encryptedPKCS8 }
        i += 2 + Int(der[i + 1])
        guard i < der.count else { return nil }
        switch der[i] {
        case 0x30: return .pkcs8
        case 0x02: return .pkcs1
        case 0x04: return .sec1
        default: return nil
        }
    }

    func keyRows() throws -> [[String: Any]] { try Corpus.jsonLines("keys/keys.jsonl") }

    func testEveryKeyFile() throws {
        let rows = try keyRows()
        XCTAssertGreaterThanOrEqual(rows.count, 20)
        var checked = 0
        for row in rows {
            guard let file = row["file"] as? String, let kind = row["kind"] as? String,
                  let format = row["format"] as? String, let certFile = row["cert"] as? String,
                  let matches = row["matches_cert"] as? Bool, let algorithm = row["algorithm"] as? String else {
                XCTFail("bad row \(row)"); continue
            }
            let bytes = try Corpus.bytes("keys/" + file)
            let cert = try Certificate(pemEncoded: try Corpus.text("keys/" + certFile))
            let encrypted = !(row["encryption"] is NSNull) && row["encryption"] != nil

            if kind == "public" {
                let spki = try PublicKeyParser.parse(bytes)
                XCTAssertEqual(spki.der, cert.publicKeyInfo.der, file)
                XCTAssertEqual(try spki.makePublicKey(), cert.publicKey, file)
                checked += 1
                continue
            }
            if format == "pkcs1-legacy-encrypted" {
                XCTAssertThrowsError(try PrivateKeyParser.parse(bytes, passphrase: KeyTests.password), file) {
                    XCTAssertEqual(($0 as? X509Error)?.code, .unsupportedFormat, "\(file): \($0)")
                }
                checked += 1
                continue
            }
            if file.contains("explicit-params") {
                XCTAssertThrowsError(try PrivateKeyParser.parse(bytes), file) {
                    XCTAssertEqual(($0 as? X509Error)?.code, .unsupportedFormat, "\(file): \($0)")
                }
                checked += 1
                continue
            }
            let loaded = try PrivateKeyParser.parse(bytes, passphrase: encrypted ? KeyTests.password : nil)
            var expectedFormat: PrivateKeyFormat
            switch format {
            case "pkcs1": expectedFormat = .pkcs1
            case "pkcs8": expectedFormat = .pkcs8
            case "pkcs8-encrypted": expectedFormat = .encryptedPKCS8
            case "sec1": expectedFormat = .sec1
            default: XCTFail("\(file): unknown format \(format)"); continue
            }
            if let actual = KeyTests.knownMislabelled[file], actual != expectedFormat, KeyTests.derContainer(bytes) == actual {
                expectedFormat = actual
            }
            XCTAssertEqual(loaded.format, expectedFormat, file)
            switch (algorithm, loaded.key) {
            case ("rsa", .rsa), ("ec-p256", .ecdsa), ("ec-p384", .ecdsa), ("ed25519", .ed25519): break
            default: XCTFail("\(file): algorithm \(algorithm) but got \(loaded.key.publicKey.kindName)")
            }
            if matches {
                XCTAssertNoThrow(try PrivateKeyParser.checkMatch(loaded.key, certificate: cert), file)
                // The key really works with the certificate's public key.
                let alg: SignatureAlgorithm
                switch loaded.key {
                case .rsa: alg = .rsaPSS(.sha256, saltLength: nil)
                case .ecdsa(let k): alg = .ecdsa(k.curve.hash)
                case .ed25519: alg = .ed25519
                }
                let message = Array("key test \(file)".utf8)
                let sig = try loaded.key.sign(message: message, algorithm: alg)
                XCTAssertNoThrow(try cert.publicKey?.verify(signature: sig, message: message, algorithm: alg), file)
            } else {
                XCTAssertThrowsError(try PrivateKeyParser.checkMatch(loaded.key, certificate: cert), file) {
                    XCTAssertEqual(($0 as? X509Error)?.code, .keyMismatch, "\(file): \($0)")
                }
            }
            if encrypted {
                XCTAssertThrowsError(try PrivateKeyParser.parse(bytes, passphrase: Array("wrong-password".utf8)), file) {
                    XCTAssertEqual(($0 as? X509Error)?.code, .wrongPassphrase, "\(file): \($0)")
                }
                XCTAssertThrowsError(try PrivateKeyParser.parse(bytes, passphrase: nil), file) {
                    XCTAssertEqual(($0 as? X509Error)?.code, .passphraseRequired, "\(file): \($0)")
                }
            }
            checked += 1
        }
        XCTAssertEqual(checked, rows.count)
    }

    /// Many wrong passphrases: each must give wrongPassphrase (also when the CBC padding
    /// happens to be valid and the plaintext is garbage), never another error or a key.
    func testManyWrongPassphrases() throws {
        let bytes = try Corpus.bytes("keys/ec-p256.pkcs8.aes128.pem")
        for i in 0..<40 {
            XCTAssertThrowsError(try PrivateKeyParser.parse(bytes, passphrase: Array("nope-\(i)".utf8))) {
                XCTAssertEqual(($0 as? X509Error)?.code, .wrongPassphrase, "passphrase \(i): \($0)")
            }
        }
    }

    func testMismatchedPairIsRefusedByTheDatabase() throws {
        let key = try PrivateKeyParser.parse(try Corpus.bytes("keys/mismatch.key.pem")).key
        let cert = try Certificate(pemEncoded: try Corpus.text("keys/mismatch.cert.pem"))
        let db = CertificateDatabase()
        XCTAssertThrowsError(try db.add(cert, key: key, nickname: "server")) {
            XCTAssertEqual(($0 as? X509Error)?.code, .keyMismatch)
        }
        XCTAssertNil(db.certificate(nickname: "server"))
    }

    func testPKCS8AndSEC1GiveTheSameKey() throws {
        let a = try PrivateKeyParser.parse(try Corpus.bytes("keys/ec-p256.sec1.der")).key
        let b = try PrivateKeyParser.parse(try Corpus.bytes("keys/ec-p256.pkcs8.pem")).key
        XCTAssertEqual(a.publicKey, b.publicKey)
        let c = try PrivateKeyParser.parse(try Corpus.bytes("keys/rsa-2048.pkcs1.der")).key
        let d = try PrivateKeyParser.parse(try Corpus.bytes("keys/rsa-2048.pkcs8.aes256.der"), passphrase: KeyTests.password).key
        XCTAssertEqual(c.publicKey, d.publicKey)
    }

    func testGarbageIsNotAKey() {
        XCTAssertThrowsError(try PrivateKeyParser.parse(Array("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".utf8))) {
            XCTAssertEqual(($0 as? X509Error)?.code, .noPEMBlock)
        }
        XCTAssertThrowsError(try PrivateKeyParser.parse([0x30, 0x03, 0x02, 0x01, 0x00])) {
            XCTAssertEqual(($0 as? X509Error)?.code, .unexpectedStructure)
        }
        XCTAssertThrowsError(try PrivateKeyParser.parse([0x01, 0x02])) {
            XCTAssertEqual(($0 as? X509Error)?.code, .invalidDER)
        }
    }

    /// Truncations and bit flips of a real key never trap and give X509Errors.
    func testMutatedKeysNeverTrap() throws {
        for file in ["keys/rsa-2048.pkcs1.der", "keys/ec-p256.sec1.der", "keys/ed25519.pkcs8.der", "keys/rsa-2048.pkcs8.aes256.der"] {
            let good = try Corpus.bytes(file)
            var errors = 0
            for n in stride(from: 0, to: good.count, by: max(1, good.count / 200)) {
                do { _ = try PrivateKeyParser.parse(Array(good.prefix(n)), passphrase: KeyTests.password) } catch is X509Error {
                    errors += 1
                } catch { XCTFail("\(file) truncated to \(n): non-X509 error \(error)") }
            }
            XCTAssertGreaterThan(errors, 0, file)
            for bit in stride(from: 0, to: min(good.count * 8, 4000), by: 7) {
                var b = good
                b[bit / 8] ^= UInt8(1 << (bit % 8))
                do { _ = try PrivateKeyParser.parse(b, passphrase: KeyTests.password) } catch is X509Error {
                } catch { XCTFail("\(file) bit \(bit): non-X509 error \(error)") }
            }
        }
    }

    /// One PEM bundle (certificate, public key, key), parsed once and handed to each loader:
    /// each takes its own block, as the byte loaders do.
    func testLoadersShareOneParsedPEMBundle() throws {
        let certText = try Corpus.text("keys/ec-p256.cert.pem")
        let spkiText = try Corpus.text("keys/ec-p256.spki.pem")
        let keyText = try Corpus.text("keys/ec-p256.pkcs8.pem")
        let bundle = Array(("# a bundle\n" + certText + spkiText + keyText).utf8)
        let blocks = try PEM.parse(bundle)
        XCTAssertEqual(blocks.map(\.label), ["CERTIFICATE", "PUBLIC KEY", "PRIVATE KEY"])

        let cert = try Certificate(pemEncoded: certText)
        XCTAssertEqual(try Certificate.parseMany(blocks: blocks).map(\.der), [cert.der])
        XCTAssertEqual(try Certificate.parseMany(bundle).map(\.der), [cert.der])
        XCTAssertEqual(try PublicKeyParser.parse(blocks: blocks).der, cert.publicKeyInfo.der)
        XCTAssertEqual(try PublicKeyParser.parse(bundle).der, cert.publicKeyInfo.der)
        let loaded = try PrivateKeyParser.parse(blocks: blocks)
        XCTAssertEqual(loaded.format, .pkcs8)
        XCTAssertEqual(loaded.publicKey, cert.publicKey)
        XCTAssertEqual(try PrivateKeyParser.parse(bundle).publicKey, cert.publicKey)

        // Blocks without the wanted label: the specific error, from both entry points.
        let onlyCert = try PEM.parse(Array(certText.utf8))
        XCTAssertThrowsError(try PrivateKeyParser.parse(blocks: onlyCert)) {
            XCTAssertEqual(($0 as? X509Error)?.code, .noPEMBlock)
        }
        XCTAssertThrowsError(try PublicKeyParser.parse(blocks: onlyCert)) {
            XCTAssertEqual(($0 as? X509Error)?.code, .noPEMBlock)
        }
        XCTAssertThrowsError(try Certificate.parseMany(blocks: [])) {
            XCTAssertEqual(($0 as? X509Error)?.code, .noPEMBlock)
        }
    }
}
