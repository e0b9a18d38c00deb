import Foundation
import TLSCrypto

/// What the end-entity certificate is to be used for.
public enum CertificatePurpose: String, Sendable, CaseIterable {
    /// A TLS server (id-kp-serverAuth).
    case server
    /// A TLS client (id-kp-clientAuth).
    case client
    /// No extended-key-usage requirement.
    case any

    var ekuOID: OID? {
        switch self {
        case .server: return .serverAuth
        case .client: return .clientAuth
        case .any: return nil
        }
    }
}

/// Tunable rules of validation. `default` is what a TLS client should use.
public struct VerificationPolicy: Sendable {
    /// RSA keys anywhere in the chain must have at least this many bits.
    /// Tests lower it for the RFC 8448 RSA-1024 certificate.
    public var minimumRSAKeyBits = 2048
    /// The most intermediates (certificates between the leaf and the trust anchor)
    /// a chain may have; `openssl verify -verify_depth` counts the same way.
    public var maximumIntermediates = 10
    /// Look at the subject CN when the certificate has no dNSName (off: RFC 9525).
    public var allowCommonNameFallback = false
    /// Refuse an expired or not-yet-valid trust anchor (as OpenSSL and NSS do).
    public var checkTrustAnchorValidity = true
    /// Bound on candidate issuers tried in one verification (path-building work limit).
    public var maximumCandidateChecks = 200

    public init() {}
    public static let `default` = VerificationPolicy()
}

/// Why a chain was refused.
public enum CertificateFailureReason: String, Sendable, CaseIterable {
    case expired = "expired"
    case notYetValid = "not_yet_valid"
    case unknownIssuer = "unknown_issuer"
    case badSignature = "bad_signature"
    case notACA = "not_a_ca"
    case pathLengthExceeded = "path_length_exceeded"
    case keyUsage = "key_usage"
    case extendedKeyUsage = "extended_key_usage"
    case nameConstraints = "name_constraints"
    case hostnameMismatch = "hostname_mismatch"
    case unsupportedCriticalExtension = "unsupported_critical_extension"
    case weakSignatureAlgorithm = "weak_signature_algorithm"
    /// A signature or key algorithm this library cannot check (SHA-224, DSA, P-521, ...).
    case unsupportedAlgorithm = "unsupported_algorithm"
    case chainTooLong = "chain_too_long"
    case loop = "loop"
    case keyTooSmall = "key_too_small"
    /// A certificate handed to the verifier as bytes does not parse.
    case malformed = "malformed"
    /// No certificate was given.
    case emptyChain = "empty_chain"
}

/// A refused chain: the reason, words for people, and which certificate failed.
public struct CertificateVerificationError: Error, CustomStringConvertible, Sendable {
    public let reason: CertificateFailureReason
    public let detail: String
    /// The certificate the check failed on, when there is one.
    public let certificate: Certificate?
    /// Its position: 0 is the leaf.
    public let depth: Int?

    public init(_ reason: CertificateFailureReason, _ detail: String, certificate: Certificate? = nil, depth: Int? = nil) {
        self.reason = reason
        self.detail = detail
        self.certificate = certificate
        self.depth = depth
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}

/// A chain that passed: leaf first, trust anchor last.
public struct VerifiedChain: Sendable {
    public let certificates: [Certificate]
    public var leaf: Certificate { certificates[0] }
    public var trustAnchor: Certificate { certificates[certificates.count - 1] }
}

/// RFC 5280 path building and validation, with RFC 6125 identity checks.
///
/// Path building starts at the leaf and looks for issuers first among the trust
/// anchors, then among the untrusted certificates, by issuer/subject name with
/// key identifiers ordering (and excluding) candidates; every link's signature is
/// checked as it is added. Dead ends (no issuer, bad signature, loop, too long, or
/// a complete path that fails a check) make it back up and try the next candidate.
/// When no path works, the most telling failure is reported: a complete path's
/// failure over a bad link, over a loop or length problem, over an unknown issuer.
///
/// Thread-safe; signature results are cached per (issuer key, certificate), process-wide.
public final class CertificateVerifier: @unchecked Sendable {
    public let trustStore: TrustStore
    public let policy: VerificationPolicy
    private var cache: SignatureCache { SignatureCache.shared }
    /// Certificates seen by `verify(chainDER:)`, so a server's chain is parsed (and its
    /// keys loaded into libgcrypt) once, not on every handshake.
    private let parsed = ParsedCertificateCache()

    public init(trustStore: TrustStore, policy: VerificationPolicy = .default) {
        self.trustStore = trustStore
        self.policy = policy
    }

    /// The TLS engine's entry point: the peer's certificate_list as DER (leaf first).
    public func verify(chainDER: [[UInt8]], hostname: String?, purpose: CertificatePurpose = .server,
                       time: X509Time? = nil) throws -> VerifiedChain {
        guard !chainDER.isEmpty else { throw CertificateVerificationError(.emptyChain, "no certificate") }
        var certs: [Certificate] = []
        certs.reserveCapacity(chainDER.count)
        for (i, der) in chainDER.enumerated() {
            if let known = parsed.lookup(der) {
                certs.append(known)
                continue
            }
            do {
                let c = try Certificate(derEncoded: der)
                parsed.store(c)
                certs.append(c)
            } catch {
                throw CertificateVerificationError(.malformed, "certificate \(i): \(error)", depth: i)
            }
        }
        guard let leaf = certs.first else { throw CertificateVerificationError(.emptyChain, "no certificate") }
        return try verify(leaf: leaf, intermediates: Array(certs.dropFirst()), hostname: hostname,
                          purpose: purpose, time: time)
    }

    /// Verifies `leaf` up to a trust anchor through any of `intermediates` (in any order),
    /// at `time` (now when nil), for `purpose`, and for `hostname` when given (a DNS
    /// name or an IP address literal).
    public func verify(leaf: Certificate, intermediates: [Certificate] = [], hostname: String? = nil,
                       purpose: CertificatePurpose = .server, time: X509Time? = nil) throws -> VerifiedChain {
        let now = time ?? X509Time(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
        var search = PathSearch(verifier: self, pool: intermediates, time: now, purpose: purpose, hostname: hostname)
        if let chain = search.run(leaf: leaf) { return VerifiedChain(certificates: chain) }
        throw search.best?.error ?? CertificateVerificationError(.unknownIssuer, "no path to a trust anchor", certificate: leaf, depth: 0)
    }

    // MARK: signatures

    /// Checks that `issuer` signed `cert` (cached).
    fileprivate func checkSignature(of cert: Certificate, by issuer: Certificate, depth: Int) -> CertificateVerificationError? {
        let alg = cert.signatureAlgorithm
        if alg.isWeak {
            return CertificateVerificationError(.weakSignatureAlgorithm, "\(cert.subject) is signed with \(alg)", certificate: cert, depth: depth)
        }
        guard let cryptoAlg = alg.tlsCryptoAlgorithm else {
            return CertificateVerificationError(.unsupportedAlgorithm, "\(cert.subject) is signed with \(alg)", certificate: cert, depth: depth)
        }
        let info = issuer.publicKeyInfo
        if case .rsa = info.algorithm, info.keySizeBits < policy.minimumRSAKeyBits {
            return CertificateVerificationError(.keyTooSmall, "issuer \(issuer.subject) has an RSA-\(info.keySizeBits) key", certificate: issuer, depth: depth + 1)
        }
        if case .rsaPSS = info.algorithm {
            if info.keySizeBits < policy.minimumRSAKeyBits {
                return CertificateVerificationError(.keyTooSmall, "issuer \(issuer.subject) has an RSA-\(info.keySizeBits) key", certificate: issuer, depth: depth + 1)
            }
            if case .rsaPKCS1 = alg {
                return CertificateVerificationError(.badSignature, "an RSASSA-PSS key cannot make PKCS#1 v1.5 signatures", certificate: cert, depth: depth)
            }
        }
        guard let key = issuer.publicKey else {
            let why = issuer.publicKeyError?.message ?? "unusable key"
            return CertificateVerificationError(.unsupportedAlgorithm, "issuer \(issuer.subject): \(why)", certificate: issuer, depth: depth + 1)
        }
        let cacheKey = SignatureCache.Key(issuerKey: info.der, certificate: cert.sha256Fingerprint)
        if let known = cache.lookup(cacheKey) {
            return known ? nil : CertificateVerificationError(.badSignature, "the signature on \(cert.subject) does not verify with \(issuer.subject)'s key", certificate: cert, depth: depth)
        }
        do {
            try key.verify(signature: cert.signature, message: cert.tbsDER, algorithm: cryptoAlg)
            cache.store(cacheKey, true)
            return nil
        } catch {
            cache.store(cacheKey, false)
            return CertificateVerificationError(.badSignature, "the signature on \(cert.subject) does not verify with \(issuer.subject)'s key", certificate: cert, depth: depth)
        }
    }

    // MARK: checks on a complete path

    /// RFC 5280 6.1 checks on `path` (leaf first, anchor last), then the identity check.
    fileprivate func checkPath(_ path: [Certificate], time: X509Time, purpose: CertificatePurpose,
                               hostname: String?) -> CertificateVerificationError? {
        let n = path.count
        let anchorIndex = n - 1
        let anchor = path[anchorIndex]
        // A trusted leaf on its own (n == 1, a pinned certificate) is always held to its validity.
        if policy.checkTrustAnchorValidity || n == 1, let e = checkValidity(anchor, time: time, depth: anchorIndex) { return e }
        if n == 1, let oid = anchor.unhandledCriticalExtensions.first {
            return CertificateVerificationError(.unsupportedCriticalExtension, "\(anchor.subject) has the critical extension \(oid), which is not supported", certificate: anchor, depth: 0)
        }
        if let e = checkKeySize(anchor, depth: anchorIndex) { return e }
        // Path length and name constraints imposed by the anchor itself, if it carries them.
        var constraintsFromAbove: [(Certificate, Int)] = []
        if n > 1 {
            if anchor.nameConstraints != nil { constraintsFromAbove.append((anchor, anchorIndex)) }
            if let limit = anchor.basicConstraints?.pathLength, anchor.isCA {
                let below = nonSelfIssuedIntermediates(path, below: anchorIndex)
                if below > limit {
                    return CertificateVerificationError(.pathLengthExceeded, "\(below) CA certificates below \(anchor.subject), whose pathLenConstraint is \(limit)", certificate: anchor, depth: anchorIndex)
                }
            }
        }
        // From the top intermediate down to the leaf.
        var i = anchorIndex - 1
        while i >= 0 {
            let cert = path[i]
            let isLeaf = i == 0
            if let e = checkValidity(cert, time: time, depth: i) { return e }
            if let oid = cert.unhandledCriticalExtensions.first {
                return CertificateVerificationError(.unsupportedCriticalExtension, "\(cert.subject) has the critical extension \(oid), which is not supported", certificate: cert, depth: i)
            }
            if let e = checkKeySize(cert, depth: i) { return e }
            // Name constraints of every CA above apply (self-issued intermediates are exempt).
            if isLeaf || !cert.isSelfIssued {
                let cnAsDNS = isLeaf && policy.allowCommonNameFallback && cert.dnsNames.isEmpty ? cert.subject.commonNames : []
                for (ca, caDepth) in constraintsFromAbove {
                    guard let nc = ca.nameConstraints else { continue }
                    if let why = NameConstraintChecker.check(cert, against: nc, extraDNSNames: cnAsDNS) {
                        return CertificateVerificationError(.nameConstraints, "\(why) (constraints of \(ca.subject) at depth \(caDepth))", certificate: cert, depth: i)
                    }
                }
            }
            if !isLeaf {
                // RFC 5280 6.1.4 (k): a v3 CA needs basicConstraints cA; v1/v2 intermediates are not CAs.
                guard let bc = cert.basicConstraints, bc.isCA else {
                    let why = cert.version < 3 ? "is an X.509 v\(cert.version) certificate" : (cert.basicConstraints == nil ? "has no basicConstraints" : "has basicConstraints cA FALSE")
                    return CertificateVerificationError(.notACA, "intermediate \(cert.subject) \(why)", certificate: cert, depth: i)
                }
                if let ku = cert.keyUsage, !ku.contains(.keyCertSign) {
                    return CertificateVerificationError(.keyUsage, "intermediate \(cert.subject) lacks keyCertSign (keyUsage: \(ku))", certificate: cert, depth: i)
                }
                if let limit = bc.pathLength {
                    let below = nonSelfIssuedIntermediates(path, below: i)
                    if below > limit {
                        return CertificateVerificationError(.pathLengthExceeded, "\(below) CA certificates below \(cert.subject), whose pathLenConstraint is \(limit)", certificate: cert, depth: i)
                    }
                }
                if let eku = cert.extendedKeyUsage, let want = purpose.ekuOID,
                   !eku.contains(want), !eku.contains(.anyExtendedKeyUsage) {
                    return CertificateVerificationError(.extendedKeyUsage, "intermediate \(cert.subject) is restricted to \(eku.map(\.description).joined(separator: ", "))", certificate: cert, depth: i)
                }
                if cert.nameConstraints != nil { constraintsFromAbove.append((cert, i)) }
            } else if let e = checkLeafUsage(cert, purpose: purpose) {
                return e
            }
            i -= 1
        }
        // A trusted leaf on its own (a pinned certificate) still has to be fit for the purpose.
        if n == 1, let e = checkLeafUsage(anchor, purpose: purpose) { return e }
        if let host = hostname {
            if !HostnameMatcher.matches(path[0], hostname: host, allowCommonNameFallback: policy.allowCommonNameFallback) {
                let names = (path[0].subjectAlternativeNames ?? []).map(\.description).joined(separator: ", ")
                return CertificateVerificationError(.hostnameMismatch, "\(host) does not match the certificate (\(names.isEmpty ? "no subjectAltName" : names))", certificate: path[0], depth: 0)
            }
        }
        return nil
    }

    private func checkLeafUsage(_ cert: Certificate, purpose: CertificatePurpose) -> CertificateVerificationError? {
        if purpose != .any, let ku = cert.keyUsage, !ku.contains(.digitalSignature) {
            return CertificateVerificationError(.keyUsage, "the leaf's keyUsage (\(ku)) lacks digitalSignature, which TLS needs", certificate: cert, depth: 0)
        }
        if let eku = cert.extendedKeyUsage, let want = purpose.ekuOID,
           !eku.contains(want), !eku.contains(.anyExtendedKeyUsage) {
            return CertificateVerificationError(.extendedKeyUsage, "the leaf is for \(eku.map(\.description).joined(separator: ", ")), not \(want)", certificate: cert, depth: 0)
        }
        return nil
    }

    private func nonSelfIssuedIntermediates(_ path: [Certificate], below index: Int) -> Int {
        guard index > 1 else { return 0 }
        return path[1..<index].filter { !$0.isSelfIssued }.count
    }

    private func checkValidity(_ cert: Certificate, time: X509Time, depth: Int) -> CertificateVerificationError? {
        if time < cert.notBefore {
            return CertificateVerificationError(.notYetValid, "\(cert.subject) is valid from \(cert.notBefore), the time is \(time)", certificate: cert, depth: depth)
        }
        if time > cert.notAfter {
            return CertificateVerificationError(.expired, "\(cert.subject) expired at \(cert.notAfter), the time is \(time)", certificate: cert, depth: depth)
        }
        return nil
    }

    private func checkKeySize(_ cert: Certificate, depth: Int) -> CertificateVerificationError? {
        let info = cert.publicKeyInfo
        switch info.algorithm {
        case .rsa, .rsaPSS:
            if info.keySizeBits < policy.minimumRSAKeyBits {
                return CertificateVerificationError(.keyTooSmall, "\(cert.subject) has an RSA-\(info.keySizeBits) key; the minimum is \(policy.minimumRSAKeyBits)", certificate: cert, depth: depth)
            }
        default: break
        }
        return nil
    }
}

/// One run of depth-first path building.
private struct PathSearch {
    let verifier: CertificateVerifier
    let pool: [Certificate]
    let time: X509Time
    let purpose: CertificatePurpose
    let hostname: String?
    var best: (rank: Int, error: CertificateVerificationError)? = nil
    var candidatesTried = 0
    let poolBySubject: [DistinguishedName: [Int]]

    init(verifier: CertificateVerifier, pool: [Certificate], time: X509Time, purpose: CertificatePurpose, hostname: String?) {
        self.verifier = verifier
        self.pool = pool
        self.time = time
        self.purpose = purpose
        self.hostname = hostname
        var index: [DistinguishedName: [Int]] = [:]
        for (i, c) in pool.enumerated() { index[c.subject, default: []].append(i) }
        self.poolBySubject = index
    }

    // Ranks: a complete path's failure says the most, then a bad link, then a loop or
    // length problem, then a missing issuer.
    static let rankPath = 4, rankLink = 3, rankShape = 2, rankNoIssuer = 1

    mutating func record(_ rank: Int, _ e: CertificateVerificationError) {
        if best == nil || rank > (best?.rank ?? 0) { best = (rank, e) }
    }

    mutating func run(leaf: Certificate) -> [Certificate]? {
        // A leaf that is itself trusted (a pinned self-signed server certificate).
        if verifier.trustStore.contains(leaf) {
            if let e = verifier.checkPath([leaf], time: time, purpose: purpose, hostname: hostname) {
                record(PathSearch.rankPath, e)
            } else {
                return [leaf]
            }
        }
        return extend([leaf])
    }

    /// Same subject and same key: the same CA for loop detection.
    static func sameEntity(_ a: Certificate, _ b: Certificate) -> Bool {
        a.subject == b.subject && a.publicKeyInfo.der == b.publicKeyInfo.der
    }

    /// How likely `candidate` issued `cert` judging by key identifiers (used to order
    /// candidates only): 2 = AKI matches SKI, 1 = cannot tell, 0 = they differ.
    static func keyIDScore(_ cert: Certificate, _ candidate: Certificate) -> Int {
        guard let aki = cert.authorityKeyIdentifier?.keyIdentifier, let ski = candidate.subjectKeyIdentifier else { return 1 }
        return aki == ski ? 2 : 0
    }

    mutating func extend(_ chain: [Certificate]) -> [Certificate]? {
        guard let current = chain.last else { return nil }
        let depth = chain.count - 1
        var foundAny = false

        // 1. Trust anchors that could have issued `current`.
        let anchors = verifier.trustStore.anchors(withSubject: current.issuer)
            .sorted { PathSearch.keyIDScore(current, $0) > PathSearch.keyIDScore(current, $1) }
        for anchor in anchors {
            // A self-signed certificate that is itself the anchor is handled by contains().
            if anchor == current { continue }
            foundAny = true
            guard budget() else { return nil }
            if let e = verifier.checkSignature(of: current, by: anchor, depth: depth) {
                recordLinkFailure(e, current, anchor, depth)
                continue
            }
            let path = chain + [anchor]
            if let e = verifier.checkPath(path, time: time, purpose: purpose, hostname: hostname) {
                record(PathSearch.rankPath, e)
                continue
            }
            return path
        }
        // An intermediate in the chain that is itself a trust anchor ends the path there.
        if chain.count > 1, verifier.trustStore.contains(current) {
            // `current` was reached through a verified link; treat it as the anchor.
            if let e = verifier.checkPath(chain, time: time, purpose: purpose, hostname: hostname) {
                record(PathSearch.rankPath, e)
            } else {
                return chain
            }
        }

        // 2. Untrusted certificates that could have issued `current`.
        let indices = (poolBySubject[current.issuer] ?? [])
            .filter { !PathSearch.sameEntity(pool[$0], current) }
            .sorted { a, b in
                let sa = PathSearch.keyIDScore(current, pool[a]), sb = PathSearch.keyIDScore(current, pool[b])
                return sa != sb ? sa > sb : a < b
            }
        var seen = Set<[UInt8]>()
        for idx in indices {
            let candidate = pool[idx]
            guard seen.insert(candidate.sha256Fingerprint).inserted else { continue }  // duplicates in the pool
            if verifier.trustStore.contains(candidate) { continue }  // already tried as an anchor
            foundAny = true
            if chain.contains(where: { PathSearch.sameEntity($0, candidate) }) {
                record(PathSearch.rankShape, CertificateVerificationError(.loop, "\(candidate.subject) appears twice in the path", certificate: candidate, depth: depth + 1))
                continue
            }
            // chain minus the leaf are intermediates; the candidate would be one more.
            if chain.count > verifier.policy.maximumIntermediates {
                record(PathSearch.rankShape, CertificateVerificationError(.chainTooLong, "more than \(verifier.policy.maximumIntermediates) intermediate certificates", certificate: candidate, depth: depth + 1))
                continue
            }
            guard budget() else { return nil }
            if let e = verifier.checkSignature(of: current, by: candidate, depth: depth) {
                recordLinkFailure(e, current, candidate, depth)
                continue
            }
            if let found = extend(chain + [candidate]) { return found }
            if candidatesTried > verifier.policy.maximumCandidateChecks { return nil }
        }
        if !foundAny {
            let what = current.isSelfIssued ? "\(current.subject) is self-signed and not trusted"
                                            : "no certificate for the issuer \(current.issuer) of \(current.subject)"
            record(PathSearch.rankNoIssuer, CertificateVerificationError(.unknownIssuer, what, certificate: current, depth: depth))
        }
        return nil
    }

    /// A signature that fails under a candidate whose key identifier already said it
    /// is a different key is no evidence of tampering: that candidate simply is not
    /// the issuer (an impostor with the same name), so it counts as a missing issuer.
    mutating func recordLinkFailure(_ e: CertificateVerificationError, _ cert: Certificate, _ candidate: Certificate, _ depth: Int) {
        if e.reason == .badSignature, PathSearch.keyIDScore(cert, candidate) == 0 {
            record(PathSearch.rankNoIssuer, CertificateVerificationError(
                .unknownIssuer, "\(candidate.subject) has the issuer's name but another key (its subjectKeyIdentifier differs from the authorityKeyIdentifier of \(cert.subject))",
                certificate: cert, depth: depth))
        } else {
            record(PathSearch.rankLink, e)
        }
    }

    /// Counts one candidate check; false once the work limit is reached.
    mutating func budget() -> Bool {
        candidatesTried += 1
        if candidatesTried > verifier.policy.maximumCandidateChecks {
            record(PathSearch.rankShape, CertificateVerificationError(.chainTooLong, "path building gave up after \(verifier.policy.maximumCandidateChecks) candidate issuers"))
            return false
        }
        return true
    }
}

/// Verified (and refuted) signatures per (issuer key, certificate), bounded.
/// Process-wide: the key names the issuer key and the certificate exactly, so an entry
/// is true whatever trust store or policy asks.
final class SignatureCache: @unchecked Sendable {
    static let shared = SignatureCache()
    struct Key: Hashable {
        let issuerKey: [UInt8]
        let certificate: [UInt8]
    }
    private var entries: [Key: Bool] = [:]
    private let lock = NSLock()
    private let capacity = 4096

    func lookup(_ k: Key) -> Bool? {
        lock.lock(); defer { lock.unlock() }
        return entries[k]
    }

    func store(_ k: Key, _ ok: Bool) {
        lock.lock(); defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[k] = ok
    }
}

/// Parsed certificates by their DER, bounded.
final class ParsedCertificateCache: @unchecked Sendable {
    private var entries: [[UInt8]: Certificate] = [:]
    private let lock = NSLock()
    private let capacity = 512

    func lookup(_ der: [UInt8]) -> Certificate? {
        lock.lock(); defer { lock.unlock() }
        return entries[der]
    }

    func store(_ c: Certificate) {
        lock.lock(); defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[c.der] = c
    }
}
