import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
@testable import TLSHandshake

/// Holds the state machines to the tables in Spec/tls13-states.md.
final class StateTableTests: XCTestCase {
    struct Row { var state: String; var message: String; var next: String }

    func table(_ heading: String) throws -> [Row] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("Spec/tls13-states.md"), encoding: .utf8)
        var rows: [Row] = []
        var inSection = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("## ") { inSection = line == "## \(heading)"; continue }
            guard inSection, line.hasPrefix("| "), !line.hasPrefix("| state"), !line.hasPrefix("|---") else { continue }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3 else { continue }
            rows.append(Row(state: cells[0], message: cells[1], next: cells[2]))
        }
        XCTAssertFalse(rows.isEmpty, "no rows under \(heading)")
        return rows
    }

    func handshakeType(_ name: String) throws -> HandshakeType {
        try XCTUnwrap(HandshakeType.allCases.first { $0.name == name }, "unknown message \(name)")
    }

    // MARK: Driving the machines message by message

    final class Drive {
        let client: ClientHandshake
        let server: ServerHandshake
        var toServer: [[UInt8]] = []
        var toClient: [[UInt8]] = []

        init(clientAuth: Bool = false, forceHRR: Bool = false, clientHasCert: Bool = true) throws {
            let clientCert = TestKeys.certified("client", TestKeys.ecdsaP256)
            var (c, s) = baseConfigs()
            if clientAuth {
                s.clientAuthentication = .request
                s.peerVerifier = LabelVerifier([clientCert])
                if clientHasCert { c.certificates = [clientCert] }
            }
            if forceHRR { s.groups = [.secp256r1, .x25519]; s.insistOnPreferredGroup = true }
            client = ClientHandshake(config: c, random: ScriptedRandom(seed: [1]))
            server = ServerHandshake(config: s, random: ScriptedRandom(seed: [2]))
            collect(try client.start(), into: &toServer)
        }

        func collect(_ actions: [HandshakeAction], into queue: inout [[UInt8]]) {
            for a in actions { if case .send(let m) = a { queue.append(m) } }
        }

        /// Delivers queued messages one at a time until `done` says stop.
        func run(until done: () -> Bool) throws {
            while !done() {
                if !toServer.isEmpty {
                    let m = toServer.removeFirst()
                    collect(try server.handle(try ReceivedMessage(raw: m)), into: &toClient)
                } else if !toClient.isEmpty {
                    let m = toClient.removeFirst()
                    collect(try client.handle(try ReceivedMessage(raw: m)), into: &toServer)
                } else {
                    return
                }
            }
        }
    }

    func clientIn(_ state: ClientHandshake.State) throws -> Drive {
        let d = try Drive(clientAuth: state == .waitCertificate)
        try d.run { d.client.state == state && (state != .waitServerHello || !d.toClient.isEmpty) }
        XCTAssertEqual(d.client.state, state)
        return d
    }

    func serverIn(_ state: ServerHandshake.State) throws -> Drive {
        let d = try Drive(clientAuth: state == .waitClientCertificate || state == .waitClientCertificateVerify,
                          forceHRR: state == .waitSecondClientHello)
        try d.run {
            d.server.state == state && (state != .waitClientCertificateVerify || true)
                && (state == .waitClientHello || state == .waitSecondClientHello || d.toServer.first.map { $0[0] } == Self.firstType(for: state))
        }
        XCTAssertEqual(d.server.state, state)
        return d
    }

    static func firstType(for state: ServerHandshake.State) -> UInt8? {
        switch state {
        case .waitClientCertificate: return HandshakeType.certificate.rawValue
        case .waitClientCertificateVerify: return HandshakeType.certificateVerify.rawValue
        case .waitClientFinished: return HandshakeType.finished.rawValue
        default: return nil
        }
    }

    // MARK: Tests

    func testClientFollowsTheTable() throws {
        let rows = try table("Client")
        let states = Set(rows.map(\.state))
        for stateName in states {
            let state = try XCTUnwrap(ClientHandshake.State(rawValue: stateName), "table names unknown state \(stateName)")
            let allowed = try Set(rows.filter { $0.state == stateName }.map { try handshakeType($0.message) })
            // Every listed transition happens with the real next message.
            for row in rows where row.state == stateName {
                let d = try clientIn(state)
                let t = try handshakeType(row.message)
                if let i = d.toClient.firstIndex(where: { $0.first == t.rawValue }) {
                    let m = d.toClient.remove(at: i)
                    _ = try d.client.handle(try ReceivedMessage(raw: m))
                    XCTAssertEqual(d.client.state.rawValue, row.next, "\(stateName) + \(row.message)")
                }
            }
            // Everything else is unexpected_message.
            for t in HandshakeType.allCases where !allowed.contains(t) {
                let d = try clientIn(state)
                assertAlert(_ = try d.client.handle(ReceivedMessage(type: t, body: [0, 0], raw: [t.rawValue, 0, 0, 2, 0, 0])),
                            .unexpectedMessage, "client \(stateName) + \(t.name)")
                XCTAssertEqual(d.client.state, .failed)
            }
        }
        XCTAssertTrue(states.isSuperset(of: ClientHandshake.State.allCases.map(\.rawValue).filter { !["start", "connected", "failed", "tls12"].contains($0) }),
                      "every waiting state of the client is in the table")
    }

    func testServerFollowsTheTable() throws {
        let rows = try table("Server")
        let states = Set(rows.map(\.state))
        for stateName in states {
            let state = try XCTUnwrap(ServerHandshake.State(rawValue: stateName), "table names unknown state \(stateName)")
            let allowed = try Set(rows.filter { $0.state == stateName }.map { try handshakeType($0.message) })
            for row in rows where row.state == stateName {
                let d = try serverIn(state)
                guard let m = d.toServer.first else { continue }
                d.toServer.removeFirst()
                _ = try d.server.handle(try ReceivedMessage(raw: m))
                XCTAssertEqual(d.server.state.rawValue, row.next, "\(stateName) + \(row.message)")
            }
            for t in HandshakeType.allCases where !allowed.contains(t) {
                let d = try serverIn(state)
                assertAlert(_ = try d.server.handle(ReceivedMessage(type: t, body: [0, 0], raw: [t.rawValue, 0, 0, 2, 0, 0])),
                            .unexpectedMessage, "server \(stateName) + \(t.name)")
                XCTAssertEqual(d.server.state, .failed)
            }
        }
        XCTAssertTrue(states.isSuperset(of: ServerHandshake.State.allCases.map(\.rawValue).filter { !["connected", "failed", "tls12"].contains($0) }),
                      "every waiting state of the server is in the table")
    }
}
