import Foundation
import XCTest
import TestSupport
import TLSCrypto
@testable import TLSHandshake
@testable import TLSReplay

final class ReplayTests: XCTestCase {
    func load(_ name: String) throws -> Trace {
        try Trace(text: String(contentsOf: vectorURL("rfc8448/\(name).trace"), encoding: .utf8))
    }

    func replayAll(_ name: String, minimumChecks: Int) throws {
        var replay = TraceReplay(trace: try load(name))
        try replay.checkKeySchedule()
        try replay.replay(.client)
        try replay.replay(.server)
        XCTAssertGreaterThanOrEqual(replay.checks.count, minimumChecks, replay.checks.joined(separator: "\n"))
        XCTAssertTrue(replay.checks.contains("secret master_secret"))
        XCTAssertTrue(replay.checks.contains("message client_finished sent by our client"))
        XCTAssertTrue(replay.checks.contains("message server_finished sent by our server"))
    }

    func testRFC8448Section3SimpleHandshake() throws { try replayAll("simple-1rtt", minimumChecks: 50) }
    func testRFC8448Section5HelloRetryRequest() throws { try replayAll("hello-retry-request", minimumChecks: 50) }
    func testRFC8448Section7CompatibilityMode() throws { try replayAll("compatibility-mode", minimumChecks: 45) }

    /// Section 6: an ECDSA server asks for a certificate and an RSA client sends one. Neither
    /// private key is published, so each CertificateVerify is the RFC's own signature, checked
    /// against the content our side computed; everything else is ours, byte for byte.
    func testRFC8448Section6ClientAuthentication() throws {
        try replayAll("client-auth", minimumChecks: 45)
        var replay = TraceReplay(trace: try load("client-auth"))
        try replay.replay(.client)
        try replay.replay(.server)
        for check in ["message client_certificate sent by our client", "message client_certificate_verify sent by our client",
                      "message certificate_request sent by our server", "message certificate_verify sent by our server",
                      "client connection secret client_application_traffic_secret_0"] {
            XCTAssertTrue(replay.checks.contains(check), "missing check: \(check)")
        }
    }

    func testRFC8448Section4ResumedZeroRTT() throws {
        var replay = TraceReplay(trace: try load("resumed-0rtt"))
        try replay.checkKeySchedule()
        try replay.replay(.client)
        try replay.replay(.server)
        for check in ["secret psk_binder", "secret client_early_traffic_secret", "record client_2", "record client_3",
                      "message end_of_early_data sent by our client", "client connection secret client_early_traffic_secret",
                      "application data from the client", "application data from the server"] {
            XCTAssertTrue(replay.checks.contains(check), "missing check: \(check)")
        }
    }

    /// A replay is only worth something if it notices differences.
    func testReplayNamesTheFirstDifferingField() throws {
        var trace = try load("simple-1rtt")
        let text = trace.render()
        // Flip one byte of the server's encrypted flight.
        let tampered = text.replacingOccurrences(of: "record server_2 = 17030302a2d1", with: "record server_2 = 17030302a2d0")
        trace = try Trace(text: tampered)
        var replay = TraceReplay(trace: trace)
        XCTAssertThrowsError(try replay.replay(.client)) { e in
            XCTAssertEqual((e as? ReplayFailure)?.field, "record server_2")
        }
        XCTAssertThrowsError(try replay.replay(.server)) { e in
            XCTAssertEqual((e as? ReplayFailure)?.field, "record server_2")
        }
        let badSecret = text.replacingOccurrences(of: "secret handshake_secret = 1dc8", with: "secret handshake_secret = 1dc9")
        var r2 = TraceReplay(trace: try Trace(text: badSecret))
        XCTAssertThrowsError(try r2.checkKeySchedule()) { e in
            XCTAssertEqual((e as? ReplayFailure)?.field, "handshake_secret")
        }
    }

    func testTraceParserRejectsMalformedLines() {
        for bad in ["param x = 0", "param x = ABCD", "bogus x = 00", "param X = 00", "param x 00", "param x = 00\nparam x = 01"] {
            XCTAssertThrowsError(try Trace(text: bad), bad)
        }
        XCTAssertNoThrow(try Trace(text: "# comment\nparam x =\nsecret y = 00ff\n"))
    }
}

import TLSSocket
import TLSRecord
import X509

/// Captures written the way `tls-client --record` writes them replay on the client side.
final class CaptureReplayTests: XCTestCase {
    func capture(version: ProtocolVersion) throws -> Trace {
        let made = try SelfSignedCertificate.make(now: Int64(Date().timeIntervalSince1970), random: ScriptedRandom(seed: [9]))
        var s = TLSConfiguration()
        s.certificates = [try CertifiedKey(certificates: [made.certificate], privateKey: made.privateKey)]
        var c = TLSConfiguration()
        c.minVersion = version; c.maxVersion = version
        c.serverName = "localhost"
        c.peerVerifier = X509PeerVerifier(trustStore: TrustStore(certificates: [made.certificate]))
        (c, s) = (c, s)
        let recorder = TraceRecorder()
        c.keyLog = { label, _, secret in recorder.secret(label: label, value: secret) }
        let random = RecordingRandom(ScriptedRandom(seed: [UInt8](Array("capture\(version)".utf8))))
        let client = TLSConnection(role: .client, config: c, random: random)
        let server = TLSConnection(role: .server, config: s, random: ScriptedRandom(seed: [8]))
        client.onHandshakeMessage = { sent, raw in recorder.message(sent: sent, role: .client, raw: raw) }
        try client.start()
        for _ in 0..<8 {
            let a = client.takeOutput()
            if !a.isEmpty { recorder.wire(sent: true, role: .client, bytes: a); try server.receive(a) }
            let b = server.takeOutput()
            if !b.isEmpty { recorder.wire(sent: false, role: .client, bytes: b); try client.receive(b) }
        }
        XCTAssertEqual(client.status, .established)
        recorder.add("param", "client_random_stream", random.handedOut)
        return try Trace(text: recorder.render(header: "test capture"))
    }

    func testCapturesReplay() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            var replay = TraceReplay(trace: try capture(version: version))
            try replay.checkKeySchedule()
            try replay.replay(.client)
            XCTAssertTrue(replay.checks.contains("record client_1"), "\(version)")
            XCTAssertTrue(replay.checks.contains("message client_finished sent by our client"), "\(version)")
            if version == .tls13 {
                XCTAssertTrue(replay.checks.contains("client connection secret client_handshake_traffic_secret"))
            }
        }
    }

    func testATamperedCaptureFails() throws {
        let trace = try capture(version: .tls13)
        let text = trace.render()
        // Change one byte of the recorded randomness: our ClientHello can no longer match.
        guard let range = text.range(of: "param client_random_stream = ") else { return XCTFail("no stream") }
        var tampered = text
        let i = tampered.index(range.upperBound, offsetBy: 70)
        tampered.replaceSubrange(i...i, with: tampered[i] == "0" ? "1" : "0")
        var replay = TraceReplay(trace: try Trace(text: tampered))
        XCTAssertThrowsError(try replay.replay(.client)) { e in
            XCTAssertEqual((e as? ReplayFailure)?.field, "record client_1")
        }
    }
    /// What `tls-server --record` writes: the server's view, its randomness recorded.
    func serverCapture(version: ProtocolVersion = .tls13, hrr: Bool = false, clientAuth: Bool = false,
                       tickets: Int = 2, recordLimit: Int? = nil) throws -> Trace {
        let made = try SelfSignedCertificate.make(now: Int64(Date().timeIntervalSince1970), random: ScriptedRandom(seed: [7]))
        var s = TLSConfiguration()
        s.certificates = [try CertifiedKey(certificates: [made.certificate], privateKey: made.privateKey)]
        s.alpnProtocols = ["h2", "http/1.1"]
        s.ticketProtector = LimitsTestTickets()
        s.sessionTicketCount = tickets
        s.recordSizeLimit = recordLimit
        s.insistOnPreferredGroup = hrr
        s.helloRetryCookie = hrr ? { Array("cookie".utf8) + $0.prefix(4) } : nil
        var c = TLSConfiguration()
        c.minVersion = version; c.maxVersion = version
        c.serverName = "localhost"
        c.alpnProtocols = ["http/1.1"]
        c.recordSizeLimit = recordLimit.map { $0 + 100 }
        c.peerVerifier = X509PeerVerifier(trustStore: TrustStore(certificates: [made.certificate]))
        if hrr { c.groups = [.secp256r1, .x25519]; c.keyShareGroups = [.secp256r1] }
        if clientAuth {
            let clientCert = try SelfSignedCertificate.make(names: ["client"], now: Int64(Date().timeIntervalSince1970),
                                                            random: ScriptedRandom(seed: [5]))
            c.certificates = [try CertifiedKey(certificates: [clientCert.certificate], privateKey: clientCert.privateKey)]
            s.clientAuthentication = .request
            s.peerVerifier = CaptureVerifier()  // the made certificate is for serverAuth
        }
        let recorder = TraceRecorder()
        s.keyLog = { label, _, secret in recorder.secret(label: label, value: secret) }
        let random = RecordingRandom(ScriptedRandom(seed: Array("server-capture-\(version)-\(hrr)-\(clientAuth)".utf8)))
        let client = TLSConnection(role: .client, config: c, random: ScriptedRandom(seed: [4]))
        let server = TLSConnection(role: .server, config: s, random: random)
        server.onHandshakeMessage = { sent, raw in recorder.message(sent: sent, role: .server, raw: raw) }
        try client.start()
        for _ in 0..<8 {
            let a = client.takeOutput()
            if !a.isEmpty { recorder.wire(sent: false, role: .server, bytes: a); try server.receive(a) }
            let b = server.takeOutput()
            if !b.isEmpty { recorder.wire(sent: true, role: .server, bytes: b); try client.receive(b) }
        }
        XCTAssertEqual(server.status, .established)
        XCTAssertEqual(server.negotiated?.usedHelloRetryRequest, hrr)
        recorder.add("param", "server_random_stream", random.handedOut)
        return try Trace(text: recorder.render(header: "test server capture"))
    }

    /// Captures written the way `tls-server --record` writes them replay on the server side:
    /// the suite, group, ALPN, record size limit, HelloRetryRequest cookie, certificate
    /// request and tickets are taken from the capture, the signature is the recorded one.
    func testServerCapturesReplay() throws {
        for (hrr, auth, tickets, limit) in [(false, false, 2, nil), (true, false, 1, 1000), (false, true, 0, nil), (true, true, 2, 512)] as [(Bool, Bool, Int, Int?)] {
            let what = "hrr \(hrr), client auth \(auth), tickets \(tickets), limit \(String(describing: limit))"
            let trace = try serverCapture(hrr: hrr, clientAuth: auth, tickets: tickets, recordLimit: limit)
            var replay = TraceReplay(trace: trace)
            try replay.replay(.server)
            XCTAssertTrue(replay.checks.contains("record server_1"), what)
            XCTAssertTrue(replay.checks.contains("message server_finished sent by our server"), what)
            XCTAssertTrue(replay.checks.contains("server connection secret server_application_traffic_secret_0"), what)
            XCTAssertEqual(replay.checks.contains("message hello_retry_request sent by our server"), hrr, what)
            XCTAssertEqual(replay.checks.contains("message certificate_request sent by our server"), auth, what)
            XCTAssertEqual(replay.checks.contains("message new_session_ticket sent by our server"), tickets > 0, what)
            // A capture replays only on the side that recorded it.
            var other = TraceReplay(trace: trace)
            XCTAssertThrowsError(try other.replay(.client), what) { e in XCTAssertEqual((e as? ReplayFailure)?.field, "side") }
        }
    }

    func testATamperedServerCaptureFails() throws {
        let text = try serverCapture().render()
        // One byte of the server's randomness (its key share) changed: the transcript differs,
        // so the recorded signature no longer verifies over what our server would sign.
        guard let range = text.range(of: "param server_random_stream = ") else { return XCTFail("no stream") }
        var tampered = text
        let i = tampered.index(range.upperBound, offsetBy: 10)
        tampered.replaceSubrange(i...i, with: tampered[i] == "0" ? "1" : "0")
        var replay = TraceReplay(trace: try Trace(text: tampered))
        XCTAssertThrowsError(try replay.replay(.server)) { e in
            XCTAssertEqual((e as? ReplayFailure)?.field, "record client_1", "\(e)")
            XCTAssertTrue("\(e)".contains("signing failed"), "\(e)")
        }
        // TLS 1.2 server captures are refused by name, not replayed wrongly.
        var twelve = TraceReplay(trace: try serverCapture(version: .tls12))
        XCTAssertThrowsError(try twelve.replay(.server)) { e in
            XCTAssertEqual((e as? ReplayFailure)?.field, "server_hello", "\(e)")
        }
    }
}

/// Tickets in the clear (the replay never opens them).
final class LimitsTestTickets: TicketProtector {
    func seal(_ plaintext: [UInt8]) -> [UInt8]? { Array("T".utf8) + plaintext.prefix(40) }
    func open(_ ticket: [UInt8]) -> [UInt8]? { nil }
}
