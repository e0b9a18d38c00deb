import XCTest
import TestSupport
import TLSCrypto
@testable import TLSRecord

/// A parsed RFC 8448 trace (format: Spec/trace-format.md): entries by name, and
/// the records in file order with their descriptive comments.
struct Trace {
    struct RecordEntry {
        var name: String
        var bytes: [UInt8]
        var comment: String
        var side: String { String(name.prefix { $0 != "_" }) }
    }

    var values: [String: [UInt8]] = [:]
    var records: [RecordEntry] = []

    init(_ relative: String) throws {
        let text = try String(contentsOf: vectorURL(relative), encoding: .utf8)
        var lastComment = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(raw)
            if line.hasPrefix("#") { lastComment = line; continue }
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3, parts[2] == "=" else { throw VectorFileError.badLine(0, line) }
            let kind = String(parts[0]), name = String(parts[1])
            let hex = parts.count == 4 ? String(parts[3]) : ""
            let bytes = try parseHex(hex, context: name)
            guard values[name] == nil else { throw VectorFileError.badLine(0, "duplicate \(name)") }
            values[name] = bytes
            if kind == "record" { records.append(RecordEntry(name: name, bytes: bytes, comment: lastComment)) }
        }
    }

    func value(_ name: String) throws -> [UInt8] {
        guard let v = values[name] else { throw VectorFileError.missingKey(name, "trace") }
        return v
    }
}

/// What a record comment says: "# server_2: protected (server_handshake_write_key/iv,
/// seq 0), inner type handshake (22): encrypted_extensions, certificate, ..."
struct RecordDescription {
    var keyPrefix: String?     // "server_handshake" (nil = plaintext)
    var sequence: UInt64
    var type: ContentType
    var carried: [String]      // "encrypted_extensions", "param client_alert", "change_cipher_spec 01"

    init(_ comment: String) throws {
        guard let colon = comment.firstIndex(of: ":") else { throw VectorFileError.badLine(0, comment) }
        var rest = String(comment[comment.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("protected (") {
            let close = rest.firstIndex(of: ")")!
            let inside = rest[rest.index(rest.startIndex, offsetBy: "protected (".count)..<close]
            let fields = inside.components(separatedBy: ", seq ")
            keyPrefix = fields[0].replacingOccurrences(of: "_write_key/iv", with: "")
            sequence = UInt64(fields[1])!
            rest = String(rest[rest.index(after: close)...])
            rest = rest.replacingOccurrences(of: ", inner type ", with: "")
        } else {
            keyPrefix = nil
            sequence = 0
            rest = rest.replacingOccurrences(of: "plaintext ", with: "")
        }
        // "handshake (22): a, b"
        let open = rest.firstIndex(of: "(")!, close = rest.firstIndex(of: ")")!
        type = ContentType(rawValue: UInt8(rest[rest.index(after: open)..<close])!)!
        let list = rest[rest.index(close, offsetBy: 2)...].trimmingCharacters(in: .whitespaces)
        carried = list.components(separatedBy: ", ")
    }

    func content(in trace: Trace) throws -> [UInt8] {
        var out: [UInt8] = []
        for item in carried {
            if item.hasPrefix("param ") {
                out += try trace.value(String(item.dropFirst("param ".count)))
            } else if item == "change_cipher_spec 01" {
                out += [1]
            } else {
                out += try trace.value(item)
            }
        }
        return out
    }
}

func hex(_ s: String) -> [UInt8] { (try? parseHex(s)) ?? [] }

/// Asserts that `body` throws a RecordLayerError carrying `alert`.
func assertAlert<T>(_ alert: AlertDescription, kind: RecordLayerError.Kind? = nil, _ message: String = "",
                    file: StaticString = #filePath, line: UInt = #line,
                    _ body: () throws -> T) {
    do {
        let v = try body()
        XCTFail("expected \(alert.name), got \(v) \(message)", file: file, line: line)
    } catch let e as RecordLayerError {
        XCTAssertEqual(e.alert, alert, "\(e.reason) \(message)", file: file, line: line)
        if let kind { XCTAssertEqual(e.kind, kind, "\(e.reason) \(message)", file: file, line: line) }
    } catch {
        XCTFail("unexpected error type \(error) \(message)", file: file, line: line)
    }
}

/// A 5-byte header followed by `body`.
func plainRecord(_ type: UInt8, _ body: [UInt8], version: UInt16 = 0x0303) -> [UInt8] {
    [type, UInt8(version >> 8), UInt8(version & 0xff), UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body
}

/// Independent TLS 1.3 sealing straight over AEADKey, for hand-made inner plaintexts.
func seal13(_ algorithm: AEADAlgorithm, key: [UInt8], iv: [UInt8], seq: UInt64, inner: [UInt8],
            outerType: UInt8 = 23, lengthOverride: Int? = nil) throws -> [UInt8] {
    let length = lengthOverride ?? (inner.count + 16)
    let header: [UInt8] = [outerType, 3, 3, UInt8(length >> 8), UInt8(length & 0xff)]
    var nonce = iv
    for i in 0..<8 { nonce[4 + i] ^= UInt8(truncatingIfNeeded: seq >> UInt64(56 - 8 * i)) }
    let sealed = try AEADKey(algorithm, key: key).seal(nonce: nonce, aad: header, plaintext: inner)
    return header + sealed
}

let testKey16: [UInt8] = Array(0..<16)
let testKey32: [UInt8] = Array(0..<32)
let testIV12: [UInt8] = Array(100..<112)

func key(for a: AEADAlgorithm) -> [UInt8] { a.keyLength == 16 ? testKey16 : testKey32 }

/// A writer and a reader sharing one key (two RecordCipher objects, as two
/// endpoints would have).
func pair13(_ a: AEADAlgorithm = .aes128GCM, limits: RecordLimits = RecordLimits()) throws -> (RecordWriter, RecordReader) {
    var w = RecordWriter()
    w.setCipher(try RecordCipher.tls13(a, key: key(for: a), iv: testIV12), version: .tls13)
    var r = RecordReader(limits: limits)
    r.setCipher(try RecordCipher.tls13(a, key: key(for: a), iv: testIV12), version: .tls13)
    return (w, r)
}

func pair12(_ a: AEADAlgorithm, limits: RecordLimits = RecordLimits()) throws -> (RecordWriter, RecordReader) {
    let iv = a == .chacha20Poly1305 ? testIV12 : Array(testIV12.prefix(4))
    var w = RecordWriter()
    w.setCipher(try RecordCipher.tls12(a, key: key(for: a), fixedIV: iv), version: .tls12)
    var r = RecordReader(limits: limits)
    r.setCipher(try RecordCipher.tls12(a, key: key(for: a), fixedIV: iv), version: .tls12)
    return (w, r)
}

extension RecordReader {
    /// All records currently available, with their fragments copied out.
    mutating func drain() throws -> [(ContentType, [UInt8])] {
        var out: [(ContentType, [UInt8])] = []
        while let r = try nextRecord() { out.append((r.contentType, Array(r.fragment))) }
        return out
    }
}
