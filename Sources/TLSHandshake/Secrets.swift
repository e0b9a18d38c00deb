#if canImport(Glibc)
import Glibc
#endif
import TLSCrypto

/// Zeroes the storage of `bytes` in place. Swift arrays are copy-on-write, so
/// `secureZero(&copy)` on a copy that shares its buffer only zeroes a fresh
/// copy and leaves the secret where it was; this wipes the shared buffer, and
/// so every copy of the value. Only for secrets nobody needs afterwards.
func wipeStorage(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        explicit_bzero(UnsafeMutableRawPointer(mutating: base), raw.count)
    }
}

/// A copy of `bytes` in storage of its own, so wiping one in place leaves the other:
/// a session kept in a cache outlives the connection whose secrets are wiped.
func independentCopy(_ bytes: [UInt8]) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, initialized in
        initialized = buffer.initialize(from: bytes).1
    }
}

extension TLS13Secrets {
    /// Wipes the traffic, exporter and resumption secrets in place (see `wipeStorage`).
    func wipeStorage() {
        TLSHandshake.wipeStorage(clientTrafficSecret)
        TLSHandshake.wipeStorage(serverTrafficSecret)
        TLSHandshake.wipeStorage(exporterMasterSecret)
        TLSHandshake.wipeStorage(resumptionMasterSecret)
    }

    /// All four secrets (for tests of wiping).
    var all: [[UInt8]] { [clientTrafficSecret, serverTrafficSecret, exporterMasterSecret, resumptionMasterSecret] }
}

// Secrets are never printed: descriptions, debug descriptions and mirrors
// (print, string interpolation, dump, debugger summaries) leave them out.

extension TLS13Secrets: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "TLS13Secrets(\(suite), secrets redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["suite": suite], displayStyle: .struct) }
}

extension TLS12Session: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "TLS12Session(\(suite), ems: \(extendedMasterSecret), master secret redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["suite": suite, "extendedMasterSecret": extendedMasterSecret,
                                "secureRenegotiation": secureRenegotiation], displayStyle: .struct)
    }
}

extension StoredSession: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "StoredSession(\(version) \(suite), created \(createdAtMillis) ms, lifetime \(lifetimeSeconds) s, "
            + "max early data \(maxEarlyDataSize), alpn \(alpn ?? "-"), server \(serverName ?? "-"), secret redacted)"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["version": version, "suite": suite, "createdAtMillis": createdAtMillis,
                                "lifetimeSeconds": lifetimeSeconds, "maxEarlyDataSize": maxEarlyDataSize,
                                "alpn": alpn as Any, "serverName": serverName as Any], displayStyle: .struct)
    }
}

extension EarlySecret: CustomStringConvertible, CustomReflectable {
    public var description: String { "EarlySecret(redacted)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

extension HandshakeSecret: CustomStringConvertible, CustomReflectable {
    public var description: String { "HandshakeSecret(redacted)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

extension MasterSecret: CustomStringConvertible, CustomReflectable {
    public var description: String { "MasterSecret(redacted)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
