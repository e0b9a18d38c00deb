import Foundation
import TestSupport
import X509
import XCTest

/// The X.509 corpus in Vectors/x509 (see its README.md).
enum Corpus {
    struct Case {
        let id: String
        let leaf: String
        let untrusted: [String]
        let trusted: [String]
        let hostname: String?
        let time: Int64
        let purpose: String
        let maxChainDepth: Int?
        let expectOK: Bool
        let expectReason: String?
        let opensslOK: Bool
        let opensslError: String
        let note: String
    }

    static let root = vectorURL("x509")

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relative)))
    }

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: url(relative), encoding: .utf8)
    }

    /// Parsed certificates by relative path (parsing each file once per test run).
    nonisolated(unsafe) private static var certCache: [String: Certificate] = [:]
    private static let lock = NSLock()

    static func certificate(_ relative: String) throws -> Certificate {
        lock.lock(); defer { lock.unlock() }
        if let c = certCache[relative] { return c }
        let c = try Certificate(pemEncoded: try text(relative))
        certCache[relative] = c
        return c
    }

    static func jsonLines(_ relative: String) throws -> [[String: Any]] {
        let text = try self.text(relative)
        return try text.split(separator: "\n").filter { !$0.isEmpty }.map { line in
            guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw NSError(domain: "corpus", code: 1, userInfo: [NSLocalizedDescriptionKey: "not an object: \(line)"])
            }
            return obj
        }
    }

    static func cases() throws -> [Case] {
        try jsonLines("manifest.jsonl").map { o in
            Case(id: o["id"] as? String ?? "?",
                 leaf: o["leaf"] as? String ?? "",
                 untrusted: o["untrusted"] as? [String] ?? [],
                 trusted: o["trusted"] as? [String] ?? [],
                 hostname: o["hostname"] as? String,
                 time: (o["time"] as? NSNumber)?.int64Value ?? 0,
                 purpose: o["purpose"] as? String ?? "server",
                 maxChainDepth: (o["max_chain_depth"] as? NSNumber)?.intValue,
                 expectOK: o["expect_ok"] as? Bool ?? false,
                 expectReason: o["expect_reason"] as? String,
                 opensslOK: o["openssl_ok"] as? Bool ?? false,
                 opensslError: o["openssl_error"] as? String ?? "",
                 note: o["note"] as? String ?? "")
        }
    }

    /// Runs one case through `CertificateVerifier`: nil reason means it verified.
    static func run(_ c: Case, policy base: VerificationPolicy = .default) throws -> (ok: Bool, reason: String?, detail: String) {
        var policy = base
        if let d = c.maxChainDepth { policy.maximumIntermediates = d }
        let store = TrustStore(certificates: try c.trusted.map(certificate))
        let verifier = CertificateVerifier(trustStore: store, policy: policy)
        guard let purpose = CertificatePurpose(rawValue: c.purpose) else {
            throw NSError(domain: "corpus", code: 2, userInfo: [NSLocalizedDescriptionKey: "purpose \(c.purpose)"])
        }
        do {
            _ = try verifier.verify(leaf: try certificate(c.leaf), intermediates: try c.untrusted.map(certificate),
                                    hostname: c.hostname, purpose: purpose,
                                    time: X509Time(secondsSinceEpoch: c.time))
            return (true, nil, "")
        } catch let e as CertificateVerificationError {
            return (false, e.reason.rawValue, e.detail)
        }
    }
}
