import TLSCrypto
import TLSRecord
import TLSHandshake
import X509

/// Replays a trace (RFC 8448 or a capture) through our key schedule and through
/// client and server `TLSConnection`s with the trace's fixed randomness, and
/// checks every message, secret and record byte for byte.
public struct TraceReplay {
    public let trace: Trace
    public private(set) var checks: [String] = []

    public init(trace: Trace) { self.trace = trace }

    public enum Side: String, CaseIterable { case client, server }

    // MARK: Key schedule

    /// Recomputes every `secret` entry the trace has from its params and messages.
    public mutating func checkKeySchedule() throws {
        // A capture has no private keys to recompute from: its secrets are checked
        // through the replayed connection's key log instead.
        if trace.value("client_random_stream") != nil || trace.value("server_random_stream") != nil { return }
        let sh = try ServerHello(body: Array(try trace.require("server_hello").dropFirst(4)))
        guard let suite = CipherSuite(rawValue: sh.cipherSuite), suite.isTLS13 else {
            throw ReplayFailure(field: "server_hello", message: "not a TLS 1.3 cipher suite")
        }
        let hash = suite.hash
        var transcript = Transcript()
        transcript.start(hash)
        var hashes: [String: [UInt8]] = [:]
        let order = ["client_hello", "hello_retry_request", "client_hello_2", "server_hello", "encrypted_extensions",
                     "certificate_request", "certificate", "certificate_verify", "server_finished",
                     "end_of_early_data", "client_certificate", "client_certificate_verify", "client_finished"]
        for name in order {
            guard let m = trace.value(name) else { continue }
            if name == "hello_retry_request" { transcript.restartForHelloRetryRequest(hash) }
            transcript.add(m)
            hashes[name] = transcript.currentHash()
        }
        func th(_ name: String) throws -> [UInt8] {
            guard let h = hashes[name] else { throw ReplayFailure(field: name, message: "message missing for the transcript") }
            return h
        }

        let psk = trace.value("resumption_psk").flatMap { trace.entries.first(where: { $0.name == "resumption_psk" })?.kind == .param ? $0 : nil }
        let early = EarlySecret(hash: hash, psk: psk)
        try expect("early_secret", early.secret)
        if psk != nil, let ch = trace.value("client_hello") {
            let hello = try ClientHello(body: Array(ch.dropFirst(4)))
            let truncated = Array(ch.dropLast(hello.bindersLength))
            let binderKey = early.binderKey(resumption: true)
            try expect("binder_key", binderKey)
            try expect("binder_transcript_hash", Digest.hash(hash, truncated))
            try expect("binder_finished_key", TLS13KDF.finishedKey(hash, trafficSecret: binderKey))
            try expect("psk_binder", TLS13KDF.finishedVerifyData(hash, trafficSecret: binderKey, transcriptHash: Digest.hash(hash, truncated)))
            let thCH = Digest.hash(hash, ch)
            try expect("transcript_hash_client_hello", thCH)
            let cets = early.clientEarlyTrafficSecret(transcriptHash: thCH)
            try expect("client_early_traffic_secret", cets)
            try expect("early_exporter_master_secret", early.earlyExporterMasterSecret(transcriptHash: thCH))
            let keys = TLS13KDF.trafficKeys(suite, secret: cets)
            try expect("client_early_write_key", keys.key); try expect("client_early_write_iv", keys.iv)
        }
        try expect("derived_for_handshake", early.derived)
        let shared = try ecdheShared()
        try expect("ecdhe_shared", shared)
        let hs = early.handshakeSecret(sharedSecret: shared)
        try expect("handshake_secret", hs.secret)
        try expect("transcript_hash_server_hello", try th("server_hello"))
        let cHS = hs.clientTrafficSecret(transcriptHash: try th("server_hello"))
        let sHS = hs.serverTrafficSecret(transcriptHash: try th("server_hello"))
        try expect("client_handshake_traffic_secret", cHS)
        try expect("server_handshake_traffic_secret", sHS)
        try expect("derived_for_master", hs.derived)
        let master = hs.masterSecret
        try expect("master_secret", master.secret)
        let sKeys = TLS13KDF.trafficKeys(suite, secret: sHS), cKeys = TLS13KDF.trafficKeys(suite, secret: cHS)
        try expect("server_handshake_write_key", sKeys.key); try expect("server_handshake_write_iv", sKeys.iv)
        try expect("client_handshake_write_key", cKeys.key); try expect("client_handshake_write_iv", cKeys.iv)
        try expect("server_finished_key", TLS13KDF.finishedKey(hash, trafficSecret: sHS))
        try expect("client_finished_key", TLS13KDF.finishedKey(hash, trafficSecret: cHS))
        let beforeServerFinished = hashes["certificate_verify"] ?? hashes["encrypted_extensions"] ?? []
        let serverVerify = TLS13KDF.finishedVerifyData(hash, trafficSecret: sHS, transcriptHash: beforeServerFinished)
        try expect("server_verify_data", serverVerify)
        try expectMessage("server_finished", Finished(verifyData: serverVerify).encode())
        let thSF = try th("server_finished")
        try expect("transcript_hash_server_finished", thSF)
        let cApp = master.clientApplicationTrafficSecret(transcriptHash: thSF)
        let sApp = master.serverApplicationTrafficSecret(transcriptHash: thSF)
        try expect("client_application_traffic_secret_0", cApp)
        try expect("server_application_traffic_secret_0", sApp)
        try expect("exporter_master_secret", master.exporterMasterSecret(transcriptHash: thSF))
        let sAppKeys = TLS13KDF.trafficKeys(suite, secret: sApp), cAppKeys = TLS13KDF.trafficKeys(suite, secret: cApp)
        try expect("server_application_write_key", sAppKeys.key); try expect("server_application_write_iv", sAppKeys.iv)
        try expect("client_application_write_key", cAppKeys.key); try expect("client_application_write_iv", cAppKeys.iv)
        let beforeClientFinished = hashes["client_certificate_verify"] ?? hashes["client_certificate"] ?? hashes["end_of_early_data"] ?? thSF
        let clientVerify = TLS13KDF.finishedVerifyData(hash, trafficSecret: cHS, transcriptHash: beforeClientFinished)
        try expect("client_verify_data", clientVerify)
        try expectMessage("client_finished", Finished(verifyData: clientVerify).encode())
        let thCF = try th("client_finished")
        try expect("transcript_hash_client_finished", thCF)
        let rms = master.resumptionMasterSecret(transcriptHash: thCF)
        try expect("resumption_master_secret", rms)
        if let nst = trace.value("new_session_ticket"), trace.entries.first(where: { $0.name == "resumption_psk" })?.kind == .secret {
            let ticket = try NewSessionTicket13(body: Array(nst.dropFirst(4)))
            try expect("resumption_psk", TLS13KDF.resumptionPSK(hash, resumptionMasterSecret: rms, nonce: ticket.nonce))
        }
    }

    private func ecdheShared() throws -> [UInt8] {
        if let priv = trace.value("client_x25519_private"), let pub = trace.value("server_x25519_public"), trace.value("server_p256_public") == nil {
            return try X25519PrivateKey(rawRepresentation: priv).sharedSecret(peerPublicKey: pub)
        }
        if let priv = trace.value("client_p256_private"), let pub = trace.value("server_p256_public") {
            return try NISTCurvePrivateKey(curve: .p256, scalar: priv).sharedSecret(peerPublicKey: pub)
        }
        throw ReplayFailure(field: "ecdhe_shared", message: "no key-exchange params in the trace")
    }

    private mutating func expect(_ name: String, _ ours: [UInt8]) throws {
        guard let theirs = trace.value(name) else { return }
        guard ours == theirs else {
            let i = firstDifference(ours, theirs)
            throw ReplayFailure(field: name, message: "differs at byte \(i): ours \(ours.hexString), trace \(theirs.hexString)")
        }
        checks.append("secret \(name)")
    }

    private mutating func expectMessage(_ name: String, _ ours: [UInt8]) throws {
        guard let theirs = trace.value(name) else { return }
        guard ours == theirs else {
            let i = firstDifference(ours, theirs)
            throw ReplayFailure(field: name, message: "message differs at byte \(i)")
        }
        checks.append("message \(name)")
    }

    // MARK: Connections

    private func clientHello(_ name: String) throws -> ClientHello? {
        guard let m = trace.value(name) else { return nil }
        return try ClientHello(body: Array(m.dropFirst(4)))
    }

    /// Section 4: the session being resumed, from the trace's ticket params.
    private func resumedSession(now: UInt64) -> StoredSession? {
        guard let psk = trace.value("resumption_psk"), trace.entries.first(where: { $0.name == "resumption_psk" })?.kind == .param,
              let identity = trace.value("psk_identity") else { return nil }
        func u32(_ name: String) -> UInt32 { (trace.value(name) ?? []).reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
        return StoredSession(version: .tls13, suite: .tlsAES128GCMSHA256, secret: psk,
                             createdAtMillis: now - UInt64(u32("ticket_age")), lifetimeSeconds: u32("ticket_lifetime"),
                             ageAdd: u32("ticket_age_add"), maxEarlyDataSize: u32("max_early_data_size"),
                             serverName: nil, ticket: identity, uniqueID: [1])
    }

    private func serverPublicKey() throws -> PublicKey {
        if let n = trace.value("server_rsa_modulus"), let e = trace.value("server_rsa_public_exponent") {
            return .rsa(try RSAPublicKey(modulus: n, exponent: e))
        }
        return try certificateKey("server_certificate")
    }

    /// The public key of a certificate given as a trace parameter.
    private func certificateKey(_ field: String) throws -> PublicKey {
        guard let der = trace.value(field) else { throw ReplayFailure(field: field, message: "the trace has no such certificate") }
        guard let key = try Certificate(derEncoded: der).publicKey else {
            throw ReplayFailure(field: field, message: "the certificate's key is not one we use")
        }
        return key
    }

    /// A key whose private half the trace does not give (RFC 8448 section 6): the
    /// signature comes from the trace's CertificateVerify, after checking that it signs
    /// exactly the content our side computed, with the scheme our side chose.
    private func traceSigner(certificate field: String, verify message: String) throws -> CertifiedKey {
        try recordedSigner(chain: [try trace.require(field)], key: try certificateKey(field), verify: message)
    }

    /// `chain` with `key`, whose signatures are the one of the trace's CertificateVerify
    /// `message`, handed back once it verifies over our content with the scheme we chose.
    private func recordedSigner(chain: [[UInt8]], key: PublicKey, verify message: String) throws -> CertifiedKey {
        let cv = try CertificateVerify(body: Array(try trace.require(message).dropFirst(4)))
        return CertifiedKey(chain: chain, publicKey: key) { scheme, content in
            guard scheme.rawValue == cv.scheme else {
                throw ReplayFailure(field: "message \(message)", message: "our side chose \(scheme), the trace \(cv.scheme)")
            }
            try key.verify(signature: cv.signature, message: content, algorithm: scheme.algorithm)
            return cv.signature
        }
    }

    /// Drives one side of the trace through a real `TLSConnection`.
    public mutating func replay(_ side: Side) throws {
        guard let ch1 = try clientHello("client_hello") else { throw ReplayFailure(field: "client_hello", message: "missing") }
        let ch2 = try clientHello("client_hello_2")
        let sh = try ServerHello(body: Array(try trace.require("server_hello").dropFirst(4)))
        if side == .client && trace.value("client_random_stream") != nil {
            // A capture written by `tls-client --record`: our client, fed the recorded randomness and
            // the recorded ClientHello extensions, must produce the same handshake records.
            try replayClientCapture(TLSConfiguration(), ch1: ch1, ch2: ch2)
            return
        }
        if side == .server && trace.value("server_random_stream") != nil {
            // A capture written by `tls-server --record`: our server, fed the recorded randomness
            // and the recorded client records, must produce the same server records.
            try replayServerCapture(ch1: ch1, sh: sh)
            return
        }
        if trace.value("client_random_stream") != nil || trace.value("server_random_stream") != nil {
            throw ReplayFailure(field: "side", message: "a capture replays only on the side that recorded it")
        }
        let ee = try EncryptedExtensions(body: Array(try trace.require("encrypted_extensions").dropFirst(4)))
        let sni = try ch1.extensions.first(ExtensionType.serverName).flatMap { data -> String? in
            var r = ByteReader(data); var list = try r.sub16(); _ = try list.u8(); return String(decoding: try list.vector16(), as: UTF8.self)
        }
        var config = TLSConfiguration()
        config.minVersion = .tls13
        config.serverName = sni
        config.cipherSuites = ch1.cipherSuites.compactMap(CipherSuite.init(rawValue:))
        config.middleboxCompatibility = !ch1.sessionID.isEmpty
        var random: [UInt8] = []
        var log: [String: [UInt8]] = [:]
        config.keyLog = { label, _, secret in log[label] = secret }
        let now: UInt64 = 1_700_000_000_000
        config.clock = { now }
        let resuming = resumedSession(now: now)

        switch side {
        case .client:
            let groupsData = try trace.require("client_hello").isEmpty ? [] : (ch1.extensions.first(ExtensionType.supportedGroups) ?? [])
            config.groups = (try? groupsFromList(groupsData)) ?? [.x25519]
            let firstShares = try ExtensionCodec_clientShares(ch1)
            config.keyShareGroups = firstShares.compactMap { NamedGroup(rawValue: $0.group) }
            for g in config.keyShareGroups { random += try privateKey(for: g, side: "client") }
            random += ch1.random
            if !ch1.sessionID.isEmpty { random += ch1.sessionID }
            if let ch2 {
                let newShares = try ExtensionCodec_clientShares(ch2)
                for s in newShares { if let g = NamedGroup(rawValue: s.group) { random += try privateKey(for: g, side: "client") } }
            }
            let expected1 = ch1.extensions, expected2 = ch2?.extensions
            var shareMismatch: String? = nil
            config.overrideClientHelloExtensions = { ours, second in
                let theirs = (second ? expected2 : expected1) ?? ours
                // The key share is ours, from the injected private key: it must equal the trace's.
                if ours.first(ExtensionType.keyShare) != theirs.first(ExtensionType.keyShare) {
                    shareMismatch = "our key_share differs from the trace's"
                }
                return theirs
            }
            if let r = resuming {
                config.resumeSession = r
                config.earlyData = trace.value("client_early_data") ?? []
            } else {
                let key = try serverPublicKey()
                config.peerVerifier = TraceKeyVerifier(key: key, certificate: trace.value("server_certificate"))
            }
            if trace.value("certificate_request") != nil {
                config.certificates = [try traceSigner(certificate: "client_certificate_der", verify: "client_certificate_verify")]
            }
            let conn = TLSConnection(role: .client, config: config, random: ScriptedRandom(script: random))
            try run(conn, ours: "client_", theirs: "server_")
            if let m = shareMismatch { throw ReplayFailure(field: "client_hello key_share", message: m) }
        case .server:
            // The server's group preference is what it announced in EncryptedExtensions.
            if let g = ee.extensions.first(ExtensionType.supportedGroups) { config.groups = try groupsFromList(g) }
            config.insistOnPreferredGroup = trace.value("hello_retry_request") != nil
            let shGroup = try sh.extensions.first(ExtensionType.keyShare).map { data -> UInt16 in var r = ByteReader(data); return try r.u16() }
            guard let group = shGroup.flatMap(NamedGroup.init(rawValue:)) else { throw ReplayFailure(field: "server_hello", message: "no key share") }
            random += try privateKey(for: group, side: "server")
            random += sh.random
            config.extraEncryptedExtensions = ee.extensions.filter {
                ![ExtensionType.serverName, ExtensionType.alpn, ExtensionType.earlyData, ExtensionType.recordSizeLimit].contains($0.type)
            }
            if let cookie = trace.value("hrr_cookie") { config.helloRetryCookie = { _ in cookie } }
            if let nstBytes = trace.value("new_session_ticket") {
                let nst = try NewSessionTicket13(body: Array(nstBytes.dropFirst(4)))
                config.sessionTicketCount = 1
                config.sessionTicketLifetime = nst.lifetime
                config.maxEarlyDataSize = nst.maxEarlyDataSize ?? 0
                config.ticketSealer = { _ in nst.ticket }
                random += [UInt8(nst.ageAdd >> 24), UInt8((nst.ageAdd >> 16) & 0xff), UInt8((nst.ageAdd >> 8) & 0xff), UInt8(nst.ageAdd & 0xff)]
            } else {
                config.sessionTicketCount = 0
            }
            if let r = resuming {
                config.ticketProtector = TraceTicket(session: r)
                config.antiReplay = TraceTicket(session: r)
                config.maxEarlyDataSize = r.maxEarlyDataSize
                let conn = TLSConnection(role: .server, config: config, random: ScriptedRandom(script: random))
                try run(conn, ours: "server_", theirs: "client_")
                try checkLoggedSecrets(log, side: side)
                return
            }
            if let crBytes = trace.value("certificate_request") {
                let cr = try CertificateRequest13(body: Array(crBytes.dropFirst(4)))
                config.clientAuthentication = .require
                config.overrideCertificateRequestExtensions = cr.extensions
                config.peerVerifier = TraceKeyVerifier(key: try certificateKey("client_certificate_der"),
                                                       certificate: trace.value("client_certificate_der"))
            }
            // Signature salts and nonces are not in the trace: the server hands back the trace's
            // CertificateVerify signature once it has checked it against our content.
            let certified = try traceSigner(certificate: "server_certificate", verify: "certificate_verify")
            if trace.value("server_rsa_private_exponent") != nil {
                let priv = try RSAPrivateKey(modulus: try trace.require("server_rsa_modulus"), publicExponent: try trace.require("server_rsa_public_exponent"),
                                             privateExponent: try trace.require("server_rsa_private_exponent"),
                                             prime1: try trace.require("server_rsa_prime1"), prime2: try trace.require("server_rsa_prime2"))
                guard PrivateKey.rsa(priv).publicKey == certified.publicKey else {
                    throw ReplayFailure(field: "server_rsa_modulus", message: "the trace's private key is not the certificate's")
                }
                checks.append("server private key matches server_certificate")
            }
            config.certificates = [certified]
            let conn = TLSConnection(role: .server, config: config, random: ScriptedRandom(script: random))
            try run(conn, ours: "server_", theirs: "client_")
        }
        try checkLoggedSecrets(log, side: side)
    }

    private mutating func checkLoggedSecrets(_ log: [String: [UInt8]], side: Side) throws {
        for (label, name) in [("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "client_handshake_traffic_secret"),
                              ("CLIENT_EARLY_TRAFFIC_SECRET", "client_early_traffic_secret"),
                              ("SERVER_HANDSHAKE_TRAFFIC_SECRET", "server_handshake_traffic_secret"),
                              ("CLIENT_TRAFFIC_SECRET_0", "client_application_traffic_secret_0"),
                              ("SERVER_TRAFFIC_SECRET_0", "server_application_traffic_secret_0")] {
            guard let theirs = trace.value(name) else { continue }
            guard log[label] == theirs else { throw ReplayFailure(field: name, message: "the \(side.rawValue) connection derived a different value") }
            checks.append("\(side.rawValue) connection secret \(name)")
        }
    }

    private mutating func replayClientCapture(_ base: TLSConfiguration, ch1: ClientHello, ch2: ClientHello?) throws {
        var config = base
        config.cipherSuites = ch1.cipherSuites.compactMap(CipherSuite.init(rawValue:))
        config.middleboxCompatibility = !ch1.sessionID.isEmpty
        config.serverName = try ch1.extensions.first(ExtensionType.serverName).flatMap { data -> String? in
            var r = ByteReader(data); var list = try r.sub16(); _ = try list.u8(); return String(decoding: try list.vector16(), as: UTF8.self)
        }
        config.minVersion = .tls12
        config.keyLog = nil
        let versions = try ch1.extensions.first(ExtensionType.supportedVersions).map { data -> [UInt16] in
            var r = ByteReader(data); var list = try r.sub8(); var out: [UInt16] = []
            while !list.isAtEnd { out.append(try list.u16()) }
            return out
        } ?? [0x0303]
        config.maxVersion = versions.contains(0x0304) ? .tls13 : .tls12
        if !versions.contains(0x0303) { config.minVersion = .tls13 }
        config.groups = (try? groupsFromList(ch1.extensions.first(ExtensionType.supportedGroups) ?? [])) ?? [.x25519]
        config.keyShareGroups = try ExtensionCodec_clientShares(ch1).compactMap { NamedGroup(rawValue: $0.group) }
        if let alpn = ch1.extensions.first(ExtensionType.alpn) {
            var r = ByteReader(alpn); var list = try r.sub16(); var names: [String] = []
            while !list.isAtEnd { names.append(String(decoding: try list.vector8(), as: UTF8.self)) }
            config.alpnProtocols = names
        }
        let expected1 = ch1.extensions, expected2 = ch2?.extensions
        config.overrideClientHelloExtensions = { ours, second in (second ? expected2 : expected1) ?? ours }
        config.peerVerifier = CaptureVerifier()
        var log: [String: [UInt8]] = [:]
        config.keyLog = { label, _, secret in log[label] = secret }
        let conn = TLSConnection(role: .client, config: config, random: ScriptedRandom(script: try trace.require("client_random_stream")))
        try run(conn, ours: "client_", theirs: "server_", handshakeOnly: true)
        try checkLoggedSecrets(log, side: .client)
    }

    /// Our server again, configured from what the capture shows it chose (suite, group, ALPN,
    /// record size limit, certificate request, tickets); its certificate key signs nothing:
    /// the recorded CertificateVerify is handed back once it verifies over our content.
    /// TLS 1.3 full handshakes only: a resumption would need the ticket key, TLS 1.2 other hooks.
    private mutating func replayServerCapture(ch1: ClientHello, sh: ServerHello) throws {
        let version = try sh.extensions.first(ExtensionType.supportedVersions).map { data -> UInt16 in var r = ByteReader(data); return try r.u16() }
        guard version == 0x0304 else {
            throw ReplayFailure(field: "server_hello", message: "server captures replay for TLS 1.3 only")
        }
        guard !sh.extensions.has(ExtensionType.preSharedKey) else {
            throw ReplayFailure(field: "server_hello", message: "a resumed connection does not replay (the ticket key is not in the capture)")
        }
        guard let suite = CipherSuite(rawValue: sh.cipherSuite) else {
            throw ReplayFailure(field: "server_hello", message: "unknown cipher suite \(sh.cipherSuite)")
        }
        var config = TLSConfiguration()
        config.minVersion = .tls13
        config.cipherSuites = [suite]
        // The group: the one a HelloRetryRequest asked for, else the ServerHello's share.
        let groupHello = try trace.value("hello_retry_request").map { try ServerHello(body: Array($0.dropFirst(4))) } ?? sh
        let groupCode = try groupHello.extensions.first(ExtensionType.keyShare).map { data -> UInt16 in var r = ByteReader(data); return try r.u16() }
        guard let group = groupCode.flatMap(NamedGroup.init(rawValue:)) else {
            throw ReplayFailure(field: "server_hello", message: "no key share group we know")
        }
        config.groups = [group]
        if let hrr = trace.value("hello_retry_request") {
            let hello = try ServerHello(body: Array(hrr.dropFirst(4)))
            if let cookie = hello.extensions.first(ExtensionType.cookie) {
                var r = ByteReader(cookie)
                let value = try r.vector16()
                config.helloRetryCookie = { _ in value }
            }
        }
        let ee = try EncryptedExtensions(body: Array(try trace.require("encrypted_extensions").dropFirst(4)))
        if let alpn = ee.extensions.first(ExtensionType.alpn) {
            var r = ByteReader(alpn); var list = try r.sub16()
            config.alpnProtocols = [String(decoding: try list.vector8(), as: UTF8.self)]
        }
        if let limit = ee.extensions.first(ExtensionType.recordSizeLimit) {
            var r = ByteReader(limit)
            config.recordSizeLimit = Int(try r.u16())
        }
        config.extraEncryptedExtensions = ee.extensions.filter {
            ![ExtensionType.serverName, ExtensionType.alpn, ExtensionType.earlyData, ExtensionType.recordSizeLimit].contains($0.type)
        }
        if let crBytes = trace.value("certificate_request") {
            let cr = try CertificateRequest13(body: Array(crBytes.dropFirst(4)))
            config.clientAuthentication = .request
            config.overrideCertificateRequestExtensions = cr.extensions
            config.peerVerifier = CaptureVerifier()
        }

        // The certificate as sent (and its stapled OCSP response), signed by the recording.
        let certMessage = try Certificate13(body: Array(try trace.require("certificate").dropFirst(4)))
        let chain = certMessage.entries.map(\.data)
        guard let leafDER = chain.first, let leafKey = try Certificate(derEncoded: leafDER).publicKey else {
            throw ReplayFailure(field: "certificate", message: "no leaf certificate with a key we use")
        }
        var certified = try recordedSigner(chain: chain, key: leafKey, verify: "certificate_verify")
        if let status = certMessage.entries.first?.extensions.first(ExtensionType.statusRequest) {
            var r = ByteReader(status)
            guard try r.u8() == 1 else { throw ReplayFailure(field: "certificate", message: "stapled status is not OCSP") }
            certified.ocspResponse = try r.vector24()
        }
        config.certificates = [certified]

        // Tickets: as many as were sent, the recorded ticket bytes (sealed under a key the
        // capture does not hold); age_add and nonces come from the random stream and counter.
        let tickets = try trace.entries.filter { $0.kind == .message && $0.name.hasPrefix("new_session_ticket") }
            .map { try NewSessionTicket13(body: Array($0.value.dropFirst(4))) }
        config.sessionTicketCount = tickets.count
        if let first = tickets.first {
            config.sessionTicketLifetime = first.lifetime
            // A protector, as tls-server has: it draws each session's unique ID from the stream too.
            config.ticketProtector = TicketQueue(tickets.map(\.ticket))
            if let early = first.extensions.first(ExtensionType.earlyData) {
                var r = ByteReader(early)
                config.maxEarlyDataSize = try r.u32()
                config.antiReplay = TicketQueue.NoEarlyData()
            }
        }
        var log: [String: [UInt8]] = [:]
        config.keyLog = { label, _, secret in log[label] = secret }
        let conn = TLSConnection(role: .server, config: config, random: ScriptedRandom(script: try trace.require("server_random_stream")))
        try run(conn, ours: "server_", theirs: "client_", handshakeOnly: true)
        try checkLoggedSecrets(log, side: .server)
    }

    private func privateKey(for group: NamedGroup, side: String) throws -> [UInt8] {
        switch group {
        case .x25519: return try trace.require("\(side)_x25519_private")
        case .secp256r1: return try trace.require("\(side)_p256_private")
        case .secp384r1: return try trace.require("\(side)_p384_private")
        }
    }

    private func groupsFromList(_ data: [UInt8]) throws -> [NamedGroup] {
        var r = ByteReader(data)
        var list = try r.sub16()
        var out: [NamedGroup] = []
        while !list.isAtEnd { if let g = NamedGroup(rawValue: try list.u16()) { out.append(g) } }
        return out
    }

    private func ExtensionCodec_clientShares(_ ch: ClientHello) throws -> [KeyShareEntry] {
        guard let data = ch.extensions.first(ExtensionType.keyShare) else { return [] }
        var r = ByteReader(data)
        var list = try r.sub16()
        var out: [KeyShareEntry] = []
        while !list.isAtEnd { out.append(KeyShareEntry(group: try list.u16(), keyExchange: try list.vector16())) }
        return out
    }

    /// Walks the trace's records in order: the peer's are fed in, ours must come out identical.
    private mutating func run(_ conn: TLSConnection, ours: String, theirs: String, handshakeOnly: Bool = false) throws {
        var messagesSent: [[UInt8]] = []
        conn.onHandshakeMessage = { sent, raw in if sent { messagesSent.append(raw) } }
        try conn.start()
        var out = conn.takeOutput()
        var sentData = false
        let ourData = trace.value("\(ours.dropLast())_application_data")
        let theirData = trace.value("\(theirs.dropLast())_application_data")
        var received: [UInt8] = []
        for record in trace.records {
            // Captures carry the application's data only as records: stop once the handshake is done.
            if handshakeOnly && conn.isHandshakeComplete && out.isEmpty { break }
            if record.name.hasPrefix(ours) {
                if out.isEmpty && conn.isHandshakeComplete {
                    if !sentData, let d = ourData { try conn.write(d); sentData = true } else { conn.close() }
                    out = conn.takeOutput()
                }
                guard out.count >= record.value.count, Array(out.prefix(record.value.count)) == record.value else {
                    let i = firstDifference(out, record.value)
                    throw ReplayFailure(field: "record \(record.name)", message: "differs at byte \(i) (we produced \(out.count) bytes, the trace has \(record.value.count))")
                }
                out.removeFirst(record.value.count)
                checks.append("record \(record.name)")
            } else {
                do { try conn.receive(record.value) } catch {
                    throw ReplayFailure(field: "record \(record.name)", message: "rejected by our \(ours.dropLast()): \(error)")
                }
                while let chunk = conn.read(), !chunk.isEmpty { received += chunk }
                out += conn.takeOutput()
            }
        }
        guard out.isEmpty else { throw ReplayFailure(field: "records", message: "we sent \(out.count) bytes more than the trace") }
        let theirEarly = ours == "server_" ? trace.value("client_early_data") ?? [] : []
        if let d = theirData.map({ theirEarly + $0 }) {
            guard received == d else { throw ReplayFailure(field: "\(theirs.dropLast())_application_data", message: "received data differs") }
            checks.append("application data from the \(theirs.dropLast())")
        }
        let names = ours == "client_"
            ? ["client_hello", "client_hello_2", "end_of_early_data", "client_certificate", "client_certificate_verify", "client_finished"]
            : ["server_hello", "hello_retry_request", "encrypted_extensions", "certificate_request", "certificate", "certificate_verify", "server_finished", "new_session_ticket"]
        for name in names {
            guard let m = trace.value(name) else { continue }
            guard messagesSent.contains(m) else { throw ReplayFailure(field: "message \(name)", message: "our \(ours.dropLast()) never sent it byte for byte") }
            checks.append("message \(name) sent by our \(ours.dropLast())")
        }
    }
}

/// Accepts exactly the trace's server key (RFC 8448's certificate is a
/// 1024-bit RSA test certificate that no production policy accepts).
struct TraceKeyVerifier: PeerCertificateVerifier {
    let key: PublicKey
    let certificate: [UInt8]?
    func verify(chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity {
        guard let leaf = chain.first, certificate == nil || leaf == certificate else {
            throw HandshakeError(.badCertificate, "not the trace's certificate")
        }
        return PeerIdentity(publicKey: key, chain: chain, subject: "CN=rsa", issuer: "CN=rsa", verified: true, verdict: "trace key")
    }
}

func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
    for i in 0..<min(a.count, b.count) where a[i] != b[i] { return i }
    return min(a.count, b.count)
}

/// Section 4 server side: the RFC gives no ticket key, so the ticket
/// (psk_identity) is mapped straight to the session it names.
final class TraceTicket: TicketProtector, EarlyDataAntiReplay {
    let session: StoredSession
    init(session: StoredSession) { self.session = session }
    func seal(_ plaintext: [UInt8]) -> [UInt8]? { nil }
    func open(_ ticket: [UInt8]) -> [UInt8]? { ticket == session.ticket ? session.encode() : nil }
    func firstUse(_ id: [UInt8], expiresAtMillis: UInt64) -> Bool { true }
}

/// "Seals" by handing out the recorded tickets in order (nil when they run out: no ticket
/// is sent); opens nothing.
final class TicketQueue: TicketProtector {
    private var tickets: [[UInt8]]
    init(_ tickets: [[UInt8]]) { self.tickets = tickets }
    func seal(_ plaintext: [UInt8]) -> [UInt8]? { tickets.isEmpty ? nil : tickets.removeFirst() }
    func open(_ ticket: [UInt8]) -> [UInt8]? { nil }

    /// Tickets announce early data as recorded; none is ever accepted in a replay.
    final class NoEarlyData: EarlyDataAntiReplay {
        func firstUse(_ id: [UInt8], expiresAtMillis: UInt64) -> Bool { false }
    }
}

/// For captures: accept the recorded chain (a replay checks bytes, not trust)
/// and take the leaf's key from it.
struct CaptureVerifier: PeerCertificateVerifier {
    func verify(chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity {
        guard let leaf = chain.first, let cert = try? Certificate(derEncoded: leaf), let key = cert.publicKey else {
            throw HandshakeError(.badCertificate, "cannot read the recorded certificate")
        }
        return PeerIdentity(publicKey: key, chain: chain, subject: cert.subject.rfc4514String, issuer: cert.issuer.rfc4514String,
                            verified: true, verdict: "recorded")
    }
}
