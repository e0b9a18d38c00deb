import TLSCrypto
import TLSRecord

/// TLS 1.3 post-handshake client authentication (RFC 8446 4.6.2): the server
/// sends a CertificateRequest with a fresh context; the client answers with
/// Certificate, CertificateVerify (when it has a certificate) and Finished,
/// all bound to the handshake transcript plus these messages.
enum PostHandshakeAuth {
    /// Server: the request to send, and the transcript to continue.
    static func request(_ config: TLSConfiguration, secrets: TLS13Secrets, context: [UInt8]) -> (message: [UInt8], transcript: Transcript) {
        var ext = [Extension(type: ExtensionType.signatureAlgorithms, data: ExtensionCodec.encodeU16List(config.signatureSchemes.map(\.rawValue)))]
        if !config.certificateAuthorities.isEmpty {
            ext.append(Extension(type: ExtensionType.certificateAuthorities, data: ExtensionCodec.encodeCertificateAuthorities(config.certificateAuthorities)))
        }
        let cr = CertificateRequest13(context: context, extensions: ext).encode()
        var t = secrets.transcript
        t.add(cr)
        return (cr, t)
    }

    /// Client: the messages answering `m` (a CertificateRequest with a non-empty context).
    static func answer(_ config: TLSConfiguration, secrets: TLS13Secrets, request m: ReceivedMessage) throws -> [[UInt8]] {
        let cr = try CertificateRequest13(body: m.body)
        guard !cr.context.isEmpty else { throw HandshakeError.illegal("post-handshake CertificateRequest with an empty context") }
        let caNames = cr.extensions.first(ExtensionType.certificateAuthorities).flatMap { try? ExtensionCodec.certificateAuthorities($0) } ?? []
        let offered = try cr.extensions.first(ExtensionType.signatureAlgorithms).map { try ExtensionCodec.u16List($0, "signature_algorithms") } ?? []
        var chosen = config.clientCertificateProvider?(caNames) ?? config.certificates.first
        var scheme: SignatureScheme? = nil
        if let c = chosen {
            scheme = chooseSignatureScheme(ours: config.signatureSchemes, peerOffered: offered, key: c.publicKey, tls13: true)
            if scheme == nil { chosen = nil }
        }
        var t = secrets.transcript
        t.add(m.raw)
        var out: [[UInt8]] = []
        let cert = Certificate13(context: cr.context, entries: (chosen?.chain ?? []).map { CertificateEntry(data: $0) }).encode()
        t.add(cert)
        out.append(cert)
        if let c = chosen, let s = scheme {
            let content = CertificateVerify.signedContent(transcriptHash: t.currentHash(), server: false)
            let sig: [UInt8]
            do { sig = try c.sign(s, content) } catch { throw HandshakeError(.internalError, "signing failed: \(error)") }
            let cv = CertificateVerify(scheme: s.rawValue, signature: sig).encode()
            t.add(cv)
            out.append(cv)
        }
        let fin = Finished(verifyData: TLS13KDF.finishedVerifyData(secrets.suite.hash, trafficSecret: secrets.clientTrafficSecret,
                                                                  transcriptHash: t.currentHash())).encode()
        out.append(fin)
        return out
    }
}

/// Server-side progress of one post-handshake authentication.
struct PendingClientAuth {
    enum Step { case certificate, certificateVerify, finished }
    var context: [UInt8]
    var transcript: Transcript
    var step: Step = .certificate
    var peer: PeerIdentity?
    var required: Bool
}
