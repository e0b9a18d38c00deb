/// Every way parsing or loading X.509 material can fail.
///
/// `code` is stable and specific (tests and callers switch on it); `message`
/// says where and why in words. Verification failures are a different type,
/// `CertificateVerificationError`, whose `reason` names the RFC 5280 check.
public struct X509Error: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable, CaseIterable {
        /// The bytes are not valid DER (bad tag or length, trailing bytes, non-minimal encodings).
        case invalidDER = "invalid_der"
        /// Valid DER, but not the structure expected (a field missing, of the wrong type, or extra).
        case unexpectedStructure = "unexpected_structure"
        /// A PEM block is broken: no END line, labels that differ, bad base64.
        case invalidPEM = "invalid_pem"
        /// No PEM block of the wanted kind was found.
        case noPEMBlock = "no_pem_block"
        /// A certificate version other than v1, v2 or v3, or extensions in a v1/v2 certificate.
        case unsupportedVersion = "unsupported_version"
        /// A UTCTime or GeneralizedTime that breaks the DER / RFC 5280 rules.
        case invalidTime = "invalid_time"
        /// A string in a name or extension that is not valid for its ASN.1 type.
        case invalidString = "invalid_string"
        /// The outer signatureAlgorithm differs from the one inside the TBSCertificate.
        case signatureAlgorithmMismatch = "signature_algorithm_mismatch"
        /// A known extension whose value does not parse.
        case malformedExtension = "malformed_extension"
        /// The same extension appears twice.
        case duplicateExtension = "duplicate_extension"
        /// A public key that is malformed for its declared algorithm.
        case invalidPublicKey = "invalid_public_key"
        /// A key algorithm, curve or parameter set this library does not support.
        case unsupportedAlgorithm = "unsupported_algorithm"
        /// A private key that is malformed or internally inconsistent.
        case invalidPrivateKey = "invalid_private_key"
        /// An encrypted key was given without a passphrase.
        case passphraseRequired = "passphrase_required"
        /// The passphrase does not decrypt the key (bad padding or garbage plaintext).
        case wrongPassphrase = "wrong_passphrase"
        /// A format this library recognises but does not read (legacy encrypted PEM, explicit EC parameters).
        case unsupportedFormat = "unsupported_format"
        /// A private key does not belong to the certificate it is configured with.
        case keyMismatch = "key_mismatch"
        /// An RFC 4514 distinguished-name string that does not parse.
        case invalidNameString = "invalid_name_string"
        /// A file or directory could not be read.
        case io = "io"
        /// A nickname is already in use or unknown (certificate database).
        case nickname = "nickname"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
