import SwiftASN1

/// A point in time as X.509 writes it, held as seconds since the Unix epoch (UTC).
/// Verification takes the time as a value (injected), never from a clock of its own.
public struct X509Time: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let secondsSinceEpoch: Int64

    public init(secondsSinceEpoch: Int64) { self.secondsSinceEpoch = secondsSinceEpoch }

    /// From calendar fields (proleptic Gregorian, UTC). Nil when a field is out of range.
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        guard (0...9999).contains(year), (1...12).contains(month), (0...23).contains(hour),
              (0...59).contains(minute), (0...59).contains(second),
              day >= 1, day <= X509Time.daysIn(month: month, year: year) else { return nil }
        let days = X509Time.daysFromCivil(year: year, month: month, day: day)
        secondsSinceEpoch = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    public static func < (a: X509Time, b: X509Time) -> Bool { a.secondsSinceEpoch < b.secondsSinceEpoch }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// (year, month, day, hour, minute, second) in UTC.
    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        // Clamp to years 0...9999 so the arithmetic stays far from overflow for any input.
        let s = min(max(secondsSinceEpoch, -62_167_219_200), 253_402_300_799)
        var days = Int(s / 86400)
        var rem = Int(s % 86400)
        if rem < 0 { rem += 86400; days -= 1 }
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
    }

    /// ISO 8601, e.g. "2026-01-01T00:00:00Z".
    public var description: String {
        let c = components
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var year = "\(c.year)"
        while year.count < 4 { year = "0" + year }
        return "\(year)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))Z"
    }

    /// Parses a Time ::= CHOICE { utcTime, generalTime } with RFC 5280 4.1.2.5 rules:
    /// UTCTime is YYMMDDHHMMSSZ (YY >= 50 means 19YY), GeneralizedTime is
    /// YYYYMMDDHHMMSSZ; seconds are required, no fractions, always Zulu.
    static func parse(_ node: ASN1Node, _ what: String) throws -> X509Time {
        let bytes = try node.primitive(what)
        let digits: Int
        if node.identifier == Tag.utcTime {
            digits = 12
        } else if node.identifier == Tag.generalizedTime {
            digits = 14
        } else {
            throw X509Error(.unexpectedStructure, "\(what): expected UTCTime or GeneralizedTime, found \(node.identifier)")
        }
        guard bytes.count == digits + 1, bytes.last == UInt8(ascii: "Z") else {
            throw X509Error(.invalidTime, "\(what): must be \(digits) digits and 'Z'")
        }
        var values: [Int] = []
        var it = bytes.makeIterator()
        for _ in 0..<(digits / 2) {
            guard let a = it.next(), let b = it.next(),
                  (0x30...0x39).contains(a), (0x30...0x39).contains(b) else {
                throw X509Error(.invalidTime, "\(what): non-digit character")
            }
            values.append(Int(a - 0x30) * 10 + Int(b - 0x30))
        }
        let year: Int
        let rest: ArraySlice<Int>
        if digits == 12 {
            year = values[0] >= 50 ? 1900 + values[0] : 2000 + values[0]
            rest = values[1...]
        } else {
            year = values[0] * 100 + values[1]
            rest = values[2...]
        }
        let f = Array(rest)
        guard f.count == 5, let t = X509Time(year: year, month: f[0], day: f[1], hour: f[2], minute: f[3], second: f[4]) else {
            throw X509Error(.invalidTime, "\(what): a field is out of range")
        }
        return t
    }
}
