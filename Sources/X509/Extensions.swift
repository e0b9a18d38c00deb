import SwiftASN1
import TLSCrypto

/// GeneralName (RFC 5280 4.2.1.6).
public enum GeneralName: Equatable, Sendable, CustomStringConvertible {
    case otherName(OID, value: [UInt8])
    case rfc822Name(String)
    case dnsName(String)
    case x400Address([UInt8])
    case directoryName(DistinguishedName)
    case ediPartyName([UInt8])
    case uri(String)
    /// 4 or 16 bytes in a subjectAltName; address and mask (8 or 32 bytes) in name constraints.
    case ipAddress([UInt8])
    case registeredID(OID)

    init(node: ASN1Node) throws {
        let id = node.identifier
        guard id.tagClass == .contextSpecific else {
            throw X509Error(.unexpectedStructure, "GeneralName: expected a context-specific tag, found \(id)")
        }
        switch id.tagNumber {
        case 0:
            var seq = try node.reader(Tag.context(0), "otherName")
            let oid = try seq.next("type-id").oid("otherName type-id")
            let value = try seq.next("value")
            try seq.finish()
            self = .otherName(oid, value: Array(value.encodedBytes))
        case 1: self = .rfc822Name(try node.ia5String("rfc822Name", tag: Tag.context(1)))
        case 2: self = .dnsName(try node.ia5String("dNSName", tag: Tag.context(2)))
        case 3: self = .x400Address(Array(node.encodedBytes))
        case 4:
            var seq = try node.reader(Tag.context(4), "directoryName")
            let name = try DistinguishedName(node: try seq.next("Name"))
            try seq.finish()
            self = .directoryName(name)
        case 5: self = .ediPartyName(Array(node.encodedBytes))
        case 6: self = .uri(try node.ia5String("uniformResourceIdentifier", tag: Tag.context(6)))
        case 7: self = .ipAddress(Array(try node.octetString("iPAddress", tag: Tag.context(7))))
        case 8:
            try node.expect(Tag.context(8), "registeredID")
            self = .registeredID(try OID(derContent: try node.primitive("registeredID"), "registeredID"))
        default:
            throw X509Error(.unexpectedStructure, "GeneralName with tag [\(id.tagNumber)]")
        }
    }

    public var description: String {
        switch self {
        case .otherName(let oid, _): return "othername:\(oid.dotted)"
        case .rfc822Name(let s): return "email:\(s)"
        case .dnsName(let s): return "DNS:\(s)"
        case .x400Address: return "X400Name"
        case .directoryName(let n): return "DirName:\(n.rfc4514String)"
        case .ediPartyName: return "EdiPartyName"
        case .uri(let s): return "URI:\(s)"
        case .ipAddress(let b): return "IP:\(IPAddress.format(b))"
        case .registeredID(let oid): return "RID:\(oid.dotted)"
        }
    }

    static func parseList(_ node: ASN1Node, _ what: String) throws -> [GeneralName] {
        var seq = try node.sequence(what)
        var names: [GeneralName] = []
        while let n = seq.nextIfAny() { names.append(try GeneralName(node: n)) }
        return names
    }
}

/// One extension as it appears in the certificate.
public struct Extension: Sendable {
    public let oid: OID
    public let critical: Bool
    /// The extnValue OCTET STRING contents (the DER of the extension's own structure).
    public let value: [UInt8]

    /// `[tag] EXPLICIT Extensions` (RFC 5280 4.1, reused by OCSP, RFC 6960 4.4): at least
    /// one, none twice.
    static func parseList(explicit node: ASN1Node, tag: UInt, _ what: String) throws -> [Extension] {
        var wrapper = try node.reader(Tag.context(tag), what)
        var list = try wrapper.next("Extensions").sequence(what)
        try wrapper.finish()
        var out: [Extension] = []
        var seen = Set<OID>()
        while let e = list.nextIfAny() {
            var seq = try e.sequence("Extension")
            let oid = try seq.next("extnID").oid("extnID")
            var critical = false
            if let c = seq.optional(Tag.boolean) { critical = try c.boolean("critical") }
            let value = Array(try seq.next("extnValue").octetString("extnValue"))
            try seq.finish()
            guard seen.insert(oid).inserted else { throw X509Error(.duplicateExtension, "\(what): extension \(oid) appears twice") }
            out.append(Extension(oid: oid, critical: critical, value: value))
        }
        guard !out.isEmpty else { throw X509Error(.unexpectedStructure, "\(what): empty Extensions") }
        return out
    }
}

public struct BasicConstraints: Equatable, Sendable {
    public let isCA: Bool
    /// pathLenConstraint, only meaningful when `isCA`.
    public let pathLength: Int?

    init(_ bytes: [UInt8]) throws {
        var seq = try parseDER(bytes, "basicConstraints").sequence("basicConstraints")
        var ca = false
        if let b = seq.optional(Tag.boolean) { ca = try b.boolean("cA") }
        var len: Int? = nil
        if let l = seq.optional(Tag.integer) { len = try l.smallInt("pathLenConstraint", limit: 1 << 20) }
        try seq.finish()
        isCA = ca
        pathLength = len
    }
}

public struct KeyUsage: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let digitalSignature = KeyUsage(rawValue: 1 << 0)
    public static let contentCommitment = KeyUsage(rawValue: 1 << 1)
    public static let keyEncipherment = KeyUsage(rawValue: 1 << 2)
    public static let dataEncipherment = KeyUsage(rawValue: 1 << 3)
    public static let keyAgreement = KeyUsage(rawValue: 1 << 4)
    public static let keyCertSign = KeyUsage(rawValue: 1 << 5)
    public static let cRLSign = KeyUsage(rawValue: 1 << 6)
    public static let encipherOnly = KeyUsage(rawValue: 1 << 7)
    public static let decipherOnly = KeyUsage(rawValue: 1 << 8)

    static let names = ["digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment",
                        "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"]

    public var description: String {
        (0..<9).filter { rawValue & (1 << $0) != 0 }.map { KeyUsage.names[$0] }.joined(separator: ", ")
    }

    init(der bytes: [UInt8]) throws {
        let (bits, _) = try parseDER(bytes, "keyUsage").bitString("keyUsage")
        var v: UInt16 = 0
        for (i, byte) in bits.enumerated() {
            for bit in 0..<8 where byte & (0x80 >> bit) != 0 {
                let index = i * 8 + bit
                guard index < 9 else { throw X509Error(.malformedExtension, "keyUsage bit \(index) is undefined") }
                v |= 1 << UInt16(index)
            }
        }
        rawValue = v
    }
}

public struct AuthorityKeyIdentifier: Equatable, Sendable {
    public let keyIdentifier: [UInt8]?
    public let authorityCertIssuer: [GeneralName]?
    public let authorityCertSerialNumber: [UInt8]?

    init(_ bytes: [UInt8]) throws {
        var seq = try parseDER(bytes, "authorityKeyIdentifier").sequence("authorityKeyIdentifier")
        keyIdentifier = try seq.optional(Tag.context(0)).map { Array(try $0.octetString("keyIdentifier", tag: Tag.context(0))) }
        if let n = seq.optional(Tag.context(1)) {
            var inner = try n.reader(Tag.context(1), "authorityCertIssuer")
            var names: [GeneralName] = []
            while let g = inner.nextIfAny() { names.append(try GeneralName(node: g)) }
            authorityCertIssuer = names
        } else {
            authorityCertIssuer = nil
        }
        authorityCertSerialNumber = try seq.optional(Tag.context(2)).map {
            Array(try $0.integerBytes("authorityCertSerialNumber", tag: Tag.context(2)))
        }
        try seq.finish()
    }
}

/// A permitted or excluded subtree of a name constraint (minimum 0, no maximum, as RFC 5280 requires).
public struct NameConstraints: Sendable {
    public let permitted: [GeneralName]
    public let excluded: [GeneralName]

    init(_ bytes: [UInt8]) throws {
        var seq = try parseDER(bytes, "nameConstraints").sequence("nameConstraints")
        func subtrees(_ tag: UInt) throws -> [GeneralName] {
            guard let node = seq.optional(Tag.context(tag)) else { return [] }
            var list = try node.reader(Tag.context(tag), "GeneralSubtrees")
            var out: [GeneralName] = []
            while let st = list.nextIfAny() {
                var sub = try st.sequence("GeneralSubtree")
                out.append(try GeneralName(node: try sub.next("base")))
                if let m = sub.optional(Tag.context(0)) {
                    guard try m.smallInt("minimum", tag: Tag.context(0)) == 0 else {
                        throw X509Error(.malformedExtension, "name constraint minimum must be 0")
                    }
                }
                if sub.optional(Tag.context(1)) != nil {
                    throw X509Error(.malformedExtension, "name constraint maximum must be absent")
                }
                try sub.finish()
            }
            guard !out.isEmpty else { throw X509Error(.malformedExtension, "empty GeneralSubtrees") }
            return out
        }
        permitted = try subtrees(0)
        excluded = try subtrees(1)
        try seq.finish()
        guard !permitted.isEmpty || !excluded.isEmpty else {
            throw X509Error(.malformedExtension, "nameConstraints with neither permitted nor excluded subtrees")
        }
    }
}

public struct PolicyInformation: Sendable {
    public let policy: OID
    /// Qualifier ids with the DER of their values (CPS URIs, user notices).
    public let qualifiers: [(id: OID, value: [UInt8])]
}

public struct AccessDescription: Sendable {
    public let method: OID
    public let location: GeneralName
}

enum ExtensionParsers {
    static func extKeyUsage(_ bytes: [UInt8]) throws -> [OID] {
        var seq = try parseDER(bytes, "extKeyUsage").sequence("extKeyUsage")
        var out: [OID] = []
        while let n = seq.nextIfAny() { out.append(try n.oid("KeyPurposeId")) }
        guard !out.isEmpty else { throw X509Error(.malformedExtension, "empty extKeyUsage") }
        return out
    }

    static func subjectKeyIdentifier(_ bytes: [UInt8]) throws -> [UInt8] {
        Array(try parseDER(bytes, "subjectKeyIdentifier").octetString("subjectKeyIdentifier"))
    }

    static func altNames(_ bytes: [UInt8], _ what: String) throws -> [GeneralName] {
        let names = try GeneralName.parseList(try parseDER(bytes, what), what)
        guard !names.isEmpty else { throw X509Error(.malformedExtension, "empty \(what)") }
        for case .ipAddress(let b) in names where b.count != 4 && b.count != 16 {
            throw X509Error(.malformedExtension, "\(what): iPAddress of \(b.count) bytes")
        }
        return names
    }

    static func certificatePolicies(_ bytes: [UInt8]) throws -> [PolicyInformation] {
        var seq = try parseDER(bytes, "certificatePolicies").sequence("certificatePolicies")
        var out: [PolicyInformation] = []
        var seen = Set<OID>()
        while let n = seq.nextIfAny() {
            var info = try n.sequence("PolicyInformation")
            let oid = try info.next("policyIdentifier").oid("policyIdentifier")
            guard seen.insert(oid).inserted else { throw X509Error(.malformedExtension, "policy \(oid) listed twice") }
            var qualifiers: [(OID, [UInt8])] = []
            if let q = info.nextIfAny() {
                var list = try q.sequence("policyQualifiers")
                while let qi = list.nextIfAny() {
                    var pq = try qi.sequence("PolicyQualifierInfo")
                    let id = try pq.next("policyQualifierId").oid("policyQualifierId")
                    let v = try pq.next("qualifier")
                    try pq.finish()
                    qualifiers.append((id, Array(v.encodedBytes)))
                }
            }
            try info.finish()
            out.append(PolicyInformation(policy: oid, qualifiers: qualifiers))
        }
        guard !out.isEmpty else { throw X509Error(.malformedExtension, "empty certificatePolicies") }
        return out
    }

    static func accessDescriptions(_ bytes: [UInt8], _ what: String) throws -> [AccessDescription] {
        var seq = try parseDER(bytes, what).sequence(what)
        var out: [AccessDescription] = []
        while let n = seq.nextIfAny() {
            var ad = try n.sequence("AccessDescription")
            let method = try ad.next("accessMethod").oid("accessMethod")
            let location = try GeneralName(node: try ad.next("accessLocation"))
            try ad.finish()
            out.append(AccessDescription(method: method, location: location))
        }
        guard !out.isEmpty else { throw X509Error(.malformedExtension, "empty \(what)") }
        return out
    }
}
