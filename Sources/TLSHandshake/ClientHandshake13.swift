import TLSCrypto
import TLSRecord

/// The TLS 1.3 client (RFC 8446 section 2 and 4), one state per expected message.
/// Each step takes one message and either advances or fails with the alert to send.
public final class ClientHandshake {
    public enum State: String, CaseIterable {
        case start, waitServerHello, waitEncryptedExtensions, waitCertificateOrCertificateRequest,
             waitCertificate, waitCertificateVerify, waitFinished, connected, failed
        /// TLS 1.2 was negotiated; `ClientHandshake12` runs the rest.
        case tls12
    }

    public private(set) var state: State = .start
    let config: TLSConfiguration
    let random: RandomSource

    private var transcript = Transcript()
    private var clientHello: ClientHello?
    private var keyShares: [NamedGroup: KeyAgreementPrivateKey] = [:]
    private var receivedHelloRetryRequest = false
    private var hrrCookie: [UInt8]?
    private var suite: CipherSuite?
    private var group: NamedGroup?
    private var handshakeSecret: HandshakeSecret?
    private var clientHandshakeSecret: [UInt8] = []
    private var serverHandshakeSecret: [UInt8] = []
    private var alpn: String?
    private var certificateRequest: CertificateRequest13?
    private var peer: PeerIdentity?
    private var peerScheme: SignatureScheme?
    public private(set) var secrets: TLS13Secrets?
    private var tls12: ClientHandshake12?
    private let previousSession: TLS12Session?
    /// The session offered for resumption (TLS 1.3 PSK or TLS 1.2 ID/ticket).
    private(set) var offeredSession: StoredSession?
    private var pskAccepted = false
    private var earlyDataSent = false
    private var earlyDataAccepted: Bool?
    private var sentCompatibilityCCS = false
    private var ocspResponse: [UInt8]?
    private var ocspStatus: StapledOCSPStatus?
    /// After ServerHello, alerts must be protected with the client handshake keys
    /// (RFC 8446 6) even before our second flight installs them.
    public private(set) var alertCipher: RecordCipher?

    /// `renegotiatingFrom` starts a TLS 1.2 renegotiation (RFC 5746) of an
    /// established session.
    public init(config: TLSConfiguration, random: RandomSource, renegotiatingFrom previous: TLS12Session? = nil) {
        self.config = config
        self.random = random
        self.previousSession = previous
    }

    /// The TLS 1.2 session once a TLS 1.2 handshake completed.
    public var session12: TLS12Session? { tls12?.session }
    public var isTLS12: Bool { tls12 != nil }
    /// The TLS 1.2 machine's state name (see Spec/tls12-states.md), once TLS 1.2 runs.
    public var tls12State: String? { tls12?.state.rawValue }
    /// A TLS 1.2 session to keep, once a TLS 1.2 handshake completed.
    public var tls12NewSession: StoredSession? { tls12?.newSession }
    var offers13: Bool { config.tls13Enabled && previousSession == nil }

    public func receivedChangeCipherSpec() throws -> [HandshakeAction] {
        guard let tls12 else { throw HandshakeError.unexpected("change_cipher_spec") }
        return try tls12.receivedChangeCipherSpec()
    }

    private func fail(_ e: HandshakeError) -> HandshakeError {
        state = .failed
        return e
    }

    // MARK: ClientHello

    public func start() throws -> [HandshakeAction] {
        guard state == .start else { throw HandshakeError(.internalError, "handshake already started") }
        guard offers13 || config.tls12Enabled else {
            throw HandshakeError(.protocolVersion, "no protocol version enabled: only TLS 1.2 and 1.3 exist here")
        }
        offeredSession = sessionToOffer()
        var shares: [KeyShareEntry] = []
        for g in config.keyShareGroups where config.groups.contains(g) && offers13 {
            let k = try makeKey(g)
            keyShares[g] = k
            shares.append(KeyShareEntry(group: g.rawValue, keyExchange: k.publicKeyBytes))
        }
        let random32 = random.bytes(32)
        var sessionID = config.middleboxCompatibility && offers13 ? random.bytes(32) : []
        if let o = offeredSession, o.version == .tls12 {
            // TLS 1.2 resumption: the session's ID, or for a ticket a fresh one to spot acceptance (RFC 5077 3.4).
            sessionID = o.sessionID.isEmpty ? (sessionID.isEmpty ? random.bytes(32) : sessionID) : o.sessionID
        }
        var suites = config.cipherSuites.filter { offers13 ? true : !$0.isTLS13 }
        if !config.tls12Enabled { suites = suites.filter(\.isTLS13) }
        var suiteCodes = suites.map(\.rawValue)
        if config.sendFallbackSCSV { suiteCodes.append(fallbackSCSV) }
        var hello = ClientHello(random: random32, sessionID: sessionID, cipherSuites: suiteCodes,
                                extensions: clientHelloExtensions(shares: shares))
        let psk = offeredPSK
        if let psk { try fillBinders(&hello, psks: [psk], transcriptBefore: nil) }
        clientHello = hello
        let bytes = hello.encode()
        transcript.add(bytes)
        state = .waitServerHello
        var actions: [HandshakeAction] = [.send(bytes)]
        // 0-RTT: early data right behind the ClientHello, under the early traffic keys.
        if let psk, let o = offeredSession, hello.extensions.has(ExtensionType.earlyData) {
            let earlySecret = EarlySecret(hash: psk.hash, psk: psk.secret)
            let cets = earlySecret.clientEarlyTrafficSecret(transcriptHash: Digest.hash(psk.hash, bytes))
            config.keyLog?("CLIENT_EARLY_TRAFFIC_SECRET", random32, cets)
            if config.middleboxCompatibility && !sessionID.isEmpty { actions.append(.sendChangeCipherSpec); sentCompatibilityCCS = true }
            actions.append(.setWriteKeys(try tls13Cipher(o.suite, secret: cets)))
            actions.append(.sendApplicationData(Array(config.earlyData.prefix(Int(o.maxEarlyDataSize)))))
            earlyDataSent = true
        }
        return actions
    }

    /// The session to resume, if any is usable with this configuration.
    private func sessionToOffer() -> StoredSession? {
        guard !config.sessionCacheDisabled, previousSession == nil else { return nil }
        let now = config.clock()
        guard let s = config.resumeSession ?? config.sessionKey.flatMap({ config.clientSessionStore?.take(key: $0, nowMillis: now) }),
              !s.isExpired(nowMillis: now) else { return nil }
        switch s.version {
        case .tls13:
            guard offers13, !s.ticket.isEmpty, config.cipherSuites.contains(where: { $0.isTLS13 && $0.hash == s.suite.hash }) else { return nil }
        case .tls12:
            guard config.tls12Enabled, s.extendedMasterSecret, config.cipherSuites.contains(s.suite) else { return nil }
        default:
            return nil
        }
        if let name = s.serverName, let ours = config.serverName, name.lowercased() != ours.lowercased() { return nil }
        return s
    }

    private var offeredPSK: (secret: [UInt8], hash: HashAlgorithm)? {
        guard let o = offeredSession, o.version == .tls13 else { return nil }
        return (o.secret, o.suite.hash)
    }

    private func makeKey(_ g: NamedGroup) throws -> KeyAgreementPrivateKey {
        do { return try g.keyAgreement.generate(random: random) }
        catch { throw HandshakeError(.internalError, "key generation for \(g) failed: \(error)") }
    }

    private func clientHelloExtensions(shares: [KeyShareEntry]) -> [Extension] {
        var ext: [Extension] = []
        if let name = config.serverName, !name.isEmpty, !isIPAddressLiteral(name) {
            ext.append(Extension(type: ExtensionType.serverName, data: ExtensionCodec.encodeServerName(name)))
        }
        if offers13 {
            let versions: [UInt16] = config.tls12Enabled ? [0x0304, 0x0303] : [0x0304]
            ext.append(Extension(type: ExtensionType.supportedVersions, data: ExtensionCodec.encodeClientSupportedVersions(versions)))
        }
        ext.append(Extension(type: ExtensionType.supportedGroups, data: ExtensionCodec.encodeU16List(config.groups.map(\.rawValue))))
        ext.append(Extension(type: ExtensionType.signatureAlgorithms, data: ExtensionCodec.encodeU16List(config.signatureSchemes.map(\.rawValue))))
        if offers13 {
            ext.append(Extension(type: ExtensionType.keyShare, data: ExtensionCodec.encodeClientKeyShares(shares)))
            let modes = config.pskKeyExchangeModes.map(\.rawValue)
            ext.append(Extension(type: ExtensionType.pskKeyExchangeModes, data: [UInt8(truncatingIfNeeded: modes.count)] + modes))
        }
        if config.tls12Enabled {
            ext.append(Extension(type: ExtensionType.ecPointFormats, data: [1, 0]))
            ext.append(Extension(type: ExtensionType.extendedMasterSecret, data: []))
            let ri = previousSession?.clientVerifyData ?? []
            ext.append(Extension(type: ExtensionType.renegotiationInfo, data: RenegotiationInfo.encode(ri)))
        }
        if !config.alpnProtocols.isEmpty {
            ext.append(Extension(type: ExtensionType.alpn, data: ExtensionCodec.encodeALPN(config.alpnProtocols.map { Array($0.utf8) })))
        }
        if !config.certificates.isEmpty || config.clientCertificateProvider != nil {
            ext.append(Extension(type: ExtensionType.postHandshakeAuth, data: []))
        }
        if config.requestOCSPStapling {
            ext.append(Extension(type: ExtensionType.statusRequest, data: CertificateStatusCodec.request))
        }
        if let limit = config.recordSizeLimit {
            ext.append(Extension(type: ExtensionType.recordSizeLimit, data: ExtensionCodec.encode16(UInt16(clamping: max(64, min(limit, 16385))))))
        }
        if config.tls12Enabled && !config.sessionCacheDisabled {
            let ticket = offeredSession?.version == .tls12 ? offeredSession?.ticket ?? [] : []
            ext.append(Extension(type: ExtensionType.sessionTicket, data: ticket))
        }
        if let o = offeredSession, o.version == .tls13 {
            if !config.earlyData.isEmpty && o.maxEarlyDataSize > 0
                && (o.alpn == nil || config.alpnProtocols.first == o.alpn) {
                ext.append(Extension(type: ExtensionType.earlyData, data: []))
            }
            // pre_shared_key goes last; the binder is filled in once the whole message exists.
            let age = UInt32(truncatingIfNeeded: config.clock() &- o.createdAtMillis) &+ o.ageAdd
            let psks = OfferedPSKs(identities: [PSKIdentity(identity: o.ticket, obfuscatedTicketAge: age)],
                                   binders: [[UInt8](repeating: 0, count: o.suite.hash.digestLength)])
            ext.append(Extension(type: ExtensionType.preSharedKey, data: ExtensionCodec.encodeOfferedPSKs(psks)))
        }
        if let hook = config.overrideClientHelloExtensions { return hook(ext, false) }
        return ext
    }

    // MARK: Receiving

    public func handle(_ message: ReceivedMessage) throws -> [HandshakeAction] {
        if let tls12 {
            do { return try tls12.handle(message) } catch let e as HandshakeError { throw fail(e) }
        }
        do {
            switch (state, message.type) {
            case (.waitServerHello, .serverHello):
                return try handleServerHello(message)
            case (.waitEncryptedExtensions, .encryptedExtensions):
                return try handleEncryptedExtensions(message)
            case (.waitCertificateOrCertificateRequest, .certificateRequest):
                return try handleCertificateRequest(message)
            case (.waitCertificateOrCertificateRequest, .certificate), (.waitCertificate, .certificate):
                return try handleCertificate(message)
            case (.waitCertificateVerify, .certificateVerify):
                return try handleCertificateVerify(message)
            case (.waitFinished, .finished):
                return try handleFinished(message)
            default:
                throw HandshakeError.unexpected("\(message.type) in state \(state.rawValue)")
            }
        } catch let e as HandshakeError {
            throw fail(e)
        } catch {
            throw fail(HandshakeError(.internalError, "\(error)"))
        }
    }

    private func handleServerHello(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let sh = try ServerHello(body: m.body)
        guard sh.extensions.count <= config.limits.maxExtensions else { throw HandshakeError.decode("more than \(config.limits.maxExtensions) extensions in ServerHello") }
        guard let ch = clientHello else { throw HandshakeError(.internalError, "no ClientHello") }
        guard let versionData = sh.extensions.first(ExtensionType.supportedVersions) else {
            // A TLS 1.2 answer: check for the downgrade sentinel first (RFC 8446 4.1.3).
            let tail = Array(sh.random.suffix(8))
            if offers13 && (tail == downgradeSentinelTLS12 || tail == downgradeSentinelTLS11) {
                throw HandshakeError.illegal("server random carries a downgrade sentinel: a TLS 1.3 server was forced down")
            }
            guard sh.legacyVersion == 0x0303, config.tls12Enabled, !receivedHelloRetryRequest else {
                throw HandshakeError(.protocolVersion, config.tls12Enabled
                    ? "server chose version \(String(sh.legacyVersion, radix: 16)), which we do not speak"
                    : "server chose TLS 1.2; only TLS 1.3 is enabled")
            }
            guard sh.sessionIDEcho.isEmpty || sh.sessionIDEcho.count <= 32 else { throw HandshakeError.illegal("bad session id") }
            let next = try ClientHandshake12(config: config, random: random, clientHello: ch, clientHelloBytes: ch.encode(),
                                             serverHello: sh, serverHelloBytes: m.raw, renegotiatingFrom: previousSession,
                                             offeredSession: offeredSession?.version == .tls12 ? offeredSession : nil)
            tls12 = next
            keyShares.removeAll()
            state = .tls12
            return next.sizeLimits
        }
        let version = try ExtensionCodec.single16(versionData, "supported_versions")
        guard version == 0x0304 else { throw HandshakeError.illegal("server selected version \(String(version, radix: 16)) in supported_versions") }
        guard sh.legacyVersion == 0x0303 else { throw HandshakeError(.protocolVersion, "ServerHello legacy_version is not 0x0303") }
        guard sh.sessionIDEcho == ch.sessionID else { throw HandshakeError.illegal("legacy_session_id_echo does not match") }
        guard sh.compressionMethod == 0 else { throw HandshakeError.illegal("non-null compression method") }
        guard let suite = CipherSuite(rawValue: sh.cipherSuite), suite.isTLS13, ch.cipherSuites.contains(sh.cipherSuite) else {
            throw HandshakeError.illegal("server selected a cipher suite we did not offer")
        }
        let offered = Set(ch.extensions.map(\.type))
        for e in sh.extensions where !offered.contains(e.type) && e.type != ExtensionType.cookie {
            throw HandshakeError(.unsupportedExtension, "ServerHello carries extension \(e.type) we did not offer")
        }
        if sh.isHelloRetryRequest { return try handleHelloRetryRequest(sh, suite: suite, raw: m.raw) }
        if let previous = self.suite, previous != suite {
            throw HandshakeError.illegal("cipher suite changed after HelloRetryRequest")
        }
        for e in sh.extensions where ![ExtensionType.keyShare, ExtensionType.supportedVersions, ExtensionType.preSharedKey].contains(e.type) {
            throw HandshakeError.illegal("extension \(e.type) is not allowed in ServerHello")
        }
        var psk: [UInt8]? = nil
        if let pskData = sh.extensions.first(ExtensionType.preSharedKey) {
            let selected = try ExtensionCodec.single16(pskData, "pre_shared_key")
            guard selected == 0, let o = offeredSession, o.version == .tls13, ch.extensions.has(ExtensionType.preSharedKey) else {
                throw HandshakeError.illegal("server selected a PSK we did not offer")
            }
            guard o.suite.hash == suite.hash else { throw HandshakeError.illegal("server's cipher suite does not fit the PSK") }
            psk = o.secret
            pskAccepted = true
        }
        // (EC)DHE, unless the server resumes with psk_ke, which then must be a mode we offered.
        let offeredModes = try ch.extensions.first(ExtensionType.pskKeyExchangeModes)
            .map { try ExtensionCodec.u8List($0, "psk_key_exchange_modes") } ?? []
        var shared = [UInt8](repeating: 0, count: suite.hash.digestLength)
        var g: NamedGroup? = nil
        if let shareData = sh.extensions.first(ExtensionType.keyShare) {
            if psk != nil && !offeredModes.contains(PSKKeyExchangeMode.pskDHE.rawValue) {
                throw HandshakeError.illegal("server used (EC)DHE with the PSK, a mode we did not offer")
            }
            let share = try ExtensionCodec.serverKeyShare(shareData)
            guard let named = NamedGroup(rawValue: share.group), let key = keyShares[named] else {
                throw HandshakeError.illegal("server key share for a group we sent no share for")
            }
            do { shared = try key.sharedSecret(peerPublicKey: share.keyExchange) }
            catch { throw HandshakeError.illegal("server key share is invalid: \(error)") }
            g = named
        } else {
            guard psk != nil else { throw HandshakeError(.missingExtension, "ServerHello without key_share") }
            guard offeredModes.contains(PSKKeyExchangeMode.psk.rawValue) else {
                // RFC 8446 4.2.11: the key_share our modes require is missing.
                throw HandshakeError.illegal("ServerHello without key_share: psk_ke, a mode we did not offer")
            }
        }

        self.suite = suite
        self.group = g
        transcript.start(suite.hash)
        transcript.add(m.raw)
        let hs = EarlySecret(hash: suite.hash, psk: psk).handshakeSecret(sharedSecret: shared)
        handshakeSecret = hs
        let th = transcript.currentHash()
        clientHandshakeSecret = hs.clientTrafficSecret(transcriptHash: th)
        serverHandshakeSecret = hs.serverTrafficSecret(transcriptHash: th)
        config.keyLog?("CLIENT_HANDSHAKE_TRAFFIC_SECRET", ch.random, clientHandshakeSecret)
        config.keyLog?("SERVER_HANDSHAKE_TRAFFIC_SECRET", ch.random, serverHandshakeSecret)
        keyShares.removeAll()
        // With accepted 0-RTT the server still reads our early keys until EndOfEarlyData.
        alertCipher = earlyDataSent ? nil : try tls13Cipher(suite, secret: clientHandshakeSecret)
        state = .waitEncryptedExtensions
        return [.setReadKeys(try tls13Cipher(suite, secret: serverHandshakeSecret))]
    }

    private func handleHelloRetryRequest(_ hrr: ServerHello, suite: CipherSuite, raw: [UInt8]) throws -> [HandshakeAction] {
        guard !receivedHelloRetryRequest else { throw HandshakeError.unexpected("second HelloRetryRequest") }
        guard var ch = clientHello else { throw HandshakeError(.internalError, "no ClientHello") }
        receivedHelloRetryRequest = true
        for e in hrr.extensions where ![ExtensionType.keyShare, ExtensionType.supportedVersions, ExtensionType.cookie].contains(e.type) {
            throw HandshakeError.illegal("extension \(e.type) is not allowed in HelloRetryRequest")
        }
        var newGroup: NamedGroup? = nil
        if let data = hrr.extensions.first(ExtensionType.keyShare) {
            let g = try ExtensionCodec.single16(data, "key_share")
            guard let named = NamedGroup(rawValue: g), config.groups.contains(named) else {
                throw HandshakeError.illegal("HelloRetryRequest asks for a group we did not offer")
            }
            guard keyShares[named] == nil else {
                throw HandshakeError.illegal("HelloRetryRequest asks for a group we already sent a share for")
            }
            newGroup = named
        }
        if let data = hrr.extensions.first(ExtensionType.cookie) { hrrCookie = try ExtensionCodec.cookie(data) }
        guard newGroup != nil || hrrCookie != nil else {
            throw HandshakeError.illegal("HelloRetryRequest would not change the ClientHello")
        }
        self.suite = suite
        transcript.restartForHelloRetryRequest(suite.hash)
        transcript.add(raw)

        var shares: [KeyShareEntry] = []
        keyShares.removeAll()
        if let g = newGroup {
            let k = try makeKey(g)
            keyShares[g] = k
            shares.append(KeyShareEntry(group: g.rawValue, keyExchange: k.publicKeyBytes))
        } else if let old = ch.extensions.first(ExtensionType.keyShare) {
            // Cookie only: resend the same shares (kept from the first flight).
            shares = (try? ExtensionCodec.clientKeyShares(old)) ?? []
        }
        var ext: [Extension] = []
        for e in ch.extensions {
            switch e.type {
            case ExtensionType.keyShare:
                ext.append(Extension(type: ExtensionType.keyShare, data: ExtensionCodec.encodeClientKeyShares(shares)))
                if let c = hrrCookie {
                    var w = ByteWriter(); w.vector16(c)
                    ext.append(Extension(type: ExtensionType.cookie, data: w.bytes))
                }
            case ExtensionType.earlyData, ExtensionType.cookie:
                continue
            default:
                ext.append(e)
            }
        }
        ch.extensions = config.overrideClientHelloExtensions?(ext, true) ?? ext
        if let psk = offeredPSK, ch.extensions.has(ExtensionType.preSharedKey) {
            if psk.hash == suite.hash {
                try fillBinders(&ch, psks: [psk], transcriptBefore: transcript)
            } else {
                ch.extensions.removeAll { $0.type == ExtensionType.preSharedKey }
                offeredSession = nil
            }
        }
        clientHello = ch
        let bytes = ch.encode()
        transcript.add(bytes)
        state = .waitServerHello
        var actions: [HandshakeAction] = []
        if earlyDataSent { actions.append(.dropWriteKeys); earlyDataAccepted = false }
        if config.middleboxCompatibility && !sentCompatibilityCCS { actions.append(.sendChangeCipherSpec); sentCompatibilityCCS = true }
        actions.append(.send(bytes))
        return actions
    }

    private func handleEncryptedExtensions(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let ee = try EncryptedExtensions(body: m.body)
        guard ee.extensions.count <= config.limits.maxExtensions else { throw HandshakeError.decode("more than \(config.limits.maxExtensions) extensions in EncryptedExtensions") }
        guard let ch = clientHello else { throw HandshakeError(.internalError, "no ClientHello") }
        let offered = Set(ch.extensions.map(\.type))
        let forbidden: Set<UInt16> = [ExtensionType.keyShare, ExtensionType.supportedVersions, ExtensionType.preSharedKey,
                                      ExtensionType.pskKeyExchangeModes, ExtensionType.cookie, ExtensionType.signatureAlgorithms,
                                      ExtensionType.certificateAuthorities, ExtensionType.postHandshakeAuth,
                                      ExtensionType.signatureAlgorithmsCert, ExtensionType.statusRequest]
        for e in ee.extensions {
            if forbidden.contains(e.type) { throw HandshakeError.illegal("extension \(e.type) is not allowed in EncryptedExtensions") }
            // supported_groups may be sent to tell us the server's preferences (RFC 8446 4.2.7).
            if !offered.contains(e.type) && e.type != ExtensionType.supportedGroups {
                throw HandshakeError(.unsupportedExtension, "EncryptedExtensions carries extension \(e.type) we did not offer")
            }
        }
        if let data = ee.extensions.first(ExtensionType.alpn) {
            let list = try ExtensionCodec.alpn(data)
            guard list.count == 1, let chosen = list.first, config.alpnProtocols.contains(where: { Array($0.utf8) == chosen }) else {
                throw HandshakeError.illegal("server selected an ALPN protocol we did not offer")
            }
            alpn = String(decoding: chosen, as: UTF8.self)
        }
        if let data = ee.extensions.first(ExtensionType.serverName) { try ExtensionCodec.empty(data, "server_name") }
        var actions: [HandshakeAction] = []
        if let data = ee.extensions.first(ExtensionType.recordSizeLimit) {
            let peer = Int(try ExtensionCodec.single16(data, "record_size_limit"))
            guard peer >= 64 else { throw HandshakeError.illegal("record_size_limit below 64") }
            actions.append(.limitRecordSize(peer: peer, ours: config.recordSizeLimit ?? 16385, version: .tls13))
        }
        if let data = ee.extensions.first(ExtensionType.earlyData) {
            try ExtensionCodec.empty(data, "early_data")
            guard earlyDataSent, pskAccepted else { throw HandshakeError.illegal("server accepted early data we did not send") }
            earlyDataAccepted = true
        } else if earlyDataSent {
            earlyDataAccepted = false
        }
        transcript.add(m.raw)
        if pskAccepted {
            peer = offeredSession.flatMap { resumedPeer($0.peerChain) }
            state = .waitFinished
        } else {
            state = .waitCertificateOrCertificateRequest
        }
        return actions
    }

    private func handleCertificateRequest(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let cr = try CertificateRequest13(body: m.body)
        guard cr.context.isEmpty else { throw HandshakeError.illegal("CertificateRequest context must be empty during the handshake") }
        certificateRequest = cr
        transcript.add(m.raw)
        state = .waitCertificate
        return []
    }

    private func handleCertificate(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let cert = try Certificate13(body: m.body, maxEntries: config.limits.maxCertificateChainLength)
        guard cert.context.isEmpty else { throw HandshakeError.illegal("server Certificate with a non-empty context") }
        guard !cert.entries.isEmpty else { throw HandshakeError.decode("server sent an empty certificate chain") }
        let chain = cert.entries.map(\.data)
        let offered = Set(clientHello?.extensions.map(\.type) ?? [])
        for (i, entry) in cert.entries.enumerated() {
            for e in entry.extensions {
                guard offered.contains(e.type), e.type == ExtensionType.statusRequest || e.type == 18 else {
                    throw HandshakeError(.unsupportedExtension, "certificate entry carries extension \(e.type) we did not offer")
                }
                if e.type == ExtensionType.statusRequest && i == 0 { ocspResponse = try CertificateStatusCodec.decode(e.data) }
            }
        }
        guard chain.reduce(0, { $0 + $1.count }) <= config.limits.maxCertificateChainBytes else {
            throw HandshakeError(.badCertificate, "certificate chain larger than \(config.limits.maxCertificateChainBytes) bytes")
        }
        let identity = try verifyPeerChain(config, chain: chain, serverName: config.serverName, peer: .server)
        ocspStatus = try checkStapledOCSP(config, response: ocspResponse, peer: identity)
        peer = identity
        transcript.add(m.raw)
        state = .waitCertificateVerify
        return []
    }

    private func handleCertificateVerify(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let cv = try CertificateVerify(body: m.body)
        guard let peer else { throw HandshakeError(.internalError, "no peer certificate") }
        guard let scheme = SignatureScheme(rawValue: cv.scheme), config.signatureSchemes.contains(scheme),
              scheme.matches(peer.publicKey, tls13: true) else {
            throw HandshakeError.illegal("CertificateVerify uses a scheme we did not offer or that does not fit the key")
        }
        let content = CertificateVerify.signedContent(transcriptHash: transcript.currentHash(), server: true)
        do {
            try peer.publicKey.verify(signature: cv.signature, message: content, algorithm: scheme.algorithm)
        } catch {
            throw HandshakeError(.decryptError, "server CertificateVerify signature does not verify: \(error)")
        }
        peerScheme = scheme
        transcript.add(m.raw)
        state = .waitFinished
        return []
    }

    private func handleFinished(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        guard let suite, let hs = handshakeSecret else { throw HandshakeError(.internalError, "no key schedule") }
        guard m.body.count == suite.hash.digestLength else { throw HandshakeError.decode("Finished of \(m.body.count) bytes") }
        let expected = TLS13KDF.finishedVerifyData(suite.hash, trafficSecret: serverHandshakeSecret, transcriptHash: transcript.currentHash())
        guard constantTimeEquals(expected, m.body) else { throw HandshakeError(.decryptError, "server Finished does not verify") }
        transcript.add(m.raw)
        let master = hs.masterSecret
        let thServerFinished = transcript.currentHash()
        let clientApp = master.clientApplicationTrafficSecret(transcriptHash: thServerFinished)
        let serverApp = master.serverApplicationTrafficSecret(transcriptHash: thServerFinished)
        let exporter = master.exporterMasterSecret(transcriptHash: thServerFinished)
        if let log = config.keyLog, let random = clientHello?.random {
            log("CLIENT_TRAFFIC_SECRET_0", random, clientApp)
            log("SERVER_TRAFFIC_SECRET_0", random, serverApp)
            log("EXPORTER_SECRET", random, exporter)
        }

        var actions: [HandshakeAction] = []
        if earlyDataAccepted == true {
            // Still under the early keys: the end of early data is announced with them.
            let eoed = handshakeMessage(.endOfEarlyData, [])
            transcript.add(eoed)
            actions.append(.send(eoed))
        }
        if config.middleboxCompatibility && !sentCompatibilityCCS && !(clientHello?.sessionID.isEmpty ?? true) {
            actions.append(.sendChangeCipherSpec)
            sentCompatibilityCCS = true
        }
        actions.append(.setWriteKeys(try tls13Cipher(suite, secret: clientHandshakeSecret)))
        alertCipher = nil
        if let cr = certificateRequest {
            actions += try clientAuthentication(cr, suite: suite)
        }
        let finished = Finished(verifyData: TLS13KDF.finishedVerifyData(suite.hash, trafficSecret: clientHandshakeSecret,
                                                                        transcriptHash: transcript.currentHash())).encode()
        transcript.add(finished)
        actions.append(.send(finished))
        let resumption = master.resumptionMasterSecret(transcriptHash: transcript.currentHash())
        secrets = TLS13Secrets(suite: suite, clientTrafficSecret: clientApp, serverTrafficSecret: serverApp,
                               exporterMasterSecret: exporter, resumptionMasterSecret: resumption, transcript: transcript)
        actions.append(.setWriteKeys(try tls13Cipher(suite, secret: clientApp)))
        actions.append(.setReadKeys(try tls13Cipher(suite, secret: serverApp)))
        state = .connected
        secureZero(&clientHandshakeSecret)
        secureZero(&serverHandshakeSecret)
        handshakeSecret = nil
        actions.append(.complete(NegotiatedParameters(
            version: .tls13, cipherSuite: suite, group: group, signatureScheme: peerScheme, alpn: alpn,
            serverName: config.serverName, peer: peer, resumed: pskAccepted, usedHelloRetryRequest: receivedHelloRetryRequest,
            earlyDataAccepted: earlyDataSent ? (earlyDataAccepted ?? false) : nil, ocspResponse: ocspResponse, ocspStatus: ocspStatus)))
        return actions
    }

    /// Certificate (possibly empty) and CertificateVerify in answer to a CertificateRequest.
    private func clientAuthentication(_ cr: CertificateRequest13, suite: CipherSuite) throws -> [HandshakeAction] {
        let caNames = cr.extensions.first(ExtensionType.certificateAuthorities).flatMap { try? ExtensionCodec.certificateAuthorities($0) } ?? []
        let offeredSchemes = try cr.extensions.first(ExtensionType.signatureAlgorithms).map { try ExtensionCodec.u16List($0, "signature_algorithms") } ?? []
        var chosen: CertifiedKey? = config.clientCertificateProvider?(caNames) ?? config.certificates.first
        var scheme: SignatureScheme? = nil
        if let c = chosen {
            scheme = chooseSignatureScheme(ours: config.signatureSchemes, peerOffered: offeredSchemes, key: c.publicKey, tls13: true)
            if scheme == nil { chosen = nil }  // no usable scheme: send no certificate
        }
        var actions: [HandshakeAction] = []
        let certMsg = Certificate13(context: cr.context, entries: (chosen?.chain ?? []).map { CertificateEntry(data: $0) }).encode()
        transcript.add(certMsg)
        actions.append(.send(certMsg))
        if let c = chosen, let s = scheme {
            let content = CertificateVerify.signedContent(transcriptHash: transcript.currentHash(), server: false)
            let sig: [UInt8]
            do { sig = try c.sign(s, content) } catch { throw HandshakeError(.internalError, "signing failed: \(error)") }
            let cv = CertificateVerify(scheme: s.rawValue, signature: sig).encode()
            transcript.add(cv)
            actions.append(.send(cv))
        }
        return actions
    }
}

func isIPAddressLiteral(_ s: String) -> Bool {
    // On the UTF-8 view: String.contains(String) goes through Foundation here (about 1 µs a call).
    let utf8 = s.utf8
    if utf8.contains(UInt8(ascii: ":")) { return true }
    let parts = utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
}

extension ClientHandshake {
    /// Zeroes this handshake's TLS 1.3 secrets in place when its connection ends.
    func wipeSecrets() {
        wipeStorage(clientHandshakeSecret)
        wipeStorage(serverHandshakeSecret)
        if let h = handshakeSecret { wipeStorage(h.secret) }
        secrets?.wipeStorage()
        tls12?.wipeSecrets()
    }
}
