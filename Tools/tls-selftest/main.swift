import TLSCrypto

// A self-test of the crypto layer with known answers from the standards,
// printed one line per primitive. Exit status 1 if any check fails.

func hex(_ s: String) -> [UInt8] { (try? [UInt8](hex: s)) ?? [] }

var failures = 0
func check(_ name: String, _ body: () throws -> Bool) {
    let ok: Bool
    do { ok = try body() } catch { print("FAIL \(name): \(error)"); failures += 1; return }
    print(ok ? "ok   \(name)" : "FAIL \(name)")
    if !ok { failures += 1 }
}

print("libgcrypt \(libgcryptVersion)")
check("SHA-256 (FIPS 180-4, \"abc\")") {
    Digest.hash(.sha256, Array("abc".utf8)) == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
}
check("HMAC-SHA-256 (RFC 4231 case 2)") {
    HMAC.authenticate(.sha256, key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        == hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
}
check("HKDF-SHA-256 (RFC 5869 case 1)") {
    let prk = HKDF.extract(.sha256, salt: hex("000102030405060708090a0b0c"), ikm: [UInt8](repeating: 0x0b, count: 22))
    let okm = try HKDF.expand(.sha256, prk: prk, info: hex("f0f1f2f3f4f5f6f7f8f9"), length: 42)
    return okm == hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
}
check("AES-128-GCM (McGrew-Viega case 2)") {
    let key = try AEADKey(.aes128GCM, key: [UInt8](repeating: 0, count: 16))
    return try key.seal(nonce: [UInt8](repeating: 0, count: 12), aad: [], plaintext: [UInt8](repeating: 0, count: 16))
        == hex("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf")
}
check("X25519 (RFC 7748 5.2)") {
    try X25519PrivateKey.multiply(scalar: hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                                  u: hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
        == hex("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
}
check("Ed25519 (RFC 8032 7.1 TEST 1)") {
    let key = try Ed25519PrivateKey(seed: hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
    return try key.sign(message: []) == hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
}
check("ECDH P-256 and ECDSA P-256 round trip") {
    let a = try KeyAgreementGroup.p256.generate(random: SystemRandom.shared)
    let b = try KeyAgreementGroup.p256.generate(random: SystemRandom.shared)
    guard try a.sharedSecret(peerPublicKey: b.publicKeyBytes) == b.sharedSecret(peerPublicKey: a.publicKeyBytes) else { return false }
    guard case .nist(let k) = a else { return false }
    let signer = try ECDSAPrivateKey(curve: .p256, scalar: k.scalar)
    let sig = try signer.sign(message: [1, 2, 3], hash: .sha256)
    try signer.publicKey.verify(signature: sig, message: [1, 2, 3], hash: .sha256)
    return true
}
print(failures == 0 ? "self-test passed" : "self-test FAILED (\(failures))")
exitFunction(failures == 0 ? 0 : 1)
