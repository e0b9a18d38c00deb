import TLSCrypto
import TLSRecord

/// The sans-I/O TLS endpoint: received bytes go in through `receive`, bytes to
/// send come out of `takeOutput`, plaintext goes through `read`/`write`.
/// No sockets, threads or clocks: the socket layer and the replay tool drive it.
public final class TLSConnection {
    public enum Role: Sendable { case client, server }

    public enum Status: Equatable {
        case idle, handshaking, established, closed, failed
    }

    public let role: Role
    public let config: TLSConfiguration
    public private(set) var status: Status = .idle
    public private(set) var negotiated: NegotiatedParameters?
    /// Set once the peer sent close_notify: reads return nil from then on.
    public private(set) var peerClosed = false
    public private(set) var sentClose = false
    /// The error that ended the connection, if any.
    public private(set) var failure: HandshakeError?

    private var reader: RecordReader
    private var writer = RecordWriter()
    private var reassembler: HandshakeReassembler
    /// The handshake in progress (released once established).
    private var client: ClientHandshake?
    private var server: ServerHandshake?
    /// Client: the chain of the session offered for resumption, kept past the handshake.
    private var offeredPeerChain: [[UInt8]] = []
    private var output: [UInt8] = []
    private var pendingHandshake: [UInt8] = []
    private var plaintext: [UInt8] = []
    private var plaintextStart = 0
    /// Unread application data still in the record reader's buffer, where it
    /// was decrypted: `read(into:)` copies it out from there, saving a copy
    /// into `plaintext`. Anything that feeds the reader, or buffers more data,
    /// first moves it into `plaintext` (`keepInPlaceData`).
    private var inPlace: Range<Int>?
    private var secrets: TLS13Secrets?
    private var session12: TLS12Session?
    /// A TLS 1.2 renegotiation in progress (the old keys stay in use until it switches them).
    private var renegotiation: AnyObject?
    private var renegotiations = 0
    private var warningAlertsInARow = 0
    private var earlyDataReceived = 0
    /// Client: sessions this connection can be resumed with (newest last).
    public private(set) var sessions: [StoredSession] = []
    /// Set by `invalidateSession`: nothing from this connection is resumed again.
    public private(set) var sessionInvalidated = false
    private let random: RandomSource
    private var receivedCCS = false
    private var keyUpdatesInARow = 0
    private var pendingKeyUpdateReply = false
    /// Observers for tools and tests (trace capture): every handshake message and record.
    public var onHandshakeMessage: ((_ sent: Bool, _ raw: [UInt8]) -> Void)?

    public init(role: Role, config: TLSConfiguration, random: RandomSource = SystemRandom.shared) {
        self.role = role
        self.config = config
        self.random = random
        var limits = RecordLimits()
        limits.maxHandshakeMessageSize = config.limits.maxHandshakeMessageSize
        limits.maxWarningAlertsInARow = config.limits.maxWarningAlerts
        self.reader = RecordReader(limits: limits)
        self.reassembler = HandshakeReassembler(limits: limits)
        writer.paddingPolicy = config.padding
        // Only an initial ClientHello may carry record version 0x0301 (RFC 8446 5.1).
        if role == .server { writer.recordVersion = .tls12 }
        switch role {
        case .client: client = ClientHandshake(config: config, random: random)
        case .server: server = ServerHandshake(config: config, random: random)
        }
    }

    public var isHandshakeComplete: Bool { status == .established || (status == .closed && negotiated != nil) }
    public var hasOutput: Bool { !output.isEmpty }
    public var bufferedPlaintextCount: Int { plaintext.count - plaintextStart + (inPlace?.count ?? 0) }

    /// Client: produces the ClientHello. Server: nothing to do until bytes arrive.
    public func start() throws {
        guard status == .idle else { return }
        status = .handshaking
        if let client {
            try guarded { try apply(try client.start()) }
            writer.recordVersion = .tls12
        }
    }

    /// Bytes to put on the wire (the buffer is handed over and emptied).
    public func takeOutput() -> [UInt8] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    /// Moves the bytes to send into `buffer` without copying or allocating:
    /// `buffer` is emptied and swapped with the output buffer, whose old
    /// storage (and capacity) the connection goes on writing into.
    public func takeOutput(into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        swap(&buffer, &output)
    }

    /// Feeds bytes received from the peer and processes every complete record.
    public func receive(_ bytes: [UInt8]) throws {
        if status == .idle { try start() }
        guard status != .failed else { throw failure ?? HandshakeError(.internalError, "connection failed") }
        try guarded {
            keepInPlaceData()
            reader.feed(bytes)
            try processRecords()
        }
    }

    /// Like `receive(_:)`, but takes the bytes over instead of copying them when
    /// no partial record is buffered. `bytes` comes back empty, with storage
    /// (and capacity) to reuse: no allocation or copy in steady state.
    public func receive(taking bytes: inout [UInt8]) throws {
        if status == .idle { try start() }
        guard status != .failed else { throw failure ?? HandshakeError(.internalError, "connection failed") }
        try guarded {
            keepInPlaceData()
            reader.feed(taking: &bytes)
            try processRecords()
        }
    }

    /// Moves unread application data out of the reader's buffer into `plaintext`.
    private func keepInPlaceData() {
        guard let r = inPlace else { return }
        inPlace = nil
        reader.withBufferBytes(r) { plaintext.append(contentsOf: $0) }
    }

    private func processRecords() throws {
        while let record = try reader.nextRecord() {
            try process(record)
            if status == .failed || peerClosed { break }
        }
    }

    /// Up to `maxLength` bytes of received plaintext; empty when none is buffered;
    /// nil once the peer has closed and everything was read.
    public func read(maxLength: Int = Int.max) -> [UInt8]? {
        keepInPlaceData()
        let available = plaintext.count - plaintextStart
        if available == 0 {
            return peerClosed ? nil : []
        }
        let n = min(maxLength, available)
        let out = Array(plaintext[plaintextStart..<(plaintextStart + n)])
        plaintextStart += n
        if plaintextStart == plaintext.count {
            plaintext.removeAll(keepingCapacity: true)
            plaintextStart = 0
        }
        return out
    }

    /// Copies up to `buffer.count` bytes of received plaintext into `buffer`
    /// and returns how many (0 when none is buffered); nil once the peer has
    /// closed and everything was read. Allocates nothing.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let available = plaintext.count - plaintextStart
        if available == 0 {
            if let r = inPlace {
                let n = min(buffer.count, r.count)
                reader.withBufferBytes(r.lowerBound..<(r.lowerBound + n)) { src in
                    buffer.baseAddress?.copyMemory(from: src.baseAddress!, byteCount: n)
                }
                inPlace = n == r.count ? nil : (r.lowerBound + n)..<r.upperBound
                return n
            }
            return peerClosed ? nil : 0
        }
        let n = min(buffer.count, available)
        plaintext.withUnsafeBytes { src in
            buffer.baseAddress?.copyMemory(from: src.baseAddress! + plaintextStart, byteCount: n)
        }
        plaintextStart += n
        if plaintextStart == plaintext.count {
            plaintext.removeAll(keepingCapacity: true)
            plaintextStart = 0
        }
        return n
    }

    /// Encrypts application data into the output.
    public func write(_ data: [UInt8]) throws {
        guard status == .established else {
            throw HandshakeError(.internalError, status == .established ? "" : "cannot write: connection is \(status)")
        }
        guard !sentClose else { throw HandshakeError(.internalError, "cannot write after close") }
        try guarded {
            try writer.write(.applicationData, data, into: &output)
            keyUpdatesInARow = 0
        }
    }

    /// Sends close_notify. Reads may continue until the peer closes too.
    public func close() {
        guard !sentClose, status != .failed else { return }
        try? flushHandshake()
        try? writer.write(.alert, Alert.closeNotify.encode(), into: &output)
        sentClose = true
        if peerClosed || status != .established { status = .closed }
        wipeSecrets()
    }

    /// TLS 1.3 KeyUpdate: new sending keys, and optionally asks the peer to update too.
    public func updateKeys(requestPeerUpdate: Bool) throws {
        guard status == .established, session12 == nil, var s = secrets else { throw HandshakeError(.internalError, "KeyUpdate needs an established TLS 1.3 connection") }
        try guarded {
            try writer.write(.handshake, KeyUpdate(updateRequested: requestPeerUpdate).encode(), into: &output)
            if role == .client {
                s.clientTrafficSecret = TLS13KDF.nextTrafficSecret(s.suite.hash, s.clientTrafficSecret)
                writer.setCipher(try tls13Cipher(s.suite, secret: s.clientTrafficSecret), version: .tls13)
            } else {
                s.serverTrafficSecret = TLS13KDF.nextTrafficSecret(s.suite.hash, s.serverTrafficSecret)
                writer.setCipher(try tls13Cipher(s.suite, secret: s.serverTrafficSecret), version: .tls13)
            }
            secrets = s
        }
    }

    /// TLS-Exporter (RFC 8446 7.5 / RFC 5705).
    public func exportKeyingMaterial(label: String, context: [UInt8], length: Int) throws -> [UInt8] {
        if let t = session12, status == .established {
            guard length > 0, length <= 16384 else { throw HandshakeError(.internalError, "exporter length out of range") }
            return TLS12PRF.exporter(t.suite.hash, masterSecret: t.masterSecret, label: label, clientRandom: t.clientRandom,
                                     serverRandom: t.serverRandom, context: context, length: length)
        }
        guard let s = secrets, status == .established else { throw HandshakeError(.internalError, "exporter needs an established connection") }
        guard length > 0, length <= 255 * s.suite.hash.digestLength else { throw HandshakeError(.internalError, "exporter length out of range") }
        return TLS13KDF.exporter(s.suite.hash, exporterSecret: s.exporterMasterSecret, label: label, context: context, length: length)
    }

    /// The newest resumable session (for `--sess-out` and `get_session_id`).
    public var currentSession: StoredSession? { sessionInvalidated ? nil : sessions.last }

    /// NSS `invalidate_session`: this session is never resumed again; the connection goes on.
    public func invalidateSession() {
        sessionInvalidated = true
        sessions.removeAll()
        if let key = config.sessionKey { config.clientSessionStore?.remove(key: key) }
        if let id = negotiated?.sessionID, !id.isEmpty { config.serverSessionStore?.remove(id: id) }
    }

    private func rememberSession(_ s: StoredSession) {
        guard !sessionInvalidated, !config.sessionCacheDisabled else { return }
        sessions.append(s)
        if sessions.count > 8 { sessions.removeFirst() }
        if let key = config.sessionKey { config.clientSessionStore?.store(key: key, session: s) }
    }

    // MARK: - Internals

    /// Runs `body`; on a local error sends the fatal alert, records the failure and rethrows.
    private func guarded(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch var e as HandshakeError {
            if !e.fromPeer { sendFatal(e.alert) }
            if e.alert == .closeNotify && e.fromPeer { e = HandshakeError(.closeNotify, "peer closed", fromPeer: true) }
            fail(e)
            throw e
        } catch let e as RecordLayerError {
            let h = HandshakeError(e.alert, e.reason)
            sendFatal(h.alert)
            fail(h)
            throw h
        } catch {
            // Anything else is our bug or a callback's: never leave the connection half-alive.
            let h = HandshakeError(.internalError, "\(error)")
            sendFatal(h.alert)
            fail(h)
            throw h
        }
    }

    private func fail(_ e: HandshakeError) {
        failure = e
        status = .failed
        wipeSecrets()
    }

    private func wipeSecrets() {
        secrets?.wipe()
        if var t = session12 { secureZero(&t.masterSecret); session12 = t }
    }

    private func sendFatal(_ alert: AlertDescription) {
        pendingHandshake.removeAll()
        try? writer.write(.alert, Alert.fatal(alert).encode(), into: &output)
    }

    private func flushHandshake() throws {
        guard !pendingHandshake.isEmpty else { return }
        try writer.write(.handshake, pendingHandshake, into: &output)
        pendingHandshake.removeAll(keepingCapacity: true)
        // Only the initial ClientHello may say 0x0301 (RFC 8446 5.1); everything after says 0x0303.
        if writer.recordVersion < .tls12 { writer.recordVersion = .tls12 }
    }

    private func apply(_ actions: [HandshakeAction]) throws {
        for action in actions {
            switch action {
            case .send(let message):
                onHandshakeMessage?(true, message)
                pendingHandshake.append(contentsOf: message)
            case .sendChangeCipherSpec:
                try flushHandshake()
                try writer.write(.changeCipherSpec, [1], into: &output)
            case .setWriteKeys(let cipher):
                try flushHandshake()
                writer.setCipher(cipher, version: cipher.framing == .tls13 ? .tls13 : .tls12)
            case .dropWriteKeys:
                try flushHandshake()
                writer.setCipher(nil, version: .tls12)
            case .sendApplicationData(let data):
                try flushHandshake()
                try writer.write(.applicationData, data, into: &output)
            case .skipEarlyData(let maxBytes):
                reader.skipRejectedEarlyData(maxBytes: maxBytes)
            case .setReadKeys(let cipher):
                // RFC 8446 5.1: handshake messages must not span a key change.
                guard reassembler.isEmpty else {
                    throw HandshakeError.unexpected("handshake message spans a key change")
                }
                reader.acceptsPlaintextAlerts = role == .server && reader.cipher == nil && cipher.framing == .tls13
                reader.setCipher(cipher, version: cipher.framing == .tls13 ? .tls13 : .tls12)
            case .complete(let params):
                negotiated = params
                status = .established
                if let s = client?.tls12NewSession ?? (renegotiation as? ClientHandshake)?.tls12NewSession { rememberSession(s) }
                if let r = renegotiation as? ClientHandshake {
                    session12 = r.session12
                } else if let r = renegotiation as? ServerHandshake {
                    session12 = r.session12
                } else {
                    secrets = client?.secrets ?? server?.secrets
                    session12 = client?.session12 ?? server?.session12
                }
                renegotiation = nil
            }
        }
        try flushHandshake()
        if status == .established, role == .server, let s = server?.secrets { secrets = s }
        if status == .established, renegotiation == nil, client != nil || server != nil {
            // Transcripts, key shares, hello bytes and certificates are not needed
            // once established: an idle connection should not hold them.
            offeredPeerChain = client?.offeredSession?.peerChain ?? []
            client = nil
            server = nil
        }
    }

    private func process(_ record: Record) throws {
        switch record.contentType {
        case .handshake:
            try reassembler.feed(record.fragment)
            while let message = try reassembler.nextMessage() {
                guard let type = message.type else { throw HandshakeError.unexpected("unknown handshake message type \(message.typeCode)") }
                let received = ReceivedMessage(type: type, body: message.body, raw: message.raw)
                onHandshakeMessage?(false, received.raw)
                if let r = renegotiation as? ClientHandshake {
                    try apply(try r.handle(received))
                } else if let r = renegotiation as? ServerHandshake {
                    try apply(try r.handle(received))
                } else if status == .established {
                    try postHandshake(received)
                } else if let client {
                    try apply(try client.handle(received))
                } else if let server {
                    try apply(try server.handle(received))
                }
            }
        case .changeCipherSpec:
            guard Array(record.fragment) == [1] else { throw HandshakeError.unexpected("change_cipher_spec with a value other than 1") }
            if let tls12 = activeTLS12Handshake {
                // TLS 1.2: the signal to switch read keys; no handshake message may straddle it.
                guard reassembler.isEmpty else { throw HandshakeError.unexpected("change_cipher_spec inside a handshake message") }
                try apply(try tls12())
                return
            }
            // RFC 8446 5: one unprotected CCS may arrive during the handshake; anything else is unexpected.
            let sawClientHello = role == .client || (server.map { $0.state != .waitClientHello } ?? false)
            guard status == .handshaking, sawClientHello, !receivedCCS, !record.wasProtected, negotiated?.version != .tls12 else {
                throw HandshakeError.unexpected("change_cipher_spec outside the handshake")
            }
            receivedCCS = true
        case .alert:
            let alert = try Alert(bytes: record.fragment)
            if alert.description == .closeNotify {
                peerClosed = true
                if sentClose { status = .closed }
                return
            }
            if alert.level == .warning && (alert.description == .userCanceled || isTLS12) {
                // TLS 1.2 warnings (e.g. no_renegotiation) are survivable, but not endlessly.
                warningAlertsInARow += 1
                guard warningAlertsInARow <= config.limits.maxWarningAlerts else {
                    throw HandshakeError.unexpected("too many warning alerts in a row")
                }
                if alert.description == .noRenegotiation, renegotiation != nil { renegotiation = nil }
                return
            }
            // TLS 1.3: every other alert is fatal whatever its level (RFC 8446 6).
            throw HandshakeError(alert.description, "peer sent \(alert.level.name) alert \(alert.description.name)", fromPeer: true)
        case .applicationData:
            if status == .handshaking, server?.acceptingEarlyData == true {
                earlyDataReceived += record.fragment.count
                guard earlyDataReceived <= Int(config.maxEarlyDataSize) else {
                    throw HandshakeError.unexpected("more early data than max_early_data_size")
                }
                keepInPlaceData()
                plaintext.append(contentsOf: record.fragment)
                return
            }
            guard status == .established else { throw HandshakeError.unexpected("application data before the handshake completed") }
            guard !peerClosed else { throw HandshakeError.unexpected("application data after close_notify") }
            if inPlace == nil, plaintextStart == plaintext.count {
                // Leave it where it was decrypted; read(into:) copies it out from there.
                if !record.fragment.isEmpty { inPlace = record.fragment.startIndex..<record.fragment.endIndex }
            } else {
                keepInPlaceData()
                plaintext.append(contentsOf: record.fragment)
            }
            keyUpdatesInARow = 0
            warningAlertsInARow = 0
        }
    }

    private var isTLS12: Bool {
        negotiated?.version == .tls12 || client?.isTLS12 == true || server?.isTLS12 == true
    }

    /// The TLS 1.2 handshake (initial or renegotiation) waiting for a change_cipher_spec, as a step to run.
    private var activeTLS12Handshake: (() throws -> [HandshakeAction])? {
        if let r = renegotiation as? ClientHandshake { return r.receivedChangeCipherSpec }
        if let r = renegotiation as? ServerHandshake { return r.receivedChangeCipherSpec }
        if status == .handshaking, let c = client, c.isTLS12 { return c.receivedChangeCipherSpec }
        if status == .handshaking, let s = server, s.isTLS12 { return s.receivedChangeCipherSpec }
        return nil
    }

    /// TLS 1.2 secure renegotiation (RFC 5746): the client sends a new
    /// ClientHello, the server a HelloRequest. TLS 1.3 has none: use `updateKeys`.
    public func renegotiate() throws {
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

    private func startClientRenegotiation(_ previous: TLS12Session) throws {
        renegotiations += 1
        guard renegotiations <= config.maxRenegotiations else { throw HandshakeError(.handshakeFailure, "too many renegotiations") }
        var c = config
        c.maxVersion = .tls12
        let hs = ClientHandshake(config: c, random: random, renegotiatingFrom: previous)
        renegotiation = hs
        try apply(try hs.start())
    }

    private func postHandshake(_ m: ReceivedMessage) throws {
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
            keyUpdatesInARow += 1
            guard keyUpdatesInARow <= config.limits.maxKeyUpdatesWithoutData else {
                throw HandshakeError.unexpected("too many KeyUpdates without data")
            }
            guard reassembler.isEmpty else { throw HandshakeError.unexpected("KeyUpdate not at a record boundary") }
            if role == .client {
                s.serverTrafficSecret = TLS13KDF.nextTrafficSecret(s.suite.hash, s.serverTrafficSecret)
                reader.setCipher(try tls13Cipher(s.suite, secret: s.serverTrafficSecret), version: .tls13)
            } else {
                s.clientTrafficSecret = TLS13KDF.nextTrafficSecret(s.suite.hash, s.clientTrafficSecret)
                reader.setCipher(try tls13Cipher(s.suite, secret: s.clientTrafficSecret), version: .tls13)
            }
            secrets = s
            if ku.updateRequested && !sentClose {
                try updateKeys(requestPeerUpdate: false)
            }
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
