// tls-bench: handshakes, bulk throughput, memory and allocations of this TLS
// stack, next to OpenSSL's (same workloads, linked in: CTLSBenchOpenSSL) and
// libgcrypt's raw speed (the ceiling). Client and server run in one process,
// one thread, joined by memory. Rates are per second of process CPU time.
//
//   tls-bench [--smoke] [--json] [--seconds S] [--connections N] [--only NAME,...] [--no-openssl]
import CBenchSupport
import CTLSBenchOpenSSL
import Foundation
import TLSCrypto
import TLSHandshake
import TLSRecord

struct Options {
    var smoke = false
    var json = false
    var seconds: Double?
    var rounds: Int?
    var connections: Int?
    var only: [String] = []
    var openssl = true
    /// Runs one workload `iterations` times, untimed, for callgrind/perf.
    var profile: String?
    var iterations = 100

    static func parse(_ args: [String]) -> Options {
        var o = Options()
        var i = 0
        func value() -> String {
            i += 1
            guard i < args.count else { fail("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--smoke": o.smoke = true
            case "--json": o.json = true
            case "--seconds": o.seconds = Double(value()) ?? { fail("--seconds wants a number") }()
            case "--rounds": o.rounds = Int(value()) ?? { fail("--rounds wants a number") }()
            case "--connections": o.connections = Int(value()) ?? { fail("--connections wants a number") }()
            case "--only": o.only = value().split(separator: ",").map(String.init)
            case "--no-openssl": o.openssl = false
            case "--profile": o.profile = value()
            case "--iterations": o.iterations = Int(value()) ?? { fail("--iterations wants a number") }()
            case "-h", "--help":
                print("""
                usage: tls-bench [--smoke] [--json] [--seconds S] [--rounds N] [--connections N] [--only GROUP,...] [--no-openssl]
                  --smoke        everything, very briefly (proves it works; figures meaningless)
                  --json         machine-readable output
                  --seconds S    CPU seconds per workload and side (default 1.5)
                  --rounds N     interleaved rounds per workload, the best counts (default 3)
                  --connections  connection pairs for the memory figure (default 1000)
                  --only         groups: pk, handshake, resume, bulk, memory
                  --profile W    run workload W --iterations N times, untimed (for valgrind --tool=callgrind):
                                 full13-ecdsa full13-rsa full12-ecdsa full12-rsa resume13 resume12 floor-ecdsa floor-rsa
                                 bulk-SUITE (e.g. bulk-TLS_AES_128_GCM_SHA256), ossl-full13-ecdsa, ossl-resume12, ...
                """)
                exit(0)
            default: fail("unknown option \(args[i])")
            }
            i += 1
        }
        return o
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(("tls-bench: " + message + "\n").data(using: .utf8)!)
    exit(2)
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
var budget = options.smoke ? Budget.smoke : Budget.full
if let s = options.seconds { budget.seconds = s }
if let r = options.rounds { budget.reps = max(1, r) }
let connections = options.connections ?? (options.smoke ? 20 : 1000)
func wanted(_ group: String) -> Bool { options.only.isEmpty || options.only.contains(group) }
func progress(_ s: String) { if !options.json { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) } }

let started = Clock.wall()
let setup: Setup
do { setup = try Setup() } catch { fail("setup: \(error)") }
defer { setup.cleanUp() }
if options.openssl {
    guard ossl_bench_init(setup.ecdsa.certificatePath, setup.ecdsa.keyPath, setup.rsa.certificatePath, setup.rsa.keyPath,
                          Setup.verifyTime) == 0 else { fail("OpenSSL initialisation failed") }
}

func openssl(_ body: () -> ossl_bench_result) -> ossl_bench_result? {
    guard options.openssl else { return nil }
    let r = body()
    guard r.ok != 0 else {
        let e = withUnsafeBytes(of: r.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        fail("OpenSSL workload failed: \(e)")
    }
    return r
}

/// The better of two OpenSSL rounds.
func best(_ a: ossl_bench_result?, _ b: ossl_bench_result?) -> ossl_bench_result? {
    guard let b else { return a }
    guard let a else { return b }
    return b.rate > a.rate ? b : a
}

/// Seconds per round: ours, OpenSSL's and the ceiling's rounds alternate.
var round: Double { budget.seconds / Double(max(1, budget.reps)) }

func cString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}

if let w = options.profile {
    do { try runProfile(setup, w, iterations: options.iterations) } catch { fail("\(error)") }
    setup.cleanUp()
    exit(0)
}

var report = Report(smoke: options.smoke, budget: budget)
report.opensslVersion = options.openssl ? String(cString: ossl_bench_version()) : nil
report.countingWorks = Heap.countingWorks

do {
    // The RSA scheme the handshakes negotiate decides which RSA operation the floor counts.
    var rsaScheme = SignatureScheme.rsaPSSRSAESHA256
    if wanted("handshake") || wanted("pk") {
        progress("public-key operations (libgcrypt through TLSCrypto) ...")
        report.floor = try PublicKeyFloor.make(setup, budget: budget, rsaScheme: rsaScheme)
    }
    if wanted("handshake") {
        for (version, rsa) in [(ProtocolVersion.tls13, false), (.tls13, true), (.tls12, false), (.tls12, true)] {
            let name = "full TLS \(version == .tls13 ? "1.3" : "1.2") x25519 + \(rsa ? "RSA-2048" : "ECDSA P-256")"
            progress(name + " ...")
            // The scheme this pair negotiates decides which signature the floor counts.
            let probe = try handshakes(setup, version: version, rsa: rsa, resume: false, budget: Budget(seconds: 0, reps: 1, minIterations: 1))
            let ops = try floorOperations(setup, rsa: rsa, scheme: probe.scheme, signature: true)
            var theirs: ossl_bench_result?
            let ours = try handshakes(setup, version: version, rsa: rsa, resume: false, budget: budget, floor: ops, between: {
                theirs = best(theirs, openssl { ossl_bench_handshakes(version == .tls13 ? 13 : 12, rsa ? 1 : 0, 0, round, 1, Int32(budget.minIterations)) })
            })
            if rsa, let s = ours.scheme, s != rsaScheme {
                rsaScheme = s
                report.floor = try PublicKeyFloor.make(setup, budget: budget, rsaScheme: rsaScheme)
            }
            report.handshakes.append(.init(name: name, ours: ours, openssl: theirs.map { ($0.rate, cString($0.negotiated), $0.allocations_per_op) }))
        }
    }
    if wanted("resume") {
        for version in [ProtocolVersion.tls13, .tls12] {
            let name = version == .tls13 ? "resumed TLS 1.3 (ticket, psk_dhe_ke)" : "resumed TLS 1.2 (RFC 5077 ticket)"
            progress(name + " ...")
            let ops = version == .tls13 ? try floorOperations(setup, rsa: false, scheme: nil, signature: false) : nil
            var theirs: ossl_bench_result?
            let ours = try handshakes(setup, version: version, rsa: false, resume: true, budget: budget, floor: ops, between: {
                theirs = best(theirs, openssl { ossl_bench_handshakes(version == .tls13 ? 13 : 12, 0, 1, round, 1, Int32(budget.minIterations)) })
            })
            report.handshakes.append(.init(name: name, ours: ours, openssl: theirs.map { ($0.rate, cString($0.negotiated), $0.allocations_per_op) }))
        }
    }
    if wanted("bulk") {
        let suites: [CipherSuite] = [.tlsAES128GCMSHA256, .tlsAES256GCMSHA384, .tlsCHACHA20POLY1305SHA256,
                                     .ecdheECDSAWithAES128GCMSHA256, .ecdheECDSAWithAES256GCMSHA384, .ecdheECDSAWithCHACHA20POLY1305SHA256]
        var ceilings: [AEADAlgorithm: Rate] = [:]
        for suite in suites {
            progress("bulk \(suite.name) ...")
            var theirs: ossl_bench_result?
            var ceiling: Rate?
            let oneRound = Budget(seconds: round, reps: 1, minIterations: budget.minIterations)
            let ours = try bulk(setup, suite: suite, budget: budget, between: {
                let c = try aeadCeiling(suite.aead, size: bulkWriteSize, aadLength: 13, budget: oneRound)
                if ceiling == nil || c.perSecond > ceiling!.perSecond { ceiling = c }
                theirs = best(theirs, openssl { ossl_bench_bulk(suite.isTLS13 ? 13 : 12, suite.openSSLName, bulkWriteSize, round, 1, 16) })
            })
            if ceilings[suite.aead] == nil || ceiling!.perSecond > ceilings[suite.aead]!.perSecond { ceilings[suite.aead] = ceiling }
            report.bulk.append(.init(suite: suite, ours: ours, openssl: theirs.map { ($0.rate, $0.allocations_per_op) },
                                     ceiling: ceiling!.perSecond * Double(bulkWriteSize) / 1e6))
        }
    }
    if wanted("memory") {
        for (version, traffic) in [(ProtocolVersion.tls13, false), (.tls12, false), (.tls13, true)] {
            let name = "TLS \(version == .tls13 ? "1.3" : "1.2") idle" + (traffic ? ", after 16 KiB each way" : ", after the handshake")
            progress("memory: \(name) (\(connections) pairs) ...")
            let ours = try memory(setup, version: version, count: connections, traffic: traffic)
            let theirs = openssl { ossl_bench_memory(version == .tls13 ? 13 : 12, Int32(connections), traffic ? 1 : 0, bulkWriteSize) }
            report.memory.append(.init(name: name, afterTraffic: traffic, ours: ours,
                                       openssl: theirs.map { ($0.client_bytes, $0.server_bytes) }))
        }
    }
} catch {
    fail("\(error)")
}
report.wallSeconds = Clock.wall() - started
if options.json {
    print(report.json())
} else {
    print(report.text())
}
