import XCTest
import Foundation
import TLSHandshake
import X509
@testable import TLSSocket

/// Our API against Python's `ssl` module, OpenSSL's s_server/s_client and
/// NSS's selfserv/tstclnt, over 127.0.0.1.
final class InteropTests: XCTestCase {
    let f = Fixtures.shared

    // MARK: helpers

    private func requireTool(_ name: String) throws {
        guard Shell.which(name) != nil else { throw XCTSkip("\(name) is not installed (Tools/scripts/setup.sh installs it)") }
    }

    /// Writes a Python script to a temporary file.
    private func script(_ text: String) throws -> String {
        let path = f.scratch("script", ".py")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Python TLS echo server: answers the first line with itself plus "version cipher client-subject".
    private func startPythonServer(maxVersion: String = "TLSv1_3", requireClientCert: Bool = false) throws -> (Child, NetworkAddress) {
        try requireTool("python3")
        let path = try script("""
        import ssl, socket, sys
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        ctx.maximum_version = getattr(ssl.TLSVersion, sys.argv[4])
        if sys.argv[5] == 'require':
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(sys.argv[3])
        srv = socket.socket()
        srv.bind(('127.0.0.1', 0))
        srv.listen(1)
        print(srv.getsockname()[1], flush=True)
        conn, _ = srv.accept()
        tls = ctx.wrap_socket(conn, server_side=True)
        data = b''
        while True:
            data += tls.recv(4096)
            if data.count(b'\\n') >= 1 and data.endswith(b'\\n'):
                if data.startswith(b'MORE'):
                    tls.sendall(data); data = b''; continue
                break
        peer = tls.getpeercert()
        subject = dict(x[0] for x in peer['subject'])['commonName'] if peer else 'none'
        tls.sendall(data + ('%s %s %s\\n' % (tls.version(), tls.cipher()[0], subject)).encode())
        try:
            tls.unwrap()
        except Exception:
            pass
        conn.close()
        """)
        let child = try Shell.start(["python3", path, f.path("server-chain.pem"), f.path("server.key"), f.path("ca.pem"),
                                     maxVersion, requireClientCert ? "require" : "none"])
        let end = Date().addingTimeInterval(20)
        while Date() < end, !child.stdout.contains("\n") { Thread.sleep(forTimeInterval: 0.02) }
        guard let port = UInt16(child.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Shell.Failure(description: "python server did not start: \(child.stderr)")
        }
        return (child, try NetworkAddress("127.0.0.1", port: port))
    }

    /// Python TLS client: sends a line to our server, prints the answer and the version.
    private func runPythonClient(port: UInt16, maxVersion: String = "TLSv1_3", clientCert: Bool = false, line: String = "hello from python") throws -> String {
        try requireTool("python3")
        let path = try script("""
        import ssl, socket, sys
        ctx = ssl.create_default_context(cafile=sys.argv[2])
        ctx.maximum_version = getattr(ssl.TLSVersion, sys.argv[3])
        if sys.argv[4] == 'cert':
            ctx.load_cert_chain(sys.argv[5], sys.argv[6])
        with socket.create_connection(('127.0.0.1', int(sys.argv[1]))) as sock:
            with ctx.wrap_socket(sock, server_hostname='localhost') as tls:
                tls.sendall(sys.argv[7].encode() + b'\\n')
                got = b''
                while not got.endswith(b'\\n'):
                    chunk = tls.recv(4096)
                    if not chunk: break
                    got += chunk
                print(got.decode().strip())
                print(tls.version(), tls.cipher()[0])
        """)
        return try Shell.run(["python3", path, String(port), f.path("ca.pem"), maxVersion, clientCert ? "cert" : "none",
                              f.path("client-chain.pem"), f.path("client.key"), line], timeout: 60)
    }

    /// An NSS-style echo server that records what it saw.
    private func ourEchoServer(requireClientCert: Bool = false, lines: Int = .max, linger: Duration? = nil,
                               configure: (SSLSocket) throws -> Void = { _ in })
        throws -> (SSLSocket, UInt16, Background<(Certificate?, Int, String?)>) {
        let (listener, address) = try makeServer { l in
            if requireClientCert {
                try l.setOption(.requestCertificate, true)
                try l.setOption(.requireCertificate, true)
            }
            try configure(l)
        }
        let server = Background { () -> (Certificate?, Int, String?) in
            defer { listener.close() }
            let (c, _) = try listener.accept(timeout: .seconds(30))
            defer { c.close() }
            let handshakes = LockedCounter()
            c.setHandshakeCallback { _ in handshakes.increment() }
            var echoed = 0
            while echoed < lines {
                let line = try c.readline(timeout: .seconds(30))
                if line.isEmpty { break }
                try c.sendall(line)
                echoed += 1
            }
            // Keep reading for a while (a renegotiation may follow), then close.
            if let linger {
                do { while try !c.recv(4096, timeout: linger).isEmpty {} } catch is TimeoutError {}
            }
            return (c.getPeerCertificate(), handshakes.value, c.version())
        }
        return (listener, address.port, server)
    }

    // MARK: Python

    func testPythonClientAgainstOurServer() throws {
        for (version, expected) in [("TLSv1_3", "TLSv1.3"), ("TLSv1_2", "TLSv1.2")] {
            let (_, port, server) = try ourEchoServer()
            let out = try runPythonClient(port: port, maxVersion: version)
            XCTAssertTrue(out.contains("hello from python"), out)
            XCTAssertTrue(out.contains(expected), out)
            let (peer, handshakes, ours) = try server.value()
            XCTAssertNil(peer)
            XCTAssertEqual(handshakes, 1)
            XCTAssertEqual(ours, expected)
        }
    }

    func testPythonClientWithCertificateAgainstOurRequiringServer() throws {
        let (_, port, server) = try ourEchoServer(requireClientCert: true)
        let out = try runPythonClient(port: port, maxVersion: "TLSv1_2", clientCert: true)
        XCTAssertTrue(out.contains("hello from python"), out)
        XCTAssertEqual(try server.value().0, f.clientCertificate)
        // Without one, our server refuses.
        let (_, port2, server2) = try ourEchoServer(requireClientCert: true)
        XCTAssertThrowsError(try runPythonClient(port: port2))
        XCTAssertThrowsError(try server2.value())
    }

    func testOurNSSClientAgainstPythonServer() throws {
        for (version, expected) in [("TLSv1_3", "TLSv1.3"), ("TLSv1_2", "TLSv1.2")] {
            let (child, address) = try startPythonServer(maxVersion: version, requireClientCert: true)
            defer { child.kill() }
            let client = try makeClient { c in
                c.setClientAuthDataCallback { [f] _ in (f.clientCertificate, f.clientKey) }
                try c.setCertificateDB(f.database(withClient: true, withServer: false))
            }
            defer { client.close() }
            try client.connect(address, timeout: .seconds(10))
            try client.sendall("from the NSS-style client\n")
            XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "from the NSS-style client\n")
            let info = try client.readline(timeout: .seconds(20)).text
            XCTAssertTrue(info.hasPrefix(expected), info)
            XCTAssertTrue(info.hasSuffix("Test Client\n"), "python saw our client certificate: \(info)")
            XCTAssertEqual(client.version(), expected)
            client.close()
            XCTAssertTrue(child.wait(timeout: 20))
        }
    }

    func testWrapSocketClientAgainstPythonServer() throws {
        let (child, address) = try startPythonServer()
        defer { child.kill() }
        let s = try wrapSocket(try Socket(), certReqs: .required, caCerts: f.path("ca.pem"), ciphers: "HIGH", serverHostname: "localhost")
        defer { s.close() }
        try s.connect(address, timeout: .seconds(10))
        try s.sendall("wrapped\n")
        XCTAssertEqual(try s.readline(timeout: .seconds(20)).text, "wrapped\n")
        XCTAssertTrue(try s.readline(timeout: .seconds(20)).text.hasPrefix("TLSv1.3 "))
        s.close()
        XCTAssertTrue(child.wait(timeout: 20))
    }

    func testOpenSSLStyleConnectionAgainstPythonServer() throws {
        let (child, address) = try startPythonServer(maxVersion: "TLSv1_2")
        defer { child.kill() }
        let ctx = try SSL.Context(.sslv23)
        try ctx.loadVerifyLocations(cafile: f.path("ca.pem"))
        let sock = try Socket()
        defer { sock.close() }
        let conn = SSL.Connection(ctx, sock)
        conn.setTLSExtHostName("localhost")
        try conn.connect(address)
        try conn.doHandshake()
        XCTAssertEqual(conn.getProtocolVersionName(), "TLSv1.2")
        try conn.sendall("pyopenssl style\n".bytes)
        var got: [UInt8] = []
        while got.filter({ $0 == 0x0a }).count < 2 { got += try conn.recv(4096) }
        XCTAssertTrue(got.text.hasPrefix("pyopenssl style\nTLSv1.2 "), got.text)
        // Python unwraps: close_notify arrives.
        XCTAssertThrowsError(try conn.recv(10)) { e in XCTAssertTrue(e is SSL.ZeroReturnError, "\(e)") }
        XCTAssertTrue(try conn.shutdown(), "both close_notify messages are through")
        XCTAssertTrue(child.wait(timeout: 20))
    }

    func testKeyUpdateWithPython() throws {
        let (child, address) = try startPythonServer()
        defer { child.kill() }
        let client = try makeClient()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        try client.forceHandshake(timeout: .seconds(10))
        for i in 0..<3 {
            try client.rehandshake(flushCache: false)
            try client.sendall("MORE \(i)\n")
            XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "MORE \(i)\n")
        }
        try client.sendall("done\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "done\n")
        let ch = try XCTUnwrap(client.currentChannel)
        XCTAssertEqual(ch.withEngine { _ in ch.keyUpdatesSent }, 3)
        XCTAssertEqual(ch.withEngine { _ in ch.keyUpdatesReceived }, 3, "OpenSSL under Python answered each update_requested")
        client.close()
        XCTAssertTrue(child.wait(timeout: 20))
    }

    // MARK: OpenSSL

    private func startOpenSSLServer(_ extra: [String]) throws -> (Child, NetworkAddress) {
        try requireTool("openssl")
        let port = try freePort()
        let child = try Shell.start(["openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", f.path("server.pem"),
                                     "-key", f.path("server.key"), "-cert_chain", f.path("inter.pem"), "-CAfile", f.path("ca.pem"),
                                     "-rev", "-naccept", "1"] + extra)
        guard child.waitFor("ACCEPT") else { child.kill(); throw Shell.Failure(description: "s_server did not start: \(child.stderr)") }
        return (child, try NetworkAddress("127.0.0.1", port: port))
    }

    func testOurClientAgainstOpenSSLServerTLS13WithKeyUpdates() throws {
        let (child, address) = try startOpenSSLServer(["-tls1_3"])
        defer { child.kill() }
        let client = try makeClient()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        try client.sendall("abc\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "cba\n")
        XCTAssertEqual(client.version(), "TLSv1.3")
        XCTAssertNil(client.getSessionID(), "no session IDs in TLS 1.3")
        try client.rehandshake(flushCache: false)
        try client.sendall("key update\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "etadpu yek\n")
        let ch = try XCTUnwrap(client.currentChannel)
        XCTAssertEqual(ch.withEngine { _ in ch.keyUpdatesReceived }, 1)
    }

    func testOurClientAgainstOpenSSLServerTLS12RenegotiationAndSessionID() throws {
        // OpenSSL 3 servers refuse client-initiated renegotiation unless told otherwise.
        let (child, address) = try startOpenSSLServer(["-tls1_2", "-client_renegotiation"])
        defer { child.kill() }
        let handshakes = LockedCounter()
        let client = try makeClient { c in c.setHandshakeCallback { _ in handshakes.increment() } }
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        try client.sendall("abc\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "cba\n")
        XCTAssertEqual(client.version(), "TLSv1.2")
        XCTAssertEqual(client.getSessionID()?.count, 32, "OpenSSL's TLS 1.2 server gives a session ID")
        try client.rehandshake(flushCache: false)
        try client.forceHandshake(timeout: .seconds(20))
        XCTAssertEqual(handshakes.value, 2)
        try client.sendall("renegotiated\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "detaitogener\n")
    }

    func testOurClientCertificateAcceptedByOpenSSLServer() throws {
        let (child, address) = try startOpenSSLServer(["-Verify", "2", "-verify_return_error"])
        defer { child.kill() }
        let db = try f.database(withClient: true, withServer: false)
        let client = try makeClient { c in
            c.setCertificateDB(db)
            c.setClientAuthDataCallback(SSLSocket.databaseClientAuthData(db))
        }
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        try client.sendall("with cert\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "trec htiw\n")
        XCTAssertEqual(client.getCertificate(), f.clientCertificate)
    }

    private func runOpenSSLClient(port: UInt16, _ extra: [String], input: String) throws -> (String, String) {
        try requireTool("openssl")
        let child = try Shell.start(["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost",
                                     "-CAfile", f.path("ca.pem"), "-verify_return_error", "-ign_eof", "-brief"] + extra)
        child.write(input)
        child.closeInput()
        guard child.wait(timeout: 30) else { child.kill(); throw Shell.Failure(description: "s_client hung: \(child.stderr)") }
        return (child.stdout, child.stderr)
    }

    func testOpenSSLClientAgainstOurServer() throws {
        for (flag, version) in [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")] {
            let (listener, port, server) = try ourEchoServer(lines: 1)
            let (out, err) = try runOpenSSLClient(port: port, [flag], input: "hello from openssl\n")
            listener.close()
            XCTAssertTrue(out.contains("hello from openssl"), out + err)
            XCTAssertTrue(err.contains("Protocol version: \(version)"), err)
            XCTAssertTrue(err.contains("Verification: OK"), err)
            XCTAssertEqual(try server.value().2, version)
        }
    }

    func testOpenSSLClientCertificateAgainstOurServer() throws {
        let (_, port, server) = try ourEchoServer(requireClientCert: true, lines: 1)
        let (out, err) = try runOpenSSLClient(port: port, ["-cert", f.path("client.pem"), "-key", f.path("client.key"),
                                                           "-cert_chain", f.path("inter.pem")], input: "cert\n")
        XCTAssertTrue(out.contains("cert"), out + err)
        XCTAssertEqual(try server.value().0, f.clientCertificate)
    }

    // MARK: NSS

    /// A fresh NSS database (certutil) trusting our root, with the intermediate,
    /// and the server's and client's keys imported (pk12util).
    private func nssDatabase() throws -> String {
        try requireTool("certutil")
        try requireTool("pk12util")
        let dir = f.scratch("nssdb")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let db = "sql:" + dir
        try Shell.run(["certutil", "-N", "-d", db, "--empty-password"])
        try Shell.run(["certutil", "-A", "-d", db, "-n", "ca", "-t", "CT,C,C", "-i", f.path("ca.pem")])
        try Shell.run(["certutil", "-A", "-d", db, "-n", "inter", "-t", ",,", "-i", f.path("inter.pem")])
        try Shell.run(["pk12util", "-i", f.path("server.p12"), "-d", db, "-W", "p12pass"])
        try Shell.run(["pk12util", "-i", f.path("client.p12"), "-d", db, "-W", "p12pass"])
        let list = try Shell.run(["certutil", "-L", "-d", db])
        XCTAssertTrue(list.contains("server") && list.contains("client"), list)
        return db
    }

    /// tstclnt reads its request from a file (-A); it loops on a closed stdin pipe.
    private func requestFile(_ text: String) throws -> String {
        let path = f.scratch("request", ".txt")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func startSelfserv(_ db: String, _ extra: [String]) throws -> (Child, NetworkAddress) {
        try requireTool("selfserv")
        let port = try freePort()
        let child = try Shell.start(["selfserv", "-d", db, "-n", "server", "-p", String(port)] + extra)
        guard waitForListener(port: port) else { child.kill(); throw Shell.Failure(description: "selfserv did not start: \(child.stderr)") }
        return (child, try NetworkAddress("127.0.0.1", port: port))
    }

    func testOurClientAgainstNSSSelfserv() throws {
        let db = try nssDatabase()
        for (range, version) in [("tls1.3:tls1.3", "TLSv1.3"), ("tls1.2:tls1.2", "TLSv1.2")] {
            let (child, address) = try startSelfserv(db, ["-V", range, "-r", "-r"])
            defer { child.kill() }
            let ourDB = try f.database(withClient: true, withServer: false)
            let client = try makeClient { c in
                c.setCertificateDB(ourDB)
                c.setClientAuthDataCallback(SSLSocket.databaseClientAuthData(ourDB, nickname: "client"))
            }
            defer { client.close() }
            try client.connect(address, timeout: .seconds(10))
            try client.sendall("GET /swift HTTP/1.0\r\n\r\n")
            let response = try client.read(-1, timeout: .seconds(20)).text
            XCTAssertTrue(response.hasPrefix("HTTP/1.0 200 OK"), response)
            XCTAssertTrue(response.contains("GET /swift HTTP/1.0"), response)
            XCTAssertEqual(client.version(), version)
            XCTAssertEqual(client.getPeerCertificate(), f.serverCertificate)
            XCTAssertEqual(client.getSecurityStatus().on, .high)
        }
    }

    func testNSSTstclntAgainstOurServer() throws {
        try requireTool("tstclnt")
        let db = try nssDatabase()
        // TLS 1.3, with a client certificate.
        let (_, port, server) = try ourEchoServer(requireClientCert: true, lines: 1)
        let out = try Shell.run(["tstclnt", "-h", "127.0.0.1", "-p", String(port), "-d", db, "-a", "localhost",
                                 "-V", "tls1.3:tls1.3", "-n", "client", "-A", try requestFile("hello from tstclnt\n")], timeout: 60)
        XCTAssertTrue(out.contains("hello from tstclnt"), out)
        let (peer, handshakes, version) = try server.value()
        XCTAssertEqual(peer, f.clientCertificate)
        XCTAssertEqual(handshakes, 1)
        XCTAssertEqual(version, "TLSv1.3")
    }

    func testNSSTstclntRenegotiatesWithOurServer() throws {
        try requireTool("tstclnt")
        let db = try nssDatabase()
        let (_, port, server) = try ourEchoServer(lines: 1, linger: .seconds(2))
        let out = try Shell.run(["tstclnt", "-h", "127.0.0.1", "-p", String(port), "-d", db, "-a", "localhost",
                                 "-V", "tls1.2:tls1.2", "-r", "1", "-A", try requestFile("renegotiate please\n")], timeout: 60)
        XCTAssertTrue(out.contains("renegotiate please"), out)
        let (_, handshakes, version) = try server.value()
        XCTAssertEqual(version, "TLSv1.2")
        XCTAssertEqual(handshakes, 2, "tstclnt -r 1 renegotiated once")
    }
}
