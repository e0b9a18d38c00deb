import XCTest
import TLSFuzz

/// A connection's buffers stay bounded under hostile input: the heap one
/// connection holds (glibc mallinfo2) peaks at what the limits allow (a 64 KiB
/// handshake message being reassembled, one record being read) and comes back
/// once the connection is gone.
final class MemoryTests: XCTestCase {
    func testPeakHeapPerConnectionIsBounded() {
        let results = MemoryProbe.run()
        for r in results {
            XCTAssertLessThan(r.peakBytes, 256 * 1024, "\(r.scenario): peak \(r.peakBytes) bytes [\(r.finalStatus)]")
            if !r.scenario.contains("4 MiB") {  // that one keeps its in-memory client alive
                XCTAssertLessThan(r.retainedBytes, 8 * 1024, "\(r.scenario): \(r.retainedBytes) bytes retained")
            }
        }
        let data = results.first { $0.scenario.contains("4 MiB") }
        XCTAssertEqual(data?.finalStatus, "established", "the data scenario ran to the end")
    }
}
