import TLSCrypto
import TLSRecord

/// Values a TLS 1.2 connection keeps after its handshake: for exporters and
/// for secure renegotiation (RFC 5746).
public struct TLS12Session {
    public var suite: CipherSuite
    public var masterSecret: [UInt8]
    public var clientRandom: [UInt8]
    public var serverRandom: [UInt8]
    public var clientVerifyData: [UInt8]
    public var serverVerifyData: [UInt8]
    public var extendedMasterSecret: Bool
    /// The peer supports RFC 5746; without it we never renegotiate.
    public var secureRenegotiation: Bool
}

/// The TLS 1.2 client (RFC 5246 7.3, ECDHE per RFC 8422), entered once the
/// ServerHello chose TLS 1.2.
final class ClientHandshake12 {
    enum State: String, CaseIterable {
        case waitCertificate, waitServerKeyExchange, waitCertificateRequestOrServerHelloDone, waitServerHelloDone,
             waitNewSessionTicket, waitChangeCipherSpec, waitFinished, connected, failed
    }

    private(set) var state: State = .waitCertificate
    let config: TLSConfiguration
    let random: RandomSource
    private var transcript: RawTranscript
    private let clientHello: ClientHello
    private let suite: CipherSuite
    private let serverRandom: [UInt8]
    private let extendedMasterSecret: Bool
    private let secureRenegotiation: Bool
    private let alpn: String?
    private var peer: PeerIdentity?
    private var peerScheme: SignatureScheme?
    private var group: NamedGroup?
    private var serverPublic: [UInt8] = []
    private var certificateRequest: CertificateRequest12?
    private var masterSecret: [UInt8] = []
    private var pendingRead: RecordCipher?
    private var clientVerifyData: [UInt8] = []
    private(set) var session: TLS12Session?
    /// The session to keep for resumption, once the handshake completed.
    private(set) var newSession: StoredSession?
    private let offeredResumption: StoredSession?
    private let resumed: Bool
    private let expectTicket: Bool
    private var receivedTicket: NewSessionTicket12?
    private var sessionID: [UInt8]
    private let expectStatus: Bool
    private var ocspResponse: [UInt8]?
    private var ocspStatus: StapledOCSPStatus?
    /// The record size limits negotiated in the ServerHello, to apply before anything else.
    private(set) var sizeLimits: [HandshakeAction] = []

    init(config: TLSConfiguration, random: RandomSource, clientHello: ClientHello, clientHelloBytes: [UInt8],
         serverHello sh: ServerHello, serverHelloBytes: [UInt8], renegotiatingFrom previous: TLS12Session?,
         offeredSession: StoredSession? = nil) throws {
        self.config = config
        self.random = random
        self.clientHello = clientHello
        guard let suite = CipherSuite(rawValue: sh.cipherSuite), !suite.isTLS13, clientHello.cipherSuites.contains(sh.cipherSuite) else {
            throw HandshakeError.illegal("server selected a cipher suite we did not offer")
        }
        self.suite = suite
        serverRandom = sh.random
        guard sh.compressionMethod == 0 else { throw HandshakeError.illegal("non-null compression method") }
        let offered = Set(clientHello.extensions.map(\.type))
        var seenRI = false
        var ems = false
        var chosenALPN: String? = nil
        for e in sh.extensions {
            guard offered.contains(e.type) else {
                throw HandshakeError(.unsupportedExtension, "ServerHello carries extension \(e.type) we did not offer")
            }
            switch e.type {
            case ExtensionType.renegotiationInfo:
                let v = try RenegotiationInfo.decode(e.data)
                let expected = previous.map { $0.clientVerifyData + $0.serverVerifyData } ?? []
                guard constantTimeEquals(v, expected) else { throw HandshakeError(.handshakeFailure, "renegotiation_info does not match") }
                seenRI = true
            case ExtensionType.extendedMasterSecret:
                try ExtensionCodec.empty(e.data, "extended_master_secret")
                ems = true
            case ExtensionType.alpn:
                let list = try ExtensionCodec.alpn(e.data)
                guard list.count == 1, let p = list.first, config.alpnProtocols.contains(where: { Array($0.utf8) == p }) else {
                    throw HandshakeError.illegal("server selected an ALPN protocol we did not offer")
                }
                chosenALPN = String(decoding: p, as: UTF8.self)
            case ExtensionType.ecPointFormats:
                let formats = try ExtensionCodec.u8List(e.data, "ec_point_formats")
                guard formats.contains(0) else { throw HandshakeError.illegal("server does not accept uncompressed points") }
            case ExtensionType.serverName:
                try ExtensionCodec.empty(e.data, "server_name")
            case ExtensionType.sessionTicket:
                try ExtensionCodec.empty(e.data, "session_ticket")
            case ExtensionType.statusRequest:
                try ExtensionCodec.empty(e.data, "status_request")
            case ExtensionType.recordSizeLimit:
                // RFC 8449 4: 64...2^14 in TLS 1.2 (a larger value MAY be refused; we do).
                let peerLimit = Int(try ExtensionCodec.single16(e.data, "record_size_limit"))
                guard peerLimit >= 64, peerLimit <= RecordLimits.protocolMaxPlaintext else {
                    throw HandshakeError.illegal("record_size_limit \(peerLimit) outside 64...16384")
                }
                sizeLimits = [.limitRecordSize(peer: peerLimit, ours: config.recordSizeLimit ?? RecordLimits.protocolMaxPlaintext, version: .tls12)]
            default:
                break
            }
        }
        if previous != nil && !seenRI { throw HandshakeError(.handshakeFailure, "renegotiation without renegotiation_info") }
        if let p = previous, p.extendedMasterSecret, !ems {
            throw HandshakeError(.handshakeFailure, "renegotiation dropped the extended master secret")
        }
        extendedMasterSecret = ems
        secureRenegotiation = seenRI
        alpn = chosenALPN
        transcript = RawTranscript(suite.hash)
        transcript.add(clientHelloBytes)
        transcript.add(serverHelloBytes)
        offeredResumption = offeredSession
        sessionID = sh.sessionIDEcho
        expectTicket = sh.extensions.has(ExtensionType.sessionTicket)
        expectStatus = sh.extensions.has(ExtensionType.statusRequest)
        if let o = offeredSession, !clientHello.sessionID.isEmpty, sh.sessionIDEcho == clientHello.sessionID {
            // The server resumes: abbreviated handshake (RFC 5246 7.3, RFC 5077 3.1).
            guard o.suite == suite else { throw HandshakeError.illegal("resumed session with a different cipher suite") }
            guard ems == o.extendedMasterSecret else { throw HandshakeError(.handshakeFailure, "resumption changed the extended master secret") }
            resumed = true
            masterSecret = independentCopy(o.secret)
            let keys = TLS12PRF.keyBlock(suite, masterSecret: o.secret, clientRandom: clientHello.random, serverRandom: sh.random)
            pendingRead = try tls12Cipher(suite, key: keys.serverKey, iv: keys.serverIV)
            peer = resumedPeer(o.peerChain)
            state = expectTicket ? .waitNewSessionTicket : .waitChangeCipherSpec
        } else {
            resumed = false
        }
    }

    func handle(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        do {
            switch (state, m.type) {
            case (.waitCertificate, .certificate): return try handleCertificate(m)
            case (.waitServerKeyExchange, .serverKeyExchange): return try handleServerKeyExchange(m)
            case (.waitServerKeyExchange, .certificateStatus) where expectStatus && ocspResponse == nil:
                ocspResponse = try CertificateStatusCodec.decode(m.body)
                transcript.add(m.raw)
                return []
            case (.waitCertificateRequestOrServerHelloDone, .certificateRequest):
                certificateRequest = try CertificateRequest12(body: m.body)
                transcript.add(m.raw)
                state = .waitServerHelloDone
                return []
            case (.waitCertificateRequestOrServerHelloDone, .serverHelloDone), (.waitServerHelloDone, .serverHelloDone):
                return try handleServerHelloDone(m)
            case (.waitFinished, .finished): return try handleFinished(m)
            case (.waitNewSessionTicket, .newSessionTicket):
                receivedTicket = try NewSessionTicket12(body: m.body)
                transcript.add(m.raw)
                state = .waitChangeCipherSpec
                return []
            default:
                throw HandshakeError.unexpected("\(m.type) in TLS 1.2 client state \(state.rawValue)")
            }
        } catch let e as HandshakeError {
            state = .failed
            throw e
        }
    }

    func receivedChangeCipherSpec() throws -> [HandshakeAction] {
        guard state == .waitChangeCipherSpec, let c = pendingRead else {
            state = .failed
            throw HandshakeError.unexpected("change_cipher_spec in TLS 1.2 client state \(state.rawValue)")
        }
        pendingRead = nil
        state = .waitFinished
        return [.setReadKeys(c)]
    }

    private func handleCertificate(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let cert = try Certificate12(body: m.body, maxEntries: config.limits.maxCertificateChainLength)
        guard !cert.chain.isEmpty else { throw HandshakeError.decode("server sent an empty certificate chain") }
        guard cert.chain.reduce(0, { $0 + $1.count }) <= config.limits.maxCertificateChainBytes else {
            throw HandshakeError(.badCertificate, "certificate chain too large")
        }
        let identity = try verifyPeerChain(config, chain: cert.chain, serverName: config.serverName, peer: .server)
        guard suite.acceptsKey(identity.publicKey) else {
            throw HandshakeError(.unsupportedCertificate, "\(identity.publicKey.kindName) certificate does not fit \(suite.name)")
        }
        peer = identity
        transcript.add(m.raw)
        state = .waitServerKeyExchange
        return []
    }

    private func handleServerKeyExchange(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        // CertificateStatus, if any, came between Certificate and here.
        if let peer { ocspStatus = try checkStapledOCSP(config, response: ocspResponse, peer: peer) }
        let ske = try ServerKeyExchangeECDHE(body: m.body)
        guard let g = NamedGroup(rawValue: ske.group), config.groups.contains(g) else {
            throw HandshakeError.illegal("ServerKeyExchange uses a group we did not offer")
        }
        guard let peer else { throw HandshakeError(.internalError, "no server certificate") }
        guard let scheme = SignatureScheme(rawValue: ske.scheme), config.signatureSchemes.contains(scheme),
              scheme.matches(peer.publicKey, tls13: false) else {
            throw HandshakeError.illegal("ServerKeyExchange signed with a scheme we did not offer")
        }
        let signed = clientHello.random + serverRandom + ske.params
        do { try peer.publicKey.verify(signature: ske.signature, message: signed, algorithm: scheme.algorithm) }
        catch { throw HandshakeError(.decryptError, "ServerKeyExchange signature does not verify") }
        group = g
        peerScheme = scheme
        serverPublic = ske.publicKey
        transcript.add(m.raw)
        state = .waitCertificateRequestOrServerHelloDone
        return []
    }

    private func handleServerHelloDone(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        guard m.body.isEmpty else { throw HandshakeError.decode("ServerHelloDone is not empty") }
        transcript.add(m.raw)
        guard let g = group else { throw HandshakeError(.internalError, "no group") }
        var actions: [HandshakeAction] = []

        // Client certificate, if asked for.
        var chosen: CertifiedKey? = nil
        var scheme: SignatureScheme? = nil
        if let cr = certificateRequest {
            chosen = config.clientCertificateProvider?(cr.certificateAuthorities) ?? config.certificates.first
            if let c = chosen {
                scheme = chooseSignatureScheme(ours: config.signatureSchemes, peerOffered: cr.signatureSchemes, key: c.publicKey, tls13: false)
                if scheme == nil { chosen = nil }
            }
            let certMsg = Certificate12(chain: chosen?.chain ?? []).encode()
            transcript.add(certMsg)
            actions.append(.send(certMsg))
        }

        let key: KeyAgreementPrivateKey
        do { key = try g.keyAgreement.generate(random: random) } catch { throw HandshakeError(.internalError, "key generation failed") }
        let preMaster: [UInt8]
        do { preMaster = try key.sharedSecret(peerPublicKey: serverPublic) }
        catch { throw HandshakeError.illegal("server ECDH public key is invalid: \(error)") }
        let cke = ClientKeyExchangeECDHE(publicKey: key.publicKeyBytes).encode()
        transcript.add(cke)
        actions.append(.send(cke))

        masterSecret = extendedMasterSecret
            ? TLS12PRF.extendedMasterSecret(suite.hash, preMasterSecret: preMaster, sessionHash: transcript.currentHash())
            : TLS12PRF.masterSecret(suite.hash, preMasterSecret: preMaster, clientRandom: clientHello.random, serverRandom: serverRandom)
        config.keyLog?("CLIENT_RANDOM", clientHello.random, masterSecret)

        if let c = chosen, let s = scheme {
            let sig: [UInt8]
            do { sig = try c.sign(s, transcript.messages) } catch { throw HandshakeError(.internalError, "signing failed: \(error)") }
            let cv = CertificateVerify(scheme: s.rawValue, signature: sig).encode()
            transcript.add(cv)
            actions.append(.send(cv))
        }

        let keys = TLS12PRF.keyBlock(suite, masterSecret: masterSecret, clientRandom: clientHello.random, serverRandom: serverRandom)
        actions.append(.sendChangeCipherSpec)
        actions.append(.setWriteKeys(try tls12Cipher(suite, key: keys.clientKey, iv: keys.clientIV)))
        pendingRead = try tls12Cipher(suite, key: keys.serverKey, iv: keys.serverIV)
        clientVerifyData = TLS12PRF.verifyData(suite.hash, masterSecret: masterSecret, client: true, transcriptHash: transcript.currentHash())
        let fin = Finished(verifyData: clientVerifyData).encode()
        transcript.add(fin)
        actions.append(.send(fin))
        state = expectTicket ? .waitNewSessionTicket : .waitChangeCipherSpec
        return actions
    }

    private func handleFinished(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        guard m.body.count == 12 else { throw HandshakeError.decode("Finished of \(m.body.count) bytes") }
        let expected = TLS12PRF.verifyData(suite.hash, masterSecret: masterSecret, client: false, transcriptHash: transcript.currentHash())
        guard constantTimeEquals(expected, m.body) else { throw HandshakeError(.decryptError, "server Finished does not verify") }
        transcript.add(m.raw)
        var actions: [HandshakeAction] = []
        if resumed {
            // Abbreviated: the server finished first; now our CCS and Finished.
            let keys = TLS12PRF.keyBlock(suite, masterSecret: masterSecret, clientRandom: clientHello.random, serverRandom: serverRandom)
            actions.append(.sendChangeCipherSpec)
            actions.append(.setWriteKeys(try tls12Cipher(suite, key: keys.clientKey, iv: keys.clientIV)))
            clientVerifyData = TLS12PRF.verifyData(suite.hash, masterSecret: masterSecret, client: true, transcriptHash: transcript.currentHash())
            let fin = Finished(verifyData: clientVerifyData).encode()
            transcript.add(fin)
            actions.append(.send(fin))
        }
        // A ticket session without a server-given ID gets one of ours (RFC 5077 3.4): it names
        // the session for the API (get_session_id) and lets a resumption be recognised.
        if sessionID.isEmpty && receivedTicket != nil { sessionID = random.bytes(32) }
        if extendedMasterSecret && (!sessionID.isEmpty || receivedTicket != nil || (resumed && !(offeredResumption?.ticket.isEmpty ?? true))) {
            let lifetime = receivedTicket.map { $0.lifetimeHint == 0 ? 7200 : min($0.lifetimeHint, 604_800) } ?? offeredResumption?.lifetimeSeconds ?? 7200
            newSession = StoredSession(version: .tls12, suite: suite, secret: independentCopy(masterSecret), extendedMasterSecret: true,
                                       createdAtMillis: config.clock(), lifetimeSeconds: lifetime, alpn: alpn, serverName: config.serverName,
                                       peerChain: peer?.chain ?? offeredResumption?.peerChain ?? [],
                                       ticket: receivedTicket?.ticket ?? (resumed ? offeredResumption?.ticket ?? [] : []),
                                       sessionID: sessionID)
        }
        session = TLS12Session(suite: suite, masterSecret: masterSecret, clientRandom: clientHello.random, serverRandom: serverRandom,
                               clientVerifyData: clientVerifyData, serverVerifyData: m.body,
                               extendedMasterSecret: extendedMasterSecret, secureRenegotiation: secureRenegotiation)
        state = .connected
        actions.append(.complete(NegotiatedParameters(version: .tls12, cipherSuite: suite, group: group, signatureScheme: peerScheme,
                                                      alpn: alpn, serverName: config.serverName, peer: peer, resumed: resumed,
                                                      usedHelloRetryRequest: false, sessionID: sessionID, ocspResponse: ocspResponse, ocspStatus: ocspStatus)))
        return actions
    }
}

func tls12Cipher(_ suite: CipherSuite, key: [UInt8], iv: [UInt8]) throws -> RecordCipher {
    do { return try RecordCipher.tls12(suite.aead, key: key, fixedIV: iv) }
    catch { throw HandshakeError(.internalError, "cannot set up record protection: \(error)") }
}

/// TLS 1.2 transcript: the running hash, plus the messages themselves because
/// a TLS 1.2 CertificateVerify signs them whole.
struct RawTranscript {
    private var hash: Transcript
    private(set) var messages: [UInt8] = []

    init(_ algorithm: HashAlgorithm) {
        hash = Transcript()
        hash.start(algorithm)
    }

    mutating func add(_ m: [UInt8]) {
        hash.add(m)
        messages.append(contentsOf: m)
    }

    func currentHash() -> [UInt8] { hash.currentHash() }
}

extension ClientHandshake12 {
    /// Zeroes the master secret in place (the connection's TLS12Session shares it).
    func wipeSecrets() { wipeStorage(masterSecret) }
}
