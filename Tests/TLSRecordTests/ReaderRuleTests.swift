import XCTest
import TestSupport
import TLSCrypto
@testable import TLSRecord

/// Each rule of RFC 8446 5.1-5.4 / RFC 5246 6.2 and each denial-of-service cap,
/// with the alert it must produce.
final class ReaderRuleTests: XCTestCase {

    /// Independent TLS 1.2 sealing over AEADKey (AES-GCM with explicit nonce = seq).
    func seal12GCM(key: [UInt8], salt: [UInt8], seq: UInt64, type: UInt8, plaintext: [UInt8]) throws -> [UInt8] {
        var explicit: [UInt8] = []
        for i in 0..<8 { explicit.append(UInt8(truncatingIfNeeded: seq >> UInt64(56 - 8 * i))) }
        let aad = explicit + [type, 3, 3, UInt8(plaintext.count >> 8), UInt8(plaintext.count & 0xff)]
        let sealed = try AEADKey(.aes128GCM, key: key).seal(nonce: salt + explicit, aad: aad, plaintext: plaintext)
        return plainRecord(type, explicit + sealed)
    }

    func reader13() throws -> RecordReader {
        var r = RecordReader()
        r.setCipher(try .tls13(.aes128GCM, key: testKey16, iv: testIV12), version: .tls13)
        return r
    }

    func reader12() throws -> RecordReader {
        var r = RecordReader()
        r.setCipher(try .tls12(.aes128GCM, key: testKey16, fixedIV: Array(testIV12.prefix(4))), version: .tls12)
        return r
    }

    // MARK: - content types

    func testUnknownContentTypeIsUnexpectedMessage() throws {
        for t: UInt8 in [0, 19, 24, 99, 255] {
            var r = RecordReader()
            r.feed(plainRecord(t, [1, 2, 3]))
            // 255 as a *first* byte is an SSLv2 candidate: byte 2 is 3, so not a ClientHello.
            assertAlert(.unexpectedMessage, "type \(t)") { try r.nextRecord() }
        }
        // Detected from the first byte alone, without waiting for the header.
        var r = try reader13()
        r.feed([24])
        assertAlert(.unexpectedMessage) { try r.nextRecord() }
    }

    func testUnknownInnerContentTypeIsUnexpectedMessage() throws {
        var r = try reader13()
        r.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: [1, 2, 3, 99, 0, 0]))
        assertAlert(.unexpectedMessage) { try r.nextRecord() }
    }

    func testTLS13InnerPlaintextWithoutNonZeroByte() throws {
        for inner: [UInt8] in [[0, 0, 0, 0], [0], []] {
            var r = try reader13()
            r.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: inner))
            assertAlert(.unexpectedMessage, "inner \(inner)") { try r.nextRecord() }
            XCTAssertEqual(r.cipher?.sequenceNumber, 1, "the record authenticated")
        }
    }

    func testUnprotectedHandshakeOrAlertUnderTLS13KeysIsUnexpected() throws {
        for t: ContentType in [.handshake, .alert] {
            var r = try reader13()
            r.feed(plainRecord(t.rawValue, t == .alert ? [2, 40] : [20, 0, 0, 0]))
            assertAlert(.unexpectedMessage, "\(t)") { try r.nextRecord() }
        }
    }

    func testPlaintextApplicationDataIsUnexpected() throws {
        var r = RecordReader()
        r.feed(plainRecord(23, [1, 2, 3]))
        assertAlert(.unexpectedMessage) { try r.nextRecord() }
        var r2 = RecordReader()
        r2.setCipher(nil, version: .tls12)
        r2.feed(plainRecord(23, []))
        assertAlert(.unexpectedMessage) { try r2.nextRecord() }
    }

    // MARK: - change_cipher_spec

    func testTLS13ChangeCipherSpecPassesUnprotected() throws {
        var r = try reader13()
        r.feed(plainRecord(20, [1]))
        let rec = try XCTUnwrap(try r.nextRecord())
        XCTAssertEqual(rec.contentType, .changeCipherSpec)
        XCTAssertEqual(Array(rec.fragment), [1])
        XCTAssertFalse(rec.wasProtected)
        XCTAssertEqual(r.cipher?.sequenceNumber, 0, "an unprotected CCS uses no sequence number")
    }

    func testTLS13BadChangeCipherSpec() throws {
        for body: [UInt8] in [[2], [1, 1], [], [0]] {
            var r = try reader13()
            r.feed(plainRecord(20, body))
            assertAlert(.unexpectedMessage, "ccs \(body)") { try r.nextRecord() }
        }
        // Before any version is known the TLS 1.3 rule applies too.
        var r = RecordReader()
        r.feed(plainRecord(20, [2]))
        assertAlert(.unexpectedMessage) { try r.nextRecord() }
    }

    func testTLS13ProtectedChangeCipherSpecIsUnexpected() throws {
        var r = try reader13()
        r.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: [1, 20]))
        assertAlert(.unexpectedMessage) { try r.nextRecord() }
    }

    func testTLS12ChangeCipherSpec() throws {
        var r = RecordReader()
        r.setCipher(nil, version: .tls12)
        r.feed(plainRecord(20, [1]))
        XCTAssertEqual(try r.nextRecord()?.contentType, .changeCipherSpec)
        var bad = RecordReader()
        bad.setCipher(nil, version: .tls12)
        bad.feed(plainRecord(20, [2]))
        assertAlert(.illegalParameter) { try bad.nextRecord() }
        var long = RecordReader()
        long.setCipher(nil, version: .tls12)
        long.feed(plainRecord(20, [1, 1]))
        assertAlert(.decodeError) { try long.nextRecord() }
    }

    // MARK: - lengths

    func testPlaintextRecordOverflow() throws {
        var ok = RecordReader()
        ok.feed(plainRecord(22, [1, 0, 0x3f, 0xfc] + [UInt8](repeating: 0, count: 16380)))
        XCTAssertEqual(try ok.nextRecord()?.fragment.count, 16384)
        // 2^14 + 1: refused from the header alone, before the body is buffered.
        var r = RecordReader()
        r.feed([22, 3, 3, 0x40, 0x01])
        assertAlert(.recordOverflow, kind: .limitExceeded) { try r.nextRecord() }
        // record_size_limit does not apply to unprotected records (RFC 8449 4).
        var limits = RecordLimits()
        limits.applyRecordSizeLimit(100, version: .tls13)
        var small = RecordReader(limits: limits)
        small.feed(plainRecord(22, [UInt8](repeating: 1, count: 1000)))
        XCTAssertEqual(try small.nextRecord()?.fragment.count, 1000)
    }

    func testTLS13CiphertextOverflow() throws {
        var r = try reader13()
        r.feed([23, 3, 3] + [UInt8((16384 + 257) >> 8), UInt8((16384 + 257) & 0xff)])
        assertAlert(.recordOverflow, kind: .limitExceeded) { try r.nextRecord() }
        // 2^14 + 256 is acceptable as a length: the reader waits for the body.
        var r2 = try reader13()
        r2.feed([23, 3, 3] + [UInt8((16384 + 256) >> 8), UInt8((16384 + 256) & 0xff)])
        XCTAssertNil(try r2.nextRecord())
    }

    func testTLS12CiphertextOverflow() throws {
        var r = try reader12()
        r.feed([23, 3, 3] + [UInt8((16384 + 2049) >> 8), UInt8((16384 + 2049) & 0xff)])
        assertAlert(.recordOverflow) { try r.nextRecord() }
        var r2 = try reader12()
        r2.feed([23, 3, 3] + [UInt8((16384 + 2048) >> 8), UInt8((16384 + 2048) & 0xff)])
        XCTAssertNil(try r2.nextRecord())
    }

    func testTLS13InnerPlaintextOverflow() throws {
        // 2^14 content + type = 2^14 + 1: fine.
        var r = try reader13()
        r.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: [UInt8](repeating: 7, count: 16384) + [23]))
        XCTAssertEqual(try r.nextRecord()?.fragment.count, 16384)
        // One more byte, even of padding: record_overflow.
        var r2 = try reader13()
        r2.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: [UInt8](repeating: 7, count: 100) + [23] + [UInt8](repeating: 0, count: 16285)))
        assertAlert(.recordOverflow) { try r2.nextRecord() }
    }

    func testTLS12PlaintextOverflow() throws {
        let salt = Array(testIV12.prefix(4))
        var r = try reader12()
        r.feed(try seal12GCM(key: testKey16, salt: salt, seq: 0, type: 23, plaintext: [UInt8](repeating: 1, count: 16384)))
        XCTAssertEqual(try r.nextRecord()?.fragment.count, 16384)
        var r2 = try reader12()
        r2.feed(try seal12GCM(key: testKey16, salt: salt, seq: 0, type: 23, plaintext: [UInt8](repeating: 1, count: 16385)))
        assertAlert(.recordOverflow) { try r2.nextRecord() }
    }

    func testRecordSizeLimitOnReader() throws {
        var limits = RecordLimits()
        limits.applyRecordSizeLimit(1000, version: .tls13)
        XCTAssertEqual(limits.maxPlaintext, 999)
        var r = try reader13()
        r.limits = limits
        r.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: [UInt8](repeating: 5, count: 999) + [23]))
        XCTAssertEqual(try r.nextRecord()?.fragment.count, 999)
        var r2 = try reader13()
        r2.limits = limits
        r2.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: [UInt8](repeating: 5, count: 1000) + [23]))
        assertAlert(.recordOverflow) { try r2.nextRecord() }

        var limits12 = RecordLimits()
        limits12.applyRecordSizeLimit(1000, version: .tls12)
        XCTAssertEqual(limits12.maxPlaintext, 1000)
        var r3 = try reader12()
        r3.limits = limits12
        r3.feed(try seal12GCM(key: testKey16, salt: Array(testIV12.prefix(4)), seq: 0, type: 23, plaintext: [UInt8](repeating: 1, count: 1001)))
        assertAlert(.recordOverflow) { try r3.nextRecord() }
        XCTAssertEqual(RecordLimits.contentLimit(forRecordSizeLimit: 16385, version: .tls13), 16384)
        XCTAssertEqual(RecordLimits.contentLimit(forRecordSizeLimit: 20000, version: .tls12), 16384)
    }

    func testShortProtectedRecordIsBadRecordMac() throws {
        var r = try reader13()
        r.feed(plainRecord(23, [UInt8](repeating: 0, count: 15)))
        assertAlert(.badRecordMac) { try r.nextRecord() }
        var r2 = try reader12()
        r2.feed(plainRecord(23, [UInt8](repeating: 0, count: 23)))  // < 8 explicit + 16 tag
        assertAlert(.badRecordMac) { try r2.nextRecord() }
    }

    // MARK: - authentication

    func testBadRecordMacDoesNotAdvanceAndIsSticky() throws {
        var (w, r) = try pair13()
        var out: [UInt8] = []
        try w.write(.applicationData, Array("first".utf8), into: &out)
        try w.write(.applicationData, Array("second".utf8), into: &out)
        let firstLength = 5 + 5 + 1 + 16
        r.feed(Array(out[..<firstLength]))
        XCTAssertEqual(try r.nextRecord().map { Array($0.fragment) }, Array("first".utf8))
        XCTAssertEqual(r.cipher?.sequenceNumber, 1)

        var tampered = Array(out[firstLength...])
        tampered[tampered.count - 1] ^= 0x80
        r.feed(tampered)
        assertAlert(.badRecordMac, kind: .authenticationFailure) { try r.nextRecord() }
        XCTAssertEqual(r.cipher?.sequenceNumber, 1, "no silent advance")
        XCTAssertEqual(r.cipher?.recordsProtected, 1)
        XCTAssertEqual(r.cipher?.authenticationFailures, 1)
        XCTAssertEqual(r.error?.alert, .badRecordMac)
        // Sticky: the genuine record fed afterwards is not read either.
        r.feed(Array(out[firstLength...]))
        assertAlert(.badRecordMac) { try r.nextRecord() }
        XCTAssertEqual(r.cipher?.sequenceNumber, 1)
    }

    func testWrongKeyOrReplayedRecordFails() throws {
        var (w, r) = try pair13()
        let rec = try w.records(.applicationData, [1, 2, 3])
        r.feed(rec)
        XCTAssertNotNil(try r.nextRecord())
        r.feed(rec)  // replay: sequence number 1 now, the nonce differs
        assertAlert(.badRecordMac) { try r.nextRecord() }
    }

    // MARK: - empty fragments

    func testZeroLengthHandshakeAndAlertFragments() throws {
        for t: UInt8 in [21, 22] {
            var r = RecordReader()
            r.feed(plainRecord(t, []))
            assertAlert(.unexpectedMessage, "plaintext type \(t)") { try r.nextRecord() }
            var p = try reader13()
            p.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: [t, 0, 0]))
            assertAlert(.unexpectedMessage, "TLS 1.3 inner type \(t)") { try p.nextRecord() }
            var q = try reader12()
            q.feed(try seal12GCM(key: testKey16, salt: Array(testIV12.prefix(4)), seq: 0, type: t, plaintext: []))
            assertAlert(.unexpectedMessage, "TLS 1.2 type \(t)") { try q.nextRecord() }
        }
    }

    func testEmptyApplicationDataAllowedUpToLimit() throws {
        for make in [{ try pair13() }, { try pair12(.chacha20Poly1305) }] {
            var (w, r) = try make()
            var out: [UInt8] = []
            for _ in 0..<32 { try w.write(.applicationData, [], into: &out) }
            try w.write(.applicationData, [9], into: &out)
            for _ in 0..<32 { try w.write(.applicationData, [], into: &out) }
            r.feed(out)
            let got = try r.drain()
            XCTAssertEqual(got.count, 65)
            XCTAssertEqual(got.filter { !$0.1.isEmpty }.count, 1)
            // The 33rd empty record in a row is refused.
            out.removeAll()
            try w.write(.applicationData, [], into: &out)
            r.feed(out)
            assertAlert(.unexpectedMessage, kind: .limitExceeded) { try r.nextRecord() }
        }
    }

    func testPaddingOnlyRecordsCountAsEmpty() throws {
        var limits = RecordLimits()
        limits.maxEmptyRecordsInARow = 2
        var r = try reader13()
        r.limits = limits
        for seq: UInt64 in 0..<3 {
            r.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: seq, inner: [23, 0, 0, 0, 0]))
        }
        XCTAssertEqual(try r.nextRecord()?.fragment.count, 0)
        XCTAssertEqual(try r.nextRecord()?.fragment.count, 0)
        assertAlert(.unexpectedMessage) { try r.nextRecord() }
    }

    // MARK: - alerts

    func testAlertMustBeExactlyTwoBytes() throws {
        for body: [UInt8] in [[2], [2, 40, 2], [1, 0, 1, 0]] {
            var r = RecordReader()
            r.feed(plainRecord(21, body))
            assertAlert(.decodeError, "plaintext \(body)") { try r.nextRecord() }
            var p = try reader13()
            p.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: body + [21]))
            assertAlert(.decodeError, "protected \(body)") { try p.nextRecord() }
        }
        var ok = RecordReader()
        ok.feed(plainRecord(21, [2, 40]))
        let rec = try XCTUnwrap(try ok.nextRecord())
        XCTAssertEqual(try Alert(bytes: rec.fragment), .fatal(.handshakeFailure))
    }

    func testTooManyWarningAlertsInARow() throws {
        var (w, r) = try pair13()
        var out: [UInt8] = []
        for _ in 0..<4 { try w.write(.alert, Alert.warning(.userCanceled).encode(), into: &out) }
        try w.write(.applicationData, [1], into: &out)
        for _ in 0..<4 { try w.write(.alert, Alert.warning(.userCanceled).encode(), into: &out) }
        r.feed(out)
        XCTAssertEqual(try r.drain().count, 9)
        out.removeAll()
        try w.write(.alert, Alert.warning(.userCanceled).encode(), into: &out)
        r.feed(out)
        assertAlert(.unexpectedMessage, kind: .limitExceeded) { try r.nextRecord() }
    }

    func testAlertParsing() throws {
        for d in AlertDescription.allCases {
            for l in [AlertLevel.warning, .fatal] {
                let a = Alert(level: l, description: d)
                XCTAssertEqual(try Alert(bytes: a.encode()), a)
            }
        }
        assertAlert(.decodeError) { try Alert(bytes: [2]) }
        assertAlert(.decodeError) { try Alert(bytes: [2, 40, 0]) }
        assertAlert(.illegalParameter) { try Alert(bytes: [3, 40]) }
        assertAlert(.illegalParameter) { try Alert(bytes: [2, 200]) }
        XCTAssertEqual(AlertDescription.badRecordMac.name, "bad_record_mac")
        XCTAssertEqual(AlertDescription.noRenegotiation.rawValue, 100)
        XCTAssertEqual(AlertDescription.noApplicationProtocol.name, "no_application_protocol")
        XCTAssertEqual(AlertDescription.unknownPSKIdentity.name, "unknown_psk_identity")
        XCTAssertEqual(Alert.fatal(.recordOverflow).text, "fatal record_overflow")
        // Names are unique and snake_case.
        let names = AlertDescription.allCases.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        for n in names { XCTAssertEqual(n.lowercased().replacingOccurrences(of: "_reserved", with: ""),
                                        n.replacingOccurrences(of: "_RESERVED", with: "").lowercased()) }
        // Every RFC 8446 section 6 code is present.
        for code: UInt8 in [0, 10, 20, 22, 40, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 70, 71, 80, 86, 90,
                            109, 110, 112, 113, 115, 116, 120, 100] {
            XCTAssertNotNil(AlertDescription(rawValue: code), "alert \(code)")
        }
    }

    // MARK: - versions

    func testRecordVersionRules() throws {
        // Nothing negotiated yet: major byte must be 3.
        var r = RecordReader()
        r.feed(plainRecord(22, [1, 0, 0, 0], version: 0x0201))
        assertAlert(.protocolVersion) { try r.nextRecord() }
        var ok = RecordReader()
        ok.feed(plainRecord(22, [1, 0, 0, 0], version: 0x0300) + plainRecord(22, [1, 0, 0, 0], version: 0x03ff))
        XCTAssertEqual(try ok.drain().count, 2)
        // TLS 1.3: the minor byte is ignored, a major byte other than 3 is a decode_error.
        var t13 = RecordReader()
        t13.setCipher(nil, version: .tls13)
        t13.feed(plainRecord(22, [1, 0, 0, 0], version: 0x0301))
        XCTAssertNotNil(try t13.nextRecord())
        t13.feed(plainRecord(22, [1, 0, 0, 0], version: 0x0403))
        assertAlert(.decodeError) { try t13.nextRecord() }
        // TLS 1.2: the negotiated version exactly.
        var t12 = RecordReader()
        t12.setCipher(nil, version: .tls12)
        t12.feed(plainRecord(22, [1, 0, 0, 0], version: 0x0303))
        XCTAssertNotNil(try t12.nextRecord())
        t12.feed(plainRecord(22, [1, 0, 0, 0], version: 0x0301))
        assertAlert(.protocolVersion) { try t12.nextRecord() }
    }

    func testSSLv2ClientHelloIsReportedDistinctly() throws {
        // SSL 2.0 CLIENT-HELLO: 2-byte header (high bit set), msg type 1, version 0x0301, ...
        let v2: [UInt8] = [0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10]
        var r = RecordReader()
        r.feed(Array(v2.prefix(2)))
        XCTAssertNil(try r.nextRecord(), "needs the third byte to decide")
        XCTAssertFalse(r.sawSSLv2ClientHello)
        r.feed(Array(v2.dropFirst(2)))
        assertAlert(.protocolVersion, kind: .sslv2ClientHello) { try r.nextRecord() }
        XCTAssertTrue(r.sawSSLv2ClientHello)
        // High bit set but not a client hello: an unknown content type.
        var other = RecordReader()
        other.feed([0x80, 0x2e, 0x04, 0x03, 0x01])
        assertAlert(.unexpectedMessage) { try other.nextRecord() }
        XCTAssertFalse(other.sawSSLv2ClientHello)
        // Only the first record can be one.
        var later = RecordReader()
        later.feed(plainRecord(22, [1, 0, 0, 0]) + v2)
        XCTAssertNotNil(try later.nextRecord())
        assertAlert(.unexpectedMessage) { try later.nextRecord() }
        XCTAssertFalse(later.sawSSLv2ClientHello)
    }

    // MARK: - handshake message limit

    func testHandshakeMessageLimit() throws {
        var h = HandshakeReassembler(maxMessageSize: 100)
        try h.feed([1, 0, 0, 100] + [UInt8](repeating: 0, count: 100))
        XCTAssertEqual(try h.nextMessage()?.body.count, 100)
        // Declared 101: refused as soon as the header is complete, body not sent.
        var big = HandshakeReassembler(maxMessageSize: 100)
        assertAlert(.illegalParameter, kind: .limitExceeded) { try big.feed([1, 0, 0, 101]) }
        XCTAssertEqual(big.bufferedByteCount, 0, "not buffered")
        // Header split across fragments, after a complete message in the same fragment.
        var split = HandshakeReassembler(maxMessageSize: 100)
        try split.feed([20, 0, 0, 2, 9, 9, 11, 0])
        assertAlert(.illegalParameter) { try split.feed([1, 0]) }
        // Sticky.
        assertAlert(.illegalParameter) { try split.nextMessage() }
        // The default is 65536.
        var d = HandshakeReassembler(limits: RecordLimits())
        try d.feed([11, 1, 0, 0])
        XCTAssertNil(try d.nextMessage())
        var d2 = HandshakeReassembler()
        assertAlert(.illegalParameter) { try d2.feed([11, 1, 0, 1]) }
        // Empty fragment.
        var e = HandshakeReassembler()
        assertAlert(.unexpectedMessage) { try e.feed([UInt8]()) }
    }

    // MARK: - sequence numbers

    func testSequenceNumberNeverWraps() throws {
        var (w, r) = try pair13()
        w.cipher?.sequenceNumber = .max
        r.cipher?.sequenceNumber = .max
        var out: [UInt8] = []
        try w.write(.applicationData, [1], into: &out)
        XCTAssertEqual(w.cipher?.isExhausted, true)
        XCTAssertEqual(w.cipher?.sequenceNumber, .max)
        let before = out
        assertAlert(.internalError, kind: .localFailure) { try w.write(.applicationData, [2], into: &out) }
        XCTAssertEqual(out, before, "nothing written on failure")
        r.feed(out)
        XCTAssertEqual(try r.nextRecord().map { Array($0.fragment) }, [1])
        // A further record cannot be opened.
        r.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: [1, 23]))
        assertAlert(.internalError) { try r.nextRecord() }
    }

    func testNonceUsesTheSequenceNumber() throws {
        // Record n sealed independently at sequence n reads back in order.
        var r = try reader13()
        var stream: [UInt8] = []
        for seq: UInt64 in 0..<5 { stream += try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: seq, inner: [UInt8(seq), 23]) }
        r.feed(stream)
        XCTAssertEqual(try r.drain().map(\.1), [[0], [1], [2], [3], [4]])
        // Out of order: the first record sealed at 1 fails at 0.
        var r2 = try reader13()
        r2.feed(try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 1, inner: [1, 23]))
        assertAlert(.badRecordMac) { try r2.nextRecord() }
    }

    // MARK: - rejected early data

    func testSkippingRejectedEarlyDataWithTrialDecryption() throws {
        let earlyKey = [UInt8](repeating: 0xee, count: 16)
        var r = try reader13()  // handshake key installed
        r.skipRejectedEarlyData(maxBytes: 100)
        var stream: [UInt8] = []
        stream += try seal13(.aes128GCM, key: earlyKey, iv: testIV12, seq: 0, inner: [UInt8](repeating: 1, count: 40) + [23])
        stream += try seal13(.aes128GCM, key: earlyKey, iv: testIV12, seq: 1, inner: [5, 0, 0, 0, 22])
        stream += try seal13(.aes128GCM, key: testKey16, iv: testIV12, seq: 0, inner: [20, 0, 0, 1, 7, 22])
        stream += try seal13(.aes128GCM, key: earlyKey, iv: testIV12, seq: 2, inner: [1, 23])
        r.feed(stream)
        let rec = try XCTUnwrap(try r.nextRecord())
        XCTAssertEqual(Array(rec.fragment), [20, 0, 0, 1, 7])
        XCTAssertFalse(r.isSkippingEarlyData, "a record that deprotects ends skipping")
        XCTAssertEqual(r.cipher?.sequenceNumber, 1)
        assertAlert(.badRecordMac) { try r.nextRecord() }

        var over = try reader13()
        over.skipRejectedEarlyData(maxBytes: 30)
        over.feed(try seal13(.aes128GCM, key: earlyKey, iv: testIV12, seq: 0, inner: [UInt8](repeating: 1, count: 40) + [23]))
        assertAlert(.unexpectedMessage, kind: .limitExceeded) { try over.nextRecord() }
    }

    func testSkippingEarlyDataAfterHelloRetryRequest() throws {
        var r = RecordReader()
        r.setCipher(nil, version: .tls13)
        r.skipRejectedEarlyData(maxBytes: 1000)
        r.feed(plainRecord(23, [UInt8](repeating: 3, count: 60)) + plainRecord(22, [1, 0, 0, 0]))
        XCTAssertEqual(try r.nextRecord()?.contentType, .handshake)
        XCTAssertTrue(r.isSkippingEarlyData)
        r.stopSkippingEarlyData()
        r.feed(plainRecord(23, [1]))
        assertAlert(.unexpectedMessage) { try r.nextRecord() }
    }

    // MARK: - writer refusals

    func testWriterRefusesInvalidRecords() throws {
        var w = RecordWriter()
        var out: [UInt8] = []
        assertAlert(.internalError) { try w.write(.handshake, [UInt8](), into: &out) }
        var w2 = RecordWriter()
        assertAlert(.internalError) { try w2.write(.alert, [2, 40, 0], into: &out) }
        var w3 = RecordWriter()
        assertAlert(.internalError) { try w3.write(.applicationData, [1], into: &out) }
        XCTAssertEqual(out, [])
    }

    func testCipherSetupErrors() {
        assertAlert(.internalError) { try RecordCipher.tls13(.aes128GCM, key: testKey16, iv: [1, 2, 3]) }
        assertAlert(.internalError) { try RecordCipher.tls13(.aes128GCM, key: testKey32, iv: testIV12) }
        assertAlert(.internalError) { try RecordCipher.tls12(.aes256GCM, key: testKey32, fixedIV: testIV12) }
        assertAlert(.internalError) { try RecordCipher.tls12(.chacha20Poly1305, key: testKey32, fixedIV: [1, 2, 3, 4]) }
    }
}
