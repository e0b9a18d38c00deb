import Foundation
import TestSupport
import X509
import XCTest

/// Every case of Vectors/x509/manifest.jsonl through the verifier, and our verdicts
/// against OpenSSL's.
final class ManifestTests: XCTestCase {
    /// Cases where we disagree with `openssl verify` on purpose, and why. The test
    /// below checks that each of these really differs and that nothing else does.
    static let byDesignDifferences: [String: String] = [
        "notafter_equals_time": "RFC 5280 4.1.2.5: notAfter is inclusive; OpenSSL treats notAfter == time as expired",
        "v1_root_trust_anchor": "a trust anchor is a name and a key (RFC 5280 6.1.1 d); with -x509_strict OpenSSL refuses a v1 anchor",
        "leaf_ku_keyagreement_only_ecdsa_server": "TLS 1.3 / ECDHE needs digitalSignature; OpenSSL's sslserver purpose also takes keyAgreement",
        "leaf_ku_keyencipherment_only_rsa_server": "no RSA key transport in this stack, so digitalSignature is required; OpenSSL accepts keyEncipherment",
        "host_partial_wildcard": "RFC 9525: wildcards only as a whole left-most label; OpenSSL matches f*.example.com",
        "host_cn_only_no_fallback": "RFC 9525: no fallback to the subject CN; OpenSSL falls back when there is no DNS SAN",
        "host_san_email_uri_without_dns": "no CN fallback (RFC 9525); OpenSSL falls back when the SAN has no dNSName",
        "sha1_rsa_leaf": "SHA-1 signatures are refused; `openssl verify` checks no strength at its default auth level",
        "sha1_ecdsa_leaf": "SHA-1 signatures are refused; `openssl verify` checks no strength at its default auth level",
        "md5_rsa_leaf": "MD5 signatures are refused; `openssl verify` checks no strength at its default auth level",
        "rollover_same_name_leaf_without_aki": "we backtrack to the second same-name issuer; OpenSSL takes the first and (with -x509_strict) wants an AKI",
        "cross_signed_needs_backtracking": "we backtrack past the untrusted cross-signer; OpenSSL follows the first issuer only",
    ]

    func testEveryManifestCase() throws {
        let cases = try Corpus.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 90, "the manifest should hold the whole corpus")
        var passed = 0
        for c in cases {
            let got = try Corpus.run(c)
            XCTAssertEqual(got.ok, c.expectOK, "\(c.id): ok \(got.ok), expected \(c.expectOK) (\(got.detail))")
            XCTAssertEqual(got.reason, c.expectReason, "\(c.id): reason \(got.reason ?? "nil") (\(got.detail))")
            if got.ok == c.expectOK && got.reason == c.expectReason { passed += 1 }
        }
        XCTAssertEqual(passed, cases.count)
        print("manifest: \(passed)/\(cases.count) cases as expected")
    }

    func testDifferentialAgainstOpenSSL() throws {
        let cases = try Corpus.cases()
        let ids = Set(cases.map(\.id))
        for id in ManifestTests.byDesignDifferences.keys {
            XCTAssertTrue(ids.contains(id), "by-design difference \(id) names no manifest case")
        }
        var agree = 0, differ = 0
        for c in cases {
            let ours = try Corpus.run(c).ok
            if let why = ManifestTests.byDesignDifferences[c.id] {
                XCTAssertNotEqual(ours, c.opensslOK, "\(c.id) is listed as differing from OpenSSL (\(why)) but agrees")
                XCTAssertTrue(c.note.contains("OpenSSL differs"), "\(c.id): the manifest note should explain the difference")
                if ours != c.opensslOK { differ += 1 }
            } else {
                XCTAssertEqual(ours, c.opensslOK, "\(c.id): we say \(ours), openssl says \(c.opensslOK) (\(c.opensslError))")
                if ours == c.opensslOK { agree += 1 }
            }
        }
        XCTAssertEqual(agree + differ, cases.count)
        print("differential: \(agree) cases agree with openssl, \(differ) differ by design")
    }

    /// The manifest through `tls-x509 verify --batch`, with two malformed requests mixed in.
    func testBatchToolOverManifest() throws {
        let tool = try toolURL()
        let cases = try Corpus.cases()
        var input = ""
        func json(_ o: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.fragmentsAllowed]), as: UTF8.self)
        }
        for (i, c) in cases.enumerated() {
            let req: [String: Any] = [
                "id": c.id, "leaf": try Corpus.text(c.leaf),
                "untrusted": try c.untrusted.map(Corpus.text), "trusted": try c.trusted.map(Corpus.text),
                "hostname": c.hostname as Any? ?? NSNull(), "time": c.time, "purpose": c.purpose,
                "max_chain_depth": c.maxChainDepth as Any? ?? NSNull(),
            ]
            input += try json(req) + "\n"
            if i == 3 { input += "this is not json\n" }
            if i == 7 { input += "{\"id\": 42, \"untrusted\": []}\n" }
        }
        let p = Process()
        p.executableURL = tool
        p.arguments = ["verify", "--batch"]
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        try p.run()
        // Write from another thread so a full output pipe cannot deadlock us.
        let data = Data(input.utf8)
        let writer = Thread {
            inPipe.fileHandleForWriting.write(data)
            try? inPipe.fileHandleForWriting.close()
        }
        writer.start()
        let output = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, cases.count + 2, "one line per request, malformed ones included")
        var results: [[String: Any]] = []
        for l in lines {
            guard let o = try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any] else {
                XCTFail("not a JSON object: \(l)"); continue
            }
            results.append(o)
        }
        guard results.count == cases.count + 2 else { return }
        // In order: the malformed lines sit after cases 3 and 7.
        XCTAssertEqual(results[4]["ok"] as? Bool, false)
        XCTAssertEqual(results[4]["reason"] as? String, "malformed_request")
        XCTAssertTrue(results[4]["id"] is NSNull)
        XCTAssertEqual(results[9]["ok"] as? Bool, false)
        XCTAssertEqual(results[9]["reason"] as? String, "malformed_request")
        XCTAssertEqual((results[9]["id"] as? NSNumber)?.intValue, 42)
        let verdicts = results.enumerated().filter { $0.offset != 4 && $0.offset != 9 }.map(\.element)
        for (c, r) in zip(cases, verdicts) {
            XCTAssertEqual(r["id"] as? String, c.id)
            XCTAssertEqual(r["ok"] as? Bool, c.expectOK, c.id)
            XCTAssertEqual(r["reason"] as? String, c.expectReason ?? "ok", c.id)
        }
    }

    func toolURL() throws -> URL {
        var candidates: [URL] = []
        // The test bundle sits next to the products in .build/<config>/.
        let bundleDir = Bundle(for: ManifestTests.self).bundleURL.deletingLastPathComponent()
        candidates.append(bundleDir.appendingPathComponent("tls-x509"))
        candidates.append(repositoryRoot.appendingPathComponent(".build/debug/tls-x509"))
        for c in candidates where FileManager.default.isExecutableFile(atPath: c.path) { return c }
        XCTFail("tls-x509 not built (looked in \(candidates.map(\.path))); run `swift build --build-tests` first")
        throw XCTSkip("no tool")
    }
}
