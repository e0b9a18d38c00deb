import SwiftASN1

// Thin, non-trapping helpers over swift-asn1's DER node tree. swift-asn1 checks
// the TLV layer (tags, minimal lengths, nesting depth, no trailing bytes); these
// helpers check the primitive encodings we rely on and turn every problem into a
// specific `X509Error`.

enum Tag {
    static let boolean = ASN1Identifier.boolean
    static let integer = ASN1Identifier.integer
    static let bitString = ASN1Identifier.bitString
    static let octetString = ASN1Identifier.octetString
    static let null = ASN1Identifier.null
    static let oid = ASN1Identifier.objectIdentifier
    static let sequence = ASN1Identifier.sequence
    static let set = ASN1Identifier.set
    static let utcTime = ASN1Identifier.utcTime
    static let generalizedTime = ASN1Identifier.generalizedTime
    static let ia5String = ASN1Identifier.ia5String

    static func context(_ n: UInt) -> ASN1Identifier {
        ASN1Identifier(tagWithNumber: n, tagClass: .contextSpecific)
    }
}

/// Parses one complete DER element (no trailing bytes).
func parseDER(_ bytes: ArraySlice<UInt8>, _ what: String) throws -> ASN1Node {
    guard !bytes.isEmpty else { throw X509Error(.invalidDER, "\(what): no data") }
    do {
        return try DER.parse(bytes)
    } catch {
        throw X509Error(.invalidDER, "\(what): \(derReason(error))")
    }
}

func parseDER(_ bytes: [UInt8], _ what: String) throws -> ASN1Node {
    try parseDER(bytes[...], what)
}

private func derReason(_ error: Error) -> String {
    if let e = error as? ASN1Error { return "\(e.code)" }
    return "\(error)"
}

extension ASN1Node {
    var isConstructed: Bool {
        if case .constructed = content { return true }
        return false
    }

    /// The content bytes of a primitive node.
    func primitive(_ what: String) throws -> ArraySlice<UInt8> {
        guard case .primitive(let bytes) = content else {
            throw X509Error(.unexpectedStructure, "\(what): expected a primitive encoding")
        }
        return bytes
    }

    /// Iterates the children of a constructed node with the given tag.
    func reader(_ tag: ASN1Identifier, _ what: String) throws -> DERReader {
        guard identifier == tag else {
            throw X509Error(.unexpectedStructure, "\(what): expected \(tag), found \(identifier)")
        }
        guard case .constructed(let children) = content else {
            throw X509Error(.unexpectedStructure, "\(what): expected a constructed encoding")
        }
        return DERReader(children.makeIterator(), what)
    }

    func sequence(_ what: String) throws -> DERReader { try reader(Tag.sequence, what) }

    func expect(_ tag: ASN1Identifier, _ what: String) throws {
        guard identifier == tag else {
            throw X509Error(.unexpectedStructure, "\(what): expected \(tag), found \(identifier)")
        }
    }

    // MARK: primitives

    /// INTEGER content bytes (two's complement, minimal), checked.
    func integerBytes(_ what: String, tag: ASN1Identifier = Tag.integer) throws -> ArraySlice<UInt8> {
        try expect(tag, what)
        let b = try primitive(what)
        guard let first = b.first else { throw X509Error(.invalidDER, "\(what): empty INTEGER") }
        if b.count > 1 {
            let second = b[b.index(after: b.startIndex)]
            if (first == 0 && second & 0x80 == 0) || (first == 0xff && second & 0x80 != 0) {
                throw X509Error(.invalidDER, "\(what): INTEGER not minimally encoded")
            }
        }
        return b
    }

    /// A non-negative INTEGER as unsigned big-endian bytes without the sign octet.
    func unsignedIntegerBytes(_ what: String, tag: ASN1Identifier = Tag.integer) throws -> [UInt8] {
        let b = try integerBytes(what, tag: tag)
        guard let first = b.first, first & 0x80 == 0 else {
            throw X509Error(.unexpectedStructure, "\(what): negative INTEGER")
        }
        return first == 0 && b.count > 1 ? Array(b.dropFirst()) : Array(b)
    }

    /// A small non-negative INTEGER (at most `limit`).
    func smallInt(_ what: String, limit: Int = Int(Int32.max), tag: ASN1Identifier = Tag.integer) throws -> Int {
        let b = try unsignedIntegerBytes(what, tag: tag)
        guard b.count <= 4 else { throw X509Error(.unexpectedStructure, "\(what): INTEGER too large") }
        var v = 0
        for byte in b { v = v << 8 | Int(byte) }
        guard v <= limit else { throw X509Error(.unexpectedStructure, "\(what): \(v) exceeds \(limit)") }
        return v
    }

    func boolean(_ what: String, tag: ASN1Identifier = Tag.boolean) throws -> Bool {
        try expect(tag, what)
        let b = try primitive(what)
        guard b.count == 1, let v = b.first else { throw X509Error(.invalidDER, "\(what): BOOLEAN must be one byte") }
        switch v {
        case 0x00: return false
        case 0xff: return true
        default: throw X509Error(.invalidDER, "\(what): BOOLEAN must be 00 or FF in DER")
        }
    }

    func octetString(_ what: String, tag: ASN1Identifier = Tag.octetString) throws -> ArraySlice<UInt8> {
        try expect(tag, what)
        return try primitive(what)
    }

    /// BIT STRING: the bytes and the number of unused bits in the last byte (DER: those bits are zero).
    func bitString(_ what: String, tag: ASN1Identifier = Tag.bitString) throws -> (bytes: ArraySlice<UInt8>, unusedBits: Int) {
        try expect(tag, what)
        let b = try primitive(what)
        guard let unused = b.first, unused < 8 else { throw X509Error(.invalidDER, "\(what): bad BIT STRING padding count") }
        let data = b.dropFirst()
        if data.isEmpty {
            guard unused == 0 else { throw X509Error(.invalidDER, "\(what): padding in an empty BIT STRING") }
        } else if let last = data.last, unused > 0 {
            guard last & ((1 << unused) - 1) == 0 else { throw X509Error(.invalidDER, "\(what): BIT STRING padding bits not zero") }
        }
        return (data, Int(unused))
    }

    /// A BIT STRING that must hold whole bytes (keys, signatures).
    func bitStringBytes(_ what: String) throws -> [UInt8] {
        let (bytes, unused) = try bitString(what)
        guard unused == 0 else { throw X509Error(.unexpectedStructure, "\(what): BIT STRING is not a whole number of bytes") }
        return Array(bytes)
    }

    func null(_ what: String) throws {
        try expect(Tag.null, what)
        guard try primitive(what).isEmpty else { throw X509Error(.invalidDER, "\(what): NULL with content") }
    }

    func oid(_ what: String) throws -> OID {
        try expect(Tag.oid, what)
        return try OID(derContent: try primitive(what), what)
    }

    /// IA5String content (ASCII only).
    func ia5String(_ what: String, tag: ASN1Identifier = Tag.ia5String) throws -> String {
        try expect(tag, what)
        let b = try primitive(what)
        guard b.allSatisfy({ $0 < 0x80 }) else { throw X509Error(.invalidString, "\(what): IA5String with a non-ASCII byte") }
        return String(decoding: b, as: UTF8.self)
    }
}

/// Walks the children of a constructed node in order.
struct DERReader {
    private var iterator: ASN1NodeCollection.Iterator
    let what: String

    init(_ iterator: ASN1NodeCollection.Iterator, _ what: String) {
        self.iterator = iterator
        self.what = what
    }

    /// The next child, or an error naming the missing field.
    mutating func next(_ field: String) throws -> ASN1Node {
        guard let n = iterator.next() else {
            throw X509Error(.unexpectedStructure, "\(what): \(field) missing")
        }
        return n
    }

    /// The next child without consuming it.
    func peek() -> ASN1Node? {
        var copy = iterator
        return copy.next()
    }

    /// Consumes and returns the next child if it has the given tag.
    mutating func optional(_ tag: ASN1Identifier) -> ASN1Node? {
        guard let n = peek(), n.identifier == tag else { return nil }
        return iterator.next()
    }

    mutating func nextIfAny() -> ASN1Node? { iterator.next() }

    var atEnd: Bool { peek() == nil }

    func finish() throws {
        guard atEnd else { throw X509Error(.unexpectedStructure, "\(what): unexpected extra fields") }
    }

    /// All remaining children.
    mutating func rest() -> [ASN1Node] {
        var out: [ASN1Node] = []
        while let n = iterator.next() { out.append(n) }
        return out
    }
}

// MARK: - Object identifiers

/// An object identifier, held as its DER content bytes (so comparing and hashing are cheap).
public struct OID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let derContent: [UInt8]

    init(derContent bytes: ArraySlice<UInt8>, _ what: String) throws {
        guard !bytes.isEmpty, let last = bytes.last, last & 0x80 == 0 else {
            throw X509Error(.invalidDER, "\(what): malformed OBJECT IDENTIFIER")
        }
        // No arc may start with 0x80 (non-minimal), and each arc must fit in 64 bits.
        var atArcStart = true
        var arcBytes = 0
        for b in bytes {
            if atArcStart && b == 0x80 { throw X509Error(.invalidDER, "\(what): non-minimal OID arc") }
            arcBytes += 1
            guard arcBytes <= 9 else { throw X509Error(.invalidDER, "\(what): OID arc too large") }
            atArcStart = b & 0x80 == 0
            if atArcStart { arcBytes = 0 }
        }
        self.derContent = Array(bytes)
    }

    /// From a dotted string such as "2.5.29.19". Returns nil for malformed text.
    public init?(dotted: String) {
        let parts = dotted.split(separator: ".", omittingEmptySubsequences: false)
        var arcs: [UInt64] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 19, p.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt64(p) else { return nil }
            arcs.append(v)
        }
        guard arcs.count >= 2, arcs[0] <= 2, arcs[0] == 2 || arcs[1] < 40 else { return nil }
        let (firstArc, overflow) = (arcs[0] * 40).addingReportingOverflow(arcs[1])
        guard !overflow else { return nil }
        var out: [UInt8] = []
        for arc in [firstArc] + arcs.dropFirst(2) {
            var chunk: [UInt8] = [UInt8(arc & 0x7f)]
            var v = arc >> 7
            while v > 0 {
                chunk.insert(UInt8(v & 0x7f) | 0x80, at: 0)
                v >>= 7
            }
            out.append(contentsOf: chunk)
        }
        self.derContent = out
    }

    /// Static constants: the literal is known to be well formed.
    init(_ literal: StaticString) {
        self = OID(dotted: "\(literal)") ?? OID(unchecked: [])
    }

    private init(unchecked: [UInt8]) { derContent = unchecked }

    public var components: [UInt64] {
        var arcs: [UInt64] = []
        var v: UInt64 = 0
        for b in derContent {
            v = v << 7 | UInt64(b & 0x7f)
            if b & 0x80 == 0 {
                if arcs.isEmpty {
                    if v < 40 { arcs += [0, v] } else if v < 80 { arcs += [1, v - 40] } else { arcs += [2, v - 80] }
                } else {
                    arcs.append(v)
                }
                v = 0
            }
        }
        return arcs
    }

    public var dotted: String { components.map(String.init).joined(separator: ".") }

    public var description: String {
        if let name = OID.names[self] { return name }
        return dotted
    }

    /// The DER encoding including tag and length.
    var derEncoded: [UInt8] { [0x06] + derLength(derContent.count) + derContent }

    public static func < (a: OID, b: OID) -> Bool { a.components.lexicographicallyPrecedes(b.components) }
}

/// A DER length field for `n` bytes of content.
func derLength(_ n: Int) -> [UInt8] {
    if n < 0x80 { return [UInt8(n)] }
    var bytes: [UInt8] = []
    var v = n
    while v > 0 { bytes.insert(UInt8(v & 0xff), at: 0); v >>= 8 }
    return [0x80 | UInt8(bytes.count)] + bytes
}

/// One DER element: tag, length, content.
func derElement(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
    [tag] + derLength(content.count) + content
}
