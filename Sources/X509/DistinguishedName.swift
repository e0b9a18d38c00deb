import TLSCrypto
import SwiftASN1

/// One attribute of a name: `CN=www.example.com`.
public struct NameAttribute: Sendable, CustomStringConvertible {
    public let type: OID
    /// The universal tag number of the value (12 UTF8String, 19 PrintableString, ...).
    public let valueTag: UInt
    /// The value's complete DER encoding (tag, length, content).
    public let valueDER: [UInt8]
    /// The value as text when it is one of the directory string types; nil otherwise.
    public let stringValue: String?

    /// RFC 4514 `type=value`.
    public var description: String {
        DistinguishedName.rfc4514Type(type) + "=" + rfc4514Value
    }

    /// RFC 4514 2.4: a string for the named types; `#` and the hex of the DER for
    /// types written as dotted OIDs and for non-string values.
    var rfc4514Value: String {
        if let s = stringValue, DistinguishedName.shortNames[type] != nil { return DistinguishedName.escape(s) }
        return "#" + valueDER.hexString
    }

    static let stringTags: Set<UInt> = [12, 18, 19, 20, 22, 26, 28, 30]

    init(type: OID, valueTag: UInt, valueDER: [UInt8], stringValue: String?) {
        self.type = type
        self.valueTag = valueTag
        self.valueDER = valueDER
        self.stringValue = stringValue
    }

    init(node: ASN1Node) throws {
        var seq = try node.sequence("AttributeTypeAndValue")
        type = try seq.next("type").oid("attribute type")
        let value = try seq.next("value")
        try seq.finish()
        valueDER = Array(value.encodedBytes)
        if value.identifier.tagClass == .universal, NameAttribute.stringTags.contains(value.identifier.tagNumber) {
            valueTag = value.identifier.tagNumber
            stringValue = try NameAttribute.decodeString(tag: value.identifier.tagNumber,
                                                         try value.primitive("attribute value"), "\(type) value")
        } else {
            valueTag = value.identifier.tagClass == .universal ? value.identifier.tagNumber : 0
            stringValue = nil
        }
    }

    /// Decodes the directory string types to Swift text.
    static func decodeString(tag: UInt, _ b: ArraySlice<UInt8>, _ what: String) throws -> String {
        switch tag {
        case 12:  // UTF8String
            guard let s = String(validating: b, as: UTF8.self) else {
                throw X509Error(.invalidString, "\(what): invalid UTF-8")
            }
            return s
        case 18, 19, 22, 26:  // Numeric, Printable, IA5, Visible: ASCII
            guard b.allSatisfy({ $0 < 0x80 }) else { throw X509Error(.invalidString, "\(what): non-ASCII byte") }
            return String(decoding: b, as: UTF8.self)
        case 20:  // TeletexString: read as Latin-1, as most software does
            return String(b.map { Character(Unicode.Scalar($0)) })
        case 30:  // BMPString: UTF-16BE
            guard b.count % 2 == 0 else { throw X509Error(.invalidString, "\(what): odd-length BMPString") }
            var units: [UInt16] = []
            var i = b.startIndex
            while i < b.endIndex {
                units.append(UInt16(b[i]) << 8 | UInt16(b[i + 1]))
                i += 2
            }
            guard let s = String(validating: units, as: UTF16.self) else {
                throw X509Error(.invalidString, "\(what): invalid BMPString")
            }
            return s
        case 28:  // UniversalString: UTF-32BE
            guard b.count % 4 == 0 else { throw X509Error(.invalidString, "\(what): bad UniversalString length") }
            var out = String.UnicodeScalarView()
            var i = b.startIndex
            while i < b.endIndex {
                let v = UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
                guard let scalar = Unicode.Scalar(v) else { throw X509Error(.invalidString, "\(what): invalid UniversalString") }
                out.append(scalar)
                i += 4
            }
            return String(out)
        default:
            throw X509Error(.invalidString, "\(what): not a string type")
        }
    }

    /// The comparison form of RFC 5280 7.1 (simplified RFC 4518): strings are
    /// case-folded with runs of white space collapsed and ends trimmed; other values compare as DER.
    var normalized: [UInt8] {
        var out = type.derContent
        out.append(0)
        if let s = stringValue {
            out.append(UInt8(ascii: "s"))
            out.append(contentsOf: NameAttribute.normalizedASCII(s) ?? NameAttribute.normalizedUnicode(s))
        } else {
            out.append(UInt8(ascii: "b"))
            out.append(contentsOf: valueDER)
        }
        return out
    }

    /// Case-folded, white space collapsed and trimmed, by Unicode characters.
    static func normalizedUnicode(_ s: String) -> [UInt8] {
        let lowered = s.lowercased()
        // A Character is white space when its first scalar is; with no white-space scalar
        // at all there is nothing to collapse, and splitting into Characters is the cost.
        if !lowered.unicodeScalars.contains(where: \.properties.isWhitespace) { return Array(lowered.utf8) }
        var collapsed: [Character] = []
        var pendingSpace = false
        for ch in lowered {
            if ch.isWhitespace {
                pendingSpace = !collapsed.isEmpty
            } else {
                if pendingSpace { collapsed.append(" ") }
                pendingSpace = false
                collapsed.append(ch)
            }
        }
        return Array(String(collapsed).utf8)
    }

    /// The same normalization for all-ASCII text, byte by byte (the common case;
    /// nil when a byte is not ASCII). ASCII whitespace is what `Character.isWhitespace`
    /// accepts below 0x80: space and 0x09-0x0D.
    static func normalizedASCII(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var pendingSpace = false
        for b in s.utf8 {
            guard b < 0x80 else { return nil }
            if b == 0x20 || (b >= 0x09 && b <= 0x0D) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                out.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b)
            }
        }
        return out
    }
}

/// A set of attributes at one level of a name (usually exactly one).
public struct RelativeDistinguishedName: Sendable, CustomStringConvertible {
    public let attributes: [NameAttribute]
    public var description: String { attributes.map(\.description).joined(separator: "+") }
}

/// An X.501 Name. Equality and hashing follow RFC 5280 7.1 name matching
/// (case-insensitive, white space folded, attribute order within an RDN ignored),
/// so two names that a path builder must treat as equal are `==`.
public struct DistinguishedName: Hashable, Sendable, CustomStringConvertible {
    /// RDNs in DER order: most significant (e.g. C) first.
    public let rdns: [RelativeDistinguishedName]
    /// The exact DER encoding of the Name.
    public let der: [UInt8]
    let key: [UInt8]

    public static func == (a: DistinguishedName, b: DistinguishedName) -> Bool { a.key == b.key }
    public func hash(into h: inout Hasher) { h.combine(key) }

    public init(derEncoded bytes: [UInt8]) throws {
        try self.init(node: try parseDER(bytes, "Name"))
    }

    init(node: ASN1Node) throws {
        var seq = try node.sequence("Name")
        var rdns: [RelativeDistinguishedName] = []
        while let rdnNode = seq.nextIfAny() {
            var set = try rdnNode.reader(Tag.set, "RelativeDistinguishedName")
            var attrs: [NameAttribute] = []
            while let a = set.nextIfAny() { attrs.append(try NameAttribute(node: a)) }
            guard !attrs.isEmpty else { throw X509Error(.unexpectedStructure, "empty RelativeDistinguishedName") }
            rdns.append(RelativeDistinguishedName(attributes: attrs))
        }
        self.rdns = rdns
        self.der = Array(node.encodedBytes)
        self.key = DistinguishedName.makeKey(rdns)
    }

    init(rdns: [RelativeDistinguishedName]) {
        self.rdns = rdns
        var body: [UInt8] = []
        for rdn in rdns {
            var encoded = rdn.attributes.map { derElement(0x30, $0.type.derEncoded + $0.valueDER) }
            encoded.sort { $0.lexicographicallyPrecedes($1) }  // DER SET OF order
            body += derElement(0x31, encoded.flatMap { $0 })
        }
        self.der = derElement(0x30, body)
        self.key = DistinguishedName.makeKey(rdns)
    }

    /// The empty name (an empty SEQUENCE).
    public static let empty = DistinguishedName(rdns: [])

    private static func makeKey(_ rdns: [RelativeDistinguishedName]) -> [UInt8] {
        var key: [UInt8] = []
        for rdn in rdns {
            var parts = rdn.attributes.map(\.normalized)
            parts.sort { $0.lexicographicallyPrecedes($1) }
            key.append(0x31)
            for p in parts {
                key += derLength(p.count)
                key += p
            }
            key.append(0x00)
        }
        return key
    }

    public var isEmpty: Bool { rdns.isEmpty }

    /// Every attribute, most significant first.
    public var attributes: [NameAttribute] { rdns.flatMap(\.attributes) }

    /// String values of the attributes of one type, in DER order.
    public func values(of type: OID) -> [String] {
        attributes.filter { $0.type == type }.compactMap(\.stringValue)
    }

    public var commonNames: [String] { values(of: .commonName) }

    /// RFC 4514 string: RDNs from last to first, joined by ','.
    public var rfc4514String: String {
        rdns.reversed().map(\.description).joined(separator: ",")
    }

    public var description: String { rfc4514String }

    /// Whether `self` starts with all of `prefix`'s RDNs (directoryName name constraints).
    func hasPrefix(_ prefix: DistinguishedName) -> Bool {
        guard prefix.rdns.count <= rdns.count else { return false }
        for (a, b) in zip(rdns, prefix.rdns) {
            if DistinguishedName(rdns: [a]).key != DistinguishedName(rdns: [b]).key { return false }
        }
        return true
    }

    // MARK: RFC 4514 text

    static let shortNames: [OID: String] = [
        .commonName: "CN", .localityName: "L", .stateOrProvinceName: "ST", .organizationName: "O",
        .organizationalUnitName: "OU", .countryName: "C", .streetAddress: "STREET",
        .domainComponent: "DC", .userID: "UID",
    ]

    /// Extra names accepted when parsing (not produced, RFC 4514 2.3 lists only the short ones).
    static let parseNames: [String: OID] = {
        var m: [String: OID] = [:]
        for (oid, n) in shortNames { m[n.lowercased()] = oid }
        m["emailaddress"] = .emailAddress
        m["email"] = .emailAddress
        m["serialnumber"] = .serialNumber
        m["sn"] = .surname
        m["gn"] = .givenName
        m["givenname"] = .givenName
        m["title"] = .title
        m["postalcode"] = .postalCode
        m["commonname"] = .commonName
        m["organizationname"] = .organizationName
        m["organizationalunitname"] = .organizationalUnitName
        m["countryname"] = .countryName
        m["localityname"] = .localityName
        m["stateorprovincename"] = .stateOrProvinceName
        m["domaincomponent"] = .domainComponent
        m["userid"] = .userID
        m["dnqualifier"] = .dnQualifier
        m["pseudonym"] = .pseudonym
        m["organizationidentifier"] = .organizationIdentifier
        return m
    }()

    static func rfc4514Type(_ oid: OID) -> String { shortNames[oid] ?? oid.dotted }

    /// Escapes a value per RFC 4514 2.4 (control characters as \XX too).
    static func escape(_ s: String) -> String {
        var out = ""
        let scalars = Array(s.unicodeScalars)
        for (i, c) in scalars.enumerated() {
            switch c {
            case "\"", "+", ",", ";", "<", ">", "\\":
                out += "\\" + String(c)
            case " " where i == 0 || i == scalars.count - 1:
                out += "\\ "
            case "#" where i == 0:
                out += "\\#"
            default:
                if c.value < 0x20 || c.value == 0x7f {
                    out += "\\" + [UInt8(c.value)].hexString.uppercased()
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }

    /// Parses an RFC 4514 string ("CN=www.example.com,O=Example,C=US"). Spaces around
    /// ',', '+' and '=' are tolerated (as RFC 2253 readers do); known short names and
    /// dotted OIDs are accepted as types; `#hex` values are DER. Values are encoded as
    /// UTF8String, except C and dnQualifier (PrintableString) and DC and emailAddress (IA5String).
    public init(rfc4514 text: String) throws {
        var parser = RFC4514Parser(Array(text.utf8))
        let parsed = try parser.parse()
        self.init(rdns: parsed.reversed())
    }
}

/// RFC 4514 parsing over the text's UTF-8 bytes: every character with a meaning in the
/// grammar is ASCII, so value bytes are copied through as they are and offsets in errors
/// are byte offsets.
private struct RFC4514Parser {
    let s: [UInt8]
    var i = 0
    init(_ s: [UInt8]) { self.s = s }

    func fail(_ why: String) -> X509Error { X509Error(.invalidNameString, "\(why) at offset \(i)") }

    mutating func skipSpaces() { while i < s.count, s[i] == UInt8(ascii: " ") { i += 1 } }

    func at(_ c: Unicode.Scalar) -> Bool { i < s.count && s[i] == UInt8(ascii: c) }

    mutating func parse() throws -> [RelativeDistinguishedName] {
        var rdns: [RelativeDistinguishedName] = []
        skipSpaces()
        if i == s.count { return [] }
        while true {
            var attrs: [NameAttribute] = []
            while true {
                attrs.append(try attribute())
                skipSpaces()
                if at("+") { i += 1; skipSpaces(); continue }
                break
            }
            rdns.append(RelativeDistinguishedName(attributes: attrs))
            if i == s.count { break }
            guard at(",") || at(";") else { throw fail("expected ','") }
            i += 1
            skipSpaces()
        }
        return rdns
    }

    mutating func attribute() throws -> NameAttribute {
        let typeStart = i
        while i < s.count, !at("="), !at(" ") {
            guard RFC4514Parser.isTypeCharacter(s[i]) else { throw fail("bad character in attribute type") }
            i += 1
        }
        // Only ASCII letters, digits, '.' and '-' got here.
        let typeText = String(decoding: s[typeStart..<i], as: UTF8.self)
        skipSpaces()
        guard at("=") else { throw fail("expected '='") }
        i += 1
        skipSpaces()
        guard !typeText.isEmpty else { throw fail("empty attribute type") }
        let type = try attributeType(typeText)
        if at("#") {
            i += 1
            return try hexValue(type)
        }
        var bytes: [UInt8] = []
        var trailingUnescapedSpaces = 0
        while i < s.count {
            let c = s[i]
            if c == UInt8(ascii: ",") || c == UInt8(ascii: "+") || c == UInt8(ascii: ";") { break }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < s.count else { throw fail("dangling escape") }
                let e = s[i]
                if let h = RFC4514Parser.hexDigit(e), i + 1 < s.count, let l = RFC4514Parser.hexDigit(s[i + 1]) {
                    bytes.append(h << 4 | l)
                    i += 2
                } else if RFC4514Parser.escapable.contains(e) {
                    bytes.append(e)
                    i += 1
                } else {
                    throw fail("bad escape")
                }
                trailingUnescapedSpaces = 0
                continue
            }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "<") || c == UInt8(ascii: ">") {
                throw fail("unescaped special character")
            }
            bytes.append(c)
            trailingUnescapedSpaces = c == UInt8(ascii: " ") ? trailingUnescapedSpaces + 1 : 0
            i += 1
        }
        bytes.removeLast(trailingUnescapedSpaces)
        guard let value = String(validating: bytes, as: UTF8.self) else { throw fail("escaped bytes are not UTF-8") }
        let tag: UInt
        switch type {
        case .countryName, .dnQualifier, .serialNumber:
            tag = bytes.allSatisfy(RFC4514Parser.isPrintableStringByte) ? 19 : 12
        case .domainComponent, .emailAddress:
            tag = bytes.allSatisfy { $0 < 0x80 } ? 22 : 12
        default:
            tag = 12
        }
        return NameAttribute(type: type, valueTag: tag, valueDER: derElement(UInt8(tag), bytes), stringValue: value)
    }

    func attributeType(_ typeText: String) throws -> OID {
        if let first = typeText.utf8.first, RFC4514Parser.isDigit(first) {
            guard let o = OID(dotted: typeText) else { throw fail("bad numeric OID \(typeText)") }
            return o
        }
        let lowered = typeText.lowercased()
        if lowered.hasPrefix("oid."), let o = OID(dotted: String(typeText.dropFirst(4))) { return o }
        if let o = DistinguishedName.parseNames[lowered] { return o }
        throw fail("unknown attribute type \(typeText)")
    }

    /// `#` and the hex of a DER value (RFC 4514 2.4), up to the next separator or space.
    mutating func hexValue(_ type: OID) throws -> NameAttribute {
        var der: [UInt8] = []
        while i < s.count, !at(","), !at("+"), !at(";"), !at(" ") {
            guard let h = RFC4514Parser.hexDigit(s[i]), i + 1 < s.count,
                  let l = RFC4514Parser.hexDigit(s[i + 1]) else { throw fail("bad #hex value") }
            der.append(h << 4 | l)
            i += 2
        }
        guard !der.isEmpty else { throw fail("bad #hex value") }
        let node = try parseDER(der, "attribute value")
        var str: String? = nil
        if node.identifier.tagClass == .universal, NameAttribute.stringTags.contains(node.identifier.tagNumber) {
            str = try NameAttribute.decodeString(tag: node.identifier.tagNumber, try node.primitive("value"), "value")
        }
        return NameAttribute(type: type, valueTag: node.identifier.tagNumber, valueDER: der, stringValue: str)
    }

    static let escapable: Set<UInt8> = Set("\"+,;<>\\ #=".utf8)
    static let printableStringPunctuation: Set<UInt8> = Set(" '()+,-./:=?".utf8)

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }

    static func isTypeCharacter(_ b: UInt8) -> Bool {
        isLetter(b) || isDigit(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
    }

    /// The PrintableString repertoire (X.680 41.4).
    static func isPrintableStringByte(_ b: UInt8) -> Bool {
        isLetter(b) || isDigit(b) || printableStringPunctuation.contains(b)
    }

    static func hexDigit(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
