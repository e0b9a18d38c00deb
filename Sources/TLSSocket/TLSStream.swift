import TLSCrypto
import TLSRecord
import TLSHandshake

/// A blocking TLS connection over a socket: the `TLSConnection` engine driven
/// by reads and writes on a file descriptor.
public final class TLSStream {
    /// The socket underneath.
    public let socket: POSIXSocket
    /// The engine.
    public let connection: TLSConnection
    /// Observes every byte sent (true) or received (false), e.g. for captures.
    public var onWire: ((_ sent: Bool, _ bytes: [UInt8]) -> Void)?

    /// A stream over `socket` taking `role`, with `config`.
    public init(socket: POSIXSocket, role: TLSConnection.Role, config: TLSConfiguration, random: RandomSource = SystemRandom.shared) {
        self.socket = socket
        self.connection = TLSConnection(role: role, config: config, random: random)
    }

    /// Sends whatever the engine has queued (after calls like `renegotiate()`).
    public func flushPending() throws { try flush() }

    private func flush() throws {
        let out = connection.takeOutput()
        if !out.isEmpty {
            onWire?(true, out)
            try socket.sendAll(out)
        }
    }

    /// Reads from the socket and feeds the engine once; false at end of stream.
    private func pumpIn() throws -> Bool {
        let bytes = try socket.receive()
        if bytes.isEmpty { return false }
        onWire?(false, bytes)
        do { try connection.receive(bytes) } catch {
            try? flush()  // the alert
            throw error
        }
        try flush()
        return true
    }

    /// Runs the handshake to completion.
    public func handshake() throws {
        try connection.start()
        try flush()
        while !connection.isHandshakeComplete {
            guard try pumpIn() else { throw HandshakeError(.internalError, "connection closed during the handshake") }
        }
    }

    /// Up to `max` bytes of plaintext; nil at end of stream (close_notify or EOF).
    public func read(max: Int = 65536) throws -> [UInt8]? {
        if !connection.isHandshakeComplete { try handshake() }
        while true {
            guard let chunk = connection.read(maxLength: max) else { return nil }
            if !chunk.isEmpty { return chunk }
            guard try pumpIn() else { return nil }
        }
    }

    /// Waits at most `timeout` seconds for bytes, processes one read's worth, and
    /// returns the plaintext now available: [] if none, nil at end of stream.
    public func readAvailable(timeout: Double, max: Int = 65536) throws -> [UInt8]? {
        if let chunk = connection.read(maxLength: max), !chunk.isEmpty { return chunk }
        if connection.peerClosed { return nil }
        try flush()
        guard try socket.poll(events: POSIXSocket.readable, timeout: timeout) else { return [] }
        guard try pumpIn() else { return nil }
        return connection.read(maxLength: max)
    }

    /// Encrypts and sends `data` (running the handshake first if needed).
    public func write(_ data: [UInt8]) throws {
        if !connection.isHandshakeComplete { try handshake() }
        try connection.write(data)
        try flush()
    }

    /// Processes whatever the peer already sent (KeyUpdate, renegotiation) without blocking.
    public func service(timeout: Double = 0) throws {
        while try socket.poll(events: POSIXSocket.readable, timeout: timeout) {
            guard try pumpIn() else { return }
            if connection.bufferedPlaintextCount > 0 { return }
        }
    }

    /// Sends close_notify and shuts down the sending side.
    public func close() {
        connection.close()
        try? flush()
        socket.shutdownWrite()
    }
}
