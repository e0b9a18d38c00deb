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
}
