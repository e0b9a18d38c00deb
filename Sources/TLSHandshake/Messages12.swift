import TLSRecord

/// TLS 1.2 Certificate (RFC 5246 7.4.2): a list of DER certificates.
public struct Certificate12: Equatable {
    public var chain: [[UInt8]]
    public init(chain: [[UInt8]]) { self.chain = chain }
    public init(body: [UInt8], maxEntries: Int = 16) throws {
        var r = ByteReader(body)
        var list = try r.sub24()
        try r.expectEnd("Certificate")
        chain = []
        while !list.isAtEnd {
            let c = try list.vector24()
            guard !c.isEmpty else { throw HandshakeError.decode("empty certificate") }
            chain.append(c)
            guard chain.count <= maxEntries else { throw HandshakeError(.badCertificate, "certificate chain longer than \(maxEntries)") }
        }
    }
    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.vector(3) { w in for c in chain { w.vector24(c) } }
        return handshakeMessage(.certificate, w.bytes)
    }
}

/// ServerKeyExchange for ECDHE with a named curve (RFC 8422 5.4).
public struct ServerKeyExchangeECDHE: Equatable {
    public var group: UInt16
    public var publicKey: [UInt8]
    public var scheme: UInt16
    public var signature: [UInt8]

    public init(group: UInt16, publicKey: [UInt8], scheme: UInt16, signature: [UInt8]) {
        self.group = group; self.publicKey = publicKey; self.scheme = scheme; self.signature = signature
    }

    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        let curveType = try r.u8()
        guard curveType == 3 else { throw HandshakeError.illegal("ServerKeyExchange curve_type \(curveType) is not named_curve") }
        group = try r.u16()
        publicKey = try r.vector8()
        guard !publicKey.isEmpty else { throw HandshakeError.decode("empty ECDH public key") }
        scheme = try r.u16()
        signature = try r.vector16()
        try r.expectEnd("ServerKeyExchange")
        guard !signature.isEmpty else { throw HandshakeError.decode("empty ServerKeyExchange signature") }
    }

    /// ServerECDHParams: what the signature covers after the two randoms.
    public var params: [UInt8] {
        var w = ByteWriter()
        w.u8(3)
        w.u16(group)
        w.vector8(publicKey)
        return w.bytes
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.append(params)
        w.u16(scheme)
        w.vector16(signature)
        return handshakeMessage(.serverKeyExchange, w.bytes)
    }
}

/// TLS 1.2 CertificateRequest (RFC 5246 7.4.4).
public struct CertificateRequest12: Equatable {
    public var certificateTypes: [UInt8]
    public var signatureSchemes: [UInt16]
    public var certificateAuthorities: [[UInt8]]

    public init(certificateTypes: [UInt8], signatureSchemes: [UInt16], certificateAuthorities: [[UInt8]]) {
        self.certificateTypes = certificateTypes; self.signatureSchemes = signatureSchemes; self.certificateAuthorities = certificateAuthorities
    }

    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        certificateTypes = try r.vector8()
        guard !certificateTypes.isEmpty else { throw HandshakeError.decode("empty certificate_types") }
        var algs = try r.sub16()
        guard algs.remaining >= 2, algs.remaining % 2 == 0 else { throw HandshakeError.decode("bad supported_signature_algorithms") }
        signatureSchemes = []
        while !algs.isAtEnd { signatureSchemes.append(try algs.u16()) }
        var cas = try r.sub16()
        try r.expectEnd("CertificateRequest")
        certificateAuthorities = []
        while !cas.isAtEnd {
            let dn = try cas.vector16()
            guard !dn.isEmpty else { throw HandshakeError.decode("empty distinguished name") }
            certificateAuthorities.append(dn)
        }
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.vector8(certificateTypes)
        w.vector(2) { w in for s in signatureSchemes { w.u16(s) } }
        w.vector(2) { w in for n in certificateAuthorities { w.vector16(n) } }
        return handshakeMessage(.certificateRequest, w.bytes)
    }
}

/// ClientKeyExchange for ECDHE (RFC 8422 5.7).
public struct ClientKeyExchangeECDHE: Equatable {
    public var publicKey: [UInt8]
    public init(publicKey: [UInt8]) { self.publicKey = publicKey }
    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        publicKey = try r.vector8()
        try r.expectEnd("ClientKeyExchange")
        guard !publicKey.isEmpty else { throw HandshakeError.decode("empty ECDH public key") }
    }
    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.vector8(publicKey)
        return handshakeMessage(.clientKeyExchange, w.bytes)
    }
}

/// TLS 1.2 NewSessionTicket (RFC 5077 3.3).
public struct NewSessionTicket12: Equatable {
    public var lifetimeHint: UInt32
    public var ticket: [UInt8]
    public init(lifetimeHint: UInt32, ticket: [UInt8]) { self.lifetimeHint = lifetimeHint; self.ticket = ticket }
    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        lifetimeHint = try r.u32()
        ticket = try r.vector16()
        try r.expectEnd("NewSessionTicket")
    }
    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.u32(lifetimeHint)
        w.vector16(ticket)
        return handshakeMessage(.newSessionTicket, w.bytes)
    }
}

/// The renegotiation_info extension body (RFC 5746 3.2).
enum RenegotiationInfo {
    static func encode(_ verifyData: [UInt8]) -> [UInt8] { [UInt8(verifyData.count)] + verifyData }
    static func decode(_ data: [UInt8]) throws -> [UInt8] {
        var r = ByteReader(data)
        let v = try r.vector8()
        try r.expectEnd("renegotiation_info")
        return v
    }
}

/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746) and TLS_FALLBACK_SCSV (RFC 7507).
let emptyRenegotiationInfoSCSV: UInt16 = 0x00ff
let fallbackSCSV: UInt16 = 0x5600
