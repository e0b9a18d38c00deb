// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SwiftTLS",
    products: [
        .library(name: "TLSCrypto", targets: ["TLSCrypto"]),
        .library(name: "X509", targets: ["X509"]),
        .library(name: "TLSRecord", targets: ["TLSRecord"]),
        .library(name: "TLSHandshake", targets: ["TLSHandshake"]),
        .library(name: "TLSSocket", targets: ["TLSSocket"]),
        .executable(name: "tls-selftest", targets: ["tls-selftest"]),
        .executable(name: "tls-replay", targets: ["tls-replay"]),
        .executable(name: "tls-x509", targets: ["tls-x509"]),
        .executable(name: "tls-server", targets: ["tls-server"]),
        .executable(name: "tls-client", targets: ["tls-client"]),
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
        .target(name: "TLSSocket", dependencies: ["TLSHandshake", "TLSRecord", "TLSCrypto", "X509"]),
        .executableTarget(name: "tls-server", dependencies: ["TLSSocket", "TLSHandshake", "X509"], path: "Tools/tls-server"),
        .executableTarget(name: "tls-client", dependencies: ["TLSSocket", "TLSHandshake", "X509"], path: "Tools/tls-client"),
        .target(name: "TLSReplay", dependencies: ["TLSHandshake", "TLSRecord", "TLSCrypto"]),
        .executableTarget(name: "tls-replay", dependencies: ["TLSReplay"], path: "Tools/tls-replay"),
        .executableTarget(name: "tls-selftest", dependencies: ["TLSCrypto"], path: "Tools/tls-selftest"),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TLSCryptoTests", dependencies: ["TLSCrypto", "TestSupport"]),
        .testTarget(name: "TLSHandshakeTests", dependencies: ["TLSHandshake", "TLSReplay", "TLSRecord", "TLSCrypto", "TestSupport"]),
        .testTarget(name: "TLSRecordTests", dependencies: ["TLSRecord", "TLSCrypto", "TestSupport"]),
        .testTarget(name: "X509Tests", dependencies: ["X509", "TLSCrypto", "TestSupport"]),
        .testTarget(name: "TLSSocketTests", dependencies: ["TLSSocket", "TLSHandshake", "TLSRecord", "TLSCrypto", "X509"]),
    ],
    swiftLanguageModes: [.v5]
)
