import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
@testable import TLSHandshake

/// Holds the TLS 1.2 machines to Spec/tls12-states.md.
final class TLS12StateTableTests: XCTestCase {
    struct Row { var state: String; var message: String; var next: String }

    func table(_ heading: String) throws -> [Row] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("Spec/tls12-states.md"), encoding: .utf8)
        var rows: [Row] = []
        var inSection = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("## ") { inSection = line.hasPrefix("## \(heading)"); continue }
            guard inSection, line.hasPrefix("| "), !line.hasPrefix("| state"), !line.hasPrefix("|---") else { continue }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3 else { continue }
            rows.append(Row(state: cells[0], message: cells[1], next: cells[2]))
        }
        XCTAssertFalse(rows.isEmpty)
        return rows
    }

    enum Item { case message([UInt8]), ccs }

    /// A client and server joined message by message; change_cipher_spec travels as its own item.
    final class Drive {
        let client: ClientHandshake
        let server: ServerHandshake
        var toServer: [Item] = []
        var toClient: [Item] = []

        init(clientAuth: Bool = false, resumeWith session: StoredSession? = nil, ticket: Bool = false, ocsp: Bool = false) throws {
            var serverKey = TestKeys.certified("p256", TestKeys.ecdsaP256)
            if ocsp { serverKey.ocspResponse = [0x30, 0x03, 0x0a, 0x01, 0x00] }
            let clientCert = TestKeys.certified("client", TestKeys.ecdsaP384)
            var (c, s) = baseConfigs(serverKey: serverKey)
            c.minVersion = .tls12; c.maxVersion = .tls12
            s.minVersion = .tls12; s.maxVersion = .tls12
            if clientAuth {
                s.clientAuthentication = .request
                s.peerVerifier = LabelVerifier([clientCert])
                c.certificates = [clientCert]
            }
            if ticket { s.ticketProtector = IdentityProtector() }
            if ocsp { c.requestOCSPStapling = true }
            if let session { c.resumeSession = session; s.ticketProtector = IdentityProtector() }
            client = ClientHandshake(config: c, random: ScriptedRandom(seed: [4]))
            server = ServerHandshake(config: s, random: ScriptedRandom(seed: [5]))
            collect(try client.start(), into: &toServer)
        }

        func collect(_ actions: [HandshakeAction], into queue: inout [Item]) {
            for a in actions {
                switch a {
                case .send(let m): queue.append(.message(m))
                case .sendChangeCipherSpec: queue.append(.ccs)
                default: break
                }
            }
        }

        func deliver(_ item: Item, toServer: Bool) throws {
            switch (item, toServer) {
            case (.message(let m), true): collect(try server.handle(try ReceivedMessage(raw: m)), into: &toClient)
            case (.message(let m), false): collect(try client.handle(try ReceivedMessage(raw: m)), into: &self.toServer)
            case (.ccs, true): collect(try server.receivedChangeCipherSpec(), into: &toClient)
            case (.ccs, false): collect(try client.receivedChangeCipherSpec(), into: &self.toServer)
            }
        }

        func run(until done: () -> Bool) throws {
            while !done() {
                if !toServer.isEmpty { try deliver(toServer.removeFirst(), toServer: true) }
                else if !toClient.isEmpty { try deliver(toClient.removeFirst(), toServer: false) }
                else { return }
            }
        }
    }

    func type(_ name: String) throws -> HandshakeType? {
        if name == "change_cipher_spec" { return nil }
        return try XCTUnwrap(HandshakeType.allCases.first { $0.name == name }, "unknown message \(name)")
    }

    func head(_ queue: [Item]) -> String {
        switch queue.first {
        case .message(let m)?: return HandshakeType(rawValue: m[0])?.name ?? "?"
        case .ccs?: return "change_cipher_spec"
        case nil: return "none"
        }
    }

    /// Drives until `side` is in `state` with `message` next in its queue.
    func drive(client: Bool, to state: String, next message: String) throws -> Drive? {
        for variant in 0..<4 {
            let d = try Drive(clientAuth: variant == 1, ticket: variant == 2, ocsp: variant == 3)
            try d.run {
                let s = client ? d.client.tls12State : d.server.tls12State
                return s == state && head(client ? d.toClient : d.toServer) == message
            }
            let s = client ? d.client.tls12State : d.server.tls12State
            if s == state && head(client ? d.toClient : d.toServer) == message { return d }
        }
        return nil
    }

    func check(client: Bool) throws {
        let rows = try table(client ? "Client" : "Server")
        for row in rows {
            let d = try XCTUnwrap(try drive(client: client, to: row.state, next: row.message), "cannot reach \(row.state) with \(row.message) next")
            let item = client ? d.toClient.removeFirst() : d.toServer.removeFirst()
            try d.deliver(item, toServer: !client)
            XCTAssertEqual(client ? d.client.tls12State : d.server.tls12State, row.next, "\(row.state) + \(row.message)")
        }
        // Every other message in each state is unexpected_message; so is a stray change_cipher_spec.
        for state in Set(rows.map(\.state)) {
            let allowed = rows.filter { $0.state == state }
            guard let d0 = try drive(client: client, to: state, next: allowed[0].message) else { continue }
            _ = d0
            for t in HandshakeType.allCases where !allowed.contains(where: { $0.message == t.name }) {
                let d = try XCTUnwrap(try drive(client: client, to: state, next: allowed[0].message))
                let m = ReceivedMessage(type: t, body: [0, 0], raw: [t.rawValue, 0, 0, 2, 0, 0])
                assertAlert(_ = try (client ? d.client.handle(m) : d.server.handle(m)), .unexpectedMessage, "\(state) + \(t.name)")
            }
            if !allowed.contains(where: { $0.message == "change_cipher_spec" }) {
                let d = try XCTUnwrap(try drive(client: client, to: state, next: allowed[0].message))
                assertAlert(_ = try (client ? d.client.receivedChangeCipherSpec() : d.server.receivedChangeCipherSpec()),
                            .unexpectedMessage, "\(state) + change_cipher_spec")
            }
        }
    }

    func testClientFollowsTheTable() throws { try check(client: true) }
    func testServerFollowsTheTable() throws { try check(client: false) }
}
