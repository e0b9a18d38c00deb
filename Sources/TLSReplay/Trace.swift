import TLSCrypto

/// A handshake trace in the format of `Spec/trace-format.md`.
public struct Trace {
    public enum Kind: String { case param, message, secret, record }

    public struct Entry {
        public var kind: Kind
        public var name: String
        public var value: [UInt8]
        public var line: Int
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]

    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    public init() {}

    public init(text: String) throws {
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3 || parts.count == 4, parts[2] == "=" else {
                throw ParseError(line: lineNumber, message: "expected 'kind name = hex'")
            }
            guard let kind = Kind(rawValue: String(parts[0])) else {
                throw ParseError(line: lineNumber, message: "unknown kind \(parts[0])")
            }
            let name = String(parts[1])
            guard let first = name.unicodeScalars.first, ("a"..."z").contains(first),
                  name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) else {
                throw ParseError(line: lineNumber, message: "bad name \(name)")
            }
            let hex = parts.count == 4 ? String(parts[3]) : ""
            guard hex.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }),
                  let value = try? [UInt8](hex: hex) else {
                throw ParseError(line: lineNumber, message: "value of \(name) is not lowercase hex of even length")
            }
            guard index[name] == nil else { throw ParseError(line: lineNumber, message: "duplicate name \(name)") }
            try append(kind, name, value, line: lineNumber)
        }
    }

    public mutating func append(_ kind: Kind, _ name: String, _ value: [UInt8], line: Int = 0) throws {
        guard index[name] == nil else { throw ParseError(line: line, message: "duplicate name \(name)") }
        index[name] = entries.count
        entries.append(Entry(kind: kind, name: name, value: value, line: line))
    }

    public func value(_ name: String) -> [UInt8]? { index[name].map { entries[$0].value } }

    public func require(_ name: String) throws -> [UInt8] {
        guard let v = value(name) else { throw ReplayFailure(field: name, message: "the trace has no \(name)") }
        return v
    }

    public var records: [Entry] { entries.filter { $0.kind == .record } }

    /// Serialises in the documented format (for captures written by the tools).
    public func render(header: [String] = []) -> String {
        var out = header.map { "# \($0)\n" }.joined()
        for e in entries { out += "\(e.kind.rawValue) \(e.name) =" + (e.value.isEmpty ? "\n" : " \(e.value.hexString)\n") }
        return out
    }
}

/// The first difference a replay found.
public struct ReplayFailure: Error, CustomStringConvertible {
    public let field: String
    public let message: String
    public init(field: String, message: String) { self.field = field; self.message = message }
    public var description: String { "\(field): \(message)" }
}
