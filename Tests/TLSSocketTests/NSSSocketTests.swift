import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TLSCrypto
import TLSHandshake
import TLSRecord
import X509
@testable import TLSSocket

/// NSS `SSLSocket` calls (and the `io.Socket` calls it inherits) over real sockets.
final class NSSSocketTests: XCTestCase {
    func testIPv4EchoAndNames() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let accepted = Background { () -> (NetworkAddress, NetworkAddress) in
            let (c, peer) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            let line = try c.readline(timeout: .seconds(20))
            try c.sendall(line)
            return (peer, try c.getSockName())
        }
        let client = try makeClient()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertEqual(client.netAddress, address)
        XCTAssertEqual(try client.getPeerName(), address)
        try client.sendall("ipv4\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "ipv4\n")
        let (peer, serverLocal) = try accepted.value()
        XCTAssertEqual(peer, try client.getSockName())
        XCTAssertEqual(serverLocal, address)
        XCTAssertEqual(client.family, .inet)
        XCTAssertEqual(client.descType, .tcp)
        XCTAssertTrue(client.description.contains("TLSv1.3"), client.description)
    }

    func testIPv6() throws {
        let (listener, address) = try makeServer(family: .inet6)
        defer { listener.close() }
        XCTAssertEqual(address.family, .inet6)
        XCTAssertEqual(address.host, "::1")
        let server = serveEcho(listener)
        let client = try makeClient(family: .inet6) { $0.setHostname("::1") }
        try client.connect(address, timeout: .seconds(10))
        try client.sendall("ipv6\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "ipv6\n")
        XCTAssertEqual(client.getSecurityStatus().on, .high)
        client.close()
        try server.value()
    }

    func testUnixDomainSocket() throws {
        let f = Fixtures.shared
        let path = f.scratch("unix", ".sock")
        defer { unlink(path) }
        let listener = try SSLSocket(family: .local)
        defer { listener.close() }
        try listener.setCertificateDB(f.database(withClient: false))
        try listener.configSecureServer(f.serverCertificate, f.serverKey, .ecdh)
        try listener.bind(NetworkAddress(localPath: path))
        try listener.listen()
        XCTAssertEqual(try listener.getSockName(), NetworkAddress(localPath: path))
        let server = serveEcho(listener)
        let client = try makeClient(family: .local)
        try client.connect(NetworkAddress(localPath: path), timeout: .seconds(10))
        try client.sendall("unix\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "unix\n")
        client.close()
        try server.value()
    }

    func testUDPIsRefusedForTLSButWorksPlain() throws {
        XCTAssertThrowsError(try SSLSocket(family: .inet, type: .udp)) { e in
            XCTAssertEqual((e as? SSLError)?.code, .unsupported)
        }
        let a = try Socket(family: .inet, type: .udp)
        let b = try Socket(family: .inet, type: .udp)
        defer { a.close(); b.close() }
        try a.bind(.loopback())
        try b.bind(.loopback())
        XCTAssertEqual(try b.sendTo("datagram".bytes, try a.getSockName()), 8)
        let (data, from) = try a.recvFrom(100, timeout: .seconds(5))
        XCTAssertEqual(data.text, "datagram")
        XCTAssertEqual(from, try b.getSockName())
    }

    func testAcceptTimeoutIsATimeoutErrorAndTheListenerStaysUsable() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let start = ContinuousClock.now
        XCTAssertThrowsError(try listener.accept(timeout: .milliseconds(150))) { e in
            XCTAssertTrue(e is TimeoutError, "\(e)")
            XCTAssertFalse(e is SSLError)
            XCTAssertEqual((e as? TimeoutError)?.operation, "accept")
        }
        let elapsed = ContinuousClock.now - start
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(140))
        XCTAssertLessThan(elapsed, .seconds(5))
        let server = serveEcho(listener)
        let client = try makeClient()
        try client.connect(address, timeout: .seconds(10))
        try client.sendall("after\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "after\n")
        client.close()
        try server.value()
    }

    func testForceHandshakeTimeoutAgainstASilentPeer() throws {
        // A TCP listener that never speaks TLS.
        let silent = try Socket()
        defer { silent.close() }
        try silent.bind(.loopback())
        try silent.listen()
        let client = try makeClient()
        defer { client.close() }
        try client.connect(try silent.getSockName(), timeout: .seconds(5))
        let start = ContinuousClock.now
        XCTAssertThrowsError(try client.forceHandshake(timeout: .milliseconds(200))) { e in
            XCTAssertTrue(e is TimeoutError, "\(e)")
            XCTAssertFalse(e is SSLError)
            XCTAssertFalse(e is SocketError)
        }
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(190))
        XCTAssertFalse(client.getOption(.enableFDX))
    }

    func testRecvTimeoutLosesNothing() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let go = DispatchSemaphore(value: 0)
        let server = Background {
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.forceHandshake(timeout: .seconds(20))
            go.wait()
            try c.sendall("late\n")
            _ = try c.recv(10, timeout: .seconds(10))
        }
        let client = try makeClient()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        try client.forceHandshake(timeout: .seconds(10))
        XCTAssertThrowsError(try client.recv(100, timeout: .milliseconds(100))) { e in XCTAssertTrue(e is TimeoutError, "\(e)") }
        client.timeout = .milliseconds(100)
        XCTAssertThrowsError(try client.readline()) { e in XCTAssertTrue(e is TimeoutError, "\(e)") }
        go.signal()
        client.timeout = nil
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "late\n")
        client.close()
        try server.value()
    }

    func testSendTimeoutCommitsEverythingAndFlushOutputFinishes() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let total = 6 << 20
        let go = DispatchSemaphore(value: 0)
        let server = Background { () -> [UInt8] in
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.forceHandshake(timeout: .seconds(20))
            go.wait()   // not reading yet: the client's sends back up
            return try c.read(total, timeout: .seconds(60))
        }
        let client = try makeClient()
        defer { client.close() }
        try client.setSocketOption(.sendBufferSize, 65536)
        try client.connect(address, timeout: .seconds(10))
        try client.forceHandshake(timeout: .seconds(10))
        let data = (0..<total).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        XCTAssertThrowsError(try client.sendall(data, timeout: .milliseconds(300))) { e in XCTAssertTrue(e is TimeoutError, "\(e)") }
        XCTAssertTrue(client.hasUnsentOutput)
        go.signal()
        try client.flushOutput(timeout: .seconds(60))
        XCTAssertFalse(client.hasUnsentOutput)
        let received = try server.value()
        XCTAssertEqual(received.count, total)
        XCTAssertTrue(received == data, "every byte arrived once, in order")
    }

    func testNonblockingOptionGivesWouldBlockNotTimeout() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = serveEcho(listener)
        let client = try makeClient()
        try client.connect(address, timeout: .seconds(10))
        try client.forceHandshake(timeout: .seconds(10))
        try client.setSocketOption(.nonblocking, true)
        XCTAssertEqual(try client.getSocketOption(.nonblocking), 1)
        XCTAssertThrowsError(try client.recv(10)) { e in
            XCTAssertEqual((e as? SSLError)?.code, .wouldBlock)
            XCTAssertFalse(e is TimeoutError)
        }
        try client.setSocketOption(.nonblocking, false)
        try client.sendall("x\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "x\n")
        client.close()
        try server.value()
    }

    func testSocketOptions() throws {
        let s = try SSLSocket()
        defer { s.close() }
        try s.setSocketOption(.noDelay, true)
        XCTAssertEqual(try s.getSocketOption(.noDelay), 1)
        try s.setSocketOption(.noDelay, false)
        XCTAssertEqual(try s.getSocketOption(.noDelay), 0)
        try s.setSocketOption(.keepAlive, true)
        XCTAssertEqual(try s.getSocketOption(.keepAlive), 1)
        try s.setSocketOption(.reuseAddress, true)
        XCTAssertEqual(try s.getSocketOption(.reuseAddress), 1)
        try s.setSocketOption(.linger, 5)
        XCTAssertEqual(try s.getSocketOption(.linger), 5)
        try s.setSocketOption(.linger, -1)
        XCTAssertEqual(try s.getSocketOption(.linger), -1)
        try s.setSocketOption(.receiveBufferSize, 65536)
        XCTAssertGreaterThanOrEqual(try s.getSocketOption(.receiveBufferSize), 65536)
        try s.setSocketOption(.ipTimeToLive, 33)
        XCTAssertEqual(try s.getSocketOption(.ipTimeToLive), 33)
    }

    func testFilenoCloseAndUseAfterClose() throws {
        let s = try SSLSocket()
        XCTAssertGreaterThanOrEqual(s.fileno(), 0)
        s.close()
        XCTAssertEqual(s.fileno(), -1)
        XCTAssertThrowsError(try s.bind(.loopback())) { e in XCTAssertEqual((e as? SSLError)?.code, .closed) }
        XCTAssertThrowsError(try s.getPeerName()) { e in XCTAssertEqual((e as? SSLError)?.code, .closed) }
    }

    func testNewTCPPairAndPoll() throws {
        let (a, b) = try Socket.newTCPPair()
        defer { a.close(); b.close() }
        XCTAssertEqual(try a.getPeerName(), try b.getSockName())
        var flags = try Socket.poll([(a, .read), (b, .read)], timeout: .milliseconds(50))
        XCTAssertEqual(flags, [[], []])
        flags = try Socket.poll([(a, .write)], timeout: .seconds(1))
        XCTAssertTrue(flags[0].contains(.write))
        try a.sendall("ping")
        flags = try Socket.poll([(a, .read), (b, .read)], timeout: .seconds(5))
        XCTAssertEqual(flags[0], [])
        XCTAssertTrue(flags[1].contains(.read))
        XCTAssertEqual(try b.recv(10).text, "ping")
        a.close()
        flags = try Socket.poll([(b, .read)], timeout: .seconds(5))
        XCTAssertTrue(flags[0].contains(.read))
        XCTAssertEqual(try b.recv(10), [])
    }

    func testPollCountsDecryptedBytesAsReadable() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = Background {
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.sendall("one\ntwo\n")
            _ = try c.recv(1, timeout: .seconds(10))
        }
        let client = try makeClient()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "one\n")
        // "two\n" is in memory, not in the socket: poll still says readable, at once.
        let flags = try Socket.poll([(client, .read)], timeout: .seconds(5))
        XCTAssertTrue(flags[0].contains(.read))
        XCTAssertEqual(try client.readline(timeout: .seconds(1)).text, "two\n")
        try client.sendall("x")
        try server.value()
    }

    func testDataPending() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = Background {
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.sendall([UInt8](repeating: 7, count: 100))
            _ = try c.recv(1, timeout: .seconds(10))
        }
        let client = try makeClient()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertEqual(client.dataPending(), 0)
        XCTAssertEqual(try client.recv(10, timeout: .seconds(10)).count, 10)
        XCTAssertEqual(client.dataPending(), 90)
        XCTAssertEqual(client.pending(), 90)
        XCTAssertEqual(try client.recv(1000, timeout: .seconds(10)).count, 90)
        XCTAssertEqual(client.dataPending(), 0)
        try client.sendall("x")
        try server.value()
    }

    func testMakefileReadlineReadlinesAndIteration() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = Background {
            for _ in 0..<2 {
                let (c, _) = try listener.accept(timeout: .seconds(20))
                try c.sendall("alpha\nbeta\ngamma\ndelta")
                c.close()
            }
        }
        let client = try makeClient()
        try client.connect(address, timeout: .seconds(10))
        let file = client.makefile("rb")
        XCTAssertEqual(file.mode, "rb")
        XCTAssertEqual(try file.readline().text, "alpha\n")
        XCTAssertEqual(try client.readline(3).text, "bet")
        XCTAssertEqual(try client.readline().text, "a\n")
        XCTAssertEqual(try file.readlines().map(\.text), ["gamma\n", "delta"])
        XCTAssertEqual(try client.readline(), [])
        file.close()
        XCTAssertTrue(file.closed)
        client.close()

        let second = try makeClient()
        try second.connect(address, timeout: .seconds(10))
        var lines: [String] = []
        for line in second { lines.append(line.text) }
        XCTAssertNil(second.iterationError)
        XCTAssertEqual(lines, ["alpha\n", "beta\n", "gamma\n", "delta"])
        second.close()
        try server.value()
    }

    func testReadExactAndToEnd() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = Background {
            let (c, _) = try listener.accept(timeout: .seconds(20))
            for part in ["01234", "56789", "abcdef"] { try c.sendall(part); Thread.sleep(forTimeInterval: 0.01) }
            c.close()
        }
        let client = try makeClient()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertEqual(try client.read(7, timeout: .seconds(10)).text, "0123456")
        XCTAssertEqual(try client.read(-1, timeout: .seconds(10)).text, "789abcdef")
        try server.value()
    }

    func testSendReturnsTheLengthAndAcceptReadReturnsFirstBytes() throws {
        let listener = try Socket()
        defer { listener.close() }
        try listener.bind(.loopback())
        try listener.listen()
        let address = try listener.getSockName()
        let server = Background { () -> (NetworkAddress, [UInt8]) in
            let (c, peer, data) = try listener.acceptRead(5, timeout: .seconds(10))
            c.close()
            return (peer, data)
        }
        let client = try Socket()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertEqual(try client.send("hello".bytes), 5)
        XCTAssertEqual(try client.sendall("world"), 5)
        let (peer, data) = try server.value()
        XCTAssertEqual(peer, try client.getSockName())
        XCTAssertEqual(data.text, "hello")
    }

    func testShutdownSendsCloseNotifyAndAnAbruptCloseIsARaggedEOF() throws {
        let (listener, address) = try makeServer { $0.suppressRaggedEOFs = false }
        defer { listener.close() }
        let server = Background { () -> (String, String) in
            var results: [String] = []
            for _ in 0..<2 {
                let (c, _) = try listener.accept(timeout: .seconds(20))
                defer { c.close() }
                XCTAssertFalse(c.suppressRaggedEOFs)
                _ = try c.readline(timeout: .seconds(10))
                do {
                    let rest = try c.recv(100, timeout: .seconds(10))
                    results.append(rest.isEmpty ? "clean" : "data")
                } catch let e as SSLError {
                    results.append(e.code.rawValue)
                }
            }
            return (results[0], results[1])
        }
        let polite = try makeClient()
        try polite.connect(address, timeout: .seconds(10))
        try polite.sendall("bye\n")
        try polite.shutdown(.send)
        Thread.sleep(forTimeInterval: 0.1)
        polite.close()

        let rude = try makeClient()
        try rude.connect(address, timeout: .seconds(10))
        try rude.sendall("bye\n")
        let fd = rude.detach()   // close the descriptor behind TLS's back: no close_notify
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)

        let (first, second) = try server.value()
        XCTAssertEqual(first, "clean")
        XCTAssertEqual(second, SSLError.Code.raggedEOF.rawValue)
    }

    func testSecurityStatus() throws {
        let f = Fixtures.shared
        let (listener, address) = try makeServer { l in try l.setVersionRange(min: .tls13, max: .tls13) }
        defer { listener.close() }
        let server = Background { () -> SecurityStatus in
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            XCTAssertEqual(c.getSecurityStatus(), .off)
            try c.forceHandshake(timeout: .seconds(20))
            let status = c.getSecurityStatus()
            _ = try c.recv(1, timeout: .seconds(10))
            return status
        }
        let client = try makeClient { c in
            for suite in CipherSuite.allCases where suite != .tlsCHACHA20POLY1305SHA256 { c.setCipherPref(suite, false) }
        }
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertEqual(client.getSecurityStatus().on, .off)
        try client.forceHandshake(timeout: .seconds(10))
        let status = client.getSecurityStatus()
        XCTAssertEqual(status.on, .high)
        XCTAssertEqual(status.cipher, "CHACHA20-POLY1305")
        XCTAssertEqual(status.keySize, 256)
        XCTAssertEqual(status.secretKeySize, 256)
        XCTAssertEqual(status.issuer, f.serverCertificate.issuer.rfc4514String)
        XCTAssertEqual(status.subject, "CN=localhost,O=SwiftTLS Tests")
        XCTAssertEqual(status.version, .tls13)
        XCTAssertEqual(status.cipherSuite, .tlsCHACHA20POLY1305SHA256)
        try client.sendall("x")
        let serverStatus = try server.value()
        XCTAssertEqual(serverStatus.on, .high)
        XCTAssertEqual(serverStatus.issuer, "no certificate")
        XCTAssertEqual(serverStatus.subject, "no certificate")
    }

    func testCipherPrefsByNumber() throws {
        let s = try SSLSocket()
        defer { s.close() }
        for suite in CipherSuite.allCases { XCTAssertTrue(s.getCipherPref(suite.rawValue), suite.name) }
        XCTAssertFalse(s.getCipherPref(SSLCipherSuites.SSL_RSA_WITH_NULL_MD5))
        XCTAssertThrowsError(try s.setCipherPref(SSLCipherSuites.SSL_RSA_WITH_NULL_MD5, true)) { e in
            XCTAssertEqual((e as? SSLError)?.code, .unsupported)
        }
        XCTAssertNoThrow(try s.setCipherPref(SSLCipherSuites.SSL_RSA_WITH_RC4_128_MD5, false))
        try s.setCipherPref(SSLCipherSuites.TLS_AES_128_GCM_SHA256, false)
        XCTAssertFalse(s.getCipherPref(SSLCipherSuites.TLS_AES_128_GCM_SHA256))
        XCTAssertFalse(s.enabledCipherSuites.contains(.tlsAES128GCMSHA256))
        try s.setCipherPref(SSLCipherSuites.TLS_AES_128_GCM_SHA256, true)
        XCTAssertTrue(s.getCipherPref(SSLCipherSuites.TLS_AES_128_GCM_SHA256))
    }

    func testCipherPrefsDecideTheNegotiatedSuite() throws {
        let f = Fixtures.shared
        let (listener, address) = try makeServer { l in
            try l.configSecureServer(f.rsaServerCertificate, f.rsaServerKey, .rsa)
        }
        defer { listener.close() }
        let server = serveEcho(listener, count: 2)
        // TLS 1.2 with only ECDHE-RSA-AES256-GCM: the RSA certificate is used.
        let client = try makeClient { c in
            try c.setVersionRange(min: .tls12, max: .tls12)
            for suite in CipherSuite.allCases { try c.setCipherPref(suite.rawValue, suite == .ecdheRSAWithAES256GCMSHA384) }
        }
        try client.connect(address, timeout: .seconds(10))
        try client.sendall("x\n")
        _ = try client.readline(timeout: .seconds(10))
        XCTAssertEqual(client.negotiated?.cipherSuite, .ecdheRSAWithAES256GCMSHA384)
        XCTAssertEqual(client.getPeerCertificate(), f.rsaServerCertificate)
        XCTAssertEqual(client.version(), "TLSv1.2")
        XCTAssertEqual(client.cipher()?.name, "ECDHE-RSA-AES256-GCM-SHA384")
        XCTAssertEqual(client.cipher()?.bits, 256)
        client.close()
        // An ECDSA suite gets the ECDSA certificate.
        let second = try makeClient { c in
            try c.setVersionRange(min: .tls12, max: .tls12)
            for suite in CipherSuite.allCases { c.setCipherPref(suite, suite == .ecdheECDSAWithCHACHA20POLY1305SHA256) }
        }
        try second.connect(address, timeout: .seconds(10))
        try second.sendall("x\n")
        _ = try second.readline(timeout: .seconds(10))
        XCTAssertEqual(second.getPeerCertificate(), f.serverCertificate)
        second.close()
        try server.value()

        // Nothing usable enabled is a clear error.
        let none = try SSLSocket()
        defer { none.close() }
        for suite in CipherSuite.allCases { none.setCipherPref(suite, false) }
        none.resetHandshake(asServer: false)
        XCTAssertThrowsError(try none.forceHandshake()) { e in XCTAssertEqual((e as? SSLError)?.code, .noCipherSelected) }
    }

    func testConfigSecureServerChecksTheKeyExchangeType() throws {
        let f = Fixtures.shared
        let s = try SSLSocket()
        defer { s.close() }
        XCTAssertThrowsError(try s.configSecureServer(f.serverCertificate, f.serverKey, .rsa)) { e in
            XCTAssertEqual((e as? SSLError)?.code, .invalidArgument)
        }
        for kea in [KeyExchangeAlgorithm.dh, .fortezza, .null] {
            XCTAssertThrowsError(try s.configSecureServer(f.serverCertificate, f.serverKey, kea)) { e in
                XCTAssertEqual((e as? SSLError)?.code, .unsupported)
            }
        }
        XCTAssertThrowsError(try s.configSecureServer(f.serverCertificate, f.rsaServerKey, .rsa)) { e in
            XCTAssertEqual((e as? SSLError)?.code, .credentials)
        }
        XCTAssertNil(s.getCertificate())
        try s.configSecureServer(f.serverCertificate, f.serverKey, .ecdh)
        XCTAssertEqual(s.getCertificate(), f.serverCertificate)
    }

    func testCertificatesOfBothEnds() throws {
        let f = Fixtures.shared
        let (listener, address) = try makeServer()
        defer { listener.close() }
        XCTAssertEqual(listener.getCertificate(), f.serverCertificate)
        let server = Background { () -> (Certificate?, Certificate?) in
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.forceHandshake(timeout: .seconds(20))
            _ = try c.recv(1, timeout: .seconds(10))
            return (c.getCertificate(), c.getPeerCertificate())
        }
        let client = try makeClient()
        defer { client.close() }
        XCTAssertNil(client.getPeerCertificate())
        try client.connect(address, timeout: .seconds(10))
        try client.forceHandshake(timeout: .seconds(10))
        XCTAssertEqual(client.getPeerCertificate(), f.serverCertificate)
        XCTAssertNil(client.getCertificate())
        try client.sendall("x")
        let (own, peer) = try server.value()
        XCTAssertEqual(own, f.serverCertificate)
        XCTAssertNil(peer)
    }

    func testPinArgumentsReachThePasswordCallback() throws {
        let f = Fixtures.shared
        let s = try SSLSocket()
        defer { s.close(); SSLSocket.setPasswordCallback(nil) }
        XCTAssertNil(s.getPKCS11PinArg())
        s.setPKCS11PinArg(Fixtures.keyPassword, 42)
        let args = try XCTUnwrap(s.getPKCS11PinArg())
        XCTAssertEqual(args.count, 2)
        XCTAssertEqual(args[0] as? String, Fixtures.keyPassword)
        XCTAssertEqual(args[1] as? Int, 42)

        var calls: [(String, Bool, Int)] = []
        SSLSocket.setPasswordCallback { slot, retry, pin in
            calls.append((slot, retry, pin.count))
            return calls.count == 1 ? "wrong" : pin.first as? String
        }
        let key = try s.loadPrivateKey(file: f.path("server-encrypted.key"))
        XCTAssertEqual(key.publicKey, f.serverKey.publicKey)
        XCTAssertEqual(calls.map(\.1), [false, true])
        XCTAssertEqual(calls.first?.0, f.path("server-encrypted.key"))
        XCTAssertEqual(calls.first?.2, 2)

        // No callback answer: a credentials error; an unencrypted key needs no callback.
        SSLSocket.setPasswordCallback { _, _, _ in nil }
        XCTAssertThrowsError(try s.loadPrivateKey(file: f.path("server-encrypted.key"))) { e in
            XCTAssertEqual((e as? SSLError)?.code, .credentials)
        }
        XCTAssertEqual(try s.loadPrivateKey(file: f.path("server.key")).publicKey, f.serverKey.publicKey)
    }

    func testImportTCPSocketNeedsResetHandshake() throws {
        let f = Fixtures.shared
        let (a, b) = try Socket.newTCPPair()
        let server = try SSLSocket.importTCPSocket(a.detach())
        let client = try SSLSocket.importTCPSocket(b.detach())
        defer { server.close(); client.close() }
        XCTAssertThrowsError(try client.sendall("too early")) { e in XCTAssertEqual((e as? SSLError)?.code, .noHandshakeRole) }
        try server.configSecureServer(f.serverCertificate, f.serverKey, .ecdh)
        try server.setCertificateDB(f.database(withClient: false))
        server.resetHandshake(asServer: true)
        client.setTrustAnchors(f.trustStore)
        client.setHostname("127.0.0.1")
        client.resetHandshake(asServer: false)
        let echo = Background { () -> [UInt8] in
            let line = try server.readline(timeout: .seconds(20))
            try server.sendall(line)
            return line
        }
        try client.sendall("imported\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "imported\n")
        XCTAssertEqual(try echo.value().text, "imported\n")
        XCTAssertEqual(client.handshakeRole, .client)
        XCTAssertThrowsError(try SSLSocket.importTCPSocket(999_999))
    }

    func testResetHandshakeStartsAFreshHandshakeWithSwappedRoles() throws {
        let f = Fixtures.shared
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = Background { () -> String in
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.sendall(try c.readline(timeout: .seconds(20)))
            // Wait until the other side has stopped using its first session: a reset is only
            // well defined when no record of the old session can be read after it.
            XCTAssertEqual(try c.readline(timeout: .seconds(20)).text, "reset\n")
            // Now this side becomes the TLS client.
            c.setTrustAnchors(f.trustStore)
            c.setHostname("localhost")
            c.resetHandshake(asServer: false)
            try c.sendall("second handshake\n")
            return c.negotiated?.cipherSuite.name ?? "none"
        }
        let client = try makeClient()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        try client.sendall("first\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "first\n")
        try client.sendall("reset\n")
        try client.setCertificateDB(f.database(withClient: false))
        try client.configSecureServer(f.serverCertificate, f.serverKey, .ecdh)
        client.resetHandshake(asServer: true)
        XCTAssertEqual(client.handshakeRole, .server)
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "second handshake\n")
        XCTAssertNotEqual(try server.value(), "none")
    }

    func testSessionCallsExistAndReportWhatTheEngineAllows() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = serveEcho(listener, count: 2)
        for maxVersion in [TLSProtocolVersion.tls13, .tls12] {
            let client = try makeClient { c in
                try c.setVersionRange(min: .tls12, max: maxVersion)
                c.setSockPeerID("www.example.com:443")
                c.setSockPeerID(387)
            }
            XCTAssertEqual(client.getSockPeerID(), "387")
            XCTAssertNil(client.getSessionID())
            try client.connect(address, timeout: .seconds(10))
            try client.sendall("x\n")
            _ = try client.readline(timeout: .seconds(10))
            if maxVersion == .tls13 {
                XCTAssertNil(client.getSessionID(), "TLS 1.3 has no session IDs")
            } else {
                // A ticket session gets a client-made ID (RFC 5077 3.4), as NSS does.
                XCTAssertEqual(client.getSessionID()?.count, 32)
            }
            XCTAssertFalse(client.isSessionInvalidated)
            client.invalidateSession()
            XCTAssertTrue(client.isSessionInvalidated)
            XCTAssertNil(client.getSessionID(), "an invalidated session has no ID to give")
            try client.setOption(.noCache, true)
            client.close()
        }
        try server.value()
    }

    func testSessionsResumeAndPeerIDsAndNoCacheKeepThemApart() throws {
        for maxVersion in [TLSProtocolVersion.tls13, .tls12] {
            let (listener, address) = try makeServer()
            defer { listener.close() }
            let server = serveEcho(listener, count: 5)
            func connect(peerID: String?, noCache: Bool = false) throws -> (resumed: Bool, id: [UInt8]?) {
                let client = try makeClient { c in
                    try c.setVersionRange(min: .tls12, max: maxVersion)
                    if let peerID { c.setSockPeerID(peerID) }
                    if noCache { try c.setOption(.noCache, true) }
                }
                defer { client.close() }
                try client.connect(address, timeout: .seconds(10))
                try client.sendall("x\n")
                _ = try client.readline(timeout: .seconds(10))   // also takes in TLS 1.3 tickets
                return (client.negotiated?.resumed ?? false, client.getSessionID())
            }
            let first = try connect(peerID: "proxy-a")
            XCTAssertFalse(first.resumed)
            let second = try connect(peerID: "proxy-a")
            XCTAssertTrue(second.resumed, "\(maxVersion): the same host, port and peer ID resume")
            if maxVersion == .tls12 { XCTAssertEqual(second.id, first.id, "a resumed TLS 1.2 session keeps its ID") }
            XCTAssertFalse(try connect(peerID: "proxy-b").resumed, "another peer ID is another cache entry")
            XCTAssertFalse(try connect(peerID: "proxy-a", noCache: true).resumed, "SSL_NO_CACHE")
            _ = try connect(peerID: nil)
            try server.value()
        }
    }

    func testExportKeyingMaterialAgreesOnBothSides() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = Background { () -> [UInt8] in
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.forceHandshake(timeout: .seconds(20))
            let k = try c.exportKeyingMaterial(label: "EXPORTER-test", length: 32)
            _ = try c.recv(1, timeout: .seconds(10))
            return k
        }
        let client = try makeClient()
        defer { client.close() }
        XCTAssertThrowsError(try client.exportKeyingMaterial(label: "x", length: 8))
        try client.connect(address, timeout: .seconds(10))
        try client.forceHandshake(timeout: .seconds(10))
        let mine = try client.exportKeyingMaterial(label: "EXPORTER-test", length: 32)
        try client.sendall("x")
        XCTAssertEqual(mine, try server.value())
        XCTAssertEqual(mine.count, 32)
    }
}
