#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Address families a socket can be made for: NSPR's `PR_AF_INET`,
/// `PR_AF_INET6` and `PR_AF_LOCAL` (a Unix-domain socket).
public enum AddressFamily: String, Sendable, CaseIterable {
    /// IPv4 (`PR_AF_INET`).
    case inet
    /// IPv6 (`PR_AF_INET6`).
    case inet6
    /// Unix-domain (`PR_AF_LOCAL`).
    case local

    var systemValue: Int32 {
        switch self {
        case .inet: return AF_INET
        case .inet6: return AF_INET6
        case .local: return AF_UNIX
        }
    }

    init?(systemValue: Int32) {
        switch systemValue {
        case AF_INET: self = .inet
        case AF_INET6: self = .inet6
        case AF_UNIX: self = .local
        default: return nil
        }
    }
}

/// Socket types: NSPR's `PR_DESC_SOCKET_TCP` and `PR_DESC_SOCKET_UDP`.
public enum SocketType: String, Sendable {
    /// A stream socket (`PR_DESC_SOCKET_TCP`; also used for Unix-domain streams).
    case tcp
    /// A datagram socket (`PR_DESC_SOCKET_UDP`). TLS runs over streams only.
    case udp

    var systemValue: Int32 {
        switch self {
        case .tcp: return Int32(SOCK_STREAM.rawValue)
        case .udp: return Int32(SOCK_DGRAM.rawValue)
        }
    }
}

/// A socket address: an IPv4 or IPv6 address with a port, or a Unix-domain
/// path. NSS's `NetworkAddress`, Python's address tuples.
public struct NetworkAddress: Hashable, Sendable, CustomStringConvertible {
    /// The family the address belongs to.
    public let family: AddressFamily
    /// The numeric IP address ("127.0.0.1", "::1"), or the path of a Unix-domain socket.
    public let host: String
    /// The port (0 for Unix-domain addresses).
    public let port: UInt16

    /// A numeric IPv4 or IPv6 address and a port. No name lookup: use
    /// `resolve(_:port:family:)` for host names.
    public init(_ ip: String, port: UInt16) throws {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, ip, &v4) == 1 {
            family = .inet
        } else if inet_pton(AF_INET6, ip, &v6) == 1 {
            family = .inet6
        } else {
            throw SSLError(.invalidArgument, "\(ip) is not a numeric IPv4 or IPv6 address")
        }
        self.host = ip
        self.port = port
    }

    /// A literal we know is valid: no parsing, nothing to fail.
    private init(family: AddressFamily, literal: String, port: UInt16) {
        self.family = family
        self.host = literal
        self.port = port
    }

    /// A Unix-domain address (`PR_AF_LOCAL`).
    public init(localPath path: String) {
        family = .local
        host = path
        port = 0
    }

    /// The address of every interface in `family` (INADDR_ANY / in6addr_any), for bind.
    public static func any(_ family: AddressFamily = .inet, port: UInt16 = 0) -> NetworkAddress {
        family == .inet6 ? NetworkAddress(family: .inet6, literal: "::", port: port)
                         : NetworkAddress(family: .inet, literal: "0.0.0.0", port: port)
    }

    /// The loopback address of `family` (127.0.0.1 or ::1).
    public static func loopback(_ family: AddressFamily = .inet, port: UInt16 = 0) -> NetworkAddress {
        family == .inet6 ? NetworkAddress(family: .inet6, literal: "::1", port: port)
                         : NetworkAddress(family: .inet, literal: "127.0.0.1", port: port)
    }

    /// Looks `host` up (getaddrinfo) and returns its stream addresses, optionally
    /// only those of one family. Throws when there is none.
    public static func resolve(_ host: String, port: UInt16, family: AddressFamily? = nil) throws -> [NetworkAddress] {
        var hints = addrinfo()
        hints.ai_family = family?.systemValue ?? AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw SSLError(.invalidArgument, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var out: [NetworkAddress] = []
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            if let addr = a.pointee.ai_addr, let na = NetworkAddress(sockaddr: addr, length: a.pointee.ai_addrlen), !out.contains(na) {
                out.append(na)
            }
            ai = a.pointee.ai_next
        }
        guard !out.isEmpty else { throw SSLError(.invalidArgument, "no address for \(host)") }
        return out
    }

    /// "127.0.0.1:443", "[::1]:443" or the Unix-domain path.
    public var description: String {
        switch family {
        case .inet: return "\(host):\(port)"
        case .inet6: return "[\(host)]:\(port)"
        case .local: return host
        }
    }

    // MARK: sockaddr conversion

    init?(sockaddr p: UnsafePointer<sockaddr>, length: socklen_t) {
        switch Int32(p.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(p).assumingMemoryBound(to: sockaddr_in.self).pointee
            var addr = sin.sin_addr
            var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &addr, &buf, socklen_t(buf.count)) != nil else { return nil }
            family = .inet
            host = String(cString: buf)
            port = UInt16(bigEndian: sin.sin_port)
        case AF_INET6:
            let sin6 = UnsafeRawPointer(p).assumingMemoryBound(to: sockaddr_in6.self).pointee
            var addr = sin6.sin6_addr
            var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &addr, &buf, socklen_t(buf.count)) != nil else { return nil }
            family = .inet6
            host = String(cString: buf)
            port = UInt16(bigEndian: sin6.sin6_port)
        case AF_UNIX:
            let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            let pathLength = max(0, Int(length) - offset)
            let raw = UnsafeRawPointer(p) + offset
            let bytes = UnsafeBufferPointer(start: raw.assumingMemoryBound(to: UInt8.self), count: pathLength)
            family = .local
            host = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            port = 0
        default:
            return nil
        }
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
        switch family {
        case .inet:
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &sin.sin_addr) == 1 else { throw SSLError(.invalidArgument, "bad IPv4 address \(host)") }
            return try withUnsafePointer(to: &sin) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .inet6:
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1 else { throw SSLError(.invalidArgument, "bad IPv6 address \(host)") }
            return try withUnsafePointer(to: &sin6) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        case .local:
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            let path = Array(host.utf8)
            let capacity = MemoryLayout.size(ofValue: sun.sun_path)
            guard path.count < capacity else { throw SSLError(.invalidArgument, "Unix-domain path too long (\(path.count) bytes)") }
            withUnsafeMutableBytes(of: &sun.sun_path) { raw in
                for (i, b) in path.enumerated() { raw[i] = b }
            }
            let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + path.count + 1
            return try withUnsafePointer(to: &sun) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(length)) }
            }
        }
    }
}
