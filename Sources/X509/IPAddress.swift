/// Textual IPv4 and IPv6 addresses (RFC 4291 2.2, dotted-quad IPv4) to and from bytes.
public enum IPAddress {
    /// Parses "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (and "[::1]") into 4 or 16 bytes.
    /// Returns nil for anything else, so a hostname is never mistaken for an address.
    public static func parse(_ text: String) -> [UInt8]? {
        // The longest form, "[" + 45 + "]", and only the bytes an address can hold.
        guard text.utf8.count <= 47, text.utf8.allSatisfy(IPAddress.mayAppear) else { return nil }
        var s = Substring(text)
        if s.hasPrefix("["), s.hasSuffix("]") { s = s.dropFirst().dropLast() }
        if let v4 = parseV4(s) { return v4 }
        return parseV6(s)
    }

    private static func mayAppear(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"),
             UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "["), UInt8(ascii: "]"):
            return true
        default:
            return false
        }
    }

    static func parseV4(_ s: Substring) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            // Decimal only, no leading zeros (which some resolvers read as octal).
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0 >= "0" && $0 <= "9" }),
                  !(p.count > 1 && p.first == "0"), let v = Int(p), v <= 255 else { return nil }
            out.append(UInt8(v))
        }
        return out
    }

    static func parseV6(_ s: Substring) -> [UInt8]? {
        guard s.contains(":"), s.count <= 45 else { return nil }
        let chars = Array(s)
        // Find "::" (at most once).
        var gap: Int? = nil
        var i = 0
        while i + 1 < chars.count {
            if chars[i] == ":" && chars[i + 1] == ":" {
                guard gap == nil else { return nil }
                gap = i
                i += 2
                continue
            }
            i += 1
        }
        let head: [UInt16]
        let tail: [UInt16]
        if let g = gap {
            guard let l = groups(Substring(String(chars[0..<g])), allowV4: false),
                  let r = groups(Substring(String(chars[(g + 2)...])), allowV4: true) else { return nil }
            guard l.count + r.count <= 7 else { return nil }
            head = l
            tail = r
        } else {
            guard let all = groups(s, allowV4: true), all.count == 8 else { return nil }
            head = all
            tail = []
        }
        let words = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        var out: [UInt8] = []
        for w in words { out.append(UInt8(w >> 8)); out.append(UInt8(w & 0xff)) }
        return out
    }

    /// Colon-separated hex groups; the last may be a dotted IPv4 address.
    private static func groups(_ s: Substring, allowV4: Bool) -> [UInt16]? {
        if s.isEmpty { return [] }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        var out: [UInt16] = []
        for (i, p) in parts.enumerated() {
            if allowV4, i == parts.count - 1, p.contains(".") {
                guard let v4 = parseV4(p) else { return nil }
                out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                continue
            }
            guard !p.isEmpty, p.count <= 4, p.allSatisfy({ $0.isHexDigit }), let v = UInt16(p, radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }

    /// Formats 4 bytes as dotted quad, 16 as RFC 5952 text, 8 or 32 (constraint address and
    /// mask) as "address/mask"; anything else as hex.
    public static func format(_ b: [UInt8]) -> String {
        switch b.count {
        case 4: return b.map(String.init).joined(separator: ".")
        case 16:
            var words: [UInt16] = []
            for i in 0..<8 { words.append(UInt16(b[2 * i]) << 8 | UInt16(b[2 * i + 1])) }
            // Longest run of zero words (length >= 2) becomes "::".
            var bestStart = -1, bestLen = 0, i = 0
            while i < 8 {
                if words[i] == 0 {
                    var j = i
                    while j < 8, words[j] == 0 { j += 1 }
                    if j - i > bestLen { bestStart = i; bestLen = j - i }
                    i = j
                } else { i += 1 }
            }
            if bestLen < 2 { bestStart = -1 }
            var out = ""
            var k = 0
            while k < 8 {
                if k == bestStart {
                    out += "::"
                    k += bestLen
                    continue
                }
                if !out.isEmpty, !out.hasSuffix(":") { out += ":" }
                out += String(words[k], radix: 16)
                k += 1
            }
            return out
        case 8: return format(Array(b[0..<4])) + "/" + format(Array(b[4..<8]))
        case 32: return format(Array(b[0..<16])) + "/" + format(Array(b[16..<32]))
        default: return b.map { String($0, radix: 16) }.joined(separator: ":")
        }
    }
}
