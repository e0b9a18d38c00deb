import Foundation
import TLSCrypto
import TLSRecord
import TLSHandshake
import X509

/// What pyOpenSSL's `Connection` needs of the object it is given in place of
/// a socket: `recv` and `send`. `Socket` and `SSLSocket` conform; so can files,
/// pipes or test doubles. `recv` returns an empty array at end of stream, and
/// throws `SSLError` `.wouldBlock` (or `TimeoutError`) when it cannot proceed yet.
public protocol SocketLike: AnyObject {
    /// Up to `amount` bytes; empty at end of stream.
    func recv(_ amount: Int) throws -> [UInt8]
    /// Sends some of `data` and says how much.
    func send(_ data: [UInt8]) throws -> Int
}

extension Socket: SocketLike {
    /// `recv(amount, timeout: nil)`.
    public func recv(_ amount: Int) throws -> [UInt8] { try recv(amount, timeout: nil) }
    /// `send(data, timeout: nil)`.
    public func send(_ data: [UInt8]) throws -> Int { try send(data, timeout: nil) }
}

/// pyOpenSSL's `OpenSSL.SSL` module: `Context`, `Connection`, their constants
/// and exception classes, over this library's engine.
public enum SSL {
    // MARK: constants

    /// The method a `Context` is made with (`SSLv2_METHOD`, `SSLv3_METHOD`,
    /// `SSLv23_METHOD`, `TLSv1_METHOD`, plus later pyOpenSSL's TLS 1.1/1.2 and
    /// `TLS_METHOD`). SSLv2, SSLv3, TLS 1.0 and 1.1 methods are refused with the
    /// RFC that retired them; `sslv23` and `tls` negotiate TLS 1.3 or 1.2.
    public enum Method: String, Sendable, CaseIterable {
        /// `SSLv2_METHOD`: refused (RFC 6176).
        case sslv2 = "SSLv2_METHOD"
        /// `SSLv3_METHOD`: refused (RFC 7568).
        case sslv3 = "SSLv3_METHOD"
        /// `SSLv23_METHOD`: the best version both sides support.
        case sslv23 = "SSLv23_METHOD"
        /// `TLSv1_METHOD`: refused (RFC 8996).
        case tlsv1 = "TLSv1_METHOD"
        /// `TLSv1_1_METHOD`: refused (RFC 8996).
        case tlsv1_1 = "TLSv1_1_METHOD"
        /// `TLSv1_2_METHOD`: TLS 1.2 only.
        case tlsv1_2 = "TLSv1_2_METHOD"
        /// `TLS_METHOD`: same as `sslv23`.
        case tls = "TLS_METHOD"

        var protocolVersion: TLSProtocolVersion? {
            switch self {
            case .sslv2: return .ssl2
            case .sslv3: return .ssl3
            case .tlsv1: return .tls10
            case .tlsv1_1: return .tls11
            default: return nil
            }
        }
    }

    /// `set_verify` modes (`VERIFY_NONE`, `VERIFY_PEER`, `VERIFY_FAIL_IF_NO_PEER_CERT`, `VERIFY_CLIENT_ONCE`).
    public struct VerifyMode: OptionSet, Sendable, Hashable {
        /// The OpenSSL bits.
        public let rawValue: Int
        /// A mode from OpenSSL bits.
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// `VERIFY_NONE`: a client does not check the server; a server does not ask for a certificate.
        public static let none: VerifyMode = []
        /// `VERIFY_PEER`: check the peer's certificate; a server asks the client for one.
        public static let peer = VerifyMode(rawValue: 1)
        /// `VERIFY_FAIL_IF_NO_PEER_CERT`: with `peer`, a server refuses clients without a certificate.
        public static let failIfNoPeerCert = VerifyMode(rawValue: 2)
        /// `VERIFY_CLIENT_ONCE`: accepted; renegotiations use the same configuration anyway.
        public static let clientOnce = VerifyMode(rawValue: 4)
    }

    /// File types of `use_certificate_file` / `use_privatekey_file`.
    public enum FileType: Sendable {
        /// `FILETYPE_PEM`.
        case pem
        /// `FILETYPE_ASN1` (DER).
        case asn1
    }

    /// `set_options` flags.
    public struct Options: OptionSet, Sendable, Hashable {
        /// The bits (OpenSSL 1.0's values, so none is zero).
        public let rawValue: Int
        /// Options from bits.
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// `OP_SINGLE_DH_USE`: always true here: every (EC)DHE key share is fresh.
        public static let singleDHUse = Options(rawValue: 0x0010_0000)
        /// `OP_EPHEMERAL_RSA`: not applicable: no RSA key transport, key exchange is always ephemeral (EC)DHE.
        public static let ephemeralRSA = Options(rawValue: 0x0020_0000)
        /// `OP_NO_SSLv2`: always in effect.
        public static let noSSLv2 = Options(rawValue: 0x0100_0000)
        /// `OP_NO_SSLv3`: always in effect.
        public static let noSSLv3 = Options(rawValue: 0x0200_0000)
        /// `OP_NO_TLSv1`: always in effect.
        public static let noTLSv1 = Options(rawValue: 0x0400_0000)
        /// `OP_NO_TLSv1_2`: disables TLS 1.2.
        public static let noTLSv1_2 = Options(rawValue: 0x0800_0000)
        /// `OP_NO_TLSv1_1`: always in effect.
        public static let noTLSv1_1 = Options(rawValue: 0x1000_0000)
        /// `OP_NO_TLSv1_3`: disables TLS 1.3.
        public static let noTLSv1_3 = Options(rawValue: 0x2000_0000)
        /// What is always in effect: no retired protocol, a fresh key per handshake.
        public static let alwaysOn: Options = [.singleDHUse, .noSSLv2, .noSSLv3, .noTLSv1, .noTLSv1_1]
    }

    /// `get_shutdown` / `set_shutdown` flags (`SENT_SHUTDOWN`, `RECEIVED_SHUTDOWN`).
    public struct ShutdownState: OptionSet, Sendable {
        /// The bits.
        public let rawValue: Int
        /// A state from bits.
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// We sent close_notify.
        public static let sent = ShutdownState(rawValue: 1)
        /// The peer's close_notify arrived.
        public static let received = ShutdownState(rawValue: 2)
    }

    // MARK: errors

    /// One entry of OpenSSL's error queue: (lib, function, reason).
    public struct ErrorQueueEntry: Equatable, Sendable, CustomStringConvertible {
        /// The library ("SSL routines", "system library", "x509 certificate routines").
        public let library: String
        /// The function.
        public let function: String
        /// What went wrong.
        public let reason: String
        /// Makes an entry.
        public init(_ library: String, _ function: String, _ reason: String) {
            self.library = library; self.function = function; self.reason = reason
        }
        /// "(lib, function, reason)".
        public var description: String { "('\(library)', '\(function)', '\(reason)')" }
    }

    /// pyOpenSSL's `SSL.Error`: the base of the other classes, and raised
    /// directly with the error queue (a list of (lib, function, reason)).
    /// `underlying` keeps the error of this library it came from, when there is one.
    public class Error: Swift.Error, CustomStringConvertible, @unchecked Sendable {
        /// The error queue.
        public let queue: [ErrorQueueEntry]
        /// The error this one stands for (an `SSLError`, `HandshakeError`, ...).
        public let underlying: Swift.Error?
        /// An error with a queue.
        public init(_ queue: [ErrorQueueEntry], underlying: Swift.Error? = nil) {
            self.queue = queue
            self.underlying = underlying
        }
        /// The queue, as pyOpenSSL prints it.
        public var description: String { "\(type(of: self))([\(queue.map(\.description).joined(separator: ", "))])" }
    }

    /// `SSL_ERROR_ZERO_RETURN`: the peer closed the TLS connection cleanly (close_notify).
    public final class ZeroReturnError: Error, @unchecked Sendable {
        /// The error.
        public init() { super.init([]) }
    }

    /// The operation needs more input first: call it again, with the same
    /// arguments, once bytes have arrived (`bio_write`, or a readable socket).
    public final class WantReadError: Error, @unchecked Sendable {
        /// The error.
        public init() { super.init([]) }
    }

    /// The operation could not send: call it again later with the same arguments.
    public final class WantWriteError: Error, @unchecked Sendable {
        /// The error.
        public init() { super.init([]) }
    }

    /// An application callback asked to be called again. As the page says, it
    /// does not occur: no callback here can defer (certificate callbacks run to
    /// completion inside the handshake). Defined so ported `except` clauses compile.
    public final class WantX509LookupError: Error, @unchecked Sendable {
        /// The error.
        public init() { super.init([]) }
    }

    /// An I/O error with an empty error queue: (errno, message). An EOF that
    /// violates the protocol is (-1, "Unexpected EOF").
    public final class SysCallError: Error, @unchecked Sendable {
        /// The errno value (-1 for an unexpected EOF).
        public let errno: Int32
        /// Its text.
        public let message: String
        /// The error.
        public init(_ errno: Int32, _ message: String) {
            self.errno = errno
            self.message = message
            super.init([])
        }
        /// "SysCallError(104, 'Connection reset by peer')".
        public override var description: String { "SysCallError(\(errno), '\(message)')" }
    }

    /// The verify callback: (connection, certificate, X509 error number, depth,
    /// preverify ok) -> accept. Called for each certificate of the peer's
    /// chain, the top one first, down to the leaf at depth 0.
    public typealias VerifyCallback = (_ connection: Connection, _ certificate: Certificate, _ errnum: Int, _ depth: Int, _ ok: Bool) -> Bool
    /// The passphrase callback: (max length, verify, user data) -> passphrase.
    public typealias PassphraseCallback = (_ maxLength: Int, _ verify: Bool, _ userData: Any?) -> String?

    /// OpenSSL's `X509_V_ERR_*` number for a verification failure.
    /// `selfSigned`: the certificate the check failed on is self-signed (an
    /// unknown self-signed leaf is 18, an unknown issuer 20).
    public static func x509ErrorCode(_ reason: CertificateFailureReason, selfSigned: Bool = false) -> Int {
        switch reason {
        case .unknownIssuer: return selfSigned ? 18 : 20
        case .badSignature, .weakSignatureAlgorithm, .unsupportedAlgorithm: return 7
        case .notYetValid: return 9
        case .expired: return 10
        case .chainTooLong: return 22
        case .notACA: return 24
        case .pathLengthExceeded: return 25
        case .keyUsage, .extendedKeyUsage: return 26
        case .unsupportedCriticalExtension: return 34
        case .nameConstraints: return 47
        case .hostnameMismatch: return 62
        case .keyTooSmall: return 66
        case .loop: return 20
        case .malformed, .emptyChain: return 1
        }
    }

    // MARK: Context

    /// pyOpenSSL's `Context(method)`: the settings connections are made from.
    public final class Context: @unchecked Sendable {
        /// The method it was made with.
        public let method: Method
        let lock = NSLock()
        var options: Options = .alwaysOn
        var verifyMode: VerifyMode?
        var verifyCallback: VerifyCallback?
        var verifyDepth = 100
        var trust: TrustStore?
        var useSystemTrust = false
        var certificate: Certificate?
        var extraChain: [Certificate] = []
        var privateKey: PrivateKey?
        var cipherSuites: [CipherSuite]?
        var passphrase: PassphraseCallback?
        var passphraseUserData: Any?
        var alpn: [String] = []
        var clientCANames: [DistinguishedName]?
        var serverNameCallback: ((Connection) -> Void)?
        var sessionTimeout = 300
        var sessionIDContext: [UInt8] = []
        /// Anything the application wants to keep with the context (`set_app_data`).
        public var appData: Any?

        /// A context for `method`. SSLv2, SSLv3, TLSv1 (and TLSv1.1) methods throw
        /// `SSL.Error` naming the retiring RFC; `underlying` is the `SSLError`.
        public init(_ method: Method) throws {
            if let v = method.protocolVersion, let e = v.retirementError {
                throw Error([ErrorQueueEntry("SSL routines", "SSL_CTX_new", e.message)], underlying: e)
            }
            self.method = method
        }

        /// Adds options and returns them all (`set_options`).
        @discardableResult
        public func setOptions(_ options: Options) -> Options {
            lock.withLock { self.options.formUnion(options); return self.options }
        }

        /// The options in force (`get_options`).
        public func getOptions() -> Options { lock.withLock { options } }

        /// Sets the verify mode and callback (`set_verify`). See `VerifyMode`;
        /// the callback may accept what verification refused or refuse what it accepted.
        public func setVerify(_ mode: VerifyMode, _ callback: VerifyCallback? = nil) {
            lock.withLock { verifyMode = mode; verifyCallback = callback }
        }

        /// The verify mode (`get_verify_mode`). Before `setVerify` it is
        /// `.peer`: a client verifies the server (a secure default; OpenSSL's is
        /// `VERIFY_NONE`), while a server does not ask for a client certificate.
        public func getVerifyMode() -> VerifyMode { lock.withLock { verifyMode ?? .peer } }

        /// The most intermediates accepted between the leaf and a trust anchor (`set_verify_depth`).
        public func setVerifyDepth(_ depth: Int) { lock.withLock { verifyDepth = depth } }
        /// `get_verify_depth`.
        public func getVerifyDepth() -> Int { lock.withLock { verifyDepth } }

        /// Adds trust anchors from a PEM file and/or a directory (`load_verify_locations`).
        public func loadVerifyLocations(cafile: String?, capath: String? = nil) throws {
            var store = lock.withLock { trust } ?? TrustStore()
            do {
                if let cafile { store.add(contentsOf: try TrustStore(pemFile: cafile).certificates) }
                if let capath { store.add(contentsOf: try TrustStore(directory: capath).certificates) }
            } catch {
                throw Error([ErrorQueueEntry("x509 certificate routines", "X509_load_cert_crl_file", "\(error)")], underlying: error)
            }
            lock.withLock { trust = store }
        }

        /// Trusts the system's CA bundle as well (`set_default_verify_paths`).
        public func setDefaultVerifyPaths() { lock.withLock { useSystemTrust = true } }

        /// The certificate (`use_certificate_file`), PEM or DER as `filetype` says.
        public func useCertificateFile(_ path: String, _ filetype: FileType = .pem) throws {
            let certs = try Context.readCertificates(path, filetype, "SSL_CTX_use_certificate_file")
            lock.withLock { certificate = certs[0] }
        }

        /// The certificate and the chain after it (`use_certificate_chain_file`, PEM).
        public func useCertificateChainFile(_ path: String) throws {
            let certs = try Context.readCertificates(path, .pem, "SSL_CTX_use_certificate_chain_file")
            lock.withLock { certificate = certs[0]; extraChain = Array(certs.dropFirst()) }
        }

        /// The certificate, already parsed (`use_certificate`).
        public func useCertificate(_ cert: Certificate) { lock.withLock { certificate = cert } }

        /// Adds a chain certificate sent after ours (`add_extra_chain_cert`).
        public func addExtraChainCert(_ cert: Certificate) { lock.withLock { extraChain.append(cert) } }

        /// The private key (`use_privatekey_file`), PEM or DER; an encrypted key
        /// gets its passphrase from `setPasswdCb`.
        public func usePrivateKeyFile(_ path: String, _ filetype: FileType = .pem) throws {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Error([ErrorQueueEntry("system library", "fopen", "No such file or directory: \(path)")])
            }
            let bytes = Array(data)
            try Context.checkType(bytes, filetype, path, "SSL_CTX_use_PrivateKey_file")
            let (cb, userData) = lock.withLock { (passphrase, passphraseUserData) }
            var pass: String? = nil
            for attempt in 0..<2 {
                do {
                    let key = try PrivateKeyParser.parse(bytes, passphrase: pass.map { Array($0.utf8) }).key
                    lock.withLock { privateKey = key }
                    return
                } catch let e as X509Error where (e.code == .passphraseRequired || e.code == .wrongPassphrase) && attempt == 0 && cb != nil {
                    pass = cb?(1024, false, userData)
                    if pass == nil { throw Error([ErrorQueueEntry("PEM routines", "PEM_do_header", "bad password read")], underlying: e) }
                } catch {
                    throw Error([ErrorQueueEntry("SSL routines", "SSL_CTX_use_PrivateKey_file", "\(error)")], underlying: error)
                }
            }
        }

        /// The private key, already parsed (`use_privatekey`).
        public func usePrivateKey(_ key: PrivateKey) { lock.withLock { privateKey = key } }

        /// Throws unless the private key belongs to the certificate (`check_privatekey`).
        public func checkPrivateKey() throws {
            let (cert, key) = lock.withLock { (certificate, privateKey) }
            guard let cert, let key else {
                throw Error([ErrorQueueEntry("SSL routines", "SSL_CTX_check_private_key", "no certificate or private key assigned")])
            }
            do { try PrivateKeyParser.checkMatch(key, certificate: cert) } catch {
                throw Error([ErrorQueueEntry("x509 certificate routines", "X509_check_private_key", "key values mismatch")], underlying: error)
            }
        }

        /// Where passphrases of encrypted keys come from (`set_passwd_cb`).
        public func setPasswdCb(_ callback: PassphraseCallback?, userData: Any? = nil) {
            lock.withLock { passphrase = callback; passphraseUserData = userData }
        }

        /// Selects the cipher suites with an OpenSSL cipher string (`set_cipher_list`).
        public func setCipherList(_ list: String) throws {
            do {
                let s = try CipherString.parse(list)
                lock.withLock { cipherSuites = s.suites }
            } catch {
                throw Error([ErrorQueueEntry("SSL routines", "SSL_CTX_set_cipher_list", "no cipher match")], underlying: error)
            }
        }

        /// ALPN protocols to offer or accept (`set_alpn_protos`).
        public func setALPNProtos(_ protocols: [String]) { lock.withLock { alpn = protocols } }

        /// The CA names a server sends with its certificate request (`set_client_ca_list`).
        public func setClientCAList(_ names: [DistinguishedName]) { lock.withLock { clientCANames = names } }

        /// Adds the subject of a CA certificate to that list (`add_client_ca`).
        public func addClientCA(_ cert: Certificate) { lock.withLock { clientCANames = (clientCANames ?? []) + [cert.subject] } }

        /// Called on a server when the client's SNI name is known; it may switch
        /// the connection to another context with `setContext` (`set_tlsext_servername_callback`).
        public func setTLSExtServernameCallback(_ callback: ((Connection) -> Void)?) { lock.withLock { serverNameCallback = callback } }

        /// Session lifetime in seconds (`set_timeout`); kept for the session cache.
        public func setTimeout(_ seconds: Int) { lock.withLock { sessionTimeout = seconds } }
        /// `get_timeout`.
        public func getTimeout() -> Int { lock.withLock { sessionTimeout } }
        /// The session ID context (`set_session_id`); kept for the session cache.
        public func setSessionID(_ id: [UInt8]) { lock.withLock { sessionIDContext = id } }

        static func checkType(_ bytes: [UInt8], _ type: FileType, _ path: String, _ function: String) throws {
            let isPEM = PEM.looksLikePEM(bytes)
            if type == .pem && !isPEM || type == .asn1 && isPEM {
                throw Error([ErrorQueueEntry("SSL routines", function, "\(path) is not \(type == .pem ? "PEM" : "ASN.1 (DER)")")])
            }
        }

        static func readCertificates(_ path: String, _ type: FileType, _ function: String) throws -> [Certificate] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Error([ErrorQueueEntry("system library", "fopen", "No such file or directory: \(path)")])
            }
            try checkType(Array(data), type, path, function)
            do { return try Certificate.parseMany(Array(data)) } catch {
                throw Error([ErrorQueueEntry("SSL routines", function, "\(error)")], underlying: error)
            }
        }

        var versions: (min: ProtocolVersion, max: ProtocolVersion)? {
            let o = options
            var allowed: [ProtocolVersion] = []
            if method != .tlsv1_2 && !o.contains(.noTLSv1_3) { allowed.append(.tls13) }
            if !o.contains(.noTLSv1_2) { allowed.append(.tls12) }
            guard let max = allowed.first, let min = allowed.last else { return nil }
            return (min, max)
        }

        var trustStore: TrustStore {
            var s = trust ?? TrustStore()
            if useSystemTrust || trust == nil, let system = X509PeerVerifier.systemTrustStore { s.add(contentsOf: system.certificates) }
            return s
        }

        var credential: CertifiedKey? {
            guard let certificate, let privateKey else { return nil }
            return try? CertifiedKey(certificates: [certificate] + extraChain, privateKey: privateKey)
        }
    }

    // MARK: Connection

    /// pyOpenSSL's `Connection(context, socket)`: TLS over a socket-like object,
    /// or over memory alone when `socket` is nil (bytes in with `bioWrite`,
    /// bytes out with `bioRead`). Errors are pyOpenSSL's classes:
    /// `WantReadError` when more input is needed, `ZeroReturnError` after
    /// close_notify, `SysCallError` for I/O errors and unexpected EOF, and
    /// `SSL.Error` with the error queue for the rest.
    public final class Connection: @unchecked Sendable {
        private let lock = NSLock()
        private var context: Context
        /// The socket-like object (nil for a memory connection).
        public let socket: SocketLike?
        private var role: TLSConnection.Role?
        private var channel: SecureChannel?
        private let memory: MemoryTransport?
        private var hostName: String?
        private var serverName: String?
        private var peerChain: [Certificate] = []
        private var verifyFailure: CertificateVerificationError?
        private var lastBlockedOnWrite = false
        private var shutdownState: ShutdownState = []
        /// Anything the application wants to keep with the connection (`set_app_data`).
        public var appData: Any?

        /// A connection over `socket`, or over memory when nil.
        public init(_ context: Context, _ socket: SocketLike?) {
            self.context = context
            self.socket = socket
            self.memory = socket == nil ? MemoryTransport() : nil
        }

        /// The context (`get_context`).
        public func getContext() -> Context { lock.withLock { context } }

        /// Switches to another context (`set_context`), e.g. from the servername
        /// callback to serve another certificate.
        public func setContext(_ context: Context) { lock.withLock { self.context = context } }

        /// Act as a client (`set_connect_state`).
        public func setConnectState() { lock.withLock { role = .client; channel = nil } }
        /// Act as a server (`set_accept_state`).
        public func setAcceptState() { lock.withLock { role = .server; channel = nil } }

        /// The SNI name to send, also checked against the server's certificate
        /// (`set_tlsext_host_name`).
        public func setTLSExtHostName(_ name: String) { lock.withLock { hostName = name } }

        /// The SNI name the client sent (server side, `get_servername`), or the one we send.
        public func getServername() -> String? {
            let (isServer, fromCallback, ours) = lock.withLock { (role == .server, serverName, hostName) }
            if isServer { return fromCallback ?? negotiated?.serverName }
            return ours
        }

        /// Connects the underlying `Socket` and becomes a client (`connect`).
        public func connect(_ address: NetworkAddress) throws {
            guard let s = socket as? Socket else { throw Error([ErrorQueueEntry("SSL routines", "connect", "not a Socket")]) }
            do { try s.connect(address, timeout: nil) } catch { throw Connection.map(error, "connect") }
            setConnectState()
        }

        /// Accepts from the underlying listening `Socket`: a server-side
        /// connection with this context, and the peer's address (`accept`).
        public func accept() throws -> (Connection, NetworkAddress) {
            guard let s = socket as? Socket else { throw Error([ErrorQueueEntry("SSL routines", "accept", "not a Socket")]) }
            let (c, peer): (Socket, NetworkAddress)
            do { (c, peer) = try s.accept(timeout: nil) } catch { throw Connection.map(error, "accept") }
            let conn = Connection(getContext(), c)
            conn.setAcceptState()
            return (conn, peer)
        }

        private func activeChannel(_ function: String) throws -> SecureChannel {
            try lock.withLock {
                if let channel { return channel }
                guard let role else {
                    throw Error([ErrorQueueEntry("SSL routines", function, "connection type not set (call set_connect_state or set_accept_state)")])
                }
                let config = try makeConfiguration(role)
                let transport: ChannelTransport = memory ?? SocketLikeTransport(socket!)
                let ch = SecureChannel(engine: TLSConnection(role: role, config: config), transport: transport)
                channel = ch
                return ch
            }
        }

        private func makeConfiguration(_ role: TLSConnection.Role) throws -> TLSConfiguration {
            let ctx = context
            let (versions, suites, credential, mode, alpn, caNames, trust, sniCallback) = ctx.lock.withLock {
                (ctx.versions, ctx.cipherSuites, ctx.credential, ctx.verifyMode, ctx.alpn, ctx.clientCANames, ctx.trust, ctx.serverNameCallback)
            }
            guard let versions else {
                throw Error([ErrorQueueEntry("SSL routines", "ssl_choose_client_version", "no protocols available (OP_NO_TLSv1_2 and OP_NO_TLSv1_3)")])
            }
            var c = TLSConfiguration()
            c.minVersion = versions.min
            c.maxVersion = versions.max
            if let suites { c.cipherSuites = suites }
            c.alpnProtocols = alpn
            c.peerVerifier = ChannelVerifier { [weak self] chain, peer in
                guard let self else { throw HandshakeError(.internalError, "connection gone") }
                return try self.verify(chain: chain, peer: peer)
            }
            if let credential { c.certificates = [credential] }
            switch role {
            case .client:
                c.serverName = hostName
            case .server:
                guard credential != nil else {
                    throw Error([ErrorQueueEntry("SSL routines", "tls_post_process_client_hello", "no shared cipher (no certificate set: use_certificate_file and use_privatekey_file)")])
                }
                if let mode, mode.contains(.peer) {
                    c.clientAuthentication = mode.contains(.failIfNoPeerCert) ? .require : .request
                    c.certificateAuthorities = (caNames ?? trust?.subjectNames ?? []).map(\.der)
                }
                if let sniCallback {
                    c.certificateSelector = { [weak self] name in
                        guard let self else { return nil }
                        self.lock.withLock { self.serverName = name }
                        sniCallback(self)
                        let now = self.getContext()
                        return now.lock.withLock { now.credential }
                    }
                }
            }
            return c
        }

        /// Certificate verification with OpenSSL's verify-mode and callback semantics.
        private func verify(chain der: [[UInt8]], peer: PeerRole) throws -> PeerIdentity {
            var certs: [Certificate] = []
            for d in der {
                do { certs.append(try Certificate(derEncoded: d)) } catch {
                    throw HandshakeError(.badCertificate, "certificate does not parse: \(error)")
                }
            }
            guard let leaf = certs.first, let key = leaf.publicKey else { throw HandshakeError(.unsupportedCertificate, "unusable certificate") }
            let ctx = getContext()
            let (mode, callback, depth, trust) = ctx.lock.withLock { (ctx.verifyMode, ctx.verifyCallback, ctx.verifyDepth, ctx.trustStore) }
            let host = lock.withLock { peerChain = certs; verifyFailure = nil; return hostName }
            func identity(_ ok: Bool, _ verdict: String) -> PeerIdentity {
                PeerIdentity(publicKey: key, chain: der, subject: leaf.subject.rfc4514String, issuer: leaf.issuer.rfc4514String,
                             verified: ok, verdict: verdict)
            }
            if let mode, !mode.contains(.peer) { return identity(false, "not verified (VERIFY_NONE)") }
            var failure: CertificateVerificationError? = nil
            if certs.count - 1 > depth {
                failure = CertificateVerificationError(.chainTooLong, "chain longer than the verify depth \(depth)", certificate: certs.last, depth: certs.count - 1)
            } else {
                var policy = VerificationPolicy()
                policy.maximumIntermediates = depth
                do {
                    _ = try CertificateVerifier(trustStore: trust, policy: policy).verify(
                        leaf: leaf, intermediates: Array(certs.dropFirst()), hostname: peer == .server ? host : nil,
                        purpose: peer == .server ? .server : .client)
                } catch let e as CertificateVerificationError {
                    failure = e
                }
            }
            lock.withLock { verifyFailure = failure }
            if let callback {
                let failDepth = Swift.min(failure?.depth ?? 0, certs.count - 1)
                for d in stride(from: certs.count - 1, through: 0, by: -1) {
                    let ok = failure == nil || d != failDepth
                    let errnum = ok ? 0 : x509ErrorCode(failure!.reason, selfSigned: certs[d].isSelfIssued)
                    if !callback(self, certs[d], errnum, d, ok) {
                        throw HandshakeError(failure.map { SSLSocket.alert(for: $0.reason) } ?? .badCertificate,
                                             "certificate verify failed (refused by the verify callback at depth \(d))")
                    }
                }
                return identity(failure == nil, failure.map { "accepted by the verify callback: \($0)" } ?? "ok")
            }
            if let failure { throw HandshakeError(SSLSocket.alert(for: failure.reason), "certificate verify failed: \(failure)") }
            return identity(true, "ok")
        }

        // MARK: I/O

        /// Runs the handshake (`do_handshake`): `WantReadError` when it needs
        /// the peer's next flight (memory, or a non-blocking socket).
        public func doHandshake() throws {
            let ch = try activeChannel("SSL_do_handshake")
            try run("SSL_do_handshake") { try ch.handshake(.never) }
        }

        /// Up to `bufsiz` bytes of plaintext (`recv`, `read`). `ZeroReturnError`
        /// once the peer sent close_notify; `SysCallError(-1, "Unexpected EOF")`
        /// when the transport ended without it.
        public func recv(_ bufsiz: Int) throws -> [UInt8] {
            let ch = try activeChannel("SSL_read")
            let r = try run("SSL_read") { try ch.read(max: bufsiz, .never) }
            switch r {
            case .data(let d): return d
            case .closeNotify:
                lock.withLock { shutdownState.insert(.received) }
                throw ZeroReturnError()
            case .eof: throw SysCallError(-1, "Unexpected EOF")
            }
        }

        /// Same as `recv`.
        public func read(_ bufsiz: Int) throws -> [UInt8] { try recv(bufsiz) }

        /// Encrypts and sends `data`; returns its length (`send`, `write`).
        /// Bytes that could not go out yet stay queued and leave first next time.
        @discardableResult
        public func send(_ data: [UInt8]) throws -> Int {
            let ch = try activeChannel("SSL_write")
            try run("SSL_write") {
                if ch.hasUnsentOutput { try ch.flush(.never) }
                try ch.handshake(.never)
            }
            do {
                try run("SSL_write") { try ch.write(data, .never) }
            } catch is WantWriteError {
                // Encrypted and queued: it counts as written.
            }
            return data.count
        }

        /// Same as `send`.
        @discardableResult
        public func write(_ data: [UInt8]) throws -> Int { try send(data) }

        /// Sends all of `data` (`sendall`).
        public func sendall(_ data: [UInt8]) throws { try send(data) }

        /// Decrypted bytes waiting (`pending`).
        public func pending() -> Int {
            guard let ch = lock.withLock({ channel }) else { return 0 }
            return ch.withEngine { $0.bufferedPlaintextCount }
        }

        /// Sends close_notify (`shutdown`); true once the peer's has arrived too.
        /// Called again, it waits for the peer's (`WantReadError` in memory).
        public func shutdown() throws -> Bool {
            let ch = try activeChannel("SSL_shutdown")
            let (sent, received) = ch.withEngine { ($0.sentClose, $0.peerClosed) }
            if !sent {
                ch.withEngine { $0.close() }
                lock.withLock { shutdownState.insert(.sent) }
                try run("SSL_shutdown") { try ch.flush(.never) }
                return received
            }
            if received { return true }
            while true {
                let r = try run("SSL_shutdown") { try ch.read(max: 65536, .never) }
                switch r {
                case .data: continue
                case .closeNotify:
                    lock.withLock { shutdownState.insert(.received) }
                    return true
                case .eof: throw SysCallError(-1, "Unexpected EOF")
                }
            }
        }

        /// Which close_notify messages went and came (`get_shutdown`).
        public func getShutdown() -> ShutdownState {
            let received = lock.withLock({ channel })?.withEngine { $0.peerClosed } ?? false
            return lock.withLock { received ? shutdownState.union(.received) : shutdownState }
        }

        /// Overrides the recorded shutdown state (`set_shutdown`).
        public func setShutdown(_ state: ShutdownState) { lock.withLock { shutdownState = state } }

        /// Shuts the underlying socket down (`sock_shutdown`).
        public func sockShutdown(_ how: ShutdownHow) throws {
            guard let s = socket as? Socket else { return }
            do { try s.shutdown(how) } catch { throw Connection.map(error, "shutdown") }
        }

        /// The descriptor of the underlying `Socket` (`fileno`), -1 otherwise.
        public func fileno() -> Int32 { (socket as? Socket)?.fileno() ?? -1 }

        // MARK: memory BIOs

        /// Gives the connection bytes that came from the peer (`bio_write`); returns the count.
        @discardableResult
        public func bioWrite(_ data: [UInt8]) throws -> Int {
            guard let memory else { throw Error([ErrorQueueEntry("SSL routines", "bio_write", "not a memory connection")]) }
            memory.feed(data)
            return data.count
        }

        /// Up to `bufsiz` bytes to send to the peer (`bio_read`); `WantReadError` when there are none.
        public func bioRead(_ bufsiz: Int) throws -> [UInt8] {
            guard let memory else { throw Error([ErrorQueueEntry("SSL routines", "bio_read", "not a memory connection")]) }
            if let ch = lock.withLock({ channel }) { try? ch.flush(.never) }
            let out = memory.take(bufsiz)
            if out.isEmpty { throw WantReadError() }
            return out
        }

        /// Marks the end of the peer's bytes (`bio_shutdown`).
        public func bioShutdown() throws {
            guard let memory else { throw Error([ErrorQueueEntry("SSL routines", "bio_shutdown", "not a memory connection")]) }
            memory.finish()
        }

        // MARK: information

        /// The peer's certificate (`get_peer_certificate`), nil if it sent none.
        public func getPeerCertificate() -> Certificate? { lock.withLock { peerChain.first } }

        /// The peer's chain as sent (`get_peer_cert_chain`), nil if none.
        public func getPeerCertChain() -> [Certificate]? { lock.withLock { peerChain.isEmpty ? nil : peerChain } }

        private var negotiated: NegotiatedParameters? {
            guard let ch = lock.withLock({ channel }), ch.isHandshakeComplete else { return nil }
            return ch.withEngine { $0.negotiated }
        }

        /// The suites this connection would offer or accept, OpenSSL names (`get_cipher_list`).
        public func getCipherList() -> [String] {
            let ctx = getContext()
            return (ctx.lock.withLock { ctx.cipherSuites } ?? TLSConfiguration().cipherSuites).map(\.openSSLName)
        }

        /// The negotiated suite's OpenSSL name (`get_cipher_name`).
        public func getCipherName() -> String? { negotiated?.cipherSuite.openSSLName }
        /// Its key bits (`get_cipher_bits`).
        public func getCipherBits() -> Int? { negotiated?.cipherSuite.keyBits }
        /// The protocol of the suite (`get_cipher_version`).
        public func getCipherVersion() -> String? { negotiated.map { $0.cipherSuite.isTLS13 ? "TLSv1.3" : "TLSv1.2" } }
        /// The negotiated version ("TLSv1.3"; `get_protocol_version_name`), or "Unknown".
        public func getProtocolVersionName() -> String {
            negotiated.flatMap { TLSProtocolVersion($0.version)?.name } ?? "Unknown"
        }
        /// The ALPN protocol chosen (`get_alpn_proto_negotiated`).
        public func getALPNProtoNegotiated() -> String? { negotiated?.alpn }

        /// OpenSSL's state string (`get_state_string`).
        public func getStateString() -> String {
            guard let ch = lock.withLock({ channel }) else { return "before SSL initialization" }
            return ch.withEngine { e in
                switch e.status {
                case .idle: return "before SSL initialization"
                case .handshaking: return "SSL negotiation in progress"
                case .established: return "SSL negotiation finished successfully"
                case .closed: return "SSL connection closed"
                case .failed: return "error"
                }
            }
        }

        /// Whether the last operation stopped for want of input (`want_read`).
        public func wantRead() -> Bool { lock.withLock { wanted == .read } }
        /// Whether it stopped for want of sending (`want_write`).
        public func wantWrite() -> Bool { lock.withLock { wanted == .write } }
        private enum Want { case none, read, write }
        private var wanted: Want = .none

        /// Starts a renegotiation (TLS 1.2) or a KeyUpdate (TLS 1.3) (`renegotiate`); true when started.
        @discardableResult
        public func renegotiate() throws -> Bool {
            let ch = try activeChannel("SSL_renegotiate")
            try run("SSL_renegotiate") { try ch.rehandshake(.never) }
            return true
        }

        /// Whether a renegotiation is under way (`renegotiate_pending`).
        public func renegotiatePending() -> Bool { lock.withLock({ channel })?.isRenegotiating ?? false }

        /// Renegotiations completed (`total_renegotiations`).
        public func totalRenegotiations() -> Int {
            guard let ch = lock.withLock({ channel }) else { return 0 }
            return ch.withEngine { _ in Swift.max(0, ch.completedHandshakes - 1) }
        }

        /// RFC 5705 / 8446 exporter (`export_keying_material`).
        public func exportKeyingMaterial(_ label: String, _ length: Int, _ context: [UInt8]? = nil) throws -> [UInt8] {
            let ch = try activeChannel("SSL_export_keying_material")
            return try run("SSL_export_keying_material") {
                try ch.withEngine { try $0.exportKeyingMaterial(label: label, context: context ?? [], length: length) }
            }
        }

        /// The X.509 verification failure of the peer's certificate, if any (after a verify callback accepted it).
        public var verificationFailure: CertificateVerificationError? { lock.withLock { verifyFailure } }

        // MARK: error mapping

        private func run<T>(_ function: String, _ body: () throws -> T) throws -> T {
            do {
                let r = try body()
                lock.withLock { wanted = .none }
                return r
            } catch let e as TransportBlocked {
                lock.withLock { wanted = e.reading ? .read : .write }
                if e.reading { throw WantReadError() }
                throw WantWriteError()
            } catch {
                throw Connection.map(error, function)
            }
        }

        static func map(_ error: Swift.Error, _ function: String) -> Swift.Error {
            switch error {
            case let e as Error:
                return e
            case let e as HandshakeError:
                let reason: String
                if e.fromPeer {
                    reason = (e.alert == .handshakeFailure || e.alert == .badRecordMac ? "sslv3" : "tlsv1") + " alert "
                        + e.alert.name.replacingOccurrences(of: "_", with: " ")
                } else {
                    reason = e.reason
                }
                return Error([ErrorQueueEntry("SSL routines", function, reason)], underlying: e)
            case let e as SocketError:
                return SysCallError(e.errno == 0 ? -1 : e.errno, e.message)
            case let e as SSLError where e.code == .wouldBlock:
                return WantReadError()
            case let e as TimeoutError:
                return SysCallError(Int32(ETIMEDOUT), e.description)
            case let e as SSLError:
                return Error([ErrorQueueEntry("SSL routines", function, e.message)], underlying: e)
            default:
                return Error([ErrorQueueEntry("SSL routines", function, "\(error)")], underlying: error)
            }
        }
    }
}

/// A transport could not proceed (memory empty, socket-like would block).
struct TransportBlocked: Error {
    let reading: Bool
}

/// The two memory BIOs of a memory `SSL.Connection`.
final class MemoryTransport: ChannelTransport {
    private let lock = NSLock()
    private var incoming: [UInt8] = []
    private var outgoing: [UInt8] = []
    private var finished = false

    func feed(_ data: [UInt8]) { lock.withLock { incoming += data } }
    func finish() { lock.withLock { finished = true } }
    func take(_ max: Int) -> [UInt8] {
        lock.withLock {
            let n = Swift.min(max, outgoing.count)
            let out = Array(outgoing[..<n])
            outgoing.removeFirst(n)
            return out
        }
    }

    func receive(max: Int, deadline: Deadline) throws -> [UInt8] {
        try lock.withLock {
            if incoming.isEmpty {
                if finished { return [] }
                throw TransportBlocked(reading: true)
            }
            let n = Swift.min(max, incoming.count)
            let out = Array(incoming[..<n])
            incoming.removeFirst(n)
            return out
        }
    }

    func send(_ data: ArraySlice<UInt8>, deadline: Deadline, sent: inout Int) throws {
        lock.withLock { outgoing += data[(data.startIndex + sent)...] }
        sent = data.count
    }
}

/// Reads and writes through a `SocketLike` object.
final class SocketLikeTransport: ChannelTransport {
    let socket: SocketLike
    init(_ socket: SocketLike) { self.socket = socket }

    func receive(max: Int, deadline: Deadline) throws -> [UInt8] {
        do { return try socket.recv(max) } catch let e as SSLError where e.code == .wouldBlock {
            throw TransportBlocked(reading: true)
        } catch is TimeoutError {
            throw TransportBlocked(reading: true)
        }
    }

    func send(_ data: ArraySlice<UInt8>, deadline: Deadline, sent: inout Int) throws {
        while sent < data.count {
            do {
                let n = try socket.send(Array(data[(data.startIndex + sent)...]))
                if n <= 0 { throw TransportBlocked(reading: false) }
                sent += n
            } catch let e as SSLError where e.code == .wouldBlock {
                throw TransportBlocked(reading: false)
            } catch is TimeoutError {
                throw TransportBlocked(reading: false)
            }
        }
    }
}
