import XCTest
import Foundation
import TLSHandshake
import X509
@testable import TLSSocket

/// pyOpenSSL's `Context` and `Connection`, over memory and over sockets, with its error classes.
final class OpenSSLAPITests: XCTestCase {
    let f = Fixtures.shared

    private func serverContext(_ method: SSL.Method = .sslv23, chain: String = "server-chain.pem", key: String = "server.key") throws -> SSL.Context {
        let ctx = try SSL.Context(method)
        try ctx.useCertificateChainFile(f.path(chain))
        try ctx.usePrivateKeyFile(f.path(key))
        try ctx.checkPrivateKey()
        return ctx
    }

    private func clientContext(_ method: SSL.Method = .sslv23) throws -> SSL.Context {
        let ctx = try SSL.Context(method)
        try ctx.loadVerifyLocations(cafile: f.path("ca.pem"))
        return ctx
    }

    /// A client and a server connection over memory BIOs.
    private func memoryPair(client: SSL.Context, server: SSL.Context, hostname: String? = "localhost") -> (SSL.Connection, SSL.Connection) {
        let c = SSL.Connection(client, nil)
        c.setConnectState()
        if let hostname { c.setTLSExtHostName(hostname) }
        let s = SSL.Connection(server, nil)
        s.setAcceptState()
        return (c, s)
    }

    /// Moves bytes between two memory connections until neither has any to send.
    private func shuttle(_ a: SSL.Connection, _ b: SSL.Connection) throws {
        for _ in 0..<100 {
            var moved = false
            if let out = try? a.bioRead(1 << 20) { try b.bioWrite(out); moved = true }
            if let out = try? b.bioRead(1 << 20) { try a.bioWrite(out); moved = true }
            if !moved { return }
        }
    }

    /// Runs both handshakes over memory, returning the first error other than WantReadError.
    private func handshake(_ c: SSL.Connection, _ s: SSL.Connection) throws {
        var done = (false, false)
        for _ in 0..<20 {
            if !done.0 { do { try c.doHandshake(); done.0 = true } catch is SSL.WantReadError {} }
            try shuttle(c, s)
            if !done.1 { do { try s.doHandshake(); done.1 = true } catch is SSL.WantReadError {} }
            try shuttle(c, s)
            if done.0 && done.1 { return }
        }
        XCTFail("handshake did not finish")
    }

    func testContextMethodsAndRetiredOnes() throws {
        for (method, rfc) in [(SSL.Method.sslv2, 6176), (.sslv3, 7568), (.tlsv1, 8996), (.tlsv1_1, 8996)] {
            XCTAssertThrowsError(try SSL.Context(method)) { e in
                let e = e as? SSL.Error
                XCTAssertNotNil(e)
                XCTAssertEqual((e?.underlying as? SSLError)?.retiredBy, rfc)
                XCTAssertTrue(e?.queue.first?.reason.contains("RFC \(rfc)") ?? false)
                XCTAssertEqual(e?.queue.first?.function, "SSL_CTX_new")
            }
        }
        for method in [SSL.Method.sslv23, .tls, .tlsv1_2] { XCTAssertEqual(try SSL.Context(method).method, method) }
    }

    func testMemoryHandshakeDataAndShutdown() throws {
        let (c, s) = memoryPair(client: try clientContext(), server: try serverContext())
        XCTAssertEqual(c.getStateString(), "before SSL initialization")
        XCTAssertThrowsError(try c.doHandshake()) { e in XCTAssertTrue(e is SSL.WantReadError, "\(e)") }
        XCTAssertTrue(c.wantRead())
        XCTAssertFalse(c.wantWrite())
        let hello = try c.bioRead(65536)
        XCTAssertEqual(hello.first, 0x16, "a ClientHello record")
        XCTAssertThrowsError(try c.bioRead(65536)) { e in XCTAssertTrue(e is SSL.WantReadError) }
        try s.bioWrite(hello)
        XCTAssertThrowsError(try s.doHandshake()) { e in XCTAssertTrue(e is SSL.WantReadError) }
        try handshake(c, s)
        XCTAssertEqual(c.getStateString(), "SSL negotiation finished successfully")
        XCTAssertEqual(c.getProtocolVersionName(), "TLSv1.3")
        XCTAssertEqual(s.getServername(), "localhost")
        XCTAssertEqual(c.getPeerCertificate(), f.serverCertificate)
        XCTAssertEqual(c.getPeerCertChain()?.count, 2)
        XCTAssertNil(s.getPeerCertificate())

        XCTAssertEqual(try c.send("hello over memory".bytes), 17)
        XCTAssertThrowsError(try s.recv(100)) { e in XCTAssertTrue(e is SSL.WantReadError) }
        try shuttle(c, s)
        XCTAssertEqual(try s.recv(5).text, "hello")
        XCTAssertEqual(s.pending(), 12)
        XCTAssertEqual(try s.read(100).text, " over memory")

        XCTAssertEqual(c.getShutdown(), [])
        XCTAssertFalse(try c.shutdown(), "the peer's close_notify has not come yet")
        XCTAssertEqual(c.getShutdown(), .sent)
        try shuttle(c, s)
        XCTAssertThrowsError(try s.recv(10)) { e in XCTAssertTrue(e is SSL.ZeroReturnError, "\(e)") }
        XCTAssertTrue(s.getShutdown().contains(.received))
        XCTAssertThrowsError(try c.shutdown()) { e in XCTAssertTrue(e is SSL.WantReadError) }
        XCTAssertTrue(try s.shutdown())
        try shuttle(c, s)
        XCTAssertTrue(try c.shutdown())
        XCTAssertEqual(c.getShutdown(), [.sent, .received])
    }

    func testMemoryEOFWithoutCloseNotifyIsASysCallError() throws {
        let (c, s) = memoryPair(client: try clientContext(), server: try serverContext())
        try handshake(c, s)
        try s.bioShutdown()
        XCTAssertThrowsError(try s.recv(10)) { e in
            let e = e as? SSL.SysCallError
            XCTAssertEqual(e?.errno, -1)
            XCTAssertEqual(e?.message, "Unexpected EOF")
        }
        XCTAssertThrowsError(try SSL.Connection(try clientContext(), try Socket()).bioWrite([1])) { e in XCTAssertTrue(e is SSL.Error) }
    }

    func testConnectionStateMustBeSet() throws {
        let c = SSL.Connection(try clientContext(), nil)
        XCTAssertThrowsError(try c.doHandshake()) { e in
            XCTAssertTrue((e as? SSL.Error)?.queue.first?.reason.contains("set_connect_state") ?? false)
        }
    }

    func testVerifyCallbackSeesEachDepthAndCanOverride() throws {
        var calls: [(Int, Bool, Int, String)] = []
        let client = try clientContext()
        client.setVerify(.peer) { _, cert, errnum, depth, ok in
            calls.append((depth, ok, errnum, cert.subject.rfc4514String))
            return ok
        }
        XCTAssertEqual(client.getVerifyMode(), .peer)
        var (c, s) = memoryPair(client: client, server: try serverContext())
        try handshake(c, s)
        XCTAssertEqual(calls.map(\.0), [1, 0])
        XCTAssertEqual(calls.map(\.1), [true, true])
        XCTAssertEqual(calls.map(\.2), [0, 0])
        XCTAssertEqual(calls.last?.3, f.serverCertificate.subject.rfc4514String)

        // An untrusted server: the callback sees error 20 at depth 0; refusing fails the handshake...
        calls = []
        (c, s) = memoryPair(client: client, server: try serverContext(chain: "untrusted.pem", key: "untrusted.key"))
        XCTAssertThrowsError(try handshake(c, s)) { e in
            XCTAssertTrue((e as? SSL.Error)?.queue.first?.reason.contains("certificate verify failed") ?? false, "\(e)")
        }
        XCTAssertEqual(calls.map(\.0), [0])
        XCTAssertEqual(calls.first?.2, 20)
        XCTAssertEqual(calls.first?.1, false)

        // ...accepting it lets it through, and the failure stays visible.
        let lenient = try clientContext()
        lenient.setVerify(.peer) { _, _, errnum, _, ok in ok || errnum == 20 }
        (c, s) = memoryPair(client: lenient, server: try serverContext(chain: "untrusted.pem", key: "untrusted.key"))
        try handshake(c, s)
        XCTAssertEqual(c.verificationFailure?.reason, .unknownIssuer)

        // Hostname mismatch is error 62.
        calls = []
        (c, s) = memoryPair(client: client, server: try serverContext(), hostname: "wrong.example")
        XCTAssertThrowsError(try handshake(c, s))
        XCTAssertEqual(calls.last?.2, 62)
    }

    func testVerifyNoneAndTheSecureDefault() throws {
        // No set_verify: the client verifies (here against the system store, which lacks our CA).
        let defaultCtx = try SSL.Context(.sslv23)
        var (c, s) = memoryPair(client: defaultCtx, server: try serverContext())
        XCTAssertThrowsError(try handshake(c, s))
        // VERIFY_NONE: anything goes.
        let none = try SSL.Context(.sslv23)
        none.setVerify(.none)
        XCTAssertEqual(none.getVerifyMode(), .none)
        (c, s) = memoryPair(client: none, server: try serverContext(chain: "untrusted.pem", key: "untrusted.key"))
        try handshake(c, s)
        XCTAssertEqual(c.getPeerCertificate(), f.untrustedCertificate)
    }

    func testVerifyDepth() throws {
        let client = try clientContext()
        client.setVerifyDepth(0)
        XCTAssertEqual(client.getVerifyDepth(), 0)
        var errors: [Int] = []
        client.setVerify(.peer) { _, _, errnum, _, ok in errors.append(errnum); return ok }
        let (c, s) = memoryPair(client: client, server: try serverContext())
        XCTAssertThrowsError(try handshake(c, s))
        XCTAssertTrue(errors.contains(22), "X509_V_ERR_CERT_CHAIN_TOO_LONG: \(errors)")
    }

    func testServerAsksForClientCertificates() throws {
        let server = try serverContext()
        server.setVerify([.peer, .failIfNoPeerCert])
        try server.loadVerifyLocations(cafile: f.path("ca.pem"))
        // No certificate: refused.
        var (c, s) = memoryPair(client: try clientContext(), server: server)
        XCTAssertThrowsError(try handshake(c, s))
        // With one: accepted and seen.
        let client = try clientContext()
        try client.useCertificateChainFile(f.path("client-chain.pem"))
        try client.usePrivateKeyFile(f.path("client.key"))
        (c, s) = memoryPair(client: client, server: server)
        try handshake(c, s)
        XCTAssertEqual(s.getPeerCertificate(), f.clientCertificate)
        // VERIFY_PEER without FAIL_IF_NO_PEER_CERT: optional.
        let optional = try serverContext()
        optional.setVerify(.peer)
        try optional.loadVerifyLocations(cafile: f.path("ca.pem"))
        (c, s) = memoryPair(client: try clientContext(), server: optional)
        try handshake(c, s)
        XCTAssertNil(s.getPeerCertificate())
    }

    func testFileTypesKeysAndPasswords() throws {
        let ctx = try SSL.Context(.sslv23)
        try ctx.useCertificateFile(f.path("server.der"), .asn1)
        try ctx.usePrivateKeyFile(f.path("server.key.der"), .asn1)
        try ctx.checkPrivateKey()
        XCTAssertThrowsError(try ctx.useCertificateFile(f.path("server.der"), .pem)) { e in XCTAssertTrue(e is SSL.Error) }
        XCTAssertThrowsError(try ctx.usePrivateKeyFile(f.path("server.key"), .asn1)) { e in XCTAssertTrue(e is SSL.Error) }
        XCTAssertThrowsError(try ctx.useCertificateFile(f.path("nonexistent.pem"))) { e in
            XCTAssertEqual((e as? SSL.Error)?.queue.first?.library, "system library")
        }
        // A key that does not belong to the certificate.
        ctx.usePrivateKey(f.clientKey)
        XCTAssertThrowsError(try ctx.checkPrivateKey()) { e in
            XCTAssertEqual((e as? SSL.Error)?.queue.first?.reason, "key values mismatch")
        }
        // Encrypted keys need the passphrase callback.
        let enc = try SSL.Context(.sslv23)
        XCTAssertThrowsError(try enc.usePrivateKeyFile(f.path("server-encrypted.key")))
        var userData: String?
        enc.setPasswdCb({ maxLength, verify, data in
            userData = data as? String
            XCTAssertGreaterThan(maxLength, 0)
            XCTAssertFalse(verify)
            return Fixtures.keyPassword
        }, userData: "context data")
        try enc.usePrivateKeyFile(f.path("server-encrypted.key"))
        XCTAssertEqual(userData, "context data")
        enc.useCertificate(f.serverCertificate)
        try enc.checkPrivateKey()
    }

    func testOptions() throws {
        let ctx = try serverContext()
        let all = ctx.setOptions([.singleDHUse, .ephemeralRSA, .noSSLv2, .noSSLv3, .noTLSv1])
        XCTAssertTrue(all.contains(.ephemeralRSA))
        XCTAssertTrue(all.isSuperset(of: SSL.Options.alwaysOn))
        var (c, s) = memoryPair(client: try clientContext(), server: ctx)
        try handshake(c, s)
        XCTAssertEqual(c.getProtocolVersionName(), "TLSv1.3")
        // OP_NO_TLSv1_3 leaves TLS 1.2.
        let twelve = try serverContext()
        twelve.setOptions(.noTLSv1_3)
        (c, s) = memoryPair(client: try clientContext(), server: twelve)
        try handshake(c, s)
        XCTAssertEqual(c.getProtocolVersionName(), "TLSv1.2")
        XCTAssertEqual(c.getCipherVersion(), "TLSv1.2")
        // Both off: no protocol left.
        let nothing = try clientContext()
        nothing.setOptions([.noTLSv1_2, .noTLSv1_3])
        (c, s) = memoryPair(client: nothing, server: try serverContext())
        XCTAssertThrowsError(try c.doHandshake()) { e in
            XCTAssertTrue((e as? SSL.Error)?.queue.first?.reason.contains("no protocols available") ?? false, "\(e)")
        }
        // TLSv1_2_METHOD is TLS 1.2 only.
        (c, s) = memoryPair(client: try clientContext(.tlsv1_2), server: try serverContext())
        try handshake(c, s)
        XCTAssertEqual(s.getProtocolVersionName(), "TLSv1.2")
    }

    func testCipherList() throws {
        let client = try clientContext()
        try client.setCipherList("ECDHE-ECDSA-CHACHA20-POLY1305")
        client.setOptions(.noTLSv1_3)
        XCTAssertEqual(SSL.Connection(client, nil).getCipherList(), CipherSuite.tls13Suites.map(\.openSSLName) + ["ECDHE-ECDSA-CHACHA20-POLY1305"])
        let (c, s) = memoryPair(client: client, server: try serverContext())
        try handshake(c, s)
        XCTAssertEqual(c.getCipherName(), "ECDHE-ECDSA-CHACHA20-POLY1305")
        XCTAssertEqual(c.getCipherBits(), 256)
        XCTAssertThrowsError(try client.setCipherList("RC4-MD5")) { e in
            XCTAssertEqual((e as? SSL.Error)?.queue.first?.reason, "no cipher match")
        }
    }

    func testHandshakeFailureFillsTheErrorQueue() throws {
        let client = try clientContext()
        try client.setCipherList("ECDHE-ECDSA-CHACHA20-POLY1305")
        client.setOptions(.noTLSv1_3)
        let server = try serverContext()
        try server.setCipherList("ECDHE-ECDSA-AES128-GCM-SHA256")
        let (c, s) = memoryPair(client: client, server: server)
        XCTAssertThrowsError(try c.doHandshake()) { e in XCTAssertTrue(e is SSL.WantReadError) }
        try shuttle(c, s)
        // The server finds no common suite: its own reason...
        XCTAssertThrowsError(try s.doHandshake()) { e in
            let e = e as? SSL.Error
            XCTAssertEqual(e?.queue.first?.library, "SSL routines")
            XCTAssertEqual(e?.queue.first?.function, "SSL_do_handshake")
            XCTAssertTrue(e?.queue.first?.reason.contains("cipher") ?? false, "\(String(describing: e))")
        }
        try shuttle(c, s)
        // ...and the client gets the alert, in OpenSSL's words.
        XCTAssertThrowsError(try c.doHandshake()) { e in
            let e = e as? SSL.Error
            XCTAssertNotNil(e)
            XCTAssertFalse(e is SSL.WantReadError)
            XCTAssertEqual(e?.queue.first?.reason, "sslv3 alert handshake failure")
            XCTAssertTrue(e?.description.contains("SSL routines") ?? false)
            XCTAssertEqual((e?.underlying as? HandshakeError)?.fromPeer, true)
        }
    }

    func testServernameCallbackSwitchesContext() throws {
        let ecdsa = try serverContext()
        let rsa = try serverContext(chain: "server-rsa-chain.pem", key: "server-rsa.key")
        var names: [String?] = []
        ecdsa.setTLSExtServernameCallback { conn in
            names.append(conn.getServername())
            if conn.getServername() == "localhost" { conn.setContext(rsa) }
        }
        let (c, s) = memoryPair(client: try clientContext(), server: ecdsa)
        try handshake(c, s)
        XCTAssertEqual(names, ["localhost"])
        XCTAssertEqual(c.getPeerCertificate(), f.rsaServerCertificate)
        XCTAssertTrue(s.getContext() === rsa)
    }

    func testRenegotiationAndExporterOverMemory() throws {
        let client = try clientContext()
        client.setOptions(.noTLSv1_3)
        let (c, s) = memoryPair(client: client, server: try serverContext())
        try handshake(c, s)
        XCTAssertEqual(c.totalRenegotiations(), 0)
        let before = try c.exportKeyingMaterial("EXPORTER-test", 20)
        XCTAssertEqual(before, try s.exportKeyingMaterial("EXPORTER-test", 20))
        XCTAssertTrue(try c.renegotiate())
        XCTAssertTrue(c.renegotiatePending())
        for _ in 0..<6 {
            try shuttle(c, s)
            _ = try? s.recv(10)
            try shuttle(c, s)
            _ = try? c.recv(10)
        }
        XCTAssertFalse(c.renegotiatePending())
        XCTAssertEqual(c.totalRenegotiations(), 1)
        XCTAssertEqual(s.totalRenegotiations(), 1)
        let after = try c.exportKeyingMaterial("EXPORTER-test", 20)
        XCTAssertNotEqual(before, after)
        XCTAssertEqual(after, try s.exportKeyingMaterial("EXPORTER-test", 20))
    }

    func testConnectionOverSockets() throws {
        let listener = try Socket()
        defer { listener.close() }
        try listener.bind(.loopback())
        try listener.listen()
        let serverConn = SSL.Connection(try serverContext(), listener)
        let address = try listener.getSockName()
        let server = Background { () -> String in
            let (conn, _) = try serverConn.accept()
            try conn.doHandshake()
            var got = try conn.recv(100)
            while !got.contains(0x0a) { got += try conn.recv(100) }
            try conn.sendall(got)
            // The client shuts TLS down: recv says ZeroReturnError.
            do { _ = try conn.recv(100); return "no error" } catch is SSL.ZeroReturnError { }
            XCTAssertTrue(try conn.shutdown())
            try conn.sockShutdown(.both)
            return got.text
        }
        let sock = try Socket()
        defer { sock.close() }
        let client = SSL.Connection(try clientContext(), sock)
        client.setTLSExtHostName("localhost")
        try client.connect(address)
        XCTAssertEqual(client.fileno(), sock.fileno())
        try client.doHandshake()
        XCTAssertEqual(try client.write("over a socket\n".bytes), 14)
        XCTAssertEqual(try client.recv(100).text, "over a socket\n")
        XCTAssertFalse(try client.shutdown())
        XCTAssertTrue(try client.shutdown())
        XCTAssertEqual(try server.value(), "over a socket\n")
    }

    func testSysCallErrorsFromTheSocket() throws {
        let listener = try Socket()
        defer { listener.close() }
        try listener.bind(.loopback())
        try listener.listen()
        let connected = DispatchSemaphore(value: 0)
        let server = Background {
            let (c, _) = try listener.accept(timeout: .seconds(10))
            connected.wait()
            // Reset the connection: linger 0 then close sends RST.
            try c.setSocketOption(.linger, 0)
            c.close()
        }
        let sock = try Socket()
        let client = SSL.Connection(try clientContext(), sock)
        try client.connect(try listener.getSockName())
        connected.signal()
        try server.value()
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertThrowsError(try client.doHandshake()) { e in
            let e = e as? SSL.SysCallError
            XCTAssertNotNil(e)
            XCTAssertTrue([Int32(ECONNRESET), Int32(EPIPE), -1].contains(e?.errno ?? 0), "\(String(describing: e))")
        }
    }

    /// A socket-like object that can refuse to proceed, to see WantRead/WantWrite over a non-memory transport.
    final class Valve: SocketLike {
        let inner: Socket
        var blockSends = false
        var blockReads = false
        var sends = 0
        init(_ inner: Socket) { self.inner = inner }
        func recv(_ amount: Int) throws -> [UInt8] {
            if blockReads { throw SSLError(.wouldBlock, "valve closed") }
            return try inner.recv(amount, timeout: .seconds(10))
        }
        func send(_ data: [UInt8]) throws -> Int {
            if blockSends { throw SSLError(.wouldBlock, "valve closed") }
            sends += 1
            return try inner.send(data, timeout: .seconds(10))
        }
    }

    func testAnySocketLikeObjectAndWantErrors() throws {
        let (a, b) = try Socket.newTCPPair()
        defer { a.close(); b.close() }
        let clientValve = Valve(a)
        let serverValve = Valve(b)
        let c = SSL.Connection(try clientContext(), clientValve)
        c.setConnectState()
        c.setTLSExtHostName("localhost")
        let s = SSL.Connection(try serverContext(), serverValve)
        s.setAcceptState()
        clientValve.blockSends = true
        XCTAssertThrowsError(try c.doHandshake()) { e in XCTAssertTrue(e is SSL.WantWriteError, "\(e)") }
        XCTAssertTrue(c.wantWrite())
        clientValve.blockSends = false
        let server = Background { try s.doHandshake() }
        try c.doHandshake()
        try server.value()
        XCTAssertGreaterThan(clientValve.sends, 0)
        clientValve.blockReads = true
        XCTAssertThrowsError(try c.recv(10)) { e in XCTAssertTrue(e is SSL.WantReadError) }
        clientValve.blockReads = false
        try s.send("through the valve".bytes)
        XCTAssertEqual(try c.recv(100).text, "through the valve")
    }

    func testErrorClassHierarchy() {
        let errors: [Error] = [SSL.ZeroReturnError(), SSL.WantReadError(), SSL.WantWriteError(), SSL.WantX509LookupError(),
                               SSL.SysCallError(104, "Connection reset by peer")]
        for e in errors { XCTAssertTrue(e is SSL.Error, "\(type(of: e)) is an SSL.Error") }
        XCTAssertEqual(Set(errors.map { "\(type(of: $0))" }).count, 5)
        XCTAssertEqual((errors[4] as! SSL.SysCallError).errno, 104)
        XCTAssertEqual(errors[4].localizedDescription.isEmpty, false)
        XCTAssertEqual("\(errors[4] as! SSL.SysCallError)", "SysCallError(104, 'Connection reset by peer')")
        let queued = SSL.Error([SSL.ErrorQueueEntry("SSL routines", "ssl3_read_bytes", "sslv3 alert handshake failure")])
        XCTAssertEqual(queued.queue.count, 1)
        XCTAssertEqual(queued.queue[0].function, "ssl3_read_bytes")
        XCTAssertFalse(queued is SSL.WantReadError)
    }

    func testContextBookkeeping() throws {
        let ctx = try SSL.Context(.sslv23)
        ctx.setTimeout(600)
        XCTAssertEqual(ctx.getTimeout(), 600)
        ctx.setSessionID("app".bytes)
        ctx.appData = "payload"
        XCTAssertEqual(ctx.appData as? String, "payload")
        ctx.setALPNProtos(["h2", "http/1.1"])
        ctx.addClientCA(f.caCertificate)
        ctx.setDefaultVerifyPaths()
        let conn = SSL.Connection(ctx, nil)
        conn.appData = 7
        XCTAssertEqual(conn.appData as? Int, 7)
        XCTAssertTrue(conn.getContext() === ctx)
        XCTAssertEqual(conn.getProtocolVersionName(), "Unknown")
        XCTAssertEqual(conn.fileno(), -1)
    }

    func testALPN() throws {
        let client = try clientContext()
        client.setALPNProtos(["h2", "http/1.1"])
        let server = try serverContext()
        server.setALPNProtos(["http/1.1"])
        let (c, s) = memoryPair(client: client, server: server)
        try handshake(c, s)
        XCTAssertEqual(c.getALPNProtoNegotiated(), "http/1.1")
        XCTAssertEqual(s.getALPNProtoNegotiated(), "http/1.1")
    }
}
