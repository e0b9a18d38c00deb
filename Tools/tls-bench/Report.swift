import Foundation
import TLSHandshake

/// Everything measured in one run, as a text table or JSON.
struct Report {
    struct HandshakeRow {
        var name: String
        var ours: HandshakeResult
        var openssl: (rate: Double, negotiated: String, allocations: Double)?
        /// Sum of the public-key operations the handshake needs (µs), measured in this run
        /// (0 for a TLS 1.2 ticket resumption, which needs none).
        var floorMicroseconds: Double? { ours.floorMicroseconds ?? (name.contains("1.2") && name.hasPrefix("resumed") ? 0 : nil) }
        /// CPU time beyond them (µs): the median of per-handshake differences.
        var overheadMicroseconds: Double? { ours.overheadMicroseconds ?? floorMicroseconds.map { ours.rate.microseconds - $0 } }
    }
    struct BulkRow {
        var suite: CipherSuite
        var ours: BulkResult
        var openssl: (megabytesPerSecond: Double, allocationsPerRecord: Double)?
        /// libgcrypt seal + open of one record, in place (MB/s of plaintext).
        var ceiling: Double
    }
    struct MemoryRow {
        var name: String
        var afterTraffic: Bool
        var ours: MemoryResult
        var openssl: (client: Double, server: Double)?
    }

    var smoke: Bool
    var budget: Budget
    var opensslVersion: String?
    var countingWorks = false
    var floor: PublicKeyFloor?
    var handshakes: [HandshakeRow] = []
    var bulk: [BulkRow] = []
    var memory: [MemoryRow] = []
    var wallSeconds = 0.0

    static let memoryTarget = 13.0 * 1024

    // MARK: - targets

    struct Target { var name: String; var met: Bool; var detail: String }

    var targets: [Target] {
        var t: [Target] = []
        for row in bulk where row.suite.aead != .aes256GCM {
            let vsCeiling = row.ours.megabytesPerSecond / row.ceiling
            t.append(Target(name: "bulk \(row.suite.name) >= 0.9x libgcrypt seal+open", met: vsCeiling >= 0.9,
                            detail: String(format: "%.2fx", vsCeiling)))
            if let o = row.openssl {
                let vs = row.ours.megabytesPerSecond / o.megabytesPerSecond
                t.append(Target(name: "bulk \(row.suite.name) >= 1.4x OpenSSL", met: vs >= 1.4, detail: String(format: "%.2fx", vs)))
            }
        }
        for row in handshakes where row.name.hasPrefix("full") {
            if let over = row.overheadMicroseconds {
                t.append(Target(name: "\(row.name): CPU beyond public-key ops <= 100 µs", met: over <= 100,
                                detail: String(format: "%.0f µs", over)))
            }
        }
        for row in handshakes where row.name.contains("TLS 1.2") && row.name.hasPrefix("resumed") {
            if let o = row.openssl {
                let vs = row.ours.rate.perSecond / o.rate
                t.append(Target(name: "TLS 1.2 ticket resumption >= 2x OpenSSL", met: vs >= 2, detail: String(format: "%.2fx", vs)))
            }
        }
        for row in memory where !row.afterTraffic {
            let worst = max(row.ours.clientBytes, row.ours.serverBytes)
            t.append(Target(name: "memory \(row.name) <= 13 KiB per side", met: worst <= Report.memoryTarget,
                            detail: String(format: "client %.1f KiB, server %.1f KiB", row.ours.clientBytes / 1024, row.ours.serverBytes / 1024)))
        }
        if !bulk.isEmpty {
            let worst = bulk.map { $0.ours.rate.allocationsPerIteration }.max() ?? 0
            t.append(Target(name: "zero heap allocations per record (steady state)", met: countingWorks && worst == 0,
                            detail: countingWorks ? String(format: "worst %.2f per record", worst) : "allocation counting unavailable"))
        }
        return t
    }

    // MARK: - text

    func text() -> String {
        var out = ""
        func line(_ s: String = "") { out += s + "\n" }
        func table(_ header: [String], _ rows: [[String]]) {
            line("| " + header.joined(separator: " | ") + " |")
            line("|" + header.map { _ in "---" }.joined(separator: "|") + "|")
            for r in rows { line("| " + r.joined(separator: " | ") + " |") }
            line()
        }
        func f(_ v: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", v) }
        func ratio(_ a: Double, _ b: Double?) -> String { b.map { $0 > 0 ? String(format: "%.2fx", a / $0) : "-" } ?? "-" }

        if smoke { line("SMOKE RUN: every workload ran very briefly; the figures mean nothing.\n") }
        line("OpenSSL: \(opensslVersion ?? "not run"); libgcrypt through TLSCrypto; one thread, client and server in one process, joined by memory.")
        line(String(format: "Rates are per CPU second (best of %d rounds of %.2f s).", budget.reps, budget.seconds / Double(budget.reps)))
        line()
        if let p = floor {
            line("Public-key operations (libgcrypt via TLSCrypto; the handshake floor is built from these):")
            table(["operation", "ops/s", "µs"], [
                ["X25519 key generation", f(p.x25519Generate.perSecond), f(p.x25519Generate.microseconds, 1)],
                ["X25519 shared secret", f(p.x25519Shared.perSecond), f(p.x25519Shared.microseconds, 1)],
                ["ECDSA P-256 sign (SHA-256, RFC 6979)", f(p.ecdsaSign.perSecond), f(p.ecdsaSign.microseconds, 1)],
                ["ECDSA P-256 verify", f(p.ecdsaVerify.perSecond), f(p.ecdsaVerify.microseconds, 1)],
                ["RSA-2048 sign (\(p.rsaScheme))", f(p.rsaSign.perSecond), f(p.rsaSign.microseconds, 1)],
                ["RSA-2048 verify (\(p.rsaScheme))", f(p.rsaVerify.perSecond), f(p.rsaVerify.microseconds, 1)],
            ])
        }
        if !handshakes.isEmpty {
            line("Handshakes (client + server pair, per CPU second). Floor: the public-key operations the handshake needs")
            line("(full: 2 X25519 key generations + 2 shared secrets + 1 signature + 1 verification; resumed 1.3: the X25519 part; 1.2 ticket: none),")
            line("done through TLSCrypto right after each handshake. hs/s: the best round's mean; µs, floor and overhead: medians over all handshakes")
            line("(handshake, op time, handshake - op time), so a load change on the machine hits both halves of a sample alike.")
            table(["workload", "ours hs/s", "OpenSSL hs/s", "ours/OpenSSL", "ceiling hs/s (1/floor)", "ours/ceiling",
                   "ours µs", "floor µs", "overhead µs", "allocs/hs ours", "allocs/hs OpenSSL", "negotiated"],
                  handshakes.map { r in
                      let ceil = r.floorMicroseconds.flatMap { $0 > 0 ? 1e6 / $0 : nil }
                      return [r.name, f(r.ours.rate.perSecond), r.openssl.map { f($0.rate) } ?? "-", ratio(r.ours.rate.perSecond, r.openssl?.rate),
                              ceil.map { f($0) } ?? "-", ratio(r.ours.medianMicroseconds.map { 1e6 / $0 } ?? r.ours.rate.perSecond, ceil),
                              f(r.ours.medianMicroseconds ?? r.ours.rate.microseconds, 1), r.floorMicroseconds.map { f($0, 1) } ?? "-",
                              r.overheadMicroseconds.map { f($0, 1) } ?? "-",
                              f(r.ours.rate.allocationsPerIteration, 0), r.openssl.map { f($0.allocations, 0) } ?? "-", r.ours.negotiated]
                  })
        }
        if !bulk.isEmpty {
            line("Bulk: 16 KiB writes one way (client -> server, both in one thread), MB/s of plaintext (10^6 B).")
            line("Ceiling: libgcrypt's own AEAD sealing then opening one 16 KiB record in place.")
            table(["suite", "ours MB/s", "OpenSSL MB/s", "ours/OpenSSL", "ceiling MB/s", "ours/ceiling", "allocs/record ours", "allocs/record OpenSSL"],
                  bulk.map { r in
                      [r.suite.name, f(r.ours.megabytesPerSecond), r.openssl.map { f($0.megabytesPerSecond) } ?? "-",
                       ratio(r.ours.megabytesPerSecond, r.openssl?.megabytesPerSecond), f(r.ceiling),
                       ratio(r.ours.megabytesPerSecond, r.ceiling), countingWorks ? f(r.ours.rate.allocationsPerIteration, 2) : "n/a",
                       r.openssl.map { f($0.allocationsPerRecord, 2) } ?? "-"]
                  })
        }
        if !memory.isEmpty {
            line("Memory: heap bytes (mallinfo2) per idle established connection, \(memory.first?.ours.connections ?? 0) pairs held open.")
            line("OpenSSL's figure excludes its BIO pair (the transport), measured separately and subtracted.")
            table(["state", "ours client", "ours server", "OpenSSL client", "OpenSSL server"],
                  memory.map { r in
                      [r.name, f(r.ours.clientBytes), f(r.ours.serverBytes), r.openssl.map { f($0.client) } ?? "-",
                       r.openssl.map { f($0.server) } ?? "-"]
                  })
        }
        let t = targets
        if !t.isEmpty {
            line("Targets:")
            table(["target", "figure", "met"], t.map { [$0.name, $0.detail, $0.met ? "yes" : "NO"] })
        }
        line(String(format: "Total wall time: %.1f s.", wallSeconds))
        return out
    }

    // MARK: - JSON

    func json() -> String {
        var root: [String: Any] = [
            "smoke": smoke, "openssl": opensslVersion ?? NSNull(), "seconds_per_workload": budget.seconds, "rounds": budget.reps,
            "allocation_counting": countingWorks, "wall_seconds": wallSeconds,
        ]
        if let p = floor {
            func op(_ r: Rate) -> [String: Any] { ["per_second": r.perSecond, "microseconds": r.microseconds] }
            root["public_key"] = ["x25519_generate": op(p.x25519Generate), "x25519_shared": op(p.x25519Shared),
                                  "ecdsa_p256_sign": op(p.ecdsaSign), "ecdsa_p256_verify": op(p.ecdsaVerify),
                                  "rsa2048_sign": op(p.rsaSign), "rsa2048_verify": op(p.rsaVerify), "rsa_scheme": "\(p.rsaScheme)"]
        }
        root["handshakes"] = handshakes.map { r -> [String: Any] in
            var d: [String: Any] = ["name": r.name, "ours_per_second": r.ours.rate.perSecond,
                                    "ours_microseconds": r.ours.medianMicroseconds ?? r.ours.rate.microseconds,
                                    "ours_allocations": r.ours.rate.allocationsPerIteration, "negotiated": r.ours.negotiated,
                                    "iterations": r.ours.rate.iterations]
            if let o = r.openssl { d["openssl_per_second"] = o.rate; d["openssl_negotiated"] = o.negotiated; d["openssl_allocations"] = o.allocations; d["ratio_openssl"] = r.ours.rate.perSecond / o.rate }
            if let fl = r.floorMicroseconds {
                d["floor_microseconds"] = fl
                d["overhead_microseconds"] = r.overheadMicroseconds ?? (r.ours.rate.microseconds - fl)
                if fl > 0 { d["ceiling_per_second"] = 1e6 / fl }
            }
            return d
        }
        root["bulk"] = bulk.map { r -> [String: Any] in
            var d: [String: Any] = ["suite": r.suite.name, "ours_mb_per_second": r.ours.megabytesPerSecond, "ceiling_mb_per_second": r.ceiling,
                                    "ratio_ceiling": r.ours.megabytesPerSecond / r.ceiling,
                                    "ours_allocations_per_record": r.ours.rate.allocationsPerIteration, "records": r.ours.rate.iterations]
            if let o = r.openssl {
                d["openssl_mb_per_second"] = o.megabytesPerSecond
                d["openssl_allocations_per_record"] = o.allocationsPerRecord
                d["ratio_openssl"] = r.ours.megabytesPerSecond / o.megabytesPerSecond
            }
            return d
        }
        root["memory"] = memory.map { r -> [String: Any] in
            var d: [String: Any] = ["state": r.name, "connections": r.ours.connections, "ours_client_bytes": r.ours.clientBytes,
                                    "ours_server_bytes": r.ours.serverBytes]
            if let o = r.openssl { d["openssl_client_bytes"] = o.client; d["openssl_server_bytes"] = o.server }
            return d
        }
        root["targets"] = targets.map { ["name": $0.name, "met": $0.met, "figure": $0.detail] }
        let data = try! JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
