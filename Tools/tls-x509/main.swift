// tls-x509: look at certificates and verify chains with the X509 module.
//
//   tls-x509 show FILE [--json]
//   tls-x509 verify LEAF [--untrusted FILE]... [--cafile FILE] [--capath DIR]
//                        [--hostname NAME] [--time UNIX] [--purpose server|client]
//                        [--max-depth N] [--min-rsa-bits N] [--allow-cn-fallback] [--json]
//   tls-x509 verify --batch   (JSON lines on stdin, one result line per request)
//
// Exit status: 0 OK, 1 verification failed (or a file did not parse), 2 usage error.
import Foundation
import TLSCrypto
import X509

let usage = """
usage: tls-x509 show FILE [--json]
       tls-x509 verify LEAF [--untrusted FILE]... [--cafile FILE] [--capath DIR] [--hostname NAME]
                            [--time UNIX] [--purpose server|client] [--max-depth N]
                            [--min-rsa-bits N] [--allow-cn-fallback] [--json]
       tls-x509 verify --batch [--min-rsa-bits N] [--allow-cn-fallback]
"""

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

func writeOut(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
}

func jsonLine(_ object: Any) -> String {
    guard JSONSerialization.isValidJSONObject(object),
          let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
        return "{\"ok\":false,\"reason\":\"internal_error\"}"
    }
    return String(decoding: data, as: UTF8.self)
}

func readBytes(_ path: String) -> [UInt8] {
    guard let d = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)", code: 1) }
    return [UInt8](d)
}

func loadCertificates(_ path: String) -> [Certificate] {
    do { return try Certificate.parseMany(readBytes(path)) } catch { fail("\(path): \(error)", code: 1) }
}

// MARK: show

func hexColons(_ b: [UInt8]) -> String { b.map { String(format: "%02X", $0) }.joined(separator: ":") }

func describe(_ e: Extension, in cert: Certificate) -> String {
    switch e.oid {
    case .basicConstraints:
        guard let bc = cert.basicConstraints else { return "" }
        return "CA:\(bc.isCA ? "TRUE" : "FALSE")" + (bc.pathLength.map { ", pathlen:\($0)" } ?? "")
    case .keyUsage: return cert.keyUsage?.description ?? ""
    case .extKeyUsage: return (cert.extendedKeyUsage ?? []).map(\.description).joined(separator: ", ")
    case .subjectAltName: return (cert.subjectAlternativeNames ?? []).map(\.description).joined(separator: ", ")
    case .issuerAltName: return (cert.issuerAlternativeNames ?? []).map(\.description).joined(separator: ", ")
    case .subjectKeyIdentifier: return hexColons(cert.subjectKeyIdentifier ?? [])
    case .authorityKeyIdentifier:
        guard let aki = cert.authorityKeyIdentifier else { return "" }
        var parts: [String] = []
        if let k = aki.keyIdentifier { parts.append("keyid:" + hexColons(k)) }
        if let i = aki.authorityCertIssuer { parts.append("issuer:" + i.map(\.description).joined(separator: ",")) }
        if let s = aki.authorityCertSerialNumber { parts.append("serial:" + hexColons(s)) }
        return parts.joined(separator: ", ")
    case .nameConstraints:
        guard let nc = cert.nameConstraints else { return "" }
        var parts: [String] = []
        if !nc.permitted.isEmpty { parts.append("permitted " + nc.permitted.map(\.description).joined(separator: ", ")) }
        if !nc.excluded.isEmpty { parts.append("excluded " + nc.excluded.map(\.description).joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    case .certificatePolicies:
        return (cert.certificatePolicies ?? []).map(\.policy.dotted).joined(separator: ", ")
    case .authorityInfoAccess:
        return (cert.authorityInfoAccess ?? []).map { "\($0.method) - \($0.location)" }.joined(separator: ", ")
    default:
        return "\(e.value.count) bytes" + (cert.unhandledCriticalExtensions.contains(e.oid) ? " (critical, not supported)" : "")
    }
}

func showCertificate(_ cert: Certificate) -> [String: Any] {
    var exts: [[String: Any]] = []
    for e in cert.extensions {
        exts.append(["oid": e.oid.dotted, "name": e.oid.description, "critical": e.critical, "value": describe(e, in: cert)])
    }
    return [
        "version": cert.version,
        "serial": cert.serialNumberHex,
        "signature_algorithm": cert.signatureAlgorithm.description,
        "issuer": cert.issuer.rfc4514String,
        "subject": cert.subject.rfc4514String,
        "not_before": cert.notBefore.description,
        "not_after": cert.notAfter.description,
        "public_key": cert.publicKeyInfo.algorithm.description,
        "public_key_bits": cert.publicKeyInfo.keySizeBits,
        "extensions": exts,
        "sha256_fingerprint": cert.sha256Fingerprint.hexString,
    ]
}

func runShow(_ args: [String]) -> Never {
    var json = false
    var file: String? = nil
    for a in args {
        if a == "--json" { json = true } else if a.hasPrefix("-") { fail(usage) } else if file == nil { file = a } else { fail(usage) }
    }
    guard let path = file else { fail(usage) }
    let certs = loadCertificates(path)
    if json {
        let objects = certs.map(showCertificate)
        let out: Any = objects.count == 1 ? objects[0] : ["certificates": objects] as [String: Any]
        writeOut(jsonLine(out))
        exit(0)
    }
    for (i, cert) in certs.enumerated() {
        if i > 0 { writeOut("") }
        writeOut("Certificate:")
        writeOut("  Version: \(cert.version)")
        writeOut("  Serial: \(hexColons(cert.serialNumber))")
        writeOut("  Signature algorithm: \(cert.signatureAlgorithm)")
        writeOut("  Issuer: \(cert.issuer.rfc4514String)")
        writeOut("  Validity: \(cert.notBefore) .. \(cert.notAfter)")
        writeOut("  Subject: \(cert.subject.rfc4514String)")
        writeOut("  Public key: \(cert.publicKeyInfo.algorithm) (\(cert.publicKeyInfo.keySizeBits) bits)")
        if !cert.extensions.isEmpty {
            writeOut("  Extensions:")
            for e in cert.extensions {
                writeOut("    \(e.oid)\(e.critical ? " (critical)" : ""): \(describe(e, in: cert))")
            }
        }
        writeOut("  SHA-256 fingerprint: \(hexColons(cert.sha256Fingerprint))")
    }
    exit(0)
}

// MARK: verify

func parsePurpose(_ s: String) -> CertificatePurpose? {
    switch s {
    case "server", "sslserver": return .server
    case "client", "sslclient": return .client
    case "any": return .any
    default: return nil
    }
}

func runVerify(_ args: [String]) -> Never {
    var leafPath: String? = nil
    var untrusted: [String] = []
    var cafile: String? = nil
    var capath: String? = nil
    var hostname: String? = nil
    var time: X509Time? = nil
    var purpose = CertificatePurpose.server
    var policy = VerificationPolicy()
    var json = false
    var batch = false
    var i = 0
    func value() -> String {
        i += 1
        guard i < args.count else { fail("\(args[i - 1]) needs a value\n" + usage) }
        return args[i]
    }
    while i < args.count {
        let a = args[i]
        switch a {
        case "--untrusted": untrusted.append(value())
        case "--cafile", "--CAfile": cafile = value()
        case "--capath", "--CApath": capath = value()
        case "--hostname": hostname = value()
        case "--time":
            guard let t = Int64(value()) else { fail("--time takes Unix seconds") }
            time = X509Time(secondsSinceEpoch: t)
        case "--purpose":
            guard let p = parsePurpose(value()) else { fail("--purpose is server or client") }
            purpose = p
        case "--max-depth":
            guard let n = Int(value()), n >= 0 else { fail("--max-depth takes a number") }
            policy.maximumIntermediates = n
        case "--min-rsa-bits":
            guard let n = Int(value()), n >= 0 else { fail("--min-rsa-bits takes a number") }
            policy.minimumRSAKeyBits = n
        case "--allow-cn-fallback": policy.allowCommonNameFallback = true
        case "--json": json = true
        case "--batch": batch = true
        default:
            if a.hasPrefix("-") || leafPath != nil { fail(usage) }
            leafPath = a
        }
        i += 1
    }
    if batch {
        guard leafPath == nil else { fail("--batch reads requests from stdin; no LEAF argument") }
        runBatch(basePolicy: policy)
    }
    guard let leafFile = leafPath else { fail(usage) }

    // A LEAF file may hold the leaf followed by its chain (fullchain.pem).
    let leafCerts = loadCertificates(leafFile)
    var pool = Array(leafCerts.dropFirst())
    for u in untrusted { pool += loadCertificates(u) }
    var store = TrustStore()
    do {
        if let f = cafile { store.add(contentsOf: try TrustStore(pemFile: f).certificates) }
        if let d = capath { store.add(contentsOf: try TrustStore(directory: d).certificates) }
        if cafile == nil && capath == nil { store = try TrustStore.system() }
    } catch {
        fail("trust store: \(error)", code: 1)
    }
    let verifier = CertificateVerifier(trustStore: store, policy: policy)
    do {
        let chain = try verifier.verify(leaf: leafCerts[0], intermediates: pool, hostname: hostname, purpose: purpose, time: time)
        if json {
            writeOut(jsonLine(["ok": true, "reason": "ok", "chain": chain.certificates.map(\.subject.rfc4514String)]))
        } else {
            writeOut("OK")
            for (d, c) in chain.certificates.enumerated() {
                FileHandle.standardError.write(Data("depth \(d): \(c.subject)\n".utf8))
            }
        }
        exit(0)
    } catch let e as CertificateVerificationError {
        if json {
            var o: [String: Any] = ["ok": false, "reason": e.reason.rawValue, "detail": e.detail]
            if let d = e.depth { o["depth"] = d }
            writeOut(jsonLine(o))
        } else {
            writeOut(e.reason.rawValue)
            FileHandle.standardError.write(Data("\(e.detail)\n".utf8))
        }
        exit(1)
    } catch {
        fail("\(error)", code: 1)
    }
}

// MARK: batch

/// Parsed PEM texts, shared by the requests of one batch (bundles repeat a lot).
final class PEMCache {
    private var cache: [String: Result<[Certificate], Error>] = [:]
    func certificates(_ pem: String) throws -> [Certificate] {
        if let hit = cache[pem] { return try hit.get() }
        let r = Result { try Certificate.parseMany(pem: pem) }
        if cache.count > 20_000 { cache.removeAll() }
        cache[pem] = r
        return try r.get()
    }
}

struct RequestError: Error { let message: String }

func runBatch(basePolicy: VerificationPolicy) -> Never {
    let pems = PEMCache()
    var verifiers: [String: CertificateVerifier] = [:]
    while let line = readLine(strippingNewline: true) {
        if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
        var id: Any = NSNull()
        do {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]),
                  let req = obj as? [String: Any] else {
                throw RequestError(message: "the line is not a JSON object")
            }
            id = req["id"] ?? NSNull()
            guard let leafPEM = req["leaf"] as? String else { throw RequestError(message: "\"leaf\" must be PEM text") }
            func pemList(_ key: String) throws -> [String] {
                guard let v = req[key], !(v is NSNull) else { return [] }
                guard let list = v as? [Any] else { throw RequestError(message: "\"\(key)\" must be a list of PEM texts") }
                return try list.map {
                    guard let s = $0 as? String else { throw RequestError(message: "\"\(key)\" must hold PEM texts") }
                    return s
                }
            }
            let untrustedPEM = try pemList("untrusted")
            let trustedPEM = try pemList("trusted")
            var hostname: String? = nil
            if let h = req["hostname"], !(h is NSNull) {
                guard let s = h as? String else { throw RequestError(message: "\"hostname\" must be text or null") }
                hostname = s
            }
            var time: X509Time? = nil
            if let t = req["time"], !(t is NSNull) {
                guard let n = t as? NSNumber, !(t is Bool), let v = Int64(exactly: n.doubleValue) else {
                    throw RequestError(message: "\"time\" must be Unix seconds or null")
                }
                time = X509Time(secondsSinceEpoch: v)
            }
            var purpose = CertificatePurpose.server
            if let p = req["purpose"], !(p is NSNull) {
                guard let s = p as? String, let pp = parsePurpose(s) else {
                    throw RequestError(message: "\"purpose\" must be \"server\" or \"client\"")
                }
                purpose = pp
            }
            var policy = basePolicy
            if let d = req["max_chain_depth"], !(d is NSNull) {
                guard let n = d as? NSNumber, !(d is Bool), let v = Int(exactly: n.doubleValue), v >= 0, v <= 1000 else {
                    throw RequestError(message: "\"max_chain_depth\" must be a non-negative integer or null")
                }
                policy.maximumIntermediates = v
            }

            // Certificates that do not parse are a verification result ("malformed"), not a bad request.
            let leaf: Certificate
            var pool: [Certificate] = []
            var anchors: [Certificate] = []
            do {
                let leafCerts = try pems.certificates(leafPEM)
                leaf = leafCerts[0]
                pool = Array(leafCerts.dropFirst())
                for u in untrustedPEM { pool += try pems.certificates(u) }
                for t in trustedPEM { anchors += try pems.certificates(t) }
            } catch {
                writeOut(jsonLine(["id": id, "ok": false, "reason": CertificateFailureReason.malformed.rawValue, "detail": "\(error)"]))
                continue
            }
            // Reuse verifiers (and their trust-store index) across requests with the same anchors and policy.
            let key = anchors.map(\.sha256Fingerprint.hexString).joined(separator: ",") + "|\(policy.maximumIntermediates)"
            let verifier: CertificateVerifier
            if let v = verifiers[key] {
                verifier = v
            } else {
                verifier = CertificateVerifier(trustStore: TrustStore(certificates: anchors), policy: policy)
                if verifiers.count > 1000 { verifiers.removeAll() }
                verifiers[key] = verifier
            }
            do {
                _ = try verifier.verify(leaf: leaf, intermediates: pool, hostname: hostname, purpose: purpose, time: time)
                writeOut(jsonLine(["id": id, "ok": true, "reason": "ok"]))
            } catch let e as CertificateVerificationError {
                writeOut(jsonLine(["id": id, "ok": false, "reason": e.reason.rawValue, "detail": e.detail]))
            }
        } catch let e as RequestError {
            writeOut(jsonLine(["id": id, "ok": false, "reason": "malformed_request", "detail": e.message]))
        } catch {
            writeOut(jsonLine(["id": id, "ok": false, "reason": "malformed_request", "detail": "\(error)"]))
        }
    }
    exit(0)
}

// MARK: main

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail(usage) }
arguments.removeFirst()
switch command {
case "show": runShow(arguments)
case "verify": runVerify(arguments)
case "-h", "--help", "help": writeOut(usage); exit(0)
default: fail(usage)
}
