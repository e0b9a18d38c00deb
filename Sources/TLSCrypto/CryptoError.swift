/// Every way a cryptographic primitive can refuse its input or fail.
///
/// Callers above this layer map these onto protocol alerts or certificate
/// failure reasons; the cases are specific so that a test can tell them apart.
public enum CryptoError: Error, Equatable, Sendable {
    /// A key had the wrong length for its algorithm.
    case invalidKeyLength(expected: Int, actual: Int)
    /// A nonce or IV had the wrong length.
    case invalidNonceLength(expected: Int, actual: Int)
    /// A caller-supplied output buffer was too small, or a length out of range.
    case invalidLength(String)
    /// The AEAD tag did not verify: the record was forged, truncated or corrupted.
    case authenticationFailure
    /// A peer's public key (point or u-coordinate) is malformed or not on the curve.
    case invalidPublicKey(String)
    /// A private key is malformed or inconsistent (e.g. a scalar out of range).
    case invalidPrivateKey(String)
    /// Key agreement produced the all-zero (or point-at-infinity) result of a low-order input.
    case degenerateSharedSecret
    /// A signature is malformed (bad DER, wrong length, out-of-range values).
    case malformedSignature(String)
    /// A well-formed signature does not verify under the given key and message.
    case signatureVerificationFailed
    /// The combination of key, hash and padding is not supported.
    case unsupportedAlgorithm(String)
    /// Bad padding while decrypting a CBC-encrypted blob (for example a wrong passphrase).
    case decryptionFailed
    /// libgcrypt reported an error we did not expect; the code and text are libgcrypt's.
    case library(code: Int, message: String)
}
