import TLSCrypto
import TLSRecord

/// The TLS 1.2 server (RFC 5246 7.3, ECDHE per RFC 8422), entered once the
/// ClientHello led us to TLS 1.2.
final class ServerHandshake12 {
    enum State: String, CaseIterable {
        case waitClientCertificate, waitClientKeyExchange, waitClientCertificateVerify,
             waitChangeCipherSpec, waitFinished, connected, failed
    }

    private(set) var state: State = .waitClientKeyExchange
    let config: TLSConfiguration
    let random: RandomSource
    private var transcript: RawTranscript
    private let clientRandom: [UInt8]
    private var serverRandom: [UInt8] = []
    private let suite: CipherSuite
    private var group: NamedGroup?
    private var scheme: SignatureScheme?
    private var resumed: StoredSession?
    private var sessionID: [UInt8] = []
    /// The client asked for a ticket (RFC 5077) and we can make one.
    private var issueTicket = false
    private var certifiedChain: [[UInt8]] = []
    /// Server: the session to keep in the session-ID cache once complete.
    private(set) var newSession: StoredSession?
    private var ephemeral: KeyAgreementPrivateKey?
    private let extendedMasterSecret: Bool
    private let secureRenegotiation: Bool
    private let alpn: String?
    private let serverName: String?
    private var clientPeer: PeerIdentity?
    private var masterSecret: [UInt8] = []
    private var pendingRead: RecordCipher?
    private var clientVerifyData: [UInt8] = []
    private var requestedCertificate = false
    private(set) var session: TLS12Session?
    /// The first flight, produced by `init`.
    private(set) var firstFlight: [HandshakeAction] = []

    init(config: TLSConfiguration, random: RandomSource, clientHello ch: ClientHello, clientHelloBytes: [UInt8],
         serverName: String?, renegotiatingFrom previous: TLS12Session?) throws {
        self.config = config
        self.random = random
        self.clientRandom = ch.random
        self.serverName = serverName
        guard ch.compressionMethods.contains(0) else { throw HandshakeError.illegal("client does not offer null compression") }
        let ext = ch.extensions

        // Secure renegotiation (RFC 5746 3.6 and 3.7).
        let riData = ext.first(ExtensionType.renegotiationInfo)
        let hasSCSV = ch.cipherSuites.contains(emptyRenegotiationInfoSCSV)
        if let p = previous {
            guard !hasSCSV else { throw HandshakeError(.handshakeFailure, "SCSV in a renegotiation ClientHello") }
            guard let ri = riData, constantTimeEquals(try RenegotiationInfo.decode(ri), p.clientVerifyData) else {
                throw HandshakeError(.handshakeFailure, "renegotiation_info does not match the previous handshake")
            }
            secureRenegotiation = true
        } else {
            if let ri = riData, !(try RenegotiationInfo.decode(ri)).isEmpty {
                throw HandshakeError(.handshakeFailure, "non-empty renegotiation_info in an initial handshake")
            }
            secureRenegotiation = riData != nil || hasSCSV
        }

        let clientSchemes: [UInt16]
        if let data = ext.first(ExtensionType.signatureAlgorithms) {
            clientSchemes = try ExtensionCodec.u16List(data, "signature_algorithms")
        } else {
            // RFC 5246 7.4.1.4.1: absent means SHA-1, which we never use.
            clientSchemes = []
        }
        let clientGroups: [UInt16] = try ext.first(ExtensionType.supportedGroups).map { try ExtensionCodec.u16List($0, "supported_groups") }
            ?? config.groups.map(\.rawValue)
        if let pf = ext.first(ExtensionType.ecPointFormats) {
            guard try ExtensionCodec.u8List(pf, "ec_point_formats").contains(0) else {
                throw HandshakeError.illegal("client does not accept uncompressed points")
            }
        }
        var shExt: [Extension] = []
        if secureRenegotiation {
            let v = previous.map { $0.clientVerifyData + $0.serverVerifyData } ?? []
            shExt.append(Extension(type: ExtensionType.renegotiationInfo, data: RenegotiationInfo.encode(v)))
        }
        let ems = ext.first(ExtensionType.extendedMasterSecret) != nil
        if let p = previous, p.extendedMasterSecret, !ems {
            throw HandshakeError(.handshakeFailure, "renegotiation dropped the extended master secret")
        }
        if ems { shExt.append(Extension(type: ExtensionType.extendedMasterSecret, data: [])) }
        extendedMasterSecret = ems
        var chosenALPN: String? = nil
        if let data = ext.first(ExtensionType.alpn), !config.alpnProtocols.isEmpty {
            let protocols = try ExtensionCodec.alpn(data, maxProtocols: config.limits.maxALPNProtocols)
            guard let p = config.alpnProtocols.map({ Array($0.utf8) }).first(where: protocols.contains) else {
                throw HandshakeError(.noApplicationProtocol, "no common application protocol")
            }
            chosenALPN = String(decoding: p, as: UTF8.self)
            shExt.append(Extension(type: ExtensionType.alpn, data: ExtensionCodec.encodeALPN([p])))
        }
        alpn = chosenALPN
        // record_size_limit (RFC 8449 4): answered with ours; each side's limit binds the
        // protected records sent to it. A client value above 2^14 is not an error here.
        var sizeLimits: [HandshakeAction] = []
        if let data = ext.first(ExtensionType.recordSizeLimit) {
            let peerLimit = Int(try ExtensionCodec.single16(data, "record_size_limit"))
            guard peerLimit >= 64 else { throw HandshakeError.illegal("record_size_limit below 64") }
            let ourLimit = max(64, min(config.recordSizeLimit ?? RecordLimits.protocolMaxPlaintext, RecordLimits.protocolMaxPlaintext))
            shExt.append(Extension(type: ExtensionType.recordSizeLimit, data: ExtensionCodec.encode16(UInt16(ourLimit))))
            sizeLimits = [.limitRecordSize(peer: min(peerLimit, RecordLimits.protocolMaxPlaintext), ours: ourLimit, version: .tls12)]
        }
        if ext.has(ExtensionType.ecPointFormats) { shExt.append(Extension(type: ExtensionType.ecPointFormats, data: [1, 0])) }
        if serverName != nil && previous == nil { shExt.append(Extension(type: ExtensionType.serverName, data: [])) }

        let offered = ch.cipherSuites.compactMap(CipherSuite.init(rawValue:)).filter { !$0.isTLS13 }
        let ours = config.cipherSuites.filter { !$0.isTLS13 }
        let clientTicket = ext.first(ExtensionType.sessionTicket)
        let caching = !config.sessionCacheDisabled && previous == nil

        // Resumption: a ticket that opens, else a cached session ID; only sessions with the
        // extended master secret (RFC 7627 5.3), the same suite and the same server name.
        if caching {
            let now = config.clock()
            var candidate: StoredSession? = nil
            if let t = clientTicket, !t.isEmpty, let plain = config.ticketProtector?.open(t) { candidate = try? StoredSession(bytes: plain) }
            if candidate == nil, !ch.sessionID.isEmpty { candidate = config.serverSessionStore?.lookup(id: ch.sessionID) }
            if let c = candidate, c.version == .tls12, !c.isExpired(nowMillis: now), c.extendedMasterSecret, ems,
               offered.contains(c.suite), ours.contains(c.suite),
               (c.serverName ?? "").lowercased() == (serverName ?? "").lowercased() {
                resumed = c
            }
        }
        // A renegotiation is a full handshake: it issues a ticket when asked, as the first one did.
        issueTicket = !config.sessionCacheDisabled && clientTicket != nil && config.ticketProtector != nil && ems
        if issueTicket { shExt.append(Extension(type: ExtensionType.sessionTicket, data: [])) }

        // A server able to speak TLS 1.3 marks the random (RFC 8446 4.1.3).
        var sr = random.bytes(32)
        if config.tls13Enabled { sr.replaceSubrange(24..<32, with: downgradeSentinelTLS12) }
        serverRandom = sr

        if let r = resumed {
            suite = r.suite
            sessionID = ch.sessionID
            transcript = RawTranscript(r.suite.hash)
            transcript.add(clientHelloBytes)
            let sh = ServerHello(random: sr, sessionIDEcho: ch.sessionID, cipherSuite: r.suite.rawValue, extensions: shExt).encode()
            transcript.add(sh)
            var actions: [HandshakeAction] = sizeLimits + [.send(sh)]
            masterSecret = independentCopy(r.secret)
            if issueTicket, let nst = makeTicket() {
                transcript.add(nst)
                actions.append(.send(nst))
            }
            let keys = TLS12PRF.keyBlock(r.suite, masterSecret: r.secret, clientRandom: ch.random, serverRandom: sr)
            let serverVerify = TLS12PRF.verifyData(r.suite.hash, masterSecret: r.secret, client: false, transcriptHash: transcript.currentHash())
            let fin = Finished(verifyData: serverVerify).encode()
            transcript.add(fin)
            actions += [.sendChangeCipherSpec, .setWriteKeys(try tls12Cipher(r.suite, key: keys.serverKey, iv: keys.serverIV)), .send(fin)]
            pendingRead = try tls12Cipher(r.suite, key: keys.clientKey, iv: keys.clientIV)
            abbreviatedServerVerify = serverVerify
            firstFlight = actions
            state = .waitChangeCipherSpec
            return
        }

        guard let g = config.groups.first(where: { clientGroups.contains($0.rawValue) }) else {
            throw HandshakeError(.handshakeFailure, "no common group")
        }
        group = g

        // Suite, certificate and signature scheme together: the suite fixes the key type.
        let ordered = config.serverPreference ? ours.filter(offered.contains) : offered.filter(ours.contains)
        var pick: (CipherSuite, CertifiedKey, SignatureScheme)? = nil
        // RFC 8422 5.1: an ECDSA certificate must be on a curve the client listed.
        let candidates = ServerHandshake12.certificates(config, serverName: serverName).filter { c in
            guard case .ecdsa(let k) = c.publicKey, ext.has(ExtensionType.supportedGroups) else { return true }
            let group: NamedGroup = k.curve == .p256 ? .secp256r1 : .secp384r1
            return clientGroups.contains(group.rawValue)
        }
        search: for s in ordered {
            for c in candidates where s.acceptsKey(c.publicKey) {
                if let sc = chooseSignatureScheme(ours: config.signatureSchemes, peerOffered: clientSchemes, key: c.publicKey, tls13: false) {
                    pick = (s, c, sc)
                    break search
                }
            }
        }
        guard let (chosenSuite, certified, chosenScheme) = pick else {
            throw HandshakeError(.handshakeFailure, "no common TLS 1.2 cipher suite for our certificates")
        }
        suite = chosenSuite
        scheme = chosenScheme
        certifiedChain = certified.chain
        let stapling = ext.has(ExtensionType.statusRequest) && certified.ocspResponse != nil
        if stapling { shExt.append(Extension(type: ExtensionType.statusRequest, data: [])) }
        if caching && config.serverSessionStore != nil && !issueTicket { sessionID = random.bytes(32) }

        transcript = RawTranscript(chosenSuite.hash)
        transcript.add(clientHelloBytes)
        let sh = ServerHello(random: sr, sessionIDEcho: sessionID, cipherSuite: chosenSuite.rawValue, extensions: shExt).encode()
        transcript.add(sh)
        var actions: [HandshakeAction] = sizeLimits + [.send(sh)]

        let cert = Certificate12(chain: certified.chain).encode()
        transcript.add(cert)
        actions.append(.send(cert))
        if stapling, let ocsp = certified.ocspResponse {
            let status = handshakeMessage(.certificateStatus, CertificateStatusCodec.encode(ocsp))
            transcript.add(status)
            actions.append(.send(status))
        }

        let key: KeyAgreementPrivateKey
        do { key = try g.keyAgreement.generate(random: random) } catch { throw HandshakeError(.internalError, "key generation failed") }
        ephemeral = key
        var ske = ServerKeyExchangeECDHE(group: g.rawValue, publicKey: key.publicKeyBytes, scheme: chosenScheme.rawValue, signature: [])
        do { ske.signature = try certified.sign(chosenScheme, ch.random + sr + ske.params) }
        catch { throw HandshakeError(.internalError, "signing failed: \(error)") }
        let skeBytes = ske.encode()
        transcript.add(skeBytes)
        actions.append(.send(skeBytes))

        if config.clientAuthentication != .none {
            let cr = CertificateRequest12(certificateTypes: [1, 64], signatureSchemes: config.signatureSchemes.map(\.rawValue),
                                          certificateAuthorities: config.certificateAuthorities).encode()
            transcript.add(cr)
            actions.append(.send(cr))
            requestedCertificate = true
        }
        let done = handshakeMessage(.serverHelloDone, [])
        transcript.add(done)
        actions.append(.send(done))
        firstFlight = actions
        state = requestedCertificate ? .waitClientCertificate : .waitClientKeyExchange
    }

    private var abbreviatedServerVerify: [UInt8]?

    /// The session as it is kept (session-ID cache) or sealed (ticket).
    private func sessionToKeep() -> StoredSession {
        StoredSession(version: .tls12, suite: suite, secret: independentCopy(masterSecret), extendedMasterSecret: extendedMasterSecret,
                      createdAtMillis: resumed?.createdAtMillis ?? config.clock(),
                      lifetimeSeconds: min(config.sessionTicketLifetime, 604_800), alpn: alpn, serverName: serverName,
                      peerChain: clientPeer?.chain ?? resumed?.peerChain ?? [], sessionID: sessionID)
    }

    /// A TLS 1.2 NewSessionTicket (RFC 5077 3.3) sealing this session.
    private func makeTicket() -> [UInt8]? {
        guard let protector = config.ticketProtector, let ticket = protector.seal(sessionToKeep().encode()),
              !ticket.isEmpty, ticket.count < 65536 else { return nil }
        return NewSessionTicket12(lifetimeHint: min(config.sessionTicketLifetime, 604_800), ticket: ticket).encode()
    }

    static func certificates(_ config: TLSConfiguration, serverName: String?) -> [CertifiedKey] {
        var list: [CertifiedKey] = []
        if let selector = config.certificateSelector, let c = selector(serverName) { list.append(c) }
        if let name = serverName?.lowercased() {
            list += config.certificates.filter { c in c.names.contains { nameMatches(pattern: $0.lowercased(), host: name) } }
        }
        list += config.certificates
        return list
    }

    func handle(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        do {
            switch (state, m.type) {
            case (.waitClientCertificate, .certificate): return try handleCertificate(m)
            case (.waitClientKeyExchange, .clientKeyExchange): return try handleClientKeyExchange(m)
            case (.waitClientCertificateVerify, .certificateVerify): return try handleCertificateVerify(m)
            case (.waitFinished, .finished): return try handleFinished(m)
            default: throw HandshakeError.unexpected("\(m.type) in TLS 1.2 server state \(state.rawValue)")
            }
        } catch let e as HandshakeError {
            state = .failed
            throw e
        }
    }

    func receivedChangeCipherSpec() throws -> [HandshakeAction] {
        guard state == .waitChangeCipherSpec, let c = pendingRead else {
            state = .failed
            throw HandshakeError.unexpected("change_cipher_spec in TLS 1.2 server state \(state.rawValue)")
        }
        pendingRead = nil
        state = .waitFinished
        return [.setReadKeys(c)]
    }

    private func handleCertificate(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let cert = try Certificate12(body: m.body, maxEntries: config.limits.maxCertificateChainLength)
        transcript.add(m.raw)
        if cert.chain.isEmpty {
            if config.clientAuthentication == .require { throw HandshakeError(.handshakeFailure, "client sent no certificate") }
        } else {
            guard cert.chain.reduce(0, { $0 + $1.count }) <= config.limits.maxCertificateChainBytes else {
                throw HandshakeError(.badCertificate, "certificate chain larger than \(config.limits.maxCertificateChainBytes) bytes")
            }
            clientPeer = try verifyPeerChain(config, chain: cert.chain, serverName: nil, peer: .client)
        }
        state = .waitClientKeyExchange
        return []
    }

    private func handleClientKeyExchange(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let cke = try ClientKeyExchangeECDHE(body: m.body)
        guard let key = ephemeral else { throw HandshakeError(.internalError, "no ephemeral key") }
        let preMaster: [UInt8]
        do { preMaster = try key.sharedSecret(peerPublicKey: cke.publicKey) }
        catch { throw HandshakeError.illegal("client ECDH public key is invalid: \(error)") }
        ephemeral = nil
        transcript.add(m.raw)
        masterSecret = extendedMasterSecret
            ? TLS12PRF.extendedMasterSecret(suite.hash, preMasterSecret: preMaster, sessionHash: transcript.currentHash())
            : TLS12PRF.masterSecret(suite.hash, preMasterSecret: preMaster, clientRandom: clientRandom, serverRandom: serverRandom)
        config.keyLog?("CLIENT_RANDOM", clientRandom, masterSecret)
        let keys = TLS12PRF.keyBlock(suite, masterSecret: masterSecret, clientRandom: clientRandom, serverRandom: serverRandom)
        pendingRead = try tls12Cipher(suite, key: keys.clientKey, iv: keys.clientIV)
        state = clientPeer != nil ? .waitClientCertificateVerify : .waitChangeCipherSpec
        return []
    }

    private func handleCertificateVerify(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let cv = try CertificateVerify(body: m.body)
        guard let peer = clientPeer else { throw HandshakeError(.internalError, "no client certificate") }
        guard let s = SignatureScheme(rawValue: cv.scheme), config.signatureSchemes.contains(s), s.matches(peer.publicKey, tls13: false) else {
            throw HandshakeError.illegal("client CertificateVerify uses a scheme we did not offer")
        }
        do { try peer.publicKey.verify(signature: cv.signature, message: transcript.messages, algorithm: s.algorithm) }
        catch { throw HandshakeError(.decryptError, "client CertificateVerify signature does not verify") }
        transcript.add(m.raw)
        state = .waitChangeCipherSpec
        return []
    }

    private func handleFinished(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        guard m.body.count == 12 else { throw HandshakeError.decode("Finished of \(m.body.count) bytes") }
        clientVerifyData = TLS12PRF.verifyData(suite.hash, masterSecret: masterSecret, client: true, transcriptHash: transcript.currentHash())
        guard constantTimeEquals(clientVerifyData, m.body) else { throw HandshakeError(.decryptError, "client Finished does not verify") }
        transcript.add(m.raw)
        var actions: [HandshakeAction] = []
        let serverVerify: [UInt8]
        if let done = abbreviatedServerVerify {
            serverVerify = done
        } else {
            if issueTicket, let nst = makeTicket() {
                transcript.add(nst)
                actions.append(.send(nst))
            }
            let keys = TLS12PRF.keyBlock(suite, masterSecret: masterSecret, clientRandom: clientRandom, serverRandom: serverRandom)
            serverVerify = TLS12PRF.verifyData(suite.hash, masterSecret: masterSecret, client: false, transcriptHash: transcript.currentHash())
            let fin = Finished(verifyData: serverVerify).encode()
            transcript.add(fin)
            actions += [.sendChangeCipherSpec, .setWriteKeys(try tls12Cipher(suite, key: keys.serverKey, iv: keys.serverIV)), .send(fin)]
            if !sessionID.isEmpty, extendedMasterSecret, let store = config.serverSessionStore {
                store.store(id: sessionID, session: sessionToKeep())
            }
        }
        session = TLS12Session(suite: suite, masterSecret: masterSecret, clientRandom: clientRandom, serverRandom: serverRandom,
                               clientVerifyData: clientVerifyData, serverVerifyData: serverVerify,
                               extendedMasterSecret: extendedMasterSecret, secureRenegotiation: secureRenegotiation)
        state = .connected
        actions.append(.complete(NegotiatedParameters(version: .tls12, cipherSuite: suite, group: group, signatureScheme: scheme, alpn: alpn,
                                                      serverName: serverName, peer: clientPeer ?? resumed.flatMap { resumedPeer($0.peerChain) },
                                                      resumed: resumed != nil, usedHelloRetryRequest: false, sessionID: sessionID)))
        return actions
    }
}

extension ServerHandshake12 {
    /// Zeroes the master secret in place (the connection's TLS12Session shares it).
    func wipeSecrets() { wipeStorage(masterSecret) }
}
