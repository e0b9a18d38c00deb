import Foundation
import TLSCrypto
import TLSRecord
import TLSHandshake
import TLSSocket
import X509

// tls-client: connects to HOST:PORT with our stack. See --help.

let usage = """
usage: tls-client HOST:PORT [--servername N] [--cafile F | --insecure] [--cert F --key F [--pass P]]
                  [--tls1_2|--tls1_3] [--ciphers S] [--groups S] [--key-shares S] [--alpn LIST] [--get PATH]
                  [--keyupdate] [--renegotiate] [--wait SEC] [--keylog FILE] [--record FILE] [--quiet]
                  [--sess-out FILE] [--sess-in FILE] [--early-data FILE] [--no-session-cache] [--status]
                  [--record-size-limit N] [--psk-modes psk_dhe_ke:psk_ke] [--ocsp-policy hand-over|verify|require]
  Sends standard input (or an HTTP GET for PATH), prints what comes back, then a status
  block (protocol, cipher, group, ALPN, peer subject and issuer, verification, resumed).
  --status asks for a stapled OCSP response; --ocsp-policy says what is done with it: verify
  (the default: checked against the verified issuer; revoked or forged fails, none is fine),
  require (must-staple: only a good answer passes; implies --status) or hand-over (printed only).
  --psk-modes: the TLS 1.3 PSK modes offered with --sess-in (default psk_dhe_ke; psk_ke
  lets the server resume without (EC)DHE).
  Exits 0 on success, 1 on a TLS or certificate failure (named), 2 on bad usage.
"""

func die(_ message: String, _ code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("tls-client: \(message)\n".utf8))
    exit(code)
}

var target: String? = nil
var config = TLSConfiguration()
var caFile: String? = nil
var insecure = false
var certFile: String? = nil, keyFile: String? = nil, passphrase: String? = nil
var getPath: String? = nil
var keyUpdate = false, renegotiate = false, quiet = false
var wait = 5.0
var keylogPath: String? = nil, recordPath: String? = nil
var sessOut: String? = nil, sessIn: String? = nil, earlyDataFile: String? = nil

var args = Array(CommandLine.arguments.dropFirst())
func value(_ flag: String) -> String {
    guard !args.isEmpty else { die("\(flag) needs a value", 2) }
    return args.removeFirst()
}
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--servername": config.serverName = value(a)
    case "--cafile": caFile = value(a)
    case "--insecure": insecure = true
    case "--cert": certFile = value(a)
    case "--key": keyFile = value(a)
    case "--pass": passphrase = value(a)
    case "--tls1_2": config.minVersion = .tls12; config.maxVersion = .tls12
    case "--tls1_3": config.minVersion = .tls13; config.maxVersion = .tls13
    case "--ciphers": do { config.cipherSuites = try ToolOptions.cipherSuites(value(a)) } catch { die("\(error)", 2) }
    case "--groups": do { config.groups = try ToolOptions.groups(value(a)); config.keyShareGroups = [config.groups[0]] } catch { die("\(error)", 2) }
    case "--psk-modes": do { config.pskKeyExchangeModes = try ToolOptions.pskModes(value(a)) } catch { die("\(error)", 2) }
    case "--key-shares": do { config.keyShareGroups = try ToolOptions.groups(value(a)) } catch { die("\(error)", 2) }
    case "--alpn": config.alpnProtocols = ToolOptions.alpn(value(a))
    case "--get": getPath = value(a)
    case "--keyupdate": keyUpdate = true
    case "--renegotiate": renegotiate = true
    case "--wait": guard let w = Double(value(a)) else { die("bad --wait", 2) }; wait = w
    case "--keylog": keylogPath = value(a)
    case "--record": recordPath = value(a)
    case "--quiet", "-q": quiet = true
    case "--sess-out": sessOut = value(a)
    case "--sess-in": sessIn = value(a)
    case "--early-data": earlyDataFile = value(a)
    case "--no-session-cache": config.sessionCacheDisabled = true
    case "--status": config.requestOCSPStapling = true
    case "--ocsp-policy":
        switch value(a) {
        case "hand-over": config.stapledOCSPPolicy = .handOver
        case "verify": config.stapledOCSPPolicy = .verifyIfPresent
        case "require": config.stapledOCSPPolicy = .require; config.requestOCSPStapling = true
        default: die("--ocsp-policy is hand-over, verify or require", 2)
        }
    case "--record-size-limit": guard let n = Int(value(a)), n >= 64 else { die("bad --record-size-limit", 2) }; config.recordSizeLimit = n
    case "-h", "--help": print(usage); exit(0)
    default:
        if a.hasPrefix("-") || target != nil { die("unknown argument \(a)\n\(usage)", 2) }
        target = a
    }
}
guard let target else { die(usage, 2) }
let (host, port): (String, UInt16)
do { (host, port) = try ToolOptions.hostPort(target) } catch { die("\(error)", 2) }
if config.serverName == nil { config.serverName = host }
if let sessIn {
    do { config.resumeSession = try SessionFile.parse(String(contentsOfFile: sessIn, encoding: .utf8)) }
    catch { die("\(sessIn): \(error)", 2) }
}
if let earlyDataFile {
    guard let d = FileManager.default.contents(atPath: earlyDataFile) else { die("cannot read \(earlyDataFile)", 2) }
    config.earlyData = Array(d)
}

if insecure {
    config.verifyPeer = false
    config.peerVerifier = X509PeerVerifier(trustStore: nil)
} else if let caFile {
    do { config.peerVerifier = X509PeerVerifier(trustStore: try TrustStore(pemFile: caFile)) } catch { die("\(caFile): \(error)", 2) }
}
if let certFile {
    do { config.certificates = [try CertifiedKey.load(certificateFile: certFile, keyFile: keyFile, passphrase: passphrase)] }
    catch { die("\(error)", 2) }
}
let recorder = recordPath != nil ? TraceRecorder() : nil
if let keylogPath {
    FileManager.default.createFile(atPath: keylogPath, contents: nil)
    let handle = FileHandle(forWritingAtPath: keylogPath)
    config.keyLog = { label, random, secret in
        handle?.write(Data("\(label) \(random.hexString) \(secret.hexString)\n".utf8))
        recorder?.secret(label: label, value: secret)
    }
} else if let recorder {
    config.keyLog = { label, _, secret in recorder.secret(label: label, value: secret) }
}

let socket: POSIXSocket
do { socket = try POSIXSocket.connect(host: host, port: port, timeout: 30) } catch { die("\(error)") }
let random = RecordingRandom()
let stream = TLSStream(socket: socket, role: .client, config: config, random: random)
if let recorder {
    stream.connection.onHandshakeMessage = { sent, raw in recorder.message(sent: sent, role: .client, raw: raw) }
    stream.onWire = { sent, bytes in recorder.wire(sent: sent, role: .client, bytes: bytes) }
}

func writeCapture() {
    guard let recorder, let recordPath else { return }
    recorder.add("param", "client_random_stream", random.handedOut)
    try? recorder.render(header: "capture by tls-client (client side) of \(target)").write(toFile: recordPath, atomically: true, encoding: .utf8)
}

var received: [UInt8] = []
func drain(_ seconds: Double) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        guard let chunk = try stream.readAvailable(timeout: max(0, deadline.timeIntervalSinceNow)) else { return }
        received += chunk
        if !chunk.isEmpty { FileHandle.standardOutput.write(Data(chunk)) }
    }
}

do {
    try stream.handshake()
    // Early data the server refused is sent again now, as ordinary data (RFC 8446 4.2.10).
    if stream.connection.negotiated?.earlyDataAccepted == false { try stream.write(config.earlyData) }
    if keyUpdate { try stream.connection.updateKeys(requestPeerUpdate: true) }
    if renegotiate {
        if stream.connection.negotiated?.version == .tls12 { try stream.connection.renegotiate() }
        else { try stream.connection.updateKeys(requestPeerUpdate: true) }
    }
    if keyUpdate || renegotiate {
        // Sent on its own, a moment before any data: some servers (OpenSSL's s_server -www) wait on
        // the socket after handling a KeyUpdate and miss data that arrived in the same segment.
        try stream.flushPending()
        usleep(100_000)
    }
    let payload: [UInt8]
    if let getPath {
        payload = Array("GET \(getPath) HTTP/1.0\r\nHost: \(config.serverName ?? host)\r\n\r\n".utf8)
    } else {
        payload = Array(FileHandle.standardInput.readDataToEndOfFile())
    }
    // Send in 16 KiB pieces, reading whatever comes back meanwhile so an echoing peer never blocks.
    var offset = 0
    while offset < payload.count {
        let end = min(payload.count, offset + 16384)
        try stream.write(Array(payload[offset..<end]))
        offset = end
        while let chunk = try stream.readAvailable(timeout: 0), !chunk.isEmpty {
            received += chunk
            FileHandle.standardOutput.write(Data(chunk))
        }
    }
    if payload.isEmpty { try stream.write([]) }
    try drain(wait)
    stream.close()
} catch {
    writeCapture()
    if let n = stream.connection.failure { die("\(n)") }
    die("\(error)")
}
writeCapture()

let c = stream.connection
if let sessOut {
    guard let s = c.currentSession else { die("the server gave no resumable session (no ticket or session ID)") }
    do { try SessionFile.render(s).write(toFile: sessOut, atomically: true, encoding: .utf8) } catch { die("\(sessOut): \(error)") }
}
if !quiet, let n = c.negotiated {
    var lines = ["", "---",
                 "protocol: \(n.version.openSSLName)",
                 "cipher: \(n.cipherSuite.name)",
                 "group: \(n.group?.description ?? "none")",
                 "signature scheme: \(n.signatureScheme?.description ?? "none")",
                 "alpn: \(n.alpn ?? "none")"]
    if let p = n.peer {
        lines += ["peer subject: \(p.subject)", "peer issuer: \(p.issuer)", "verification: \(p.verdict)"]
    }
    let early = n.earlyDataAccepted.map { $0 ? "accepted" : "rejected" } ?? "not sent"
    lines += ["hello retry: \(n.usedHelloRetryRequest ? "yes" : "no")",
              "resumed: \(n.resumed ? "yes" : "no")",
              "early data: \(early)",
              "ocsp response: \(n.ocspResponse.map { "\($0.count) bytes" } ?? "none")",
              "ocsp status: \(ocspStatusText(n.ocspStatus))",
              "record size limit: \(c.recordSizeLimits.map { "peer \($0.peer), ours \($0.ours)" } ?? "none")",
              "bytes received: \(received.count)"]
    print(lines.joined(separator: "\n"))
}
exit(0)

func ocspStatusText(_ status: StapledOCSPStatus?) -> String {
    switch status {
    case nil: return "not requested"
    case .notChecked(let why)?: return "not checked (\(why))"
    case .absent?: return "none usable"
    case .unknown?: return "unknown"
    case .good(let thisUpdate, let nextUpdate)?:
        return "good (this update \(thisUpdate)" + (nextUpdate.map { ", next update \($0))" } ?? ")")
    }
}
