#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Options of the underlying socket (NSPR's `PR_SockOpt_*`), read with
/// `getSocketOption` and changed with `setSocketOption`. Values are integers;
/// booleans are 0 or 1.
public enum SocketOption: String, Sendable, CaseIterable {
    /// `PR_SockOpt_Nonblocking`: calls never wait; they fail with `SSLError` code `.wouldBlock`.
    case nonblocking
    /// `PR_SockOpt_Linger`: seconds to linger on close, or -1 for off.
    case linger
    /// `PR_SockOpt_Reuseaddr` (SO_REUSEADDR).
    case reuseAddress
    /// `PR_SockOpt_Keepalive` (SO_KEEPALIVE).
    case keepAlive
    /// `PR_SockOpt_RecvBufferSize` (SO_RCVBUF).
    case receiveBufferSize
    /// `PR_SockOpt_SendBufferSize` (SO_SNDBUF).
    case sendBufferSize
    /// `PR_SockOpt_IpTimeToLive` (IP_TTL).
    case ipTimeToLive
    /// `PR_SockOpt_IpTypeOfService` (IP_TOS).
    case ipTypeOfService
    /// `PR_SockOpt_NoDelay` (TCP_NODELAY).
    case noDelay
    /// `PR_SockOpt_MaxSegment` (TCP_MAXSEG).
    case maxSegment
    /// `PR_SockOpt_Broadcast` (SO_BROADCAST).
    case broadcast

    var level: (Int32, Int32)? {
        switch self {
        case .nonblocking, .linger: return nil
        case .reuseAddress: return (SOL_SOCKET, SO_REUSEADDR)
        case .keepAlive: return (SOL_SOCKET, SO_KEEPALIVE)
        case .receiveBufferSize: return (SOL_SOCKET, SO_RCVBUF)
        case .sendBufferSize: return (SOL_SOCKET, SO_SNDBUF)
        case .ipTimeToLive: return (Int32(IPPROTO_IP), IP_TTL)
        case .ipTypeOfService: return (Int32(IPPROTO_IP), IP_TOS)
        case .noDelay: return (Int32(IPPROTO_TCP), TCP_NODELAY)
        case .maxSegment: return (Int32(IPPROTO_TCP), TCP_MAXSEG)
        case .broadcast: return (SOL_SOCKET, SO_BROADCAST)
        }
    }
}

/// Which directions `shutdown` closes (`PR_SHUTDOWN_RCV`, `PR_SHUTDOWN_SEND`, `PR_SHUTDOWN_BOTH`).
public enum ShutdownHow: Sendable {
    /// No more receiving.
    case receive
    /// No more sending (the peer sees end of stream).
    case send
    /// Both.
    case both

    var systemValue: Int32 {
        switch self {
        case .receive: return Int32(SHUT_RD)
        case .send: return Int32(SHUT_WR)
        case .both: return Int32(SHUT_RDWR)
        }
    }
}

/// Poll conditions (`PR_POLL_READ`, `PR_POLL_WRITE`, `PR_POLL_EXCEPT`, and the
/// out-only `PR_POLL_ERR`, `PR_POLL_HUP`, `PR_POLL_NVAL`).
public struct PollFlags: OptionSet, Sendable, Hashable {
    /// The raw bits.
    public let rawValue: Int16
    /// Flags from raw bits.
    public init(rawValue: Int16) { self.rawValue = rawValue }
    /// Readable: data (or, for a TLS socket, decrypted plaintext) or end of stream is waiting.
    public static let read = PollFlags(rawValue: 1)
    /// Writable without blocking.
    public static let write = PollFlags(rawValue: 2)
    /// Exceptional condition (out-of-band data).
    public static let except = PollFlags(rawValue: 4)
    /// An error is pending (out only).
    public static let error = PollFlags(rawValue: 8)
    /// The peer hung up (out only).
    public static let hangUp = PollFlags(rawValue: 16)
    /// The descriptor is not open (out only).
    public static let invalid = PollFlags(rawValue: 32)

    var systemEvents: Int16 {
        var e: Int32 = 0
        if contains(.read) { e |= Int32(POLLIN) }
        if contains(.write) { e |= Int32(POLLOUT) }
        if contains(.except) { e |= Int32(POLLPRI) }
        return Int16(e)
    }

    init(systemEvents r: Int16) {
        var f: PollFlags = []
        let v = Int32(r)
        if v & Int32(POLLIN) != 0 { f.insert(.read) }
        if v & Int32(POLLOUT) != 0 { f.insert(.write) }
        if v & Int32(POLLPRI) != 0 { f.insert(.except) }
        if v & Int32(POLLERR) != 0 { f.insert(.error) }
        if v & Int32(POLLHUP) != 0 { f.insert(.hangUp) }
        if v & Int32(POLLNVAL) != 0 { f.insert(.invalid) }
        self = f
    }
}

/// A plain socket: NSS's `io.Socket`, Python's `socket.socket`. TCP over IPv4
/// or IPv6, or a Unix-domain stream; UDP for `recvFrom`/`sendTo`.
///
/// Every blocking call takes an optional `timeout`; when nil, the socket's
/// `timeout` property applies (nil there = wait as long as it takes). An
/// expired timeout throws `TimeoutError`; with the `.nonblocking` option (or a
/// zero timeout) a call that would wait throws `SSLError` `.wouldBlock` instead.
///
/// `SSLSocket` is a subclass that puts TLS on top; everything here works on it too.
/// Iterating a socket yields its lines (`readline` until end of stream).
open class Socket: Sequence, CustomStringConvertible {
    /// The address family (`family` property of the seeds).
    public let family: AddressFamily
    /// Stream or datagram (`desc_type`).
    public let descType: SocketType
    /// The address the socket was last bound or connected to (`netaddr`).
    public internal(set) var netAddress: NetworkAddress?
    /// The default timeout of blocking calls (nil = none). Python's `settimeout`.
    public var timeout: Duration? {
        get { stateLock.withLock { _timeout } }
        set { stateLock.withLock { _timeout = newValue } }
    }
    /// Set when iteration stopped because of an error rather than end of stream.
    public private(set) var iterationError: Error?

    let stateLock = NSLock()
    private var _fd: Int32
    private var _timeout: Duration?
    private var _nonblocking = false
    /// Bytes read ahead by `readline`, returned first by every read.
    var readahead: [UInt8] = []
    /// Serialises line reading and plain reads.
    let lineLock = NSLock()
    /// Serialises plain writes.
    let plainWriteLock = NSLock()

    /// A new socket (NSS `Socket(family, type)`, Python `socket.socket(family, type)`).
    public init(family: AddressFamily = .inet, type: SocketType = .tcp) throws {
        let fd = Glibc.socket(family.systemValue, type.systemValue | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(errno: errno, "socket") }
        self.family = family
        self.descType = type
        self._fd = fd
        if type == .tcp && family != .local { setInt(Int32(IPPROTO_TCP), TCP_NODELAY, 1) }
    }

    /// Takes ownership of an open descriptor.
    init(adopting fd: Int32, family: AddressFamily, type: SocketType) {
        self.family = family
        self.descType = type
        self._fd = fd
    }

    /// Takes the descriptor of another socket object, which is left closed
    /// (what `wrapSocket` does with the socket it wraps).
    init(takingOver other: Socket) throws {
        family = other.family
        descType = other.descType
        _fd = other.detach()
        netAddress = other.netAddress
        _timeout = other.timeout
        readahead = other.lineLock.withLock { let r = other.readahead; other.readahead = []; return r }
        guard _fd >= 0 else { throw SSLError(.closed, "the socket is closed") }
    }

    deinit {
        if _fd >= 0 { Glibc.close(_fd) }
    }

    /// Wraps an existing connected stream socket descriptor (NSS
    /// `import_tcp_socket(osfd)`). The socket object owns it from then on.
    open class func importTCPSocket(_ osfd: Int32) throws -> Socket {
        let (family, type) = try Socket.describe(osfd)
        return Socket(adopting: osfd, family: family, type: type)
    }

    static func describe(_ osfd: Int32) throws -> (AddressFamily, SocketType) {
        var type: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(osfd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 else { throw SocketError(errno: errno, "import_tcp_socket") }
        guard type == Int32(SOCK_STREAM.rawValue) else { throw SSLError(.invalidArgument, "descriptor \(osfd) is not a SOCK_STREAM socket") }
        var storage = sockaddr_storage()
        var slen = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(osfd, $0, &slen) } }
        guard rc == 0, let family = AddressFamily(systemValue: Int32(storage.ss_family)) else {
            throw SSLError(.invalidArgument, "descriptor \(osfd) is not an IPv4, IPv6 or Unix-domain socket")
        }
        return (family, .tcp)
    }

    /// The file descriptor (-1 once closed).
    public func fileno() -> Int32 { stateLock.withLock { _fd } }

    /// Gives up the descriptor without closing it; the object is closed afterwards.
    @discardableResult
    public func detach() -> Int32 {
        stateLock.withLock { let fd = _fd; _fd = -1; return fd }
    }

    /// True until `close`.
    public var isOpen: Bool { fileno() >= 0 }

    func liveFD() throws -> Int32 {
        let fd = fileno()
        guard fd >= 0 else { throw SSLError(.closed, "the socket is closed") }
        return fd
    }

    func deadline(_ timeout: Duration?) -> Deadline {
        stateLock.withLock {
            if _nonblocking { return Deadline(.zero, nonblocking: true) }
            let t = timeout ?? _timeout
            return Deadline(t, nonblocking: t == .zero)
        }
    }

    // MARK: addresses

    /// Binds to a local address (port 0 picks a free port).
    public func bind(_ address: NetworkAddress) throws {
        let fd = try liveFD()
        if address.family != .local { setInt(SOL_SOCKET, SO_REUSEADDR, 1) }
        let rc = try address.withSockaddr { Glibc.bind(fd, $0, $1) }
        guard rc == 0 else { throw SocketError(errno: errno, "bind \(address)") }
        netAddress = address
    }

    /// Starts listening (`backlog` pending connections at most).
    public func listen(backlog: Int = 5) throws {
        guard Glibc.listen(try liveFD(), Int32(clamping: backlog)) == 0 else { throw SocketError(errno: errno, "listen") }
    }

    /// The address of the other end.
    public func getPeerName() throws -> NetworkAddress {
        try name(getpeername, "getpeername")
    }

    /// The local address (after bind with port 0, this has the chosen port).
    public func getSockName() throws -> NetworkAddress {
        try name(getsockname, "getsockname")
    }

    private func name(_ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32, _ what: String) throws -> NetworkAddress {
        let fd = try liveFD()
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &len) } }
        guard rc == 0 else { throw SocketError(errno: errno, what) }
        return try withUnsafePointer(to: &storage) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard let a = NetworkAddress(sockaddr: $0, length: len) else { throw SSLError(.unsupported, "\(what): unknown address family") }
                return a
            }
        }
    }

    /// Whether the socket has a peer (a connected stream).
    var isConnected: Bool { (try? getPeerName()) != nil }

    /// Whether the socket is listening.
    var isListening: Bool {
        guard let fd = try? liveFD() else { return false }
        var v: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v != 0
    }

    // MARK: connecting

    /// Connects to `address`, waiting at most `timeout`.
    open func connect(_ address: NetworkAddress, timeout: Duration? = nil) throws {
        try plainConnect(address, deadline: deadline(timeout))
    }

    func plainConnect(_ address: NetworkAddress, deadline: Deadline) throws {
        let fd = try liveFD()
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        let rc = try address.withSockaddr { Glibc.connect(fd, $0, $1) }
        if rc != 0 {
            guard errno == EINPROGRESS || errno == EINTR else { throw SocketError(errno: errno, "connect to \(address)") }
            try wait(fd, Int16(POLLOUT), deadline, "connect")
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            guard err == 0 else { throw SocketError(errno: err, "connect to \(address)") }
        }
        netAddress = address
    }

    /// Accepts the next connection: the new socket and the peer's address.
    /// With a timeout, throws `TimeoutError` when no connection came in time
    /// (NSS's `PR_IO_TIMEOUT_ERROR`). The listening socket stays usable.
    open func accept(timeout: Duration? = nil) throws -> (Socket, NetworkAddress) {
        let (fd, peer) = try plainAccept(deadline(timeout))
        return (Socket(adopting: fd, family: family, type: descType), peer)
    }

    func plainAccept(_ deadline: Deadline) throws -> (Int32, NetworkAddress) {
        let fd = try liveFD()
        while true {
            try wait(fd, Int16(POLLIN), deadline, "accept")
            var storage = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let c = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &len) }
            }
            if c >= 0 {
                _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                if family != .local {
                    var one: Int32 = 1
                    setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                }
                let peer = withUnsafePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { NetworkAddress(sockaddr: $0, length: len) }
                } ?? NetworkAddress(localPath: "")
                return (c, peer)
            }
            switch errno {
            case EINTR, ECONNABORTED, EAGAIN, EWOULDBLOCK: continue
            default: throw SocketError(errno: errno, "accept")
            }
        }
    }

    /// Accepts a connection and reads its first bytes (NSS `accept_read`):
    /// the socket, the peer's address, and up to `amount` bytes.
    open func acceptRead(_ amount: Int, timeout: Duration? = nil) throws -> (Socket, NetworkAddress, [UInt8]) {
        let d = deadline(timeout)
        let (s, peer) = try accept(timeout: d.remaining)
        let data = try s.recv(amount, timeout: d.remaining)
        return (s, peer, data)
    }

    // MARK: reading

    /// Up to `amount` bytes; an empty result means end of stream.
    open func recv(_ amount: Int, timeout: Duration? = nil) throws -> [UInt8] {
        try lineLock.withLock {
            if !readahead.isEmpty { return takeReadahead(amount) }
            return try rawRecv(amount, deadline: deadline(timeout))
        }
    }

    /// The primitive read the line functions use: plain bytes here, decrypted
    /// plaintext in `SSLSocket`. Called with `lineLock` held.
    func rawRecv(_ amount: Int, deadline: Deadline) throws -> [UInt8] {
        try Socket.systemRecv(try liveFD(), amount, deadline)
    }

    func takeReadahead(_ amount: Int) -> [UInt8] {
        let n = Swift.min(amount, readahead.count)
        let out = Array(readahead[..<n])
        readahead.removeFirst(n)
        return out
    }

    /// Reads `size` bytes, fewer only at end of stream; with a negative size,
    /// everything until end of stream (NSS `read(size=-1)`).
    public func read(_ size: Int = -1, timeout: Duration? = nil) throws -> [UInt8] {
        let d = deadline(timeout)
        return try lineLock.withLock {
            var out = takeReadahead(size < 0 ? Int.max : size)
            while size < 0 || out.count < size {
                let chunk = try rawRecv(size < 0 ? 65536 : size - out.count, deadline: d)
                if chunk.isEmpty { break }
                out += chunk
            }
            return out
        }
    }

    /// One line, with its "\n" (at most `size` bytes when size > 0); empty at end of stream.
    public func readline(_ size: Int = -1, timeout: Duration? = nil) throws -> [UInt8] {
        let d = deadline(timeout)
        return try lineLock.withLock {
            var scanned = 0
            while true {
                if let nl = readahead[scanned...].firstIndex(of: 0x0a) {
                    let end = size > 0 ? Swift.min(nl + 1, size) : nl + 1
                    return takeReadahead(end)
                }
                if size > 0 && readahead.count >= size { return takeReadahead(size) }
                scanned = readahead.count
                let chunk = try rawRecv(4096, deadline: d)
                if chunk.isEmpty { return takeReadahead(readahead.count) }
                readahead += chunk
            }
        }
    }

    /// Lines until end of stream (or until about `sizehint` bytes when > 0).
    public func readlines(_ sizehint: Int = 0, timeout: Duration? = nil) throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var total = 0
        while true {
            let line = try readline(-1, timeout: timeout)
            if line.isEmpty { break }
            lines.append(line)
            total += line.count
            if sizehint > 0 && total >= sizehint { break }
        }
        return lines
    }

    /// Iterates over lines (as `readline` returns them) until end of stream.
    /// An error ends the iteration and is kept in `iterationError`.
    public func makeIterator() -> AnyIterator<[UInt8]> {
        iterationError = nil
        return AnyIterator { [weak self] in
            guard let self else { return nil }
            do {
                let line = try self.readline()
                return line.isEmpty ? nil : line
            } catch {
                self.iterationError = error
                return nil
            }
        }
    }

    /// A datagram (or stream bytes) and the address it came from.
    public func recvFrom(_ amount: Int, timeout: Duration? = nil) throws -> ([UInt8], NetworkAddress?) {
        let fd = try liveFD()
        let d = deadline(timeout)
        var buf = [UInt8](repeating: 0, count: Swift.max(1, amount))
        while true {
            var storage = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = buf.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.recvfrom(fd, b.baseAddress, amount, Int32(MSG_DONTWAIT), $0, &len) }
                }
            }
            if n >= 0 {
                let from = len > 0 ? withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { NetworkAddress(sockaddr: $0, length: len) } } : nil
                return (Array(buf[..<n]), from)
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try wait(fd, Int16(POLLIN), d, "recv_from")
            default: throw SocketError(errno: errno, "recv_from")
            }
        }
    }

    // MARK: writing

    /// Sends what it can of `data` (at least one byte unless it times out) and
    /// says how much. `SSLSocket` always sends everything.
    open func send(_ data: [UInt8], timeout: Duration? = nil) throws -> Int {
        let fd = try liveFD()
        let d = deadline(timeout)
        return try plainWriteLock.withLock { try Socket.systemSend(fd, data[...], d, once: true) }
    }

    /// Sends all of `data`; returns its length.
    @discardableResult
    open func sendall(_ data: [UInt8], timeout: Duration? = nil) throws -> Int {
        let fd = try liveFD()
        let d = deadline(timeout)
        return try plainWriteLock.withLock { try Socket.systemSend(fd, data[...], d, once: false) }
    }

    /// Sends the UTF-8 bytes of `text`.
    @discardableResult
    public func sendall(_ text: String, timeout: Duration? = nil) throws -> Int {
        try sendall(Array(text.utf8), timeout: timeout)
    }

    /// Sends a datagram to `address`.
    @discardableResult
    public func sendTo(_ data: [UInt8], _ address: NetworkAddress, timeout: Duration? = nil) throws -> Int {
        let fd = try liveFD()
        let d = deadline(timeout)
        while true {
            let n = try address.withSockaddr { sa, len in
                data.withUnsafeBytes { Glibc.sendto(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), sa, len) }
            }
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try wait(fd, Int16(POLLOUT), d, "send_to")
            default: throw SocketError(errno: errno, "send_to")
            }
        }
    }

    // MARK: closing

    /// Shuts down one or both directions (the descriptor stays open).
    open func shutdown(_ how: ShutdownHow = .both) throws {
        guard Glibc.shutdown(try liveFD(), how.systemValue) == 0 else { throw SocketError(errno: errno, "shutdown") }
    }

    /// Closes the descriptor. Threads blocked on it are woken (shutdown first).
    open func close() {
        let fd = detach()
        if fd >= 0 {
            Glibc.shutdown(fd, Int32(SHUT_RDWR))
            Glibc.close(fd)
        }
    }

    // MARK: options

    /// Reads an option (booleans as 0 or 1; linger in seconds, -1 when off).
    public func getSocketOption(_ option: SocketOption) throws -> Int {
        let fd = try liveFD()
        switch option {
        case .nonblocking:
            return stateLock.withLock { _nonblocking } ? 1 : 0
        case .linger:
            var l = linger()
            var len = socklen_t(MemoryLayout<linger>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) == 0 else { throw SocketError(errno: errno, "getsockopt linger") }
            return l.l_onoff != 0 ? Int(l.l_linger) : -1
        default:
            let (level, name) = option.level!
            var v: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, level, name, &v, &len) == 0 else { throw SocketError(errno: errno, "getsockopt \(option)") }
            return Int(v)
        }
    }

    /// Changes an option (see `getSocketOption` for the values).
    public func setSocketOption(_ option: SocketOption, _ value: Int) throws {
        let fd = try liveFD()
        switch option {
        case .nonblocking:
            stateLock.withLock { _nonblocking = value != 0 }
        case .linger:
            var l = linger(l_onoff: value >= 0 ? 1 : 0, l_linger: Int32(clamping: Swift.max(0, value)))
            guard setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size)) == 0 else {
                throw SocketError(errno: errno, "setsockopt linger")
            }
        default:
            let (level, name) = option.level!
            var v = Int32(clamping: value)
            guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                throw SocketError(errno: errno, "setsockopt \(option)")
            }
        }
    }

    /// Boolean form of `setSocketOption`.
    public func setSocketOption(_ option: SocketOption, _ value: Bool) throws {
        try setSocketOption(option, value ? 1 : 0)
    }

    @discardableResult
    func setInt(_ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
        var v = value
        return setsockopt(fileno(), level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    // MARK: files

    /// A file-like view of the socket (NSS and Python `makefile`): reads go
    /// through the socket's line buffer, writes are sent in full.
    public func makefile(_ mode: String = "r", bufsize: Int = -1) -> SocketFile {
        SocketFile(socket: self, mode: mode)
    }

    // MARK: pairs and polling

    /// Two connected TCP sockets over the loopback interface (NSS `new_tcp_pair`).
    public class func newTCPPair() throws -> (Socket, Socket) {
        let listener = try Socket(family: .inet)
        defer { listener.close() }
        try listener.bind(.loopback(.inet))
        try listener.listen(backlog: 1)
        let a = try Socket(family: .inet)
        try a.connect(try listener.getSockName(), timeout: .seconds(10))
        let (b, _) = try listener.accept(timeout: .seconds(10))
        return (a, b)
    }

    /// Waits until one of the sockets is ready for what was asked (NSS
    /// `io.poll`): returns the conditions met, one entry per descriptor, or
    /// all empty when the timeout passed (nil = wait forever). TLS sockets with
    /// decrypted bytes waiting count as readable without touching the socket.
    public static func poll(_ descriptors: [(Socket, PollFlags)], timeout: Duration?) throws -> [PollFlags] {
        var fds = descriptors.map { pollfd(fd: $0.0.fileno(), events: $0.1.systemEvents, revents: 0) }
        let buffered = descriptors.map { $0.1.contains(.read) && $0.0.hasBufferedInput }
        let d = Deadline(buffered.contains(true) ? .zero : timeout)
        while true {
            let rc = Glibc.poll(&fds, nfds_t(fds.count), d.pollMilliseconds)
            if rc >= 0 { break }
            if errno == EINTR { continue }
            throw SocketError(errno: errno, "poll")
        }
        return zip(fds, buffered).map { p, b in
            var f = PollFlags(systemEvents: p.revents)
            if b { f.insert(.read) }
            return f
        }
    }

    /// Bytes already read from the socket and waiting in memory.
    var hasBufferedInput: Bool { lineLock.withLock { !readahead.isEmpty } }

    /// "Socket(fd=5, family=inet, 127.0.0.1:4433)".
    open var description: String {
        let peer = (try? getPeerName()).map { ", peer \($0)" } ?? ""
        return "\(type(of: self))(fd=\(fileno()), family=\(family.rawValue), type=\(descType.rawValue)\(peer))"
    }

    // MARK: system calls with deadlines

    static func wait(_ fd: Int32, _ events: Int16, _ deadline: Deadline, _ op: String) throws {
        var p = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let rc = Glibc.poll(&p, 1, deadline.pollMilliseconds)
            if rc > 0 { return }
            if rc == 0 { throw deadline.expiredError(op) }
            if errno == EINTR { continue }
            throw SocketError(errno: errno, "poll")
        }
    }

    func wait(_ fd: Int32, _ events: Int16, _ deadline: Deadline, _ op: String) throws {
        try Socket.wait(fd, events, deadline, op)
    }

    /// recv(2) within a deadline; empty at end of stream.
    static func systemRecv(_ fd: Int32, _ amount: Int, _ deadline: Deadline) throws -> [UInt8] {
        let size = Swift.max(1, amount)
        var buf = [UInt8](repeating: 0, count: size)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, size, Int32(MSG_DONTWAIT)) }
            if n >= 0 { buf.removeSubrange(n...); return buf }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try wait(fd, Int16(POLLIN), deadline, "recv")
            default: throw SocketError(errno: errno, "recv")
            }
        }
    }

    /// send(2) within a deadline; with `once`, returns after the first progress.
    /// On timeout the error says nothing about a partial send: callers that need
    /// to know use `systemSendProgress`.
    static func systemSend(_ fd: Int32, _ data: ArraySlice<UInt8>, _ deadline: Deadline, once: Bool) throws -> Int {
        var sent = 0
        try systemSendProgress(fd, data, deadline, once: once, sent: &sent)
        return sent
    }

    static func systemSendProgress(_ fd: Int32, _ data: ArraySlice<UInt8>, _ deadline: Deadline, once: Bool, sent: inout Int) throws {
        while sent < data.count {
            let n = data.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n > 0 {
                sent += n
                if once { return }
                continue
            }
            if n < 0 {
                switch errno {
                case EINTR: continue
                case EAGAIN, EWOULDBLOCK: try wait(fd, Int16(POLLOUT), deadline, "send"); continue
                default: throw SocketError(errno: errno, "send")
                }
            }
        }
    }
}

/// The object `makefile` returns: reads and writes through its socket.
public final class SocketFile: Sequence {
    /// The socket underneath.
    public let socket: Socket
    /// The mode it was made with ("r", "w", "rw", "rb", ...).
    public let mode: String
    /// True after `close` (the socket itself stays open).
    public private(set) var closed = false

    init(socket: Socket, mode: String) {
        self.socket = socket
        self.mode = mode
    }

    /// `size` bytes (everything until end of stream when negative).
    public func read(_ size: Int = -1) throws -> [UInt8] { try socket.read(size) }
    /// One line with its newline; empty at end of stream.
    public func readline(_ size: Int = -1) throws -> [UInt8] { try socket.readline(size) }
    /// All remaining lines.
    public func readlines(_ sizehint: Int = 0) throws -> [[UInt8]] { try socket.readlines(sizehint) }
    /// Sends all of `data`.
    public func write(_ data: [UInt8]) throws { try socket.sendall(data) }
    /// Sends the UTF-8 bytes of `text`.
    public func write(_ text: String) throws { try socket.sendall(Array(text.utf8)) }
    /// Writes go out immediately; nothing to do.
    public func flush() {}
    /// Marks the file closed; the socket stays open.
    public func close() { closed = true }
    /// Lines until end of stream.
    public func makeIterator() -> AnyIterator<[UInt8]> { socket.makeIterator() }
}
