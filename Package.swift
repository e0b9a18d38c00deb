// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SwiftTLS",
    products: [
        .library(name: "TLSCrypto", targets: ["TLSCrypto"]),
        .library(name: "X509", targets: ["X509"]),
        .library(name: "TLSRecord", targets: ["TLSRecord"]),
        .library(name: "TLSHandshake", targets: ["TLSHandshake"]),
        .library(name: "TLSSessionCache", targets: ["TLSSessionCache"]),
        .library(name: "TLSSocket", targets: ["TLSSocket"]),
        .executable(name: "tls-selftest", targets: ["tls-selftest"]),
        .executable(name: "tls-replay", targets: ["tls-replay"]),
        .executable(name: "tls-x509", targets: ["tls-x509"]),
        .executable(name: "tls-server", targets: ["tls-server"]),
        .executable(name: "tls-client", targets: ["tls-client"]),
        .executable(name: "tls-bench", targets: ["tls-bench"]),
        .executable(name: "tls-bench-openssl", targets: ["tls-bench-openssl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        .systemLibrary(name: "CGcrypt", path: "Sources/CGcrypt", pkgConfig: "libgcrypt",
                       providers: [.apt(["libgcrypt20-dev"])]),
        .target(name: "TLSCrypto", dependencies: ["CGcrypt"]),
        .target(name: "X509", dependencies: ["TLSCrypto", .product(name: "SwiftASN1", package: "swift-asn1")]),
        .executableTarget(name: "tls-x509", dependencies: ["X509", "TLSCrypto"], path: "Tools/tls-x509"),
        .target(name: "TLSRecord", dependencies: ["TLSCrypto"]),
        .target(name: "TLSHandshake", dependencies: ["TLSRecord", "TLSCrypto", "X509"]),
        .target(name: "TLSSessionCache", dependencies: ["TLSHandshake", "TLSCrypto"]),
        .target(name: "TLSSocket", dependencies: ["TLSSessionCache", "TLSHandshake", "TLSRecord", "TLSCrypto", "X509"]),
        .executableTarget(name: "tls-server", dependencies: ["TLSSocket", "TLSSessionCache", "TLSHandshake", "X509"], path: "Tools/tls-server"),
        .executableTarget(name: "tls-client", dependencies: ["TLSSocket", "TLSHandshake", "X509"], path: "Tools/tls-client"),
        .target(name: "TLSReplay", dependencies: ["TLSHandshake", "TLSRecord", "TLSCrypto"]),
        .executableTarget(name: "tls-replay", dependencies: ["TLSReplay"], path: "Tools/tls-replay"),
        .executableTarget(name: "tls-selftest", dependencies: ["TLSCrypto"], path: "Tools/tls-selftest"),
        // Benchmarks: a counting malloc interposer, the OpenSSL workloads (Debian libssl-dev), the tools.
        .target(name: "CBenchSupport", path: "Tools/tls-bench-support"),
        .target(name: "CTLSBenchOpenSSL", dependencies: ["CBenchSupport"], path: "Tools/tls-bench-openssl/lib",
                linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .executableTarget(name: "tls-bench-openssl", dependencies: ["CTLSBenchOpenSSL", "CBenchSupport"], path: "Tools/tls-bench-openssl/cli"),
        .executableTarget(name: "tls-bench", dependencies: ["TLSSessionCache", "TLSHandshake", "TLSRecord", "TLSCrypto", "X509",
                                                            "CBenchSupport", "CTLSBenchOpenSSL"], path: "Tools/tls-bench"),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TLSCryptoTests", dependencies: ["TLSCrypto", "TestSupport"]),
        .testTarget(name: "TLSHandshakeTests", dependencies: ["TLSHandshake", "TLSReplay", "TLSRecord", "TLSCrypto", "TestSupport"]),
        .testTarget(name: "TLSSessionCacheTests", dependencies: ["TLSSessionCache", "TLSHandshake", "X509", "TLSRecord", "TLSCrypto", "TestSupport"]),
        .testTarget(name: "TLSRecordTests", dependencies: ["TLSRecord", "TLSCrypto", "TestSupport"]),
        .testTarget(name: "X509Tests", dependencies: ["X509", "TLSCrypto", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
