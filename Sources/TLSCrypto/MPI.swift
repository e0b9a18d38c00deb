import CGcrypt

/// An owned libgcrypt multi-precision integer.
final class MPI {
    let raw: gcry_mpi_t

    init(raw: gcry_mpi_t) { self.raw = raw }

    /// An unsigned big-endian integer. `secret` marks it for libgcrypt's
    /// constant-time code paths (scalar multiplication).
    init(unsigned bytes: [UInt8], secret: Bool = false) throws {
        Gcrypt.ensureInitialized()
        var m: gcry_mpi_t? = nil
        var scanned = 0
        let err = bytes.withUnsafeBytes { b -> gcry_error_t in
            if b.count == 0 {
                var zero: UInt8 = 0
                return gcry_mpi_scan(&m, GCRYMPI_FMT_USG, &zero, 1, &scanned)
            }
            return gcry_mpi_scan(&m, GCRYMPI_FMT_USG, b.baseAddress, b.count, &scanned)
        }
        try Gcrypt.check(err)
        guard let made = m else { throw CryptoError.library(code: -1, message: "gcry_mpi_scan returned nothing") }
        // libgcrypt asserts when a zero MPI is moved to secure memory; zero is never a valid secret anyway.
        if secret, gcry_mpi_cmp_ui(made, 0) != 0 { gcry_mpi_set_flag(made, GCRYMPI_FLAG_SECURE) }
        self.raw = made
    }

    static func new() -> MPI {
        Gcrypt.ensureInitialized()
        return MPI(raw: gcry_mpi_new(0))
    }

    deinit { gcry_mpi_release(raw) }

    var bitCount: Int { Int(gcry_mpi_get_nbits(raw)) }

    /// Unsigned big-endian bytes, left-padded with zeros to `length` when given.
    func bytes(paddedTo length: Int? = nil) throws -> [UInt8] {
        var needed = 0
        try Gcrypt.check(gcry_mpi_print(GCRYMPI_FMT_USG, nil, 0, &needed, raw))
        var out = [UInt8](repeating: 0, count: max(needed, 1))
        var written = 0
        try out.withUnsafeMutableBytes { b in
            try Gcrypt.check(gcry_mpi_print(GCRYMPI_FMT_USG, b.baseAddress, b.count, &written, raw))
        }
        out = Array(out.prefix(written))
        if let length {
            guard out.count <= length else { throw CryptoError.invalidLength("integer longer than \(length) bytes") }
            out = [UInt8](repeating: 0, count: length - out.count) + out
        }
        return out
    }

    func compare(_ other: MPI) -> Int { Int(gcry_mpi_cmp(raw, other.raw)) }
    var isZero: Bool { gcry_mpi_cmp_ui(raw, 0) == 0 }
}

/// Strips leading zero bytes (minimal unsigned big-endian form).
func minimalUnsigned(_ bytes: [UInt8]) -> [UInt8] {
    let trimmed = bytes.drop(while: { $0 == 0 })
    return trimmed.isEmpty ? [0] : Array(trimmed)
}
