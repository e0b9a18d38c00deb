import CGcrypt

/// A libgcrypt S-expression built from Swift values
/// (so no variadic `gcry_sexp_build` call is needed).
indirect enum SExp {
    case atom([UInt8])
    case list([SExp])

    static func token(_ s: String) -> SExp { .atom(Array(s.utf8)) }
    static func pair(_ name: String, _ value: [UInt8]) -> SExp { .list([.token(name), .atom(value)]) }
    static func pair(_ name: String, _ value: String) -> SExp { .list([.token(name), .token(value)]) }

    /// Writes libgcrypt's "advanced" transport form: binary atoms as `#hex#`,
    /// the empty atom as `""`, tokens quoted. (The canonical form cannot
    /// express an empty atom, which an empty message to sign needs.)
    func render(into out: inout [UInt8]) {
        switch self {
        case .atom(let bytes):
            if bytes.isEmpty {
                out.append(contentsOf: Array("\"\"".utf8))
            } else if bytes.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x20 || $0 == 0x40 }),
                      let first = bytes.first, !(first >= 0x30 && first <= 0x39) {
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: bytes)
                out.append(UInt8(ascii: "\""))
            } else {
                out.append(UInt8(ascii: "#"))
                out.append(contentsOf: Array(bytes.hexString.utf8))
                out.append(UInt8(ascii: "#"))
            }
        case .list(let items):
            out.append(UInt8(ascii: "("))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: " ")) }
                item.render(into: &out)
            }
            out.append(UInt8(ascii: ")"))
        }
    }

    var rendered: [UInt8] {
        var buf: [UInt8] = []
        render(into: &buf)
        return buf
    }

    func make() throws -> GcrySexp {
        Gcrypt.ensureInitialized()
        var buf: [UInt8] = []
        render(into: &buf)
        var s: gcry_sexp_t? = nil
        try buf.withUnsafeBytes { b in
            try Gcrypt.check(gcry_sexp_new(&s, b.baseAddress, b.count, 1))
        }
        guard let made = s else { throw CryptoError.library(code: -1, message: "gcry_sexp_new returned nothing") }
        return GcrySexp(made)
    }
}

/// An owned libgcrypt S-expression handle.
final class GcrySexp {
    let raw: gcry_sexp_t
    init(_ raw: gcry_sexp_t) { self.raw = raw }
    deinit { gcry_sexp_release(raw) }

    /// The data of the first element after `token` in the sub-list named `token`,
    /// e.g. `(r #...#)` -> bytes of r.
    func value(of token: String) -> [UInt8]? {
        guard let sub = gcry_sexp_find_token(raw, token, 0) else { return nil }
        defer { gcry_sexp_release(sub) }
        var len = 0
        guard let p = gcry_sexp_nth_data(sub, 1, &len) else { return nil }
        return Array(UnsafeRawBufferPointer(start: p, count: len))
    }
}
