/// Hexadecimal conversion and small byte helpers shared by every layer.
public enum HexError: Error, Equatable, Sendable {
    case oddLength
    case invalidCharacter(Character)
}

extension Array where Element == UInt8 {
    /// Parses lowercase or uppercase hex; whitespace is not allowed.
    public init(hex: String) throws {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8? = nil
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: throw HexError.invalidCharacter(Character(Unicode.Scalar(c)))
            }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        if high != nil { throw HexError.oddLength }
        self = out
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hex, no separators.
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var chars: [UInt8] = []
        for b in self {
            chars.append(digits[Int(b >> 4)])
            chars.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: chars, as: UTF8.self)
    }
}

/// Constant-time comparison: the running time depends only on the lengths,
/// never on where the first difference is. Used for MACs, Finished values and binders.
/// Inlinable so callers get it specialised: the generic version walked `zip`
/// through witness tables at ~3,000 instructions per byte.
@inlinable
public func constantTimeEquals<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
where A.Element == UInt8, B.Element == UInt8 {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for (x, y) in zip(a, b) { diff |= x ^ y }
    return diff == 0
}

/// Overwrites a buffer holding secret material.
public func secureZero(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { raw in
        guard let base = raw.baseAddress else { return }
        // memset_s is not on Linux; a volatile-style loop through an opaque pointer.
        let p = base.assumingMemoryBound(to: UInt8.self)
        for i in 0..<raw.count { p[i] = 0 }
    }
}
