import Foundation
import TLSCrypto
import TLSRecord
import TLSHandshake
import X509
import TLSSessionCache

/// NSS's certificate-authentication callback: `(socket, checkSig, isServer) -> Bool`.
/// It finds the certificate with `socket.getPeerCertificate()`; on refusal it may
/// say why with `socket.setAuthenticationError(_:)`.
public typealias AuthCertificateCallback = (_ socket: SSLSocket, _ checkSig: Bool, _ isServer: Bool) -> Bool
/// NSS's bad-certificate callback: called when the authentication callback
/// refused; returning true accepts the certificate anyway.
public typealias BadCertificateCallback = (_ socket: SSLSocket, _ error: SSLError) -> Bool
/// NSS's client-auth-data callback: given the CA names the server accepts,
/// the certificate and key to authenticate with, or nil for none.
public typealias ClientAuthDataCallback = (_ caNames: [DistinguishedName]) -> (Certificate, PrivateKey)?
/// NSS's handshake callback: called after every completed handshake.
public typealias HandshakeCallback = (_ socket: SSLSocket) -> Void
/// NSS's PK11 password callback: `(slot, retry, pinArgs) -> password or nil`.
public typealias PasswordCallback = (_ slot: String, _ retry: Bool, _ pinArgs: [Any]) -> String?

/// A socket with TLS: NSS's `ssl.SSLSocket`, and what Python's `wrapSocket`
/// returns. The plain-socket calls of `Socket` (bind, listen, accept, connect,
/// recv, send, sendall, makefile, readline, shutdown, close, ...) carry
/// plaintext over TLS once the socket knows its role:
///
/// - `connect` makes it a TLS client (a server with `.handshakeAsServer`),
/// - `accept` returns sockets that are TLS servers (clients with `.handshakeAsClient`),
/// - an imported descriptor needs `resetHandshake(asServer:)`.
///
/// The handshake runs on the first read or write, or explicitly with
/// `forceHandshake(timeout:)`. With `.security` off the socket is plain TCP.
///
/// One thread may read while another writes (NSS's `SSL_ENABLE_FDX`); see
/// `SecureChannel` for the lock discipline. Callbacks run on the thread driving
/// the handshake and must not do I/O on the same socket.
///
/// Callbacks are stored closures: capture the socket weakly, or use the socket
/// argument they are given, to avoid a reference cycle.
open class SSLSocket: Socket {
    /// The side of the handshake the socket takes.
    public enum HandshakeRole: Sendable {
        /// Sends the ClientHello.
        case client
        /// Answers it.
        case server
    }

    struct Settings {
        var options: [SSLOption: Bool] = Dictionary(uniqueKeysWithValues: SSLOption.allCases.map { ($0, $0.defaultValue != 0) })
        var requireMode: RequireCertificate = .firstHandshake
        var minVersion: TLSProtocolVersion = .tls12
        var maxVersion: TLSProtocolVersion = .tls13
        var cipherOrder: [CipherSuite] = TLSConfiguration().cipherSuites
        var disabledCiphers: Set<CipherSuite> = []
        var hostname: String?
        var certDB: CertificateDatabase?
        var serverCredentials: [(kea: KeyExchangeAlgorithm, key: CertifiedKey, certificate: Certificate)] = []
        var clientCredential: (key: CertifiedKey, certificate: Certificate)?
        var trustAnchors: TrustStore?
        var authCertificate: AuthCertificateCallback?
        var badCertificate: BadCertificateCallback?
        var clientAuthData: ClientAuthDataCallback?
        var handshakeCallback: HandshakeCallback?
        var pinArgs: [Any]?
        var peerID: String?
        var alpnProtocols: [String] = []
        var suppressRaggedEOFs = true
        var doHandshakeOnConnect = false
        /// Set by wrapSocket: the role `connect` and `accept` give, whatever the NSS options say.
        var pythonServerSide: Bool?
        var sessionInvalidated = false
        var keyLog: ((String, [UInt8], [UInt8]) -> Void)?
    }

    var settings = Settings()
    private var channel: SecureChannel?
    private var role: HandshakeRole?
    private let scrutinyLock = NSLock()
    private var scrutiny: [Certificate]?
    private var authError: SSLError?
    private var usedClientCertificate: Certificate?

    nonisolated(unsafe) private static var passwordCallback: PasswordCallback?
    private static let passwordLock = NSLock()

    /// A new TLS socket (NSS `SSLSocket(family, type)`). TLS needs a stream:
    /// `.udp` is refused (DTLS is not supported).
    public override init(family: AddressFamily = .inet, type: SocketType = .tcp) throws {
        guard type == .tcp else { throw SSLError(.unsupported, "TLS over UDP (DTLS) is not supported") }
        try super.init(family: family, type: type)
    }

    override init(adopting fd: Int32, family: AddressFamily, type: SocketType) {
        super.init(adopting: fd, family: family, type: type)
    }

    override init(takingOver other: Socket) throws {
        try super.init(takingOver: other)
    }

    /// Wraps an already connected stream descriptor (NSS `import_tcp_socket`).
    /// Call `resetHandshake(asServer:)` before any I/O, to say which side of the
    /// handshake to take; until then I/O fails with `.noHandshakeRole`.
    open override class func importTCPSocket(_ osfd: Int32) throws -> SSLSocket {
        let (family, type) = try Socket.describe(osfd)
        return SSLSocket(adopting: osfd, family: family, type: type)
    }

    // MARK: options

    /// Changes one option (NSS `set_ssl_option`). Turning on `.enableSSL2`,
    /// `.enableSSL3` or `.v2CompatibleHello` is an `SSLError` `.retiredProtocol`
    /// naming the RFC; turning `.v2CompatibleHello` off also turns `.enableSSL2`
    /// off; `.requireCertificate` true means `RequireCertificate.always`.
    /// `.security` cannot change once the handshake has started.
    public func setOption(_ option: SSLOption, _ value: Bool) throws {
        if value, let rfc = option.retiredBy {
            let what = option == .enableSSL3 ? "SSL 3.0 is deprecated by RFC 7568"
                : option == .enableSSL2 ? "SSL 2.0 is prohibited by RFC 6176"
                : "SSLv2-compatible ClientHellos are prohibited by RFC 6176"
            throw SSLError(.retiredProtocol, "\(option.nssName): \(what); only TLS 1.2 and TLS 1.3 are supported", retiredBy: rfc)
        }
        try stateLock.withLock {
            if option == .security && channel != nil && value != settings.options[.security] {
                throw SSLError(.invalidArgument, "SSL_SECURITY cannot change after the handshake has started")
            }
            switch option {
            case .requireCertificate:
                settings.requireMode = value ? .always : .never
            case .v2CompatibleHello:
                settings.options[.enableSSL2] = false
            default:
                break
            }
            settings.options[option] = value
        }
    }

    /// Sets `.requireCertificate` to one of NSS's `SSL_REQUIRE_*` values.
    public func setOption(_ option: SSLOption, _ value: RequireCertificate) throws {
        guard option == .requireCertificate else {
            throw SSLError(.invalidArgument, "\(option.nssName) takes a boolean, not \(value)")
        }
        stateLock.withLock {
            settings.requireMode = value
            settings.options[.requireCertificate] = value != .never
        }
    }

    /// Whether an option is on (NSS `get_ssl_option`; `.requireCertificate` is on unless `.never`).
    public func getOption(_ option: SSLOption) -> Bool {
        getOptionValue(option) != 0
    }

    /// An option's value as NSS's `get_ssl_option` returns it: 0/1, or the
    /// `SSL_REQUIRE_*` number for `.requireCertificate`.
    public func getOptionValue(_ option: SSLOption) -> Int {
        stateLock.withLock {
            if option == .requireCertificate { return settings.requireMode.rawValue }
            return settings.options[option] == true ? 1 : 0
        }
    }

    /// The requirement `.requireCertificate` holds.
    public var requireCertificate: RequireCertificate { stateLock.withLock { settings.requireMode } }

    /// Limits the protocol versions (NSS `SSL_VersionRangeSet`). Versions below
    /// TLS 1.2 are refused with the RFC that retired them.
    public func setVersionRange(min: TLSProtocolVersion, max: TLSProtocolVersion) throws {
        try min.requireSupported()
        try max.requireSupported()
        guard min <= max else { throw SSLError(.invalidArgument, "version range \(min.name)-\(max.name) is empty") }
        stateLock.withLock { settings.minVersion = min; settings.maxVersion = max }
    }

    /// The enabled protocol versions.
    public var versionRange: (min: TLSProtocolVersion, max: TLSProtocolVersion) {
        stateLock.withLock { (settings.minVersion, settings.maxVersion) }
    }

    // MARK: cipher suites

    /// Enables or disables a cipher suite by number (NSS `set_cipher_pref`).
    /// Enabling a suite this library does not implement is an `SSLError` `.unsupported`.
    public func setCipherPref(_ cipher: UInt16, _ enabled: Bool) throws {
        guard let suite = CipherSuite(rawValue: cipher) else {
            if enabled {
                throw SSLError(.unsupported, "cipher suite 0x\(String(cipher, radix: 16, uppercase: true)) is not implemented "
                               + "(only TLS 1.3 suites and TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305)")
            }
            return
        }
        setCipherPref(suite, enabled)
    }

    /// Enables or disables a cipher suite.
    public func setCipherPref(_ suite: CipherSuite, _ enabled: Bool) {
        stateLock.withLock {
            if enabled {
                settings.disabledCiphers.remove(suite)
                if !settings.cipherOrder.contains(suite) { settings.cipherOrder.append(suite) }
            } else {
                settings.disabledCiphers.insert(suite)
            }
        }
    }

    /// Whether a cipher suite is enabled (NSS `get_cipher_pref`); false for suites we do not implement.
    public func getCipherPref(_ cipher: UInt16) -> Bool {
        guard let suite = CipherSuite(rawValue: cipher) else { return false }
        return getCipherPref(suite)
    }

    /// Whether a cipher suite is enabled.
    public func getCipherPref(_ suite: CipherSuite) -> Bool {
        stateLock.withLock { settings.cipherOrder.contains(suite) && !settings.disabledCiphers.contains(suite) }
    }

    /// The enabled suites in preference order.
    public var enabledCipherSuites: [CipherSuite] {
        stateLock.withLock { settings.cipherOrder.filter { !settings.disabledCiphers.contains($0) } }
    }

    /// Selects and orders the suites with an OpenSSL cipher string (see `CipherString`).
    public func setCiphers(_ cipherString: String) throws {
        let selection = try CipherString.parse(cipherString)
        stateLock.withLock {
            settings.cipherOrder = selection.suites
            settings.disabledCiphers = []
        }
    }

    // MARK: identity and trust

    /// The name of the server the client wants (NSS `set_hostname`): sent as SNI
    /// and checked against the server's certificate by the default authentication.
    public func setHostname(_ name: String?) {
        stateLock.withLock { settings.hostname = name }
    }

    /// The name given to `setHostname` (NSS `get_hostname`).
    public func getHostname() -> String? { stateLock.withLock { settings.hostname } }

    /// The certificate database (NSS `set_certificate_db`): its trusted CAs are the
    /// trust anchors of the default authentication, and chains are completed from it.
    public func setCertificateDB(_ db: CertificateDatabase?) {
        stateLock.withLock { settings.certDB = db }
    }

    /// The database given to `setCertificateDB`.
    public func getCertificateDB() -> CertificateDatabase? { stateLock.withLock { settings.certDB } }

    /// Trust anchors for peer verification, overriding the database's and the system's.
    public func setTrustAnchors(_ store: TrustStore?) {
        stateLock.withLock { settings.trustAnchors = store }
    }

    /// The anchors verification uses: those set, else the database's trusted CAs, else the system's.
    public var verificationTrustStore: TrustStore {
        stateLock.withLock {
            settings.trustAnchors ?? settings.certDB?.trustStore ?? X509PeerVerifier.systemTrustStore ?? TrustStore()
        }
    }

    /// Gives a server its certificate and key (NSS `config_secure_server`).
    /// `kea` must suit the key: `.rsa` for RSA, `.ecdh` for ECDSA or Ed25519;
    /// `.dh`, `.fortezza` and `.null` are not supported. One certificate per
    /// kind may be set (an RSA and an ECDSA one side by side). The chain sent
    /// is completed from the certificate database when one is set.
    public func configSecureServer(_ certificate: Certificate, _ key: PrivateKey, _ kea: KeyExchangeAlgorithm) throws {
        switch (kea, key) {
        case (.rsa, .rsa), (.ecdh, .ecdsa), (.ecdh, .ed25519): break
        case (.dh, _), (.fortezza, _), (.null, _):
            throw SSLError(.unsupported, "key exchange ssl_kea_\(kea.rawValue) is not supported (ECDHE only)")
        default:
            throw SSLError(.invalidArgument, "ssl_kea_\(kea.rawValue) does not suit a \(key.publicKey.kindName) key")
        }
        let certified: CertifiedKey
        do { certified = try CertifiedKey(certificates: [certificate], privateKey: key) } catch {
            throw SSLError(.credentials, "\(error)")
        }
        stateLock.withLock {
            settings.serverCredentials.removeAll { $0.kea == kea }
            // The chain is completed from the certificate database when the handshake starts.
            settings.serverCredentials.append((kea, certified, certificate))
        }
    }

    /// The leaf and the intermediates above it in `db` (not the self-signed root).
    static func sendableChain(_ db: CertificateDatabase, _ leaf: Certificate) -> [Certificate] {
        db.chain(for: leaf).enumerated().filter { $0.offset == 0 || !$0.element.isSelfIssued }.map(\.element)
    }

    /// Our own certificate (NSS `get_certificate`): the server's, or the one a
    /// client authenticated with; nil if none was set or used.
    public func getCertificate() -> Certificate? {
        if let c = scrutinyLock.withLock({ usedClientCertificate }) { return c }
        return stateLock.withLock { settings.serverCredentials.first?.certificate ?? settings.clientCredential?.certificate }
    }

    /// The peer's certificate (NSS `get_peer_certificate`): during the
    /// authentication callbacks the one under scrutiny, afterwards the one the
    /// handshake accepted. A server gets nil when it did not ask, or the client had none.
    public func getPeerCertificate() -> Certificate? {
        scrutinyLock.withLock { scrutiny?.first }
    }

    /// The peer's whole chain as sent, leaf first.
    public func getPeerCertificateChain() -> [Certificate] {
        scrutinyLock.withLock { scrutiny ?? [] }
    }

    /// Records why an authentication callback refused (NSS `nss.set_error`);
    /// the handshake error and the bad-certificate callback receive it.
    public func setAuthenticationError(_ error: SSLError) {
        scrutinyLock.withLock { authError = error }
    }

    /// ALPN protocols to offer (client) or accept (server), in preference order.
    public func setALPNProtocols(_ protocols: [String]) {
        stateLock.withLock { settings.alpnProtocols = protocols }
    }

    /// The protocol ALPN selected, if any.
    public func selectedALPNProtocol() -> String? { negotiated?.alpn }

    // MARK: callbacks

    /// Replaces the certificate authentication (NSS `set_auth_certificate_callback`);
    /// nil restores `SSLSocket.defaultAuthCertificate`.
    public func setAuthCertificateCallback(_ callback: AuthCertificateCallback?) {
        stateLock.withLock { settings.authCertificate = callback }
    }

    /// Sets the bad-certificate callback (NSS `set_bad_cert_callback`).
    public func setBadCertificateCallback(_ callback: BadCertificateCallback?) {
        stateLock.withLock { settings.badCertificate = callback }
    }

    /// Sets the client-auth-data callback (NSS `set_client_auth_data_callback`).
    /// Without one, a client offers no certificate.
    public func setClientAuthDataCallback(_ callback: ClientAuthDataCallback?) {
        stateLock.withLock { settings.clientAuthData = callback }
    }

    /// Sets the handshake-complete callback (NSS `set_handshake_callback`).
    public func setHandshakeCallback(_ callback: HandshakeCallback?) {
        stateLock.withLock { settings.handshakeCallback = callback }
    }

    /// Stores arguments for key-password callbacks (NSS `set_pkcs11_pin_arg`).
    public func setPKCS11PinArg(_ args: Any...) {
        stateLock.withLock { settings.pinArgs = args }
    }

    /// The arguments given to `setPKCS11PinArg`, or nil (NSS `get_pkcs11_pin_arg`).
    public func getPKCS11PinArg() -> [Any]? { stateLock.withLock { settings.pinArgs } }

    /// Sets the process-wide password callback (NSS `nss.set_password_callback`),
    /// asked for the passphrase of encrypted keys with this socket's pin arguments.
    public static func setPasswordCallback(_ callback: PasswordCallback?) {
        passwordLock.withLock { passwordCallback = callback }
    }

    /// Reads a private key file (PEM or DER). An encrypted key's passphrase comes
    /// from the password callback, called with the file name as slot, `retry`
    /// set after a wrong passphrase (up to `attempts` times), and this socket's
    /// pin arguments.
    public func loadPrivateKey(file path: String, attempts: Int = 3) throws -> PrivateKey {
        guard let data = FileManager.default.contents(atPath: path) else { throw SSLError(.credentials, "cannot read \(path)") }
        let bytes = Array(data)
        let callback = Self.passwordLock.withLock { Self.passwordCallback }
        let pin = getPKCS11PinArg() ?? []
        var passphrase: String? = nil
        var attempt = 0
        while true {
            do {
                return try PrivateKeyParser.parse(bytes, passphrase: passphrase.map { Array($0.utf8) }).key
            } catch let e as X509Error where e.code == .passphraseRequired || e.code == .wrongPassphrase {
                if attempt >= attempts { break }
                guard let callback, let p = callback(path, attempt > 0, pin) else {
                    throw SSLError(.credentials, "\(path): \(e.message) (no password from the password callback)")
                }
                passphrase = p
                attempt += 1
            } catch {
                throw SSLError(.credentials, "\(path): \(error)")
            }
        }
        throw SSLError(.credentials, "\(path): wrong passphrase after \(attempts) attempts")
    }

    // MARK: sessions (the calls exist; resumption is the session cache's job)

    /// Sets the peer ID that, with host and port, keys this client's session
    /// cache entry (NSS `set_sock_peer_id`; e.g. "www.example.com:443" when
    /// tunnelling through a proxy). Stored for the session cache; today's engine
    /// does not resume sessions.
    public func setSockPeerID(_ id: String) {
        stateLock.withLock { settings.peerID = id }
    }

    /// Numeric form of `setSockPeerID`.
    public func setSockPeerID(_ id: Int) { setSockPeerID(String(id)) }

    /// The peer ID set with `setSockPeerID`.
    public func getSockPeerID() -> String? { stateLock.withLock { settings.peerID } }

    /// Stops the current session from being resumed by new connections; this
    /// connection carries on (NSS `invalidate_session`). Today no session is
    /// ever resumed, so this only records the request for the session cache.
    public func invalidateSession() {
        stateLock.withLock { settings.sessionInvalidated = true }
        currentChannel?.withEngine { $0.invalidateSession() }
    }

    /// Whether `invalidateSession` was called.
    public var isSessionInvalidated: Bool { stateLock.withLock { settings.sessionInvalidated } }

    /// The session ID (NSS `get_session_id`): the one a TLS 1.2 server put in
    /// its ServerHello. Nil before the handshake, with TLS 1.3 (which has no
    /// session IDs: its legacy_session_id is a compatibility echo), and when the
    /// server gave none (our own TLS 1.2 server does not, until the session
    /// cache exists).
    public func getSessionID() -> [UInt8]? {
        guard let ch = currentChannel, ch.isHandshakeComplete else { return nil }
        return ch.withEngine { e in
            guard e.negotiated?.version == .tls12, !e.sessionInvalidated else { return nil }
            let id = e.negotiated?.sessionID ?? []
            return id.isEmpty ? nil : id
        }
    }

    // MARK: handshake

    var currentChannel: SecureChannel? { stateLock.withLock { channel } }

    /// The channel for I/O: nil when `.security` is off; created on first use
    /// from the settings of that moment.
    func activeChannel() throws -> SecureChannel? {
        // Outside the state lock: the socket's own calls take it.
        let peer = currentChannel == nil ? try? getPeerName() : nil
        return try stateLock.withLock {
            guard settings.options[.security] == true else { return nil }
            if let channel { return channel }
            guard let role else {
                throw SSLError(.noHandshakeRole, "the socket does not know its handshake role: call connect, accept or resetHandshake(asServer:)")
            }
            let config = try makeConfiguration(role, peer: peer)
            let engine = TLSConnection(role: role == .client ? .client : .server, config: config)
            let ch = SecureChannel(engine: engine, transport: DescriptorTransport(self))
            ch.onHandshakeComplete = { [weak self] in
                guard let self else { return }
                if let cb = self.stateLock.withLock({ self.settings.handshakeCallback }) { cb(self) }
            }
            channel = ch
            return ch
        }
    }

    func makeConfiguration(_ role: HandshakeRole, peer: NetworkAddress? = nil) throws -> TLSConfiguration {
        let s = settings
        guard s.options[.enableTLS] == true else {
            throw SSLError(.noProtocolEnabled, "SSL_ENABLE_TLS is off, and SSL 2.0 and 3.0 are retired (RFC 6176, RFC 7568): no protocol version is enabled")
        }
        var c = TLSConfiguration()
        guard let minVersion = s.minVersion.wireVersion, let maxVersion = s.maxVersion.wireVersion else {
            throw SSLError(.noProtocolEnabled, "only TLS 1.2 and TLS 1.3 can be negotiated (SSL 3.0: RFC 7568; TLS 1.0/1.1: RFC 8996)")
        }
        c.minVersion = minVersion
        c.maxVersion = maxVersion
        c.cipherSuites = s.cipherOrder.filter { !s.disabledCiphers.contains($0) }
        let usable = c.cipherSuites.filter { $0.isTLS13 ? s.maxVersion == .tls13 : s.minVersion == .tls12 }
        guard !usable.isEmpty else {
            throw SSLError(.noCipherSelected, "no enabled cipher suite can be used with \(s.minVersion.name)-\(s.maxVersion.name)")
        }
        c.alpnProtocols = s.alpnProtocols
        c.verifyPeer = true
        c.peerVerifier = ChannelVerifier { [weak self] chain, peer in
            guard let self else { throw HandshakeError(.internalError, "socket gone") }
            return try self.authenticate(chain: chain, peer: peer)
        }
        c.keyLog = s.keyLog
        // Sessions: NSS keeps one cache per process; SSL_NO_CACHE opts a socket out.
        if s.options[.noCache] == true || s.sessionInvalidated {
            c.sessionCacheDisabled = true
        } else {
            c.clientSessionStore = SessionCaches.client
            c.ticketProtector = SessionCaches.ticketKeys
            c.serverSessionStore = SessionCaches.serverIDs
            if role == .client, let peer {
                c.sessionKey = MemoryClientSessionStore.key(host: s.hostname ?? peer.host, port: peer.port, peerID: s.peerID)
            }
        }
        switch role {
        case .server:
            // ECDSA first: the engine picks the first certificate the client can use.
            c.certificates = s.serverCredentials.sorted { a, _ in a.kea == .ecdh }.map { credential in
                var key = credential.key
                if key.chain.count == 1, let db = s.certDB {
                    key.chain = Self.sendableChain(db, credential.certificate).map(\.der)
                }
                return key
            }
            guard !c.certificates.isEmpty else {
                throw SSLError(.invalidArgument, "a TLS server needs a certificate and key: call configSecureServer")
            }
            if s.options[.requestCertificate] == true {
                switch s.requireMode {
                case .always: c.clientAuthentication = .require
                case .firstHandshake:
                    c.clientAuthentication = .require
                    c.renegotiationClientAuthentication = .request
                case .never, .noError: c.clientAuthentication = .request
                }
                if let anchors = s.trustAnchors ?? s.certDB?.trustStore {
                    c.certificateAuthorities = anchors.subjectNames.map(\.der)
                }
            }
        case .client:
            c.serverName = s.hostname
            if let cred = s.clientCredential { c.certificates = [cred.key] }
            c.clientCertificateProvider = { [weak self] caNames in self?.provideClientCertificate(caNames) }
        }
        return c
    }

    private func provideClientCertificate(_ caNamesDER: [[UInt8]]) -> CertifiedKey? {
        let (callback, db, credential) = stateLock.withLock { (settings.clientAuthData, settings.certDB, settings.clientCredential) }
        guard let callback else {
            if let credential { scrutinyLock.withLock { usedClientCertificate = credential.certificate } }
            return credential?.key
        }
        let names = caNamesDER.compactMap { try? DistinguishedName(derEncoded: $0) }
        guard let (certificate, key) = callback(names) else { return nil }
        let chain = db.map { Self.sendableChain($0, certificate) } ?? [certificate]
        guard let certified = try? CertifiedKey(certificates: chain, privateKey: key) else { return nil }
        scrutinyLock.withLock { usedClientCertificate = certificate }
        return certified
    }

    /// The engine's certificate check: runs the authentication callback, then the
    /// bad-certificate callback if it refused.
    private func authenticate(chain: [[UInt8]], peer: PeerRole) throws -> PeerIdentity {
        var certs: [Certificate] = []
        for (i, der) in chain.enumerated() {
            do { certs.append(try Certificate(derEncoded: der)) } catch {
                throw HandshakeError(.badCertificate, "certificate \(i) does not parse: \(error)")
            }
        }
        guard let leaf = certs.first else { throw HandshakeError(.decodeError, "empty certificate chain") }
        guard let key = leaf.publicKey else {
            throw HandshakeError(.unsupportedCertificate, "unsupported public key: \(leaf.publicKeyError?.message ?? "")")
        }
        scrutinyLock.withLock { scrutiny = certs; authError = nil }
        let isServer = peer == .client
        let (auth, bad, requireMode) = stateLock.withLock { (settings.authCertificate, settings.badCertificate, settings.requireMode) }
        func identity(_ verified: Bool, _ verdict: String) -> PeerIdentity {
            PeerIdentity(publicKey: key, chain: chain, subject: leaf.subject.rfc4514String, issuer: leaf.issuer.rfc4514String,
                         verified: verified, verdict: verdict)
        }
        if (auth ?? SSLSocket.defaultAuthCertificate)(self, true, isServer) { return identity(true, "ok") }
        let error = scrutinyLock.withLock { authError }
            ?? SSLError(.badCertificate, "the certificate authentication callback refused the certificate")
        if let bad, bad(self, error) { return identity(false, "accepted by the bad-certificate callback: \(error.message)") }
        if isServer && requireMode == .noError { return identity(false, "not verified: \(error.message)") }
        throw HandshakeError(Self.alert(for: error.certificateFailure), error.message)
    }

    static func alert(for reason: CertificateFailureReason?) -> AlertDescription {
        switch reason {
        case .expired?, .notYetValid?: return .certificateExpired
        case .unknownIssuer?, .loop?, .chainTooLong?: return .unknownCA
        case .unsupportedCriticalExtension?, .unsupportedAlgorithm?, .keyUsage?, .extendedKeyUsage?, .keyTooSmall?, .weakSignatureAlgorithm?:
            return .unsupportedCertificate
        default: return .badCertificate
        }
    }

    /// NSS's `SSL_AuthCertificate`, the default authentication, as the page's
    /// example does it: the chain is validated (RFC 5280) against
    /// `verificationTrustStore` for the intended usage (TLS client
    /// authentication when `isServer`, TLS server authentication otherwise) and,
    /// for a client, the server's certificate must match `getHostname()` (RFC
    /// 6125); no hostname set is a failure. With `checkSig` false, signatures and
    /// the chain are not checked: only validity dates and the name.
    public static func defaultAuthCertificate(_ socket: SSLSocket, checkSig: Bool, isServer: Bool) -> Bool {
        let chain = socket.getPeerCertificateChain()
        guard let leaf = chain.first else {
            socket.setAuthenticationError(SSLError(.badCertificate, "no certificate to authenticate", certificateFailure: .emptyChain))
            return false
        }
        var hostname: String? = nil
        if !isServer {
            guard let h = socket.getHostname(), !h.isEmpty else {
                socket.setAuthenticationError(SSLError(.badCertificate, "no hostname set (setHostname) to check the server's certificate against",
                                                       certificateFailure: .hostnameMismatch))
                return false
            }
            hostname = h
        }
        if checkSig {
            // As NSS does, the certificate database also supplies intermediates the peer did not send.
            var pool = chain
            if let db = socket.getCertificateDB() {
                let trusted = Set(db.trustStore.certificates)
                for name in db.nicknames {
                    if let c = db.certificate(nickname: name), !trusted.contains(c), !pool.contains(c) { pool.append(c) }
                }
            }
            return verifyChain(socket, pool, hostname: hostname, purpose: isServer ? .client : .server, trust: socket.verificationTrustStore)
        }
        let now = X509Time(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
        if now < leaf.notBefore || now > leaf.notAfter {
            socket.setAuthenticationError(SSLError(.badCertificate, "the certificate is outside its validity period",
                                                   certificateFailure: now < leaf.notBefore ? .notYetValid : .expired))
            return false
        }
        if let hostname, !HostnameMatcher.matches(leaf, hostname: hostname) {
            socket.setAuthenticationError(SSLError(.badCertificate, "the certificate does not match \(hostname)", certificateFailure: .hostnameMismatch))
            return false
        }
        return true
    }

    /// Validates `chain` (leaf first) against `trust`, recording the reason on failure.
    static func verifyChain(_ socket: SSLSocket, _ chain: [Certificate], hostname: String?, purpose: CertificatePurpose, trust: TrustStore) -> Bool {
        guard let leaf = chain.first else { return false }
        do {
            _ = try CertificateVerifier(trustStore: trust).verify(leaf: leaf, intermediates: Array(chain.dropFirst()),
                                                                   hostname: hostname, purpose: purpose)
            return true
        } catch let e as CertificateVerificationError {
            socket.setAuthenticationError(SSLError(.badCertificate, "certificate verification failed: \(e)", certificateFailure: e.reason))
        } catch {
            socket.setAuthenticationError(SSLError(.badCertificate, "certificate verification failed: \(error)"))
        }
        return false
    }

    /// The client-auth data NSS's `NSS_GetClientAuthData` provides, as the
    /// page's example writes it: with a nickname, that certificate and its key;
    /// otherwise the first certificate with a key in `db` that is within its
    /// validity dates and was issued under one of the server's CA names.
    public static func databaseClientAuthData(_ db: CertificateDatabase, nickname: String? = nil) -> ClientAuthDataCallback {
        return { caNames in
            if let nickname {
                guard let cert = db.certificate(nickname: nickname), let key = db.privateKey(for: cert) else { return nil }
                return (cert, key)
            }
            let now = X509Time(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
            for name in db.nicknamesWithKeys {
                guard let cert = db.certificate(nickname: name), let key = db.privateKey(for: cert) else { continue }
                guard db.checkValidTimes(cert, at: now) == .valid else { continue }
                if caNames.isEmpty || db.issuerIsIn(cert, caNames: caNames) { return (cert, key) }
            }
            return nil
        }
    }

    /// Drives the handshake to completion (NSS `force_handshake` and
    /// `force_handshake_timeout`). After the first handshake it drives a pending
    /// renegotiation, returning early if application data arrives first that
    /// must be read. Does nothing with `.security` off.
    public func forceHandshake(timeout: Duration? = nil) throws {
        guard let ch = try activeChannel() else { return }
        try mapErrors { try ch.forceHandshake(deadline(timeout)) }
    }

    /// Starts a new handshake on an established connection (NSS `rehandshake`
    /// and `rehandshake_timeout`): TLS 1.2 secure renegotiation (RFC 5746), or in
    /// TLS 1.3 a KeyUpdate that also asks the peer to update. Only the first
    /// message is sent; `forceHandshake` or I/O completes it. `flushCache`
    /// first invalidates the session so no abbreviated handshake can follow.
    ///
    /// In TLS 1.3 a server that has newly turned on `.requestCertificate` would
    /// need post-handshake authentication, which the engine lacks: that case is
    /// an `SSLError` `.notAvailable`.
    public func rehandshake(flushCache: Bool, timeout: Duration? = nil) throws {
        guard let ch = try activeChannel() else { throw SSLError(.invalidArgument, "rehandshake on a socket with SSL_SECURITY off") }
        guard ch.isHandshakeComplete else { throw SSLError(.notConnected, "rehandshake needs a completed first handshake") }
        if flushCache { invalidateSession() }
        let (wantsCert, isServer) = stateLock.withLock { (settings.options[.requestCertificate] == true, role == .server) }
        let needsPostHandshakeAuth = ch.withEngine { e in
            isServer && wantsCert && e.negotiated?.version == .tls13 && e.config.clientAuthentication == .none
        }
        if needsPostHandshakeAuth {
            // TLS 1.3 has no renegotiation: a newly requested client certificate is asked for
            // after the handshake (RFC 8446 4.6.2), then the keys are updated as usual.
            let required = stateLock.withLock { settings.requireMode == .always }
            try mapErrors { try ch.withEngine { try $0.requestClientCertificate(required: required) } }
        }
        try mapErrors { try ch.rehandshake(deadline(timeout)) }
    }

    /// Makes the next I/O start a new handshake from scratch, as a server or a
    /// client (NSS `reset_handshake`). Needed after `importTCPSocket`.
    public func resetHandshake(asServer: Bool) {
        stateLock.withLock {
            channel = nil
            role = asServer ? .server : .client
        }
        scrutinyLock.withLock { scrutiny = nil; usedClientCertificate = nil }
    }

    /// The role the next or current handshake takes (nil until known).
    public var handshakeRole: HandshakeRole? { stateLock.withLock { role } }

    /// What the handshake agreed (nil before it completes).
    public var negotiated: NegotiatedParameters? {
        guard let ch = currentChannel, ch.isHandshakeComplete else { return nil }
        return ch.withEngine { $0.negotiated }
    }

    /// NSS `get_security_status`: on/off, cipher, key sizes, peer issuer and subject.
    public func getSecurityStatus() -> SecurityStatus {
        guard getOption(.security), let n = negotiated else { return .off }
        let peer = n.peer
        return SecurityStatus(on: n.cipherSuite.keyBits >= 128 ? .high : .low, cipher: n.cipherSuite.bulkCipherName,
                              keySize: n.cipherSuite.keyBits, secretKeySize: n.cipherSuite.keyBits,
                              issuer: peer?.issuer ?? "no certificate", subject: peer?.subject ?? "no certificate",
                              version: TLSProtocolVersion(n.version), cipherSuite: n.cipherSuite)
    }

    /// Decrypted bytes waiting to be read (NSS `data_pending`); 0 with `.security` off.
    public func dataPending() -> Int {
        guard getOption(.security), let ch = currentChannel else { return 0 }
        let buffered = lineLock.withLock { readahead.count }
        return buffered + ch.withEngine { $0.bufferedPlaintextCount }
    }

    override var hasBufferedInput: Bool { super.hasBufferedInput || dataPending() > 0 }

    /// Exports keying material (RFC 5705 / RFC 8446 7.5).
    public func exportKeyingMaterial(label: String, context: [UInt8] = [], length: Int) throws -> [UInt8] {
        guard let ch = currentChannel, ch.isHandshakeComplete else { throw SSLError(.notConnected, "no completed handshake") }
        return try mapErrors { try ch.withEngine { try $0.exportKeyingMaterial(label: label, context: context, length: length) } }
    }

    /// Key logging in the SSLKEYLOGFILE format, for debugging; set before the handshake.
    public func setKeyLog(_ log: ((String, [UInt8], [UInt8]) -> Void)?) {
        stateLock.withLock { settings.keyLog = log }
    }

    // MARK: plain-socket calls with TLS

    /// Connects, and makes the socket a TLS client (a server with
    /// `.handshakeAsServer`). The handshake follows on first I/O (at once for
    /// a `wrapSocket` socket with `doHandshakeOnConnect`).
    open override func connect(_ address: NetworkAddress, timeout: Duration? = nil) throws {
        let d = deadline(timeout)
        try plainConnect(address, deadline: d)
        let (secure, asServer, handshakeNow) = stateLock.withLock {
            (settings.options[.security] == true, settings.pythonServerSide ?? (settings.options[.handshakeAsServer] == true),
             settings.doHandshakeOnConnect)
        }
        guard secure else { return }
        resetHandshake(asServer: asServer)
        if handshakeNow { try doHandshake(timeout: d.remaining) }
    }

    /// Accepts a connection: a new `SSLSocket` with this socket's settings that
    /// will handshake as a server (as a client with `.handshakeAsClient`), and
    /// the peer's address. A `wrapSocket` server socket with
    /// `doHandshakeOnConnect` completes the handshake before returning.
    open override func accept(timeout: Duration? = nil) throws -> (SSLSocket, NetworkAddress) {
        let d = deadline(timeout)
        let (fd, peer) = try plainAccept(d)
        let s = SSLSocket(adopting: fd, family: family, type: descType)
        let (copy, asClient) = stateLock.withLock {
            (settings, settings.pythonServerSide.map { !$0 } ?? (settings.options[.handshakeAsClient] == true))
        }
        s.settings = copy
        s.settings.sessionInvalidated = false
        if copy.options[.security] == true {
            s.resetHandshake(asServer: !asClient)
            if copy.doHandshakeOnConnect {
                do { try s.doHandshake(timeout: d.remaining) } catch { s.close(); throw error }
            }
        }
        return (s, peer)
    }

    override func rawRecv(_ amount: Int, deadline: Deadline) throws -> [UInt8] {
        guard let ch = try activeChannel() else { return try super.rawRecv(amount, deadline: deadline) }
        switch try mapErrors({ try ch.read(max: amount, deadline) }) {
        case .data(let bytes): return bytes
        case .closeNotify: return []
        case .eof:
            if stateLock.withLock({ settings.suppressRaggedEOFs }) { return [] }
            throw SSLError(.raggedEOF, "EOF occurred in violation of protocol: the peer closed the connection without close_notify")
        }
    }

    /// Encrypts and sends all of `data`; returns its length.
    ///
    /// A `TimeoutError` while the handshake runs commits nothing. One after it
    /// commits all of `data`: it is encrypted and queued, and what has not gone
    /// out yet leaves first with the next operation, or with `flushOutput`
    /// (`hasUnsentOutput` says whether any is left).
    open override func send(_ data: [UInt8], timeout: Duration? = nil) throws -> Int {
        guard let ch = try activeChannel() else { return try super.send(data, timeout: timeout) }
        let d = deadline(timeout)
        try mapErrors { try ch.write(data, d) }
        return data.count
    }

    /// Encrypts and sends all of `data`; returns its length. Timeouts as for `send`.
    @discardableResult
    open override func sendall(_ data: [UInt8], timeout: Duration? = nil) throws -> Int {
        try send(data, timeout: timeout)
    }

    /// Shuts down directions; closing the sending side sends close_notify first.
    open override func shutdown(_ how: ShutdownHow = .both) throws {
        if how != .receive, let ch = currentChannel, ch.isHandshakeComplete {
            ch.close(deadline(timeout ?? .seconds(2)))
        }
        try super.shutdown(how)
    }

    /// Sends close_notify (if a handshake completed; waiting at most the
    /// socket's timeout, or 2 seconds) and closes the descriptor.
    open override func close() {
        if let ch = currentChannel, ch.isHandshakeComplete, isOpen {
            ch.close(deadline(timeout ?? .seconds(2)))
        }
        super.close()
    }

    /// "SSLSocket(fd=5, family=inet, type=tcp, peer ..., TLSv1.3 TLS_AES_128_GCM_SHA256)".
    open override var description: String {
        let base = super.description
        guard let n = negotiated else { return base }
        return String(base.dropLast()) + ", \(TLSProtocolVersion(n.version)?.name ?? "\(n.version)") \(n.cipherSuite.name))"
    }

    func mapErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as HandshakeError {
            let failure = scrutinyLock.withLock { authError?.certificateFailure }
            throw SSLError.from(e, certificateFailure: e.fromPeer ? nil : failure)
        }
    }
}

/// Reads and writes a socket's descriptor for a `SecureChannel`.
final class DescriptorTransport: ChannelTransport {
    private weak var socket: Socket?

    init(_ socket: Socket) { self.socket = socket }

    private func fd() throws -> Int32 {
        guard let socket else { throw SSLError(.closed, "the socket is gone") }
        return try socket.liveFD()
    }

    func receive(max: Int, deadline: Deadline) throws -> [UInt8] {
        try Socket.systemRecv(try fd(), max, deadline)
    }

    func send(_ data: ArraySlice<UInt8>, deadline: Deadline, sent: inout Int) throws {
        try Socket.systemSendProgress(try fd(), data, deadline, once: false, sent: &sent)
    }
}

/// A `PeerCertificateVerifier` that hands the chain to a closure.
final class ChannelVerifier: PeerCertificateVerifier {
    let check: ([[UInt8]], PeerRole) throws -> PeerIdentity
    init(_ check: @escaping ([[UInt8]], PeerRole) throws -> PeerIdentity) { self.check = check }
    func verify(chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity {
        try check(chain, peer)
    }
}

/// The process-wide session caches NSS-style sockets share (NSS keeps one per process).
public enum SessionCaches {
    /// Client sessions, keyed by host:port and the peer ID of `setSockPeerID`.
    public static let client = MemoryClientSessionStore()
    /// Server ticket keys (rotating in memory).
    public static let ticketKeys = TicketKeyRing()
    /// Server TLS 1.2 session IDs.
    public static let serverIDs = MemoryServerSessionStore()
}
