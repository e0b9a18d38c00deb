import Foundation

/// The repository root, found from this source file's location so tests run
/// from any working directory.
public let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/TestSupport/VectorFile.swift
    return url
}()

public func vectorURL(_ relative: String) -> URL {
    repositoryRoot.appendingPathComponent("Vectors").appendingPathComponent(relative)
}

/// One block of `key = value` lines from a file in the format of
/// `Vectors/crypto/README.md`.
public struct VectorBlock: CustomStringConvertible {
    public var fields: [String: String] = [:]
    public var source: String = ""
    public var line: Int = 0

    public var description: String { "\(source) (line \(line))" }

    public func string(_ key: String) throws -> String {
        guard let v = fields[key] else { throw VectorFileError.missingKey(key, description) }
        return v
    }

    public func hex(_ key: String) throws -> [UInt8] {
        try parseHex(try string(key), context: "\(key) in \(description)")
    }

    public func int(_ key: String) throws -> Int {
        guard let v = Int(try string(key)) else { throw VectorFileError.notANumber(key, description) }
        return v
    }

    public func optionalInt(_ key: String) throws -> Int? {
        guard fields[key] != nil else { return nil }
        return try int(key)
    }
}

public enum VectorFileError: Error, CustomStringConvertible {
    case missingKey(String, String)
    case notANumber(String, String)
    case badHex(String)
    case badLine(Int, String)

    public var description: String {
        switch self {
        case .missingKey(let k, let where_): return "missing key \(k) in \(where_)"
        case .notANumber(let k, let where_): return "\(k) is not a number in \(where_)"
        case .badHex(let c): return "bad hex in \(c)"
        case .badLine(let n, let l): return "line \(n) is not 'key = value': \(l)"
        }
    }
}

public func parseHex(_ s: String, context: String = "") throws -> [UInt8] {
    var out: [UInt8] = []
    var high: UInt8? = nil
    for c in s.utf8 {
        let v: UInt8
        switch c {
        case 48...57: v = c - 48
        case 97...102: v = c - 87
        case 65...70: v = c - 55
        default: throw VectorFileError.badHex(context)
        }
        if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
    }
    if high != nil { throw VectorFileError.badHex(context) }
    return out
}

public func loadVectorBlocks(_ relative: String) throws -> [VectorBlock] {
    let text = try String(contentsOf: vectorURL(relative), encoding: .utf8)
    var blocks: [VectorBlock] = []
    var current = VectorBlock()
    var lineNumber = 0
    func flush() {
        if !current.fields.isEmpty { blocks.append(current) }
        current = VectorBlock()
    }
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
        lineNumber += 1
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.isEmpty { flush(); continue }
        if line.hasPrefix("#") {
            if line.hasPrefix("# source:") {
                current.source = String(line.dropFirst("# source:".count)).trimmingCharacters(in: .whitespaces)
            }
            continue
        }
        guard let eq = line.firstIndex(of: "=") else { throw VectorFileError.badLine(lineNumber, line) }
        let key = line[..<eq].trimmingCharacters(in: .whitespaces)
        let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        if current.fields.isEmpty { current.line = lineNumber }
        current.fields[key] = value
    }
    flush()
    return blocks
}
