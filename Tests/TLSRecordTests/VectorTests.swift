import XCTest
import TestSupport
import TLSCrypto
@testable import TLSRecord

/// Vectors/record/aead-records.txt: records computed independently with python3's
/// `cryptography` (Tools/scripts/gen-record-vectors.py).
final class VectorTests: XCTestCase {
    static let allowedKeys: Set<String> = ["framing", "cipher", "key", "iv", "seq", "type", "version",
                                           "padding", "content", "nonce", "aad", "record"]

    func algorithm(_ name: String) throws -> AEADAlgorithm {
        switch name {
        case "aes128gcm": return .aes128GCM
        case "aes256gcm": return .aes256GCM
        case "chacha20poly1305": return .chacha20Poly1305
        default: throw VectorFileError.badHex("cipher \(name)")
        }
    }

    func makeCipher(_ v: VectorBlock) throws -> RecordCipher {
        let a = try algorithm(try v.string("cipher"))
        let c: RecordCipher
        switch try v.string("framing") {
        case "tls12": c = try .tls12(a, key: try v.hex("key"), fixedIV: try v.hex("iv"))
        case "tls13": c = try .tls13(a, key: try v.hex("key"), iv: try v.hex("iv"))
        default: throw VectorFileError.badHex("framing")
        }
        guard let seq = UInt64(try v.string("seq")) else { throw VectorFileError.notANumber("seq", v.description) }
        c.sequenceNumber = seq
        return c
    }

    func testRecordVectors() throws {
        let blocks = try loadVectorBlocks("record/aead-records.txt")
        XCTAssertGreaterThanOrEqual(blocks.count, 11)
        var seen = Set<String>()
        for v in blocks {
            XCTAssertTrue(Set(v.fields.keys).isSubset(of: Self.allowedKeys), "unknown key in \(v)")
            let framing = try v.string("framing")
            seen.insert(framing + "/" + (try v.string("cipher")))
            let type = try XCTUnwrap(ContentType(rawValue: UInt8(try v.int("type"))), "\(v)")
            let content = try v.hex("content")
            let expected = try v.hex("record")
            let version: ProtocolVersion
            if framing == "tls13" {
                version = .tls13
            } else {
                let vb = try v.hex("version")
                XCTAssertEqual(vb.count, 2)
                version = ProtocolVersion(major: vb[0], minor: vb[1])
            }

            // Write.
            var w = RecordWriter()
            w.setCipher(try makeCipher(v), version: version)
            if framing == "tls13" {
                let padding = try v.int("padding")
                w.paddingPolicy = .custom { _, _, _ in padding }
            }
            var out: [UInt8] = []
            try w.write(type, content, into: &out)
            XCTAssertEqual(out.hexString, expected.hexString, "write \(v)")

            // Read.
            var r = RecordReader()
            r.setCipher(try makeCipher(v), version: version)
            r.feed(expected)
            let rec = try XCTUnwrap(try r.nextRecord(), "\(v)")
            XCTAssertEqual(rec.contentType, type, "\(v)")
            XCTAssertEqual(Array(rec.fragment), content, "\(v)")
            XCTAssertTrue(rec.wasProtected)

            // Any byte after the header changed: bad_record_mac.
            for i in stride(from: 5, to: expected.count, by: max(1, expected.count / 23)) {
                var bad = expected
                bad[i] ^= 0x01
                var r2 = RecordReader()
                let c = try makeCipher(v)
                r2.setCipher(c, version: version)
                r2.feed(bad)
                assertAlert(.badRecordMac, kind: .authenticationFailure, "byte \(i) of \(v)") { try r2.nextRecord() }
                XCTAssertEqual(c.sequenceNumber, UInt64(try v.string("seq")), "failed record must not advance")
                XCTAssertEqual(c.authenticationFailures, 1)
            }
        }
        XCTAssertEqual(seen, ["tls12/aes128gcm", "tls12/aes256gcm", "tls12/chacha20poly1305",
                              "tls13/aes128gcm", "tls13/aes256gcm", "tls13/chacha20poly1305"])
    }

    /// The nonce and AAD in the file are what RecordCipher builds; checked
    /// through AEADKey directly so a wrong construction cannot hide behind a
    /// symmetric bug in writer and reader.
    func testNonceAndAADConstruction() throws {
        for v in try loadVectorBlocks("record/aead-records.txt") {
            let a = try algorithm(try v.string("cipher"))
            let record = try v.hex("record")
            let explicit = (try v.string("framing") == "tls12" && a != .chacha20Poly1305) ? 8 : 0
            let body = Array(record.dropFirst(5 + explicit))
            let pt = try AEADKey(a, key: try v.hex("key")).open(nonce: try v.hex("nonce"), aad: try v.hex("aad"),
                                                               ciphertextAndTag: body)
            XCTAssertEqual(Array(pt.prefix(try v.hex("content").count)), try v.hex("content"), "\(v)")
        }
    }
}
