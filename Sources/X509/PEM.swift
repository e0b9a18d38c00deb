/// One PEM block (RFC 7468): its label and the DER bytes it carries.
public struct PEMBlock: Equatable, Sendable {
    public let label: String
    public let der: [UInt8]
    /// RFC 1421-style headers ("Proc-Type: 4,ENCRYPTED", "DEK-Info: ..."), which only
    /// OpenSSL's legacy encrypted keys carry. Empty for RFC 7468 blocks.
    public let headers: [String: String]

    public init(label: String, der: [UInt8], headers: [String: String] = [:]) {
        self.label = label
        self.der = der
        self.headers = headers
    }

    /// The block as RFC 7468 text, 64 base64 characters a line.
    public var pemString: String {
        let b64 = Base64.encode(der)
        var out = "-----BEGIN \(label)-----\n"
        var i = b64.startIndex
        while i < b64.endIndex {
            let j = b64.index(i, offsetBy: 64, limitedBy: b64.endIndex) ?? b64.endIndex
            out += b64[i..<j] + "\n"
            i = j
        }
        out += "-----END \(label)-----\n"
        return out
    }
}

/// PEM parsing per RFC 7468, in its lax form: any text before, between and after
/// blocks is ignored (CA bundles carry comments and `openssl x509 -text` dumps),
/// lines may end in CRLF, and whitespace inside the base64 is skipped. A BEGIN line
/// without its END, mismatched labels or bad base64 are errors, never skipped.
public enum PEM {
    public static func parse(_ text: String) throws -> [PEMBlock] {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: [UInt8]) throws -> [PEMBlock] {
        var blocks: [PEMBlock] = []
        var lines = LineIterator(bytes)
        while let line = lines.next() {
            guard let label = boundaryLabel(line, kind: "BEGIN") else { continue }
            var body: [UInt8] = []
            var headers: [String: String] = [:]
            var ended = false
            var sawBase64 = false
            var lineNumber = 0
            while let inner = lines.next() {
                lineNumber += 1
                if let endLabel = boundaryLabel(inner, kind: "END") {
                    guard endLabel == label else {
                        throw X509Error(.invalidPEM, "BEGIN \(label) closed by END \(endLabel)")
                    }
                    ended = true
                    break
                }
                if boundaryLabel(inner, kind: "BEGIN") != nil {
                    throw X509Error(.invalidPEM, "BEGIN \(label) has no END line before the next BEGIN")
                }
                // RFC 1421 headers ("Name: value") may precede the base64 (legacy keys).
                if !sawBase64, let colon = inner.firstIndex(of: UInt8(ascii: ":")) {
                    let name = String(decoding: inner[inner.startIndex..<colon], as: UTF8.self).trimmingASCIISpaces
                    let value = String(decoding: inner[(colon + 1)...], as: UTF8.self).trimmingASCIISpaces
                    headers[name] = value
                    continue
                }
                for b in inner where !isSpace(b) {
                    body.append(b)
                    sawBase64 = true
                }
            }
            guard ended else { throw X509Error(.invalidPEM, "BEGIN \(label) has no END line") }
            guard let der = Base64.decode(body) else {
                throw X509Error(.invalidPEM, "bad base64 in the \(label) block")
            }
            guard !der.isEmpty else { throw X509Error(.invalidPEM, "empty \(label) block") }
            blocks.append(PEMBlock(label: label, der: der, headers: headers))
        }
        return blocks
    }

    /// Whether the bytes look like PEM text rather than DER (DER starts with a SEQUENCE tag).
    public static func looksLikePEM(_ bytes: [UInt8]) -> Bool {
        let marker = beginPrefix
        guard bytes.count >= marker.count else { return false }
        var i = 0
        while i + marker.count <= bytes.count {
            if bytes[i] == marker[0], bytes[i..<(i + marker.count)].elementsEqual(marker) { return true }
            i += 1
        }
        return false
    }

    /// The label of a "-----BEGIN X-----" / "-----END X-----" line, or nil.
    private static let beginPrefix = Array("-----BEGIN ".utf8)
    private static let endPrefix = Array("-----END ".utf8)
    private static let dashes = Array("-----".utf8)

    private static func boundaryLabel(_ line: ArraySlice<UInt8>, kind: String) -> String? {
        var s = line
        while let l = s.last, isSpace(l) { s = s.dropLast() }
        while let f = s.first, isSpace(f) { s = s.dropFirst() }
        guard s.first == UInt8(ascii: "-") else { return nil }
        let prefix = kind == "BEGIN" ? beginPrefix : endPrefix
        let suffix = dashes
        guard s.count >= prefix.count + suffix.count,
              s.prefix(prefix.count).elementsEqual(prefix),
              s.suffix(suffix.count).elementsEqual(suffix) else { return nil }
        let label = s.dropFirst(prefix.count).dropLast(suffix.count)
        // RFC 7468 labels: printable ASCII without '-' at either end.
        guard label.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }), label.first != UInt8(ascii: "-"),
              label.last != UInt8(ascii: "-") else { return nil }
        return String(decoding: label, as: UTF8.self)
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0d || b == 0x0a || b == 0x0b || b == 0x0c }
}

/// Splits bytes at LF (a trailing CR stays in the line and is treated as whitespace).
struct LineIterator: IteratorProtocol {
    private let bytes: [UInt8]
    private var index = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> ArraySlice<UInt8>? {
        guard index < bytes.count else { return nil }
        var end = index
        while end < bytes.count, bytes[end] != 0x0a { end += 1 }
        let line = bytes[index..<end]
        index = end + 1
        return line
    }
}

extension String {
    var trimmingASCIISpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

/// Standard base64 (RFC 4648 section 4) with '=' padding, strict about padding and characters.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let table: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    static func encode(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        var i = 0
        while i < data.count {
            let b0 = data[i]
            let b1: UInt8 = i + 1 < data.count ? data[i + 1] : 0
            let b2: UInt8 = i + 2 < data.count ? data[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < data.count ? alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < data.count ? alphabet[Int(b2 & 0x3f)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes characters with whitespace already removed; nil on any error.
    static func decode(_ chars: [UInt8]) -> [UInt8]? {
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            let isLast = i + 4 == chars.count
            // Up to four 6-bit values; '=' only at the end of the last quad.
            var values: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
            var count = 0
            var padding = 0
            for j in i..<(i + 4) {
                let c = chars[j]
                if c == UInt8(ascii: "=") {
                    padding += 1
                    continue
                }
                guard padding == 0 else { return nil }  // data after '='
                let v = table[Int(c)]
                guard v >= 0 else { return nil }
                switch count {
                case 0: values.0 = UInt8(v)
                case 1: values.1 = UInt8(v)
                case 2: values.2 = UInt8(v)
                default: values.3 = UInt8(v)
                }
                count += 1
            }
            guard padding == 0 || (isLast && padding <= 2) else { return nil }
            switch count {
            case 4:
                out.append(values.0 << 2 | values.1 >> 4)
                out.append((values.1 & 0x0f) << 4 | values.2 >> 2)
                out.append((values.2 & 0x03) << 6 | values.3)
            case 3:
                guard values.2 & 0x03 == 0 else { return nil }
                out.append(values.0 << 2 | values.1 >> 4)
                out.append((values.1 & 0x0f) << 4 | values.2 >> 2)
            case 2:
                guard values.1 & 0x0f == 0 else { return nil }
                out.append(values.0 << 2 | values.1 >> 4)
            default:
                return nil
            }
            i += 4
        }
        return out
    }
}
