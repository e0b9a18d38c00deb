#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An operating-system error (errno and its text), the `SysCallError` of the seeds.
public struct SocketError: Error, Equatable, CustomStringConvertible {
    /// The errno value (0 when the error has no errno).
    public let errno: Int32
    /// What failed, with the system's text for errno.
    public let message: String
    /// An error for errno in `context` ("recv", "connect to host:port").
    public init(errno: Int32, _ context: String) {
        self.errno = errno
        self.message = "\(context): \(String(cString: strerror(errno)))"
    }
    /// An error described by `message` alone.
    public init(message: String) { self.errno = 0; self.message = message }
    /// The message.
    public var description: String { message }
    /// True for EAGAIN, EWOULDBLOCK and ETIMEDOUT (an expired SO_RCVTIMEO / SO_SNDTIMEO).
    public var isTimeout: Bool { errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT }
}

/// A thin owner of a socket file descriptor: TCP over IPv4/IPv6 or Unix-domain.
public final class POSIXSocket {
    /// The descriptor (-1 once closed).
    public private(set) var fd: Int32
    /// Takes ownership of `fd`.
    public init(fd: Int32) { self.fd = fd }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    /// True until `close`.
    public var isOpen: Bool { fd >= 0 }

    /// Connects to host:port, trying each address getaddrinfo returns.
    public static func connect(host: String, port: UInt16, timeout: Double? = nil) throws -> POSIXSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw SocketError(message: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var lastError = SocketError(message: "no address for \(host)")
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 {
                let s = POSIXSocket(fd: fd)
                if let timeout { try? s.setTimeout(timeout) }
                if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                    s.setNoDelay()
                    return s
                }
                lastError = SocketError(errno: errno, "connect to \(host):\(port)")
            }
            ai = a.pointee.ai_next
        }
        throw lastError
    }

    /// A listening TCP socket on host:port (port 0 = any free port).
    public static func listen(host: String, port: UInt16, backlog: Int32 = 128) throws -> POSIXSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var result: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let a = result else { throw SocketError(message: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(a) }
        let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
        guard fd >= 0 else { throw SocketError(errno: errno, "socket") }
        let s = POSIXSocket(fd: fd)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 else { throw SocketError(errno: errno, "bind \(host):\(port)") }
        guard Glibc.listen(fd, backlog) == 0 else { throw SocketError(errno: errno, "listen") }
        return s
    }

    /// The bound port (after listen on port 0).
    public var localPort: UInt16 {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard ok == 0 else { return 0 }
        let family = storage.ss_family
        return withUnsafePointer(to: &storage) { p -> UInt16 in
            if family == sa_family_t(AF_INET6) {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// Accepts one connection; with a timeout, waits at most that long.
    public func accept(timeout: Double? = nil) throws -> POSIXSocket {
        if let timeout {
            guard try poll(events: Int16(POLLIN), timeout: timeout) else { throw SocketError(errno: ETIMEDOUT, "accept") }
        }
        while true {
            let c = Glibc.accept(fd, nil, nil)
            if c >= 0 { let s = POSIXSocket(fd: c); s.setNoDelay(); return s }
            if errno == EINTR { continue }
            throw SocketError(errno: errno, "accept")
        }
    }

    /// Waits until `events` are ready; false on timeout.
    public func poll(events: Int16, timeout: Double) throws -> Bool {
        var p = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let rc = Glibc.poll(&p, 1, Int32(max(0, timeout * 1000)))
            if rc > 0 { return true }
            if rc == 0 { return false }
            if errno == EINTR { continue }
            throw SocketError(errno: errno, "poll")
        }
    }

    /// Sets SO_RCVTIMEO and SO_SNDTIMEO.
    public func setTimeout(_ seconds: Double) throws {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) == 0,
              setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            throw SocketError(errno: errno, "setsockopt timeout")
        }
    }

    func setNoDelay() {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads up to `max` bytes; an empty result means the peer closed.
    public func receive(max: Int = 65536) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: max)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { buf.removeSubrange(n...); return buf }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw SocketError(errno: ETIMEDOUT, "recv: timed out waiting for the peer") }
            throw SocketError(errno: errno, "recv")
        }
    }

    /// Writes everything.
    public func sendAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw SocketError(errno: errno, "send")
        }
    }

    /// The poll event for readable data.
    public static let readable = Int16(POLLIN)

    /// Shuts down the sending direction (the peer sees end of stream).
    public func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Closes the descriptor.
    public func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }
}
