#if canImport(Glibc)
import Glibc
#endif
import CLibFuzzer
import TLSCrypto
import TLSRecord
import TLSHandshake

/// Measures the heap one connection holds while a hostile peer feeds it: the
/// heap in use (glibc `mallinfo2().uordblks`) after each chunk, minus the
/// heap in use before the connection existed. Chunks are at most 16 KiB, as
/// a socket read would deliver them, and the application reads all plaintext
/// after each chunk (as `TLSStream` does).
public enum MemoryProbe {
    public struct Result {
        public var scenario: String
        public var peakBytes: Int
        /// Heap still in use after the connection was released (should be ~0).
        public var retainedBytes: Int
        public var finalStatus: String
    }

    static func heapInUse() -> Int { Int(tls_fuzz_heap_in_use()) }

    /// Runs one scenario on a fresh connection.
    public static func measure(_ scenario: String, role: TLSConnection.Role = .server, chunks: () -> AnyIterator<[UInt8]>) -> Result {
        let feed = chunks()
        return measure(scenario, role: role) { _ in feed.next() }
    }

    /// `next` gets what the connection last sent and returns the next chunk it receives (nil: done).
    public static func measure(_ scenario: String, role: TLSConnection.Role = .server, next: ([UInt8]) -> [UInt8]?) -> Result {
        let before = heapInUse()
        var peak = 0
        var status = ""
        do {
            let conn = role == .server ? FuzzPeers.server() : FuzzPeers.client()
            if role == .client { _ = try? conn.start(); _ = conn.takeOutput() }
            var output = conn.takeOutput()
            while let chunk = next(output) {
                let failed = (try? conn.receive(chunk)) == nil
                output = conn.takeOutput()
                while let p = conn.read(), !p.isEmpty {}
                peak = max(peak, heapInUse() - before)
                if failed { break }
            }
            status = "\(conn.status)" + (conn.failure.map { ": \($0)" } ?? "")
        }
        return Result(scenario: scenario, peakBytes: peak, retainedBytes: heapInUse() - before, finalStatus: status)
    }

    static func records(_ type: UInt8, _ fragments: [[UInt8]], version: [UInt8] = [3, 3]) -> [UInt8] {
        fragments.flatMap { f in [type] + version + [UInt8(f.count >> 8), UInt8(f.count & 0xff)] + f }
    }

    /// Splits a byte stream into socket-sized chunks.
    static func chunked(_ bytes: [UInt8], _ size: Int = 16384) -> AnyIterator<[UInt8]> {
        var offset = 0
        return AnyIterator {
            guard offset < bytes.count else { return nil }
            let end = min(bytes.count, offset + size)
            defer { offset = end }
            return Array(bytes[offset..<end])
        }
    }

    /// The adversarial scenarios, plus every stream in `seeds` (recorded or
    /// fuzzer-found inputs for the server and client targets).
    /// Every scenario runs twice; the first pass warms up what a process keeps
    /// once (credentials, caches), the second is the one reported.
    public static func run(serverSeeds: [[UInt8]] = [], clientSeeds: [[UInt8]] = []) -> [Result] {
        _ = pass(serverSeeds: serverSeeds, clientSeeds: clientSeeds)
        return pass(serverSeeds: serverSeeds, clientSeeds: clientSeeds)
    }

    static func pass(serverSeeds: [[UInt8]], clientSeeds: [[UInt8]]) -> [Result] {
        var results: [Result] = []
        // A ClientHello announcing the largest allowed body (64 KiB), sent in full-size
        // records but never finished: the reassembler holds what arrived.
        let header: [UInt8] = [1, 0x01, 0x00, 0x00]  // 65536
        let body = [UInt8](repeating: 0x41, count: 65536 - 1)
        let fragments = stride(from: 0, to: header.count + body.count, by: 16384).map { i -> [UInt8] in
            let all = header + body
            return Array(all[i..<min(all.count, i + 16384)])
        }
        results.append(measure("unfinished 64 KiB ClientHello in 16 KiB records") { chunked(records(22, fragments, version: [3, 1])) })
        // The same, one byte per record (5 bytes of header per byte: the reader's overhead).
        let tiny = (header + body.prefix(20000)).map { [$0] }
        results.append(measure("ClientHello one byte per record") { chunked(records(22, tiny, version: [3, 1])) })
        // A record header announcing the largest ciphertext, never completed.
        results.append(measure("unfinished 16 KiB + 2048 record") { chunked([22, 3, 3, 0x48, 0x00] + [UInt8](repeating: 0, count: 16384 + 2047)) })
        // One byte at a time (every receive call buffers and re-parses).
        let hello = records(22, [header + body.prefix(3000)], version: [3, 1])
        results.append(measure("bytes fed one at a time") { chunked(hello, 1) })
        // Alerts, empty records and CCS floods before the handshake.
        results.append(measure("change_cipher_spec flood") { chunked(records(20, [[UInt8]](repeating: [1], count: 5000))) })
        results.append(measure("warning alert flood") { chunked(records(21, [[UInt8]](repeating: [1, 90], count: 5000))) })
        // Recorded and fuzzer-found streams.
        for (i, s) in serverSeeds.enumerated() { results.append(measure("server seed \(i) (\(s.count) bytes)") { chunked(s) }) }
        for (i, s) in clientSeeds.enumerated() { results.append(measure("client seed \(i) (\(s.count) bytes)", role: .client) { chunked(s) }) }
        // A real client (in memory) that completes the handshake, then sends 4 MiB of
        // application data in 16 KiB writes with a KeyUpdate every 64 KiB.
        let client = FuzzPeers.client()
        _ = try? client.start()
        var sent = 0
        results.append(measure("handshake, then 4 MiB of data with KeyUpdates") { serverOutput in
            if !serverOutput.isEmpty { _ = try? client.receive(serverOutput) }
            while let p = client.read(), !p.isEmpty {}
            if client.status == .established {
                guard sent < 4 << 20 else { return nil }
                if sent % 65536 == 0 && sent > 0 { try? client.updateKeys(requestPeerUpdate: false) }
                try? client.write([UInt8](repeating: UInt8(truncatingIfNeeded: sent), count: 16384))
                sent += 16384
            }
            let out = client.takeOutput()
            return out.isEmpty ? nil : out
        })
        return results
    }
}
