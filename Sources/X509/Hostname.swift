/// Service identity checks per RFC 6125 / RFC 9525.
///
/// - A reference identifier that parses as an IPv4 or IPv6 address matches only
///   iPAddress subjectAltName entries, byte for byte.
/// - Otherwise it is a DNS name: compared case-insensitively (ASCII) with dNSName
///   entries, a single trailing dot ignored on either side.
/// - A wildcard is honoured only as the complete left-most label ("*.example.com"),
///   matches exactly one non-empty label, never an IP address, and needs at least
///   two labels after it (no "*.com").
/// - The subject common name is consulted only when `allowCommonNameFallback` is set
///   and the certificate has no dNSName at all.
public enum HostnameMatcher {
    public static func matches(_ certificate: Certificate, hostname: String, allowCommonNameFallback: Bool = false) -> Bool {
        if let ip = IPAddress.parse(hostname) {
            return certificate.ipAddresses.contains(ip)
        }
        guard let reference = normalizeReference(hostname) else { return false }
        let dns = certificate.dnsNames
        if !dns.isEmpty {
            return dns.contains { matchesPattern($0, reference: reference) }
        }
        if allowCommonNameFallback {
            return certificate.subject.commonNames.contains { matchesPattern($0, reference: reference) }
        }
        return false
    }

    /// Lowercased ASCII labels, or nil for something that is not a plausible DNS name.
    static func normalizeReference(_ name: String) -> [Substring]? {
        var s = name.lowercased()
        if s.hasSuffix(".") { s.removeLast() }
        guard !s.isEmpty, s.utf8.count <= 253, s.unicodeScalars.allSatisfy({ $0.isASCII && $0 != "*" }) else { return nil }
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 }) else { return nil }
        return labels
    }

    /// Matches one presented dNSName (or CN) against the reference labels.
    static func matchesPattern(_ pattern: String, reference: [Substring]) -> Bool {
        var p = pattern.lowercased()
        if p.hasSuffix(".") { p.removeLast() }
        guard !p.isEmpty, p.unicodeScalars.allSatisfy(\.isASCII) else { return false }
        let labels = p.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ !$0.isEmpty }), labels.count == reference.count else { return false }
        if labels[0] == "*" {
            // Whole left-most label only, and at least two labels after it.
            guard labels.count >= 3, !labels.dropFirst().contains(where: { $0.contains("*") }) else { return false }
            return labels.dropFirst().elementsEqual(reference.dropFirst())
        }
        guard !labels.contains(where: { $0.contains("*") }) else { return false }
        return labels.elementsEqual(reference)
    }
}

/// RFC 5280 4.2.1.10 name constraints, for DNS names, IP addresses, directory names,
/// email addresses and URIs. A constraint of any other form, when the certificate
/// has a name of that form, fails closed.
enum NameConstraintChecker {
    /// Whether `cert` satisfies `constraints`. `extraDNSNames` are names treated as
    /// dNSNames (common names when the hostname check may fall back to them).
    static func check(_ cert: Certificate, against constraints: NameConstraints, extraDNSNames: [String] = []) -> String? {
        var names: [GeneralName] = cert.subjectAlternativeNames ?? []
        names += extraDNSNames.map { GeneralName.dnsName($0) }
        if !cert.subject.isEmpty { names.append(.directoryName(cert.subject)) }
        for email in cert.subject.values(of: .emailAddress) { names.append(.rfc822Name(email)) }

        for name in names {
            let kind = kindOf(name)
            let permitted = constraints.permitted.filter { kindOf($0) == kind }
            let excluded = constraints.excluded.filter { kindOf($0) == kind }
            if permitted.isEmpty && excluded.isEmpty { continue }
            for c in excluded {
                switch within(name, c, excluded: true) {
                case .some(true): return "\(name) is in the excluded subtree \(c)"
                case .some(false): continue
                case .none: return "cannot evaluate the constraint \(c) for \(name)"
                }
            }
            if !permitted.isEmpty {
                var ok = false
                for c in permitted {
                    switch within(name, c, excluded: false) {
                    case .some(true): ok = true
                    case .some(false): continue
                    case .none: return "cannot evaluate the constraint \(c) for \(name)"
                    }
                    if ok { break }
                }
                if !ok { return "\(name) is outside the permitted subtrees" }
            }
        }
        return nil
    }

    private static func kindOf(_ n: GeneralName) -> Int {
        switch n {
        case .otherName: return 0
        case .rfc822Name: return 1
        case .dnsName: return 2
        case .x400Address: return 3
        case .directoryName: return 4
        case .ediPartyName: return 5
        case .uri: return 6
        case .ipAddress: return 7
        case .registeredID: return 8
        }
    }

    /// true/false, or nil when the form is not supported (fail closed).
    private static func within(_ name: GeneralName, _ constraint: GeneralName, excluded: Bool) -> Bool? {
        switch (name, constraint) {
        case (.dnsName(let n), .dnsName(let c)):
            return dnsWithin(n, c, excluded: excluded)
        case (.ipAddress(let a), .ipAddress(let c)):
            guard c.count == 2 * a.count else { return false }
            let half = a.count
            for i in 0..<half where a[i] & c[half + i] != c[i] & c[half + i] { return false }
            return true
        case (.directoryName(let n), .directoryName(let c)):
            return n.hasPrefix(c)
        case (.rfc822Name(let n), .rfc822Name(let c)):
            return emailWithin(n, c)
        case (.uri(let n), .uri(let c)):
            guard let host = uriHost(n) else { return nil }
            return hostWithin(host, c)
        default:
            return nil
        }
    }

    static func labels(_ s: String) -> [Substring] {
        var t = s.lowercased()
        if t.hasSuffix(".") { t.removeLast() }
        return t.split(separator: ".", omittingEmptySubsequences: false)
    }

    /// RFC 5280: "example.com" covers example.com and its subdomains; ".example.com"
    /// only subdomains; "" everything. Whole labels only.
    static func dnsWithin(_ name: String, _ constraint: String, excluded: Bool) -> Bool {
        if constraint.isEmpty { return true }
        let subdomainsOnly = constraint.hasPrefix(".")
        let c = labels(subdomainsOnly ? String(constraint.dropFirst()) : constraint)
        let n = labels(name)
        if n.count >= c.count, n.suffix(c.count).elementsEqual(c), !(subdomainsOnly && n.count == c.count) {
            return true
        }
        // A wildcard name "*.rest" can stand for "x.rest"; for an excluded subtree that
        // is one label below "rest", the wildcard reaches into it.
        if excluded, n.first == "*", c.count == n.count, !subdomainsOnly,
           c.dropFirst().elementsEqual(n.dropFirst()) {
            return true
        }
        return false
    }

    static func hostWithin(_ host: String, _ constraint: String) -> Bool {
        if constraint.hasPrefix(".") {
            let c = labels(String(constraint.dropFirst()))
            let h = labels(host)
            return h.count > c.count && h.suffix(c.count).elementsEqual(c)
        }
        return labels(host) == labels(constraint)
    }

    static func emailWithin(_ email: String, _ constraint: String) -> Bool {
        guard let at = email.lastIndex(of: "@") else { return false }
        let host = String(email[email.index(after: at)...])
        if constraint.contains("@") {
            guard let cat = constraint.lastIndex(of: "@") else { return false }
            return email[..<at] == constraint[..<cat]
                && labels(host) == labels(String(constraint[constraint.index(after: cat)...]))
        }
        return hostWithin(host, constraint)
    }

    /// The host of "scheme://[userinfo@]host[:port]/...", or nil.
    static func uriHost(_ uri: String) -> String? {
        guard let schemeEnd = uri.firstRange(of: "://") else { return nil }
        var rest = uri[schemeEnd.upperBound...]
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("[") { return nil }  // IP literal: not a host name
        if let colon = rest.lastIndex(of: ":") { rest = rest[..<colon] }
        guard !rest.isEmpty else { return nil }
        return String(rest)
    }
}

