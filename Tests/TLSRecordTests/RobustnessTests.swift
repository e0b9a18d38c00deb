import XCTest
import TLSCrypto
@testable import TLSRecord

/// Random and mutated input must never trap; whatever is delivered respects
/// the limits, and errors are sticky.
final class RobustnessTests: XCTestCase {
    struct XorShift {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
        mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    }

    /// Valid traffic to mutate: several record kinds under one state.
    func corpus(_ make: () throws -> (RecordWriter, RecordReader)) throws -> [UInt8] {
        var (w, _) = try make()
        var out: [UInt8] = []
        try w.write(.handshake, HandshakeMessage(.finished, body: [UInt8](repeating: 3, count: 40)).raw
                    + HandshakeMessage(.certificate, body: [UInt8](repeating: 4, count: 300)).raw, into: &out)
        if w.cipher != nil { try w.write(.applicationData, [1, 2, 3], into: &out) }
        try w.write(.alert, [1, 0], into: &out)
        return out
    }

    func testMutatedRecordsNeverTrap() throws {
        var rng = XorShift(state: 0x9e3779b97f4a7c15)
        let makers: [() throws -> (RecordWriter, RecordReader)] = [
            { (RecordWriter(), RecordReader()) },
            { try pair13() },
            { try pair12(.aes128GCM) },
            { try pair12(.chacha20Poly1305) },
        ]
        var delivered = 0, failures = 0
        for make in makers {
            let base = try corpus(make)
            for _ in 0..<1500 {
                var input = base
                switch rng.below(4) {
                case 0:  // flip a few bytes
                    for _ in 0...rng.below(3) { let i = rng.below(input.count); input[i] ^= rng.byte() | 1 }
                case 1:  // truncate
                    input.removeLast(rng.below(input.count))
                case 2:  // random garbage after a valid prefix
                    input = Array(input.prefix(rng.below(input.count))) + (0..<rng.below(64)).map { _ in rng.byte() }
                default:  // rewrite a length field
                    let i = 3 + 5 * rng.below(3)
                    if i + 1 < input.count { input[i] = rng.byte(); input[i + 1] = rng.byte() }
                }
                var (_, r) = try make()
                var h = HandshakeReassembler(maxMessageSize: 1000)
                var offset = 0
                var failed: RecordLayerError? = nil
                while offset < input.count && failed == nil {
                    let n = 1 + rng.below(200)
                    r.feed(Array(input[offset..<min(input.count, offset + n)]))
                    offset += n
                    do {
                        while let rec = try r.nextRecord() {
                            delivered += 1
                            XCTAssertLessThanOrEqual(rec.fragment.count, 16384)
                            if rec.contentType == .alert { XCTAssertEqual(rec.fragment.count, 2) }
                            if rec.contentType == .handshake {
                                XCTAssertFalse(rec.fragment.isEmpty)
                                try h.feed(rec.fragment)
                                while let m = try h.nextMessage() {
                                    XCTAssertEqual(m.raw.count, m.body.count + 4)
                                    XCTAssertLessThanOrEqual(m.body.count, 1000)
                                }
                            }
                        }
                    } catch {
                        // (`catch let e as RecordLayerError` here crashes swift-frontend
                        // 6.3.1 with "Found ownership error": the do block's errors are
                        // already typed RecordLayerError.)
                        failed = error
                    }
                }
                if let failed {
                    failures += 1
                    // Sticky: the same error again, whatever else arrives.
                    r.feed(base)
                    if r.error != nil {
                        XCTAssertThrowsError(try r.nextRecord()) { XCTAssertEqual($0 as? RecordLayerError, failed) }
                    }
                }
            }
        }
        XCTAssertGreaterThan(delivered, 1000)
        XCTAssertGreaterThan(failures, 1000)
    }

    func testRandomBytesNeverTrap() throws {
        var rng = XorShift(state: 42)
        for _ in 0..<3000 {
            var r = RecordReader()
            if rng.below(2) == 0 { r.setCipher(try .tls13(.chacha20Poly1305, key: testKey32, iv: testIV12), version: .tls13) }
            // Mostly valid-looking headers so the body paths are reached.
            var input: [UInt8] = [UInt8(20 + rng.below(5)), 3, UInt8(rng.below(5)), UInt8(rng.below(2)), rng.byte()]
            input += (0..<rng.below(400)).map { _ in rng.byte() }
            r.feed(input)
            _ = try? r.nextRecord()
            _ = try? Alert(bytes: input.prefix(rng.below(4)))
            var h = HandshakeReassembler()
            _ = try? h.feed(input)
            _ = try? h.nextMessage()
        }
    }
}
