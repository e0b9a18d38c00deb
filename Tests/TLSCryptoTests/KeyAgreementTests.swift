import XCTest
import TestSupport
@testable import TLSCrypto

final class KeyAgreementTests: XCTestCase {
    func testEveryGroupAgrees() throws {
        let random = ScriptedRandom(seed: Array("agree".utf8))
        for group in KeyAgreementGroup.allCases {
            let a = try group.generate(random: random)
            let b = try group.generate(random: random)
            XCTAssertEqual(a.publicKeyBytes.count, group.publicKeyLength)
            let s1 = try a.sharedSecret(peerPublicKey: b.publicKeyBytes)
            let s2 = try b.sharedSecret(peerPublicKey: a.publicKeyBytes)
            XCTAssertEqual(s1, s2, "\(group)")
            XCTAssertEqual(s1.count, group.sharedSecretLength)
            XCTAssertNotEqual(a.publicKeyBytes, b.publicKeyBytes)
        }
    }

    func testDeterministicWithScriptedRandom() throws {
        for group in KeyAgreementGroup.allCases {
            let k1 = try group.generate(random: ScriptedRandom(seed: [1]))
            let k2 = try group.generate(random: ScriptedRandom(seed: [1]))
            XCTAssertEqual(k1.publicKeyBytes, k2.publicKeyBytes)
        }
    }

    func testNISTPointValidation() throws {
        for curve in NISTCurve.allCases {
            let group: KeyAgreementGroup = curve == .p256 ? .p256 : .p384
            let key = try group.generate(random: SystemRandom.shared)
            let good = try group.generate(random: SystemRandom.shared).publicKeyBytes
            var offCurve = good
            offCurve[offCurve.count - 1] ^= 0x01
            var compressed = good
            compressed[0] = 0x02
            let fieldPrime = [UInt8](repeating: 0xff, count: curve.fieldLength)
            let cases: [(String, [UInt8])] = [
                ("off curve", offCurve),
                ("compressed prefix", compressed),
                ("too short", Array(good.dropLast())),
                ("empty", []),
                ("coordinates >= p", [0x04] + fieldPrime + fieldPrime),
                ("all zero", [0x04] + [UInt8](repeating: 0, count: 2 * curve.fieldLength)),
            ]
            for (name, bytes) in cases {
                XCTAssertThrowsError(try key.sharedSecret(peerPublicKey: bytes), "\(curve) \(name)") {
                    guard case CryptoError.invalidPublicKey = $0 else { return XCTFail("\(curve) \(name): wrong error \($0)") }
                }
            }
        }
    }

    func testX25519WrongLengths() throws {
        XCTAssertThrowsError(try X25519PrivateKey(rawRepresentation: [1, 2, 3])) {
            XCTAssertEqual($0 as? CryptoError, .invalidKeyLength(expected: 32, actual: 3))
        }
        let key = try X25519PrivateKey(rawRepresentation: [UInt8](repeating: 5, count: 32))
        XCTAssertThrowsError(try key.sharedSecret(peerPublicKey: [UInt8](repeating: 9, count: 31))) {
            guard case CryptoError.invalidPublicKey = $0 else { return XCTFail("wrong error \($0)") }
        }
    }

    func testScalarRange() {
        XCTAssertThrowsError(try NISTCurvePrivateKey(curve: .p256, scalar: [UInt8](repeating: 0, count: 32))) {
            guard case CryptoError.invalidPrivateKey = $0 else { return XCTFail("wrong error \($0)") }
        }
        XCTAssertThrowsError(try NISTCurvePrivateKey(curve: .p256, scalar: [UInt8](repeating: 0xff, count: 32)))
        XCTAssertThrowsError(try NISTCurvePrivateKey(curve: .p256, scalar: [UInt8](repeating: 1, count: 33)))
    }
}

final class UtilityTests: XCTestCase {
    func testConstantTimeEquals() {
        XCTAssertTrue(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2]))
        XCTAssertTrue(constantTimeEquals([UInt8](), [UInt8]()))
    }

    func testHex() throws {
        XCTAssertEqual(try [UInt8](hex: "00ffA0"), [0, 255, 160])
        XCTAssertEqual([0, 255, 160].hexString, "00ffa0")
        XCTAssertThrowsError(try [UInt8](hex: "abc")) { XCTAssertEqual($0 as? HexError, .oddLength) }
        XCTAssertThrowsError(try [UInt8](hex: "zz")) { XCTAssertEqual($0 as? HexError, .invalidCharacter("z")) }
    }

    func testScriptedRandomReplaysThenStreams() {
        let r = ScriptedRandom(script: [1, 2, 3])
        XCTAssertEqual(r.bytes(2), [1, 2])
        let next = r.bytes(3)
        XCTAssertEqual(next[0], 3)
        XCTAssertEqual(r.remainingScripted, 0)
        let again = ScriptedRandom(script: [1, 2, 3])
        _ = again.bytes(2)
        XCTAssertEqual(again.bytes(3), next, "deterministic after the script")
    }

    func testSystemRandomIsNotConstant() {
        XCTAssertNotEqual(SystemRandom.shared.bytes(32), SystemRandom.shared.bytes(32))
    }

    func testPBKDF2RFC6070StyleAndCBC() throws {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256 with P="passwd", S="salt", c=1, dkLen=64.
        let dk = try PasswordBasedEncryption.pbkdf2(password: Array("passwd".utf8), salt: Array("salt".utf8),
                                                    iterations: 1, keyLength: 64, prf: .hmacSHA256)
        XCTAssertEqual(dk.hexString, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
        XCTAssertThrowsError(try PasswordBasedEncryption.aesCBCDecrypt(key: [UInt8](repeating: 0, count: 16), iv: [UInt8](repeating: 0, count: 16), ciphertext: [1, 2, 3])) {
            XCTAssertEqual($0 as? CryptoError, .decryptionFailed)
        }
    }
}
