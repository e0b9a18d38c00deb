import TLSRecord

/// Wraps a body in the 4-byte handshake header.
func handshakeMessage(_ type: HandshakeType, _ body: [UInt8]) -> [UInt8] {
    var w = ByteWriter(capacity: body.count + 4)
    w.u8(type.rawValue)
    w.u24(body.count)
    w.append(body)
    return w.bytes
}

/// The fixed ServerHello.random that marks a HelloRetryRequest (RFC 8446 4.1.3).
public let helloRetryRequestRandom: [UInt8] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]

/// Downgrade sentinels a TLS 1.3 server puts in the last 8 bytes of its random
/// when it negotiates TLS 1.2 (or below) (RFC 8446 4.1.3).
public let downgradeSentinelTLS12: [UInt8] = [0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01]
public let downgradeSentinelTLS11: [UInt8] = [0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00]

public struct ClientHello: Equatable {
    public var legacyVersion: UInt16 = 0x0303
    public var random: [UInt8]
    public var sessionID: [UInt8]
    public var cipherSuites: [UInt16]
    public var compressionMethods: [UInt8] = [0]
    public var extensions: [Extension]

    public init(random: [UInt8], sessionID: [UInt8], cipherSuites: [UInt16], extensions: [Extension]) {
        self.random = random
        self.sessionID = sessionID
        self.cipherSuites = cipherSuites
        self.extensions = extensions
    }

    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        legacyVersion = try r.u16()
        random = try r.bytes(32)
        sessionID = try r.vector8()
        guard sessionID.count <= 32 else { throw HandshakeError.decode("legacy_session_id longer than 32 bytes") }
        var suites = try r.sub16()
        guard suites.remaining >= 2, suites.remaining % 2 == 0 else { throw HandshakeError.decode("bad cipher_suites length") }
        cipherSuites = []
        while !suites.isAtEnd { cipherSuites.append(try suites.u16()) }
        compressionMethods = try r.vector8()
        guard !compressionMethods.isEmpty else { throw HandshakeError.decode("empty compression_methods") }
        // Extensions are optional in TLS 1.2 ClientHellos (RFC 5246 7.4.1.2).
        extensions = r.isAtEnd ? [] : try ExtensionCodec.decodeList(&r, "ClientHello")
        try r.expectEnd("ClientHello")
        if let i = extensions.firstIndex(where: { $0.type == ExtensionType.preSharedKey }), i != extensions.count - 1 {
            throw HandshakeError.illegal("pre_shared_key is not the last ClientHello extension")
        }
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 512)
        w.u16(legacyVersion)
        w.append(random)
        w.vector8(sessionID)
        w.vector(2) { w in for s in cipherSuites { w.u16(s) } }
        w.vector8(compressionMethods)
        ExtensionCodec.encodeList(extensions, into: &w)
        return handshakeMessage(.clientHello, w.bytes)
    }

    /// The length of the binders list (with its 2-byte prefix) at the end of the
    /// encoded message: the PSK binder covers everything before it.
    public var bindersLength: Int {
        guard let data = extensions.first(ExtensionType.preSharedKey), let psks = try? ExtensionCodec.offeredPSKs(data) else { return 0 }
        return 2 + psks.binders.reduce(0) { $0 + 1 + $1.count }
    }
}

public struct ServerHello: Equatable {
    public var legacyVersion: UInt16 = 0x0303
    public var random: [UInt8]
    public var sessionIDEcho: [UInt8]
    public var cipherSuite: UInt16
    public var compressionMethod: UInt8 = 0
    public var extensions: [Extension]

    public init(random: [UInt8], sessionIDEcho: [UInt8], cipherSuite: UInt16, extensions: [Extension]) {
        self.random = random
        self.sessionIDEcho = sessionIDEcho
        self.cipherSuite = cipherSuite
        self.extensions = extensions
    }

    public var isHelloRetryRequest: Bool { random == helloRetryRequestRandom }

    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        legacyVersion = try r.u16()
        random = try r.bytes(32)
        sessionIDEcho = try r.vector8()
        guard sessionIDEcho.count <= 32 else { throw HandshakeError.decode("legacy_session_id_echo longer than 32 bytes") }
        cipherSuite = try r.u16()
        compressionMethod = try r.u8()
        extensions = r.isAtEnd ? [] : try ExtensionCodec.decodeList(&r, "ServerHello")
        try r.expectEnd("ServerHello")
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        w.u16(legacyVersion)
        w.append(random)
        w.vector8(sessionIDEcho)
        w.u16(cipherSuite)
        w.u8(compressionMethod)
        ExtensionCodec.encodeList(extensions, into: &w)
        return handshakeMessage(.serverHello, w.bytes)
    }
}

public struct EncryptedExtensions: Equatable {
    public var extensions: [Extension]
    public init(extensions: [Extension]) { self.extensions = extensions }
    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        extensions = try ExtensionCodec.decodeList(&r, "EncryptedExtensions")
        try r.expectEnd("EncryptedExtensions")
    }
    public func encode() -> [UInt8] {
        var w = ByteWriter()
        ExtensionCodec.encodeList(extensions, into: &w)
        return handshakeMessage(.encryptedExtensions, w.bytes)
    }
}

public struct CertificateRequest13: Equatable {
    public var context: [UInt8]
    public var extensions: [Extension]
    public init(context: [UInt8], extensions: [Extension]) { self.context = context; self.extensions = extensions }
    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        context = try r.vector8()
        extensions = try ExtensionCodec.decodeList(&r, "CertificateRequest")
        try r.expectEnd("CertificateRequest")
        guard extensions.has(ExtensionType.signatureAlgorithms) else {
            throw HandshakeError(.missingExtension, "CertificateRequest without signature_algorithms")
        }
    }
    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.vector8(context)
        ExtensionCodec.encodeList(extensions, into: &w)
        return handshakeMessage(.certificateRequest, w.bytes)
    }
}

public struct CertificateEntry: Equatable {
    public var data: [UInt8]
    public var extensions: [Extension]
    public init(data: [UInt8], extensions: [Extension] = []) { self.data = data; self.extensions = extensions }
}

/// TLS 1.3 Certificate (RFC 8446 4.4.2).
public struct Certificate13: Equatable {
    public var context: [UInt8]
    public var entries: [CertificateEntry]
    public init(context: [UInt8], entries: [CertificateEntry]) { self.context = context; self.entries = entries }

    public init(body: [UInt8], maxEntries: Int = 16) throws {
        var r = ByteReader(body)
        context = try r.vector8()
        var list = try r.sub24()
        try r.expectEnd("Certificate")
        entries = []
        while !list.isAtEnd {
            let cert = try list.vector24()
            guard !cert.isEmpty else { throw HandshakeError.decode("empty certificate in Certificate") }
            let exts = try ExtensionCodec.decodeList(&list, "CertificateEntry")
            entries.append(CertificateEntry(data: cert, extensions: exts))
            guard entries.count <= maxEntries else {
                throw HandshakeError(.badCertificate, "certificate chain longer than \(maxEntries)")
            }
        }
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.vector8(context)
        w.vector(3) { w in
            for e in entries {
                w.vector24(e.data)
                ExtensionCodec.encodeList(e.extensions, into: &w)
            }
        }
        return handshakeMessage(.certificate, w.bytes)
    }
}

public struct CertificateVerify: Equatable {
    public var scheme: UInt16
    public var signature: [UInt8]
    public init(scheme: UInt16, signature: [UInt8]) { self.scheme = scheme; self.signature = signature }
    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        scheme = try r.u16()
        signature = try r.vector16()
        try r.expectEnd("CertificateVerify")
        guard !signature.isEmpty else { throw HandshakeError.decode("empty signature") }
    }
    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.u16(scheme)
        w.vector16(signature)
        return handshakeMessage(.certificateVerify, w.bytes)
    }

    /// The content a TLS 1.3 CertificateVerify signs (RFC 8446 4.4.3).
    public static func signedContent(transcriptHash: [UInt8], server: Bool) -> [UInt8] {
        var out = [UInt8](repeating: 0x20, count: 64)
        out.append(contentsOf: Array((server ? "TLS 1.3, server CertificateVerify" : "TLS 1.3, client CertificateVerify").utf8))
        out.append(0)
        out.append(contentsOf: transcriptHash)
        return out
    }
}

public struct Finished: Equatable {
    public var verifyData: [UInt8]
    public init(verifyData: [UInt8]) { self.verifyData = verifyData }
    public func encode() -> [UInt8] { handshakeMessage(.finished, verifyData) }
}

public struct NewSessionTicket13: Equatable {
    public var lifetime: UInt32
    public var ageAdd: UInt32
    public var nonce: [UInt8]
    public var ticket: [UInt8]
    public var extensions: [Extension]

    public init(lifetime: UInt32, ageAdd: UInt32, nonce: [UInt8], ticket: [UInt8], extensions: [Extension]) {
        self.lifetime = lifetime; self.ageAdd = ageAdd; self.nonce = nonce; self.ticket = ticket; self.extensions = extensions
    }

    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        lifetime = try r.u32()
        ageAdd = try r.u32()
        nonce = try r.vector8()
        ticket = try r.vector16()
        extensions = try ExtensionCodec.decodeList(&r, "NewSessionTicket")
        try r.expectEnd("NewSessionTicket")
        guard !ticket.isEmpty else { throw HandshakeError.decode("empty ticket") }
        guard lifetime <= 604_800 else { throw HandshakeError.illegal("ticket lifetime above 7 days") }
    }

    public var maxEarlyDataSize: UInt32? {
        guard let d = extensions.first(ExtensionType.earlyData) else { return nil }
        var r = ByteReader(d)
        guard let v = try? r.u32(), r.isAtEnd else { return nil }
        return v
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.u32(lifetime)
        w.u32(ageAdd)
        w.vector8(nonce)
        w.vector16(ticket)
        ExtensionCodec.encodeList(extensions, into: &w)
        return handshakeMessage(.newSessionTicket, w.bytes)
    }
}

public struct KeyUpdate: Equatable {
    public var updateRequested: Bool
    public init(updateRequested: Bool) { self.updateRequested = updateRequested }
    public init(body: [UInt8]) throws {
        var r = ByteReader(body)
        let v = try r.u8()
        try r.expectEnd("KeyUpdate")
        switch v {
        case 0: updateRequested = false
        case 1: updateRequested = true
        default: throw HandshakeError.illegal("KeyUpdate request_update \(v)")
        }
    }
    public func encode() -> [UInt8] { handshakeMessage(.keyUpdate, [updateRequested ? 1 : 0]) }
}
