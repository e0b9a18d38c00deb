import XCTest
import TLSHandshake
@testable import TLSSocket

/// The OpenSSL cipher-string parser, on its own and against `openssl ciphers`.
final class CipherStringTests: XCTestCase {
    private func names(_ s: String) throws -> [String] { try CipherString.parse(s).entries.map(\.name) }
    private func suites(_ s: String) throws -> [CipherSuite] { try CipherString.parse(s).tls12Suites }

    func testSingleNamesAndIANANames() throws {
        XCTAssertEqual(try suites("ECDHE-RSA-AES128-GCM-SHA256"), [.ecdheRSAWithAES128GCMSHA256])
        XCTAssertEqual(try suites("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"), [.ecdheECDSAWithCHACHA20POLY1305SHA256])
        XCTAssertEqual(try suites("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"),
                       [.ecdheRSAWithAES128GCMSHA256, .ecdheECDSAWithAES256GCMSHA384])
        // Other separators.
        XCTAssertEqual(try suites("ECDHE-RSA-AES128-GCM-SHA256, ECDHE-ECDSA-AES256-GCM-SHA384;ECDHE-RSA-CHACHA20-POLY1305"),
                       [.ecdheRSAWithAES128GCMSHA256, .ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithCHACHA20POLY1305SHA256])
        // A name listed twice keeps its first place.
        XCTAssertEqual(try suites("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"),
                       [.ecdheRSAWithAES128GCMSHA256, .ecdheECDSAWithAES256GCMSHA384])
    }

    func testAliases() throws {
        XCTAssertEqual(try suites("HIGH"), [.ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384,
                                            .ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheRSAWithCHACHA20POLY1305SHA256,
                                            .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256])
        XCTAssertEqual(Set(try suites("AESGCM")), [.ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384,
                                                   .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256])
        XCTAssertEqual(try suites("CHACHA20"), [.ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheRSAWithCHACHA20POLY1305SHA256])
        XCTAssertEqual(Set(try suites("ECDHE")), Set(CipherSuite.allCases.filter { !$0.isTLS13 }))
        XCTAssertEqual(Set(try suites("aRSA")), [.ecdheRSAWithAES256GCMSHA384, .ecdheRSAWithCHACHA20POLY1305SHA256, .ecdheRSAWithAES128GCMSHA256])
        XCTAssertEqual(Set(try suites("ECDSA")), [.ecdheECDSAWithAES256GCMSHA384, .ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheECDSAWithAES128GCMSHA256])
        XCTAssertEqual(try suites("AES128"), [.ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256])
        XCTAssertEqual(try suites("SUITEB128"), [.ecdheECDSAWithAES128GCMSHA256, .ecdheECDSAWithAES256GCMSHA384])
        XCTAssertEqual(try suites("SUITEB192"), [.ecdheECDSAWithAES256GCMSHA384])
        XCTAssertEqual(try suites("TLSv1.2+AESGCM+ECDSA+AES256"), [.ecdheECDSAWithAES256GCMSHA384])
        XCTAssertEqual(Set(try suites("DEFAULT")), Set(CipherSuite.allCases.filter { !$0.isTLS13 }))
        XCTAssertEqual(Set(try suites("ALL")), Set(CipherSuite.allCases.filter { !$0.isTLS13 }))
        // Aliases that select only suites we do not implement.
        for alias in ["RC4", "3DES", "kRSA", "DHE", "aNULL", "CBC", "SHA1", "MD5", "CAMELLIA", "ARIA", "AESCCM", "PSK", "SSLv3", "MEDIUM", "LOW", "eNULL", "EXPORT"] {
            XCTAssertThrowsError(try CipherString.parse(alias), alias) { e in
                XCTAssertEqual((e as? SSLError)?.code, .noCipherSelected, alias)
            }
        }
        XCTAssertTrue(try names("kRSA:ECDHE-RSA-AES128-GCM-SHA256").contains("AES128-GCM-SHA256"))
    }

    func testAndOperator() throws {
        XCTAssertEqual(try suites("ECDHE+AESGCM+aRSA"), [.ecdheRSAWithAES256GCMSHA384, .ecdheRSAWithAES128GCMSHA256])
        XCTAssertEqual(try suites("AES256+ECDSA"), [.ecdheECDSAWithAES256GCMSHA384])
        // A conjunction with an unknown word selects nothing, and the word is reported.
        let s = try CipherString.parse("AESGCM+BOGUS:CHACHA20")
        XCTAssertEqual(s.tls12Suites, [.ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheRSAWithCHACHA20POLY1305SHA256])
        XCTAssertEqual(s.ignored, ["AESGCM+BOGUS"])
    }

    func testBangRemovesForGood() throws {
        XCTAssertEqual(try suites("HIGH:!aRSA"), [.ecdheECDSAWithAES256GCMSHA384, .ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheECDSAWithAES128GCMSHA256])
        // Killed suites cannot come back.
        XCTAssertEqual(try suites("!CHACHA20:HIGH:CHACHA20"), [.ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384,
                                                              .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256])
        XCTAssertThrowsError(try CipherString.parse("!ECDHE:ECDHE"))
    }

    func testMinusRemovesButAllowsReadding() throws {
        XCTAssertEqual(try suites("HIGH:-CHACHA20"), [.ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384,
                                                      .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256])
        // Re-added at the end.
        XCTAssertEqual(try suites("HIGH:-CHACHA20:CHACHA20"), [.ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384,
                                                               .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256,
                                                               .ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheRSAWithCHACHA20POLY1305SHA256])
        // Removed groups come back most recently removed first (OpenSSL's order).
        let chacha: [CipherSuite] = [.ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheRSAWithCHACHA20POLY1305SHA256]
        XCTAssertEqual(try suites("ALL:-AES256:-AES128:AESGCM"), chacha + [.ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256,
                                                                           .ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384])
        XCTAssertEqual(try suites("ALL:-AES128:-AES256:AESGCM"), chacha + [.ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384,
                                                                           .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256])
    }

    func testPlusMovesToTheEnd() throws {
        XCTAssertEqual(try suites("HIGH:+AES256"), [.ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheRSAWithCHACHA20POLY1305SHA256,
                                                    .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256,
                                                    .ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384])
        // + only moves suites already listed; it adds nothing.
        XCTAssertEqual(try suites("ECDHE-RSA-AES128-GCM-SHA256:+AES256"), [.ecdheRSAWithAES128GCMSHA256])
        XCTAssertEqual(try suites("ECDHE+AESGCM:+aRSA"), [.ecdheECDSAWithAES256GCMSHA384, .ecdheECDSAWithAES128GCMSHA256,
                                                         .ecdheRSAWithAES256GCMSHA384, .ecdheRSAWithAES128GCMSHA256])
    }

    func testStrengthSortIsStable() throws {
        XCTAssertEqual(try suites("AES128:CHACHA20:AES256:@STRENGTH"),
                       [.ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheRSAWithCHACHA20POLY1305SHA256,
                        .ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384,
                        .ecdheECDSAWithAES128GCMSHA256, .ecdheRSAWithAES128GCMSHA256])
    }

    func testSecurityLevel() throws {
        XCTAssertEqual(try CipherString.parse("HIGH").securityLevel, 1)
        XCTAssertEqual(try suites("HIGH:@SECLEVEL=4"), [.ecdheECDSAWithAES256GCMSHA384, .ecdheRSAWithAES256GCMSHA384,
                                                        .ecdheECDSAWithCHACHA20POLY1305SHA256, .ecdheRSAWithCHACHA20POLY1305SHA256])
        XCTAssertFalse(try names("ALL:@SECLEVEL=3").contains("AES128-GCM-SHA256"), "level 3 wants forward secrecy")
        XCTAssertTrue(try names("ALL:@SECLEVEL=2").contains("AES128-GCM-SHA256"))
        XCTAssertTrue(try names("eNULL:HIGH:@SECLEVEL=0").contains("NULL-SHA256"))
        XCTAssertFalse(try names("eNULL:HIGH").contains("NULL-SHA256"))
        XCTAssertThrowsError(try CipherString.parse("HIGH:@SECLEVEL=9")) { e in XCTAssertEqual((e as? SSLError)?.code, .invalidArgument) }
        XCTAssertThrowsError(try CipherString.parse("HIGH:@NOSUCH")) { e in XCTAssertEqual((e as? SSLError)?.code, .invalidArgument) }
    }

    func testDefaultFirstKillsItsComplement() throws {
        // DEFAULT kills anonymous suites: they cannot be added back, even at level 0.
        XCTAssertFalse(try names("DEFAULT:ADH:@SECLEVEL=0").contains("ADH-AES128-GCM-SHA256"))
        XCTAssertTrue(try names("HIGH:ADH:@SECLEVEL=0").contains("ADH-AES128-GCM-SHA256"))
        // ...and level 1 (the default) drops them anyway.
        XCTAssertFalse(try names("HIGH:ADH").contains("ADH-AES128-GCM-SHA256"))
    }

    func testTLS13Suites() throws {
        // Not mentioned: all three stay.
        let plain = try CipherString.parse("ECDHE-RSA-AES128-GCM-SHA256")
        XCTAssertEqual(plain.tls13Suites, CipherSuite.tls13Suites)
        XCTAssertFalse(plain.tls13Explicit)
        XCTAssertEqual(plain.suites, CipherSuite.tls13Suites + [.ecdheRSAWithAES128GCMSHA256])
        // Named: exactly those, in order.
        let named = try CipherString.parse("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:HIGH")
        XCTAssertEqual(named.tls13Suites, [.tlsCHACHA20POLY1305SHA256, .tlsAES256GCMSHA384])
        XCTAssertTrue(named.tls13Explicit)
        XCTAssertEqual(try CipherString.parse("TLS_AES_128_GCM_SHA256").suites, [.tlsAES128GCMSHA256])
        XCTAssertEqual(try CipherString.parse("HIGH:!TLS_AES_128_GCM_SHA256").tls13Suites, [.tlsAES256GCMSHA384, .tlsCHACHA20POLY1305SHA256])
        XCTAssertEqual(try CipherString.parse("TLSv1.3:-TLS_AES_256_GCM_SHA384").tls13Suites, [.tlsAES128GCMSHA256, .tlsCHACHA20POLY1305SHA256])
    }

    func testNothingSelectableIsAnError() throws {
        for s in ["", "RC4-MD5", "NOSUCHCIPHER", "!ALL", "HIGH:!ECDHE", "DES-CBC3-SHA:AES128-SHA", "FOO:BAR"] {
            XCTAssertThrowsError(try CipherString.parse(s), s) { e in
                let e = e as? SSLError
                XCTAssertEqual(e?.code, .noCipherSelected, s)
                XCTAssertTrue(e?.message.contains("selects no cipher suite") ?? false)
            }
        }
        XCTAssertThrowsError(try CipherString.parse("RC4-MD5:AES128-SHA")) { e in
            XCTAssertTrue((e as? SSLError)?.message.contains("AES128-SHA") ?? false, "names what it did select")
        }
        XCTAssertThrowsError(try CipherString.parse("FOO")) { e in
            XCTAssertTrue((e as? SSLError)?.message.contains("unknown: FOO") ?? false)
        }
    }

    func testUnknownWordsAreIgnoredAndReported() throws {
        let s = try CipherString.parse("FOO:ECDHE-RSA-AES128-GCM-SHA256:!BAR:high")
        XCTAssertEqual(s.tls12Suites, [.ecdheRSAWithAES128GCMSHA256])
        XCTAssertEqual(s.ignored, ["FOO", "!BAR", "high"], "aliases are case-sensitive, as in OpenSSL")
    }

    func testCatalogIsConsistent() {
        XCTAssertEqual(Set(CipherString.catalog.map(\.name)).count, CipherString.catalog.count)
        XCTAssertEqual(Set(CipherString.catalog.map(\.code)).count, CipherString.catalog.count)
        let implemented = CipherString.catalog.compactMap(\.suite)
        XCTAssertEqual(Set(implemented), Set(CipherSuite.allCases.filter { !$0.isTLS13 }))
        for e in CipherString.catalog {
            if let suite = e.suite { XCTAssertEqual(suite.openSSLName, e.name) }
        }
    }

    /// Our selection against `openssl ciphers` for the same strings: the same
    /// suites (within the suites both know), and the implemented ones in the same order.
    func testAgreesWithOpenSSL() throws {
        guard Shell.which("openssl") != nil else { throw XCTSkip("openssl not installed") }
        let universe = Set(try Shell.run(["openssl", "ciphers", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").map(String.init))
        let ours = Set(CipherString.catalog.map(\.name))
        XCTAssertGreaterThan(universe.intersection(ours).count, 40)
        let implemented = Set(CipherSuite.allCases.map(\.openSSLName))
        let strings = [
            "ALL", "DEFAULT", "HIGH", "AESGCM", "CHACHA20", "ECDHE", "EECDH", "kECDHE", "ECDHE+AESGCM", "aRSA", "aECDSA",
            "AES128", "AES256", "AES", "SHA256", "SHA384", "SHA1", "TLSv1.2", "CBC", "DHE", "kRSA", "COMPLEMENTOFDEFAULT",
            "HIGH:!aNULL", "HIGH:!aRSA", "HIGH:-CHACHA20:CHACHA20", "HIGH:+AES256", "ECDHE+AESGCM:+aRSA",
            "AES128:CHACHA20:AES256:@STRENGTH", "ALL:-AES256:-AES128:AESGCM", "ALL:-AES128:-AES256:AESGCM",
            "ECDHE:-AES128:+AES256:AES128", "!CHACHA20:HIGH:CHACHA20", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
            "SUITEB128", "HIGH:@SECLEVEL=4", "ALL:@SECLEVEL=3", "AESGCM+ECDHE:CHACHA20", "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL",
            "DEFAULT:!ECDSA", "ALL:!COMPLEMENTOFDEFAULT:!eNULL", "CAMELLIA:ARIA:AESCCM:HIGH",
            "ALL:@SECLEVEL=0", "HIGH:ADH:@SECLEVEL=0", "DEFAULT:ADH:@SECLEVEL=0", "eNULL:HIGH:@SECLEVEL=0", "ALL:@SECLEVEL=5",
            "SUITEB192", "ECDHE:AES128+SHA1:@SECLEVEL=4", "!aRSA:kECDHE:ADH:@SECLEVEL=0:@STRENGTH",
        ]
        for s in strings {
            let theirs = try Shell.run(["openssl", "ciphers", "-s", s]).trimmingCharacters(in: .whitespacesAndNewlines)
                .split(separator: ":").map(String.init).filter { !$0.hasPrefix("TLS_") }
            let mine = try CipherString.select(s).entries.map(\.name)
            let a = Set(mine).intersection(universe), b = Set(theirs).intersection(ours)
            XCTAssertEqual(a, b, "set for \(s): only ours \(a.subtracting(b).sorted()), only openssl's \(b.subtracting(a).sorted())")
            XCTAssertEqual(mine.filter(implemented.contains), theirs.filter(implemented.contains), "order for \(s)")
        }
        // Both refuse what selects nothing.
        for s in ["RC4", "NOSUCH", "!ALL"] {
            XCTAssertThrowsError(try Shell.run(["openssl", "ciphers", "-s", s]), s)
            XCTAssertThrowsError(try CipherString.parse(s), s)
        }
    }
}
