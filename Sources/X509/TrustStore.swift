import Foundation

/// A set of trust anchors, indexed by subject name for path building.
///
/// A value type: build it once (from a bundle, a directory, the system bundle or
/// certificates in memory) and share it; lookups never mutate it.
public struct TrustStore: Sendable {
    public private(set) var certificates: [Certificate] = []
    private var bySubject: [DistinguishedName: [Certificate]] = [:]
    private var fingerprints: Set<[UInt8]> = []

    /// Where Debian and Ubuntu keep the system CA bundle.
    public static let systemBundlePaths = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ]

    public init() {}

    public init(certificates: [Certificate]) {
        for c in certificates { add(c) }
    }

    /// All certificates of a PEM bundle (or one DER certificate). Any block that
    /// does not parse is an error: an explicitly named CA file must be fully usable.
    public init(pemFile path: String) throws {
        self.init(certificates: try Certificate.parseMany(try readFile(path)))
    }

    /// Every certificate in the PEM or DER files of a directory (like
    /// /etc/ssl/certs). Files that hold no certificate are skipped; duplicates
    /// (hash-named links) are stored once. `skipped` reports files that failed to parse.
    public init(directory path: String) throws {
        let fm = FileManager.default
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: path).sorted() } catch {
            throw X509Error(.io, "cannot list \(path): \(error.localizedDescription)")
        }
        for name in entries {
            let full = (path as NSString).appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else { continue }
            guard let bytes = try? readFile(full), let certs = try? Certificate.parseMany(bytes) else {
                skippedFiles.append(name)
                continue
            }
            for c in certs { add(c) }
        }
    }

    /// Files of a directory that held no usable certificate.
    public private(set) var skippedFiles: [String] = []

    /// The system bundle (first of `systemBundlePaths` that exists). Blocks that do
    /// not parse are skipped rather than failing the whole store.
    public static func system() throws -> TrustStore {
        for path in systemBundlePaths where FileManager.default.fileExists(atPath: path) {
            let bytes = try readFile(path)
            var store = TrustStore()
            for block in try PEM.parse(bytes) where block.label == "CERTIFICATE" {
                if let c = try? Certificate(derEncoded: block.der) { store.add(c) } else { store.skippedFiles.append(path) }
            }
            return store
        }
        throw X509Error(.io, "no system CA bundle found (looked in \(systemBundlePaths.joined(separator: ", ")))")
    }

    public mutating func add(_ certificate: Certificate) {
        guard fingerprints.insert(certificate.sha256Fingerprint).inserted else { return }
        certificates.append(certificate)
        bySubject[certificate.subject, default: []].append(certificate)
    }

    public mutating func add(contentsOf certs: [Certificate]) { for c in certs { add(c) } }

    public var count: Int { certificates.count }

    /// Anchors whose subject matches `name` (RFC 5280 name matching).
    public func anchors(withSubject name: DistinguishedName) -> [Certificate] { bySubject[name] ?? [] }

    /// Whether this exact certificate is an anchor.
    public func contains(_ certificate: Certificate) -> Bool { fingerprints.contains(certificate.sha256Fingerprint) }

    /// The subject names of all anchors (for a TLS certificate_authorities list).
    public var subjectNames: [DistinguishedName] { certificates.map(\.subject) }
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw X509Error(.io, "cannot read \(path)")
    }
    return [UInt8](data)
}
