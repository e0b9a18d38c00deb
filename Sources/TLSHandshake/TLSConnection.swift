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
    public internal(set) var status: Status = .idle
    public internal(set) var negotiated: NegotiatedParameters?
    /// Set once the peer sent close_notify: reads return nil from then on.
    public internal(set) var peerClosed = false
    public internal(set) var sentClose = false
    /// The error that ended the connection, if any.
    public internal(set) var failure: HandshakeError?

    var reader: RecordReader
    var writer = RecordWriter()
    var reassembler: HandshakeReassembler
    /// The handshake in progress (released once established).
    var client: ClientHandshake?
    var server: ServerHandshake?
    /// Client: the chain of the session offered for resumption, kept past the handshake.
    var offeredPeerChain: [[UInt8]] = []
    var output: [UInt8] = []
    var pendingHandshake: [UInt8] = []
    var plaintext: [UInt8] = []
    var plaintextStart = 0
    /// Unread application data still in the record reader's buffer, where it
    /// was decrypted: `read(into:)` copies it out from there, saving a copy
    /// into `plaintext`. Anything that feeds the reader, or buffers more data,
    /// first moves it into `plaintext` (`keepInPlaceData`).
    var inPlace: Range<Int>?
    var secrets: TLS13Secrets?
    var session12: TLS12Session?
    /// A TLS 1.2 renegotiation in progress (the old keys stay in use until it switches them).
    var renegotiation: AnyObject?
    var renegotiations = 0
    var warningAlertsInARow = 0
    var earlyDataReceived = 0
    var pendingClientAuth: PendingClientAuth?
    /// Server: client authentication for renegotiated handshakes (see `renegotiate`).
    var renegotiationClientAuthentication: ClientAuthentication?
    /// Client application data written during our own renegotiation, sent when it completes.
    var heldWrites: [UInt8] = []
    /// True while a renegotiation is in progress.
    public var isRenegotiating: Bool { renegotiation != nil }
    /// The record_size_limit values in force (RFC 8449), when the extension was negotiated:
    /// the peer's binds what we send, ours what we accept.
    public internal(set) var recordSizeLimits: (peer: Int, ours: Int)?
    /// Handshake record bytes received since the current handshake began (limits.maxBufferedHandshakeBytes).
    var handshakeBytesReceived = 0
    /// Client: sessions this connection can be resumed with (newest last).
    public internal(set) var sessions: [StoredSession] = []
    /// Set by `invalidateSession`: nothing from this connection is resumed again.
    public internal(set) var sessionInvalidated = false
    let random: RandomSource
    var receivedCCS = false
    var keyUpdatesInARow = 0
    var pendingKeyUpdateReply = false
    /// Observers for tools and tests (trace capture): every handshake message and record.
    /// KeyUpdates this side sent (requested or automatic).
    public internal(set) var sentKeyUpdates = 0
    public var onHandshakeMessage: ((_ sent: Bool, _ raw: [UInt8]) -> Void)?
    /// Called after each completed handshake (the first and every renegotiation).
    public var onHandshakeComplete: ((NegotiatedParameters) -> Void)?
    /// Handshakes completed on this connection (1 + renegotiations).
    public internal(set) var completedHandshakes = 0
    /// KeyUpdates received from the peer.
    public internal(set) var receivedKeyUpdates = 0
    /// Set when the peer answered our renegotiation with a no_renegotiation warning.
    public internal(set) var renegotiationRefused: AlertDescription?

    public init(role: Role, config: TLSConfiguration, random: RandomSource = SystemRandom.shared) {
        self.role = role
        var config = config
        if let log = config.keyLog {
            // The key log gets its own copies: ours are wiped in place when the connection ends.
            config.keyLog = { label, random, secret in log(label, random, secret.map { $0 }) }
        }
        self.config = config
        self.random = random
        var limits = RecordLimits()
        limits.maxHandshakeMessageSize = config.limits.maxHandshakeMessageSize
        limits.maxWarningAlertsInARow = config.limits.maxWarningAlerts
        limits.maxEmptyRecordsInARow = config.limits.maxEmptyRecordsInARow
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
        do { try config.validate() } catch let e as HandshakeError { fail(e); throw e }
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
    func keepInPlaceData() {
        guard let r = inPlace else { return }
        inPlace = nil
        reader.withBufferBytes(r) { plaintext.append(contentsOf: $0) }
    }

    func processRecords() throws {
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
        if role == .client && renegotiation != nil {
            // Peers refuse application data in the middle of a handshake we started: hold it.
            heldWrites.append(contentsOf: data)
            return
        }
        try guarded {
            // Change keys well before the AEAD's usage limit (RFC 8446 5.5).
            if secrets != nil, writer.cipher?.keyUpdateRecommended == true {
                try updateKeys(requestPeerUpdate: false)
            }
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
        // Half-close: the peer may still send data and KeyUpdates, so the reading
        // secrets stay until it closes too.
        if peerClosed || status != .established { status = .closed; wipeSecrets() }
    }

    deinit { wipeSecrets() }

    /// The TLS 1.3 secrets this connection still holds (tests check they are zero once it ended).
    var heldSecrets: [[UInt8]] { secrets?.all ?? [] }

    /// Bytes received but not yet processed as records (e.g. what follows the
    /// peer's close_notify, for `unwrap`). The connection forgets them.
    public func takeUnprocessedInput() -> [UInt8] { reader.takeBuffered() }

    // MARK: - Internals

    /// Runs `body`; on a local error sends the fatal alert, records the failure and rethrows.
    func guarded(_ body: () throws -> Void) throws {
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

    func fail(_ e: HandshakeError) {
        failure = e
        status = .failed
        wipeSecrets()
    }

    func wipeSecrets() {
        // In place, so the handshake's copies (which share the storage) are zeroed too.
        secrets?.wipeStorage()
        client?.wipeSecrets()
        server?.wipeSecrets()
        // The handshakes' and the session's master secret share storage; cached sessions have their own.
        if let t = session12 { wipeStorage(t.masterSecret) }
        (renegotiation as? ClientHandshake)?.wipeSecrets()
        (renegotiation as? ServerHandshake)?.wipeSecrets()
    }

    func sendFatal(_ alert: AlertDescription) {
        pendingHandshake.removeAll()
        if status == .handshaking, let c = client?.alertCipher { writer.setCipher(c, version: .tls13) }
        try? writer.write(.alert, Alert.fatal(alert).encode(), into: &output)
    }

    func flushHandshake() throws {
        guard !pendingHandshake.isEmpty else { return }
        try writer.write(.handshake, pendingHandshake, into: &output)
        pendingHandshake.removeAll(keepingCapacity: true)
        // Only the initial ClientHello may say 0x0301 (RFC 8446 5.1); everything after says 0x0303.
        if writer.recordVersion < .tls12 { writer.recordVersion = .tls12 }
    }

    func apply(_ actions: [HandshakeAction]) throws {
        var completionToReport: NegotiatedParameters?
        defer { if let p = completionToReport { onHandshakeComplete?(p) } }
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
            case .limitRecordSize(let peer, let ours, let version):
                try flushHandshake()
                writer.maxFragmentLength = RecordLimits.contentLimit(forRecordSizeLimit: peer, version: version)
                reader.limits.applyRecordSizeLimit(ours, version: version)
                recordSizeLimits = (peer, ours)
            case .setReadKeys(let cipher):
                // RFC 8446 5.1: handshake messages must not span a key change.
                guard reassembler.isEmpty else {
                    throw HandshakeError.unexpected("handshake message spans a key change")
                }
                reader.acceptsPlaintextAlerts = role == .server && reader.cipher == nil && cipher.framing == .tls13
                reader.setCipher(cipher, version: cipher.framing == .tls13 ? .tls13 : .tls12)
            case .complete(let params):
                negotiated = params
                handshakeBytesReceived = 0
                status = .established
                completedHandshakes += 1
                renegotiationRefused = nil
                completionToReport = params
                if let s = client?.tls12NewSession ?? (renegotiation as? ClientHandshake)?.tls12NewSession { rememberSession(s) }
                if let r = renegotiation as? ClientHandshake {
                    if let old = session12 { wipeStorage(old.masterSecret) }
                    session12 = r.session12
                } else if let r = renegotiation as? ServerHandshake {
                    if let old = session12 { wipeStorage(old.masterSecret) }
                    session12 = r.session12
                } else {
                    secrets = client?.secrets ?? server?.secrets
                    session12 = client?.session12 ?? server?.session12
                }
                let wasRenegotiating = renegotiation != nil
                renegotiation = nil
                if wasRenegotiating && !heldWrites.isEmpty {
                    try flushHandshake()
                    try writer.write(.applicationData, heldWrites, into: &output)
                    heldWrites.removeAll()
                }
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

    func process(_ record: Record) throws {
        switch record.contentType {
        case .handshake:
            if status == .handshaking || renegotiation != nil {
                handshakeBytesReceived += record.fragment.count
                guard handshakeBytesReceived <= config.limits.maxBufferedHandshakeBytes else {
                    throw HandshakeError.unexpected("more than \(config.limits.maxBufferedHandshakeBytes) bytes of handshake records before the handshake completed")
                }
            }
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
                if sentClose { status = .closed; wipeSecrets() }
                return
            }
            if alert.level == .warning && (alert.description == .userCanceled || isTLS12 || !versionSettled) {
                // TLS 1.2 warnings (e.g. no_renegotiation) are survivable, but not endlessly.
                warningAlertsInARow += 1
                guard warningAlertsInARow <= config.limits.maxWarningAlerts else {
                    throw HandshakeError.unexpected("too many warning alerts in a row")
                }
                if alert.description == .noRenegotiation, renegotiation != nil {
                    renegotiation = nil
                    renegotiationRefused = .noRenegotiation
                    if !heldWrites.isEmpty {
                        try writer.write(.applicationData, heldWrites, into: &output)
                        heldWrites.removeAll()
                    }
                }
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

    /// Whether the hellos have fixed the version (before that a TLS 1.2 peer may send warnings).
    var versionSettled: Bool {
        if negotiated != nil { return true }
        if let c = client { return c.state != .start && c.state != .waitServerHello }
        if let s = server { return s.state != .waitClientHello }
        return false
    }

    var isTLS12: Bool {
        negotiated?.version == .tls12 || client?.isTLS12 == true || server?.isTLS12 == true
    }

    /// The TLS 1.2 handshake (initial or renegotiation) waiting for a change_cipher_spec, as a step to run.
    var activeTLS12Handshake: (() throws -> [HandshakeAction])? {
        if let r = renegotiation as? ClientHandshake { return r.receivedChangeCipherSpec }
        if let r = renegotiation as? ServerHandshake { return r.receivedChangeCipherSpec }
        if status == .handshaking, let c = client, c.isTLS12 { return c.receivedChangeCipherSpec }
        if status == .handshaking, let s = server, s.isTLS12 { return s.receivedChangeCipherSpec }
        return nil
    }

}
