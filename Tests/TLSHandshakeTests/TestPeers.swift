import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
@testable import TLSHandshake

/// Keys for handshake tests, with stand-in "certificates": until X.509 is
/// wired in, a chain is an opaque label and the verifier maps it to its key.
enum TestKeys {
    static let ecdsaP256: PrivateKey = { .ecdsa(try! ECDSAPrivateKey(curve: .p256, scalar: Digest.hash(.sha256, Array("p256".utf8)))) }()
    static let ecdsaP384: PrivateKey = { .ecdsa(try! ECDSAPrivateKey(curve: .p384, scalar: Digest.hash(.sha384, Array("p384".utf8)))) }()
    static let ed25519: PrivateKey = { .ed25519(try! Ed25519PrivateKey(seed: Digest.hash(.sha256, Array("ed".utf8)))) }()
    static let rsa2048: PrivateKey = {
        let v = try! loadVectorBlocks("crypto/rsa.txt").first { $0.fields["bits"] == "2048" }!
        return .rsa(try! RSAPrivateKey(modulus: v.hex("n"), publicExponent: v.hex("e"), privateExponent: v.hex("d"),
                                       prime1: v.hex("p"), prime2: v.hex("q")))
    }()

    static func certified(_ name: String, _ key: PrivateKey, names: [String] = ["localhost"]) -> CertifiedKey {
        CertifiedKey(chain: [Array("cert:\(name)".utf8)], privateKey: key, names: names)
    }
}

/// Accepts the stand-in chains it knows, and records what it was asked.
final class LabelVerifier: PeerCertificateVerifier {
    var known: [[UInt8]: PublicKey] = [:]
    var calls = 0
    init(_ keys: [CertifiedKey]) {
        for k in keys { known[k.chain[0]] = k.publicKey }
    }
    func verify(chain: [[UInt8]], serverName: String?, peer: PeerRole) throws -> PeerIdentity {
        calls += 1
        guard let leaf = chain.first, let key = known[leaf] else { throw HandshakeError(.badCertificate, "unknown test certificate") }
        return PeerIdentity(publicKey: key, chain: chain, subject: String(decoding: leaf, as: UTF8.self), issuer: "test",
                            verified: true, verdict: "ok")
    }
}

/// A client and a server joined by memory.
struct Pair {
    let client: TLSConnection
    let server: TLSConnection

    init(client c: TLSConfiguration, server s: TLSConfiguration, seed: String = "pair") {
        client = TLSConnection(role: .client, config: c, random: ScriptedRandom(seed: Array("c-\(seed)".utf8)))
        server = TLSConnection(role: .server, config: s, random: ScriptedRandom(seed: Array("s-\(seed)".utf8)))
    }

    /// Moves bytes both ways until neither side has anything to send.
    func pump() throws {
        if client.status == .idle { try client.start() }
        for _ in 0..<64 {
            let toServer = client.takeOutput()
            if !toServer.isEmpty { try server.receive(toServer) }
            let toClient = server.takeOutput()
            if !toClient.isEmpty { try client.receive(toClient) }
            if toServer.isEmpty && toClient.isEmpty && !client.hasOutput && !server.hasOutput { return }
        }
        XCTFail("pump did not settle")
    }

    func readAll(_ c: TLSConnection) -> [UInt8] {
        var out: [UInt8] = []
        while let chunk = c.read(), !chunk.isEmpty { out += chunk }
        return out
    }
}

func baseConfigs(serverKey: CertifiedKey = TestKeys.certified("p256", TestKeys.ecdsaP256)) -> (TLSConfiguration, TLSConfiguration) {
    var server = TLSConfiguration()
    server.certificates = [serverKey]
    server.minVersion = .tls13
    var client = TLSConfiguration()
    client.minVersion = .tls13
    client.serverName = "localhost"
    client.peerVerifier = LabelVerifier([serverKey])
    return (client, server)
}

func assertAlert(_ expression: @autoclosure () throws -> Void, _ alert: AlertDescription, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try expression(), message, file: file, line: line) { error in
        guard let e = error as? HandshakeError else { return XCTFail("not a HandshakeError: \(error)", file: file, line: line) }
        XCTAssertEqual(e.alert, alert, "\(message): \(e)", file: file, line: line)
    }
}
