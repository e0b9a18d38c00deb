import XCTest
import Foundation
import X509
@testable import TLSSocket

/// The async API: handshake, read, write, close with Swift concurrency.
final class AsyncTests: XCTestCase {
    func testAsyncClientAndServer() async throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let asyncListener = AsyncSSLListener(listener)
        async let served: String = {
            let (conn, _) = try await asyncListener.accept(timeout: .seconds(20))
            try await conn.handshake(timeout: .seconds(20))
            var got: [UInt8] = []
            while !got.contains(0x0a) { got += try await conn.read(timeout: .seconds(20)) }
            try await conn.write(got.reversed().dropFirst() + [0x0a])
            let end = try await conn.read(timeout: .seconds(20))
            await conn.close()
            return got.text + (end.isEmpty ? "<eof>" : "<more>")
        }()
        let client = try await AsyncSSLSocket.connect(to: address, timeout: .seconds(10)) { s in
            s.setTrustAnchors(Fixtures.shared.trustStore)
            s.setHostname("localhost")
        }
        XCTAssertEqual(client.socket.version(), "TLSv1.3")
        try await client.write("stressed\n".bytes)
        var reply: [UInt8] = []
        while !reply.contains(0x0a) { reply += try await client.read(timeout: .seconds(10)) }
        XCTAssertEqual(reply.text, "desserts\n")
        await client.close()
        let s = try await served
        XCTAssertEqual(s, "stressed\n<eof>")
    }

    func testAsyncReadCancellationLeavesTheConnectionUsable() async throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let go = DispatchSemaphore(value: 0)
        let server = Background {
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.forceHandshake(timeout: .seconds(20))
            go.wait()
            try c.sendall("still here\n")
            _ = try c.recv(1, timeout: .seconds(10))
        }
        let client = try await AsyncSSLSocket.connect(to: address, timeout: .seconds(10)) { s in
            s.setTrustAnchors(Fixtures.shared.trustStore)
            s.setHostname("localhost")
        }
        let reader = Task { try await client.read() }
        try await Task.sleep(for: .milliseconds(200))
        reader.cancel()
        do {
            _ = try await reader.value
            XCTFail("a cancelled read returned")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        go.signal()
        let line = try await client.read(timeout: .seconds(10))
        XCTAssertEqual(line.text, "still here\n")
        try await client.write("x".bytes)
        await client.close()
        try server.value()
    }

    func testAsyncTimeoutIsATimeoutError() async throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = serveEcho(listener)
        let client = try await AsyncSSLSocket.connect(to: address, timeout: .seconds(10)) { s in
            s.setTrustAnchors(Fixtures.shared.trustStore)
            s.setHostname("localhost")
        }
        let start = ContinuousClock.now
        do {
            _ = try await client.read(timeout: .milliseconds(250))
            XCTFail("read returned")
        } catch {
            XCTAssertTrue(error is TimeoutError, "\(error)")
        }
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(240))
        await client.close()
        try server.value()
    }
}
