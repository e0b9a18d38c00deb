import TLSHandshake

/// OpenSSL cipher-list strings ("ECDHE+AESGCM:CHACHA20:!aNULL:@STRENGTH"), as
/// Python's `ciphers=` and pyOpenSSL's `set_cipher_list` take them.
///
/// The syntax is OpenSSL's `ciphers(1)`:
/// - items are separated by `:` (also spaces, commas or semicolons);
/// - an item is a cipher name ("ECDHE-RSA-AES128-GCM-SHA256"; IANA names are
///   accepted too) or an alias ("HIGH", "AESGCM", "CHACHA20", "ECDHE", "aRSA",
///   "TLSv1.2", ...); `A+B` means suites that match both;
/// - a prefix says what to do with the suites that match: none = append those
///   not yet listed; `-` = remove them (they may be added back later); `!` =
///   remove them for good; `+` = move those already listed to the end;
/// - `@STRENGTH` sorts by key length, strongest first; `@SECLEVEL=n` drops
///   suites below OpenSSL security level n (default 1): level 1 drops NULL,
///   anonymous and MD5 suites, 2 also RC4, 3 also RSA key transport, 4 also
///   SHA-1 MACs and keys under 192 bits, 5 keys under 256 bits.
///
/// OpenSSL's own ordering rules hold: the list of all suites starts in
/// `catalog` order (forward-secret AEAD suites first, then by strength); `-`
/// moves the removed suites to the front of that internal list (so suites
/// removed and later re-added come back most recently removed first); an
/// append walks the internal list in its current order. Unknown words are
/// ignored (and reported in `Selection.ignored`), as OpenSSL does.
///
/// The catalog holds many suites this library does not implement (CBC, RSA key
/// transport, DHE, CCM, ARIA, Camellia, 3DES, RC4, NULL, anonymous): they take
/// part in the operations but never come out in `Selection.suites`. A string
/// that selects none of the implemented suites is an `SSLError`
/// `.noCipherSelected` (OpenSSL's "no cipher match").
///
/// TLS 1.3 suites are not governed by OpenSSL cipher lists; here too they stay
/// enabled (all three) unless the string names TLS 1.3 suites explicitly
/// ("TLS_AES_256_GCM_SHA384", or the alias "TLSv1.3"): then exactly those,
/// in that order, minus any removed with `-` or `!`.
public enum CipherString {
    /// Key exchange of a catalog entry.
    /// (`rsa`: RSA key transport; `any`: TLS 1.3.)
    public enum KeyExchange: String, Sendable { case rsa, ecdhe, dhe, any }
    /// Authentication of a catalog entry.
    /// (`none`: anonymous.)
    public enum Authentication: String, Sendable { case rsa, ecdsa, dss, none, any }
    /// Bulk encryption of a catalog entry.
    public enum Encryption: String, Sendable {
        /// AEAD ciphers (GCM, ChaCha20-Poly1305, CCM).
        case aes128GCM, aes256GCM, chacha20, aes128CCM, aes256CCM, aria128GCM, aria256GCM
        /// CBC and stream ciphers, and no encryption at all.
        case aes128, aes256, camellia128, camellia256, tripleDES, rc4, none
    }
    /// Message authentication of a catalog entry.
    /// (`aead`: the cipher authenticates.)
    public enum MAC: String, Sendable { case aead, sha1, sha256, sha384, md5 }

    /// One cipher suite OpenSSL knows.
    public struct Entry: Hashable, Sendable, CustomStringConvertible {
        /// OpenSSL's name ("ECDHE-RSA-AES128-GCM-SHA256").
        public let name: String
        /// IANA code point.
        public let code: UInt16
        /// Key exchange.
        public let kx: KeyExchange
        /// Authentication.
        public let auth: Authentication
        /// Bulk cipher.
        public let enc: Encryption
        /// MAC.
        public let mac: MAC
        /// The oldest protocol it runs on (SSLv3, TLSv1, TLSv1.2, TLSv1.3), as OpenSSL prints it.
        public let minVersion: String

        /// The implemented suite, or nil when this library does not implement it.
        public var suite: CipherSuite? { CipherSuite(rawValue: code) }
        /// Symmetric strength in bits (OpenSSL's "strength bits").
        public var strength: Int {
            switch enc {
            case .aes128GCM, .aes128CCM, .aria128GCM, .aes128, .camellia128, .rc4: return 128
            case .aes256GCM, .chacha20, .aes256CCM, .aria256GCM, .aes256, .camellia256: return 256
            case .tripleDES: return 112
            case .none: return 0
            }
        }
        /// OpenSSL's HIGH / MEDIUM classes (NULL ciphers are in neither).
        var isHigh: Bool { enc != .none && enc != .tripleDES && enc != .rc4 }
        var isMedium: Bool { enc == .tripleDES || enc == .rc4 }
        /// In OpenSSL 3's DEFAULT: not anonymous, not DSS, not CCM, ARIA or Camellia, not NULL.
        var inDefault: Bool {
            auth != .none && auth != .dss && enc != .none
                && ![.aes128CCM, .aes256CCM, .aria128GCM, .aria256GCM, .camellia128, .camellia256].contains(enc)
        }
        var isCBC: Bool { [.aes128, .aes256, .camellia128, .camellia256, .tripleDES].contains(enc) }
        /// The name.
        public var description: String { name }
    }

    /// What a cipher string selected.
    public struct Selection: Sendable {
        /// Every catalog suite selected for TLS 1.2 and older, in order, implemented or not.
        public let entries: [Entry]
        /// The implemented TLS 1.2 suites selected, in order.
        public var tls12Suites: [CipherSuite] { entries.compactMap(\.suite) }
        /// The TLS 1.3 suites: all three unless the string named some.
        public let tls13Suites: [CipherSuite]
        /// True when the string named TLS 1.3 suites itself.
        public let tls13Explicit: Bool
        /// The suites to configure: TLS 1.3 first, then TLS 1.2, each in order.
        public var suites: [CipherSuite] { tls13Suites + tls12Suites }
        /// Words that named nothing known, ignored as OpenSSL ignores them.
        public let ignored: [String]
        /// The `@SECLEVEL` in force.
        public let securityLevel: Int
    }

    private static func e(_ name: String, _ code: UInt16, _ kx: KeyExchange, _ auth: Authentication, _ enc: Encryption,
                          _ mac: MAC, _ v: String) -> Entry {
        Entry(name: name, code: code, kx: kx, auth: auth, enc: enc, mac: mac, minVersion: v)
    }

    /// The suites OpenSSL knows that the operators work over (TLS 1.2 and
    /// older), in OpenSSL's initial preference order: forward-secret AEAD by
    /// strength (AES-GCM, ChaCha20, CCM, ARIA; ECDHE before DHE; ECDSA before
    /// RSA before DSS), then forward-secret CBC, then RSA key transport, then NULL.
    public static let catalog: [Entry] = [
        e("ECDHE-ECDSA-AES256-GCM-SHA384", 0xc02c, .ecdhe, .ecdsa, .aes256GCM, .aead, "TLSv1.2"),
        e("ECDHE-RSA-AES256-GCM-SHA384", 0xc030, .ecdhe, .rsa, .aes256GCM, .aead, "TLSv1.2"),
        e("DHE-DSS-AES256-GCM-SHA384", 0x00a3, .dhe, .dss, .aes256GCM, .aead, "TLSv1.2"),
        e("DHE-RSA-AES256-GCM-SHA384", 0x009f, .dhe, .rsa, .aes256GCM, .aead, "TLSv1.2"),
        e("ECDHE-ECDSA-CHACHA20-POLY1305", 0xcca9, .ecdhe, .ecdsa, .chacha20, .aead, "TLSv1.2"),
        e("ECDHE-RSA-CHACHA20-POLY1305", 0xcca8, .ecdhe, .rsa, .chacha20, .aead, "TLSv1.2"),
        e("DHE-RSA-CHACHA20-POLY1305", 0xccaa, .dhe, .rsa, .chacha20, .aead, "TLSv1.2"),
        e("ECDHE-ECDSA-AES256-CCM", 0xc0ad, .ecdhe, .ecdsa, .aes256CCM, .aead, "TLSv1.2"),
        e("DHE-RSA-AES256-CCM", 0xc09f, .dhe, .rsa, .aes256CCM, .aead, "TLSv1.2"),
        e("ECDHE-ECDSA-ARIA256-GCM-SHA384", 0xc05d, .ecdhe, .ecdsa, .aria256GCM, .aead, "TLSv1.2"),
        e("ECDHE-ARIA256-GCM-SHA384", 0xc061, .ecdhe, .rsa, .aria256GCM, .aead, "TLSv1.2"),
        e("ADH-AES256-GCM-SHA384", 0x00a7, .dhe, .none, .aes256GCM, .aead, "TLSv1.2"),
        e("ECDHE-ECDSA-AES128-GCM-SHA256", 0xc02b, .ecdhe, .ecdsa, .aes128GCM, .aead, "TLSv1.2"),
        e("ECDHE-RSA-AES128-GCM-SHA256", 0xc02f, .ecdhe, .rsa, .aes128GCM, .aead, "TLSv1.2"),
        e("DHE-DSS-AES128-GCM-SHA256", 0x00a2, .dhe, .dss, .aes128GCM, .aead, "TLSv1.2"),
        e("DHE-RSA-AES128-GCM-SHA256", 0x009e, .dhe, .rsa, .aes128GCM, .aead, "TLSv1.2"),
        e("ECDHE-ECDSA-AES128-CCM", 0xc0ac, .ecdhe, .ecdsa, .aes128CCM, .aead, "TLSv1.2"),
        e("DHE-RSA-AES128-CCM", 0xc09e, .dhe, .rsa, .aes128CCM, .aead, "TLSv1.2"),
        e("ECDHE-ECDSA-ARIA128-GCM-SHA256", 0xc05c, .ecdhe, .ecdsa, .aria128GCM, .aead, "TLSv1.2"),
        e("ECDHE-ARIA128-GCM-SHA256", 0xc060, .ecdhe, .rsa, .aria128GCM, .aead, "TLSv1.2"),
        e("ADH-AES128-GCM-SHA256", 0x00a6, .dhe, .none, .aes128GCM, .aead, "TLSv1.2"),
        e("ECDHE-ECDSA-AES256-SHA384", 0xc024, .ecdhe, .ecdsa, .aes256, .sha384, "TLSv1.2"),
        e("ECDHE-RSA-AES256-SHA384", 0xc028, .ecdhe, .rsa, .aes256, .sha384, "TLSv1.2"),
        e("DHE-RSA-AES256-SHA256", 0x006b, .dhe, .rsa, .aes256, .sha256, "TLSv1.2"),
        e("ECDHE-ECDSA-CAMELLIA256-SHA384", 0xc073, .ecdhe, .ecdsa, .camellia256, .sha384, "TLSv1.2"),
        e("ECDHE-RSA-CAMELLIA256-SHA384", 0xc077, .ecdhe, .rsa, .camellia256, .sha384, "TLSv1.2"),
        e("ADH-AES256-SHA256", 0x006d, .dhe, .none, .aes256, .sha256, "TLSv1.2"),
        e("ECDHE-ECDSA-AES128-SHA256", 0xc023, .ecdhe, .ecdsa, .aes128, .sha256, "TLSv1.2"),
        e("ECDHE-RSA-AES128-SHA256", 0xc027, .ecdhe, .rsa, .aes128, .sha256, "TLSv1.2"),
        e("DHE-RSA-AES128-SHA256", 0x0067, .dhe, .rsa, .aes128, .sha256, "TLSv1.2"),
        e("ECDHE-ECDSA-CAMELLIA128-SHA256", 0xc072, .ecdhe, .ecdsa, .camellia128, .sha256, "TLSv1.2"),
        e("ECDHE-RSA-CAMELLIA128-SHA256", 0xc076, .ecdhe, .rsa, .camellia128, .sha256, "TLSv1.2"),
        e("ADH-AES128-SHA256", 0x006c, .dhe, .none, .aes128, .sha256, "TLSv1.2"),
        e("ECDHE-ECDSA-AES256-SHA", 0xc00a, .ecdhe, .ecdsa, .aes256, .sha1, "TLSv1"),
        e("ECDHE-RSA-AES256-SHA", 0xc014, .ecdhe, .rsa, .aes256, .sha1, "TLSv1"),
        e("DHE-RSA-AES256-SHA", 0x0039, .dhe, .rsa, .aes256, .sha1, "SSLv3"),
        e("AECDH-AES256-SHA", 0xc019, .ecdhe, .none, .aes256, .sha1, "TLSv1"),
        e("ADH-AES256-SHA", 0x003a, .dhe, .none, .aes256, .sha1, "SSLv3"),
        e("ECDHE-ECDSA-AES128-SHA", 0xc009, .ecdhe, .ecdsa, .aes128, .sha1, "TLSv1"),
        e("ECDHE-RSA-AES128-SHA", 0xc013, .ecdhe, .rsa, .aes128, .sha1, "TLSv1"),
        e("DHE-RSA-AES128-SHA", 0x0033, .dhe, .rsa, .aes128, .sha1, "SSLv3"),
        e("AECDH-AES128-SHA", 0xc018, .ecdhe, .none, .aes128, .sha1, "TLSv1"),
        e("ADH-AES128-SHA", 0x0034, .dhe, .none, .aes128, .sha1, "SSLv3"),
        e("ECDHE-RSA-DES-CBC3-SHA", 0xc012, .ecdhe, .rsa, .tripleDES, .sha1, "TLSv1"),
        e("ECDHE-RSA-RC4-SHA", 0xc011, .ecdhe, .rsa, .rc4, .sha1, "TLSv1"),
        e("AES256-GCM-SHA384", 0x009d, .rsa, .rsa, .aes256GCM, .aead, "TLSv1.2"),
        e("AES256-CCM", 0xc09d, .rsa, .rsa, .aes256CCM, .aead, "TLSv1.2"),
        e("ARIA256-GCM-SHA384", 0xc051, .rsa, .rsa, .aria256GCM, .aead, "TLSv1.2"),
        e("AES128-GCM-SHA256", 0x009c, .rsa, .rsa, .aes128GCM, .aead, "TLSv1.2"),
        e("AES128-CCM", 0xc09c, .rsa, .rsa, .aes128CCM, .aead, "TLSv1.2"),
        e("ARIA128-GCM-SHA256", 0xc050, .rsa, .rsa, .aria128GCM, .aead, "TLSv1.2"),
        e("AES256-SHA256", 0x003d, .rsa, .rsa, .aes256, .sha256, "TLSv1.2"),
        e("CAMELLIA256-SHA256", 0x00c0, .rsa, .rsa, .camellia256, .sha256, "TLSv1.2"),
        e("AES128-SHA256", 0x003c, .rsa, .rsa, .aes128, .sha256, "TLSv1.2"),
        e("CAMELLIA128-SHA256", 0x00ba, .rsa, .rsa, .camellia128, .sha256, "TLSv1.2"),
        e("AES256-SHA", 0x0035, .rsa, .rsa, .aes256, .sha1, "SSLv3"),
        e("CAMELLIA256-SHA", 0x0084, .rsa, .rsa, .camellia256, .sha1, "SSLv3"),
        e("AES128-SHA", 0x002f, .rsa, .rsa, .aes128, .sha1, "SSLv3"),
        e("CAMELLIA128-SHA", 0x0041, .rsa, .rsa, .camellia128, .sha1, "SSLv3"),
        e("DES-CBC3-SHA", 0x000a, .rsa, .rsa, .tripleDES, .sha1, "SSLv3"),
        e("RC4-SHA", 0x0005, .rsa, .rsa, .rc4, .sha1, "SSLv3"),
        e("RC4-MD5", 0x0004, .rsa, .rsa, .rc4, .md5, "SSLv3"),
        e("ECDHE-ECDSA-NULL-SHA", 0xc006, .ecdhe, .ecdsa, .none, .sha1, "TLSv1"),
        e("ECDHE-RSA-NULL-SHA", 0xc010, .ecdhe, .rsa, .none, .sha1, "TLSv1"),
        e("AECDH-NULL-SHA", 0xc015, .ecdhe, .none, .none, .sha1, "TLSv1"),
        e("NULL-SHA256", 0x003b, .rsa, .rsa, .none, .sha256, "TLSv1.2"),
        e("NULL-SHA", 0x0002, .rsa, .rsa, .none, .sha1, "SSLv3"),
        e("NULL-MD5", 0x0001, .rsa, .rsa, .none, .md5, "SSLv3"),
    ]

    /// Aliases OpenSSL knows whose suites are all outside the catalog (export,
    /// DES, RC2, IDEA, SEED, PSK, SRP, GOST, ...): recognised, selecting nothing.
    static let catalogByName: [String: Entry] = Dictionary(catalog.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    static let catalogByCode: [UInt16: Entry] = Dictionary(catalog.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })

    static let emptyAliases: Set<String> = [
        "EXP", "EXPORT", "EXPORT40", "EXPORT56", "LOW", "DES", "RC2", "IDEA", "SEED", "PSK", "kPSK", "aPSK",
        "kECDHEPSK", "kDHEPSK", "kRSAPSK", "SRP", "kSRP", "aSRP", "GOST94", "GOST89MAC", "kGOST", "aGOST",
        "aGOST01", "kDH", "kDHr", "kDHd", "kECDH", "kECDHr", "kECDHe", "aDH", "aECDH", "ECCDHE", "AESCCM8",
    ]

    /// Every alias and the predicate it stands for (OpenSSL's names; those of
    /// families we do not implement select nothing).
    static let aliases: [String: (Entry) -> Bool] = {
        let table: [(String, (Entry) -> Bool)] = [
            ("ALL", { $0.enc != .none }),
            ("COMPLEMENTOFALL", { $0.enc == .none }),
            ("eNULL", { $0.enc == .none }),
            ("NULL", { $0.enc == .none }),
            ("DEFAULT", { $0.inDefault }),
            ("COMPLEMENTOFDEFAULT", { $0.enc != .none && !$0.inDefault }),
            ("HIGH", { $0.isHigh }),
            ("MEDIUM", { $0.isMedium }),
            ("aNULL", { $0.auth == .none }),
            ("kRSA", { $0.kx == .rsa }),
            ("RSA", { $0.kx == .rsa }),
            ("aRSA", { $0.auth == .rsa }),
            ("kECDHE", { $0.kx == .ecdhe }),
            ("kEECDH", { $0.kx == .ecdhe }),
            ("ECDHE", { $0.kx == .ecdhe && $0.auth != .none }),
            ("EECDH", { $0.kx == .ecdhe && $0.auth != .none }),
            ("AECDH", { $0.kx == .ecdhe && $0.auth == .none }),
            ("kDHE", { $0.kx == .dhe }),
            ("kEDH", { $0.kx == .dhe }),
            ("DH", { $0.kx == .dhe }),
            ("DHE", { $0.kx == .dhe && $0.auth != .none }),
            ("EDH", { $0.kx == .dhe && $0.auth != .none }),
            ("ADH", { $0.kx == .dhe && $0.auth == .none }),
            ("aECDSA", { $0.auth == .ecdsa }),
            ("ECDSA", { $0.auth == .ecdsa }),
            ("aDSS", { $0.auth == .dss }),
            ("DSS", { $0.auth == .dss }),
            ("AES", { [.aes128GCM, .aes256GCM, .aes128CCM, .aes256CCM, .aes128, .aes256].contains($0.enc) }),
            ("AES128", { [.aes128GCM, .aes128CCM, .aes128].contains($0.enc) }),
            ("AES256", { [.aes256GCM, .aes256CCM, .aes256].contains($0.enc) }),
            ("AESGCM", { $0.enc == .aes128GCM || $0.enc == .aes256GCM }),
            ("AESCCM", { $0.enc == .aes128CCM || $0.enc == .aes256CCM }),
            ("CHACHA20", { $0.enc == .chacha20 }),
            ("ARIA", { $0.enc == .aria128GCM || $0.enc == .aria256GCM }),
            ("ARIAGCM", { $0.enc == .aria128GCM || $0.enc == .aria256GCM }),
            ("ARIA128", { $0.enc == .aria128GCM }),
            ("ARIA256", { $0.enc == .aria256GCM }),
            ("CAMELLIA", { $0.enc == .camellia128 || $0.enc == .camellia256 }),
            ("CAMELLIA128", { $0.enc == .camellia128 }),
            ("CAMELLIA256", { $0.enc == .camellia256 }),
            ("3DES", { $0.enc == .tripleDES }),
            ("RC4", { $0.enc == .rc4 }),
            ("CBC", { $0.isCBC }),
            ("MD5", { $0.mac == .md5 }),
            ("SHA1", { $0.mac == .sha1 }),
            ("SHA", { $0.mac == .sha1 }),
            ("SHA256", { $0.mac == .sha256 }),
            ("SHA384", { $0.mac == .sha384 }),
            ("TLSv1.2", { $0.minVersion == "TLSv1.2" }),
            ("TLSv1", { $0.minVersion == "TLSv1" }),
            ("TLSv1.0", { $0.minVersion == "TLSv1" }),
            ("SSLv3", { $0.minVersion == "SSLv3" }),
            ("SUITEB128", { $0.code == 0xc02b || $0.code == 0xc02c }),
            ("SUITEB128ONLY", { $0.code == 0xc02b }),
            ("SUITEB192", { $0.code == 0xc02c }),
        ]
        var all = Dictionary(table, uniquingKeysWith: { first, _ in first })
        for name in emptyAliases where all[name] == nil { all[name] = { _ in false } }
        return all
    }()

    /// The predicate an alias stands for (nil when the word is not an alias).
    static func alias(_ word: String) -> ((Entry) -> Bool)? { aliases[word] }

    /// Parses a cipher string. Throws `SSLError` `.noCipherSelected` when no
    /// implemented suite is selected, `.invalidArgument` for a malformed `@` command.
    /// The items of a cipher string: split at ':', ',', ' ' and ';' (bytes, as OpenSSL does), empty ones dropped.
    static func words(_ string: String) -> [String] {
        let bytes = Array(string.utf8)
        var out: [String] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == 0x3a || b == 0x2c || b == 0x20 || b == 0x3b {
            if i > start { out.append(String(decoding: bytes[start..<i], as: UTF8.self)) }
            start = i + 1
        }
        if bytes.count > start { out.append(String(decoding: bytes[start...], as: UTF8.self)) }
        return out
    }

    public static func parse(_ string: String) throws -> Selection {
        try requireImplemented(select(string), string: string)
    }

    /// `selection` (what `string` selects) when it holds an implemented suite;
    /// otherwise the error `parse` throws.
    public static func requireImplemented(_ selection: Selection, string: String) throws -> Selection {
        if selection.tls12Suites.isEmpty && !(selection.tls13Explicit && !selection.tls13Suites.isEmpty) {
            var why = "the cipher string \"\(string)\" selects no cipher suite this library implements"
            let known = selection.entries.map(\.name)
            if !known.isEmpty { why += " (it selects only \(known.prefix(6).joined(separator: ", "))\(known.count > 6 ? ", ..." : ""), not implemented)" }
            if !selection.ignored.isEmpty { why += "; unknown: \(selection.ignored.joined(separator: ", "))" }
            throw SSLError(.noCipherSelected, why)
        }
        return selection
    }

    /// What a cipher string selects, whether or not that includes an implemented
    /// suite. Throws only for a malformed `@` command.
    public static func select(_ string: String) throws -> Selection {
        var order = Array(catalog.indices)          // the internal list, current order
        var active = Set<Int>()
        var killed = Set<Int>()
        var tls13: [CipherSuite] = []
        var tls13Killed = Set<CipherSuite>()
        var tls13Explicit = false
        var ignored: [String] = []
        var level = 1

        func moveToEnd(_ members: [Int]) {
            let set = Set(members)
            order = order.filter { !set.contains($0) } + members
        }
        func moveToFront(_ members: [Int]) {
            let set = Set(members)
            order = members + order.filter { !set.contains($0) }
        }

        // Suite B names stand for fixed lists, in this order (as in OpenSSL).
        let suiteB = ["SUITEB128": ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"],
                      "SUITEB128ONLY": ["ECDHE-ECDSA-AES128-GCM-SHA256"], "SUITEB192": ["ECDHE-ECDSA-AES256-GCM-SHA384"]]
        let items = CipherString.words(string).flatMap { suiteB[$0] ?? [$0] }
        for (position, rawItem) in items.enumerated() {
            if rawItem.hasPrefix("@") {
                if rawItem == "@STRENGTH" {
                    // Stable: equal strengths keep their order.
                    order = order.enumerated().sorted { a, b in
                        let sa = catalog[a.element].strength, sb = catalog[b.element].strength
                        return sa != sb ? sa > sb : a.offset < b.offset
                    }.map(\.element)
                } else if rawItem.hasPrefix("@SECLEVEL="), let n = Int(rawItem.dropFirst(10)), (0...5).contains(n) {
                    level = n
                } else {
                    throw SSLError(.invalidArgument, "unknown cipher-string command \(rawItem)")
                }
                continue
            }
            var item = Substring(rawItem)
            var op: Character = " "
            if let first = item.first, "!-+".contains(first) {
                op = first
                item = item.dropFirst()
            }
            // DEFAULT first in the list stands for "ALL:!COMPLEMENTOFDEFAULT:!eNULL".
            if item == "DEFAULT" && op == " " && position == 0 {
                for i in order where catalog[i].enc == .none || !catalog[i].inDefault { killed.insert(i) }
                let add = order.filter { !killed.contains($0) }
                active.formUnion(add)
                moveToEnd(add)
                continue
            }
            // TLS 1.3 suites, by name or as "TLSv1.3".
            let tls13Named: [CipherSuite]? = item == "TLSv1.3" ? CipherSuite.tls13Suites
                : CipherSuite(name: String(item)).flatMap { $0.isTLS13 ? [$0] : nil }
            if let named = tls13Named {
                switch op {
                case "!":
                    tls13Killed.formUnion(named)
                    tls13.removeAll { named.contains($0) }
                case "-":
                    tls13.removeAll { named.contains($0) }
                    if !tls13Explicit { tls13Explicit = true; tls13 = CipherSuite.tls13Suites.filter { !named.contains($0) } }
                case "+":
                    let moving = tls13.filter { named.contains($0) }
                    tls13 = tls13.filter { !named.contains($0) } + moving
                default:
                    if !tls13Explicit { tls13Explicit = true; tls13 = [] }
                    for s in named where !tls13.contains(s) && !tls13Killed.contains(s) { tls13.append(s) }
                }
                continue
            }
            // A conjunction of names and aliases.
            var predicates: [(Entry) -> Bool] = []
            var unknown = false
            for word in item.split(separator: "+", omittingEmptySubsequences: true).map(String.init) {
                if let p = alias(word) {
                    predicates.append(p)
                } else if let entry = catalogByName[word] ?? CipherSuite(name: word).flatMap({ catalogByCode[$0.rawValue] }) {
                    let code = entry.code
                    predicates.append { $0.code == code }
                } else {
                    unknown = true
                }
            }
            if unknown || predicates.isEmpty {
                ignored.append(rawItem)
                continue
            }
            let matches = order.filter { i in predicates.allSatisfy { $0(catalog[i]) } }
            switch op {
            case "!":
                killed.formUnion(matches)
                active.subtract(matches)
            case "-":
                let removing = matches.filter { active.contains($0) }
                active.subtract(removing)
                moveToFront(removing)
            case "+":
                moveToEnd(matches.filter { active.contains($0) })
            default:
                let adding = matches.filter { !active.contains($0) && !killed.contains($0) }
                active.formUnion(adding)
                moveToEnd(adding)
            }
        }

        let minimumBits = [0, 80, 112, 128, 192, 256][level]
        func allowed(_ e: Entry) -> Bool {
            if e.strength < minimumBits { return false }
            if level >= 1 && (e.enc == .none || e.auth == .none || e.mac == .md5) { return false }
            if level >= 2 && e.enc == .rc4 { return false }
            if level >= 3 && e.kx == .rsa { return false }
            if level >= 4 && e.mac == .sha1 { return false }
            return true
        }
        let entries: [Entry] = order.filter { active.contains($0) }.map { catalog[$0] }.filter(allowed)
        let tls13Final = tls13Explicit ? tls13.filter { !tls13Killed.contains($0) } : CipherSuite.tls13Suites.filter { !tls13Killed.contains($0) }
        return Selection(entries: entries, tls13Suites: tls13Final, tls13Explicit: tls13Explicit,
                         ignored: ignored, securityLevel: level)
    }
}
