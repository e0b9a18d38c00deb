import XCTest
import TestSupport
import TLSCrypto
import TLSRecord
@testable import TLSHandshake

/// takeOutput(into:), receive(taking:) and read(into:): the allocation-free data path.
final class ZeroCopyIOTests: XCTestCase {
    func testSwappedBuffersCarryDataBothWays() throws {
        for version in [ProtocolVersion.tls13, .tls12] {
            var (c, s) = baseConfigs()
            c.minVersion = version; c.maxVersion = version
            s.minVersion = version; s.maxVersion = version
            let pair = Pair(client: c, server: s, seed: "zc\(version)")
            try pair.pump()
            var wire: [UInt8] = []
            var sink = [UInt8](repeating: 0, count: 40_000)
            for (from, to) in [(pair.client, pair.server), (pair.server, pair.client)] {
                let data = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
                try from.write(data)
                from.takeOutput(into: &wire)
                XCTAssertFalse(from.hasOutput)
                // Split across two receives: the second appends to a partial record.
                var first = Array(wire[..<1000]), second = Array(wire[1000...])
                try to.receive(taking: &first)
                XCTAssertTrue(first.isEmpty)
                try to.receive(taking: &second)
                XCTAssertTrue(second.isEmpty)
                var got = 0
                try sink.withUnsafeMutableBytes { raw in
                    while let n = to.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[got..<min(got + 7000, raw.count)])), n > 0 {
                        got += n
                    }
                    XCTAssertEqual(to.read(into: raw), 0, "nothing left")
                }
                XCTAssertEqual(got, data.count)
                XCTAssertEqual(sink, data, "\(version)")
            }
            // One record read partly, then more arrives before the rest is read:
            // the unread part must come first, through either read call.
            let a = [UInt8](repeating: 1, count: 10_000), b = [UInt8](repeating: 2, count: 3_000)
            try pair.client.write(a)
            pair.client.takeOutput(into: &wire)
            try pair.server.receive(taking: &wire)
            var head = [UInt8](repeating: 0, count: 4_000)
            XCTAssertEqual(head.withUnsafeMutableBytes { pair.server.read(into: $0) }, 4_000)
            XCTAssertEqual(pair.server.bufferedPlaintextCount, 6_000)
            try pair.client.write(b)
            try pair.server.receive(pair.client.takeOutput())
            XCTAssertEqual(pair.server.bufferedPlaintextCount, 9_000)
            XCTAssertEqual(pair.server.read(), [UInt8](repeating: 1, count: 6_000) + b)
            try pair.client.write(a)
            try pair.server.receive(pair.client.takeOutput())
            XCTAssertEqual(pair.server.read(maxLength: 3), [1, 1, 1])
            XCTAssertEqual(pair.server.read(), [UInt8](repeating: 1, count: 9_997))
            // After close_notify, read(into:) says nil.
            pair.client.close()
            pair.client.takeOutput(into: &wire)
            try pair.server.receive(taking: &wire)
            try sink.withUnsafeMutableBytes { XCTAssertNil(pair.server.read(into: $0)) }
        }
    }
}
