import Foundation

/// A flag set when the task waiting on a blocking operation is cancelled.
private final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var onCancel: (() -> Void)?
    var isCancelled: Bool { lock.withLock { cancelled } }
    func cancel() {
        let action = lock.withLock { () -> (() -> Void)? in cancelled = true; return onCancel }
        action?()
    }
    func whenCancelled(_ action: @escaping () -> Void) { lock.withLock { onCancel = action } }
}

/// The blocking API run off the cooperative thread pool: `body` runs on a
/// Dispatch worker with the time slice it is given; a `TimeoutError` from a
/// slice is retried until the caller's timeout (nil = none) or cancellation.
private func offload<T>(_ operation: String, timeout: Duration?, slice: Duration? = .milliseconds(100),
                        onCancel: (() -> Void)? = nil, _ body: @escaping (Duration?) throws -> T) async throws -> T {
    let flag = CancellationFlag()
    if let onCancel { flag.whenCancelled(onCancel) }
    let deadline = Deadline(timeout)
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            DispatchQueue.global().async {
                while true {
                    if flag.isCancelled { return continuation.resume(throwing: CancellationError()) }
                    var step = slice
                    if let left = deadline.remaining { step = step.map { Swift.min($0, left) } ?? left }
                    do {
                        return continuation.resume(returning: try body(step))
                    } catch is TimeoutError where !deadline.expired || flag.isCancelled {
                        continue
                    } catch is TimeoutError {
                        return continuation.resume(throwing: TimeoutError(operation: operation, timeout: timeout ?? .zero))
                    } catch {
                        return continuation.resume(throwing: flag.isCancelled ? CancellationError() : error)
                    }
                }
            }
        }
    } onCancel: {
        flag.cancel()
    }
}

/// Swift-concurrency access to an `SSLSocket`: `handshake`, `read`, `write`
/// and `close` suspend instead of blocking a thread of the cooperative pool
/// (the socket's blocking calls run on Dispatch workers).
///
/// Cancellation: a cancelled `handshake` or `read` stops within about 100 ms
/// and throws `CancellationError`, leaving the connection usable (nothing is
/// lost: the engine keeps partial input). A cancelled `write` shuts the socket
/// down, since a partly sent record cannot be taken back.
public final class AsyncSSLSocket: @unchecked Sendable {
    /// The socket underneath (its blocking API may still be used).
    public let socket: SSLSocket

    /// Wraps a connected (or accepted) socket.
    public init(_ socket: SSLSocket) { self.socket = socket }

    /// Connects a new `SSLSocket` (configured by `configure` first) and runs the handshake.
    public static func connect(to address: NetworkAddress, timeout: Duration? = nil,
                               configure: (SSLSocket) throws -> Void = { _ in }) async throws -> AsyncSSLSocket {
        let s = try SSLSocket(family: address.family)
        try configure(s)
        let a = AsyncSSLSocket(s)
        try await offload("connect", timeout: timeout, slice: nil) { t in try s.connect(address, timeout: t) }
        try await a.handshake(timeout: timeout)
        return a
    }

    /// Runs the handshake to completion.
    public func handshake(timeout: Duration? = nil) async throws {
        let s = socket
        try await offload("handshake", timeout: timeout) { t in try s.forceHandshake(timeout: t) }
    }

    /// Up to `maxLength` bytes of plaintext; empty at end of stream.
    public func read(maxLength: Int = 65536, timeout: Duration? = nil) async throws -> [UInt8] {
        let s = socket
        return try await offload("read", timeout: timeout) { t in try s.recv(maxLength, timeout: t) }
    }

    /// Encrypts and sends all of `data`.
    public func write(_ data: [UInt8], timeout: Duration? = nil) async throws {
        try await handshake(timeout: timeout)
        let s = socket
        var committed = false
        try await offload("write", timeout: timeout, onCancel: { try? s.shutdown(.both) }) { t in
            if !committed {
                committed = true
                do { _ = try s.send(data, timeout: t) } catch is TimeoutError { }
            }
            while s.hasUnsentOutput { try s.flushOutput(timeout: t) }
        }
    }

    /// Sends close_notify and closes the socket.
    public func close() async {
        let s = socket
        _ = try? await offload("close", timeout: nil, slice: nil) { _ in s.close() }
    }
}

/// Swift-concurrency access to a listening `SSLSocket`.
public final class AsyncSSLListener: @unchecked Sendable {
    /// The listening socket.
    public let socket: SSLSocket

    /// Wraps a bound, listening socket.
    public init(_ socket: SSLSocket) { self.socket = socket }

    /// The next connection (not yet handshaken) and the peer's address.
    public func accept(timeout: Duration? = nil) async throws -> (AsyncSSLSocket, NetworkAddress) {
        let s = socket
        let (c, peer) = try await offload("accept", timeout: timeout) { t in try s.accept(timeout: t) }
        return (AsyncSSLSocket(c), peer)
    }
}
