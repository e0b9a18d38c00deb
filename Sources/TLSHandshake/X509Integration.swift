import Foundation
import TLSCrypto
import TLSRecord
import X509

/// The certificate check TLS connections use by default: RFC 5280 path
/// validation and RFC 6125 name matching through the X509 module, with each
/// failure mapped to the alert RFC 8446 6.2 names for it.
public final class X509PeerVerifier: PeerCertificateVerifier {
    public let verifier: CertificateVerifier?
    /// Injected time (Unix seconds) for reproducible checks; nil = now.
    public var time: Int64?
    /// Chains that passed, so a server's chain is not validated again on every
    /// handshake (path building, names, usages: tens of µs).
    private let verified = VerifiedChainCache()

    /// `trustStore` nil means "do not verify": the chain is only parsed for its key.
    public init(trustStore: TrustStore?, policy: VerificationPolicy = .default) {
        self.verifier = trustStore.map { CertificateVerifier(trustStore: $0, policy: policy) }
    }

    /// The system's CA bundle, loaded once per process.
    public static let systemTrustStore: TrustStore? = try? TrustStore.system()

    public func verify(chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity {
        guard let leafDER = chain.first else { throw HandshakeError(.decodeError, "empty certificate chain") }
        guard let verifier else {
            let leaf: Certificate
            do { leaf = try Certificate(derEncoded: leafDER) } catch { throw HandshakeError(.badCertificate, "cannot parse the certificate: \(error)") }
            guard let key = leaf.publicKey else { throw HandshakeError(.unsupportedCertificate, "unsupported public key in the certificate") }
            return PeerIdentity(publicKey: key, chain: chain, subject: leaf.subject.rfc4514String, issuer: leaf.issuer.rfc4514String,
                                verified: false, verdict: "not verified (verification disabled)")
        }
        let hostname = peer == .server ? serverName : nil
        let now = time ?? Int64(Date().timeIntervalSince1970)
        let cacheKey = VerifiedChainCache.Key(chain: chain, hostname: hostname, peer: peer)
        if let known = verified.lookup(cacheKey, at: now) { return known }
        do {
            let path = try verifier.verify(chainDER: chain, hostname: hostname,
                                           purpose: peer == .server ? .server : .client,
                                           time: time.map(X509Time.init(secondsSinceEpoch:)))
            guard let key = path.leaf.publicKey else { throw HandshakeError(.unsupportedCertificate, "unsupported public key") }
            var identity = PeerIdentity(publicKey: key, chain: chain, subject: path.leaf.subject.rfc4514String,
                                        issuer: path.leaf.issuer.rfc4514String, verified: true, verdict: "ok")
            identity.verifiedPath = path.certificates.map(\.der)
            // Everything the check depends on but the time is in the key; it holds
            // again while every certificate of the path is within its validity.
            let from = path.certificates.map(\.notBefore.secondsSinceEpoch).max() ?? now
            let until = path.certificates.map(\.notAfter.secondsSinceEpoch).min() ?? now
            verified.store(cacheKey, identity, from: from, until: until)
            return identity
        } catch let e as CertificateVerificationError {
            throw HandshakeError(Self.alert(for: e.reason), "certificate verification failed: \(e)")
        }
    }

    static func alert(for reason: CertificateFailureReason) -> AlertDescription {
        switch reason {
        case .expired, .notYetValid: return .certificateExpired
        case .unknownIssuer, .loop, .chainTooLong: return .unknownCA
        case .unsupportedCriticalExtension, .unsupportedAlgorithm, .keyUsage, .extendedKeyUsage, .keyTooSmall, .weakSignatureAlgorithm:
            return .unsupportedCertificate
        default: return .badCertificate
        }
    }
}

/// Verified chains with the window in which the verdict holds, bounded.
final class VerifiedChainCache: @unchecked Sendable {
    struct Key: Hashable {
        var chain: [[UInt8]]
        var hostname: String?
        var peer: PeerRole
    }
    private var entries: [Key: (identity: PeerIdentity, from: Int64, until: Int64)] = [:]
    private let lock = NSLock()
    private let capacity = 256

    func lookup(_ key: Key, at now: Int64) -> PeerIdentity? {
        lock.lock(); defer { lock.unlock() }
        guard let e = entries[key], e.from <= now, now <= e.until else { return nil }
        return e.identity
    }

    func store(_ key: Key, _ identity: PeerIdentity, from: Int64, until: Int64) {
        lock.lock(); defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = (identity, from, until)
    }
}

/// Problems loading certificates and keys from files.
public struct CredentialError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension CertifiedKey {
    /// Loads a chain (PEM or DER; leaf first) and its private key. With no key
    /// file, the key is looked for in the certificate file (as Python's
    /// `ssl` allows). The key must match the leaf.
    public static func load(certificateFile: String, keyFile: String?, passphrase: String? = nil) throws -> CertifiedKey {
        guard let certData = FileManager.default.contents(atPath: certificateFile) else {
            throw CredentialError("cannot read certificate file \(certificateFile)")
        }
        let certs: [Certificate]
        do { certs = try Certificate.parseMany(Array(certData)) } catch {
            throw CredentialError("\(certificateFile): \(error)")
        }
        guard !certs.isEmpty else { throw CredentialError("\(certificateFile) holds no certificate") }
        let keyPath = keyFile ?? certificateFile
        guard let keyData = FileManager.default.contents(atPath: keyPath) else { throw CredentialError("cannot read key file \(keyPath)") }
        let key: PrivateKey
        do { key = try PrivateKeyParser.parse(Array(keyData), passphrase: passphrase.map { Array($0.utf8) }).key } catch {
            throw CredentialError("\(keyPath): \(error)")
        }
        return try CertifiedKey(certificates: certs, privateKey: key)
    }

    /// A chain and key already in memory; the key must match the leaf.
    public init(certificates: [Certificate], privateKey: PrivateKey) throws {
        guard let leaf = certificates.first else { throw CredentialError("no certificate") }
        guard let leafKey = leaf.publicKey, leafKey == privateKey.publicKey else {
            throw CredentialError("the private key does not match the certificate \(leaf.subject.rfc4514String)")
        }
        self.init(chain: certificates.map(\.der), privateKey: privateKey, names: CertifiedKey.names(of: leaf))
    }

    /// What SNI picks a certificate by: its DNS names and IP addresses.
    static func names(of leaf: Certificate) -> [String] { leaf.dnsNames + leaf.ipAddresses.map { IPAddress.format($0) } }

    /// A certificate chain whose private key stays outside this process (a hardware token,
    /// a signing service): `signer` is given the scheme and the exact bytes to sign.
    public init(certificates: [Certificate], signer: @escaping (SignatureScheme, [UInt8]) throws -> [UInt8]) throws {
        guard let leaf = certificates.first else { throw CredentialError("no certificate") }
        guard let leafKey = leaf.publicKey else {
            throw CredentialError("the certificate \(leaf.subject.rfc4514String) has a public key we cannot use")
        }
        self.init(chain: certificates.map(\.der), publicKey: leafKey, names: CertifiedKey.names(of: leaf), signer: signer)
    }
}

extension TLSConfiguration {
    /// The verifier a handshake uses: the configured one, else X.509 against
    /// the system trust store (or, with `verifyPeer` off, no verification).
    var effectiveVerifier: PeerCertificateVerifier {
        if let v = peerVerifier { return v }
        return verifyPeer ? X509PeerVerifier(trustStore: X509PeerVerifier.systemTrustStore ?? TrustStore())
                          : X509PeerVerifier(trustStore: nil)
    }
}

/// The client's check of a stapled OCSP response against the verified path, as
/// `config.stapledOCSPPolicy` says; nil when no response was asked for.
func checkStapledOCSP(_ config: TLSConfiguration, response: [UInt8]?, peer: PeerIdentity) throws -> StapledOCSPStatus? {
    guard config.requestOCSPStapling else { return nil }
    let required = config.stapledOCSPPolicy == .require
    func unusable(_ why: String) throws -> StapledOCSPStatus {
        if required { throw HandshakeError(.badCertificateStatusResponse, "OCSP stapling is required: \(why)") }
        return .absent
    }
    if config.stapledOCSPPolicy == .handOver { return .notChecked("responses are handed over unchecked") }
    guard peer.verified, let (leaf, issuer) = stapleIssuer(peer) else {
        if required { throw HandshakeError(.badCertificateStatusResponse, "OCSP stapling is required, but there is no verified issuer to check it with") }
        return .notChecked("the chain was not verified up to an issuer")
    }
    guard let response else { return try unusable("the server stapled no response") }
    let parsed: OCSPResponse
    do { parsed = try OCSPResponse(derEncoded: response) } catch {
        throw HandshakeError(.badCertificateStatusResponse, "stapled OCSP response: \(error)")
    }
    guard parsed.status == .successful else { return try unusable("the responder answered \(parsed.status)") }
    // The same time the chain was verified at.
    let seconds = (config.effectiveVerifier as? X509PeerVerifier)?.time ?? Int64(config.clock() / 1000)
    let now = X509Time(secondsSinceEpoch: seconds)
    let answer: SingleOCSPResponse
    do { answer = try parsed.check(leaf, issuer: issuer, at: now) } catch {
        throw HandshakeError(.badCertificateStatusResponse, "stapled OCSP response: \(error)")
    }
    switch answer.status {
    case .good:
        return .good(thisUpdate: answer.thisUpdate.secondsSinceEpoch, nextUpdate: answer.nextUpdate?.secondsSinceEpoch)
    case .revoked(let at, let reason):
        throw HandshakeError(.certificateRevoked, "the stapled OCSP response says \(leaf.subject) was revoked at \(at)"
                             + (reason.map { " (CRLReason \($0))" } ?? ""))
    case .unknown:
        if required { throw HandshakeError(.badCertificateStatusResponse, "OCSP stapling is required: the responder does not know the certificate") }
        return .unknown
    }
}

/// Runs the configured verifier; an error that is not a `HandshakeError`
/// (a user-supplied verifier's own) becomes bad_certificate.
/// The leaf and the issuer a stapled response is checked against: from the verified
/// path; a verifier that does not report one (a custom verifier that said "verified")
/// gets the chain's second certificate, if that one signed the leaf.
private func stapleIssuer(_ peer: PeerIdentity) -> (Certificate, Certificate)? {
    if peer.verifiedPath.count >= 2,
       let leaf = try? Certificate(derEncoded: peer.verifiedPath[0]), let issuer = try? Certificate(derEncoded: peer.verifiedPath[1]) {
        return (leaf, issuer)
    }
    guard peer.chain.count >= 2, let leaf = try? Certificate(derEncoded: peer.chain[0]),
          let issuer = try? Certificate(derEncoded: peer.chain[1]), leaf.issuer == issuer.subject,
          let key = issuer.publicKey, let alg = leaf.signatureAlgorithm.tlsCryptoAlgorithm, !leaf.signatureAlgorithm.isWeak,
          (try? key.verify(signature: leaf.signature, message: leaf.tbsDER, algorithm: alg)) != nil else { return nil }
    return (leaf, issuer)
}

func verifyPeerChain(_ config: TLSConfiguration, chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity {
    do {
        return try config.effectiveVerifier.verify(chain: chain, serverName: serverName, peer: peer)
    } catch let e as HandshakeError {
        throw e
    } catch {
        throw HandshakeError(.badCertificate, "certificate rejected: \(error)")
    }
}
