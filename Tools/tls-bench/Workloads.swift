import Foundation
import TLSCrypto
import TLSHandshake
import TLSRecord
import TLSSessionCache
import X509

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// The server's credentials and what a client needs to check them.
struct Credential {
    let name: String          // "ECDSA P-256" / "RSA-2048"
    let certified: CertifiedKey
    let certificatePath: String
    let keyPath: String

    /// The key loaded from `keyPath` (always present: these credentials are files).
    func privateKey() throws -> PrivateKey {
        guard let key = certified.privateKey else { throw BenchError("\(name): no private key loaded") }
        return key
    }
}

/// Fixed credentials written to a temporary directory (the OpenSSL side loads files too).
final class Setup {
    let directory: String
    let ecdsa: Credential
    let rsa: Credential
    let verifier: X509PeerVerifier
    /// Certificates are checked at this time (the certificates are valid 2026-2126).
    static let verifyTime: Int64 = 1_900_000_000

    init() throws {
        let dir = NSTemporaryDirectory() + "tls-bench-\(getpid())"
        directory = dir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws -> String {
            let path = dir + "/" + name
            try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let ec = (try write("ecdsa.pem", Credentials.ecdsaCertificate), try write("ecdsa.key", Credentials.ecdsaKey))
        let rs = (try write("rsa.pem", Credentials.rsaCertificate), try write("rsa.key", Credentials.rsaKey))
        ecdsa = Credential(name: "ECDSA P-256", certified: try CertifiedKey.load(certificateFile: ec.0, keyFile: ec.1),
                           certificatePath: ec.0, keyPath: ec.1)
        rsa = Credential(name: "RSA-2048", certified: try CertifiedKey.load(certificateFile: rs.0, keyFile: rs.1),
                         certificatePath: rs.0, keyPath: rs.1)
        let anchors = try [ecdsa, rsa].map { try Certificate(derEncoded: $0.certified.chain[0]) }
        verifier = X509PeerVerifier(trustStore: TrustStore(certificates: anchors))
        verifier.time = Setup.verifyTime
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }

    func credential(rsa useRSA: Bool) -> Credential { useRSA ? rsa : ecdsa }

    /// Configurations for one workload. Tickets only when resuming; X25519 only.
    func configs(version: ProtocolVersion, credential: Credential, suites: [CipherSuite]? = nil,
                 resume: Bool = false) -> (client: TLSConfiguration, server: TLSConfiguration) {
        var server = TLSConfiguration()
        server.minVersion = version; server.maxVersion = version
        server.certificates = [credential.certified]
        server.groups = [.x25519]
        if let suites { server.cipherSuites = suites }
        var client = TLSConfiguration()
        client.minVersion = version; client.maxVersion = version
        client.serverName = "localhost"
        client.peerVerifier = verifier
        // x25519 for the key exchange; P-256 listed too, because a TLS 1.2 server may only use an
        // ECDSA certificate on a curve the client lists (RFC 8422 5.1).
        client.groups = [.x25519, .secp256r1]
        client.keyShareGroups = [.x25519]
        if let suites { client.cipherSuites = suites }
        if resume {
            server.ticketProtector = TicketKeyRing()
            server.sessionTicketCount = 1
            client.clientSessionStore = MemoryClientSessionStore()
            client.sessionKey = "localhost:443"
        } else {
            server.sessionTicketCount = 0
            client.sessionCacheDisabled = true
        }
        return (client, server)
    }
}

/// A client and a server joined by memory: what one sends, the other receives.
final class MemoryPair {
    let client: TLSConnection
    let server: TLSConnection
    private var wire: [UInt8] = []

    init(_ c: TLSConfiguration, _ s: TLSConfiguration) {
        client = TLSConnection(role: .client, config: c)
        server = TLSConnection(role: .server, config: s)
    }

    /// Moves bytes both ways until neither side has anything to send.
    func handshake() throws {
        try client.start()
        for _ in 0..<32 {
            var moved = false
            if client.hasOutput { moved = true; client.takeOutput(into: &wire); try server.receive(taking: &wire) }
            if server.hasOutput { moved = true; server.takeOutput(into: &wire); try client.receive(taking: &wire) }
            if !moved { break }
        }
        guard client.status == .established, server.status == .established else {
            throw BenchError("handshake did not complete: client \(client.status), server \(server.status)")
        }
    }

    /// Sends `data` from the client to the server and reads it there into
    /// `sink`, through the allocation-free calls: takeOutput(into:) and
    /// receive(taking:) swap buffers, read(into:) copies into the caller's.
    @inline(__always)
    func clientToServer(_ data: [UInt8], into sink: UnsafeMutableRawBufferPointer) throws {
        try transfer(data, from: client, to: server, into: sink)
    }

    func serverToClient(_ data: [UInt8], into sink: UnsafeMutableRawBufferPointer) throws {
        try transfer(data, from: server, to: client, into: sink)
    }

    @inline(__always)
    private func transfer(_ data: [UInt8], from a: TLSConnection, to b: TLSConnection, into sink: UnsafeMutableRawBufferPointer) throws {
        try a.write(data)
        a.takeOutput(into: &wire)
        try b.receive(taking: &wire)
        var got = 0
        while got < data.count {
            guard let n = b.read(into: UnsafeMutableRawBufferPointer(rebasing: sink[got...])), n > 0 else {
                throw BenchError("short read: \(got) of \(data.count)")
            }
            got += n
        }
    }
}

/// Public-key operations as the handshakes use them, through TLSCrypto.
struct PublicKeyFloor {
    var x25519Generate: Rate
    var x25519Shared: Rate
    var ecdsaSign: Rate
    var ecdsaVerify: Rate
    var rsaSign: Rate
    var rsaVerify: Rate
    var rsaScheme: SignatureScheme

    /// Two key generations, two shared secrets, one signature, one verification.
    func fullHandshake(rsa: Bool) -> Double {
        2 * x25519Generate.microseconds + 2 * x25519Shared.microseconds
            + (rsa ? rsaSign.microseconds + rsaVerify.microseconds : ecdsaSign.microseconds + ecdsaVerify.microseconds)
    }

    /// psk_dhe_ke: the ECDHE part only.
    var resumed13: Double { 2 * x25519Generate.microseconds + 2 * x25519Shared.microseconds }

    static func make(_ setup: Setup, budget: Budget, rsaScheme: SignatureScheme) throws -> PublicKeyFloor {
        let random = SystemRandom.shared
        let peer = try KeyAgreementGroup.x25519.generate(random: random).publicKeyBytes
        let mine = try KeyAgreementGroup.x25519.generate(random: random)
        // What CertificateVerify signs: 64 spaces, a context string, 0, a transcript hash.
        let content = [UInt8](repeating: 0x20, count: 64) + Array("TLS 1.3, server CertificateVerify".utf8) + [0]
            + Digest.hash(.sha256, [1, 2, 3])
        let ec = try setup.ecdsa.privateKey(), rs = try setup.rsa.privateKey()
        let ecSig = try ec.sign(message: content, algorithm: .ecdsa(.sha256))
        let rsSig = try rs.sign(message: content, algorithm: rsaScheme.algorithm)
        return PublicKeyFloor(
            x25519Generate: try measure(budget) { _ = try KeyAgreementGroup.x25519.generate(random: random) },
            x25519Shared: try measure(budget) { _ = try mine.sharedSecret(peerPublicKey: peer) },
            ecdsaSign: try measure(budget) { _ = try ec.sign(message: content, algorithm: .ecdsa(.sha256)) },
            ecdsaVerify: try measure(budget) { try ec.publicKey.verify(signature: ecSig, message: content, algorithm: .ecdsa(.sha256)) },
            rsaSign: try measure(budget) { _ = try rs.sign(message: content, algorithm: rsaScheme.algorithm) },
            rsaVerify: try measure(budget) { try rs.publicKey.verify(signature: rsSig, message: content, algorithm: rsaScheme.algorithm) },
            rsaScheme: rsaScheme)
    }
}

/// libgcrypt's own AEAD: seal then open one record in place, `size` bytes.
func aeadCeiling(_ algorithm: AEADAlgorithm, size: Int, aadLength: Int, budget: Budget) throws -> Rate {
    let key = try AEADKey(algorithm, key: [UInt8](repeating: 7, count: algorithm.keyLength))
    var buffer = [UInt8](repeating: 0x61, count: size)
    var tag = [UInt8](repeating: 0, count: 16)
    let nonce = [UInt8](repeating: 1, count: 12)
    let aad = [UInt8](repeating: 2, count: aadLength)
    return try buffer.withUnsafeMutableBytes { buf in
        try tag.withUnsafeMutableBytes { t in
            try nonce.withUnsafeBytes { n in
                try aad.withUnsafeBytes { a in
                    try measureBatched(budget, batch: 16) {
                        try key.seal(nonce: n, aad: a, buffer: buf, tag: t)
                        try key.open(nonce: n, aad: a, buffer: buf, tag: UnsafeRawBufferPointer(t))
                    }
                }
            }
        }
    }
}

struct HandshakeResult {
    var rate: Rate
    var negotiated: String
    var scheme: SignatureScheme?
    /// Median handshake time (µs) over all rounds, when a floor was timed beside it.
    var medianMicroseconds: Double?
    /// Median over iterations of the public-key operations done right after each handshake (µs).
    var floorMicroseconds: Double?
    /// Median over iterations of (handshake - those operations) (µs).
    var overheadMicroseconds: Double?
}

func describe(_ c: TLSConnection) -> String {
    guard let n = c.negotiated else { return "-" }
    var s = "\(n.version == .tls13 ? "TLSv1.3" : "TLSv1.2") \(n.cipherSuite.name) \(n.resumed ? "resumed" : "full")"
    if let g = n.group { s += " \(g)" }
    if let sig = n.signatureScheme { s += " \(sig)" }
    return s
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let v = values.sorted()
    return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
}

/// The public-key operations a handshake needs, done the way the handshake does them
/// (through TLSCrypto with the same keys), to be timed beside it.
func floorOperations(_ setup: Setup, rsa: Bool, scheme: SignatureScheme?, signature: Bool) throws -> () throws -> Void {
    let random = SystemRandom.shared
    let key = try setup.credential(rsa: rsa).privateKey()
    let publicKey = key.publicKey
    let algorithm = scheme?.algorithm ?? (rsa ? .rsaPSS(.sha256, saltLength: nil) : .ecdsa(.sha256))
    let content = [UInt8](repeating: 0x20, count: 64) + Array("TLS 1.3, server CertificateVerify".utf8) + [0]
        + Digest.hash(.sha256, [1, 2, 3])
    return {
        let a = try KeyAgreementGroup.x25519.generate(random: random)
        let b = try KeyAgreementGroup.x25519.generate(random: random)
        _ = try a.sharedSecret(peerPublicKey: b.publicKeyBytes)
        _ = try b.sharedSecret(peerPublicKey: a.publicKeyBytes)
        if signature {
            let sig = try key.sign(message: content, algorithm: algorithm)
            try publicKey.verify(signature: sig, message: content, algorithm: algorithm)
        }
    }
}

/// Full or resumed handshakes per CPU second, client and server in one thread.
/// With `floor`, each handshake is followed by the public-key operations it
/// needs, timed separately: the overhead is the median of the differences, so
/// a load change on the machine affects both halves of each sample alike.
func handshakes(_ setup: Setup, version: ProtocolVersion, rsa: Bool, resume: Bool, budget: Budget,
                floor: (() throws -> Void)? = nil, between: (() throws -> Void)? = nil) throws -> HandshakeResult {
    let (c, s) = setup.configs(version: version, credential: setup.credential(rsa: rsa), resume: resume)
    // Warm-up (and, when resuming, the client's first ticket).
    let first = MemoryPair(c, s)
    try first.handshake()
    var last = ""
    var scheme: SignatureScheme?
    var checked = false
    var best: Rate?
    var differences: [Double] = []
    var floors: [Double] = []
    var times: [Double] = []
    for _ in 0..<max(1, budget.reps) {
        var n = 0, spent = 0.0, allocations: UInt64 = 0
        let round = budget.seconds / Double(max(1, budget.reps))
        if floor == nil {
            // No per-handshake clock reads (CLOCK_PROCESS_CPUTIME_ID is a system call, ~1 µs).
            let a0 = Heap.allocations
            let t0 = Clock.cpu()
            while n < budget.minIterations || spent < round {
                for _ in 0..<8 {
                    let p = MemoryPair(c, s)
                    try p.handshake()
                    n += 1
                    if !checked {
                        checked = true
                        guard p.client.negotiated?.resumed == resume, p.server.negotiated?.resumed == resume else {
                            throw BenchError("expected resumed=\(resume), got \(p.client.negotiated?.resumed as Any)")
                        }
                        last = describe(p.client)
                        scheme = p.client.negotiated?.signatureScheme
                    }
                }
                spent = Clock.cpu() - t0
            }
            allocations = Heap.allocations - a0
        }
        while floor != nil && (n < budget.minIterations || spent < round) {
            // The operations run before the handshake on odd samples and after it on
            // even ones, so neither half always finds the caches the other left.
            var f = 0.0
            if n % 2 == 1, let floor {
                let t2 = Clock.cpu()
                try floor()
                f = Clock.cpu() - t2
            }
            let a0 = Heap.allocations
            let t0 = Clock.cpu()
            do {  // the pair is freed inside the timed part, as OpenSSL's is
                let p = MemoryPair(c, s)
                try p.handshake()
                if !checked {
                    checked = true
                    guard p.client.negotiated?.resumed == resume, p.server.negotiated?.resumed == resume else {
                        throw BenchError("expected resumed=\(resume), got \(p.client.negotiated?.resumed as Any)")
                    }
                    last = describe(p.client)
                    scheme = p.client.negotiated?.signatureScheme
                }
            }
            let t1 = Clock.cpu()
            allocations += Heap.allocations - a0
            spent += t1 - t0
            n += 1
            if let floor {
                if n % 2 == 1 {  // n was incremented above: this sample ran its floor after
                    let t2 = Clock.cpu()
                    try floor()
                    f = Clock.cpu() - t2
                }
                floors.append(f * 1e6)
                differences.append((t1 - t0 - f) * 1e6)
                times.append((t1 - t0) * 1e6)
            }
        }
        let r = Rate(iterations: n, cpuSeconds: spent, allocations: allocations)
        if best == nil || r.perSecond > best!.perSecond { best = r }
        try between?()
    }
    return HandshakeResult(rate: best!, negotiated: last, scheme: scheme,
                           medianMicroseconds: floor == nil ? nil : median(times),
                           floorMicroseconds: floor == nil ? nil : median(floors),
                           overheadMicroseconds: floor == nil ? nil : median(differences))
}

struct BulkResult {
    var rate: Rate       // iterations = records
    var negotiated: String
    var megabytesPerSecond: Double { rate.perSecond * Double(bulkWriteSize) / 1e6 }
}

let bulkWriteSize = 16384

/// One-way transfer of 16 KiB writes, client to server, both in this thread.
func bulk(_ setup: Setup, suite: CipherSuite, budget: Budget, between: (() throws -> Void)? = nil) throws -> BulkResult {
    let version: ProtocolVersion = suite.isTLS13 ? .tls13 : .tls12
    let (c, s) = setup.configs(version: version, credential: setup.ecdsa, suites: [suite])
    let p = MemoryPair(c, s)
    try p.handshake()
    let payload = [UInt8](repeating: 0x61, count: bulkWriteSize)
    var sink = [UInt8](repeating: 0, count: bulkWriteSize)
    let rate = try sink.withUnsafeMutableBytes { sinkBuffer in
        // A few records first: buffers reach their steady-state capacity.
        for _ in 0..<4 { try p.clientToServer(payload, into: sinkBuffer) }
        return try measureBatched(budget, batch: 8, between: between) { try p.clientToServer(payload, into: sinkBuffer) }
    }
    guard sink.allSatisfy({ $0 == 0x61 }) else { throw BenchError("payload corrupted") }
    return BulkResult(rate: rate, negotiated: describe(p.client))
}

struct MemoryResult {
    var clientBytes: Double
    var serverBytes: Double
    var connections: Int
}

/// Heap bytes held per idle established connection: N pairs are connected and
/// kept; the heap in use (mallinfo2) before, after, after dropping the servers,
/// and after dropping the clients gives each side's share. `traffic`: one 16 KiB
/// write each way first (buffers grown by a full record).
func memory(_ setup: Setup, version: ProtocolVersion, count: Int, traffic: Bool) throws -> MemoryResult {
    let (c, s) = setup.configs(version: version, credential: setup.ecdsa)
    let payload = [UInt8](repeating: 1, count: bulkWriteSize)
    var sink = [UInt8](repeating: 0, count: bulkWriteSize)
    // Warm up lazily built shared state (verifier caches, statics).
    do {
        let w = MemoryPair(c, s)
        try w.handshake()
        try sink.withUnsafeMutableBytes { try w.clientToServer(payload, into: $0) }
        try sink.withUnsafeMutableBytes { try w.serverToClient(payload, into: $0) }
    }
    var clients: [TLSConnection] = []
    var servers: [TLSConnection] = []
    clients.reserveCapacity(count)
    servers.reserveCapacity(count)
    Heap.trim()
    let h0 = Heap.inUse
    for _ in 0..<count {
        let p = MemoryPair(c, s)
        try p.handshake()
        if traffic {
            try sink.withUnsafeMutableBytes { try p.clientToServer(payload, into: $0) }
            try sink.withUnsafeMutableBytes { try p.serverToClient(payload, into: $0) }
        }
        clients.append(p.client)
        servers.append(p.server)
    }
    let h1 = Heap.inUse
    servers.removeAll(keepingCapacity: true)
    let h2 = Heap.inUse
    clients.removeAll(keepingCapacity: true)
    let h3 = Heap.inUse
    _ = h0
    return MemoryResult(clientBytes: Double(h2 - h3) / Double(count), serverBytes: Double(h1 - h2) / Double(count),
                        connections: count)
}
