import Foundation
import TLSCrypto
import X509
import XCTest

final class ParsingTests: XCTestCase {
    // MARK: PEM and DER

    func testBundleWithTextBetweenBlocks() throws {
        let bundle = try JSONSerialization.jsonObject(with: Data(try Corpus.bytes("bundle/bundle.json"))) as? [String: Any] ?? [:]
        let files = bundle["files"] as? [String] ?? []
        let expected = try (bundle["certificates"] as? [String] ?? []).map(Corpus.certificate)
        XCTAssertEqual(files.count, 2)
        XCTAssertEqual(expected.count, 4)
        for f in files {
            let certs = try Certificate.parseMany(try Corpus.bytes("bundle/" + f))
            XCTAssertEqual(certs, expected, f)
            let store = try TrustStore(pemFile: Corpus.url("bundle/" + f).path)
            XCTAssertEqual(store.count, 4, f)
        }
    }

    func testPEMAndDERGiveTheSameCertificate() throws {
        let text = try Corpus.text("leaves/leaf-ecdsa-p256.pem")
        let blocks = try PEM.parse(text)
        XCTAssertEqual(blocks.count, 1)
        XCTAssertEqual(blocks.first?.label, "CERTIFICATE")
        let der = try XCTUnwrap(blocks.first?.der)
        let fromDER = try Certificate(derEncoded: der)
        let fromPEM = try Certificate(pemEncoded: text)
        XCTAssertEqual(fromDER, fromPEM)
        XCTAssertEqual(fromDER.der, der)
        XCTAssertEqual(try Certificate.parseMany(der), [fromDER])
        // Re-encoding gives the same PEM text as openssl wrote.
        XCTAssertEqual(fromDER.pemString, text)
        // The TBSCertificate is the second TLV inside the certificate.
        XCTAssertEqual(der[0], 0x30)
        XCTAssertTrue(der.count > fromDER.tbsDER.count)
        XCTAssertTrue(der.firstRange(of: fromDER.tbsDER) != nil)
    }

    func testPEMErrors() {
        let body = "MIIBAA=="
        func code(_ s: String) -> X509Error.Code? {
            do { _ = try PEM.parse(s); return nil } catch { return (error as? X509Error)?.code }
        }
        XCTAssertEqual(code("-----BEGIN CERTIFICATE-----\n\(body)\n"), .invalidPEM)  // no END
        XCTAssertEqual(code("-----BEGIN CERTIFICATE-----\n\(body)\n-----END PRIVATE KEY-----\n"), .invalidPEM)
        XCTAssertEqual(code("-----BEGIN CERTIFICATE-----\nMII!AA==\n-----END CERTIFICATE-----\n"), .invalidPEM)
        XCTAssertEqual(code("-----BEGIN CERTIFICATE-----\nMIIBA\n-----END CERTIFICATE-----\n"), .invalidPEM)
        XCTAssertEqual(code("-----BEGIN CERTIFICATE-----\nMI==IBAA\n-----END CERTIFICATE-----\n"), .invalidPEM)
        XCTAssertEqual(code("-----BEGIN X-----\n\(body)\n-----BEGIN Y-----\n\(body)\n-----END Y-----\n"), .invalidPEM)
        XCTAssertNil(code("just text, no blocks\n"))
        XCTAssertEqual(try PEM.parse("no blocks").count, 0)
        XCTAssertThrowsError(try Certificate(pemEncoded: "nothing here")) {
            XCTAssertEqual(($0 as? X509Error)?.code, .noPEMBlock)
        }
        // Whitespace inside the base64 and CRLF line ends are fine.
        XCTAssertEqual(try PEM.parse("junk\r\n-----BEGIN A-----\r\nMII B\r\n AA==\r\n-----END A-----\r\njunk").first?.der, [0x30, 0x82, 0x01, 0x00])
    }

    // MARK: fields

    func testCertificateFields() throws {
        let leaf = try Corpus.certificate("leaves/leaf-ecdsa-p256.pem")
        XCTAssertEqual(leaf.version, 3)
        XCTAssertEqual(leaf.signatureAlgorithm, .ecdsa(.sha256))
        XCTAssertEqual(leaf.subject.rfc4514String, "CN=www.example.com,O=TLS Swift Test PKI,C=US")
        XCTAssertEqual(leaf.issuer.rfc4514String, "CN=Test Intermediate ECDSA P-256,O=TLS Swift Test PKI,C=US")
        XCTAssertEqual(leaf.notBefore, X509Time(year: 2025, month: 1, day: 1))
        XCTAssertEqual(leaf.notAfter, X509Time(year: 2035, month: 1, day: 1))
        XCTAssertEqual(leaf.publicKeyInfo.algorithm, .ecdsa(.p256))
        XCTAssertEqual(leaf.basicConstraints?.isCA, false)
        XCTAssertEqual(leaf.keyUsage, [.digitalSignature])
        XCTAssertEqual(leaf.extendedKeyUsage, [.serverAuth])
        XCTAssertEqual(leaf.dnsNames, ["www.example.com"])
        XCTAssertEqual(leaf.extensions.first(where: { $0.oid == .basicConstraints })?.critical, true)
        XCTAssertEqual(leaf.extensions.first(where: { $0.oid == .subjectAltName })?.critical, false)
        let issuer = try Corpus.certificate("intermediates/int-ecdsa.pem")
        XCTAssertEqual(leaf.authorityKeyIdentifier?.keyIdentifier, issuer.subjectKeyIdentifier)
        XCTAssertNotNil(leaf.publicKey)
        XCTAssertTrue(leaf.unhandledCriticalExtensions.isEmpty)
        XCTAssertEqual(leaf.serialNumber.count, 20)

        let ca = try Corpus.certificate("intermediates/int-pathlen0.pem")
        XCTAssertEqual(ca.basicConstraints, try XCTUnwrap(ca.basicConstraints))
        XCTAssertEqual(ca.basicConstraints?.isCA, true)
        XCTAssertEqual(ca.basicConstraints?.pathLength, 0)
        XCTAssertEqual(ca.keyUsage, [.keyCertSign, .cRLSign])

        let v1 = try Corpus.certificate("roots/root-v1.pem")
        XCTAssertEqual(v1.version, 1)
        XCTAssertTrue(v1.extensions.isEmpty)
        XCTAssertTrue(v1.isSelfIssued)

        let pss = try Corpus.certificate("leaves/leaf-rsa-pss-sha384.pem")
        XCTAssertEqual(pss.signatureAlgorithm, .rsaPSS(hash: .sha384, mgfHash: .sha384, saltLength: 48))
        XCTAssertEqual(pss.publicKeyInfo.keySizeBits, 2048)

        let ed = try Corpus.certificate("leaves/leaf-ed25519.pem")
        XCTAssertEqual(ed.signatureAlgorithm, .ed25519)
        XCTAssertEqual(ed.publicKeyInfo.algorithm, .ed25519)
        XCTAssertEqual(ed.notAfter, X509Time(year: 2055, month: 1, day: 1))  // GeneralizedTime

        let sha1 = try Corpus.certificate("leaves/leaf-sha1-rsa.pem")
        XCTAssertEqual(sha1.signatureAlgorithm, .rsaPKCS1(.sha1))
        XCTAssertTrue(sha1.signatureAlgorithm.isWeak)

        let nc = try Corpus.certificate("intermediates/int-nc-ip.pem")
        XCTAssertEqual(nc.nameConstraints?.permitted.map(\.description), ["IP:192.168.0.0/255.255.0.0"])
        let ncx = try Corpus.certificate("intermediates/int-nc-dns-excluded.pem")
        XCTAssertEqual(ncx.nameConstraints?.excluded, [.dnsName("bad.example.com")])

        let crit = try Corpus.certificate("leaves/leaf-crit-unknown-ext.pem")
        XCTAssertEqual(crit.unhandledCriticalExtensions.map(\.dotted), ["1.3.6.1.4.1.55555.1.1"])
        let noncrit = try Corpus.certificate("leaves/leaf-noncrit-unknown-ext.pem")
        XCTAssertTrue(noncrit.unhandledCriticalExtensions.isEmpty)

        let mixed = try Corpus.certificate("leaves/leaf-host-san-email-uri.pem")
        XCTAssertEqual(mixed.subjectAlternativeNames, [.dnsName("www.example.com"), .rfc822Name("admin@example.com"), .uri("https://www.example.com/")])
        let ips = try Corpus.certificate("leaves/leaf-host-ip.pem")
        XCTAssertEqual(ips.ipAddresses, [[127, 0, 0, 1], [UInt8](repeating: 0, count: 15) + [1]])
    }

    func testDistinguishedNames() throws {
        let name = try DistinguishedName(rfc4514: "CN=www.example.com,O=TLS Swift Test PKI,C=US")
        let leaf = try Corpus.certificate("leaves/leaf-ecdsa-p256.pem")
        XCTAssertEqual(name, leaf.subject)  // RFC 5280 7.1 matching: string types may differ
        XCTAssertEqual(name.rfc4514String, "CN=www.example.com,O=TLS Swift Test PKI,C=US")
        XCTAssertEqual(name.rdns.first?.attributes.first?.type, .countryName)  // DER order is reversed
        XCTAssertEqual(try DistinguishedName(derEncoded: name.der), name)
        // Case and white space do not matter; attribute values do.
        XCTAssertEqual(try DistinguishedName(rfc4514: "cn=WWW.EXAMPLE.COM, o=TLS  Swift Test PKI ,C=us"), leaf.subject)
        XCTAssertNotEqual(try DistinguishedName(rfc4514: "CN=www.example.org,O=TLS Swift Test PKI,C=US"), leaf.subject)
        XCTAssertNotEqual(try DistinguishedName(rfc4514: "O=TLS Swift Test PKI,C=US"), leaf.subject)
        // Escaping round trip.
        let tricky = try DistinguishedName(rfc4514: ##"CN=a\,b\+c\"d\\e\<f\>g\;h,O=\#x,OU=\ lead and trail\ "##)
        XCTAssertEqual(tricky.values(of: .commonName), [#"a,b+c"d\e<f>g;h"#])
        XCTAssertEqual(tricky.values(of: .organizationName), ["#x"])
        XCTAssertEqual(tricky.values(of: .organizationalUnitName), [" lead and trail "])
        XCTAssertEqual(try DistinguishedName(rfc4514: tricky.rfc4514String), tricky)
        XCTAssertEqual(tricky.rfc4514String, ##"CN=a\,b\+c\"d\\e\<f\>g\;h,O=\#x,OU=\ lead and trail\ "##)
        // Hex escapes (UTF-8) and #hex values.
        let utf8 = try DistinguishedName(rfc4514: #"CN=caf\C3\A9"#)
        XCTAssertEqual(utf8.commonNames, ["café"])
        let hex = try DistinguishedName(rfc4514: "CN=#0c03616263")
        XCTAssertEqual(hex.commonNames, ["abc"])
        // Multi-valued RDNs compare regardless of order.
        XCTAssertEqual(try DistinguishedName(rfc4514: "CN=a+OU=b,O=c"), try DistinguishedName(rfc4514: "OU=b+CN=a,O=c"))
        XCTAssertEqual(try DistinguishedName(rfc4514: "CN=a+OU=b,O=c").rdns.count, 2)
        // Unknown types print as dotted OIDs with #hex values.
        let email = try DistinguishedName(rfc4514: "emailAddress=a@example.com,CN=x")
        XCTAssertEqual(email.rfc4514String, "1.2.840.113549.1.9.1=#160d61406578616d706c652e636f6d,CN=x")
        XCTAssertEqual(try DistinguishedName(rfc4514: email.rfc4514String), email)
        XCTAssertEqual(try DistinguishedName(rfc4514: "1.2.840.113549.1.9.1=a@example.com,CN=x"), email)
        // Errors.
        for bad in ["CN", "CN=a,", "=a", "XX=a", "CN=a\\", "CN=a\"b", "CN=#zz", "1.2.=x"] {
            XCTAssertThrowsError(try DistinguishedName(rfc4514: bad), bad) {
                XCTAssertEqual(($0 as? X509Error)?.code, .invalidNameString, bad)
            }
        }
        XCTAssertTrue(try DistinguishedName(rfc4514: "").isEmpty)
    }

    func testTimes() throws {
        XCTAssertEqual(X509Time(year: 1970, month: 1, day: 1)?.secondsSinceEpoch, 0)
        XCTAssertEqual(X509Time(year: 2026, month: 1, day: 1)?.secondsSinceEpoch, 1_767_225_600)
        XCTAssertEqual(X509Time(year: 2000, month: 2, day: 29, hour: 12)?.description, "2000-02-29T12:00:00Z")
        XCTAssertNil(X509Time(year: 2001, month: 2, day: 29))
        XCTAssertNil(X509Time(year: 2001, month: 13, day: 1))
        XCTAssertNil(X509Time(year: 2001, month: 1, day: 1, hour: 24))
        XCTAssertEqual(X509Time(secondsSinceEpoch: 1_740_000_000).description, "2025-02-19T21:20:00Z")
        XCTAssertEqual(X509Time(secondsSinceEpoch: -1).description, "1969-12-31T23:59:59Z")
        for t: Int64 in [0, 951_782_400, 4_102_444_800, 1_767_225_599] {
            let c = X509Time(secondsSinceEpoch: t).components
            XCTAssertEqual(X509Time(year: c.year, month: c.month, day: c.day, hour: c.hour, minute: c.minute, second: c.second)?.secondsSinceEpoch, t)
        }
    }

    /// UTCTime / GeneralizedTime DER rules, through certificates whose validity we rewrite.
    func testTimeEncodingsInCertificates() throws {
        let good = try Corpus.certificate("leaves/leaf-ecdsa-p256.pem").der
        // notBefore is UTCTime "250101000000Z" in the leaf.
        let utc = Array("250101000000Z".utf8)
        guard let r = good.firstRange(of: utc) else { return XCTFail("no UTCTime in the leaf") }
        func replaced(_ with: String) -> [UInt8] {
            var b = good
            b.replaceSubrange(r, with: Array(with.utf8))
            return b
        }
        func code(_ s: String) -> X509Error.Code? {
            do { _ = try Certificate(derEncoded: replaced(s)); return nil } catch { return (error as? X509Error)?.code }
        }
        XCTAssertNil(code("491231235959Z"))  // 2049
        XCTAssertEqual(try Certificate(derEncoded: replaced("500101000000Z")).notBefore, X509Time(year: 1950, month: 1, day: 1))
        XCTAssertEqual(code("2501010000Z00"), .invalidTime)  // Z not last
        XCTAssertEqual(code("250101000000+"), .invalidTime)
        XCTAssertEqual(code("250230000000Z"), .invalidTime)  // Feb 30
        XCTAssertEqual(code("25010100006 Z"), .invalidTime)
        XCTAssertEqual(code("250101250000Z"), .invalidTime)
        XCTAssertEqual(code("250101006000Z"), .invalidTime)
    }

    // MARK: hostnames and addresses

    func testHostnameRules() throws {
        let wildcard = try Corpus.certificate("leaves/leaf-host-wildcard.pem")
        XCTAssertTrue(HostnameMatcher.matches(wildcard, hostname: "a.example.com"))
        XCTAssertTrue(HostnameMatcher.matches(wildcard, hostname: "A.Example.Com."))
        XCTAssertFalse(HostnameMatcher.matches(wildcard, hostname: "example.com"))
        XCTAssertFalse(HostnameMatcher.matches(wildcard, hostname: "a.b.example.com"))
        XCTAssertFalse(HostnameMatcher.matches(wildcard, hostname: ".example.com"))
        XCTAssertFalse(HostnameMatcher.matches(wildcard, hostname: "*.example.com"))
        XCTAssertFalse(HostnameMatcher.matches(wildcard, hostname: "a.example.com.evil"))
        let www = try Corpus.certificate("leaves/leaf-ecdsa-p256.pem")
        XCTAssertTrue(HostnameMatcher.matches(www, hostname: "WWW.EXAMPLE.COM"))
        XCTAssertFalse(HostnameMatcher.matches(www, hostname: "www.example.co"))
        XCTAssertFalse(HostnameMatcher.matches(www, hostname: ""))
        XCTAssertFalse(HostnameMatcher.matches(www, hostname: "wwww.example.com"))
        let ip = try Corpus.certificate("leaves/leaf-host-ip.pem")
        XCTAssertTrue(HostnameMatcher.matches(ip, hostname: "127.0.0.1"))
        XCTAssertTrue(HostnameMatcher.matches(ip, hostname: "::1"))
        XCTAssertTrue(HostnameMatcher.matches(ip, hostname: "0:0:0:0:0:0:0:1"))
        XCTAssertTrue(HostnameMatcher.matches(ip, hostname: "[::1]"))
        XCTAssertFalse(HostnameMatcher.matches(ip, hostname: "::2"))
        XCTAssertFalse(HostnameMatcher.matches(ip, hostname: "127.0.0.01"))  // not an address; not a DNS SAN either
        let ipAsDNS = try Corpus.certificate("leaves/leaf-host-ip-as-dns.pem")
        XCTAssertFalse(HostnameMatcher.matches(ipAsDNS, hostname: "127.0.0.1"))
        let cnOnly = try Corpus.certificate("leaves/leaf-host-cn-only.pem")
        XCTAssertFalse(HostnameMatcher.matches(cnOnly, hostname: "www.example.com"))
        XCTAssertTrue(HostnameMatcher.matches(cnOnly, hostname: "www.example.com", allowCommonNameFallback: true))
        // The CN is never consulted when there is a dNSName, even with the option.
        let wildcardCN = try Corpus.certificate("leaves/leaf-host-partial-wildcard.pem")
        XCTAssertFalse(HostnameMatcher.matches(wildcardCN, hostname: "foo.example.com", allowCommonNameFallback: true))
    }

    func testIPAddressText() {
        XCTAssertEqual(IPAddress.parse("192.0.2.1"), [192, 0, 2, 1])
        XCTAssertEqual(IPAddress.parse("::"), [UInt8](repeating: 0, count: 16))
        XCTAssertEqual(IPAddress.parse("2001:db8::1"), [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
        XCTAssertEqual(IPAddress.parse("::ffff:192.0.2.1"), [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 192, 0, 2, 1])
        for bad in ["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", ":::", "g::1",
                    "example.com", "", "1.2.3.4:443", "::1.2.3"] {
            XCTAssertNil(IPAddress.parse(bad), bad)
        }
        // The longest textual form is accepted; anything longer, or with other characters, is not.
        XCTAssertEqual(IPAddress.parse("[0000:0000:0000:0000:0000:ffff:255.255.255.255]")?.count, 16)
        XCTAssertNil(IPAddress.parse("[0000:0000:0000:0000:0000:ffff:255.255.255.255 ]"))
        XCTAssertNil(IPAddress.parse(" 192.0.2.1"))
        XCTAssertEqual(IPAddress.format([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]), "2001:db8::1")
        XCTAssertEqual(IPAddress.format([UInt8](repeating: 0, count: 16)), "::")
        XCTAssertEqual(IPAddress.format([10, 0, 0, 1]), "10.0.0.1")
    }

    func testNamesCompareCaseAndSpaceInsensitively() throws {
        let a = try DistinguishedName(rfc4514: "CN=Example\\20\\20Host,O=ACME Inc")
        let b = try DistinguishedName(rfc4514: "cn=example host,o=acme inc")
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, try DistinguishedName(rfc4514: "CN=example  hostx,O=ACME Inc"))
        // Non-ASCII text takes the Unicode path: case-folded the same way.
        XCTAssertEqual(try DistinguishedName(rfc4514: "CN=\u{00C9}COLE"), try DistinguishedName(rfc4514: "CN=\u{00E9}cole"))
        // Non-ASCII white space (no-break space, ideographic space) collapses like ASCII space.
        XCTAssertEqual(try DistinguishedName(rfc4514: "CN=\u{00C9}cole\u{00A0}\u{3000}Normale"),
                       try DistinguishedName(rfc4514: "CN=\u{00E9}COLE NORMALE"))
        XCTAssertNotEqual(try DistinguishedName(rfc4514: "CN=\u{00E9}coleNormale"),
                          try DistinguishedName(rfc4514: "CN=\u{00E9}cole Normale"))
        // Without white space (no collapsing to do) and with it, case folds the same way.
        for (x, y) in [("\u{00C9}COLE", "\u{00E9}cole"), ("\u{0394}\u{03A3}", "\u{03B4}\u{03C3}"),
                       ("\u{00C9}COLE  NORMALE\u{2003}", "\u{00E9}cole normale"), ("\u{00A0}x\u{2003}\u{0178}", "X \u{00FF}")] {
            XCTAssertEqual(try DistinguishedName(rfc4514: "CN=" + x), try DistinguishedName(rfc4514: "CN=" + y), x)
            XCTAssertNotEqual(try DistinguishedName(rfc4514: "CN=" + x + "z"), try DistinguishedName(rfc4514: "CN=" + y), x)
        }
    }

    func testRFC4514ValuesAreCopiedAsUTF8AndTypedByContent() throws {
        let name = try DistinguishedName(rfc4514: "C=US,CN=\u{65E5}\u{672C}\\,x,DC=ex\u{00E4}mple")
        let byType = Dictionary(uniqueKeysWithValues: name.attributes.map { ($0.type, $0) })
        XCTAssertEqual(byType[.commonName]?.stringValue, "\u{65E5}\u{672C},x")
        XCTAssertEqual(byType[.commonName]?.valueTag, 12)
        XCTAssertEqual(byType[.countryName]?.valueTag, 19)        // PrintableString
        XCTAssertEqual(byType[.domainComponent]?.valueTag, 12)    // not IA5: non-ASCII
        XCTAssertEqual(try DistinguishedName(rfc4514: "DC=example").attributes.first?.valueTag, 22)
        XCTAssertEqual(try DistinguishedName(rfc4514: "C=U_S").attributes.first?.valueTag, 12)  // '_' is not printable
        // Errors name the byte offset where parsing stopped.
        XCTAssertThrowsError(try DistinguishedName(rfc4514: "CN=\u{00E9}\"x")) {
            XCTAssertEqual(($0 as? X509Error)?.code, .invalidNameString)
            XCTAssertTrue("\($0)".contains("at offset 5"), "\($0)")
        }
        XCTAssertThrowsError(try DistinguishedName(rfc4514: "CN=#0c0"))          // odd hex
        XCTAssertThrowsError(try DistinguishedName(rfc4514: "CN=\\\u{00E9}"))     // escape of a non-ASCII character
        XCTAssertThrowsError(try DistinguishedName(rfc4514: "C\u{00E9}=x"))       // non-ASCII type
    }

    func testOIDs() {
        XCTAssertEqual(OID(dotted: "1.2.840.113549.1.1.11"), .sha256WithRSAEncryption)
        XCTAssertEqual(OID.sha256WithRSAEncryption.derContent, [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b])
        XCTAssertEqual(OID.domainComponent.dotted, "0.9.2342.19200300.100.1.25")
        XCTAssertEqual(OID(dotted: "2.999.3")?.dotted, "2.999.3")
        XCTAssertNil(OID(dotted: "1"))
        XCTAssertNil(OID(dotted: "3.1"))
        XCTAssertNil(OID(dotted: "1.40"))
        XCTAssertNil(OID(dotted: "1..2"))
    }
}
