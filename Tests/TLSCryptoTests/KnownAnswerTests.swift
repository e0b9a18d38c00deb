import XCTest
import TestSupport
@testable import TLSCrypto

/// Every vector in Vectors/crypto is checked here; a file that loads no
/// vectors fails the test rather than passing vacuously.
final class KnownAnswerTests: XCTestCase {
    func blocks(_ file: String, minimum: Int) throws -> [VectorBlock] {
        let b = try loadVectorBlocks("crypto/\(file)")
        XCTAssertGreaterThanOrEqual(b.count, minimum, "too few vectors in \(file)")
        return b
    }

    func hash(_ name: String, _ v: VectorBlock) throws -> HashAlgorithm {
        guard let h = HashAlgorithm(rawValue: name) else { throw XCTSkip("unexpected hash \(name) in \(v)") }
        return h
    }

    func testSHA2() throws {
        for v in try blocks("sha2.txt", minimum: 12) {
            let h = try hash(try v.string("hash"), v)
            let msg = try v.hex("msg")
            let repeatCount = try v.optionalInt("repeat") ?? 1
            let expected = try v.hex("digest")
            // One-shot over the whole message.
            var whole: [UInt8] = []
            whole.reserveCapacity(msg.count * repeatCount)
            for _ in 0..<repeatCount { whole.append(contentsOf: msg) }
            XCTAssertEqual(Digest.hash(h, whole), expected, "one-shot \(v)")
            // Incremental, in uneven pieces, with an intermediate "hash so far".
            var d = Digest(h)
            var offset = 0
            var step = 1
            while offset < whole.count {
                let end = min(whole.count, offset + step)
                d.update(whole[offset..<end])
                if offset == 0 { _ = d.finalize() }  // must not disturb the running state
                offset = end
                step = step * 3 + 1
            }
            XCTAssertEqual(d.finalize(), expected, "incremental \(v)")
            XCTAssertEqual(d.finalize(), expected, "finalize is repeatable \(v)")
        }
    }

    /// FIPS 180-2 appendix A vectors (SHA-1 serves only OCSP identifiers).
    func testSHA1Identifier() throws {
        XCTAssertEqual(Digest.sha1Identifier(Array("abc".utf8)), try [UInt8](hex: "a9993e364706816aba3e25717850c26c9cd0d89d"))
        XCTAssertEqual(Digest.sha1Identifier(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       try [UInt8](hex: "84983e441c3bd26ebaae4aa1f95129e5e54670f1"))
        XCTAssertEqual(Digest.sha1Identifier([UInt8]()), try [UInt8](hex: "da39a3ee5e6b4b0d3255bfef95601890afd80709"))
    }

    func testDigestCopiesAreIndependent() {
        var a = Digest(.sha256)
        a.update(Array("ab".utf8))
        var b = a
        b.update(Array("c".utf8))
        a.update(Array("x".utf8))
        XCTAssertEqual(b.finalize(), Digest.hash(.sha256, Array("abc".utf8)))
        XCTAssertEqual(a.finalize(), Digest.hash(.sha256, Array("abx".utf8)))
    }

    func testHMAC() throws {
        for v in try blocks("hmac.txt", minimum: 21) {
            let h = try hash(try v.string("hash"), v)
            var mac = HMAC.authenticate(h, key: try v.hex("key"), message: try v.hex("msg"))
            if let t = try v.optionalInt("truncate") { mac = Array(mac.prefix(t)) }
            XCTAssertEqual(mac, try v.hex("mac"), "\(v)")
        }
    }

    func testHKDF() throws {
        for v in try blocks("hkdf.txt", minimum: 3) {
            let h = try hash(try v.string("hash"), v)
            let prk = HKDF.extract(h, salt: try v.hex("salt"), ikm: try v.hex("ikm"))
            XCTAssertEqual(prk, try v.hex("prk"), "PRK \(v)")
            let okm = try HKDF.expand(h, prk: prk, info: try v.hex("info"), length: try v.int("length"))
            XCTAssertEqual(okm, try v.hex("okm"), "OKM \(v)")
        }
    }

    func testHKDFRejectsOverlongOutput() {
        let prk = [UInt8](repeating: 1, count: 32)
        XCTAssertThrowsError(try HKDF.expand(.sha256, prk: prk, info: [], length: 255 * 32 + 1)) {
            guard case CryptoError.invalidLength = $0 else { return XCTFail("wrong error \($0)") }
        }
        XCTAssertThrowsError(try HKDF.expand(.sha256, prk: [1, 2, 3], info: [], length: 16)) {
            XCTAssertEqual($0 as? CryptoError, .invalidKeyLength(expected: 32, actual: 3))
        }
    }

    func aeadCases() throws -> [(AEADAlgorithm, VectorBlock)] {
        var out: [(AEADAlgorithm, VectorBlock)] = []
        for v in try blocks("aes-gcm.txt", minimum: 8) {
            let alg: AEADAlgorithm
            switch try v.string("cipher") {
            case "aes128gcm": alg = .aes128GCM
            case "aes256gcm": alg = .aes256GCM
            case let other: XCTFail("unknown cipher \(other)"); continue
            }
            out.append((alg, v))
        }
        for v in try blocks("chacha20poly1305.txt", minimum: 2) {
            var fixed = v
            fixed.fields["iv"] = v.fields["nonce"]
            out.append((.chacha20Poly1305, fixed))
        }
        return out
    }

    func testAEADSealAndOpen() throws {
        for (alg, v) in try aeadCases() {
            let key = try AEADKey(alg, key: try v.hex("key"))
            let iv = try v.hex("iv"), aad = try v.hex("aad"), pt = try v.hex("pt")
            let expected = try v.hex("ct") + v.hex("tag")
            // Twice with the same handle: the per-record reset must be complete.
            for _ in 0..<2 {
                XCTAssertEqual(try key.seal(nonce: iv, aad: aad, plaintext: pt), expected, "seal \(v)")
                XCTAssertEqual(try key.open(nonce: iv, aad: aad, ciphertextAndTag: expected), pt, "open \(v)")
            }
        }
    }

    func testAEADRejectsEveryTamperedByte() throws {
        for (alg, v) in try aeadCases() {
            let key = try AEADKey(alg, key: try v.hex("key"))
            let iv = try v.hex("iv"), aad = try v.hex("aad")
            let sealed = try v.hex("ct") + v.hex("tag")
            for i in stride(from: 0, to: sealed.count, by: max(1, sealed.count / 16)) {
                var bad = sealed
                bad[i] ^= 0x01
                XCTAssertThrowsError(try key.open(nonce: iv, aad: aad, ciphertextAndTag: bad)) {
                    XCTAssertEqual($0 as? CryptoError, .authenticationFailure, "byte \(i) of \(v)")
                }
            }
            var badAAD = aad + [0]
            badAAD[0] ^= 0
            XCTAssertThrowsError(try key.open(nonce: iv, aad: badAAD, ciphertextAndTag: sealed)) {
                XCTAssertEqual($0 as? CryptoError, .authenticationFailure)
            }
            var badNonce = iv
            badNonce[11] ^= 0x80
            XCTAssertThrowsError(try key.open(nonce: badNonce, aad: aad, ciphertextAndTag: sealed)) {
                XCTAssertEqual($0 as? CryptoError, .authenticationFailure)
            }
            XCTAssertThrowsError(try key.open(nonce: iv, aad: aad, ciphertextAndTag: Array(sealed.prefix(15)))) {
                XCTAssertEqual($0 as? CryptoError, .authenticationFailure, "truncated below the tag")
            }
        }
    }

    func testAEADRejectsBadLengths() throws {
        for alg in AEADAlgorithm.allCases {
            XCTAssertThrowsError(try AEADKey(alg, key: [UInt8](repeating: 0, count: alg.keyLength - 1))) {
                XCTAssertEqual($0 as? CryptoError, .invalidKeyLength(expected: alg.keyLength, actual: alg.keyLength - 1))
            }
            let key = try AEADKey(alg, key: [UInt8](repeating: 7, count: alg.keyLength))
            XCTAssertThrowsError(try key.seal(nonce: [UInt8](repeating: 0, count: 8), aad: [], plaintext: [1])) {
                XCTAssertEqual($0 as? CryptoError, .invalidNonceLength(expected: 12, actual: 8))
            }
        }
    }

    func testX25519() throws {
        var checked = 0
        for v in try blocks("x25519.txt", minimum: 7) {
            switch try v.string("kind") {
            case "scalarmult":
                XCTAssertEqual(try X25519PrivateKey.multiply(scalar: try v.hex("scalar"), u: try v.hex("u")), try v.hex("out"), "\(v)")
            case "iterated":
                var k = [UInt8](repeating: 0, count: 32); k[0] = 9
                var u = k
                for _ in 0..<(try v.int("iterations")) {
                    let next = try X25519PrivateKey.multiply(scalar: k, u: u)
                    u = k
                    k = next
                }
                XCTAssertEqual(k, try v.hex("out"), "\(v)")
            case "dh":
                let alice = try X25519PrivateKey(rawRepresentation: try v.hex("alice_private"))
                let bob = try X25519PrivateKey(rawRepresentation: try v.hex("bob_private"))
                XCTAssertEqual(alice.publicKeyBytes, try v.hex("alice_public"))
                XCTAssertEqual(bob.publicKeyBytes, try v.hex("bob_public"))
                XCTAssertEqual(try alice.sharedSecret(peerPublicKey: bob.publicKeyBytes), try v.hex("shared"))
                XCTAssertEqual(try bob.sharedSecret(peerPublicKey: alice.publicKeyBytes), try v.hex("shared"))
            case "reject":
                let key = try X25519PrivateKey(rawRepresentation: try v.hex("scalar"))
                XCTAssertThrowsError(try key.sharedSecret(peerPublicKey: try v.hex("u"))) {
                    XCTAssertEqual($0 as? CryptoError, .degenerateSharedSecret, "\(v)")
                }
            case let other:
                XCTFail("unknown kind \(other)")
            }
            checked += 1
        }
        XCTAssertEqual(checked, 7)
    }

    func testEd25519() throws {
        for v in try blocks("ed25519.txt", minimum: 5) {
            let key = try Ed25519PrivateKey(seed: try v.hex("secret"))
            XCTAssertEqual(key.publicKey.rawRepresentation, try v.hex("public"), "public \(v)")
            let msg = try v.hex("msg"), sig = try v.hex("signature")
            XCTAssertEqual(try key.sign(message: msg), sig, "sign \(v)")
            let pub = try Ed25519PublicKey(rawRepresentation: try v.hex("public"))
            XCTAssertNoThrow(try pub.verify(signature: sig, message: msg), "verify \(v)")
            for i in [0, 31, 32, 63] {
                var bad = sig
                bad[i] ^= 0x04
                XCTAssertThrowsError(try pub.verify(signature: bad, message: msg), "tampered byte \(i) of \(v)") {
                    XCTAssertEqual($0 as? CryptoError, .signatureVerificationFailed)
                }
            }
            XCTAssertThrowsError(try pub.verify(signature: sig, message: msg + [0])) {
                XCTAssertEqual($0 as? CryptoError, .signatureVerificationFailed)
            }
            XCTAssertThrowsError(try pub.verify(signature: Array(sig.prefix(63)), message: msg)) {
                guard case CryptoError.malformedSignature = $0 else { return XCTFail("wrong error \($0)") }
            }
        }
    }

    func testECDSA() throws {
        for v in try blocks("ecdsa.txt", minimum: 6) {
            let curve: NISTCurve = try v.string("curve") == "p256" ? .p256 : .p384
            let h = try hash(try v.string("hash"), v)
            let msg = try v.hex("msg"), sig = try v.hex("sig")
            let pub = try ECDSAPublicKey(curve: curve, point: try v.hex("public"))
            XCTAssertNoThrow(try pub.verify(signature: sig, message: msg, hash: h), "verify \(v)")
            // Tamper with r, s and the message.
            var bad = sig
            bad[bad.count - 1] ^= 0x01
            XCTAssertThrowsError(try pub.verify(signature: bad, message: msg, hash: h)) {
                XCTAssertEqual($0 as? CryptoError, .signatureVerificationFailed, "\(v)")
            }
            bad = sig
            bad[6] ^= 0x01
            XCTAssertThrowsError(try pub.verify(signature: bad, message: msg, hash: h))
            XCTAssertThrowsError(try pub.verify(signature: sig, message: msg + [1], hash: h)) {
                XCTAssertEqual($0 as? CryptoError, .signatureVerificationFailed)
            }
            // Our own signature from the committed private key verifies, and is deterministic.
            let priv = try ECDSAPrivateKey(curve: curve, scalar: try v.hex("private"))
            XCTAssertEqual(priv.publicKey, pub, "public key derived from d \(v)")
            let ours = try priv.sign(message: msg, hash: h)
            XCTAssertNoThrow(try pub.verify(signature: ours, message: msg, hash: h))
            XCTAssertEqual(try priv.sign(message: msg, hash: h), ours, "RFC 6979 is deterministic")
        }
    }

    func testECDSAMalformedSignatures() throws {
        let v = try blocks("ecdsa.txt", minimum: 1)[0]
        let curve: NISTCurve = try v.string("curve") == "p256" ? .p256 : .p384
        let pub = try ECDSAPublicKey(curve: curve, point: try v.hex("public"))
        let sig = try v.hex("sig")
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("trailing byte", sig + [0]),
            ("truncated", Array(sig.dropLast())),
            ("wrong outer tag", [0x31] + sig.dropFirst()),
            ("negative r", [0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01]),
            ("non-minimal r", [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]),
            ("zero r", [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01]),
            ("huge length", [0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
        ]
        for (name, bytes) in cases {
            XCTAssertThrowsError(try pub.verify(signature: bytes, message: [1, 2, 3], hash: curve.hash), name) {
                guard case CryptoError.malformedSignature = $0 else { return XCTFail("\(name): wrong error \($0)") }
            }
        }
    }

    func rsaKey(_ v: VectorBlock) throws -> RSAPrivateKey {
        try RSAPrivateKey(modulus: try v.hex("n"), publicExponent: try v.hex("e"), privateExponent: try v.hex("d"),
                          prime1: try v.hex("p"), prime2: try v.hex("q"))
    }

    func testRSA() throws {
        var keys: [String: RSAPrivateKey] = [:]
        for v in try blocks("rsa.txt", minimum: 18) {
            let h = try hash(try v.string("hash"), v)
            let alg: SignatureAlgorithm
            switch try v.string("padding") {
            case "pkcs1": alg = .rsaPKCS1(h)
            case "pss": alg = .rsaPSS(h, saltLength: try v.int("salt_len"))
            case let other: XCTFail("padding \(other)"); continue
            }
            let pub = try RSAPublicKey(modulus: try v.hex("n"), exponent: try v.hex("e"))
            XCTAssertEqual(pub.bitCount, try v.int("bits"))
            let msg = try v.hex("msg"), sig = try v.hex("sig")
            XCTAssertNoThrow(try pub.verify(signature: sig, message: msg, algorithm: alg), "verify \(v)")
            var bad = sig
            bad[bad.count / 2] ^= 0x10
            XCTAssertThrowsError(try pub.verify(signature: bad, message: msg, algorithm: alg)) {
                XCTAssertEqual($0 as? CryptoError, .signatureVerificationFailed, "\(v)")
            }
            XCTAssertThrowsError(try pub.verify(signature: sig, message: msg + [0], algorithm: alg)) {
                XCTAssertEqual($0 as? CryptoError, .signatureVerificationFailed)
            }
            XCTAssertThrowsError(try pub.verify(signature: sig.dropLast() + [], message: msg, algorithm: alg)) {
                guard case CryptoError.malformedSignature = $0 else { return XCTFail("wrong error \($0)") }
            }
            // The other padding must not accept this signature.
            let other: SignatureAlgorithm = { if case .rsaPSS = alg { return .rsaPKCS1(h) } else { return .rsaPSS(h, saltLength: nil) } }()
            XCTAssertThrowsError(try pub.verify(signature: sig, message: msg, algorithm: other))

            let nHex = try v.string("n")
            let key = try keys[nHex] ?? rsaKey(v)
            keys[nHex] = key
            XCTAssertEqual(key.publicKey, pub)
            let ours = try key.sign(message: msg, algorithm: alg)
            XCTAssertNoThrow(try pub.verify(signature: ours, message: msg, algorithm: alg))
            if case .rsaPKCS1 = alg {
                XCTAssertEqual(ours, sig, "PKCS#1 v1.5 signatures are deterministic: \(v)")
            }
        }
        XCTAssertEqual(keys.count, 3, "2048, 3072 and 4096-bit keys")
    }

    func testRSARejectsInconsistentKeys() throws {
        let v = try blocks("rsa.txt", minimum: 1)[0]
        var q = try v.hex("q")
        q[q.count - 1] ^= 0x02
        XCTAssertThrowsError(try RSAPrivateKey(modulus: try v.hex("n"), publicExponent: try v.hex("e"), privateExponent: try v.hex("d"),
                                               prime1: try v.hex("p"), prime2: q)) {
            guard case CryptoError.invalidPrivateKey = $0 else { return XCTFail("wrong error \($0)") }
        }
        XCTAssertThrowsError(try RSAPublicKey(modulus: [0xff, 0xff], exponent: [1, 0, 1])) {
            guard case CryptoError.invalidPublicKey = $0 else { return XCTFail("wrong error \($0)") }
        }
        var even = try v.hex("n")
        even[even.count - 1] &= 0xfe
        XCTAssertThrowsError(try RSAPublicKey(modulus: even, exponent: [1, 0, 1]))
    }

    func testSignatureAlgorithmMismatchIsAnError() throws {
        let v = try blocks("ed25519.txt", minimum: 1)[0]
        let key = PrivateKey.ed25519(try Ed25519PrivateKey(seed: try v.hex("secret")))
        XCTAssertThrowsError(try key.sign(message: [1], algorithm: .ecdsa(.sha256))) {
            guard case CryptoError.unsupportedAlgorithm = $0 else { return XCTFail("wrong error \($0)") }
        }
        XCTAssertThrowsError(try key.publicKey.verify(signature: [UInt8](repeating: 0, count: 64), message: [1], algorithm: .rsaPKCS1(.sha256)))
    }
}
