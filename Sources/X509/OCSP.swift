import SwiftASN1
import TLSCrypto

/// An OCSP response (RFC 6960 4.2.1), as a TLS server staples it (RFC 6066 8).
public struct OCSPResponse: Sendable {
    /// OCSPResponseStatus. Only `successful` responses carry (signed) answers.
    public enum Status: Int, Sendable {
        case successful = 0, malformedRequest = 1, internalError = 2, tryLater = 3, sigRequired = 5, unauthorized = 6
    }

    public let der: [UInt8]
    public let status: Status
    /// The basic response (id-pkix-ocsp-basic), present exactly when `status` is successful.
    public let basic: BasicOCSPResponse?

    public init(derEncoded bytes: [UInt8]) throws {
        der = bytes
        var seq = try parseDER(bytes, "OCSPResponse").sequence("OCSPResponse")
        let statusNode = try seq.next("responseStatus")
        guard statusNode.identifier == .enumerated else {
            throw X509Error(.unexpectedStructure, "OCSPResponse: responseStatus is not an ENUMERATED")
        }
        let code = try statusNode.smallInt("responseStatus", limit: 255, tag: .enumerated)
        guard let s = Status(rawValue: code) else { throw X509Error(.unexpectedStructure, "OCSPResponse: unknown status \(code)") }
        status = s
        if let wrapped = seq.optional(Tag.context(0)) {
            var explicit = try wrapped.reader(Tag.context(0), "responseBytes")
            var rb = try explicit.next("ResponseBytes").sequence("ResponseBytes")
            try explicit.finish()
            let type = try rb.next("responseType").oid("responseType")
            let body = try rb.next("response").octetString("response")
            try rb.finish()
            guard type == .ocspBasic else {
                throw X509Error(.unsupportedFormat, "OCSPResponse: response type \(type) (only id-pkix-ocsp-basic is read)")
            }
            basic = try BasicOCSPResponse(node: try parseDER(body, "BasicOCSPResponse"))
        } else {
            basic = nil
        }
        try seq.finish()
        guard (status == .successful) == (basic != nil) else {
            throw X509Error(.unexpectedStructure, "OCSPResponse: responseBytes must be present exactly when the status is successful")
        }
    }
}

/// BasicOCSPResponse and its ResponseData (RFC 6960 4.2.1).
public struct BasicOCSPResponse: Sendable {
    public enum ResponderID: Sendable, Equatable {
        case byName(DistinguishedName)
        /// SHA-1 of the responder's subjectPublicKey BIT STRING contents.
        case byKey([UInt8])
    }

    /// The exact DER of tbsResponseData: what the signature covers.
    public let tbsDER: [UInt8]
    public let responderID: ResponderID
    public let producedAt: X509Time
    public let responses: [SingleOCSPResponse]
    public let signatureAlgorithm: CertificateSignatureAlgorithm
    public let signature: [UInt8]
    /// Certificates that help verify the signature (a delegated responder's, usually).
    public let certificates: [Certificate]
    /// responseExtensions marked critical: none is understood, so such a response is not
    /// relied on (RFC 6960 4.4).
    public let criticalExtensions: [OID]

    init(node: ASN1Node) throws {
        var seq = try node.sequence("BasicOCSPResponse")
        let tbsNode = try seq.next("tbsResponseData")
        signatureAlgorithm = try CertificateSignatureAlgorithm.parse(try seq.next("signatureAlgorithm"))
        signature = try seq.next("signature").bitStringBytes("signature")
        var certs: [Certificate] = []
        if let wrapped = seq.optional(Tag.context(0)) {
            var explicit = try wrapped.reader(Tag.context(0), "certs")
            var list = try explicit.next("certs").sequence("certs")
            try explicit.finish()
            while let c = list.nextIfAny() { certs.append(try Certificate(derEncoded: Array(c.encodedBytes))) }
        }
        certificates = certs
        try seq.finish()

        tbsDER = Array(tbsNode.encodedBytes)
        var tbs = try tbsNode.sequence("ResponseData")
        if let versionNode = tbs.optional(Tag.context(0)) {
            var explicit = try versionNode.reader(Tag.context(0), "version")
            let v = try explicit.next("version").smallInt("version", limit: 255)
            try explicit.finish()
            guard v == 0 else { throw X509Error(.unsupportedVersion, "ResponseData version \(v + 1)") }
        }
        let idNode = try tbs.next("responderID")
        if idNode.identifier == Tag.context(1) {
            var explicit = try idNode.reader(Tag.context(1), "responderID byName")
            responderID = .byName(try DistinguishedName(node: try explicit.next("Name")))
            try explicit.finish()
        } else if idNode.identifier == Tag.context(2) {
            var explicit = try idNode.reader(Tag.context(2), "responderID byKey")
            let hash = try explicit.next("KeyHash").octetString("KeyHash")
            try explicit.finish()
            guard hash.count == 20 else { throw X509Error(.unexpectedStructure, "responderID byKey: \(hash.count)-byte key hash, not SHA-1") }
            responderID = .byKey(Array(hash))
        } else {
            throw X509Error(.unexpectedStructure, "responderID: unexpected \(idNode.identifier)")
        }
        let produced = try tbs.next("producedAt")
        try produced.expect(Tag.generalizedTime, "producedAt")
        producedAt = try X509Time.parse(produced, "producedAt")
        var list = try tbs.next("responses").sequence("responses")
        var singles: [SingleOCSPResponse] = []
        while let r = list.nextIfAny() { singles.append(try SingleOCSPResponse(node: r)) }
        responses = singles
        // responseExtensions (a nonce, usually): none is acted on in stapling.
        criticalExtensions = try ocspExtensions(tbs.optional(Tag.context(1)), "responseExtensions")
        try tbs.finish()
    }
}

/// The status of one certificate (SingleResponse, RFC 6960 4.2.1).
public struct SingleOCSPResponse: Sendable {
    public enum CertStatus: Sendable, Equatable {
        case good
        /// The revocation time and, when given, the CRLReason code (RFC 5280 5.3.1).
        case revoked(at: X509Time, reason: Int?)
        case unknown
    }

    /// CertID: which certificate this answers for.
    public let hashAlgorithm: DigestKind
    public let issuerNameHash: [UInt8]
    public let issuerKeyHash: [UInt8]
    public let serialNumber: [UInt8]
    public let status: CertStatus
    public let thisUpdate: X509Time
    public let nextUpdate: X509Time?
    /// singleExtensions marked critical (none is understood).
    public let criticalExtensions: [OID]

    init(node: ASN1Node) throws {
        var seq = try node.sequence("SingleResponse")
        var certID = try seq.next("certID").sequence("CertID")
        var alg = try certID.next("hashAlgorithm").sequence("CertID hashAlgorithm")
        let oid = try alg.next("algorithm").oid("CertID hash algorithm")
        if let params = alg.nextIfAny() { try params.null("CertID hash parameters") }
        try alg.finish()
        guard let kind = DigestKind.from(oid) else { throw X509Error(.unsupportedAlgorithm, "CertID hash algorithm \(oid)") }
        hashAlgorithm = kind
        issuerNameHash = Array(try certID.next("issuerNameHash").octetString("issuerNameHash"))
        issuerKeyHash = Array(try certID.next("issuerKeyHash").octetString("issuerKeyHash"))
        serialNumber = Array(try certID.next("serialNumber").integerBytes("serialNumber"))
        try certID.finish()

        let statusNode = try seq.next("certStatus")
        switch statusNode.identifier {
        case ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific):  // good [0] IMPLICIT NULL
            guard try statusNode.primitive("good").isEmpty else { throw X509Error(.unexpectedStructure, "certStatus good is not NULL") }
            status = .good
        case ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific):  // revoked [1] IMPLICIT RevokedInfo
            var info = try statusNode.reader(Tag.context(1), "RevokedInfo")
            let timeNode = try info.next("revocationTime")
            try timeNode.expect(Tag.generalizedTime, "revocationTime")
            let time = try X509Time.parse(timeNode, "revocationTime")
            var reason: Int? = nil
            if let r = info.optional(Tag.context(0)) {
                var explicit = try r.reader(Tag.context(0), "revocationReason")
                reason = try explicit.next("CRLReason").smallInt("CRLReason", limit: 10, tag: .enumerated)
                try explicit.finish()
            }
            try info.finish()
            status = .revoked(at: time, reason: reason)
        case ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific):  // unknown [2] IMPLICIT NULL
            guard try statusNode.primitive("unknown").isEmpty else { throw X509Error(.unexpectedStructure, "certStatus unknown is not NULL") }
            status = .unknown
        default:
            throw X509Error(.unexpectedStructure, "certStatus: unexpected \(statusNode.identifier)")
        }
        let thisNode = try seq.next("thisUpdate")
        try thisNode.expect(Tag.generalizedTime, "thisUpdate")
        thisUpdate = try X509Time.parse(thisNode, "thisUpdate")
        if let next = seq.optional(Tag.context(0)) {
            var explicit = try next.reader(Tag.context(0), "nextUpdate")
            let n = try explicit.next("nextUpdate")
            try n.expect(Tag.generalizedTime, "nextUpdate")
            nextUpdate = try X509Time.parse(n, "nextUpdate")
            try explicit.finish()
        } else {
            nextUpdate = nil
        }
        criticalExtensions = try ocspExtensions(seq.optional(Tag.context(1)), "singleExtensions")
        try seq.finish()
    }

    /// Whether this answers for `certificate`, issued by `issuer` (RFC 6960 4.1.1 CertID).
    public func matches(_ certificate: Certificate, issuer: Certificate) -> Bool {
        guard certificate.serialNumber == serialNumber else { return false }
        let digest: ([UInt8]) -> [UInt8]
        switch hashAlgorithm {
        case .sha1: digest = { Digest.sha1Identifier($0) }
        default:
            guard let h = hashAlgorithm.hashAlgorithm else { return false }
            digest = { Digest.hash(h, $0) }
        }
        // The issuer name as the certificate spells it (RFC 6960 4.1.1) or as the issuer's
        // subject does (what OpenSSL hashes): equal names may differ in encoding.
        let nameMatches = constantTimeEquals(digest(certificate.issuer.der), issuerNameHash)
            || constantTimeEquals(digest(issuer.subject.der), issuerNameHash)
        return nameMatches && constantTimeEquals(digest(issuer.publicKeyInfo.keyBytes), issuerKeyHash)
    }
}

/// An optional `[1] EXPLICIT Extensions` of OCSP: the OIDs of the ones marked critical.
private func ocspExtensions(_ node: ASN1Node?, _ what: String) throws -> [OID] {
    guard let node else { return [] }
    return try Extension.parseList(explicit: node, tag: 1, what).filter(\.critical).map(\.oid)
}

/// Why a stapled OCSP response cannot be relied on (RFC 6960 3.2).
public struct OCSPCheckError: Error, CustomStringConvertible, Sendable {
    public enum Reason: String, Sendable, CaseIterable {
        /// The bytes are not an OCSP response.
        case malformed
        /// The responder answered with an error status (tryLater, unauthorized, ...): no answer.
        case notSuccessful = "not_successful"
        /// No SingleResponse is about this certificate.
        case noMatchingResponse = "no_matching_response"
        /// Signed by neither the issuer nor a responder the issuer authorised for OCSP.
        case unauthorizedResponder = "unauthorized_responder"
        /// The signature does not verify, or uses an algorithm we refuse.
        case badSignature = "bad_signature"
        /// thisUpdate is in the future.
        case notYetValid = "not_yet_valid"
        /// nextUpdate has passed.
        case expired
        /// A critical extension we do not understand (RFC 6960 4.4).
        case unhandledCriticalExtension = "unhandled_critical_extension"
    }

    public let reason: Reason
    public let message: String
    public init(_ reason: Reason, _ message: String) { self.reason = reason; self.message = message }
    public var description: String { "\(reason.rawValue): \(message)" }
}

extension OCSPResponse {
    /// RFC 6960 3.2: the response is about `certificate`, signed by its issuer or by a
    /// responder certificate the issuer signed for id-kp-OCSPSigning (valid at `time`),
    /// and current at `time` (`skew` seconds of tolerance either way): before nextUpdate,
    /// or, without one ("newer information is always available"), at most
    /// `maxAgeWithoutNextUpdate` seconds after thisUpdate. Returns that certificate's
    /// answer; it is the caller's policy what `revoked` and `unknown` mean.
    public func check(_ certificate: Certificate, issuer: Certificate, at time: X509Time,
                      skew: Int64 = 300, maxAgeWithoutNextUpdate: Int64 = 86400) throws -> SingleOCSPResponse {
        guard let basic else { throw OCSPCheckError(.notSuccessful, "responder status \(status)") }
        guard let single = basic.responses.first(where: { $0.matches(certificate, issuer: issuer) }) else {
            throw OCSPCheckError(.noMatchingResponse, "no answer about serial \(certificate.serialNumberHex) from \(issuer.subject)")
        }
        let signer = try basic.signer(issuer: issuer, at: time)
        try basic.verifySignature(by: signer)
        if let oid = (basic.criticalExtensions + single.criticalExtensions).first {
            throw OCSPCheckError(.unhandledCriticalExtension, "critical extension \(oid)")
        }
        guard single.thisUpdate.secondsSinceEpoch <= time.secondsSinceEpoch + skew else {
            throw OCSPCheckError(.notYetValid, "thisUpdate \(single.thisUpdate) is after \(time)")
        }
        if let next = single.nextUpdate {
            guard next >= single.thisUpdate else {
                throw OCSPCheckError(.expired, "nextUpdate \(next) is before thisUpdate \(single.thisUpdate)")
            }
            guard next.secondsSinceEpoch + skew >= time.secondsSinceEpoch else {
                throw OCSPCheckError(.expired, "nextUpdate \(next) has passed (now \(time))")
            }
        } else if single.thisUpdate.secondsSinceEpoch + maxAgeWithoutNextUpdate + skew < time.secondsSinceEpoch {
            throw OCSPCheckError(.expired, "no nextUpdate, and thisUpdate \(single.thisUpdate) is more than \(maxAgeWithoutNextUpdate) s old")
        }
        return single
    }
}

extension BasicOCSPResponse {
    /// Whether the responder ID names `cert`.
    func identifies(_ cert: Certificate) -> Bool {
        switch responderID {
        case .byName(let name): return name == cert.subject
        case .byKey(let hash): return constantTimeEquals(Digest.sha1Identifier(cert.publicKeyInfo.keyBytes), hash)
        }
    }

    /// The certificate whose key must have signed: the issuer itself, or a delegated
    /// responder (RFC 6960 4.2.2.2) the response carries. The certs field is not signed,
    /// so every certificate the responder ID names is tried.
    func signer(issuer: Certificate, at time: X509Time) throws -> Certificate {
        if identifies(issuer) { return issuer }
        var refusal = OCSPCheckError(.unauthorizedResponder, "the responder is neither \(issuer.subject) nor a certificate the response carries")
        for delegate in certificates where identifies(delegate) {
            do {
                try BasicOCSPResponse.authorise(delegate, by: issuer, at: time)
                return delegate
            } catch let e as OCSPCheckError {
                refusal = e
            }
        }
        throw refusal
    }

    /// A delegated responder: issued by `issuer` (its name and its key), for OCSPSigning,
    /// allowed to sign, with no critical extension we do not know, valid at `time`.
    static func authorise(_ delegate: Certificate, by issuer: Certificate, at time: X509Time) throws {
        func refuse(_ why: String) -> OCSPCheckError { OCSPCheckError(.unauthorizedResponder, "responder \(delegate.subject) \(why)") }
        guard delegate.issuer == issuer.subject else { throw refuse("was not issued by \(issuer.subject)") }
        guard delegate.extendedKeyUsage?.contains(.ocspSigning) == true else { throw refuse("is not authorised for OCSPSigning") }
        if let usage = delegate.keyUsage, !usage.contains(.digitalSignature) { throw refuse("may not make signatures (keyUsage)") }
        if let oid = delegate.unhandledCriticalExtensions.first { throw refuse("has a critical extension we do not know (\(oid))") }
        guard delegate.isValid(at: time) else { throw refuse("is outside its validity") }
        guard let alg = delegate.signatureAlgorithm.tlsCryptoAlgorithm, !delegate.signatureAlgorithm.isWeak,
              let issuerKey = issuer.publicKey else {
            throw refuse("is signed with \(delegate.signatureAlgorithm)")
        }
        do { try issuerKey.verify(signature: delegate.signature, message: delegate.tbsDER, algorithm: alg) } catch {
            throw refuse("does not verify with \(issuer.subject)'s key")
        }
    }

    func verifySignature(by signer: Certificate) throws {
        guard !signatureAlgorithm.isWeak, let alg = signatureAlgorithm.tlsCryptoAlgorithm else {
            throw OCSPCheckError(.badSignature, "the response is signed with \(signatureAlgorithm)")
        }
        guard let key = signer.publicKey else { throw OCSPCheckError(.badSignature, "\(signer.subject) has a key we cannot use") }
        do { try key.verify(signature: signature, message: tbsDER, algorithm: alg) } catch {
            throw OCSPCheckError(.badSignature, "the response's signature does not verify with \(signer.subject)'s key")
        }
    }
}
