import SwiftASN1
import TLSCrypto

/// A parsed X.509 certificate (RFC 5280 section 4), immutable.
///
/// The exact DER of the certificate and of its TBSCertificate are kept: the
/// signature is checked over `tbsDER`, and TLS sends `der` on the wire. Parsing
/// is strict DER; known extensions are decoded (a malformed one is a parse
/// error), unknown ones are kept as raw `Extension`s. Equality is by DER.
public final class Certificate: Hashable, CustomStringConvertible, @unchecked Sendable {
    /// The whole certificate, as received.
    public let der: [UInt8]
    /// The TBSCertificate, the signed part.
    public let tbsDER: [UInt8]
    /// 1, 2 or 3.
    public let version: Int
    /// The serial number's INTEGER content bytes (two's complement, as encoded).
    public let serialNumber: [UInt8]
    public let signatureAlgorithm: CertificateSignatureAlgorithm
    public let issuer: DistinguishedName
    public let subject: DistinguishedName
    public let notBefore: X509Time
    public let notAfter: X509Time
    public let publicKeyInfo: SubjectPublicKeyInfo
    public let signature: [UInt8]
    /// Every extension in certificate order.
    public let extensions: [Extension]

    // Decoded extensions (nil when absent).
    public let basicConstraints: BasicConstraints?
    public let keyUsage: KeyUsage?
    public let extendedKeyUsage: [OID]?
    public let subjectAlternativeNames: [GeneralName]?
    public let issuerAlternativeNames: [GeneralName]?
    public let nameConstraints: NameConstraints?
    public let authorityKeyIdentifier: AuthorityKeyIdentifier?
    public let subjectKeyIdentifier: [UInt8]?
    public let certificatePolicies: [PolicyInformation]?
    public let authorityInfoAccess: [AccessDescription]?

    /// Critical extensions this library does not process: such a certificate is
    /// never accepted by `CertificateVerifier` (RFC 5280 4.2).
    public let unhandledCriticalExtensions: [OID]

    /// The TLSCrypto key, built once at parse time; nil when the key is unsupported
    /// or invalid (`publicKeyError` says why).
    public let publicKey: PublicKey?
    public let publicKeyError: X509Error?

    /// SHA-256 of `der`, the usual fingerprint.
    public let sha256Fingerprint: [UInt8]

    /// Extensions whose semantics we implement: critical ones are accepted.
    static let handledExtensions: Set<OID> = [
        .basicConstraints, .keyUsage, .extKeyUsage, .subjectAltName, .issuerAltName, .nameConstraints,
        .authorityKeyIdentifier, .subjectKeyIdentifier, .certificatePolicies, .authorityInfoAccess,
        .subjectInfoAccess, .crlDistributionPoints, .signedCertificateTimestamps, .ocspNoCheck,
    ]

    public convenience init(derEncoded bytes: [UInt8]) throws {
        try self.init(der: bytes)
    }

    /// Parses the first CERTIFICATE block of PEM text.
    public convenience init(pemEncoded text: String) throws {
        guard let block = try PEM.parse(text).first(where: { $0.label == "CERTIFICATE" }) else {
            throw X509Error(.noPEMBlock, "no CERTIFICATE block")
        }
        try self.init(der: block.der)
    }

    private init(der bytes: [UInt8]) throws {
        let root = try parseDER(bytes, "Certificate")
        var cert = try root.sequence("Certificate")
        let tbsNode = try cert.next("tbsCertificate")
        let outerAlgNode = try cert.next("signatureAlgorithm")
        let sigNode = try cert.next("signatureValue")
        try cert.finish()

        der = bytes
        tbsDER = Array(tbsNode.encodedBytes)
        signatureAlgorithm = try CertificateSignatureAlgorithm.parse(outerAlgNode)
        signature = try sigNode.bitStringBytes("signatureValue")

        var tbs = try tbsNode.sequence("TBSCertificate")
        var v = 1
        if let vNode = tbs.optional(Tag.context(0)) {
            var inner = try vNode.reader(Tag.context(0), "version")
            let n = try inner.next("version").smallInt("version", limit: 255)
            try inner.finish()
            guard n <= 2 else { throw X509Error(.unsupportedVersion, "certificate version \(n + 1)") }
            v = n + 1
        }
        version = v
        serialNumber = Array(try tbs.next("serialNumber").integerBytes("serialNumber"))
        let innerAlgNode = try tbs.next("signature")
        guard innerAlgNode.encodedBytes.elementsEqual(outerAlgNode.encodedBytes) else {
            throw X509Error(.signatureAlgorithmMismatch, "TBSCertificate signature field differs from signatureAlgorithm")
        }
        issuer = try DistinguishedName(node: try tbs.next("issuer"))
        var validity = try tbs.next("validity").sequence("Validity")
        notBefore = try X509Time.parse(try validity.next("notBefore"), "notBefore")
        notAfter = try X509Time.parse(try validity.next("notAfter"), "notAfter")
        try validity.finish()
        subject = try DistinguishedName(node: try tbs.next("subject"))
        publicKeyInfo = try SubjectPublicKeyInfo(node: try tbs.next("subjectPublicKeyInfo"))
        if tbs.optional(Tag.context(1)) != nil, v == 1 {
            throw X509Error(.unsupportedVersion, "issuerUniqueID in a v1 certificate")
        }
        if tbs.optional(Tag.context(2)) != nil, v == 1 {
            throw X509Error(.unsupportedVersion, "subjectUniqueID in a v1 certificate")
        }
        var exts: [Extension] = []
        if let extNode = tbs.optional(Tag.context(3)) {
            guard v == 3 else { throw X509Error(.unsupportedVersion, "extensions in a v\(v) certificate") }
            exts = try Extension.parseList(explicit: extNode, tag: 3, "extensions")
        }
        try tbs.finish()
        extensions = exts

        func decode<T>(_ oid: OID, _ parse: ([UInt8]) throws -> T) throws -> T? {
            guard let e = exts.first(where: { $0.oid == oid }) else { return nil }
            do {
                return try parse(e.value)
            } catch let err as X509Error {
                throw X509Error(.malformedExtension, "\(oid): \(err.message)")
            }
        }
        basicConstraints = try decode(.basicConstraints, BasicConstraints.init)
        keyUsage = try decode(.keyUsage, KeyUsage.init(der:))
        extendedKeyUsage = try decode(.extKeyUsage, ExtensionParsers.extKeyUsage)
        subjectAlternativeNames = try decode(.subjectAltName) { try ExtensionParsers.altNames($0, "subjectAltName") }
        issuerAlternativeNames = try decode(.issuerAltName) { try ExtensionParsers.altNames($0, "issuerAltName") }
        nameConstraints = try decode(.nameConstraints, NameConstraints.init)
        authorityKeyIdentifier = try decode(.authorityKeyIdentifier, AuthorityKeyIdentifier.init)
        subjectKeyIdentifier = try decode(.subjectKeyIdentifier, ExtensionParsers.subjectKeyIdentifier)
        certificatePolicies = try decode(.certificatePolicies, ExtensionParsers.certificatePolicies)
        authorityInfoAccess = try decode(.authorityInfoAccess) { try ExtensionParsers.accessDescriptions($0, "authorityInfoAccess") }
        _ = try decode(.subjectInfoAccess) { try ExtensionParsers.accessDescriptions($0, "subjectInfoAccess") }
        unhandledCriticalExtensions = exts.filter { $0.critical && !Certificate.handledExtensions.contains($0.oid) }.map(\.oid)

        var key: PublicKey? = nil
        var keyError: X509Error? = nil
        do {
            key = try publicKeyInfo.makePublicKey()
        } catch let e as X509Error {
            keyError = e
        } catch {
            keyError = X509Error(.invalidPublicKey, "\(error)")
        }
        publicKey = key
        publicKeyError = keyError
        sha256Fingerprint = Digest.hash(.sha256, bytes)
    }

    public static func == (a: Certificate, b: Certificate) -> Bool { a === b || a.der == b.der }
    public func hash(into h: inout Hasher) { h.combine(sha256Fingerprint) }

    /// Whether issuer and subject are the same name (self-issued, RFC 5280 6.1).
    public var isSelfIssued: Bool { issuer == subject }

    /// basicConstraints cA is TRUE.
    public var isCA: Bool { basicConstraints?.isCA ?? false }

    /// dNSName entries of the subjectAltName.
    public var dnsNames: [String] {
        (subjectAlternativeNames ?? []).compactMap { if case .dnsName(let s) = $0 { return s } else { return nil } }
    }

    /// iPAddress entries of the subjectAltName (4 or 16 bytes each).
    public var ipAddresses: [[UInt8]] {
        (subjectAlternativeNames ?? []).compactMap { if case .ipAddress(let b) = $0 { return b } else { return nil } }
    }

    /// Whether `time` lies within notBefore...notAfter (both inclusive, RFC 5280 4.1.2.5).
    public func isValid(at time: X509Time) -> Bool { notBefore <= time && time <= notAfter }

    /// The certificate as PEM text.
    public var pemString: String { PEMBlock(label: "CERTIFICATE", der: der).pemString }

    public var serialNumberHex: String { serialNumber.hexString }

    public var description: String { "Certificate(subject: \(subject), issuer: \(issuer), serial: \(serialNumberHex))" }

    // MARK: loading

    /// Every certificate in PEM text (CERTIFICATE and X509 CERTIFICATE labels;
    /// other blocks, such as keys, are skipped) or a single DER certificate.
    public static func parseMany(_ bytes: [UInt8]) throws -> [Certificate] {
        if let first = bytes.first, first == 0x30, !PEM.looksLikePEM(bytes) {
            return [try Certificate(der: bytes)]
        }
        return try parseMany(blocks: try PEM.parse(bytes))
    }

    /// Every certificate among already parsed PEM blocks (CERTIFICATE and X509 CERTIFICATE).
    public static func parseMany(blocks: [PEMBlock]) throws -> [Certificate] {
        var out: [Certificate] = []
        for block in blocks {
            switch block.label {
            case "CERTIFICATE", "X509 CERTIFICATE":
                out.append(try Certificate(der: block.der))
            default:
                continue
            }
        }
        guard !out.isEmpty else { throw X509Error(.noPEMBlock, "no certificate found") }
        return out
    }

    public static func parseMany(pem text: String) throws -> [Certificate] {
        try parseMany(Array(text.utf8))
    }
}
