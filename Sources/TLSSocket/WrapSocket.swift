import Foundation
import TLSCrypto
import TLSHandshake
import X509

/// Python's `cert_reqs` values.
public enum CertRequirements: String, Sendable, CaseIterable {
    /// `CERT_NONE`: certificates are ignored (a client does not verify the
    /// server; a server does not ask for a client certificate).
    case none
    /// `CERT_OPTIONAL`: not required, but verified when given.
    case optional
    /// `CERT_REQUIRED`: required and verified.
    case required
}

/// Python's `ssl_version` values (`PROTOCOL_*`).
///
/// `.sslv23` negotiates the best version both sides have (TLS 1.3 or 1.2);
/// `.tlsv1_2` and `.tlsv1_3` fix one version. `.sslv2`, `.sslv3`, `.tlsv1` and
/// `.tlsv1_1` exist so ported code compiles; using them is an `SSLError`
/// `.retiredProtocol` naming RFC 6176, 7568 or 8996.
public enum SSLProtocol: String, Sendable, CaseIterable {
    /// `PROTOCOL_SSLv2`: prohibited (RFC 6176).
    case sslv2 = "SSLv2"
    /// `PROTOCOL_SSLv3`: deprecated (RFC 7568).
    case sslv3 = "SSLv3"
    /// `PROTOCOL_SSLv23` (`PROTOCOL_TLS`): the highest version both support.
    case sslv23 = "SSLv23"
    /// `PROTOCOL_TLSv1`: deprecated (RFC 8996).
    case tlsv1 = "TLSv1"
    /// `PROTOCOL_TLSv1_1`: deprecated (RFC 8996).
    case tlsv1_1 = "TLSv1.1"
    /// `PROTOCOL_TLSv1_2`: TLS 1.2 only.
    case tlsv1_2 = "TLSv1.2"
    /// TLS 1.3 only (not on the page; Python has no such constant for wrap_socket).
    case tlsv1_3 = "TLSv1.3"

    /// The versions it enables, or the retirement error.
    public func versionRange() throws -> (min: TLSProtocolVersion, max: TLSProtocolVersion) {
        switch self {
        case .sslv2: throw TLSProtocolVersion.ssl2.retirementError!
        case .sslv3: throw TLSProtocolVersion.ssl3.retirementError!
        case .tlsv1: throw TLSProtocolVersion.tls10.retirementError!
        case .tlsv1_1: throw TLSProtocolVersion.tls11.retirementError!
        case .sslv23: return (.tls12, .tls13)
        case .tlsv1_2: return (.tls12, .tls12)
        case .tlsv1_3: return (.tls13, .tls13)
        }
    }
}

/// Python's `ssl.wrap_socket`: puts TLS on a stream socket and returns the
/// `SSLSocket` (the original `sock` object is left closed; its descriptor now
/// belongs to the result).
///
/// - `keyfile`, `certfile`: our certificate (PEM or DER; `certfile` may hold
///   the chain after the leaf, and the key when `keyfile` is nil).
/// - `serverSide`: act as the server (a `certfile` is then required).
/// - `certReqs`: see `CertRequirements`. Any value but `.none` needs `caCerts`.
///   When not given (nil), a client verifies the server against the system's
///   CAs (and `serverHostname`, when given) and a server does not ask for a
///   certificate: the secure default, where Python's was `CERT_NONE`.
/// - `sslVersion`: see `SSLProtocol`; retired versions are an error.
/// - `caCerts`: a PEM file of trusted CA certificates.
/// - `doHandshakeOnConnect`: handshake as soon as the socket is connected
///   (at once if it already is; after `connect`; in `accept` for a server),
///   otherwise on first I/O or `doHandshake()`.
/// - `suppressRaggedEOFs`: an EOF without close_notify reads as end of stream
///   (true) or throws `SSLError` `.raggedEOF` (false).
/// - `ciphers`: an OpenSSL cipher string (see `CipherString`).
/// - `serverHostname`: a client's SNI name and the name its certificate must
///   match (an addition; Python's `SSLContext.wrap_socket` has it).
///
/// An unconnected client socket is wrapped lazily: the TLS side is set up by
/// `connect`. An unconnected server socket is a listening socket: `accept`
/// returns wrapped connections.
public func wrapSocket(_ sock: Socket, keyfile: String? = nil, certfile: String? = nil, serverSide: Bool = false,
                       certReqs: CertRequirements? = nil, sslVersion: SSLProtocol = .sslv23, caCerts: String? = nil,
                       doHandshakeOnConnect: Bool = true, suppressRaggedEOFs: Bool = true, ciphers: String? = nil,
                       serverHostname: String? = nil) throws -> SSLSocket {
    guard sock.descType == .tcp else { throw SSLError(.unsupported, "only SOCK_STREAM sockets can be wrapped") }
    let (minVersion, maxVersion) = try sslVersion.versionRange()
    if let certReqs, certReqs != .none, caCerts == nil {
        throw SSLError(.invalidArgument, "ca_certs must be given when cert_reqs is not CERT_NONE")
    }
    if serverSide && certfile == nil { throw SSLError(.invalidArgument, "certfile must be specified for server-side operations") }
    if keyfile != nil && certfile == nil { throw SSLError(.invalidArgument, "keyfile given without certfile") }

    var credential: (CertifiedKey, Certificate)? = nil
    if let certfile {
        do {
            let key = try CertifiedKey.load(certificateFile: certfile, keyFile: keyfile)
            credential = (key, try Certificate(derEncoded: key.chain[0]))
        } catch {
            throw SSLError(.credentials, "\(error)")
        }
    }
    var trust: TrustStore? = nil
    if let caCerts {
        do { trust = try TrustStore(pemFile: caCerts) } catch { throw SSLError(.credentials, "ca_certs \(caCerts): \(error)") }
    }
    let selection = try ciphers.map { try CipherString.parse($0) }

    let s = try SSLSocket(takingOver: sock)
    try s.stateLock.withLock {
        var st = s.settings
        st.minVersion = minVersion
        st.maxVersion = maxVersion
        if let selection { st.cipherOrder = selection.suites }
        st.suppressRaggedEOFs = suppressRaggedEOFs
        st.doHandshakeOnConnect = doHandshakeOnConnect
        st.hostname = serverHostname
        st.trustAnchors = trust
        st.pythonServerSide = serverSide
        if serverSide {
            guard let (key, cert) = credential else { throw SSLError(.invalidArgument, "no certificate") }
            let kea: KeyExchangeAlgorithm
            if case .rsa = key.publicKey { kea = .rsa } else { kea = .ecdh }
            st.serverCredentials = [(kea, key, cert)]
            let reqs = certReqs ?? .none
            st.options[.requestCertificate] = reqs != .none
            st.requireMode = reqs == .required ? .always : .never
            st.options[.requireCertificate] = reqs == .required
            st.authCertificate = { socket, _, _ in
                SSLSocket.verifyChain(socket, socket.getPeerCertificateChain(), hostname: nil, purpose: .client,
                                      trust: socket.verificationTrustStore)
            }
        } else {
            if let (key, cert) = credential { st.clientCredential = (key, cert) }
            switch certReqs ?? .required {
            case .none:
                st.authCertificate = { _, _, _ in true }
            case .optional, .required:
                st.authCertificate = { socket, _, _ in
                    SSLSocket.verifyChain(socket, socket.getPeerCertificateChain(), hostname: socket.getHostname(), purpose: .server,
                                          trust: socket.verificationTrustStore)
                }
            }
        }
        s.settings = st
    }
    if s.isConnected {
        s.resetHandshake(asServer: serverSide)
        if doHandshakeOnConnect { try s.doHandshake() }
    }
    return s
}

extension SSLSocket {
    /// Runs the first handshake now (Python's `do_handshake`). Needed when
    /// `doHandshakeOnConnect` was false, to control when it happens; otherwise
    /// the first read or write runs it.
    public func doHandshake(timeout: Duration? = nil) throws {
        guard let ch = try activeChannel() else { return }
        try mapErrors { try ch.handshake(deadline(timeout)) }
    }

    /// (cipher name, protocol version, secret bits), as Python's `cipher()`; nil before the handshake.
    public func cipher() -> (name: String, version: String, bits: Int)? {
        guard let n = negotiated else { return nil }
        return (n.cipherSuite.openSSLName, TLSProtocolVersion(n.version)?.name ?? "\(n.version)", n.cipherSuite.keyBits)
    }

    /// The negotiated version's name ("TLSv1.3"), as Python's `version()`; nil before the handshake.
    public func version() -> String? {
        negotiated.flatMap { TLSProtocolVersion($0.version)?.name }
    }

    /// Decrypted bytes ready to read (Python's `pending()`).
    public func pending() -> Int { dataPending() }

    /// Whether an EOF without close_notify reads as end of stream (Python's
    /// `suppress_ragged_eofs`; true by default).
    public var suppressRaggedEOFs: Bool {
        get { stateLock.withLock { settings.suppressRaggedEOFs } }
        set { stateLock.withLock { settings.suppressRaggedEOFs = newValue } }
    }

    /// Ends TLS and returns the plain socket (Python's `unwrap`): sends
    /// close_notify, waits for the peer's, and hands the descriptor to a new
    /// `Socket`; this object is left closed.
    public func unwrap(timeout: Duration? = nil) throws -> Socket {
        if let ch = try activeChannel(), ch.isHandshakeComplete {
            let d = deadline(timeout)
            ch.close(d)
            try mapErrors { try ch.readUntilCloseNotify(d) }
        }
        return try Socket(takingOver: self)
    }

    /// Sends whatever is queued (after a send that timed out), within `timeout`.
    public func flushOutput(timeout: Duration? = nil) throws {
        guard let ch = currentChannel else { return }
        try mapErrors { try ch.flush(deadline(timeout)) }
    }

    /// True when encrypted bytes are queued and not yet sent.
    public var hasUnsentOutput: Bool { currentChannel?.hasUnsentOutput ?? false }
}
