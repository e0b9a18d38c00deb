import TLSRecord

/// One extension as it appears on the wire.
public struct Extension: Equatable, Sendable {
    public var type: UInt16
    public var data: [UInt8]
    public init(type: UInt16, data: [UInt8]) { self.type = type; self.data = data }
}

public struct KeyShareEntry: Equatable, Sendable {
    public var group: UInt16
    public var keyExchange: [UInt8]
    public init(group: UInt16, keyExchange: [UInt8]) { self.group = group; self.keyExchange = keyExchange }
}

public struct PSKIdentity: Equatable, Sendable {
    public var identity: [UInt8]
    public var obfuscatedTicketAge: UInt32
    public init(identity: [UInt8], obfuscatedTicketAge: UInt32) { self.identity = identity; self.obfuscatedTicketAge = obfuscatedTicketAge }
}

public struct OfferedPSKs: Equatable, Sendable {
    public var identities: [PSKIdentity]
    public var binders: [[UInt8]]
}

enum ExtensionCodec {
    /// Reads an extensions block; duplicate types are `illegal_parameter` (RFC 8446 4.2).
    static func decodeList(_ reader: inout ByteReader, _ context: String) throws -> [Extension] {
        var list = try reader.sub16()
        var out: [Extension] = []
        var seen = Set<UInt16>()
        while !list.isAtEnd {
            let type = try list.u16()
            let data = try list.vector16()
            guard seen.insert(type).inserted else { throw HandshakeError.illegal("duplicate extension \(type) in \(context)") }
            out.append(Extension(type: type, data: data))
            guard out.count <= 128 else { throw HandshakeError.decode("more than 128 extensions in \(context)") }
        }
        return out
    }

    static func encodeList(_ list: [Extension], into w: inout ByteWriter) {
        w.vector(2) { w in
            for e in list { w.u16(e.type); w.vector16(e.data) }
        }
    }

    static func u16List(_ data: [UInt8], _ what: String, allowEmpty: Bool = false) throws -> [UInt16] {
        var r = ByteReader(data)
        var list = try r.sub16()
        try r.expectEnd(what)
        guard list.remaining % 2 == 0 else { throw HandshakeError.decode("odd length in \(what)") }
        var out: [UInt16] = []
        while !list.isAtEnd { out.append(try list.u16()) }
        guard allowEmpty || !out.isEmpty else { throw HandshakeError.decode("empty \(what)") }
        return out
    }

    static func encodeU16List(_ values: [UInt16]) -> [UInt8] {
        var w = ByteWriter()
        w.vector(2) { w in for v in values { w.u16(v) } }
        return w.bytes
    }

    static func serverName(_ data: [UInt8]) throws -> String? {
        if data.isEmpty { return nil }  // the server's empty acknowledgement
        var r = ByteReader(data)
        var list = try r.sub16()
        try r.expectEnd("server_name")
        var host: String? = nil
        while !list.isAtEnd {
            let type = try list.u8()
            let name = try list.vector16()
            guard type == 0 else { continue }
            guard host == nil else { throw HandshakeError.illegal("two host_name entries in server_name") }
            guard !name.isEmpty, name.count <= 255,
                  name.allSatisfy({ $0 > 0x20 && $0 < 0x7f }),
                  case let s = String(decoding: name, as: UTF8.self) else {
                throw HandshakeError.decode("server_name is not a valid ASCII host name")
            }
            // RFC 6066: a trailing dot is not allowed, nor are IP literals.
            guard !s.hasSuffix(".") else { throw HandshakeError.decode("server_name ends with a dot") }
            host = s
        }
        return host
    }

    static func encodeServerName(_ host: String) -> [UInt8] {
        var w = ByteWriter()
        w.vector(2) { w in
            w.u8(0)
            w.vector16(Array(host.utf8))
        }
        return w.bytes
    }

    static func alpn(_ data: [UInt8], maxProtocols: Int = 64) throws -> [[UInt8]] {
        var r = ByteReader(data)
        var list = try r.sub16()
        try r.expectEnd("application_layer_protocol_negotiation")
        var out: [[UInt8]] = []
        while !list.isAtEnd {
            let p = try list.vector8()
            guard !p.isEmpty else { throw HandshakeError.decode("empty ALPN protocol name") }
            out.append(p)
            guard out.count <= maxProtocols else { throw HandshakeError.decode("more than \(maxProtocols) ALPN protocols") }
        }
        guard !out.isEmpty else { throw HandshakeError.decode("empty ALPN list") }
        return out
    }

    static func encodeALPN(_ protocols: [[UInt8]]) -> [UInt8] {
        var w = ByteWriter()
        w.vector(2) { w in for p in protocols { w.vector8(p) } }
        return w.bytes
    }

    static func clientKeyShares(_ data: [UInt8]) throws -> [KeyShareEntry] {
        var r = ByteReader(data)
        var list = try r.sub16()
        try r.expectEnd("key_share")
        var out: [KeyShareEntry] = []
        var groups = Set<UInt16>()
        while !list.isAtEnd {
            let group = try list.u16()
            let key = try list.vector16()
            guard !key.isEmpty else { throw HandshakeError.decode("empty key_exchange") }
            guard groups.insert(group).inserted else { throw HandshakeError.illegal("two key shares for group \(group)") }
            out.append(KeyShareEntry(group: group, keyExchange: key))
        }
        return out
    }

    static func encodeClientKeyShares(_ shares: [KeyShareEntry]) -> [UInt8] {
        var w = ByteWriter()
        w.vector(2) { w in for s in shares { w.u16(s.group); w.vector16(s.keyExchange) } }
        return w.bytes
    }

    static func serverKeyShare(_ data: [UInt8]) throws -> KeyShareEntry {
        var r = ByteReader(data)
        let group = try r.u16()
        let key = try r.vector16()
        try r.expectEnd("key_share")
        guard !key.isEmpty else { throw HandshakeError.decode("empty key_exchange") }
        return KeyShareEntry(group: group, keyExchange: key)
    }

    static func encodeServerKeyShare(_ s: KeyShareEntry) -> [UInt8] {
        var w = ByteWriter()
        w.u16(s.group)
        w.vector16(s.keyExchange)
        return w.bytes
    }

    static func clientSupportedVersions(_ data: [UInt8]) throws -> [UInt16] {
        var r = ByteReader(data)
        var list = try r.sub8()
        try r.expectEnd("supported_versions")
        guard list.remaining % 2 == 0, list.remaining >= 2 else { throw HandshakeError.decode("bad supported_versions length") }
        var out: [UInt16] = []
        while !list.isAtEnd { out.append(try list.u16()) }
        return out
    }

    static func encodeClientSupportedVersions(_ versions: [UInt16]) -> [UInt8] {
        var w = ByteWriter()
        w.vector(1) { w in for v in versions { w.u16(v) } }
        return w.bytes
    }

    static func single16(_ data: [UInt8], _ what: String) throws -> UInt16 {
        var r = ByteReader(data)
        let v = try r.u16()
        try r.expectEnd(what)
        return v
    }

    static func encode16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }

    static func u8List(_ data: [UInt8], _ what: String) throws -> [UInt8] {
        var r = ByteReader(data)
        let list = try r.vector8()
        try r.expectEnd(what)
        guard !list.isEmpty else { throw HandshakeError.decode("empty \(what)") }
        return list
    }

    static func offeredPSKs(_ data: [UInt8]) throws -> OfferedPSKs {
        var r = ByteReader(data)
        var ids = try r.sub16()
        var identities: [PSKIdentity] = []
        while !ids.isAtEnd {
            let identity = try ids.vector16()
            guard !identity.isEmpty else { throw HandshakeError.decode("empty PSK identity") }
            identities.append(PSKIdentity(identity: identity, obfuscatedTicketAge: try ids.u32()))
        }
        var bs = try r.sub16()
        try r.expectEnd("pre_shared_key")
        var binders: [[UInt8]] = []
        while !bs.isAtEnd {
            let b = try bs.vector8()
            guard b.count >= 32 else { throw HandshakeError.decode("PSK binder shorter than 32 bytes") }
            binders.append(b)
        }
        guard !identities.isEmpty, identities.count == binders.count else {
            throw HandshakeError.illegal("pre_shared_key has \(identities.count) identities and \(binders.count) binders")
        }
        return OfferedPSKs(identities: identities, binders: binders)
    }

    static func encodeOfferedPSKs(_ psks: OfferedPSKs) -> [UInt8] {
        var w = ByteWriter()
        w.vector(2) { w in for i in psks.identities { w.vector16(i.identity); w.u32(i.obfuscatedTicketAge) } }
        w.vector(2) { w in for b in psks.binders { w.vector8(b) } }
        return w.bytes
    }

    static func cookie(_ data: [UInt8]) throws -> [UInt8] {
        var r = ByteReader(data)
        let c = try r.vector16()
        try r.expectEnd("cookie")
        guard !c.isEmpty else { throw HandshakeError.decode("empty cookie") }
        return c
    }

    static func certificateAuthorities(_ data: [UInt8]) throws -> [[UInt8]] {
        var r = ByteReader(data)
        var list = try r.sub16()
        try r.expectEnd("certificate_authorities")
        var out: [[UInt8]] = []
        while !list.isAtEnd {
            let dn = try list.vector16()
            guard !dn.isEmpty else { throw HandshakeError.decode("empty distinguished name") }
            out.append(dn)
        }
        guard !out.isEmpty else { throw HandshakeError.decode("empty certificate_authorities") }
        return out
    }

    static func encodeCertificateAuthorities(_ names: [[UInt8]]) -> [UInt8] {
        var w = ByteWriter()
        w.vector(2) { w in for n in names { w.vector16(n) } }
        return w.bytes
    }

    static func empty(_ data: [UInt8], _ what: String) throws {
        guard data.isEmpty else { throw HandshakeError.decode("\(what) must be empty") }
    }
}

extension Array where Element == Extension {
    public func first(_ type: UInt16) -> [UInt8]? { first(where: { $0.type == type })?.data }
    public func has(_ type: UInt16) -> Bool { contains(where: { $0.type == type }) }
}

/// status_request (RFC 6066 8): the client's OCSP request and the CertificateStatus body.
enum CertificateStatusCodec {
    /// ocsp(1), no responder IDs, no request extensions.
    static let request: [UInt8] = [1, 0, 0, 0, 0]

    static func encode(_ response: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.u8(1)
        w.vector24(response)
        return w.bytes
    }

    static func decode(_ data: [UInt8]) throws -> [UInt8] {
        var r = ByteReader(data)
        let type = try r.u8()
        guard type == 1 else { throw HandshakeError.decode("CertificateStatus type \(type) is not ocsp") }
        let response = try r.vector24()
        try r.expectEnd("CertificateStatus")
        guard !response.isEmpty else { throw HandshakeError.decode("empty OCSP response") }
        return response
    }
}
