/// One call that runs arbitrary bytes through every X509 parser, for fuzz targets
/// (the contract: it returns, whatever the input; all failures are thrown errors,
/// caught here). No passphrase is tried, so no PBKDF2 work is spent on hostile input.
public enum X509Fuzz {
    @discardableResult
    public static func parseEverything(_ data: [UInt8]) -> Int {
        var parsed = 0
        // The loaders' PEM-or-DER choice, with the PEM text parsed once for all three.
        let certs: [Certificate]?
        let privateKey: LoadedPrivateKey?
        let publicKey: SubjectPublicKeyInfo?
        if PEM.looksLikePEM(data) {
            let blocks = (try? PEM.parse(data)) ?? []
            certs = try? Certificate.parseMany(blocks: blocks)
            privateKey = try? PrivateKeyParser.parse(blocks: blocks, passphrase: nil)
            publicKey = try? PublicKeyParser.parse(blocks: blocks)
        } else {
            certs = try? Certificate.parseMany(data)
            privateKey = try? PrivateKeyParser.parseDER(data, passphrase: nil)
            publicKey = try? PublicKeyParser.parse(data)
        }
        for c in certs ?? [] {
            parsed += 1
            _ = c.subject.rfc4514String + c.issuer.rfc4514String
            _ = (c.subjectAlternativeNames ?? []).map(\.description)
            _ = HostnameMatcher.matches(c, hostname: "www.example.com", allowCommonNameFallback: true)
            _ = HostnameMatcher.matches(c, hostname: "192.0.2.1")
            if let nc = c.nameConstraints { _ = NameConstraintChecker.check(c, against: nc) }
        }
        if (try? DistinguishedName(derEncoded: data)) != nil { parsed += 1 }
        if let ocsp = try? OCSPResponse(derEncoded: data) {
            parsed += 1
            // The checks too, against a certificate the response carries (its own signer, often).
            if let c = ocsp.basic?.certificates.first {
                _ = try? ocsp.check(c, issuer: c, at: X509Time(secondsSinceEpoch: 1_800_000_000))
            }
        }
        if privateKey != nil { parsed += 1 }
        if publicKey != nil { parsed += 1 }
        if let text = String(validating: data, as: UTF8.self) {
            if (try? DistinguishedName(rfc4514: text)) != nil { parsed += 1 }
            if IPAddress.parse(text) != nil { parsed += 1 }
        }
        return parsed
    }
}
