import TLSCrypto
import TLSRecord

/// What happens after the handshake: KeyUpdate, post-handshake client
/// authentication (TLS 1.3), renegotiation (TLS 1.2) and the messages that drive them.
extension TLSConnection {
    /// Test hook: pretend the current write key already protected `count` records.
    func forceRecordCountForTesting(_ count: UInt64) { writer.cipher?.forceRecordsProtected(count) }

    /// TLS 1.3 KeyUpdate: new sending keys, and optionally asks the peer to update too.
    public func updateKeys(requestPeerUpdate: Bool) throws {
        guard status == .established, session12 == nil, var s = secrets else { throw HandshakeError(.internalError, "KeyUpdate needs an established TLS 1.3 connection") }
        try guarded {
            try writer.write(.handshake, KeyUpdate(updateRequested: requestPeerUpdate).encode(), into: &output)
            sentKeyUpdates += 1
            let old = role == .client ? s.clientTrafficSecret : s.serverTrafficSecret
            if role == .client {
                s.clientTrafficSecret = TLS13KDF.nextTrafficSecret(s.suite.hash, s.clientTrafficSecret)
                writer.setCipher(try tls13Cipher(s.suite, secret: s.clientTrafficSecret), version: .tls13)
            } else {
                s.serverTrafficSecret = TLS13KDF.nextTrafficSecret(s.suite.hash, s.serverTrafficSecret)
                writer.setCipher(try tls13Cipher(s.suite, secret: s.serverTrafficSecret), version: .tls13)
            }
            secrets = s
            wipeStorage(old)  // the replaced secret (and every copy of it)
        }
    }

    /// TLS 1.3 post-handshake client authentication (RFC 8446 4.6.2): sends a
    /// CertificateRequest; the client's answer arrives through `receive` and
    /// updates `negotiated.peer`. `required` makes an empty answer fatal
    /// (certificate_required).
    public func requestClientCertificate(required: Bool = false) throws {
        guard role == .server, status == .established, let s = secrets else {
            throw HandshakeError(.internalError, "post-handshake authentication needs an established TLS 1.3 server connection")
        }
        guard s.peerOffersPostHandshakeAuth else { throw HandshakeError(.internalError, "the client did not offer post_handshake_auth") }
        guard pendingClientAuth == nil else { throw HandshakeError(.internalError, "a client certificate request is already pending") }
        try guarded {
            let context = random.bytes(8)
            let (cr, t) = PostHandshakeAuth.request(config, secrets: s, context: context)
            try writer.write(.handshake, cr, into: &output)
            pendingClientAuth = PendingClientAuth(context: context, transcript: t, required: required)
        }
    }

    /// True while a post-handshake client authentication is in progress.
    public var awaitingClientCertificate: Bool { pendingClientAuth != nil }

    func continueClientAuth(_ p: inout PendingClientAuth, _ m: ReceivedMessage, secrets s: TLS13Secrets) throws {
        switch (p.step, m.type) {
        case (.certificate, .certificate):
            let cert = try Certificate13(body: m.body, maxEntries: config.limits.maxCertificateChainLength)
            guard cert.context == p.context else { throw HandshakeError.illegal("Certificate context does not match the request") }
            p.transcript.add(m.raw)
            if cert.entries.isEmpty {
                if p.required { throw HandshakeError(.certificateRequired, "client sent no certificate") }
                p.step = .finished
            } else {
                p.peer = try verifyPeerChain(config, chain: cert.entries.map(\.data), serverName: nil, peer: .client)
                p.step = .certificateVerify
            }
        case (.certificateVerify, .certificateVerify):
            let cv = try CertificateVerify(body: m.body)
            guard let peer = p.peer, let scheme = SignatureScheme(rawValue: cv.scheme), config.signatureSchemes.contains(scheme),
                  scheme.matches(peer.publicKey, tls13: true) else {
                throw HandshakeError.illegal("client CertificateVerify uses a scheme we did not offer")
            }
            let content = CertificateVerify.signedContent(transcriptHash: p.transcript.currentHash(), server: false)
            do { try peer.publicKey.verify(signature: cv.signature, message: content, algorithm: scheme.algorithm) }
            catch { throw HandshakeError(.decryptError, "client CertificateVerify signature does not verify") }
            p.transcript.add(m.raw)
            p.step = .finished
        case (.finished, .finished):
            guard m.body.count == s.suite.hash.digestLength else { throw HandshakeError.decode("Finished of \(m.body.count) bytes") }
            let expected = TLS13KDF.finishedVerifyData(s.suite.hash, trafficSecret: s.clientTrafficSecret, transcriptHash: p.transcript.currentHash())
            guard constantTimeEquals(expected, m.body) else { throw HandshakeError(.decryptError, "client Finished does not verify") }
            if let peer = p.peer { negotiated?.peer = peer }
        default:
            throw HandshakeError.unexpected("\(m.type) during post-handshake authentication")
        }
    }

    /// TLS 1.2 secure renegotiation (RFC 5746): the client sends a new
    /// ClientHello, the server a HelloRequest. TLS 1.3 has none: use `updateKeys`.
    /// `clientAuthentication` (server) applies to the renegotiated handshake
    /// and those after it, e.g. to ask for a client certificate only now.
    public func renegotiate(clientAuthentication: ClientAuthentication? = nil) throws {
        if let a = clientAuthentication, role == .server { renegotiationClientAuthentication = a }
        guard status == .established, let previous = session12 else {
            throw HandshakeError(.internalError, "renegotiation needs an established TLS 1.2 connection")
        }
        guard previous.secureRenegotiation, config.allowRenegotiation else {
            throw HandshakeError(.internalError, "renegotiation is disabled or the peer does not support RFC 5746")
        }
        try guarded {
            switch role {
            case .client: try startClientRenegotiation(previous)
            case .server: try writer.write(.handshake, handshakeMessage(.helloRequest, []), into: &output)
            }
        }
    }

    func startClientRenegotiation(_ previous: TLS12Session) throws {
        renegotiations += 1
        guard renegotiations <= config.maxRenegotiations else { throw HandshakeError(.handshakeFailure, "too many renegotiations") }
        var c = config
        c.maxVersion = .tls12
        let hs = ClientHandshake(config: c, random: random, renegotiatingFrom: previous)
        renegotiation = hs
        try apply(try hs.start())
    }

    func postHandshake(_ m: ReceivedMessage) throws {
        if let previous = session12 {
            switch (role, m.type) {
            case (.client, .helloRequest):
                guard m.body.isEmpty else { throw HandshakeError.decode("HelloRequest is not empty") }
                if config.allowRenegotiation && previous.secureRenegotiation && !sentClose {
                    try startClientRenegotiation(previous)
                } else {
                    try writer.write(.alert, Alert.warning(.noRenegotiation).encode(), into: &output)
                }
            case (.server, .clientHello):
                renegotiations += 1
                guard config.allowRenegotiation, previous.secureRenegotiation, renegotiations <= config.maxRenegotiations else {
                    try writer.write(.alert, Alert.warning(.noRenegotiation).encode(), into: &output)
                    return
                }
                var c = config
                c.maxVersion = .tls12
                if let a = renegotiationClientAuthentication ?? config.renegotiationClientAuthentication { c.clientAuthentication = a }
                let hs = ServerHandshake(config: c, random: random, renegotiatingFrom: previous)
                renegotiation = hs
                try apply(try hs.handle(m))
            default:
                throw HandshakeError.unexpected("\(m.type) after a TLS 1.2 handshake")
            }
            return
        }
        guard var s = secrets else { throw HandshakeError.unexpected("\(m.type) after the handshake") }
        switch m.type {
        case .keyUpdate:
            let ku = try KeyUpdate(body: m.body)
            receivedKeyUpdates += 1
            keyUpdatesInARow += 1
            guard keyUpdatesInARow <= config.limits.maxKeyUpdatesWithoutData else {
                throw HandshakeError.unexpected("too many KeyUpdates without data")
            }
            guard reassembler.isEmpty else { throw HandshakeError.unexpected("KeyUpdate not at a record boundary") }
            let old = role == .client ? s.serverTrafficSecret : s.clientTrafficSecret
            if role == .client {
                s.serverTrafficSecret = TLS13KDF.nextTrafficSecret(s.suite.hash, s.serverTrafficSecret)
                reader.setCipher(try tls13Cipher(s.suite, secret: s.serverTrafficSecret), version: .tls13)
            } else {
                s.clientTrafficSecret = TLS13KDF.nextTrafficSecret(s.suite.hash, s.clientTrafficSecret)
                reader.setCipher(try tls13Cipher(s.suite, secret: s.clientTrafficSecret), version: .tls13)
            }
            secrets = s
            wipeStorage(old)
            if ku.updateRequested && !sentClose {
                try updateKeys(requestPeerUpdate: false)
            }
        case .certificateRequest:
            guard role == .client, !config.certificates.isEmpty || config.clientCertificateProvider != nil else {
                throw HandshakeError.unexpected("post-handshake CertificateRequest without post_handshake_auth")
            }
            for message in try PostHandshakeAuth.answer(config, secrets: s, request: m) {
                try writer.write(.handshake, message, into: &output)
            }
        case .certificate, .certificateVerify, .finished:
            guard role == .server, var pending = pendingClientAuth else { throw HandshakeError.unexpected("\(m.type) after the handshake") }
            try continueClientAuth(&pending, m, secrets: s)
            pendingClientAuth = m.type == .finished ? nil : pending
        case .newSessionTicket:
            guard role == .client else { throw HandshakeError.unexpected("NewSessionTicket sent to a server") }
            let nst = try NewSessionTicket13(body: m.body)
            guard let n = negotiated else { return }
            let psk = TLS13KDF.resumptionPSK(s.suite.hash, resumptionMasterSecret: s.resumptionMasterSecret, nonce: nst.nonce)
            let peerChain = n.peer?.chain ?? offeredPeerChain
            rememberSession(StoredSession(version: .tls13, suite: s.suite, secret: psk, createdAtMillis: config.clock(),
                                          lifetimeSeconds: nst.lifetime, ageAdd: nst.ageAdd, maxEarlyDataSize: nst.maxEarlyDataSize ?? 0,
                                          alpn: n.alpn, serverName: config.serverName, peerChain: peerChain, ticket: nst.ticket))
        default:
            throw HandshakeError.unexpected("\(m.type) after the handshake")
        }
    }
}
