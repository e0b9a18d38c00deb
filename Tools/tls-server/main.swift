import Foundation
import TLSCrypto
import TLSRecord
import TLSHandshake
import TLSSocket
import X509
import TLSSessionCache

// tls-server: a TLS 1.3 / 1.2 server on our stack. See --help.

let usage = """
usage: tls-server [--host H] [--port P] [--cert F --key F [--pass P]]... [--cafile F --verify-client request|require]
                  [--tls1_2|--tls1_3] [--ciphers S] [--groups S] [--alpn LIST] [--www|--echo]
                  [--hrr] [--no-renegotiation] [--cert-out FILE] [--keylog FILE] [--record FILE] [--timeout SEC]
                  [--max-connections N] [--quiet] [--ticket-keys FILE] [--rotate-ticket-keys] [--no-tickets]
                  [--session-cache SIZE] [--max-early-data N] [--ocsp FILE] [--record-size-limit N]
                  [--max-concurrent N] [--psk-modes psk_dhe_ke:psk_ke]
  With no --cert, a self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1 is
  made at start and its PEM written to --cert-out (default ./tls-server-cert.pem).
  --www answers each HTTP request with a page describing the connection; --echo (the
  default) sends back what it receives; the line RENEGOTIATE makes the server renegotiate
  (TLS 1.2) or update keys (TLS 1.3). Prints "listening on HOST:PORT" when ready.
  Sessions: tickets (TLS 1.3 and RFC 5077) sealed under keys in --ticket-keys FILE (shared by
  every server process given the same file; --rotate-ticket-keys adds a new key to it and exits),
  or in memory; --no-tickets turns them off; --session-cache SIZE bounds the TLS 1.2 session-ID
  cache (0 = none). --max-early-data N accepts up to N bytes of 0-RTT data (single-use tickets).
  --psk-modes: TLS 1.3 PSK modes in preference order (default psk_dhe_ke; psk_ke resumes
  without (EC)DHE, for clients such as OpenSSL's -allow_no_dhe_kex).
  One thread per connection, at most --max-concurrent (default 4096) at once: past that, new
  connections wait in the listen queue until one ends (no thread or fd exhaustion).
"""

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tls-server: \(message)\n".utf8))
    exit(2)
}

var host = "127.0.0.1"
var port: UInt16 = 4433
var certFiles: [String] = [], keyFiles: [String] = [], passphrase: String? = nil
var caFile: String? = nil
var verifyClient: ClientAuthentication = .none
var config = TLSConfiguration()
var mode = "echo"
var certOut = "tls-server-cert.pem"
var keylogPath: String? = nil
var recordPath: String? = nil
var timeout = 30.0
var maxConnections = 0
var maxConcurrent = 4096
var quiet = false
var ticketKeyFile: String? = nil
var rotateKeys = false
var tickets = true
var sessionCacheSize = 20_000
var ocspFile: String? = nil

var args = Array(CommandLine.arguments.dropFirst())
func value(_ flag: String) -> String {
    guard !args.isEmpty else { fail("\(flag) needs a value") }
    return args.removeFirst()
}
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--host": host = value(a)
    case "--port", "-p": guard let p = UInt16(value(a)) else { fail("bad port") }; port = p
    case "--cert": certFiles.append(value(a))
    case "--key": keyFiles.append(value(a))
    case "--pass": passphrase = value(a)
    case "--cafile": caFile = value(a)
    case "--verify-client":
        switch value(a) {
        case "request": verifyClient = .request
        case "require": verifyClient = .require
        case let v: fail("--verify-client takes request or require, not \(v)")
        }
    case "--tls1_2": config.minVersion = .tls12; config.maxVersion = .tls12
    case "--tls1_3": config.minVersion = .tls13; config.maxVersion = .tls13
    case "--ciphers": do { config.cipherSuites = try ToolOptions.cipherSuites(value(a)) } catch { fail("\(error)") }
    case "--groups": do { config.groups = try ToolOptions.groups(value(a)) } catch { fail("\(error)") }
    case "--alpn": config.alpnProtocols = ToolOptions.alpn(value(a))
    case "--www": mode = "www"
    case "--echo": mode = "echo"
    case "--hrr": config.insistOnPreferredGroup = true
    case "--no-renegotiation": config.allowRenegotiation = false
    case "--cert-out": certOut = value(a)
    case "--keylog": keylogPath = value(a)
    case "--record": recordPath = value(a)
    case "--timeout": guard let t = Double(value(a)) else { fail("bad timeout") }; timeout = t
    case "--max-connections": guard let n = Int(value(a)) else { fail("bad count") }; maxConnections = n
    case "--max-concurrent": guard let n = Int(value(a)), n > 0 else { fail("bad --max-concurrent") }; maxConcurrent = n
    case "--quiet", "-q": quiet = true
    case "--ticket-keys": ticketKeyFile = value(a)
    case "--ocsp": ocspFile = value(a)
    case "--record-size-limit": guard let n = Int(value(a)), n >= 64 else { fail("bad --record-size-limit") }; config.recordSizeLimit = n
    case "--rotate-ticket-keys": rotateKeys = true
    case "--no-tickets": tickets = false
    case "--psk-modes": do { config.pskKeyExchangeModes = try ToolOptions.pskModes(value(a)) } catch { fail("\(error)") }
    case "--session-cache": guard let n = Int(value(a)), n >= 0 else { fail("bad --session-cache") }; sessionCacheSize = n
    case "--max-early-data": guard let n = UInt32(value(a)) else { fail("bad --max-early-data") }; config.maxEarlyDataSize = n
    case "-h", "--help": print(usage); exit(0)
    default: fail("unknown option \(a)\n\(usage)")
    }
}

// Sessions.
if rotateKeys {
    guard let ticketKeyFile else { fail("--rotate-ticket-keys needs --ticket-keys FILE") }
    do { try TicketKeyRing(file: ticketKeyFile).rotate(); print("rotated \(ticketKeyFile)"); exit(0) } catch { fail("\(error)") }
}
if tickets {
    do { config.ticketProtector = try ticketKeyFile.map { try TicketKeyRing(file: $0) } ?? TicketKeyRing() }
    catch { fail("\(ticketKeyFile ?? ""): \(error)") }
} else {
    config.sessionTicketCount = 0
}
if sessionCacheSize > 0 { config.serverSessionStore = MemoryServerSessionStore(capacity: sessionCacheSize) }
if config.maxEarlyDataSize > 0 { config.antiReplay = SingleUseTicketRegistry() }

// Certificates.
if certFiles.isEmpty {
    do {
        let made = try SelfSignedCertificate.make(now: Int64(Date().timeIntervalSince1970))
        config.certificates = [try CertifiedKey(certificates: [made.certificate], privateKey: made.privateKey)]
        try made.pem.write(toFile: certOut, atomically: true, encoding: .utf8)
        if !quiet { print("self-signed certificate written to \(certOut)") }
    } catch { fail("cannot make a self-signed certificate: \(error)") }
} else {
    for (i, certFile) in certFiles.enumerated() {
        do {
            config.certificates.append(try CertifiedKey.load(certificateFile: certFile, keyFile: i < keyFiles.count ? keyFiles[i] : nil,
                                                             passphrase: passphrase))
        } catch { fail("\(error)") }
    }
}
if let ocspFile {
    guard let der = FileManager.default.contents(atPath: ocspFile) else { fail("cannot read \(ocspFile)") }
    for i in config.certificates.indices { config.certificates[i].ocspResponse = Array(der) }
}
if verifyClient != .none {
    config.clientAuthentication = verifyClient
    guard let caFile else { fail("--verify-client needs --cafile") }
    do {
        let store = try TrustStore(pemFile: caFile)
        config.peerVerifier = X509PeerVerifier(trustStore: store)
        config.certificateAuthorities = store.certificates.map { $0.subject.der }
    } catch { fail("\(caFile): \(error)") }
}
let keylogLock = NSLock()
if let keylogPath {
    FileManager.default.createFile(atPath: keylogPath, contents: nil)
    let handle = FileHandle(forWritingAtPath: keylogPath)
    config.keyLog = { label, random, secret in
        keylogLock.lock(); defer { keylogLock.unlock() }
        handle?.write(Data("\(label) \(random.hexString) \(secret.hexString)\n".utf8))
    }
}

let listener: POSIXSocket
do { listener = try POSIXSocket.listen(host: host, port: port, backlog: 1024) } catch { fail("\(error)") }
print("listening on \(host):\(listener.localPort)")
fflush(stdout)

let baseConfig = config

func describe(_ c: TLSConnection) -> String {
    guard let n = c.negotiated else { return "no handshake" }
    var lines = ["protocol: \(n.version.openSSLName)", "cipher: \(n.cipherSuite.name)",
                 "group: \(n.group?.description ?? "none")", "alpn: \(n.alpn ?? "none")",
                 "server name: \(n.serverName ?? "none")", "hello retry: \(n.usedHelloRetryRequest ? "yes" : "no")",
                 "resumed: \(n.resumed ? "yes" : "no")",
                 "early data: \(n.earlyDataAccepted.map { $0 ? "accepted" : "rejected" } ?? "none")",
                 "record size limit: \(c.recordSizeLimits.map { "peer \($0.peer), ours \($0.ours)" } ?? "none")"]
    if let p = n.peer {
        lines.append("client certificate: \(p.subject) (issuer \(p.issuer), \(p.verdict))")
    } else {
        lines.append("client certificate: none")
    }
    return lines.joined(separator: "\n")
}

func serve(_ socket: POSIXSocket, id: Int) {
    var cfg = baseConfig
    let recorder = recordPath != nil ? TraceRecorder() : nil
    if let recorder {
        let log = cfg.keyLog
        cfg.keyLog = { label, random, secret in log?(label, random, secret); recorder.secret(label: label, value: secret) }
    }
    try? socket.setTimeout(timeout)
    let random = RecordingRandom()
    let stream = TLSStream(socket: socket, role: .server, config: cfg, random: random)
    if let recorder {
        stream.connection.onHandshakeMessage = { sent, raw in recorder.message(sent: sent, role: .server, raw: raw) }
        stream.onWire = { sent, bytes in recorder.wire(sent: sent, role: .server, bytes: bytes) }
    }
    defer {
        stream.close()
        socket.close()
        if let recorder, let recordPath {
            recorder.add("param", "server_random_stream", random.handedOut)
            try? recorder.render(header: "capture by tls-server (server side), connection \(id)").write(toFile: recordPath, atomically: true, encoding: .utf8)
        }
    }
    do {
        try stream.handshake()
        if !quiet { print("[\(id)] handshake: \(describe(stream.connection).replacingOccurrences(of: "\n", with: ", "))") }
        switch mode {
        case "www":
            var request: [UInt8] = []
            while !(request.count >= 4 && Array(request.suffix(4)) == Array("\r\n\r\n".utf8)) &&
                    !(request.count >= 2 && Array(request.suffix(2)) == Array("\n\n".utf8)) {
                guard let chunk = try stream.read() else { return }
                request += chunk
                if request.count > 65536 { return }
            }
            let body = "<html><body><pre>\n\(describe(stream.connection))\n</pre></body></html>\n"
            let response = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            try stream.write(Array(response.utf8))
        default:
            while let chunk = try stream.read() {
                // Echo first: some clients refuse data that follows a HelloRequest.
                try stream.write(chunk)
                if chunk == Array("RENEGOTIATE\n".utf8) {
                    if stream.connection.negotiated?.version == .tls12 { try stream.connection.renegotiate() }
                    else { try stream.connection.updateKeys(requestPeerUpdate: true) }
                    try stream.flushPending()
                }
            }
        }
    } catch {
        if !quiet { print("[\(id)] connection failed: \(error)") }
    }
}

var served = 0
let slots = DispatchSemaphore(value: maxConcurrent)
while true {
    slots.wait()
    let client: POSIXSocket
    do { client = try listener.accept() } catch {
        slots.signal()
        if !quiet { print("accept failed: \(error)") }
        // EMFILE/ENFILE: back off instead of spinning on a full descriptor table.
        usleep(10_000)
        continue
    }
    served += 1
    let id = served
    if maxConnections > 0 && served >= maxConnections {
        serve(client, id: id)
        break
    }
    Thread.detachNewThread { serve(client, id: id); slots.signal() }
}
