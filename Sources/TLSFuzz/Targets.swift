import TLSCrypto
import TLSRecord
import TLSHandshake
import X509
import TLSSocket

/// One fuzz target: a surface that must return normally for every input
/// (malformed input is a specific error, caught inside; never a trap).
public struct FuzzTarget {
    public let name: String
    public let summary: String
    public let run: ([UInt8]) -> Void
}

/// The fuzz targets of tls-fuzz, shared with the replay test.
public enum FuzzTargets {
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "record", summary: "RecordReader + HandshakeReassembler + alerts; byte 0 picks plaintext/TLS 1.3/TLS 1.2 protection and the feed size",
                   run: record),
        FuzzTarget(name: "handshake13", summary: "TLS 1.3 handshake message decoders (a stream of type/length/body messages)",
                   run: { TLSHandshakeFuzz.decodeMessages($0, tls13: true) }),
        FuzzTarget(name: "handshake12", summary: "TLS 1.2 handshake message decoders (a stream of type/length/body messages)",
                   run: { TLSHandshakeFuzz.decodeMessages($0, tls13: false) }),
        FuzzTarget(name: "extensions", summary: "extension codecs: 2-byte extension type, then its data",
                   run: { TLSHandshakeFuzz.decodeExtensionEntry($0) }),
        FuzzTarget(name: "x509", summary: "X.509 certificates, PEM, private and public keys, names",
                   run: { X509Fuzz.parseEverything($0) }),
        FuzzTarget(name: "server", summary: "server TLSConnection fed arbitrary client bytes (deterministic randomness and clock)",
                   run: server),
        FuzzTarget(name: "client", summary: "client TLSConnection fed arbitrary server bytes after its fixed ClientHello",
                   run: client),
        FuzzTarget(name: "ciphers", summary: "OpenSSL cipher strings (CipherString.parse/select), as UTF-8 text",
                   run: ciphers),
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    // MARK: - record layer

    static func record(_ data: [UInt8]) {
        guard let control = data.first else { return }
        let stream = Array(data.dropFirst())
        var reader = RecordReader()
        var reassembler = HandshakeReassembler(limits: reader.limits)
        switch control & 3 {
        case 1:
            if let c = try? RecordCipher.tls13(.aes128GCM, key: [UInt8](repeating: 1, count: 16), iv: [UInt8](repeating: 2, count: 12)) {
                reader.setCipher(c, version: .tls13)
            }
        case 2:
            if let c = try? RecordCipher.tls12(.chacha20Poly1305, key: [UInt8](repeating: 1, count: 32), fixedIV: [UInt8](repeating: 2, count: 12)) {
                reader.setCipher(c, version: .tls12)
            }
        case 3:
            reader.skipRejectedEarlyData(maxBytes: 1000)
        default:
            break
        }
        if control & 4 != 0 { reader.acceptsPlaintextAlerts = true }
        // Feed in chunks of 1..32 bytes (by bits 3-7) or all at once (0).
        let chunk = Int(control >> 3)
        var offset = 0
        repeat {
            let end = chunk == 0 ? stream.count : min(stream.count, offset + chunk)
            reader.feed(stream[offset..<end])
            offset = end
            do {
                while let r = try { () throws -> Record? in
                    do { return try reader.nextRecord() } catch let first {
                        // Errors are sticky: the next call must throw again, not trap or go on.
                        do { _ = try reader.nextRecord(); preconditionFailure("record reader error is not sticky") } catch {}
                        throw first
                    }
                }() {
                    switch r.contentType {
                    case .handshake:
                        try reassembler.feed(r.fragment)
                        while let m = try reassembler.nextMessage() { _ = m.type }
                    case .alert:
                        _ = try? Alert(bytes: r.fragment)
                    default:
                        break
                    }
                }
            } catch {
                return
            }
        } while offset < stream.count
    }

    // MARK: - cipher strings

    static func ciphers(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        if let s = try? CipherString.select(text) {
            // What is selected is a subset of the catalog, without duplicates.
            precondition(Set(s.entries).count == s.entries.count, "duplicate suites in a selection")
            precondition(Set(s.tls13Suites).count == s.tls13Suites.count, "duplicate TLS 1.3 suites")
            // parse = select + the check that something implemented was selected.
            _ = try? CipherString.requireImplemented(s, string: text)
        }
    }

    // MARK: - connections

    static func server(_ data: [UInt8]) {
        let conn = FuzzPeers.server()
        // Two receives: the first half then the rest (partial records are buffered).
        let half = data.count / 2
        if (try? conn.receive(Array(data[..<half]))) != nil {
            _ = try? conn.receive(Array(data[half...]))
        }
        _ = conn.takeOutput()
        FuzzPeers.exercise(conn)
    }

    static func client(_ data: [UInt8]) {
        let conn = FuzzPeers.client()
        _ = try? conn.start()
        _ = conn.takeOutput()
        let half = data.count / 2
        if (try? conn.receive(Array(data[..<half]))) != nil {
            _ = try? conn.receive(Array(data[half...]))
        }
        _ = conn.takeOutput()
        FuzzPeers.exercise(conn)
    }
}

/// The fixed peers the connection targets drive, also used to record seed
/// corpora over real sockets (`tls-fuzz capture-server` / `capture-client`):
/// with the same randomness and clock the recorded peer bytes replay exactly.
public enum FuzzPeers {
    /// 2026-11-01T00:00:00Z: the certificate is valid then and the clock says so.
    /// Replay with -v: print where each connection got to.
    nonisolated(unsafe) public static var verbose = false

    public static let nowSeconds: Int64 = 1_793_491_200

    static let serverCredential: CertifiedKey? = {
        guard let made = try? SelfSignedCertificate.make(names: ["localhost", "127.0.0.1"], validDays: 3650,
                                                         now: nowSeconds - 86400, random: ScriptedRandom(seed: Array("fuzz-server-cert".utf8))),
              var key = try? CertifiedKey(certificates: [made.certificate], privateKey: made.privateKey) else { return nil }
        // Stapled when a client asks (status_request): any DER will do, the client hands it over as received.
        key.ocspResponse = [0x30, 0x03, 0x0a, 0x01, 0x00]
        return key
    }()

    static let clientCredential: CertifiedKey? = {
        guard let made = try? SelfSignedCertificate.make(names: ["fuzz-client"], validDays: 3650,
                                                         now: nowSeconds - 86400, random: ScriptedRandom(seed: Array("fuzz-client-cert".utf8))),
              let key = try? CertifiedKey(certificates: [made.certificate], privateKey: made.privateKey) else { return nil }
        return key
    }()

    /// Tickets are the session in the clear behind a tag: a fuzzer can write any session.
    final class ClearTickets: TicketProtector {
        static let tag: [UInt8] = Array("FZTK".utf8)
        func seal(_ plaintext: [UInt8]) -> [UInt8]? { ClearTickets.tag + plaintext }
        func open(_ ticket: [UInt8]) -> [UInt8]? {
            guard ticket.starts(with: ClearTickets.tag) else { return nil }
            return Array(ticket.dropFirst(ClearTickets.tag.count))
        }
    }

    final class Sessions: ServerSessionStore {
        var stored: [[UInt8]: StoredSession] = [:]
        func store(id: [UInt8], session: StoredSession) { if stored.count < 16 { stored[id] = session } }
        func lookup(id: [UInt8]) -> StoredSession? { stored[id] }
        func remove(id: [UInt8]) { stored[id] = nil }
    }

    final class AntiReplay: EarlyDataAntiReplay {
        var seen = Set<[UInt8]>()
        func firstUse(_ id: [UInt8], expiresAtMillis: UInt64) -> Bool { seen.insert(id).inserted }
    }

    /// The server configuration of the `server` target.
    public static func serverConfig() -> TLSConfiguration {
        var c = TLSConfiguration()
        if let k = serverCredential { c.certificates = [k] }
        c.alpnProtocols = ["h2", "http/1.1"]
        c.clientAuthentication = .request
        c.peerVerifier = X509PeerVerifier(trustStore: nil)
        c.clock = { UInt64(nowSeconds) * 1000 }
        c.serverSessionStore = Sessions()
        c.ticketProtector = ClearTickets()
        c.antiReplay = AntiReplay()
        c.maxEarlyDataSize = 16384
        c.sessionTicketCount = 1
        c.helloRetryCookie = { Array("cookie".utf8) + $0 }
        c.recordSizeLimit = 4096
        // psk_ke reachable too: used when a resuming hello has no share we can use.
        c.pskKeyExchangeModes = [.pskDHE, .psk]
        return c
    }

    /// The client configuration of the `client` target.
    public static func clientConfig() -> TLSConfiguration {
        var c = TLSConfiguration()
        c.serverName = "localhost"
        c.alpnProtocols = ["h2", "http/1.1"]
        c.keyShareGroups = [.x25519]
        c.peerVerifier = X509PeerVerifier(trustStore: nil)
        c.clock = { UInt64(nowSeconds) * 1000 }
        let credential = clientCredential
        c.clientCertificateProvider = { _ in credential }
        c.requestOCSPStapling = true
        c.recordSizeLimit = 2048
        return c
    }

    public static func server() -> TLSConnection {
        TLSConnection(role: .server, config: serverConfig(), random: ScriptedRandom(seed: Array("fuzz-server".utf8)))
    }

    public static func client() -> TLSConnection {
        TLSConnection(role: .client, config: clientConfig(), random: ScriptedRandom(seed: Array("fuzz-client".utf8)))
    }

    /// What an application does with a connection after feeding it: read,
    /// write, update keys, renegotiate, export, close. None of it may trap.
    public static func exercise(_ conn: TLSConnection) {
        if verbose {
            print("  \(conn.role): \(conn.status)", conn.negotiated.map { "\($0.version) \($0.cipherSuite) resumed=\($0.resumed) hrr=\($0.usedHelloRetryRequest) early=\(String(describing: $0.earlyDataAccepted))" } ?? "",
                  conn.failure.map { "\($0)" } ?? "", "plaintext=\(conn.bufferedPlaintextCount)")
        }
        while let chunk = conn.read(maxLength: 4096), !chunk.isEmpty {}
        if conn.status == .established {
            _ = try? conn.write(Array("fuzz".utf8))
            _ = try? conn.exportKeyingMaterial(label: "EXPORTER-fuzz", context: [], length: 32)
            _ = try? conn.updateKeys(requestPeerUpdate: true)
            _ = try? conn.renegotiate()
        }
        conn.close()
        _ = conn.takeOutput()
    }
}
