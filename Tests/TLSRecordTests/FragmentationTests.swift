import XCTest
import TestSupport
import TLSCrypto
@testable import TLSRecord

final class FragmentationTests: XCTestCase {

    func message(_ type: HandshakeType, _ n: Int, seed: UInt8 = 1) -> HandshakeMessage {
        HandshakeMessage(type, body: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
    }

    /// Lengths of the records in a stream (from their headers).
    func recordLengths(_ stream: [UInt8]) -> [Int] {
        var out: [Int] = []
        var i = 0
        while i + 5 <= stream.count {
            let n = Int(stream[i + 3]) << 8 | Int(stream[i + 4])
            out.append(n)
            i += 5 + n
        }
        XCTAssertEqual(i, stream.count, "stream ends on a record boundary")
        return out
    }

    func testMessageSplitAcrossThreeRecords() throws {
        let m = message(.certificate, 250)
        var (w, r) = try pair13()
        w.maxFragmentLength = 100
        var out: [UInt8] = []
        try w.write(.handshake, m.raw, into: &out)
        XCTAssertEqual(recordLengths(out), [100 + 17, 100 + 17, 54 + 17])
        r.feed(out)
        var h = HandshakeReassembler()
        var got: [HandshakeMessage] = []
        var records = 0
        while let rec = try r.nextRecord() {
            records += 1
            try h.feed(rec.fragment)
            if records < 3 {
                XCTAssertNil(try h.nextMessage(), "incomplete after \(records) records")
                XCTAssertFalse(h.isEmpty)
            }
            while let msg = try h.nextMessage() { got.append(msg) }
        }
        XCTAssertEqual(records, 3)
        XCTAssertEqual(got, [m])
        XCTAssertEqual(got.first?.type, .certificate)
        XCTAssertTrue(h.isEmpty)
    }

    func testThreeMessagesInOneRecord() throws {
        let ms = [message(.encryptedExtensions, 10), message(.certificateRequest, 0), message(.finished, 32)]
        var (w, r) = try pair13(.chacha20Poly1305)
        var out: [UInt8] = []
        try w.write(.handshake, ms.flatMap(\.raw), into: &out)
        XCTAssertEqual(recordLengths(out).count, 1)
        r.feed(out)
        var h = HandshakeReassembler()
        try h.feed(try XCTUnwrap(try r.nextRecord()).fragment)
        var got: [HandshakeMessage] = []
        while let msg = try h.nextMessage() { got.append(msg) }
        XCTAssertEqual(got, ms)
        XCTAssertEqual(got.map(\.body.count), [10, 0, 32])
        XCTAssertTrue(h.isEmpty)
    }

    func testOneByteAtATime() throws {
        let ms = [message(.serverHello, 70), message(.certificate, 3000, seed: 9), message(.serverHelloDone, 0)]
        var (w, r) = try pair12(.aes256GCM)
        w.maxFragmentLength = 1000
        var out: [UInt8] = []
        try w.write(.handshake, ms.flatMap(\.raw), into: &out)
        try w.write(.applicationData, [1, 2, 3], into: &out)
        var h = HandshakeReassembler()
        var got: [HandshakeMessage] = []
        var app: [UInt8] = []
        for b in out {
            r.feed([b])
            while let rec = try r.nextRecord() {
                if rec.contentType == .handshake {
                    // And the reassembler one byte at a time too.
                    for x in rec.fragment {
                        try h.feed([x])
                        while let msg = try h.nextMessage() { got.append(msg) }
                    }
                } else {
                    app += rec.fragment
                }
            }
        }
        XCTAssertEqual(got, ms)
        XCTAssertEqual(app, [1, 2, 3])
        XCTAssertEqual(r.bufferedByteCount, 0)
        XCTAssertEqual(r.cipher?.sequenceNumber, 5)  // 4 handshake records + 1
    }

    func testReassemblerRawIsTheTranscriptBytes() throws {
        var h = HandshakeReassembler()
        try h.feed([99, 0, 0, 2, 0xaa])  // unknown type 99
        XCTAssertNil(try h.nextMessage())
        try h.feed([0xbb, 1])
        let m = try XCTUnwrap(try h.nextMessage())
        XCTAssertEqual(m.raw, [99, 0, 0, 2, 0xaa, 0xbb])
        XCTAssertEqual(m.body, [0xaa, 0xbb])
        XCTAssertEqual(m.typeCode, 99)
        XCTAssertNil(m.type)
        XCTAssertFalse(h.isEmpty, "a partial header is buffered")
        XCTAssertEqual(h.bufferedByteCount, 1)
    }

    // MARK: - writer fragmentation

    func testWriterFragmentsAt2To14() throws {
        let payload = (0..<40000).map { UInt8(truncatingIfNeeded: $0) }
        for make in [{ try pair13() }, { try pair12(.aes128GCM) }, { try pair12(.chacha20Poly1305) }] {
            var (w, r) = try make()
            var out: [UInt8] = []
            try w.write(.applicationData, payload, into: &out)
            let overhead = w.cipher!.overhead
            XCTAssertEqual(recordLengths(out), [16384 + overhead, 16384 + overhead, 7232 + overhead])
            XCTAssertEqual(w.cipher?.sequenceNumber, 3)
            r.feed(out)
            let got = try r.drain()
            XCTAssertEqual(got.map(\.1.count), [16384, 16384, 7232])
            XCTAssertEqual(got.flatMap(\.1), payload)
            XCTAssertEqual(r.cipher?.sequenceNumber, 3)
        }
        // Plaintext handshake records too.
        var w = RecordWriter()
        var out: [UInt8] = []
        try w.write(.handshake, payload, into: &out)
        XCTAssertEqual(recordLengths(out), [16384, 16384, 7232])
        // maxFragmentLength above 2^14 is clamped.
        var w2 = RecordWriter(maxFragmentLength: 100000)
        out.removeAll()
        try w2.write(.handshake, payload, into: &out)
        XCTAssertEqual(recordLengths(out), [16384, 16384, 7232])
    }

    func testWriterHonoursRecordSizeLimit() throws {
        let limit = 512  // record_size_limit from the peer
        var (w, r) = try pair13()
        w.maxFragmentLength = RecordLimits.contentLimit(forRecordSizeLimit: limit, version: .tls13)
        w.paddingPolicy = .padToMultiple(1024)  // padding must not break the limit
        var out: [UInt8] = []
        try w.write(.applicationData, [UInt8](repeating: 4, count: 1500), into: &out)
        let lengths = recordLengths(out)
        XCTAssertEqual(lengths.count, 3)
        for n in lengths { XCTAssertLessThanOrEqual(n - 16, limit, "TLSInnerPlaintext within record_size_limit") }
        XCTAssertEqual(lengths, [512 + 16, 512 + 16, 512 + 16])
        var limits = RecordLimits()
        limits.applyRecordSizeLimit(limit, version: .tls13)
        r.limits = limits
        r.feed(out)
        XCTAssertEqual(try r.drain().map(\.1.count), [511, 511, 478])

        var (w12, r12) = try pair12(.aes128GCM)
        w12.maxFragmentLength = RecordLimits.contentLimit(forRecordSizeLimit: 300, version: .tls12)
        out.removeAll()
        try w12.write(.applicationData, [UInt8](repeating: 4, count: 700), into: &out)
        XCTAssertEqual(recordLengths(out), [300 + 24, 300 + 24, 100 + 24])
        var limits12 = RecordLimits()
        limits12.applyRecordSizeLimit(300, version: .tls12)
        r12.limits = limits12
        r12.feed(out)
        XCTAssertEqual(try r12.drain().map(\.1.count), [300, 300, 100])
    }

    // MARK: - padding

    func testPadToMultipleLengths() throws {
        var (w, r) = try pair13()
        w.paddingPolicy = .padToMultiple(256)
        var out: [UInt8] = []
        for n in [0, 10, 255, 256, 600] {
            try w.write(.applicationData, [UInt8](repeating: 1, count: n), into: &out)
        }
        // TLSInnerPlaintext (content + type + padding) rounded up to 256; + 16 tag.
        XCTAssertEqual(recordLengths(out), [256, 256, 256, 512, 768].map { $0 + 16 })
        r.feed(out)
        XCTAssertEqual(try r.drain().map(\.1.count), [0, 10, 255, 256, 600])

        // Capped at the fragment limit.
        var (w2, _) = try pair13()
        w2.paddingPolicy = .padToMultiple(256)
        w2.maxFragmentLength = 300
        out.removeAll()
        try w2.write(.applicationData, [UInt8](repeating: 1, count: 290), into: &out)
        XCTAssertEqual(recordLengths(out), [301 + 16])
    }

    func testCustomPaddingAndClamping() throws {
        var (w, r) = try pair13()
        var calls: [(ContentType, Int, Int)] = []
        w.paddingPolicy = .custom { t, n, maxPad in calls.append((t, n, maxPad)); return 7 }
        var out: [UInt8] = []
        try w.write(.handshake, [20, 0, 0, 0], into: &out)
        try w.write(.alert, [1, 0], into: &out)
        XCTAssertEqual(recordLengths(out), [4 + 1 + 7 + 16, 2 + 1 + 7 + 16])
        XCTAssertEqual(calls.map(\.0), [.handshake, .alert])
        XCTAssertEqual(calls.map(\.1), [4, 2])
        XCTAssertEqual(calls.map(\.2), [16380, 16382])
        r.feed(out)
        XCTAssertEqual(try r.drain().map(\.1), [[20, 0, 0, 0], [1, 0]])

        // Out-of-range answers are clamped.
        var (w2, _) = try pair13()
        w2.maxFragmentLength = 50
        w2.paddingPolicy = .custom { _, _, _ in 1_000_000 }
        out.removeAll()
        try w2.write(.applicationData, [1, 2, 3], into: &out)
        XCTAssertEqual(recordLengths(out), [50 + 1 + 16])
        w2.paddingPolicy = .custom { _, _, _ in -5 }
        out.removeAll()
        try w2.write(.applicationData, [1, 2, 3], into: &out)
        XCTAssertEqual(recordLengths(out), [3 + 1 + 16])
    }

    func testPaddingIgnoredForTLS12AndPlaintext() throws {
        var (w, _) = try pair12(.chacha20Poly1305)
        w.paddingPolicy = .padToMultiple(512)
        var out: [UInt8] = []
        try w.write(.applicationData, [1, 2, 3], into: &out)
        XCTAssertEqual(recordLengths(out), [3 + 16])
        var p = RecordWriter()
        p.paddingPolicy = .padToMultiple(512)
        out.removeAll()
        try p.write(.handshake, [1, 0, 0, 0], into: &out)
        XCTAssertEqual(out, [22, 3, 1, 0, 4, 1, 0, 0, 0])
    }

    // MARK: - misc writer behaviour

    func testTLS13ChangeCipherSpecWrittenUnprotected() throws {
        var (w, r) = try pair13()
        var out: [UInt8] = []
        try w.write(.changeCipherSpec, [1], into: &out)
        XCTAssertEqual(out, [20, 3, 3, 0, 1, 1])
        XCTAssertEqual(w.cipher?.sequenceNumber, 0)
        try w.write(.applicationData, [5], into: &out)
        r.feed(out)
        let got = try r.drain()
        XCTAssertEqual(got.map(\.0), [.changeCipherSpec, .applicationData])
        XCTAssertEqual(r.cipher?.sequenceNumber, 1)
    }

    func testSequenceNumbersAdvancePerRecord() throws {
        var (w, r) = try pair12(.aes128GCM)
        var out: [UInt8] = []
        for i in 0..<10 { try w.write(.applicationData, [UInt8(i)], into: &out) }
        XCTAssertEqual(w.cipher?.sequenceNumber, 10)
        XCTAssertEqual(w.cipher?.recordsProtected, 10)
        // TLS 1.2 GCM carries the sequence number as its explicit nonce.
        XCTAssertEqual(Array(out[5..<13]), [0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(out[(5 + 25 + 5)..<(5 + 25 + 13)]), [0, 0, 0, 0, 0, 0, 0, 1])
        r.feed(out)
        XCTAssertEqual(try r.drain().map(\.1), (0..<10).map { [UInt8($0)] })
        XCTAssertEqual(r.cipher?.sequenceNumber, 10)
        XCTAssertEqual(r.cipher?.keyUpdateRecommended, false)
    }

    func testOutputBufferIsReusedWithoutReallocation() throws {
        var (w, r) = try pair13()
        var out: [UInt8] = []
        out.reserveCapacity(20000)
        let payload = [UInt8](repeating: 0x42, count: 16384)
        let base = out.withUnsafeBytes { $0.baseAddress }
        for _ in 0..<20 {
            out.removeAll(keepingCapacity: true)
            try w.write(.applicationData, payload, into: &out)
            XCTAssertEqual(out.withUnsafeBytes { $0.baseAddress }, base)
            r.feed(out)
            let rec = try XCTUnwrap(try r.nextRecord())
            XCTAssertEqual(rec.fragment.count, 16384)
        }
    }

    func testRecordVersionFollowsSetCipher() {
        var w = RecordWriter()
        XCTAssertEqual(w.recordVersion, .tls10)
        w.setCipher(nil, version: .tls13)
        XCTAssertEqual(w.recordVersion, .tls12)
        w.setCipher(nil, version: .tls12)
        XCTAssertEqual(w.recordVersion, .tls12)
        XCTAssertEqual(ProtocolVersion.tls13.description, "TLS 1.3")
        XCTAssertTrue(ProtocolVersion.tls12 < .tls13)
        XCTAssertEqual(HandshakeType.keyUpdate.rawValue, 24)
        XCTAssertEqual(HandshakeType.messageHash.name, "message_hash")
    }
}
