import Foundation
import TLSCrypto
import TLSRecord
import TLSHandshake
import X509

/// Where a `SecureChannel` gets its bytes from and puts them: a socket
/// descriptor, a socket-like object, or memory.
protocol ChannelTransport: AnyObject {
    /// Up to `max` bytes; empty means end of stream. Throws `TimeoutError`,
    /// `SSLError(.wouldBlock)` or an I/O error.
    func receive(max: Int, deadline: Deadline) throws -> [UInt8]
    /// Sends `data`, advancing `sent` as bytes go out (so a timeout leaves an exact count).
    func send(_ data: ArraySlice<UInt8>, deadline: Deadline, sent: inout Int) throws
}

/// The result of a read.
enum ChannelRead {
    /// Plaintext (never empty).
    case data([UInt8])
    /// The peer sent close_notify and everything before it was read.
    case closeNotify
    /// The transport ended without close_notify (a "ragged" EOF).
    case eof
}

/// The engine (`TLSConnection`) driven over a transport, safe for one reading
/// and one writing thread at the same time (NSS's SSL_ENABLE_FDX).
///
/// Lock discipline, always taken in this order and never the other way:
/// - `readLock`: one reader at a time. Held while waiting for bytes from the
///   transport and feeding them to the engine; also by the handshake.
/// - `writeLock`: one sender at a time. Whoever holds it takes the engine's
///   output and sends it, so records reach the wire in the order the engine
///   sealed them. A reader that produced output (a KeyUpdate reply, an alert,
///   renegotiation messages) only *tries* this lock: if a writer holds it, that
///   writer sends the output after its own (it re-checks `pendingFlush` after
///   unlocking). A reader therefore never waits for a writer that may itself be
///   waiting for the peer, which would deadlock two echoing peers.
/// - `engineLock`: guards the engine and the fields below; held only for
///   in-memory work, never across I/O. Callbacks run under it (certificate
///   checks run inside `receive`), so they must not do I/O on the channel.
final class SecureChannel {
    private(set) var engine: TLSConnection
    let transport: ChannelTransport
    let readLock = NSLock()
    let writeLock = NSLock()
    let engineLock = NSLock()

    // Guarded by engineLock.
    private var pendingFlush = false
    private(set) var initialHandshakeDone = false
    private(set) var renegotiating = false
    private var finishedSent = false
    private var finishedReceived = false
    private(set) var completedHandshakes = 0
    private var callbacksDue = 0
    /// KeyUpdates we initiated (replies the engine sends on its own are not seen here).
    private(set) var keyUpdatesSent = 0
    private(set) var keyUpdatesReceived = 0
    private(set) var ticketsReceived = 0
    private(set) var serverHelloSessionID: [UInt8] = []
    private(set) var transportEOF = false

    // Guarded by writeLock.
    private var unsent: [UInt8] = []

    /// Called (outside the engine lock) after each completed handshake, initial or renegotiation.
    var onHandshakeComplete: (() -> Void)?
    /// The largest read asked of the transport.
    var receiveSize = 65536

    init(engine: TLSConnection, transport: ChannelTransport) {
        self.engine = engine
        self.transport = transport
        attachObserver()
    }

    private func attachObserver() {
        engine.onHandshakeMessage = { [weak self] sent, raw in self?.observe(sent: sent, raw: raw) }
    }

    /// Called by the engine, under engineLock, for every handshake message.
    private func observe(sent: Bool, raw: [UInt8]) {
        guard let type = raw.first else { return }
        // The first handshake may complete in the same receive() as the next
        // message (a HelloRequest right after the server's Finished).
        if !initialHandshakeDone && engine.isHandshakeComplete {
            initialHandshakeDone = true
            completedHandshakes += 1
            callbacksDue += 1
        }
        switch type {
        case 0, 1:  // HelloRequest, ClientHello: after the first handshake, a renegotiation begins
            if initialHandshakeDone && !renegotiating {
                renegotiating = true
                finishedSent = false
                finishedReceived = false
            }
        case 2:  // ServerHello: remember the session ID (TLS 1.2 servers put theirs there)
            if raw.count > 4 + 2 + 32 {
                let n = Int(raw[38])
                if raw.count >= 39 + n { serverHelloSessionID = Array(raw[39..<(39 + n)]) }
            }
        case 20:  // Finished
            if sent { finishedSent = true } else { finishedReceived = true }
            if renegotiating && finishedSent && finishedReceived {
                renegotiating = false
                completedHandshakes += 1
                callbacksDue += 1
            }
        case 24:  // KeyUpdate (the engine reports received ones; we count those we send)
            if !sent { keyUpdatesReceived += 1 }
        case 4:
            if !sent { ticketsReceived += 1 }
        default:
            break
        }
    }

    /// Runs `body` with the engine locked, then notes whether output is waiting.
    func withEngine<T>(_ body: (TLSConnection) throws -> T) rethrows -> T {
        engineLock.lock()
        defer {
            if engine.hasOutput { pendingFlush = true }
            if !initialHandshakeDone && engine.isHandshakeComplete {
                initialHandshakeDone = true
                completedHandshakes += 1
                callbacksDue += 1
            }
            engineLock.unlock()
        }
        return try body(engine)
    }

    var isHandshakeComplete: Bool { engineLock.withLock { initialHandshakeDone } }
    var isRenegotiating: Bool { engineLock.withLock { renegotiating } }

    // MARK: sending

    /// Sends everything queued; called with writeLock held.
    private func flushLocked(_ d: Deadline) throws {
        engineLock.withLock {
            let out = engine.takeOutput()
            if !out.isEmpty { unsent += out }
            pendingFlush = false
        }
        if unsent.isEmpty { return }
        var sent = 0
        defer { if sent > 0 { unsent.removeFirst(sent) } }
        try transport.send(unsent[...], deadline: d, sent: &sent)
    }

    /// After releasing writeLock: send output others produced while we held it.
    private func recheck(_ d: Deadline) {
        while engineLock.withLock({ pendingFlush }) {
            guard writeLock.try() else { return }  // its holder re-checks after unlocking
            let failed = (try? flushLocked(d)) == nil
            writeLock.unlock()
            if failed { return }
        }
    }

    /// Runs `body` holding writeLock, then sends everything queued.
    func writing<T>(_ d: Deadline, _ body: () throws -> T) throws -> T {
        writeLock.lock()
        let result: Result<T, Error>
        do {
            let value = try body()
            try flushLocked(d)
            result = .success(value)
        } catch {
            result = .failure(error)
        }
        writeLock.unlock()
        recheck(d)
        return try result.get()
    }

    /// Sends pending output if no one else is sending (else they will).
    func flushIfFree(_ d: Deadline) throws {
        guard engineLock.withLock({ pendingFlush }) else { return }
        guard writeLock.try() else { return }
        let result = Result { try flushLocked(d) }
        writeLock.unlock()
        recheck(d)
        try result.get()
    }

    /// Sends everything pending, waiting for the write side (at most until the deadline).
    func flush(_ d: Deadline) throws {
        if let end = d.timeout {
            guard writeLock.lock(before: Date(timeIntervalSinceNow: end.seconds)) else { throw d.timeoutError("flush") }
        } else {
            writeLock.lock()
        }
        let result = Result { try flushLocked(d) }
        writeLock.unlock()
        recheck(d)
        try result.get()
    }

    /// Whether bytes are queued and not yet sent.
    var hasUnsentOutput: Bool {
        if engineLock.withLock({ pendingFlush }) { return true }
        return writeLock.withLock { !unsent.isEmpty }
    }

    // MARK: receiving

    /// Reads once from the transport and feeds the engine; false at end of stream.
    /// Called with readLock held.
    private func pumpIn(_ d: Deadline) throws -> Bool {
        let bytes: [UInt8]
        do {
            bytes = try transport.receive(max: receiveSize, deadline: d)
        } catch {
            try? flushIfFree(d)
            throw error
        }
        if bytes.isEmpty {
            engineLock.withLock { transportEOF = true }
            return false
        }
        do {
            try withEngine { try $0.receive(bytes) }
        } catch {
            // Send the alert the engine queued, briefly.
            try? flush(Deadline(.seconds(1)))
            throw error
        }
        try flushIfFree(d)
        return true
    }

    /// Runs the handshake callbacks that are due (outside every lock but readLock).
    private func runCallbacks() {
        var due = engineLock.withLock { let n = callbacksDue; callbacksDue = 0; return n }
        while due > 0 {
            onHandshakeComplete?()
            due -= 1
        }
    }

    /// Drives the initial handshake to completion.
    func handshake(_ d: Deadline) throws {
        if isHandshakeComplete { return }
        try readLock.withLock {
            try withEngine { e in if e.status == .idle { try e.start() } }
            defer { runCallbacks() }
            try flush(d)
            while !engineLock.withLock({ initialHandshakeDone }) {
                if let f = engineLock.withLock({ engine.failure }) { throw f }
                guard try pumpIn(d) else {
                    throw SSLError(.handshakeFailed, "the peer closed the connection during the handshake")
                }
            }
        }
    }

    /// Drives a renegotiation (or the initial handshake) until it completes or
    /// application data arrives that must be read first (NSS force_handshake).
    func forceHandshake(_ d: Deadline) throws {
        if !isHandshakeComplete { return try handshake(d) }
        try flush(d)
        try readLock.withLock {
            defer { runCallbacks() }
            while engineLock.withLock({ renegotiating && engine.bufferedPlaintextCount == 0 }) {
                guard try pumpIn(d) else {
                    throw SSLError(.handshakeFailed, "the peer closed the connection during the handshake")
                }
            }
        }
    }

    /// Reads plaintext, driving the handshake first if needed.
    func read(max: Int, _ d: Deadline) throws -> ChannelRead {
        try handshake(d)
        return try readLock.withLock {
            defer { runCallbacks() }
            while true {
                let chunk = withEngine { $0.read(maxLength: max) }
                guard let chunk else { return .closeNotify }
                if !chunk.isEmpty { return .data(chunk) }
                if let f = engineLock.withLock({ engine.failure }) { throw f }
                if engineLock.withLock({ transportEOF }) { return .eof }
                guard try pumpIn(d) else { return .eof }
            }
        }
    }

    /// Reads record by record until the peer's close_notify, never reading a
    /// byte past it: what follows belongs to the plain connection (`unwrap`).
    /// Plaintext still arriving before it is discarded.
    func readUntilCloseNotify(_ d: Deadline) throws {
        func exactly(_ n: Int) throws -> [UInt8]? {
            var out: [UInt8] = []
            while out.count < n {
                let b = try transport.receive(max: n - out.count, deadline: d)
                if b.isEmpty { return nil }
                out += b
            }
            return out
        }
        try readLock.withLock {
            while true {
                let closed = withEngine { e -> Bool in
                    while let chunk = e.read(), !chunk.isEmpty {}
                    return e.peerClosed
                }
                if closed { return }
                guard let header = try exactly(5) else { return }
                let length = Int(header[3]) << 8 | Int(header[4])
                guard let body = try exactly(length) else { return }
                try withEngine { try $0.receive(header + body) }
                try flushIfFree(d)
            }
        }
    }

    /// Encrypts and sends `data`, driving the handshake first if needed.
    ///
    /// A timeout during the handshake commits nothing. A timeout after it
    /// commits everything: all of `data` is encrypted and queued, and what did
    /// not go out leaves first with the next operation (or `flush`).
    func write(_ data: [UInt8], _ d: Deadline) throws {
        try handshake(d)
        let chunk = 1 << 18
        var offset = 0
        var timedOut: Error? = nil
        repeat {
            let end = Swift.min(data.count, offset + chunk)
            let piece = Array(data[offset..<end])
            if timedOut == nil {
                do {
                    try writing(d) { try engineLock.withLock { try engine.write(piece) } }
                } catch let e as TimeoutError {
                    timedOut = e
                } catch let e as SSLError where e.code == .wouldBlock {
                    timedOut = e
                } catch let e as TransportBlocked {
                    timedOut = e
                }
            } else {
                try writeLock.withLock {
                    try engineLock.withLock {
                        try engine.write(piece)
                        unsent += engine.takeOutput()
                        pendingFlush = false
                    }
                }
            }
            offset = end
        } while offset < data.count
        if let timedOut { throw timedOut }
    }

    /// Sends close_notify (best effort within the deadline).
    func close(_ d: Deadline) {
        withEngine { $0.close() }
        try? flush(d)
    }

    /// TLS 1.2: starts a renegotiation. TLS 1.3: sends a KeyUpdate asking the peer to update too.
    func rehandshake(_ d: Deadline) throws {
        try withEngine { e in
            guard initialHandshakeDone else { throw SSLError(.notConnected, "rehandshake needs a completed handshake") }
            if e.negotiated?.version == .tls12 {
                try e.renegotiate()
                // A server's HelloRequest does not pass through the message observer.
                if !renegotiating {
                    renegotiating = true
                    finishedSent = false
                    finishedReceived = false
                }
            } else {
                try e.updateKeys(requestPeerUpdate: true)
                keyUpdatesSent += 1
            }
        }
        try flushIfFree(d)
    }

    /// Sends a KeyUpdate (TLS 1.3).
    func updateKeys(requestPeer: Bool, _ d: Deadline) throws {
        try withEngine { try $0.updateKeys(requestPeerUpdate: requestPeer); keyUpdatesSent += 1 }
        try flushIfFree(d)
    }
}
