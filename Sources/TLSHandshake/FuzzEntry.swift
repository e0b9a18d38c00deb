import TLSRecord

/// Entry points for fuzz targets (Tools/tls-fuzz): arbitrary bytes through
/// every message decoder and extension codec. The contract: each returns,
/// whatever the input; malformed input is a thrown `HandshakeError`, caught
/// here. A decoded message is re-encoded and decoded again, and must come back
/// the same (a trap there is an encoder/decoder disagreement).
public enum TLSHandshakeFuzz {
    /// Splits `data` into handshake messages (type, 24-bit length, body) and
    /// decodes each with the TLS 1.3 (`tls13`) or TLS 1.2 decoder for its type.
    /// Returns how many decoded.
    @discardableResult
    public static func decodeMessages(_ data: [UInt8], tls13: Bool) -> Int {
        var r = ByteReader(data)
        var decoded = 0
        while !r.isAtEnd {
            guard let type = try? r.u8(), let length = try? r.u24() else { break }
            let body = (try? r.bytes(min(length, r.remaining))) ?? []
            if (try? decodeMessage(typeCode: type, body: body, tls13: tls13)) != nil { decoded += 1 }
        }
        return decoded
    }

    static func roundTrip<M: Equatable>(_ m: M, _ encode: (M) -> [UInt8], _ decode: ([UInt8]) throws -> M) {
        let encoded = encode(m)
        // encode() gives the whole message; strip the 4-byte header.
        let again = try? decode(Array(encoded.dropFirst(4)))
        precondition(again == m, "re-encoded \(M.self) does not decode to the same value")
    }

    /// Decoding what was encoded must give back the value.
    static func same<T: Equatable>(_ value: T, _ again: () throws -> T?) {
        precondition((try? again()) == value, "re-encoded \(T.self) does not decode to the same value")
    }

    static func decodeMessage(typeCode: UInt8, body: [UInt8], tls13: Bool) throws {
        guard let type = HandshakeType(rawValue: typeCode) else { return }
        switch (type, tls13) {
        case (.clientHello, _):
            let m = try ClientHello(body: body)
            roundTrip(m, { $0.encode() }, ClientHello.init(body:))
            for e in m.extensions { _ = decodeExtension(type: e.type, data: e.data) }
            _ = m.bindersLength
        case (.serverHello, _):
            let m = try ServerHello(body: body)
            roundTrip(m, { $0.encode() }, ServerHello.init(body:))
            for e in m.extensions { _ = decodeExtension(type: e.type, data: e.data) }
        case (.encryptedExtensions, _):
            let m = try EncryptedExtensions(body: body)
            roundTrip(m, { $0.encode() }, EncryptedExtensions.init(body:))
            for e in m.extensions { _ = decodeExtension(type: e.type, data: e.data) }
        case (.certificateRequest, true):
            let m = try CertificateRequest13(body: body)
            roundTrip(m, { $0.encode() }, CertificateRequest13.init(body:))
            for e in m.extensions { _ = decodeExtension(type: e.type, data: e.data) }
        case (.certificateRequest, false):
            let m = try CertificateRequest12(body: body)
            roundTrip(m, { $0.encode() }, CertificateRequest12.init(body:))
        case (.certificate, true):
            let m = try Certificate13(body: body)
            roundTrip(m, { $0.encode() }, { try Certificate13(body: $0) })
        case (.certificate, false):
            let m = try Certificate12(body: body)
            roundTrip(m, { $0.encode() }, { try Certificate12(body: $0) })
        case (.certificateVerify, _):
            let m = try CertificateVerify(body: body)
            roundTrip(m, { $0.encode() }, CertificateVerify.init(body:))
        case (.newSessionTicket, true):
            let m = try NewSessionTicket13(body: body)
            roundTrip(m, { $0.encode() }, NewSessionTicket13.init(body:))
        case (.newSessionTicket, false):
            let m = try NewSessionTicket12(body: body)
            roundTrip(m, { $0.encode() }, NewSessionTicket12.init(body:))
        case (.keyUpdate, _):
            let m = try KeyUpdate(body: body)
            roundTrip(m, { $0.encode() }, KeyUpdate.init(body:))
        case (.serverKeyExchange, _):
            let m = try ServerKeyExchangeECDHE(body: body)
            roundTrip(m, { $0.encode() }, ServerKeyExchangeECDHE.init(body:))
        case (.clientKeyExchange, _):
            let m = try ClientKeyExchangeECDHE(body: body)
            roundTrip(m, { $0.encode() }, ClientKeyExchangeECDHE.init(body:))
        case (.finished, _):
            _ = Finished(verifyData: body).encode()
        default:
            _ = try? StoredSession(bytes: body)
        }
    }

    /// Decodes one extension's data with every codec that applies to its type
    /// (both the client and the server form where they differ).
    @discardableResult
    public static func decodeExtension(type: UInt16, data: [UInt8]) -> Int {
        var ok = 0
        func attempt(_ body: () throws -> Void) { if (try? body()) != nil { ok += 1 } }
        switch type {
        case ExtensionType.serverName:
            attempt {
                if let host = try ExtensionCodec.serverName(data) {
                    same(host) { try ExtensionCodec.serverName(ExtensionCodec.encodeServerName(host)) }
                }
            }
        case ExtensionType.supportedGroups, ExtensionType.signatureAlgorithms, ExtensionType.signatureAlgorithmsCert:
            attempt {
                let list = try ExtensionCodec.u16List(data, "list")
                same(list) { try ExtensionCodec.u16List(ExtensionCodec.encodeU16List(list), "list") }
            }
        case ExtensionType.alpn:
            attempt {
                let list = try ExtensionCodec.alpn(data)
                same(list) { try ExtensionCodec.alpn(ExtensionCodec.encodeALPN(list)) }
            }
        case ExtensionType.keyShare:
            attempt {
                let shares = try ExtensionCodec.clientKeyShares(data)
                same(shares) { try ExtensionCodec.clientKeyShares(ExtensionCodec.encodeClientKeyShares(shares)) }
            }
            attempt {
                let share = try ExtensionCodec.serverKeyShare(data)
                same(share) { try ExtensionCodec.serverKeyShare(ExtensionCodec.encodeServerKeyShare(share)) }
            }
            attempt { _ = try ExtensionCodec.single16(data, "key_share (HelloRetryRequest)") }
        case ExtensionType.supportedVersions:
            attempt {
                let v = try ExtensionCodec.clientSupportedVersions(data)
                same(v) { try ExtensionCodec.clientSupportedVersions(ExtensionCodec.encodeClientSupportedVersions(v)) }
            }
            attempt { _ = ExtensionCodec.encode16(try ExtensionCodec.single16(data, "supported_versions")) }
        case ExtensionType.preSharedKey:
            attempt {
                let psks = try ExtensionCodec.offeredPSKs(data)
                same(psks) { try ExtensionCodec.offeredPSKs(ExtensionCodec.encodeOfferedPSKs(psks)) }
            }
            attempt { _ = try ExtensionCodec.single16(data, "pre_shared_key") }
        case ExtensionType.pskKeyExchangeModes, ExtensionType.ecPointFormats:
            attempt { _ = try ExtensionCodec.u8List(data, "list") }
        case ExtensionType.cookie:
            attempt { _ = try ExtensionCodec.cookie(data) }
        case ExtensionType.certificateAuthorities:
            attempt {
                let names = try ExtensionCodec.certificateAuthorities(data)
                same(names) { try ExtensionCodec.certificateAuthorities(ExtensionCodec.encodeCertificateAuthorities(names)) }
            }
        case ExtensionType.renegotiationInfo:
            attempt {
                let v = try RenegotiationInfo.decode(data)
                same(v) { try RenegotiationInfo.decode(RenegotiationInfo.encode(v)) }
            }
        case ExtensionType.earlyData, ExtensionType.recordSizeLimit:
            attempt { _ = try ExtensionCodec.single16(data, "u16") }
            attempt {
                var r = ByteReader(data)
                _ = try r.u32()
                try r.expectEnd("early_data")
            }
        case ExtensionType.extendedMasterSecret, ExtensionType.postHandshakeAuth, ExtensionType.sessionTicket:
            attempt { try ExtensionCodec.empty(data, "empty extension") }
        default:
            // Anything else: a whole extensions block (u16 length, then entries).
            attempt {
                var r = ByteReader(data)
                let list = try ExtensionCodec.decodeList(&r, "fuzz")
                var w = ByteWriter()
                ExtensionCodec.encodeList(list, into: &w)
                var again = ByteReader(w.bytes)
                same(list) { try ExtensionCodec.decodeList(&again, "fuzz") }
            }
        }
        return ok
    }

    /// A whole extension entry: type (2 bytes), then its data.
    @discardableResult
    public static func decodeExtensionEntry(_ bytes: [UInt8]) -> Int {
        guard bytes.count >= 2 else { return 0 }
        return decodeExtension(type: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), data: Array(bytes.dropFirst(2)))
    }
}
