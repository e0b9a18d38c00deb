import CGcrypt

/// One-time libgcrypt initialisation. Swift runs a `static let` initialiser
/// exactly once and thread-safely, which is what libgcrypt asks for.
enum Gcrypt {
    static let ready: Bool = {
        // The kernel's CSPRNG (getrandom) per request: fork-safe, and 25x cheaper
        // per call than libgcrypt's default pool (several calls per handshake).
        tls_gcry_prefer_system_rng()
        guard tls_gcry_check_version("1.9.0") != nil else {
            fatalError("libgcrypt 1.9.0 or newer is required")
        }
        return tls_gcry_finish_init() == 0
    }()

    @inline(__always)
    static func ensureInitialized() {
        _ = ready
    }

    static func error(_ err: gcry_error_t) -> CryptoError {
        let message = gcry_strerror(err).map { String(cString: $0) } ?? "unknown"
        return .library(code: Int(tls_gcry_err_code(err)), message: message)
    }

    @inline(__always)
    static func check(_ err: gcry_error_t) throws {
        if err != 0 { throw error(err) }
    }
}

/// The version string of the libgcrypt this process runs with.
public var libgcryptVersion: String {
    Gcrypt.ensureInitialized()
    return tls_gcry_check_version(nil).map { String(cString: $0) } ?? "unknown"
}
