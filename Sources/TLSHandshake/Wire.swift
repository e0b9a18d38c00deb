/// Bounds-checked reading of TLS presentation-language structures. Every
/// shortfall is a `decode_error`; nothing here can trap on received bytes.
public struct ByteReader {
    private let bytes: [UInt8]
    private var position: Int
    private let end: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
    }

    private init(bytes: [UInt8], start: Int, end: Int) {
        self.bytes = bytes
        self.position = start
        self.end = end
    }

    public var remaining: Int { end - position }
    public var isAtEnd: Bool { position >= end }

    public mutating func u8() throws -> UInt8 {
        guard remaining >= 1 else { throw HandshakeError.decode("truncated: expected 1 more byte") }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func u16() throws -> UInt16 {
        guard remaining >= 2 else { throw HandshakeError.decode("truncated: expected a 16-bit value") }
        defer { position += 2 }
        return UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
    }

    public mutating func u24() throws -> Int {
        guard remaining >= 3 else { throw HandshakeError.decode("truncated: expected a 24-bit value") }
        defer { position += 3 }
        return Int(bytes[position]) << 16 | Int(bytes[position + 1]) << 8 | Int(bytes[position + 2])
    }

    public mutating func u32() throws -> UInt32 {
        guard remaining >= 4 else { throw HandshakeError.decode("truncated: expected a 32-bit value") }
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[position + i]) }
        position += 4
        return v
    }

    public mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, remaining >= count else { throw HandshakeError.decode("truncated: expected \(count) bytes, \(remaining) left") }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// A reader over the next `count` bytes; this reader skips past them.
    public mutating func sub(_ count: Int) throws -> ByteReader {
        guard count >= 0, remaining >= count else { throw HandshakeError.decode("truncated: vector of \(count) bytes, \(remaining) left") }
        defer { position += count }
        return ByteReader(bytes: bytes, start: position, end: position + count)
    }

    public mutating func vector8() throws -> [UInt8] { try bytes(Int(try u8())) }
    public mutating func vector16() throws -> [UInt8] { try bytes(Int(try u16())) }
    public mutating func vector24() throws -> [UInt8] { try bytes(try u24()) }
    public mutating func sub8() throws -> ByteReader { try sub(Int(try u8())) }
    public mutating func sub16() throws -> ByteReader { try sub(Int(try u16())) }
    public mutating func sub24() throws -> ByteReader { try sub(try u24()) }

    /// Codecs reject trailing bytes.
    public func expectEnd(_ what: String) throws {
        guard isAtEnd else { throw HandshakeError.decode("\(remaining) trailing bytes after \(what)") }
    }

    public mutating func rest() -> [UInt8] {
        defer { position = end }
        return Array(bytes[position..<end])
    }
}

/// Builds TLS structures; length prefixes are patched in after the body is written.
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}
    public init(capacity: Int) { bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xff)) }
    public mutating func u24(_ v: Int) {
        bytes.append(UInt8((v >> 16) & 0xff)); bytes.append(UInt8((v >> 8) & 0xff)); bytes.append(UInt8(v & 0xff))
    }
    public mutating func u32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8((v >> UInt32(shift)) & 0xff)) }
    }
    public mutating func append<C: Collection>(_ b: C) where C.Element == UInt8 { bytes.append(contentsOf: b) }

    /// Writes a vector whose length prefix has `prefixBytes` bytes (1, 2 or 3).
    public mutating func vector(_ prefixBytes: Int, _ body: (inout ByteWriter) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: prefixBytes))
        body(&self)
        let length = bytes.count - start - prefixBytes
        precondition(length < 1 << (8 * prefixBytes), "encoder produced an over-long vector")
        for i in 0..<prefixBytes {
            bytes[start + i] = UInt8((length >> (8 * (prefixBytes - 1 - i))) & 0xff)
        }
    }

    public mutating func vector8(_ b: [UInt8]) { vector(1) { $0.append(b) } }
    public mutating func vector16(_ b: [UInt8]) { vector(2) { $0.append(b) } }
    public mutating func vector24(_ b: [UInt8]) { vector(3) { $0.append(b) } }
}
