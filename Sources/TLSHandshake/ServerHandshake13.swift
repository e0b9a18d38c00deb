import TLSCrypto
import TLSRecord

/// The TLS 1.3 server (RFC 8446 section 2 and 4), one state per expected message.
public final class ServerHandshake {
    public enum State: String, CaseIterable {
        case waitClientHello, waitSecondClientHello, waitEndOfEarlyData, waitClientCertificate, waitClientCertificateVerify,
             waitClientFinished, connected, failed
        /// TLS 1.2 was negotiated; `ServerHandshake12` runs the rest.
        case tls12
    }

    public private(set) var state: State = .waitClientHello
    let config: TLSConfiguration
    let random: RandomSource

    private var transcript = Transcript()
    private var firstHello: ClientHello?
    private var sentHelloRetryRequest = false
    private var expectedCookie: [UInt8]?
    private var suite: CipherSuite?
    private var group: NamedGroup?
    private var serverName: String?
    private var alpn: String?
    private var scheme: SignatureScheme?
    private var clientHandshakeSecret: [UInt8] = []
    private var pendingSecrets: TLS13Secrets?
    private var master: MasterSecret?
    private var requestedClientCertificate = false
    private var clientPeer: PeerIdentity?
    private var clientRandom: [UInt8] = []
    private var ticketsIssued: UInt16 = 0
    private var resumedSession: StoredSession?
    private var clientOffersPostHandshakeAuth = false
    /// True while 0-RTT data is being read (between ClientHello and EndOfEarlyData).
    public private(set) var acceptingEarlyData = false
    private var earlyDataAccepted: Bool?
    public private(set) var secrets: TLS13Secrets?
    private var tls12: ServerHandshake12?
    private let previousSession: TLS12Session?

    public init(config: TLSConfiguration, random: RandomSource, renegotiatingFrom previous: TLS12Session? = nil) {
        self.config = config
        self.random = random
        self.previousSession = previous
    }

    public var session12: TLS12Session? { tls12?.session }
    public var isTLS12: Bool { tls12 != nil }
    /// The TLS 1.2 machine's state name (see Spec/tls12-states.md), once TLS 1.2 runs.
    public var tls12State: String? { tls12?.state.rawValue }

    public func receivedChangeCipherSpec() throws -> [HandshakeAction] {
        guard let tls12 else { throw HandshakeError.unexpected("change_cipher_spec") }
        return try tls12.receivedChangeCipherSpec()
    }

    public func handle(_ message: ReceivedMessage) throws -> [HandshakeAction] {
        if let tls12 {
            do { return try tls12.handle(message) } catch let e as HandshakeError { state = .failed; throw e }
        }
        do {
            switch (state, message.type) {
            case (.waitClientHello, .clientHello), (.waitSecondClientHello, .clientHello):
                return try handleClientHello(message)
            case (.waitClientCertificate, .certificate):
                return try handleClientCertificate(message)
            case (.waitClientCertificateVerify, .certificateVerify):
                return try handleClientCertificateVerify(message)
            case (.waitClientFinished, .finished):
                return try handleClientFinished(message)
            case (.waitEndOfEarlyData, .endOfEarlyData):
                guard message.body.isEmpty else { throw HandshakeError.decode("EndOfEarlyData is not empty") }
                guard let suite else { throw HandshakeError(.internalError, "no suite") }
                transcript.add(message.raw)
                acceptingEarlyData = false
                state = .waitClientFinished
                return [.setReadKeys(try tls13Cipher(suite, secret: clientHandshakeSecret))]
            default:
                throw HandshakeError.unexpected("\(message.type) in state \(state.rawValue)")
            }
        } catch let e as HandshakeError {
            state = .failed
            throw e
        } catch {
            state = .failed
            throw HandshakeError(.internalError, "\(error)")
        }
    }

    // MARK: ClientHello

    private func handleClientHello(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let ch = try ClientHello(body: m.body)
        let ext = ch.extensions
        guard ext.count <= config.limits.maxExtensions else { throw HandshakeError.decode("more than \(config.limits.maxExtensions) extensions in ClientHello") }
        if let sni = ext.first(ExtensionType.serverName) { serverName = try ExtensionCodec.serverName(sni) }
        if let pha = ext.first(ExtensionType.postHandshakeAuth) {
            try ExtensionCodec.empty(pha, "post_handshake_auth")
            clientOffersPostHandshakeAuth = true
        }
        let versions: [UInt16]
        if let versionsData = ext.first(ExtensionType.supportedVersions) {
            versions = try ExtensionCodec.clientSupportedVersions(versionsData)
        } else {
            // Without supported_versions the client speaks at most legacy_version (TLS 1.2 or older).
            versions = ch.legacyVersion >= 0x0303 ? [0x0303] : [ch.legacyVersion]
        }
        let clientMax = versions.filter { $0 >> 8 == 3 && $0 <= 0x0304 }.max() ?? ch.legacyVersion
        // RFC 7507: a fallback retry while we could do better means someone interfered.
        if ch.cipherSuites.contains(fallbackSCSV) && previousSession == nil {
            let ourMax: UInt16 = config.tls13Enabled ? 0x0304 : 0x0303
            if clientMax < ourMax { throw HandshakeError(.inappropriateFallback, "TLS_FALLBACK_SCSV from a client below our highest version") }
        }
        let speak13 = versions.contains(0x0304) && config.tls13Enabled && previousSession == nil
        if !speak13 {
            guard state == .waitClientHello else { throw HandshakeError.illegal("second ClientHello no longer offers TLS 1.3") }
            guard versions.contains(0x0303), config.tls12Enabled else {
                let retired = versions.allSatisfy { $0 < 0x0303 }
                throw HandshakeError(.protocolVersion, retired
                    ? "client offers only retired versions (SSL 3.0: RFC 7568; TLS 1.0/1.1: RFC 8996)"
                    : "no common protocol version (client offers \(versions.map { String($0, radix: 16) }))")
            }
            let next = try ServerHandshake12(config: config, random: random, clientHello: ch, clientHelloBytes: m.raw,
                                             serverName: serverName, renegotiatingFrom: previousSession)
            tls12 = next
            state = .tls12
            return next.firstFlight
        }
        guard ch.compressionMethods == [0] else { throw HandshakeError.illegal("TLS 1.3 ClientHello must offer only null compression") }
        if state == .waitSecondClientHello { try checkSecondHello(ch) }

        // Cipher suite: our preference by default, else the client's.
        let offered = ch.cipherSuites.compactMap(CipherSuite.init(rawValue:)).filter { $0.isTLS13 }
        let ours = config.cipherSuites.filter { $0.isTLS13 }
        let chosenSuite = config.serverPreference ? ours.first(where: offered.contains) : offered.first(where: ours.contains)
        guard var suite = chosenSuite else { throw HandshakeError(.handshakeFailure, "no common TLS 1.3 cipher suite") }
        if let s = self.suite, s != suite { throw HandshakeError.illegal("second ClientHello changed the cipher suites") }

        guard let sigData = ext.first(ExtensionType.signatureAlgorithms) else {
            throw HandshakeError(.missingExtension, "ClientHello without signature_algorithms")
        }
        let clientSchemes = try ExtensionCodec.u16List(sigData, "signature_algorithms")
        // psk_ke (RFC 8446 4.2.9) is possible when both sides allow it and a PSK is offered;
        // such a hello may then omit supported_groups and key_share, which come together (9.2).
        let clientModes = try ext.first(ExtensionType.pskKeyExchangeModes).map { try ExtensionCodec.u8List($0, "psk_key_exchange_modes") } ?? []
        let pskOnlyPossible = config.pskKeyExchangeModes.contains(.psk) && clientModes.contains(PSKKeyExchangeMode.psk.rawValue)
            && ext.has(ExtensionType.preSharedKey) && !config.sessionCacheDisabled
        let groupsData = ext.first(ExtensionType.supportedGroups)
        let sharesData = ext.first(ExtensionType.keyShare)
        guard groupsData != nil || pskOnlyPossible else {
            throw HandshakeError(.missingExtension, "ClientHello without supported_groups")
        }
        guard (groupsData == nil) == (sharesData == nil) else {
            throw HandshakeError(.missingExtension, groupsData == nil ? "ClientHello with key_share but without supported_groups"
                                                                      : "ClientHello without key_share")
        }
        let clientGroups = try groupsData.map { try ExtensionCodec.u16List($0, "supported_groups") } ?? []
        let shares = try sharesData.map { try ExtensionCodec.clientKeyShares($0) } ?? []
        for s in shares where !clientGroups.contains(s.group) {
            throw HandshakeError.illegal("key share for group \(s.group) not in supported_groups")
        }

        // Group: the best common group the client sent a share for; otherwise ask for one
        // (unless the connection may resume with psk_ke, decided below).
        let common = config.groups.filter { clientGroups.contains($0.rawValue) }
        guard !common.isEmpty || pskOnlyPossible else { throw HandshakeError(.handshakeFailure, "no common group") }
        let usable = common.isEmpty ? nil : config.insistOnPreferredGroup
            ? (shares.contains { $0.group == common[0].rawValue } ? common[0] : nil)
            : config.serverPreference
            ? common.first(where: { g in shares.contains { $0.group == g.rawValue } })
            : shares.compactMap({ NamedGroup(rawValue: $0.group) }).first(where: common.contains)
        let dheShare = usable.flatMap { g in shares.first(where: { $0.group == g.rawValue }).map { (group: g, share: $0) } }
        func askForShare(_ group: NamedGroup) throws -> [HandshakeAction] {
            if state == .waitSecondClientHello {
                throw HandshakeError.illegal("second ClientHello has no share for the requested group")
            }
            return try helloRetryRequest(ch, raw: m.raw, suite: suite, group: group)
        }
        // Without psk_ke in play, ask before anything else is looked at (as always).
        if dheShare == nil && !pskOnlyPossible { return try askForShare(common[0]) }
        if state == .waitSecondClientHello, let wanted = group, let chosen = dheShare?.group, wanted != chosen {
            throw HandshakeError.illegal("second ClientHello answers with a different group")
        }

        // ALPN.
        var eeExtensions: [Extension] = []
        if let data = ext.first(ExtensionType.alpn) {
            let protocols = try ExtensionCodec.alpn(data, maxProtocols: config.limits.maxALPNProtocols)
            if !config.alpnProtocols.isEmpty {
                let mine = config.alpnProtocols.map { Array($0.utf8) }
                guard let chosen = mine.first(where: protocols.contains) else {
                    throw HandshakeError(.noApplicationProtocol, "no common application protocol")
                }
                alpn = String(decoding: chosen, as: UTF8.self)
                eeExtensions.append(Extension(type: ExtensionType.alpn, data: ExtensionCodec.encodeALPN([chosen])))
            }
        }
        // record_size_limit (RFC 8449): honour the client's, announce ours.
        var peerRecordLimit: Int? = nil
        if let data = ext.first(ExtensionType.recordSizeLimit) {
            let limit = Int(try ExtensionCodec.single16(data, "record_size_limit"))
            guard limit >= 64 else { throw HandshakeError.illegal("record_size_limit below 64") }
            peerRecordLimit = limit
            let ours = max(64, min(config.recordSizeLimit ?? 16385, 16385))
            eeExtensions.append(Extension(type: ExtensionType.recordSizeLimit, data: ExtensionCodec.encode16(UInt16(ours))))
        }

        // Resumption (RFC 8446 4.2.11): the first identity whose ticket opens and whose binder verifies.
        var pskIndex: Int? = nil
        var pskMode: PSKKeyExchangeMode? = nil
        if let pskData = ext.first(ExtensionType.preSharedKey), !config.sessionCacheDisabled {
            guard ext.has(ExtensionType.pskKeyExchangeModes) else {
                throw HandshakeError(.missingExtension, "pre_shared_key without psk_key_exchange_modes")
            }
            let offeredPSKs = try ExtensionCodec.offeredPSKs(pskData)
            // Our preference among the modes the client offers; psk_dhe_ke only with a usable share.
            let mode = config.pskKeyExchangeModes.first { clientModes.contains($0.rawValue) && ($0 == .psk || dheShare != nil) }
            if let mode {
                let now = config.clock()
                for (i, identity) in offeredPSKs.identities.enumerated() {
                    guard let s = openTicket(identity.identity, now: now) else { continue }
                    // The PSK fixes the hash; keep the suite if it fits, else the session's own.
                    var usable = suite
                    if usable.hash != s.suite.hash {
                        guard self.suite == nil, offered.contains(s.suite), ours.contains(s.suite) else { continue }
                        usable = s.suite
                    }
                    if let sn = s.serverName, sn.lowercased() != (serverName ?? "").lowercased() { continue }
                    let expected = expectedBinder(ch, raw: m.raw, psk: s.secret, hash: usable.hash,
                                                  transcriptBefore: state == .waitSecondClientHello ? transcript : nil)
                    guard i < offeredPSKs.binders.count, constantTimeEquals(expected, offeredPSKs.binders[i]) else {
                        throw HandshakeError(.decryptError, "PSK binder does not verify")
                    }
                    let clientAge = identity.obfuscatedTicketAge &- s.ageAdd
                    let serverAge = now > s.createdAtMillis ? now - s.createdAtMillis : 0
                    let tolerance = config.ticketAgeTolerance
                    let ageOK = UInt64(clientAge) &+ tolerance >= serverAge && UInt64(clientAge) <= serverAge &+ tolerance
                    resumedSession = s
                    pskIndex = i
                    pskMode = mode
                    suite = usable
                    // Early data only with the first identity, a plausible ticket age and a first use.
                    if i == 0, ageOK, ext.has(ExtensionType.earlyData), state == .waitClientHello, config.maxEarlyDataSize > 0,
                       s.maxEarlyDataSize > 0, s.suite == usable, s.alpn == alpn,
                       let replay = config.antiReplay,
                       replay.firstUse(s.uniqueID, expiresAtMillis: s.createdAtMillis + UInt64(s.lifetimeSeconds) * 1000) {
                        earlyDataAccepted = true
                    }
                    break
                }
            }
        }

        // psk_ke was possible but no PSK was taken: the handshake needs a share after all.
        // (A resumption with psk_dhe_ke had a share; so nothing was resumed here.)
        let pskOnly = resumedSession != nil && pskMode == .psk
        if !pskOnly && dheShare == nil {
            guard let first = common.first else {
                throw HandshakeError(.handshakeFailure, groupsData == nil
                                     ? "no PSK to use alone, and the ClientHello offers no groups (RFC 8446 9.2)" : "no common group")
            }
            return try askForShare(first)
        }

        // Certificate, and the scheme to sign with (none when resuming).
        var certified: CertifiedKey? = nil
        var signScheme: SignatureScheme? = nil
        if resumedSession == nil {
            guard let (c, sc) = selectCertificate(clientSchemes: clientSchemes) else {
                throw HandshakeError(.handshakeFailure, "no certificate matches the client's signature algorithms")
            }
            certified = c
            signScheme = sc
        }

        if serverName != nil { eeExtensions.append(Extension(type: ExtensionType.serverName, data: [])) }
        eeExtensions = config.extraEncryptedExtensions + eeExtensions

        // Key exchange: (EC)DHE, or with psk_ke the zero input of RFC 8446 7.1.
        var shared = [UInt8](repeating: 0, count: suite.hash.digestLength)
        var serverShare: KeyShareEntry? = nil
        if !pskOnly, let (g, share) = dheShare {
            let serverKey: KeyAgreementPrivateKey
            do { serverKey = try g.keyAgreement.generate(random: random) }
            catch { throw HandshakeError(.internalError, "key generation failed: \(error)") }
            do { shared = try serverKey.sharedSecret(peerPublicKey: share.keyExchange) }
            catch { throw HandshakeError.illegal("client key share is invalid: \(error)") }
            serverShare = KeyShareEntry(group: g.rawValue, keyExchange: serverKey.publicKeyBytes)
            self.group = g
        } else {
            self.group = nil
        }

        self.suite = suite
        self.scheme = signScheme
        if state == .waitClientHello { transcript.start(suite.hash) }
        transcript.add(m.raw)
        let early = EarlySecret(hash: suite.hash, psk: resumedSession?.secret)
        let clientEarlySecret = early.clientEarlyTrafficSecret(transcriptHash: transcript.currentHash())
        if earlyDataAccepted == true {
            eeExtensions.append(Extension(type: ExtensionType.earlyData, data: []))
            config.keyLog?("CLIENT_EARLY_TRAFFIC_SECRET", ch.random, clientEarlySecret)
        }

        var shExtensions: [Extension] = []
        if let i = pskIndex { shExtensions.append(Extension(type: ExtensionType.preSharedKey, data: ExtensionCodec.encode16(UInt16(i)))) }
        if let serverShare { shExtensions.append(Extension(type: ExtensionType.keyShare, data: ExtensionCodec.encodeServerKeyShare(serverShare))) }
        shExtensions.append(Extension(type: ExtensionType.supportedVersions, data: ExtensionCodec.encode16(0x0304)))
        let sh = ServerHello(random: random.bytes(32), sessionIDEcho: ch.sessionID, cipherSuite: suite.rawValue, extensions: shExtensions).encode()
        transcript.add(sh)

        let hs = early.handshakeSecret(sharedSecret: shared)
        let th = transcript.currentHash()
        clientHandshakeSecret = hs.clientTrafficSecret(transcriptHash: th)
        let serverHandshakeSecret = hs.serverTrafficSecret(transcriptHash: th)
        clientRandom = ch.random
        config.keyLog?("CLIENT_HANDSHAKE_TRAFFIC_SECRET", ch.random, clientHandshakeSecret)
        config.keyLog?("SERVER_HANDSHAKE_TRAFFIC_SECRET", ch.random, serverHandshakeSecret)

        var actions: [HandshakeAction] = [.send(sh)]
        if !ch.sessionID.isEmpty && !sentHelloRetryRequest { actions.append(.sendChangeCipherSpec) }
        actions.append(.setWriteKeys(try tls13Cipher(suite, secret: serverHandshakeSecret)))
        if let peer = peerRecordLimit {
            actions.append(.limitRecordSize(peer: peer, ours: max(64, min(config.recordSizeLimit ?? 16385, 16385)), version: .tls13))
        }

        let ee = EncryptedExtensions(extensions: eeExtensions).encode()
        transcript.add(ee)
        actions.append(.send(ee))

        if config.clientAuthentication != .none && resumedSession == nil {
            var crExt = [Extension(type: ExtensionType.signatureAlgorithms, data: ExtensionCodec.encodeU16List(config.signatureSchemes.map(\.rawValue)))]
            if !config.certificateAuthorities.isEmpty {
                crExt.append(Extension(type: ExtensionType.certificateAuthorities, data: ExtensionCodec.encodeCertificateAuthorities(config.certificateAuthorities)))
            }
            let cr = CertificateRequest13(context: [], extensions: config.overrideCertificateRequestExtensions ?? crExt).encode()
            transcript.add(cr)
            actions.append(.send(cr))
            requestedClientCertificate = true
        }

        if let certified, let signScheme {
            var entries = certified.chain.map { CertificateEntry(data: $0) }
            if let ocsp = certified.ocspResponse, ext.has(ExtensionType.statusRequest), !entries.isEmpty {
                entries[0].extensions = [Extension(type: ExtensionType.statusRequest, data: CertificateStatusCodec.encode(ocsp))]
            }
            let cert = Certificate13(context: [], entries: entries).encode()
            transcript.add(cert)
            actions.append(.send(cert))

            let content = CertificateVerify.signedContent(transcriptHash: transcript.currentHash(), server: true)
            let signature: [UInt8]
            do { signature = try certified.sign(signScheme, content) } catch { throw HandshakeError(.internalError, "signing failed: \(error)") }
            let cv = CertificateVerify(scheme: signScheme.rawValue, signature: signature).encode()
            transcript.add(cv)
            actions.append(.send(cv))
        }

        let fin = Finished(verifyData: TLS13KDF.finishedVerifyData(suite.hash, trafficSecret: serverHandshakeSecret,
                                                                  transcriptHash: transcript.currentHash())).encode()
        transcript.add(fin)
        actions.append(.send(fin))

        let master = hs.masterSecret
        let thServerFinished = transcript.currentHash()
        let clientApp = master.clientApplicationTrafficSecret(transcriptHash: thServerFinished)
        let serverApp = master.serverApplicationTrafficSecret(transcriptHash: thServerFinished)
        config.keyLog?("CLIENT_TRAFFIC_SECRET_0", ch.random, clientApp)
        config.keyLog?("SERVER_TRAFFIC_SECRET_0", ch.random, serverApp)
        pendingSecrets = TLS13Secrets(suite: suite, clientTrafficSecret: clientApp, serverTrafficSecret: serverApp,
                                      exporterMasterSecret: master.exporterMasterSecret(transcriptHash: thServerFinished),
                                      resumptionMasterSecret: [])
        self.master = master
        actions.append(.setWriteKeys(try tls13Cipher(suite, secret: serverApp)))
        if earlyDataAccepted == true {
            actions.append(.setReadKeys(try tls13Cipher(suite, secret: clientEarlySecret)))
            acceptingEarlyData = true
            state = .waitEndOfEarlyData
        } else {
            if ext.has(ExtensionType.earlyData) {
                earlyDataAccepted = false
                actions.append(.skipEarlyData(Int(max(config.maxEarlyDataSize, 16384))))
            }
            actions.append(.setReadKeys(try tls13Cipher(suite, secret: clientHandshakeSecret)))
            state = requestedClientCertificate ? .waitClientCertificate : .waitClientFinished
        }
        return actions
    }

    private func selectCertificate(clientSchemes: [UInt16]) -> (CertifiedKey, SignatureScheme)? {
        func scheme(for c: CertifiedKey) -> SignatureScheme? {
            chooseSignatureScheme(ours: config.signatureSchemes, peerOffered: clientSchemes, key: c.publicKey, tls13: true)
        }
        if let selector = config.certificateSelector, let c = selector(serverName), let s = scheme(for: c) { return (c, s) }
        let candidates = config.certificates.filter { scheme(for: $0) != nil }
        if let name = serverName?.lowercased(),
           let byName = candidates.first(where: { c in c.names.contains { nameMatches(pattern: $0.lowercased(), host: name) } }),
           let s = scheme(for: byName) {
            return (byName, s)
        }
        guard let c = candidates.first, let s = scheme(for: c) else { return nil }
        return (c, s)
    }

    private func helloRetryRequest(_ ch: ClientHello, raw: [UInt8], suite: CipherSuite, group: NamedGroup) throws -> [HandshakeAction] {
        firstHello = ch
        sentHelloRetryRequest = true
        self.suite = suite
        self.group = group
        transcript.add(raw)
        transcript.restartForHelloRetryRequest(suite.hash)
        var hrrExtensions = [Extension(type: ExtensionType.keyShare, data: ExtensionCodec.encode16(group.rawValue))]
        if let makeCookie = config.helloRetryCookie {
            var w = ByteWriter()
            w.vector16(makeCookie(Digest.hash(suite.hash, raw)))
            hrrExtensions.append(Extension(type: ExtensionType.cookie, data: w.bytes))
            expectedCookie = Array(w.bytes.dropFirst(2))
        }
        hrrExtensions.append(Extension(type: ExtensionType.supportedVersions, data: ExtensionCodec.encode16(0x0304)))
        let hrr = ServerHello(random: helloRetryRequestRandom, sessionIDEcho: ch.sessionID, cipherSuite: suite.rawValue,
                              extensions: hrrExtensions).encode()
        transcript.add(hrr)
        state = .waitSecondClientHello
        var actions: [HandshakeAction] = [.send(hrr)]
        if ch.extensions.has(ExtensionType.earlyData) {
            earlyDataAccepted = false
            actions.append(.skipEarlyData(Int(max(config.maxEarlyDataSize, 16384))))
        }
        if !ch.sessionID.isEmpty { actions.append(.sendChangeCipherSpec) }
        return actions
    }

    /// RFC 8446 4.1.2: the second ClientHello may only change key_share, drop
    /// early_data, add a cookie and update padding and pre_shared_key.
    private func checkSecondHello(_ ch: ClientHello) throws {
        guard let first = firstHello else { return }
        guard ch.random == first.random, ch.sessionID == first.sessionID, ch.cipherSuites == first.cipherSuites,
              ch.compressionMethods == first.compressionMethods else {
            throw HandshakeError.illegal("second ClientHello differs from the first")
        }
        let mayChange: Set<UInt16> = [ExtensionType.keyShare, ExtensionType.earlyData, ExtensionType.cookie, ExtensionType.preSharedKey, 21]
        let a = first.extensions.filter { !mayChange.contains($0.type) }
        let b = ch.extensions.filter { !mayChange.contains($0.type) }
        guard a == b else { throw HandshakeError.illegal("second ClientHello changed its extensions") }
        if let expectedCookie {
            guard let data = ch.extensions.first(ExtensionType.cookie), constantTimeEquals(try ExtensionCodec.cookie(data), expectedCookie) else {
                throw HandshakeError.illegal("second ClientHello does not echo the cookie")
            }
        }
        if let sharesData = ch.extensions.first(ExtensionType.keyShare) {
            let shares = try ExtensionCodec.clientKeyShares(sharesData)
            guard shares.count == 1, shares.first?.group == group?.rawValue else {
                throw HandshakeError.illegal("second ClientHello must carry exactly the requested key share")
            }
        }
    }

    // MARK: Client's second flight

    private func handleClientCertificate(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let cert = try Certificate13(body: m.body, maxEntries: config.limits.maxCertificateChainLength)
        guard cert.context.isEmpty else { throw HandshakeError.illegal("client Certificate with a non-empty context") }
        transcript.add(m.raw)
        if cert.entries.isEmpty {
            if config.clientAuthentication == .require {
                throw HandshakeError(.certificateRequired, "client sent no certificate")
            }
            state = .waitClientFinished
            return []
        }
        guard cert.entries.reduce(0, { $0 + $1.data.count }) <= config.limits.maxCertificateChainBytes else {
            throw HandshakeError(.badCertificate, "certificate chain larger than \(config.limits.maxCertificateChainBytes) bytes")
        }
        clientPeer = try verifyPeerChain(config, chain: cert.entries.map(\.data), serverName: nil, peer: .client)
        state = .waitClientCertificateVerify
        return []
    }

    private func handleClientCertificateVerify(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        let cv = try CertificateVerify(body: m.body)
        guard let peer = clientPeer else { throw HandshakeError(.internalError, "no client certificate") }
        guard let scheme = SignatureScheme(rawValue: cv.scheme), config.signatureSchemes.contains(scheme),
              scheme.matches(peer.publicKey, tls13: true) else {
            throw HandshakeError.illegal("client CertificateVerify uses a scheme we did not offer")
        }
        let content = CertificateVerify.signedContent(transcriptHash: transcript.currentHash(), server: false)
        do { try peer.publicKey.verify(signature: cv.signature, message: content, algorithm: scheme.algorithm) }
        catch { throw HandshakeError(.decryptError, "client CertificateVerify signature does not verify") }
        transcript.add(m.raw)
        state = .waitClientFinished
        return []
    }

    private func handleClientFinished(_ m: ReceivedMessage) throws -> [HandshakeAction] {
        guard let suite, var pending = pendingSecrets, let master else { throw HandshakeError(.internalError, "no key schedule") }
        guard m.body.count == suite.hash.digestLength else { throw HandshakeError.decode("Finished of \(m.body.count) bytes") }
        let expected = TLS13KDF.finishedVerifyData(suite.hash, trafficSecret: clientHandshakeSecret, transcriptHash: transcript.currentHash())
        guard constantTimeEquals(expected, m.body) else { throw HandshakeError(.decryptError, "client Finished does not verify") }
        transcript.add(m.raw)
        pending.resumptionMasterSecret = master.resumptionMasterSecret(transcriptHash: transcript.currentHash())
        pending.transcript = transcript
        pending.peerOffersPostHandshakeAuth = clientOffersPostHandshakeAuth
        secrets = pending
        pendingSecrets = nil
        self.master = nil
        secureZero(&clientHandshakeSecret)
        state = .connected
        var actions: [HandshakeAction] = [
            .setReadKeys(try tls13Cipher(suite, secret: pending.clientTrafficSecret)),
            .complete(NegotiatedParameters(version: .tls13, cipherSuite: suite, group: group, signatureScheme: scheme, alpn: alpn,
                                           serverName: serverName, peer: clientPeer ?? resumedSession.flatMap { resumedPeer($0.peerChain) },
                                           resumed: resumedSession != nil, usedHelloRetryRequest: sentHelloRetryRequest,
                                           earlyDataAccepted: earlyDataAccepted)),
        ]
        for _ in 0..<config.sessionTicketCount {
            guard let ticket = makeTicket() else { break }
            actions.append(.send(ticket))
        }
        return actions
    }

    /// A NewSessionTicket (RFC 8446 4.6.1) carrying what `ticketSealer` makes of the session.
    func makeTicket() -> [UInt8]? {
        guard let s = secrets, let suite, !config.sessionCacheDisabled else { return nil }
        let protector = config.ticketProtector
        guard config.ticketSealer != nil || protector != nil else { return nil }
        let nonce = [UInt8(ticketsIssued >> 8), UInt8(ticketsIssued & 0xff)]
        let ageBytes = random.bytes(4)
        let ageAdd = ageBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let psk = TLS13KDF.resumptionPSK(suite.hash, resumptionMasterSecret: s.resumptionMasterSecret, nonce: nonce)
        let lifetime = min(config.sessionTicketLifetime, 604_800)
        let ticket: [UInt8]?
        if let sealer = config.ticketSealer {
            ticket = sealer(TicketContent(suite: suite, psk: psk, ageAdd: ageAdd, lifetime: lifetime, alpn: alpn,
                                          serverName: serverName, maxEarlyDataSize: config.maxEarlyDataSize))
        } else {
            let session = StoredSession(version: .tls13, suite: suite, secret: psk, createdAtMillis: config.clock(),
                                        lifetimeSeconds: lifetime, ageAdd: ageAdd,
                                        maxEarlyDataSize: config.antiReplay != nil ? config.maxEarlyDataSize : 0,
                                        alpn: alpn, serverName: serverName, peerChain: clientPeer?.chain ?? [],
                                        uniqueID: random.bytes(16))
            ticket = protector?.seal(session.encode())
        }
        guard let ticket, !ticket.isEmpty, ticket.count < 65536 else { return nil }
        ticketsIssued &+= 1
        var ext: [Extension] = []
        if config.maxEarlyDataSize > 0 && (config.antiReplay != nil || config.ticketSealer != nil) {
            var w = ByteWriter(); w.u32(config.maxEarlyDataSize)
            ext.append(Extension(type: ExtensionType.earlyData, data: w.bytes))
        }
        return NewSessionTicket13(lifetime: lifetime, ageAdd: ageAdd, nonce: nonce, ticket: ticket, extensions: ext).encode()
    }
}

/// DNS name matching for choosing a certificate by SNI: exact, or a
/// left-most `*` label matching exactly one label.
func nameMatches(pattern: String, host: String) -> Bool {
    if pattern == host { return true }
    guard pattern.hasPrefix("*.") else { return false }
    let suffix = pattern.dropFirst(1)
    guard host.hasSuffix(suffix) else { return false }
    let label = host.dropLast(suffix.count)
    return !label.isEmpty && !label.contains(".")
}

extension ServerHandshake {
    /// A TLS 1.3 session from a ticket, if it opens, parses and has not expired.
    func openTicket(_ ticket: [UInt8], now: UInt64) -> StoredSession? {
        guard let protector = config.ticketProtector, let plain = protector.open(ticket),
              let s = try? StoredSession(bytes: plain), s.version == .tls13, !s.isExpired(nowMillis: now) else { return nil }
        return s
    }
}

extension ServerHandshake {
    /// Zeroes this handshake's TLS 1.3 secrets in place when its connection ends.
    func wipeSecrets() {
        wipeStorage(clientHandshakeSecret)
        if let m = master { wipeStorage(m.secret) }
        pendingSecrets?.wipeStorage()
        secrets?.wipeStorage()
        tls12?.wipeSecrets()
    }
}
