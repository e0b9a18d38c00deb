// Object identifiers from RFC 5280, RFC 4055, RFC 5758, RFC 8410, RFC 8018, SEC 1, RFC 4519.
extension OID {
    // Public-key algorithms
    public static let rsaEncryption = OID("1.2.840.113549.1.1.1")
    public static let rsassaPSS = OID("1.2.840.113549.1.1.10")
    public static let ecPublicKey = OID("1.2.840.10045.2.1")
    public static let ed25519 = OID("1.3.101.112")
    public static let ed448 = OID("1.3.101.113")
    public static let x25519 = OID("1.3.101.110")
    public static let dsa = OID("1.2.840.10040.4.1")

    // Curves
    public static let secp256r1 = OID("1.2.840.10045.3.1.7")
    public static let secp384r1 = OID("1.3.132.0.34")
    public static let secp521r1 = OID("1.3.132.0.35")

    // Signature algorithms
    public static let md2WithRSAEncryption = OID("1.2.840.113549.1.1.2")
    public static let md5WithRSAEncryption = OID("1.2.840.113549.1.1.4")
    public static let sha1WithRSAEncryption = OID("1.2.840.113549.1.1.5")
    public static let sha224WithRSAEncryption = OID("1.2.840.113549.1.1.14")
    public static let sha256WithRSAEncryption = OID("1.2.840.113549.1.1.11")
    public static let sha384WithRSAEncryption = OID("1.2.840.113549.1.1.12")
    public static let sha512WithRSAEncryption = OID("1.2.840.113549.1.1.13")
    public static let ecdsaWithSHA1 = OID("1.2.840.10045.4.1")
    public static let ecdsaWithSHA224 = OID("1.2.840.10045.4.3.1")
    public static let ecdsaWithSHA256 = OID("1.2.840.10045.4.3.2")
    public static let ecdsaWithSHA384 = OID("1.2.840.10045.4.3.3")
    public static let ecdsaWithSHA512 = OID("1.2.840.10045.4.3.4")
    public static let dsaWithSHA1 = OID("1.2.840.10040.4.3")
    public static let mgf1 = OID("1.2.840.113549.1.1.8")

    // Hashes
    public static let md5 = OID("1.2.840.113549.2.5")
    public static let sha1 = OID("1.3.14.3.2.26")
    public static let sha224 = OID("2.16.840.1.101.3.4.2.4")
    public static let sha256 = OID("2.16.840.1.101.3.4.2.1")
    public static let sha384 = OID("2.16.840.1.101.3.4.2.2")
    public static let sha512 = OID("2.16.840.1.101.3.4.2.3")

    // Extensions
    public static let subjectKeyIdentifier = OID("2.5.29.14")
    public static let keyUsage = OID("2.5.29.15")
    public static let subjectAltName = OID("2.5.29.17")
    public static let issuerAltName = OID("2.5.29.18")
    public static let basicConstraints = OID("2.5.29.19")
    public static let nameConstraints = OID("2.5.29.30")
    public static let crlDistributionPoints = OID("2.5.29.31")
    public static let certificatePolicies = OID("2.5.29.32")
    public static let policyMappings = OID("2.5.29.33")
    public static let authorityKeyIdentifier = OID("2.5.29.35")
    public static let policyConstraints = OID("2.5.29.36")
    public static let extKeyUsage = OID("2.5.29.37")
    public static let inhibitAnyPolicy = OID("2.5.29.54")
    public static let authorityInfoAccess = OID("1.3.6.1.5.5.7.1.1")
    public static let subjectInfoAccess = OID("1.3.6.1.5.5.7.1.11")
    public static let signedCertificateTimestamps = OID("1.3.6.1.4.1.11129.2.4.2")
    public static let ocspNoCheck = OID("1.3.6.1.5.5.7.48.1.5")

    // Extended key usages
    public static let anyExtendedKeyUsage = OID("2.5.29.37.0")
    public static let serverAuth = OID("1.3.6.1.5.5.7.3.1")
    public static let clientAuth = OID("1.3.6.1.5.5.7.3.2")
    public static let codeSigning = OID("1.3.6.1.5.5.7.3.3")
    public static let emailProtection = OID("1.3.6.1.5.5.7.3.4")
    public static let timeStamping = OID("1.3.6.1.5.5.7.3.8")
    public static let ocspSigning = OID("1.3.6.1.5.5.7.3.9")

    // Access methods, policies
    public static let ocsp = OID("1.3.6.1.5.5.7.48.1")
    /// id-pkix-ocsp-basic (RFC 6960 4.2.1).
    public static let ocspBasic = OID("1.3.6.1.5.5.7.48.1.1")
    public static let caIssuers = OID("1.3.6.1.5.5.7.48.2")
    public static let anyPolicy = OID("2.5.29.32.0")
    public static let cpsQualifier = OID("1.3.6.1.5.5.7.2.1")
    public static let userNoticeQualifier = OID("1.3.6.1.5.5.7.2.2")

    // Name attributes
    public static let commonName = OID("2.5.4.3")
    public static let surname = OID("2.5.4.4")
    public static let serialNumber = OID("2.5.4.5")
    public static let countryName = OID("2.5.4.6")
    public static let localityName = OID("2.5.4.7")
    public static let stateOrProvinceName = OID("2.5.4.8")
    public static let streetAddress = OID("2.5.4.9")
    public static let organizationName = OID("2.5.4.10")
    public static let organizationalUnitName = OID("2.5.4.11")
    public static let title = OID("2.5.4.12")
    public static let postalCode = OID("2.5.4.17")
    public static let givenName = OID("2.5.4.42")
    public static let initials = OID("2.5.4.43")
    public static let generationQualifier = OID("2.5.4.44")
    public static let dnQualifier = OID("2.5.4.46")
    public static let pseudonym = OID("2.5.4.65")
    public static let organizationIdentifier = OID("2.5.4.97")
    public static let domainComponent = OID("0.9.2342.19200300.100.1.25")
    public static let userID = OID("0.9.2342.19200300.100.1.1")
    public static let emailAddress = OID("1.2.840.113549.1.9.1")

    // Key formats (PKCS#5 / PKCS#8)
    public static let pbes2 = OID("1.2.840.113549.1.5.13")
    public static let pbkdf2 = OID("1.2.840.113549.1.5.12")
    public static let hmacWithSHA1 = OID("1.2.840.113549.2.7")
    public static let hmacWithSHA256 = OID("1.2.840.113549.2.9")
    public static let hmacWithSHA384 = OID("1.2.840.113549.2.10")
    public static let hmacWithSHA512 = OID("1.2.840.113549.2.11")
    public static let aes128CBC = OID("2.16.840.1.101.3.4.1.2")
    public static let aes192CBC = OID("2.16.840.1.101.3.4.1.22")
    public static let aes256CBC = OID("2.16.840.1.101.3.4.1.42")

    /// Readable names for `description` and the `show` tool.
    static let names: [OID: String] = [
        .rsaEncryption: "rsaEncryption", .rsassaPSS: "RSASSA-PSS", .ecPublicKey: "id-ecPublicKey",
        .ed25519: "Ed25519", .ed448: "Ed448", .x25519: "X25519", .dsa: "DSA",
        .secp256r1: "P-256", .secp384r1: "P-384", .secp521r1: "P-521",
        .md2WithRSAEncryption: "md2WithRSAEncryption", .md5WithRSAEncryption: "md5WithRSAEncryption",
        .sha1WithRSAEncryption: "sha1WithRSAEncryption", .sha224WithRSAEncryption: "sha224WithRSAEncryption",
        .sha256WithRSAEncryption: "sha256WithRSAEncryption", .sha384WithRSAEncryption: "sha384WithRSAEncryption",
        .sha512WithRSAEncryption: "sha512WithRSAEncryption", .ecdsaWithSHA1: "ecdsa-with-SHA1",
        .ecdsaWithSHA224: "ecdsa-with-SHA224", .ecdsaWithSHA256: "ecdsa-with-SHA256",
        .ecdsaWithSHA384: "ecdsa-with-SHA384", .ecdsaWithSHA512: "ecdsa-with-SHA512", .dsaWithSHA1: "dsaWithSHA1",
        .subjectKeyIdentifier: "subjectKeyIdentifier", .keyUsage: "keyUsage", .subjectAltName: "subjectAltName",
        .issuerAltName: "issuerAltName", .basicConstraints: "basicConstraints", .nameConstraints: "nameConstraints",
        .crlDistributionPoints: "cRLDistributionPoints", .certificatePolicies: "certificatePolicies",
        .policyMappings: "policyMappings", .authorityKeyIdentifier: "authorityKeyIdentifier",
        .policyConstraints: "policyConstraints", .extKeyUsage: "extKeyUsage", .inhibitAnyPolicy: "inhibitAnyPolicy",
        .authorityInfoAccess: "authorityInfoAccess", .subjectInfoAccess: "subjectInfoAccess",
        .signedCertificateTimestamps: "signedCertificateTimestampList", .ocspNoCheck: "ocspNoCheck",
        .anyExtendedKeyUsage: "anyExtendedKeyUsage", .serverAuth: "serverAuth", .clientAuth: "clientAuth",
        .codeSigning: "codeSigning", .emailProtection: "emailProtection", .timeStamping: "timeStamping",
        .ocspSigning: "OCSPSigning", .ocsp: "OCSP", .caIssuers: "caIssuers", .anyPolicy: "anyPolicy",
        .commonName: "CN", .surname: "SN", .serialNumber: "serialNumber", .countryName: "C",
        .localityName: "L", .stateOrProvinceName: "ST", .streetAddress: "STREET", .organizationName: "O",
        .organizationalUnitName: "OU", .title: "title", .postalCode: "postalCode", .givenName: "GN",
        .initials: "initials", .generationQualifier: "generationQualifier", .dnQualifier: "dnQualifier",
        .pseudonym: "pseudonym", .organizationIdentifier: "organizationIdentifier",
        .domainComponent: "DC", .userID: "UID", .emailAddress: "emailAddress",
        .pbes2: "PBES2", .pbkdf2: "PBKDF2", .hmacWithSHA1: "hmacWithSHA1", .hmacWithSHA256: "hmacWithSHA256",
        .hmacWithSHA384: "hmacWithSHA384", .hmacWithSHA512: "hmacWithSHA512",
        .aes128CBC: "aes128-CBC", .aes192CBC: "aes192-CBC", .aes256CBC: "aes256-CBC",
        .md5: "MD5", .sha1: "SHA-1", .sha224: "SHA-224", .sha256: "SHA-256", .sha384: "SHA-384", .sha512: "SHA-512",
        .mgf1: "MGF1",
    ]
}
