import CTLSBenchOpenSSL
import TLSCrypto
import TLSHandshake
import TLSRecord

/// One workload, `iterations` times, no timing: run under
/// `valgrind --tool=callgrind` (instruction counts do not depend on load).
/// The setup (credentials, the first connection) happens before; divide the
/// total by the iterations, or compare two runs with different counts.
func runProfile(_ setup: Setup, _ workload: String, iterations: Int) throws {
    let once = Budget(seconds: 0, reps: 1, minIterations: iterations)
    func full(_ v: ProtocolVersion, rsa: Bool, resume: Bool) throws {
        _ = try handshakes(setup, version: v, rsa: rsa, resume: resume, budget: once)
    }
    switch workload {
    case "full13-ecdsa": try full(.tls13, rsa: false, resume: false)
    case "full13-rsa": try full(.tls13, rsa: true, resume: false)
    case "full12-ecdsa": try full(.tls12, rsa: false, resume: false)
    case "full12-rsa": try full(.tls12, rsa: true, resume: false)
    case "resume13": try full(.tls13, rsa: false, resume: true)
    case "resume12": try full(.tls12, rsa: false, resume: true)
    case "floor-ecdsa", "floor-rsa":
        let rsa = workload == "floor-rsa"
        let random = SystemRandom.shared
        let key = try (rsa ? setup.rsa : setup.ecdsa).privateKey()
        let alg: SignatureAlgorithm = rsa ? .rsaPSS(.sha256, saltLength: nil) : .ecdsa(.sha256)
        let content = [UInt8](repeating: 0x20, count: 130)
        for _ in 0..<iterations {
            let a = try KeyAgreementGroup.x25519.generate(random: random)
            let b = try KeyAgreementGroup.x25519.generate(random: random)
            _ = try a.sharedSecret(peerPublicKey: b.publicKeyBytes)
            _ = try b.sharedSecret(peerPublicKey: a.publicKeyBytes)
            let sig = try key.sign(message: content, algorithm: alg)
            try key.publicKey.verify(signature: sig, message: content, algorithm: alg)
        }
    // Building blocks, to time natively (`time tls-bench --profile hkdf --iterations 100000`).
    case "hkdf":
        let secret = [UInt8](repeating: 3, count: 32)
        for _ in 0..<iterations { _ = TLS13KDF.expandLabel(.sha256, secret: secret, label: "key", context: [], length: 16) }
    case "hmac":
        let key = [UInt8](repeating: 3, count: 32)
        for _ in 0..<iterations { _ = HMAC.authenticate(.sha256, key: key, message: key) }
    case "sha256":
        let data = [UInt8](repeating: 3, count: 32)
        for _ in 0..<iterations { _ = Digest.hash(.sha256, data) }
    case "random32":
        for _ in 0..<iterations { _ = SystemRandom.shared.bytes(32) }
    case "aeadkey":
        let key = [UInt8](repeating: 3, count: 16)
        for _ in 0..<iterations { _ = try AEADKey(.aes128GCM, key: key) }
    case "heap":
        // Heap bytes of the pieces a connection holds.
        func per(_ name: String, _ make: () throws -> Any) rethrows {
            Heap.trim()
            let h0 = Heap.inUse
            var keep: [Any] = []
            keep.reserveCapacity(iterations)
            for _ in 0..<iterations { keep.append(try make()) }
            print(name, (Heap.inUse - h0) / iterations, "bytes each")
            withExtendedLifetime(keep) {}
        }
        let (c12, s12) = setup.configs(version: .tls12, credential: setup.ecdsa)
        let (c13, s13) = setup.configs(version: .tls13, credential: setup.ecdsa)
        try per("AEADKey AES-128-GCM") { try AEADKey(.aes128GCM, key: [UInt8](repeating: 1, count: 16)) }
        try per("AEADKey ChaCha20-Poly1305") { try AEADKey(.chacha20Poly1305, key: [UInt8](repeating: 1, count: 32)) }
        try per("RecordCipher TLS 1.3 AES-128-GCM") { try RecordCipher.tls13(.aes128GCM, key: [UInt8](repeating: 1, count: 16), iv: [UInt8](repeating: 1, count: 12)) }
        per("Digest SHA-256") { Digest(.sha256) }
        per("HMAC SHA-256") { HMAC(.sha256, key: [1]) }
        per("TLSConnection client 1.3, unstarted") { TLSConnection(role: .client, config: c13) }
        per("TLSConnection server 1.3, unstarted") { TLSConnection(role: .server, config: s13) }
        per("TLSConnection client 1.2, unstarted") { TLSConnection(role: .client, config: c12) }
        try per("TLSConnection client 1.3, started") { let t = TLSConnection(role: .client, config: c13); try t.start(); return t }
        for (name, c, s) in [("1.3", c13, s13), ("1.2", c12, s12)] {
            var pairs: [MemoryPair] = []
            Heap.trim()
            let h0 = Heap.inUse
            for _ in 0..<iterations { let p = MemoryPair(c, s); try p.handshake(); pairs.append(p) }
            let h1 = Heap.inUse
            print("established pair \(name)", (h1 - h0) / iterations, "bytes each")
        }
    case let w where w.hasPrefix("bulk-"):
        guard let suite = CipherSuite.allCases.first(where: { $0.name == String(w.dropFirst(5)) }) else {
            throw BenchError("unknown suite in \(w)")
        }
        _ = try bulk(setup, suite: suite, budget: Budget(seconds: 0, reps: 1, minIterations: iterations))
    case let w where w.hasPrefix("ossl-"):
        let rest = String(w.dropFirst(5))
        switch rest {
        case "full13-ecdsa": _ = ossl_bench_handshakes(13, 0, 0, 0, 1, Int32(iterations))
        case "full13-rsa": _ = ossl_bench_handshakes(13, 1, 0, 0, 1, Int32(iterations))
        case "full12-ecdsa": _ = ossl_bench_handshakes(12, 0, 0, 0, 1, Int32(iterations))
        case "full12-rsa": _ = ossl_bench_handshakes(12, 1, 0, 0, 1, Int32(iterations))
        case "resume13": _ = ossl_bench_handshakes(13, 0, 1, 0, 1, Int32(iterations))
        case "resume12": _ = ossl_bench_handshakes(12, 0, 1, 0, 1, Int32(iterations))
        default: throw BenchError("unknown workload \(w)")
        }
    default:
        throw BenchError("unknown workload \(workload)")
    }
}
