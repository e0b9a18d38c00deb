import Foundation
import TLSCrypto
import TLSRecord
import TLSHandshake

/// Parsing shared by the command-line tools: colon-separated cipher and group
/// lists, comma-separated ALPN lists. Unknown names are errors, never skipped.
public enum ToolOptions {
    /// Colon-separated suite names (IANA or OpenSSL).
    public static func cipherSuites(_ list: String) throws -> [CipherSuite] {
        let names = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        var out: [CipherSuite] = []
        for n in names {
            guard let s = CipherSuite(name: n) else { throw SocketError(message: "unknown cipher suite \(n)") }
            out.append(s)
        }
        guard !out.isEmpty else { throw SocketError(message: "empty cipher list") }
        return out
    }

    /// Colon-separated group names.
    public static func groups(_ list: String) throws -> [NamedGroup] {
        var out: [NamedGroup] = []
        for n in list.split(separator: ":") {
            guard let g = NamedGroup(name: String(n)) else { throw SocketError(message: "unknown group \(n)") }
            out.append(g)
        }
        guard !out.isEmpty else { throw SocketError(message: "empty group list") }
        return out
    }

    /// Colon-separated TLS 1.3 PSK modes, in preference order: psk_dhe_ke, psk_ke.
    public static func pskModes(_ list: String) throws -> [PSKKeyExchangeMode] {
        var out: [PSKKeyExchangeMode] = []
        for n in list.split(separator: ":") {
            let mode: PSKKeyExchangeMode
            switch n {
            case "psk_dhe_ke": mode = .pskDHE
            case "psk_ke": mode = .psk
            default: throw SocketError(message: "unknown PSK mode \(n) (psk_dhe_ke, psk_ke)")
            }
            guard !out.contains(mode) else { throw SocketError(message: "PSK mode \(n) given twice") }
            out.append(mode)
        }
        guard !out.isEmpty else { throw SocketError(message: "empty PSK mode list") }
        return out
    }

    /// Comma-separated ALPN protocol names.
    public static func alpn(_ list: String) -> [String] {
        list.split(separator: ",").map(String.init).filter { !$0.isEmpty }
    }

    /// Splits "host:port", "[v6]:port".
    public static func hostPort(_ s: String) throws -> (String, UInt16) {
        if s.hasPrefix("["), let close = s.firstIndex(of: "]") {
            let host = String(s[s.index(after: s.startIndex)..<close])
            let rest = s[s.index(after: close)...]
            guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()) else { throw SocketError(message: "bad address \(s)") }
            return (host, p)
        }
        guard let colon = s.lastIndex(of: ":"), let p = UInt16(s[s.index(after: colon)...]) else {
            throw SocketError(message: "expected HOST:PORT, got \(s)")
        }
        return (String(s[..<colon]), p)
    }
}

/// Records a handshake in the trace format of Spec/trace-format.md: the
/// randomness our side used, every handshake message, the secrets (from the
/// key log) and every record in both directions.
public final class TraceRecorder {
    /// The trace lines so far.
    public private(set) var lines: [String] = []
    private var counts: [String: Int] = [:]
    private var names = Set<String>()

    /// An empty trace.
    public init() {}

    private func unique(_ base: String) -> String {
        if !names.contains(base) { names.insert(base); return base }
        var i = 2
        while names.contains("\(base)_\(i)") { i += 1 }
        names.insert("\(base)_\(i)")
        return "\(base)_\(i)"
    }

    /// Adds a `kind name = hex` line (names made unique).
    public func add(_ kind: String, _ name: String, _ value: [UInt8]) {
        let n = unique(name)
        lines.append("\(kind) \(n) =" + (value.isEmpty ? "" : " \(value.hexString)"))
    }

    private var pending: [Bool: [UInt8]] = [:]

    /// Bytes as they crossed the socket; split here into whole records.
    public func wire(sent: Bool, role: TLSConnection.Role, bytes: [UInt8]) {
        var buffer = (pending[sent] ?? []) + bytes
        while buffer.count >= 5 {
            let length = Int(buffer[3]) << 8 | Int(buffer[4])
            guard buffer.count >= 5 + length else { break }
            record(sent: sent, role: role, bytes: Array(buffer[0..<(5 + length)]))
            buffer.removeFirst(5 + length)
        }
        pending[sent] = buffer
    }

    /// Adds a record line, named by the side that sent it.
    public func record(sent: Bool, role: TLSConnection.Role, bytes: [UInt8]) {
        let side = (sent == (role == .client)) ? "client" : "server"
        counts[side, default: 0] += 1
        add("record", "\(side)_\(counts[side] ?? 0)", bytes)
    }

    /// Adds a handshake message line, named after its type.
    public func message(sent: Bool, role: TLSConnection.Role, raw: [UInt8]) {
        let fromClient = sent == (role == .client)
        let type = raw.first.flatMap(HandshakeType.init(rawValue:))
        var name = type?.name ?? "unknown"
        switch type {
        case .finished?: name = fromClient ? "client_finished" : "server_finished"
        case .certificate?: name = fromClient ? "client_certificate" : "certificate"
        case .certificateVerify?: name = fromClient ? "client_certificate_verify" : "certificate_verify"
        case .serverHello? where raw.count > 38 && Array(raw[6..<38]) == helloRetryRequestRandom: name = "hello_retry_request"
        case .clientHello? where names.contains("client_hello"): name = "client_hello_2"
        default: break
        }
        add("message", name, raw)
    }

    /// Adds a secret from the key log, under the trace format's name.
    public func secret(label: String, value: [UInt8]) {
        let map = ["CLIENT_HANDSHAKE_TRAFFIC_SECRET": "client_handshake_traffic_secret",
                   "SERVER_HANDSHAKE_TRAFFIC_SECRET": "server_handshake_traffic_secret",
                   "CLIENT_TRAFFIC_SECRET_0": "client_application_traffic_secret_0",
                   "SERVER_TRAFFIC_SECRET_0": "server_application_traffic_secret_0",
                   "EXPORTER_SECRET": "exporter_master_secret", "CLIENT_RANDOM": "master_secret"]
        add("secret", map[label] ?? label.lowercased(), value)
    }

    /// The trace file text.
    public func render(header: String) -> String {
        "# \(header)\n" + lines.joined(separator: "\n") + "\n"
    }
}

/// A random source that remembers what it handed out, for captures.
public final class RecordingRandom: RandomSource {
    private let inner: RandomSource
    /// Every byte handed out so far.
    public private(set) var handedOut: [UInt8] = []
    /// Records what `inner` hands out.
    public init(_ inner: RandomSource = SystemRandom.shared) { self.inner = inner }
    /// Fills `buffer` from the inner source and records it.
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        inner.fill(buffer)
        handedOut.append(contentsOf: buffer)
    }
}

/// Session files for `tls-client --sess-out/--sess-in`: a PEM-style block
/// around the binary `StoredSession` (it holds the session secret: keep it private).
public enum SessionFile {
    static let label = "TLS SESSION"

    public static func render(_ session: StoredSession) -> String {
        let b64 = Data(session.encode()).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(b64)\n-----END \(label)-----\n"
    }

    public static func parse(_ text: String) throws -> StoredSession {
        guard let start = text.range(of: "-----BEGIN \(label)-----"), let end = text.range(of: "-----END \(label)-----"),
              start.upperBound <= end.lowerBound else {
            throw SocketError(message: "not a session file (no \(label) block)")
        }
        let body = text[start.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(body)) else { throw SocketError(message: "session file is not valid base64") }
        do { return try StoredSession(bytes: Array(data)) } catch { throw SocketError(message: "session file: \(error)") }
    }
}
