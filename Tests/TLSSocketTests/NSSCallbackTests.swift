import XCTest
import TLSCrypto
import TLSHandshake
import TLSRecord
import X509
@testable import TLSSocket

/// NSS callbacks: authenticate certificate, bad certificate, client auth data, handshake complete.
final class NSSCallbackTests: XCTestCase {
    /// Serves one handshake with `certificate`, returns the client's error if any.
    private func connect(serverCertificate: Certificate, serverKey: PrivateKey, chain: Bool = true,
                         configureClient: (SSLSocket) throws -> Void) throws -> (SSLSocket, Error?) {
        let f = Fixtures.shared
        let listener = try SSLSocket()
        if chain { try listener.setCertificateDB(f.database(withClient: false, withServer: false)) }
        try listener.configSecureServer(serverCertificate, serverKey, .ecdh)
        try listener.bind(.loopback())
        try listener.listen()
        let address = try listener.getSockName()
        let server = Background {
            defer { listener.close() }
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            _ = try? c.forceHandshake(timeout: .seconds(20))
            _ = try? c.recv(1, timeout: .seconds(2))
        }
        let client = try makeClient(configure: configureClient)
        var failure: Error? = nil
        do {
            try client.connect(address, timeout: .seconds(10))
            try client.forceHandshake(timeout: .seconds(20))
        } catch { failure = error }
        client.close()
        _ = try? server.value()
        return (client, failure)
    }

    func testDefaultAuthenticationAcceptsAGoodChainAndName() throws {
        let f = Fixtures.shared
        let (client, error) = try connect(serverCertificate: f.serverCertificate, serverKey: f.serverKey) { _ in }
        XCTAssertNil(error)
        XCTAssertEqual(client.getPeerCertificate(), f.serverCertificate)
        XCTAssertEqual(client.getPeerCertificateChain().count, 2)
    }

    func testHostnameMismatchIsRejected() throws {
        let f = Fixtures.shared
        let (client, error) = try connect(serverCertificate: f.serverCertificate, serverKey: f.serverKey) { c in c.setHostname("www.example.com") }
        XCTAssertEqual(client.getHostname(), "www.example.com")
        let e = try XCTUnwrap(error as? SSLError)
        XCTAssertEqual(e.code, .badCertificate)
        XCTAssertEqual(e.certificateFailure, .hostnameMismatch)
        XCTAssertEqual(e.alert, .badCertificate)
    }

    func testNoHostnameIsRejectedByTheDefaultAuthentication() throws {
        let f = Fixtures.shared
        let (_, error) = try connect(serverCertificate: f.serverCertificate, serverKey: f.serverKey) { c in c.setHostname(nil) }
        XCTAssertEqual((error as? SSLError)?.code, .badCertificate)
        XCTAssertTrue((error as? SSLError)?.message.contains("no hostname") ?? false)
    }

    func testExpiredCertificateIsRejected() throws {
        let f = Fixtures.shared
        let (_, error) = try connect(serverCertificate: f.expiredCertificate, serverKey: f.expiredKey) { _ in }
        let e = try XCTUnwrap(error as? SSLError)
        XCTAssertEqual(e.certificateFailure, .expired)
        XCTAssertEqual(e.alert, .certificateExpired)
    }

    func testUntrustedIssuerIsRejectedUnlessTheBadCertificateCallbackAccepts() throws {
        let f = Fixtures.shared
        let (_, refused) = try connect(serverCertificate: f.untrustedCertificate, serverKey: f.untrustedKey, chain: false) { _ in }
        XCTAssertEqual((refused as? SSLError)?.certificateFailure, .unknownIssuer)
        XCTAssertEqual((refused as? SSLError)?.alert, .unknownCA)

        var seenError: SSLError?
        var certificateInCallback: Certificate?
        let (client, accepted) = try connect(serverCertificate: f.untrustedCertificate, serverKey: f.untrustedKey, chain: false) { c in
            c.setBadCertificateCallback { sock, error in
                seenError = error
                certificateInCallback = sock.getPeerCertificate()
                return true
            }
        }
        XCTAssertNil(accepted)
        XCTAssertEqual(seenError?.certificateFailure, .unknownIssuer)
        XCTAssertEqual(certificateInCallback, f.untrustedCertificate)
        XCTAssertEqual(client.getPeerCertificate(), f.untrustedCertificate)

        // A bad-certificate callback that says no keeps the refusal.
        let (_, stillRefused) = try connect(serverCertificate: f.untrustedCertificate, serverKey: f.untrustedKey, chain: false) { c in
            c.setBadCertificateCallback { _, _ in false }
        }
        XCTAssertEqual((stillRefused as? SSLError)?.code, .badCertificate)
    }

    func testAuthCertificateCallbackGetsCheckSigIsServerAndTheCertificate() throws {
        let f = Fixtures.shared
        var calls: [(Bool, Bool, Certificate?, String?)] = []
        let (_, error) = try connect(serverCertificate: f.serverCertificate, serverKey: f.serverKey) { c in
            c.setAuthCertificateCallback { sock, checkSig, isServer in
                calls.append((checkSig, isServer, sock.getPeerCertificate(), sock.getHostname()))
                return true
            }
        }
        XCTAssertNil(error)
        XCTAssertEqual(calls.count, 1)
        XCTAssertEqual(calls.first?.0, true)
        XCTAssertEqual(calls.first?.1, false)
        XCTAssertEqual(calls.first?.2, f.serverCertificate)
        XCTAssertEqual(calls.first?.3, "localhost")
    }

    func testAuthCallbackRefusalCarriesTheReasonItSet() throws {
        let f = Fixtures.shared
        let (_, error) = try connect(serverCertificate: f.serverCertificate, serverKey: f.serverKey) { c in
            c.setAuthCertificateCallback { sock, _, _ in
                sock.setAuthenticationError(SSLError(.badCertificate, "policy says no", certificateFailure: .keyUsage))
                return false
            }
        }
        let e = try XCTUnwrap(error as? SSLError)
        XCTAssertTrue(e.message.contains("policy says no"), e.message)
        XCTAssertEqual(e.certificateFailure, .keyUsage)
        XCTAssertEqual(e.alert, .unsupportedCertificate)
    }

    func testDefaultAuthWithoutCheckSigChecksOnlyDatesAndName() throws {
        let f = Fixtures.shared
        var results: [Bool] = []
        let (_, error) = try connect(serverCertificate: f.untrustedCertificate, serverKey: f.untrustedKey, chain: false) { c in
            c.setAuthCertificateCallback { sock, _, isServer in
                results.append(SSLSocket.defaultAuthCertificate(sock, checkSig: true, isServer: isServer))
                results.append(SSLSocket.defaultAuthCertificate(sock, checkSig: false, isServer: isServer))
                return results.last!
            }
        }
        XCTAssertNil(error)
        XCTAssertEqual(results, [false, true])
        // ...but an expired certificate fails even without signature checks.
        results = []
        let (_, expired) = try connect(serverCertificate: f.expiredCertificate, serverKey: f.expiredKey) { c in
            c.setAuthCertificateCallback { sock, _, isServer in
                results.append(SSLSocket.defaultAuthCertificate(sock, checkSig: false, isServer: isServer))
                return results.last!
            }
        }
        XCTAssertEqual(results, [false])
        XCTAssertEqual((expired as? SSLError)?.certificateFailure, .expired)
    }

    /// A server that requires a client certificate, with the CA names from its database.
    private func clientAuthServer(configure: (SSLSocket) throws -> Void = { _ in }) throws -> (SSLSocket, NetworkAddress, Background<(Certificate?, Bool, [String])>) {
        let f = Fixtures.shared
        var serverCalls: [String] = []
        let (listener, address) = try makeServer { l in
            try l.setOption(.requestCertificate, true)
            try l.setOption(.requireCertificate, true)
            l.setAuthCertificateCallback { sock, checkSig, isServer in
                serverCalls.append("checkSig=\(checkSig) isServer=\(isServer)")
                return SSLSocket.defaultAuthCertificate(sock, checkSig: checkSig, isServer: isServer)
            }
            try configure(l)
        }
        _ = f
        let server = Background { () -> (Certificate?, Bool, [String]) in
            defer { listener.close() }
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            do {
                try c.forceHandshake(timeout: .seconds(20))
                try c.sendall("ok\n")
                return (c.getPeerCertificate(), true, serverCalls)
            } catch {
                return (nil, false, serverCalls)
            }
        }
        return (listener, address, server)
    }

    func testClientAuthDataCallbackReceivesCANamesAndAuthenticates() throws {
        let f = Fixtures.shared
        let (_, address, server) = try clientAuthServer()
        var names: [DistinguishedName] = []
        let client = try makeClient { c in
            c.setClientAuthDataCallback { caNames in
                names = caNames
                return (f.clientCertificate, f.clientKey)
            }
        }
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "ok\n")
        XCTAssertEqual(names.map(\.rfc4514String), [f.caCertificate.subject.rfc4514String])
        XCTAssertEqual(client.getCertificate(), f.clientCertificate)
        let (peer, ok, calls) = try server.value()
        XCTAssertTrue(ok)
        XCTAssertEqual(peer, f.clientCertificate)
        XCTAssertEqual(calls, ["checkSig=true isServer=true"])
    }

    func testDatabaseClientAuthDataPicksACertificateUnderTheServersCAs() throws {
        let f = Fixtures.shared
        let (_, address, server) = try clientAuthServer()
        let db = try f.database(withClient: true, withServer: false)
        let client = try makeClient { c in
            c.setCertificateDB(db)
            c.setClientAuthDataCallback(SSLSocket.databaseClientAuthData(db))
        }
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "ok\n")
        XCTAssertEqual(try server.value().0, f.clientCertificate)

        // No certificate under unrelated CA names, and an unknown nickname gives none.
        let pick = SSLSocket.databaseClientAuthData(db)
        XCTAssertNil(pick([f.untrustedCertificate.issuer]))
        XCTAssertNotNil(pick([f.caCertificate.subject]))
        XCTAssertNil(SSLSocket.databaseClientAuthData(db, nickname: "nobody")([]))
        XCTAssertEqual(SSLSocket.databaseClientAuthData(db, nickname: "client")([])?.0, f.clientCertificate)
    }

    func testNoClientCertificateWhenTheCallbackReturnsNilFailsARequiringServer() throws {
        let (_, address, server) = try clientAuthServer()
        let client = try makeClient { c in c.setClientAuthDataCallback { _ in nil } }
        defer { client.close() }
        XCTAssertThrowsError(try { try client.connect(address, timeout: .seconds(10)); _ = try client.readline(timeout: .seconds(20)); try client.sendall("x"); _ = try client.readline(timeout: .seconds(20)) }())
        let (peer, ok, _) = try server.value()
        XCTAssertNil(peer)
        XCTAssertFalse(ok)
    }

    func testHandshakeCallbackRunsOnBothSides() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let serverCount = LockedCounter()
        listener.setHandshakeCallback { sock in
            if sock.negotiated != nil { serverCount.increment() }
        }
        let server = serveEcho(listener)
        let clientCount = LockedCounter()
        var peerNameInCallback: NetworkAddress?
        let client = try makeClient { c in
            c.setHandshakeCallback { sock in
                clientCount.increment()
                peerNameInCallback = try? sock.getPeerName()
            }
        }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertEqual(clientCount.value, 0)
        try client.sendall("a\n")
        _ = try client.readline(timeout: .seconds(10))
        XCTAssertEqual(clientCount.value, 1)
        XCTAssertEqual(peerNameInCallback, address)
        try client.sendall("b\n")
        _ = try client.readline(timeout: .seconds(10))
        XCTAssertEqual(clientCount.value, 1)
        client.close()
        try server.value()
        XCTAssertEqual(serverCount.value, 1)
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
}
