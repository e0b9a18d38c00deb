import XCTest
import TLSHandshake
import TLSRecord
import X509
@testable import TLSSocket

/// NSS `set_ssl_option` / `get_ssl_option`: defaults, retired protocols, interactions.
final class NSSOptionTests: XCTestCase {
    /// The defaults the NSS page documents, typed in from the page.
    static let pageDefaults: [String: Int] = [
        "SSL_SECURITY": 1, "SSL_REQUEST_CERTIFICATE": 0, "SSL_REQUIRE_CERTIFICATE": 2, "SSL_HANDSHAKE_AS_CLIENT": 0,
        "SSL_HANDSHAKE_AS_SERVER": 0, "SSL_ENABLE_FDX": 0, "SSL_ENABLE_SSL3": 1, "SSL_ENABLE_SSL2": 1, "SSL_ENABLE_TLS": 1,
        "SSL_V2_COMPATIBLE_HELLO": 1, "SSL_NO_CACHE": 0, "SSL_ROLLBACK_DETECTION": 1,
    ]

    func testOptionDefaultsFollowThePageExceptRetiredProtocols() throws {
        let s = try SSLSocket()
        defer { s.close() }
        XCTAssertEqual(SSLOption.allCases.count, 12)
        for option in SSLOption.allCases {
            XCTAssertEqual(option.documentedDefault, Self.pageDefaults[option.nssName], option.nssName)
            XCTAssertEqual(s.getOptionValue(option), option.defaultValue, option.nssName)
            if option.defaultValue != option.documentedDefault {
                XCTAssertNotNil(option.retiredBy, "\(option.nssName) differs from the page without a retiring RFC")
                XCTAssertEqual(s.getOptionValue(option), 0)
            }
        }
        XCTAssertEqual(s.requireCertificate, .firstHandshake)
        XCTAssertTrue(s.getOption(.requireCertificate))
    }

    func testEnablingRetiredProtocolsIsAnErrorNamingTheRFC() throws {
        let s = try SSLSocket()
        defer { s.close() }
        for (option, rfc) in [(SSLOption.enableSSL2, 6176), (.enableSSL3, 7568), (.v2CompatibleHello, 6176)] {
            XCTAssertThrowsError(try s.setOption(option, true)) { e in
                let e = e as? SSLError
                XCTAssertEqual(e?.code, .retiredProtocol)
                XCTAssertEqual(e?.retiredBy, rfc)
                XCTAssertTrue(e?.message.contains("RFC \(rfc)") ?? false, e?.message ?? "")
            }
            XCTAssertNoThrow(try s.setOption(option, false))
            XCTAssertFalse(s.getOption(option))
        }
        for (version, rfc) in [(TLSProtocolVersion.ssl2, 6176), (.ssl3, 7568), (.tls10, 8996), (.tls11, 8996)] {
            XCTAssertThrowsError(try s.setVersionRange(min: version, max: .tls13)) { e in
                XCTAssertEqual((e as? SSLError)?.retiredBy, rfc)
                XCTAssertTrue((e as? SSLError)?.message.contains("RFC \(rfc)") ?? false)
            }
        }
        XCTAssertEqual(s.versionRange.min, .tls12)
        try s.setVersionRange(min: .tls13, max: .tls13)
        XCTAssertEqual(s.versionRange.min, .tls13)
        XCTAssertThrowsError(try s.setVersionRange(min: .tls13, max: .tls12))
    }

    func testV2CompatibleHelloOffTurnsSSL2Off() throws {
        let s = try SSLSocket()
        defer { s.close() }
        // Put a true in the table directly (as the seeds' default would), then observe the interaction.
        s.stateLock.withLock { s.settings.options[.enableSSL2] = true }
        XCTAssertTrue(s.getOption(.enableSSL2))
        try s.setOption(.v2CompatibleHello, false)
        XCTAssertFalse(s.getOption(.enableSSL2))
        XCTAssertFalse(s.getOption(.v2CompatibleHello))
    }

    func testRequireCertificateValues() throws {
        let s = try SSLSocket()
        defer { s.close() }
        try s.setOption(.requireCertificate, true)
        XCTAssertEqual(s.getOptionValue(.requireCertificate), RequireCertificate.always.rawValue)
        try s.setOption(.requireCertificate, false)
        XCTAssertEqual(s.getOptionValue(.requireCertificate), 0)
        XCTAssertFalse(s.getOption(.requireCertificate))
        try s.setOption(.requireCertificate, RequireCertificate.noError)
        XCTAssertEqual(s.getOptionValue(.requireCertificate), 3)
        XCTAssertThrowsError(try s.setOption(.security, RequireCertificate.always)) { e in
            XCTAssertEqual((e as? SSLError)?.code, .invalidArgument)
        }
    }

    func testOtherOptionsAreStoredAndReported() throws {
        let s = try SSLSocket()
        defer { s.close() }
        for option in [SSLOption.enableFDX, .noCache, .rollbackDetection, .handshakeAsClient, .handshakeAsServer, .requestCertificate] {
            let before = s.getOption(option)
            try s.setOption(option, !before)
            XCTAssertEqual(s.getOption(option), !before, option.nssName)
        }
    }

    /// A server that asks for a client certificate only as the options say.
    private func clientAuthRun(request: Bool, require: RequireCertificate?, clientHasCert: Bool) throws -> (serverSawCert: Bool, error: Error?) {
        let f = Fixtures.shared
        let (listener, address) = try makeServer { l in
            try l.setOption(.requestCertificate, request)
            if let require { try l.setOption(.requireCertificate, require) }
        }
        defer { listener.close() }
        let server = Background { () -> Bool in
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.forceHandshake(timeout: .seconds(20))
            let line = try c.readline(timeout: .seconds(20))
            try c.sendall(line)
            return c.getPeerCertificate() != nil
        }
        let client = try makeClient { c in
            if clientHasCert { c.setClientAuthDataCallback { _ in (f.clientCertificate, f.clientKey) } }
        }
        defer { client.close() }
        do {
            try client.connect(address, timeout: .seconds(10))
            try client.sendall("x\n")
            let echoed = try client.readline(timeout: .seconds(10))
            guard echoed == "x\n".bytes else { throw SSLError(.handshakeFailed, "connection ended: \(echoed)") }
            return (try server.value(), nil)
        } catch {
            _ = try? server.value()
            return (false, error)
        }
    }

    func testRequireCertificateOnlyActsWithRequestCertificate() throws {
        // require on, request off: no certificate is asked for, so a client without one gets through.
        var r = try clientAuthRun(request: false, require: .always, clientHasCert: false)
        XCTAssertNil(r.error)
        XCTAssertFalse(r.serverSawCert)
        // Even a client with a certificate is not asked for it.
        r = try clientAuthRun(request: false, require: .always, clientHasCert: true)
        XCTAssertNil(r.error)
        XCTAssertFalse(r.serverSawCert)
        // request and require: a client without one is refused.
        r = try clientAuthRun(request: true, require: .always, clientHasCert: false)
        XCTAssertNotNil(r.error)
        // request, require never: accepted without; with one, the server sees it.
        r = try clientAuthRun(request: true, require: .never, clientHasCert: false)
        XCTAssertNil(r.error)
        XCTAssertFalse(r.serverSawCert)
        r = try clientAuthRun(request: true, require: .never, clientHasCert: true)
        XCTAssertNil(r.error)
        XCTAssertTrue(r.serverSawCert)
        // request with the default (SSL_REQUIRE_FIRST_HANDSHAKE): refused without.
        r = try clientAuthRun(request: true, require: nil, clientHasCert: false)
        XCTAssertNotNil(r.error)
    }

    func testHandshakeAsClientAndServerSwapWhatAcceptAndConnectDo() throws {
        let f = Fixtures.shared
        // The TCP listener handshakes as the TLS client.
        let listener = try SSLSocket()
        defer { listener.close() }
        try listener.setOption(.handshakeAsClient, true)
        listener.setTrustAnchors(f.trustStore)
        listener.setHostname("localhost")
        try listener.bind(.loopback())
        try listener.listen()
        let address = try listener.getSockName()
        let server = Background { () -> (SSLSocket.HandshakeRole?, Certificate?, String) in
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            let role = c.handshakeRole
            try c.sendall("from the TCP server\n")
            let reply = try c.readline(timeout: .seconds(20)).text
            return (role, c.getPeerCertificate(), reply)
        }
        // The TCP client handshakes as the TLS server.
        let connector = try SSLSocket()
        defer { connector.close() }
        try connector.setOption(.handshakeAsServer, true)
        try connector.setCertificateDB(f.database(withClient: false))
        try connector.configSecureServer(f.serverCertificate, f.serverKey, .ecdh)
        try connector.connect(address, timeout: .seconds(10))
        XCTAssertEqual(connector.handshakeRole, .server)
        XCTAssertEqual(try connector.readline(timeout: .seconds(10)).text, "from the TCP server\n")
        try connector.sendall("from the TCP client\n")
        let (role, peer, reply) = try server.value()
        XCTAssertEqual(role, .client)
        XCTAssertEqual(peer, f.serverCertificate)
        XCTAssertEqual(reply, "from the TCP client\n")

        // Without the options, accept makes servers and connect clients.
        let plain = try SSLSocket()
        XCTAssertNil(plain.handshakeRole)
        plain.close()
    }

    func testSecurityOffIsPlainTCP() throws {
        let listener = try SSLSocket()
        defer { listener.close() }
        try listener.setOption(.security, false)
        try listener.bind(.loopback())
        try listener.listen()
        let address = try listener.getSockName()
        let server = Background { () -> (Int, SecurityLevel, SSLSocket.HandshakeRole?) in
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.forceHandshake()   // nothing to do without security
            let line = try c.readline(timeout: .seconds(20))
            try c.sendall(line)
            return (c.dataPending(), c.getSecurityStatus().on, c.handshakeRole)
        }
        // A plain TCP client sees plain bytes both ways.
        let client = try Socket()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        try client.sendall("not encrypted\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "not encrypted\n")
        let (pending, level, role) = try server.value()
        XCTAssertEqual(pending, 0)
        XCTAssertEqual(level, .off)
        XCTAssertNil(role)
    }

    func testSecurityCannotBeTurnedOffOnceTheHandshakeStarted() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = serveEcho(listener)
        let client = try makeClient()
        try client.connect(address, timeout: .seconds(10))
        try client.forceHandshake(timeout: .seconds(10))
        XCTAssertThrowsError(try client.setOption(.security, false)) { e in
            XCTAssertEqual((e as? SSLError)?.code, .invalidArgument)
        }
        XCTAssertTrue(client.getOption(.security))
        client.close()
        try server.value()
    }

    func testEnableTLSOffLeavesNoProtocol() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = Background { _ = try? listener.accept(timeout: .seconds(5)) }
        let client = try makeClient()
        defer { client.close() }
        try client.setOption(.enableTLS, false)
        try client.connect(address, timeout: .seconds(10))
        XCTAssertThrowsError(try client.forceHandshake(timeout: .seconds(5))) { e in
            XCTAssertEqual((e as? SSLError)?.code, .noProtocolEnabled)
        }
        _ = try? server.value()
    }
}
