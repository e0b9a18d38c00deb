import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TLSHandshake
import X509
@testable import TLSSocket

/// Python's `ssl.wrap_socket`: every parameter, the lazy client context, the
/// listening server socket, `do_handshake`, ragged EOFs, cipher strings, and
/// the version table.
final class WrapSocketTests: XCTestCase {
    let f = Fixtures.shared

    /// A wrapped listening server; `serve` runs on the accepted (already handshaken) socket.
    private func wrappedServer(certfile: String? = nil, keyfile: String? = nil, certReqs: CertRequirements? = nil,
                               caCerts: String? = nil, sslVersion: SSLProtocol = .sslv23, ciphers: String? = nil,
                               doHandshakeOnConnect: Bool = true, suppressRaggedEOFs: Bool = true,
                               serve: @escaping (SSLSocket) throws -> Void = { c in
                                   let line = try c.readline(timeout: .seconds(20)); try c.sendall(line)
                               }) throws -> (NetworkAddress, Background<Void>, Socket) {
        let plain = try Socket()
        try plain.bind(.loopback())
        try plain.listen()
        let listener = try wrapSocket(plain, keyfile: keyfile, certfile: certfile ?? f.path("server-combined.pem"), serverSide: true,
                                      certReqs: certReqs, sslVersion: sslVersion, caCerts: caCerts,
                                      doHandshakeOnConnect: doHandshakeOnConnect, suppressRaggedEOFs: suppressRaggedEOFs, ciphers: ciphers)
        XCTAssertEqual(plain.fileno(), -1, "wrapSocket takes the descriptor over")
        let address = try listener.getSockName()
        let server = Background {
            defer { listener.close() }
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try serve(c)
        }
        return (address, server, listener)
    }

    private func wrappedClient(_ address: NetworkAddress, certfile: String? = nil, keyfile: String? = nil,
                               certReqs: CertRequirements? = .required, caCerts: String? = nil, sslVersion: SSLProtocol = .sslv23,
                               ciphers: String? = nil, doHandshakeOnConnect: Bool = true, suppressRaggedEOFs: Bool = true,
                               serverHostname: String? = "localhost") throws -> SSLSocket {
        let s = try wrapSocket(try Socket(), keyfile: keyfile, certfile: certfile, certReqs: certReqs, sslVersion: sslVersion,
                               caCerts: certReqs == nil || certReqs == CertRequirements.none ? caCerts : (caCerts ?? f.path("ca.pem")),
                               doHandshakeOnConnect: doHandshakeOnConnect,
                               suppressRaggedEOFs: suppressRaggedEOFs, ciphers: ciphers, serverHostname: serverHostname)
        try s.connect(address, timeout: .seconds(10))
        return s
    }

    private func echo(_ s: SSLSocket, _ text: String = "ping\n") throws -> String {
        try s.sendall(text)
        return try s.readline(timeout: .seconds(10)).text
    }

    // MARK: the version table

    /// The page's table, client down the side, server along the top.
    static let seedTable: [[String]] = [
        ["yes", "no", "yes", "no", "no", "no"],
        ["no", "yes", "yes", "no", "no", "no"],
        ["no", "yes", "yes", "yes", "yes", "yes"],
        ["no", "no", "yes", "yes", "no", "no"],
        ["no", "no", "yes", "no", "yes", "no"],
        ["no", "no", "yes", "no", "no", "yes"],
    ]
    /// The same table with today's rule: only TLS 1.2 and 1.3 are ever negotiated.
    static let todaysTable: [[String]] = [
        ["no", "no", "no", "no", "no", "no"],
        ["no", "no", "no", "no", "no", "no"],
        ["no", "no", "yes", "no", "no", "yes"],
        ["no", "no", "no", "no", "no", "no"],
        ["no", "no", "no", "no", "no", "no"],
        ["no", "no", "yes", "no", "no", "yes"],
    ]

    func testVersionTableWithTodaysRule() throws {
        let versions: [SSLProtocol] = [.sslv2, .sslv3, .sslv23, .tlsv1, .tlsv1_1, .tlsv1_2]
        var table: [[String]] = []
        var negotiated: [String: String] = [:]
        for client in versions {
            var row: [String] = []
            for server in versions {
                var result = "no"
                do {
                    let (address, done, _) = try wrappedServer(sslVersion: server)
                    defer { _ = try? done.value(timeout: 30) }
                    do {
                        let c = try wrappedClient(address, sslVersion: client)
                        defer { c.close() }
                        if try echo(c) == "ping\n" {
                            result = "yes"
                            negotiated["\(client.rawValue)/\(server.rawValue)"] = c.version()
                        }
                    } catch let e as SSLError where e.code == .retiredProtocol {
                        XCTAssertThrowsError(try client.versionRange(), "only a retired client version fails at wrap time")
                        XCTAssertEqual(e.retiredBy, [SSLProtocol.sslv2: 6176, .sslv3: 7568, .tlsv1: 8996, .tlsv1_1: 8996][client])
                        // Let the server's accept end.
                        let poke = try Socket(); try? poke.connect(address, timeout: .seconds(5)); poke.close()
                    }
                } catch let e as SSLError where e.code == .retiredProtocol {
                    XCTAssertEqual(e.retiredBy, [SSLProtocol.sslv2: 6176, .sslv3: 7568, .tlsv1: 8996, .tlsv1_1: 8996][server])
                    XCTAssertTrue(e.message.contains("RFC \(e.retiredBy!)"))
                }
                row.append(result)
            }
            table.append(row)
        }
        XCTAssertEqual(table, Self.todaysTable)
        // Every "yes" of ours is a "yes" of the page's, and every difference is a retired version.
        for (i, client) in versions.enumerated() {
            for (j, server) in versions.enumerated() {
                if table[i][j] == "yes" { XCTAssertEqual(Self.seedTable[i][j], "yes") }
                if table[i][j] != Self.seedTable[i][j] {
                    XCTAssertTrue((try? client.versionRange()) == nil || (try? server.versionRange()) == nil,
                                  "\(client.rawValue)/\(server.rawValue) differs without a retired version")
                }
            }
        }
        XCTAssertEqual(negotiated["SSLv23/SSLv23"], "TLSv1.3")
        XCTAssertEqual(negotiated["SSLv23/TLSv1.2"], "TLSv1.2")
        XCTAssertEqual(negotiated["TLSv1.2/SSLv23"], "TLSv1.2")
        XCTAssertEqual(negotiated["TLSv1.2/TLSv1.2"], "TLSv1.2")
    }

    // MARK: client side

    func testLazyClientContextUntilConnect() throws {
        let (address, server, _) = try wrappedServer()
        let s = try wrapSocket(try Socket(), certReqs: .required, caCerts: f.path("ca.pem"), serverHostname: "localhost")
        XCTAssertNil(s.handshakeRole)
        XCTAssertNil(s.currentChannel)
        try s.connect(address, timeout: .seconds(10))
        XCTAssertEqual(s.handshakeRole, .client)
        XCTAssertEqual(s.version(), "TLSv1.3", "the handshake ran in connect")
        XCTAssertEqual(try echo(s), "ping\n")
        s.close()
        try server.value()
    }

    func testExplicitDoHandshake() throws {
        let (address, server, _) = try wrappedServer()
        let s = try wrappedClient(address, doHandshakeOnConnect: false)
        XCTAssertNil(s.version())
        try s.doHandshake(timeout: .seconds(10))
        XCTAssertEqual(s.version(), "TLSv1.3")
        XCTAssertEqual(try echo(s), "ping\n")
        s.close()
        try server.value()
    }

    func testWrappingAConnectedSocketHandshakesAtOnce() throws {
        let (address, server, _) = try wrappedServer()
        let plain = try Socket()
        try plain.connect(address, timeout: .seconds(10))
        let s = try wrapSocket(plain, certReqs: .required, caCerts: f.path("ca.pem"), serverHostname: "localhost")
        XCTAssertEqual(s.version(), "TLSv1.3")
        XCTAssertEqual(try echo(s), "ping\n")
        s.close()
        try server.value()
    }

    func testListeningServerSocketWrapsWhatItAccepts() throws {
        var acceptedVersion: String?
        let (address, server, _) = try wrappedServer(serve: { c in
            acceptedVersion = c.version()   // before any I/O: accept did the handshake
            try c.sendall(try c.readline(timeout: .seconds(10)))
        })
        let s = try wrappedClient(address)
        XCTAssertEqual(try echo(s), "ping\n")
        s.close()
        try server.value()
        XCTAssertEqual(acceptedVersion, "TLSv1.3")
    }

    func testServerWithoutHandshakeOnConnect() throws {
        var before: String? = "unset"
        let (address, server, _) = try wrappedServer(doHandshakeOnConnect: false, serve: { c in
            before = c.version()
            try c.doHandshake(timeout: .seconds(10))
            try c.sendall(try c.readline(timeout: .seconds(10)))
        })
        let s = try wrappedClient(address)
        XCTAssertEqual(try echo(s), "ping\n")
        s.close()
        try server.value()
        XCTAssertNil(before)
    }

    func testParameterRules() throws {
        XCTAssertThrowsError(try wrapSocket(try Socket(), certReqs: .required)) { e in
            XCTAssertEqual((e as? SSLError)?.code, .invalidArgument)
            XCTAssertTrue((e as? SSLError)?.message.contains("ca_certs") ?? false)
        }
        XCTAssertThrowsError(try wrapSocket(try Socket(), certReqs: .optional)) { e in XCTAssertEqual((e as? SSLError)?.code, .invalidArgument) }
        XCTAssertNoThrow(try wrapSocket(try Socket(), certReqs: CertRequirements.none).close())
        XCTAssertThrowsError(try wrapSocket(try Socket(), serverSide: true)) { e in
            XCTAssertTrue((e as? SSLError)?.message.contains("certfile") ?? false)
        }
        XCTAssertThrowsError(try wrapSocket(try Socket(), keyfile: f.path("server.key"))) { e in XCTAssertEqual((e as? SSLError)?.code, .invalidArgument) }
        XCTAssertThrowsError(try wrapSocket(try Socket(), certfile: f.path("server.pem"), serverSide: true)) { e in
            XCTAssertEqual((e as? SSLError)?.code, .credentials, "server.pem holds no key")
        }
        XCTAssertThrowsError(try wrapSocket(try Socket(), certfile: f.path("server.pem"), serverSide: true, caCerts: nil, ciphers: nil)) { _ in }
        XCTAssertThrowsError(try wrapSocket(try Socket(), keyfile: f.path("client.key"), certfile: f.path("server.pem"), serverSide: true)) { e in
            XCTAssertEqual((e as? SSLError)?.code, .credentials, "key does not match")
        }
        XCTAssertThrowsError(try wrapSocket(try Socket(), certReqs: .required, caCerts: f.path("missing.pem"))) { e in
            XCTAssertEqual((e as? SSLError)?.code, .credentials)
        }
        XCTAssertThrowsError(try wrapSocket(try Socket(), ciphers: "RC4-MD5")) { e in XCTAssertEqual((e as? SSLError)?.code, .noCipherSelected) }
        XCTAssertThrowsError(try wrapSocket(try Socket(family: .inet, type: .udp))) { e in XCTAssertEqual((e as? SSLError)?.code, .unsupported) }
        for v in [SSLProtocol.sslv2, .sslv3, .tlsv1, .tlsv1_1] {
            XCTAssertThrowsError(try wrapSocket(try Socket(), sslVersion: v)) { e in XCTAssertEqual((e as? SSLError)?.code, .retiredProtocol) }
        }
    }

    func testCertfileWithSeparateKeyfile() throws {
        let (address, server, _) = try wrappedServer(certfile: f.path("server-chain.pem"), keyfile: f.path("server.key"))
        let s = try wrappedClient(address)
        XCTAssertEqual(try echo(s), "ping\n")
        XCTAssertEqual(s.getPeerCertificateChain().count, 2, "the chain in certfile is sent")
        s.close()
        try server.value()
    }

    func testClientCertNoneAcceptsAnyServer() throws {
        let (address, server, _) = try wrappedServer(certfile: f.path("untrusted.pem"), keyfile: f.path("untrusted.key"))
        let s = try wrappedClient(address, certReqs: CertRequirements.none)
        XCTAssertEqual(try echo(s), "ping\n")
        s.close()
        try server.value()
    }

    func testClientCertRequiredRefusesUnknownCA() throws {
        let (address, server, _) = try wrappedServer(certfile: f.path("untrusted.pem"), keyfile: f.path("untrusted.key"))
        XCTAssertThrowsError(try wrappedClient(address, certReqs: .required)) { e in
            XCTAssertEqual((e as? SSLError)?.certificateFailure, .unknownIssuer)
        }
        _ = try? server.value()
    }

    func testDefaultClientVerifiesAgainstTheSystemStore() throws {
        // Our test CA is not in the system store: the secure default refuses.
        let (address, server, _) = try wrappedServer()
        XCTAssertThrowsError(try wrappedClient(address, certReqs: nil)) { e in
            XCTAssertEqual((e as? SSLError)?.certificateFailure, .unknownIssuer)
        }
        _ = try? server.value()
    }

    func testServerHostnameIsChecked() throws {
        let (address, server, _) = try wrappedServer()
        XCTAssertThrowsError(try wrappedClient(address, serverHostname: "wrong.example")) { e in
            XCTAssertEqual((e as? SSLError)?.certificateFailure, .hostnameMismatch)
        }
        _ = try? server.value()
        // Without a server_hostname, CERT_REQUIRED checks the chain only (as Python's wrap_socket).
        let (address2, server2, _) = try wrappedServer()
        let s = try wrappedClient(address2, serverHostname: nil)
        XCTAssertEqual(try echo(s), "ping\n")
        s.close()
        try server2.value()
    }

    // MARK: server side cert_reqs

    private func clientAuth(serverReqs: CertRequirements, clientCert: String?, clientKey: String? = nil) throws -> (ok: Bool, serverSaw: Certificate?) {
        var seen: Certificate?
        let (address, server, _) = try wrappedServer(certReqs: serverReqs, caCerts: f.path("ca.pem"), serve: { c in
            seen = c.getPeerCertificate()
            try c.sendall(try c.readline(timeout: .seconds(10)))
        })
        do {
            let s = try wrappedClient(address, certfile: clientCert, keyfile: clientKey)
            defer { s.close() }
            let ok = try echo(s) == "ping\n"
            try server.value()
            return (ok, seen)
        } catch {
            _ = try? server.value()
            return (false, seen)
        }
    }

    func testServerCertReqs() throws {
        var r = try clientAuth(serverReqs: .none, clientCert: f.path("client-combined.pem"))
        XCTAssertTrue(r.ok); XCTAssertNil(r.serverSaw)
        r = try clientAuth(serverReqs: .optional, clientCert: nil)
        XCTAssertTrue(r.ok); XCTAssertNil(r.serverSaw)
        r = try clientAuth(serverReqs: .optional, clientCert: f.path("client-combined.pem"))
        XCTAssertTrue(r.ok); XCTAssertEqual(r.serverSaw, f.clientCertificate)
        r = try clientAuth(serverReqs: .required, clientCert: nil)
        XCTAssertFalse(r.ok)
        r = try clientAuth(serverReqs: .required, clientCert: f.path("client-combined.pem"))
        XCTAssertTrue(r.ok); XCTAssertEqual(r.serverSaw, f.clientCertificate)
        // A client certificate from an unknown CA is refused even when optional (verified if given).
        r = try clientAuth(serverReqs: .optional, clientCert: f.path("untrusted.pem"), clientKey: f.path("untrusted.key"))
        XCTAssertFalse(r.ok)
    }

    // MARK: EOFs, ciphers, unwrap

    func testSuppressRaggedEOFs() throws {
        for suppress in [true, false] {
            let (address, server, _) = try wrappedServer(serve: { c in
                _ = try c.readline(timeout: .seconds(10))
                let fd = c.detach()
                Glibc.shutdown(fd, Int32(SHUT_RDWR))
                Glibc.close(fd)
            })
            let s = try wrappedClient(address, suppressRaggedEOFs: suppress)
            XCTAssertEqual(s.suppressRaggedEOFs, suppress)
            try s.sendall("bye\n")
            if suppress {
                XCTAssertEqual(try s.recv(10, timeout: .seconds(10)), [])
            } else {
                XCTAssertThrowsError(try s.recv(10, timeout: .seconds(10))) { e in XCTAssertEqual((e as? SSLError)?.code, .raggedEOF) }
            }
            s.close()
            try server.value()
        }
    }

    func testCiphersParameter() throws {
        let (address, server, _) = try wrappedServer(certfile: f.path("server-rsa-chain.pem"), keyfile: f.path("server-rsa.key"),
                                                     ciphers: "ECDHE+AESGCM:ECDHE+CHACHA20")
        let s = try wrappedClient(address, sslVersion: .tlsv1_2, ciphers: "aRSA+CHACHA20:!AESGCM")
        XCTAssertEqual(try echo(s), "ping\n")
        XCTAssertEqual(s.cipher()?.name, "ECDHE-RSA-CHACHA20-POLY1305")
        XCTAssertEqual(s.cipher()?.version, "TLSv1.2")
        s.close()
        try server.value()
        // No common suite: the handshake fails.
        let (address2, server2, _) = try wrappedServer(sslVersion: .tlsv1_2, ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256")
        XCTAssertThrowsError(try wrappedClient(address2, ciphers: "ECDHE-ECDSA-CHACHA20-POLY1305:!TLSv1.3"))
        _ = try? server2.value()
    }

    func testUnwrapReturnsThePlainSocket() throws {
        let (address, server, _) = try wrappedServer(serve: { c in
            try c.sendall(try c.readline(timeout: .seconds(10)))
            let plain = try c.unwrap(timeout: .seconds(10))
            XCTAssertEqual(c.fileno(), -1)
            try plain.sendall(try plain.readline(timeout: .seconds(10)))
            plain.close()
        })
        let s = try wrappedClient(address)
        XCTAssertEqual(try echo(s), "ping\n")
        let plain = try s.unwrap(timeout: .seconds(10))
        XCTAssertFalse(plain is SSLSocket)
        try plain.sendall("in the clear\n")
        XCTAssertEqual(try plain.readline(timeout: .seconds(10)).text, "in the clear\n")
        plain.close()
        try server.value()
    }
}
