import Foundation
import TLSCrypto

/// Certificates and private keys under nicknames, in the spirit of NSS's cert DB
/// (`PK11_FindCertFromNickname`, `PK11_FindKeyByAnyCert`, `CERT_CheckCertValidTimes`,
/// `NSS_CmpCertChainWCANames`, ...). Certificates can be marked as trusted CAs; the
/// trust store for verification is then `trustStore`.
///
/// Thread-safe (an internal lock); lookups return values, never references into it.
public final class CertificateDatabase: @unchecked Sendable {
    public struct Entry {
        public let nickname: String
        public let certificate: Certificate
        public let isTrustedCA: Bool
    }

    /// The result of `checkValidTimes`, like NSS's SECCertTimeValidity.
    public enum TimeValidity: String, Sendable {
        case valid, expired, notYetValid = "not_yet_valid"
    }

    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    private var keys: [[UInt8]: PrivateKey] = [:]  // by SubjectPublicKeyInfo DER
    private let lock = NSLock()

    public init() {}

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    // MARK: adding

    /// Adds a certificate under a nickname (unique).
    public func add(_ certificate: Certificate, nickname: String, trustedCA: Bool = false) throws {
        try locked {
            guard !nickname.isEmpty else { throw X509Error(.nickname, "empty nickname") }
            guard entries[nickname] == nil else { throw X509Error(.nickname, "nickname \(nickname) is already in use") }
            entries[nickname] = Entry(nickname: nickname, certificate: certificate, isTrustedCA: trustedCA)
            order.append(nickname)
        }
    }

    /// Adds the private key of the certificate stored under `nickname`; the key must match it.
    public func addKey(_ key: PrivateKey, forNickname nickname: String) throws {
        try locked {
            guard let entry = entries[nickname] else { throw X509Error(.nickname, "no certificate named \(nickname)") }
            try PrivateKeyParser.checkMatch(key, certificate: entry.certificate)
            keys[entry.certificate.publicKeyInfo.der] = key
        }
    }

    /// Adds a certificate with its key (checked to match) in one step.
    public func add(_ certificate: Certificate, key: PrivateKey, nickname: String) throws {
        try PrivateKeyParser.checkMatch(key, certificate: certificate)
        try add(certificate, nickname: nickname)
        try addKey(key, forNickname: nickname)
    }

    /// Loads a certificate file (PEM or DER; the first certificate is stored under
    /// `nickname`, any further ones as "nickname #2", ...) and optionally its key file.
    public func importFiles(certificate certPath: String, key keyPath: String? = nil, passphrase: String? = nil,
                            nickname: String, trustedCA: Bool = false) throws {
        let certs = try Certificate.parseMany(try readFile(certPath))
        var loadedKey: PrivateKey? = nil
        if let kp = keyPath {
            loadedKey = try PrivateKeyParser.parse(try readFile(kp), passphrase: passphrase.map { Array($0.utf8) }).key
            if let k = loadedKey { try PrivateKeyParser.checkMatch(k, certificate: certs[0]) }
        }
        for (i, c) in certs.enumerated() {
            try add(c, nickname: i == 0 ? nickname : "\(nickname) #\(i + 1)", trustedCA: trustedCA)
        }
        if let k = loadedKey { try addKey(k, forNickname: nickname) }
    }

    public func remove(nickname: String) {
        locked {
            if let e = entries.removeValue(forKey: nickname) {
                order.removeAll { $0 == nickname }
                if !entries.values.contains(where: { $0.certificate.publicKeyInfo == e.certificate.publicKeyInfo }) {
                    keys.removeValue(forKey: e.certificate.publicKeyInfo.der)
                }
            }
        }
    }

    // MARK: lookups

    /// PK11_FindCertFromNickname.
    public func certificate(nickname: String) -> Certificate? { locked { entries[nickname]?.certificate } }

    /// Every nickname, in the order added.
    public var nicknames: [String] { locked { order } }

    /// Nicknames of certificates whose private key is present (PK11_ListCertsWithKeys, NSS's
    /// "user certificates"): what a server or a client can authenticate with.
    public var nicknamesWithKeys: [String] {
        locked { order.filter { n in entries[n].map { keys[$0.certificate.publicKeyInfo.der] != nil } ?? false } }
    }

    /// PK11_FindKeyByAnyCert: the private key for a certificate, if stored.
    public func privateKey(for certificate: Certificate) -> PrivateKey? {
        locked { keys[certificate.publicKeyInfo.der] }
    }

    public func privateKey(nickname: String) -> PrivateKey? {
        locked { entries[nickname].flatMap { keys[$0.certificate.publicKeyInfo.der] } }
    }

    /// The nickname a certificate is stored under.
    public func nickname(of certificate: Certificate) -> String? {
        locked { order.first { entries[$0]?.certificate == certificate } }
    }

    /// Certificates whose subject matches `name`.
    public func certificates(subject name: DistinguishedName) -> [Certificate] {
        locked { order.compactMap { entries[$0] }.filter { $0.certificate.subject == name }.map(\.certificate) }
    }

    /// CERT_CheckCertValidTimes.
    public func checkValidTimes(_ certificate: Certificate, at time: X509Time) -> TimeValidity {
        if time < certificate.notBefore { return .notYetValid }
        if time > certificate.notAfter { return .expired }
        return .valid
    }

    /// Whether the certificate's issuer (or, for a chain, any issuer up the stored chain)
    /// is one of `caNames` — the test a client runs on a server's certificate_authorities
    /// list before offering a certificate (NSS_CmpCertChainWCANames).
    public func issuerIsIn(_ certificate: Certificate, caNames: [DistinguishedName]) -> Bool {
        let wanted = Set(caNames)
        var current = certificate
        var steps = 0
        while steps < 10 {
            if wanted.contains(current.issuer) { return true }
            guard !current.isSelfIssued,
                  let next = certificates(subject: current.issuer).first(where: { $0 != current }) else { return false }
            current = next
            steps += 1
        }
        return false
    }

    /// Same, with the names as DER (as TLS carries them in certificate_authorities).
    public func issuerIsIn(_ certificate: Certificate, caNamesDER: [[UInt8]]) -> Bool {
        issuerIsIn(certificate, caNames: caNamesDER.compactMap { try? DistinguishedName(derEncoded: $0) })
    }

    /// The certificates marked as trusted CAs, as a trust store.
    public var trustStore: TrustStore {
        locked { TrustStore(certificates: order.compactMap { entries[$0] }.filter(\.isTrustedCA).map(\.certificate)) }
    }

    /// The stored chain above `certificate` (issuers found by name, signatures not checked),
    /// for sending with it in a handshake.
    public func chain(for certificate: Certificate, maximumLength: Int = 10) -> [Certificate] {
        var out = [certificate]
        var current = certificate
        while out.count < maximumLength, !current.isSelfIssued,
              let next = certificates(subject: current.issuer).first(where: { c in !out.contains(c) }) {
            out.append(next)
            current = next
        }
        return out
    }
}
