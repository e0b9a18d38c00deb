import XCTest
import TestSupport
import TLSCrypto
@testable import TLSRecord

/// Known answers from RFC 8448 (Vectors/rfc8448): every record is read back
/// with RecordReader and rewritten byte for byte with RecordWriter.
final class TraceTests: XCTestCase {

    // MARK: - RFC 8448 section 3, spelled out

    func testSimple1RTTServerRecordsDecrypt() throws {
        let t = try Trace("rfc8448/simple-1rtt.trace")
        // The client's view: one reader for everything the server sent, fed all
        // at once, with keys changed between records.
        var stream: [UInt8] = []
        for name in ["server_1", "server_2", "server_3", "server_4", "server_5"] { stream += try t.value(name) }
        var reader = RecordReader()
        reader.feed(stream)

        let r1 = try XCTUnwrap(reader.nextRecord())
        XCTAssertEqual(r1.contentType, .handshake)
        XCTAssertEqual(r1.version, .tls12)
        XCTAssertFalse(r1.wasProtected)
        XCTAssertEqual(Array(r1.fragment), try t.value("server_hello"))

        let hs = try RecordCipher.tls13(.aes128GCM, key: try t.value("server_handshake_write_key"),
                                        iv: try t.value("server_handshake_write_iv"))
        reader.setCipher(hs, version: .tls13)
        let r2 = try XCTUnwrap(reader.nextRecord())
        XCTAssertEqual(r2.contentType, .handshake)
        XCTAssertTrue(r2.wasProtected)
        let flight = try ["encrypted_extensions", "certificate", "certificate_verify", "server_finished"].map { try t.value($0) }
        XCTAssertEqual(Array(r2.fragment), flight.flatMap { $0 })
        XCTAssertEqual(hs.sequenceNumber, 1)

        // The flight splits into its four messages.
        var reassembler = HandshakeReassembler()
        try reassembler.feed(r2.fragment)
        var messages: [HandshakeMessage] = []
        while let m = try reassembler.nextMessage() { messages.append(m) }
        XCTAssertEqual(messages.map(\.raw), flight)
        XCTAssertEqual(messages.map(\.type), [.encryptedExtensions, .certificate, .certificateVerify, .finished])
        XCTAssertEqual(messages[3].body, Array(flight[3].dropFirst(4)))
        XCTAssertTrue(reassembler.isEmpty)

        let ap = try RecordCipher.tls13(.aes128GCM, key: try t.value("server_application_write_key"),
                                        iv: try t.value("server_application_write_iv"))
        reader.setCipher(ap, version: .tls13)
        let r3 = try XCTUnwrap(reader.nextRecord())
        XCTAssertEqual(r3.contentType, .handshake)
        XCTAssertEqual(Array(r3.fragment), try t.value("new_session_ticket"))
        let r4 = try XCTUnwrap(reader.nextRecord())
        XCTAssertEqual(r4.contentType, .applicationData)
        XCTAssertEqual(Array(r4.fragment), try t.value("server_application_data"))
        let r5 = try XCTUnwrap(reader.nextRecord())
        XCTAssertEqual(r5.contentType, .alert)
        XCTAssertEqual(Array(r5.fragment), try t.value("server_alert"))
        XCTAssertEqual(try Alert(bytes: r5.fragment), .closeNotify)
        XCTAssertNil(try reader.nextRecord())
        XCTAssertEqual(reader.bufferedByteCount, 0)
        XCTAssertEqual(ap.sequenceNumber, 3)
        XCTAssertEqual(ap.recordsProtected, 3)
    }

    func testSimple1RTTClientRecordsDecrypt() throws {
        let t = try Trace("rfc8448/simple-1rtt.trace")
        var reader = RecordReader()
        reader.feed(try t.value("client_1"))
        let r1 = try XCTUnwrap(reader.nextRecord())
        XCTAssertEqual(r1.version, .tls10)
        XCTAssertEqual(Array(r1.fragment), try t.value("client_hello"))

        reader.setCipher(try .tls13(.aes128GCM, key: try t.value("client_handshake_write_key"),
                                    iv: try t.value("client_handshake_write_iv")), version: .tls13)
        reader.feed(try t.value("client_2"))
        let r2 = try XCTUnwrap(reader.nextRecord())
        XCTAssertEqual(r2.contentType, .handshake)
        XCTAssertEqual(Array(r2.fragment), try t.value("client_finished"))

        reader.setCipher(try .tls13(.aes128GCM, key: try t.value("client_application_write_key"),
                                    iv: try t.value("client_application_write_iv")), version: .tls13)
        reader.feed(try t.value("client_3") + t.value("client_4"))
        let got = try reader.drain()
        XCTAssertEqual(got.map(\.0), [.applicationData, .alert])
        XCTAssertEqual(got.map(\.1), [try t.value("client_application_data"), try t.value("client_alert")])
    }

    func testSimple1RTTReencryptsIdentically() throws {
        let t = try Trace("rfc8448/simple-1rtt.trace")
        // Server side.
        var w = RecordWriter()
        w.setCipher(nil, version: .tls13)
        var out: [UInt8] = []
        try w.write(.handshake, try t.value("server_hello"), into: &out)
        XCTAssertEqual(out, try t.value("server_1"))

        out.removeAll(keepingCapacity: true)
        w.setCipher(try .tls13(.aes128GCM, key: try t.value("server_handshake_write_key"),
                               iv: try t.value("server_handshake_write_iv")), version: .tls13)
        let flight = try ["encrypted_extensions", "certificate", "certificate_verify", "server_finished"].flatMap { try t.value($0) }
        try w.write(.handshake, flight, into: &out)
        XCTAssertEqual(out, try t.value("server_2"))

        out.removeAll(keepingCapacity: true)
        w.setCipher(try .tls13(.aes128GCM, key: try t.value("server_application_write_key"),
                               iv: try t.value("server_application_write_iv")), version: .tls13)
        try w.write(.handshake, try t.value("new_session_ticket"), into: &out)
        try w.write(.applicationData, try t.value("server_application_data"), into: &out)
        try w.write(.alert, Alert.closeNotify.encode(), into: &out)
        XCTAssertEqual(out, try t.value("server_3") + t.value("server_4") + t.value("server_5"))
        XCTAssertEqual(w.cipher?.sequenceNumber, 3)

        // Client side: the first ClientHello goes out with record version 0x0301.
        var c = RecordWriter()
        out.removeAll(keepingCapacity: true)
        try c.write(.handshake, try t.value("client_hello"), into: &out)
        XCTAssertEqual(out, try t.value("client_1"))
        out.removeAll(keepingCapacity: true)
        c.setCipher(try .tls13(.aes128GCM, key: try t.value("client_handshake_write_key"),
                               iv: try t.value("client_handshake_write_iv")), version: .tls13)
        try c.write(.handshake, try t.value("client_finished"), into: &out)
        XCTAssertEqual(out, try t.value("client_2"))
        out.removeAll(keepingCapacity: true)
        c.setCipher(try .tls13(.aes128GCM, key: try t.value("client_application_write_key"),
                               iv: try t.value("client_application_write_iv")), version: .tls13)
        try c.write(.applicationData, try t.value("client_application_data"), into: &out)
        try c.write(.alert, try t.value("client_alert"), into: &out)
        XCTAssertEqual(out, try t.value("client_3") + t.value("client_4"))
    }

    // MARK: - every record of every trace, driven by the record comments

    func testAllTracesRoundTrip() throws {
        let files = ["simple-1rtt", "resumed-0rtt", "hello-retry-request", "client-auth", "compatibility-mode"]
        var protectedCount = 0
        var total = 0
        for file in files {
            let t = try Trace("rfc8448/\(file).trace")
            XCTAssertGreaterThanOrEqual(t.records.count, 6, file)
            for side in ["client", "server"] {
                for byteAtATime in [false, true] {
                    let (p, n) = try replay(t, side: side, byteAtATime: byteAtATime, file: file)
                    if !byteAtATime { protectedCount += p; total += n }
                }
            }
        }
        XCTAssertEqual(total, 9 + 10 + 8 + 6 + 8)
        XCTAssertEqual(protectedCount, 7 + 8 + 4 + 4 + 4)
    }

    /// Reads one side's records in order through one reader (and rewrites them
    /// through one writer), changing keys where the comments say. Returns
    /// (protected records, records).
    private func replay(_ t: Trace, side: String, byteAtATime: Bool, file: String) throws -> (Int, Int) {
        let records = t.records.filter { $0.side == side }
        var reader = RecordReader()
        var writer = RecordWriter()
        var reassembler = HandshakeReassembler()
        var currentKey: String? = nil
        var stream: [UInt8] = []
        for r in records { stream += r.bytes }
        var fed = 0
        var protectedCount = 0
        var messagesSeen: [[UInt8]] = []
        var expectedMessages: [[UInt8]] = []

        for (index, entry) in records.enumerated() {
            let d = try RecordDescription(entry.comment)
            let context = "\(file) \(entry.name)"
            if let prefix = d.keyPrefix, prefix != currentKey {
                let k = try t.value(prefix + "_write_key"), iv = try t.value(prefix + "_write_iv")
                reader.setCipher(try .tls13(.aes128GCM, key: k, iv: iv), version: .tls13)
                writer.setCipher(try .tls13(.aes128GCM, key: k, iv: iv), version: .tls13)
                currentKey = prefix
            }
            if d.keyPrefix != nil {
                protectedCount += 1
                XCTAssertEqual(reader.cipher?.sequenceNumber, d.sequence, context)
                XCTAssertEqual(writer.cipher?.sequenceNumber, d.sequence, context)
            }
            let expected = try d.content(in: t)

            // Read.
            var record: Record? = nil
            if byteAtATime {
                while record == nil {
                    record = try reader.nextRecord()
                    if record == nil {
                        guard fed < stream.count else { XCTFail("ran out of bytes at \(context)"); return (0, 0) }
                        reader.feed(Array(stream[fed..<(fed + 1)]))
                        fed += 1
                    }
                }
            } else {
                if index == 0 { reader.feed(stream) }
                record = try reader.nextRecord()
            }
            let got = try XCTUnwrap(record, context)
            XCTAssertEqual(got.contentType, d.type, context)
            XCTAssertEqual(Array(got.fragment), expected, context)
            XCTAssertEqual(got.wasProtected, d.keyPrefix != nil, context)
            if got.contentType == .handshake {
                try reassembler.feed(got.fragment)
                while let m = try reassembler.nextMessage() { messagesSeen.append(m.raw) }
                expectedMessages += try d.carried.map { try t.value($0) }
                XCTAssertTrue(reassembler.isEmpty, "trace records end on message boundaries: \(context)")
            }

            // Write.
            if index == 0 && side == "client" {
                XCTAssertEqual(writer.recordVersion, .tls10)
            } else if writer.cipher == nil {
                writer.setCipher(nil, version: .tls13)
            }
            var out: [UInt8] = []
            try writer.write(d.type, expected, into: &out)
            XCTAssertEqual(out, entry.bytes, context)
            if index == 0 { reader.setCipher(nil, version: .tls13) }
        }
        XCTAssertNil(try reader.nextRecord())
        XCTAssertEqual(reader.bufferedByteCount, 0)
        XCTAssertEqual(messagesSeen, expectedMessages, "\(file) \(side)")
        return (protectedCount, records.count)
    }
}
