import XCTest
import Foundation
import TLSHandshake
import X509
@testable import TLSSocket

/// NSS `rehandshake` / `force_handshake` after the first handshake, and SSL_ENABLE_FDX under load.
final class RehandshakeAndFDXTests: XCTestCase {
    func testClientRenegotiatesInTLS12() throws {
        let (listener, address) = try makeServer { l in try l.setVersionRange(min: .tls12, max: .tls12) }
        defer { listener.close() }
        let serverHandshakes = LockedCounter()
        listener.setHandshakeCallback { _ in serverHandshakes.increment() }
        let server = serveEcho(listener)
        let handshakes = LockedCounter()
        let client = try makeClient { c in c.setHandshakeCallback { _ in handshakes.increment() } }
        defer { client.close() }
        XCTAssertThrowsError(try client.rehandshake(flushCache: false)) { e in XCTAssertEqual((e as? SSLError)?.code, .noHandshakeRole) }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertThrowsError(try client.rehandshake(flushCache: false)) { e in XCTAssertEqual((e as? SSLError)?.code, .notConnected) }
        try client.sendall("before\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "before\n")
        XCTAssertEqual(handshakes.value, 1)
        let keyBefore = try client.exportKeyingMaterial(label: "EXPORTER-x", length: 16)

        try client.rehandshake(flushCache: true, timeout: .seconds(10))
        XCTAssertTrue(client.isSessionInvalidated)
        XCTAssertTrue(client.currentChannel!.isRenegotiating)
        try client.forceHandshake(timeout: .seconds(10))
        XCTAssertFalse(client.currentChannel!.isRenegotiating)
        XCTAssertEqual(handshakes.value, 2)
        XCTAssertNotEqual(try client.exportKeyingMaterial(label: "EXPORTER-x", length: 16), keyBefore)

        try client.sendall("after\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "after\n")
        client.close()
        try server.value()
        XCTAssertEqual(serverHandshakes.value, 2)
    }

    func testServerRenegotiatesInTLS12WhileTheClientReads() throws {
        let (listener, address) = try makeServer { l in try l.setVersionRange(min: .tls12, max: .tls12) }
        defer { listener.close() }
        let server = Background { () -> Int in
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            let count = LockedCounter()
            c.setHandshakeCallback { _ in count.increment() }
            try c.forceHandshake(timeout: .seconds(20))
            try c.rehandshake(flushCache: false, timeout: .seconds(10))
            try c.forceHandshake(timeout: .seconds(20))
            try c.sendall("renegotiated\n")
            _ = try c.recv(1, timeout: .seconds(10))
            return count.value
        }
        let handshakes = LockedCounter()
        let client = try makeClient { c in c.setHandshakeCallback { _ in handshakes.increment() } }
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "renegotiated\n")
        XCTAssertEqual(handshakes.value, 2)
        try client.sendall("x")
        XCTAssertEqual(try server.value(), 2)
    }

    func testRehandshakeInTLS13IsAKeyUpdateBothWays() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = serveEcho(listener)
        let client = try makeClient()
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        try client.sendall("one\n")
        XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "one\n")
        let ch = try XCTUnwrap(client.currentChannel)
        XCTAssertEqual(ch.withEngine { _ in ch.keyUpdatesSent }, 0)
        for round in 1...3 {
            try client.rehandshake(flushCache: false)
            try client.forceHandshake(timeout: .seconds(5))   // nothing to wait for in TLS 1.3
            try client.sendall("round \(round)\n")
            XCTAssertEqual(try client.readline(timeout: .seconds(10)).text, "round \(round)\n")
            XCTAssertEqual(ch.withEngine { _ in ch.keyUpdatesSent }, round)
            XCTAssertEqual(ch.withEngine { _ in ch.keyUpdatesReceived }, round, "the server answered update_requested")
        }
        XCTAssertEqual(client.version(), "TLSv1.3")
        client.close()
        try server.value()
    }

    func testTLS13ServerRequestsACertificateAfterTheHandshake() throws {
        let f = Fixtures.shared
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = Background { () -> String? in
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.forceHandshake(timeout: .seconds(20))
            XCTAssertNil(c.getPeerCertificate(), "no client certificate in the handshake itself")
            try c.setOption(.requestCertificate, true)
            try c.rehandshake(flushCache: false)          // TLS 1.3: post-handshake authentication
            try c.sendall("asked\n")
            XCTAssertEqual(try c.readline(timeout: .seconds(20)).text, "answered\n")
            return c.getPeerCertificate()?.subject.rfc4514String
        }
        let client = try makeClient { c in
            try c.setCertificateDB(f.database(withClient: true))
            c.setClientAuthDataCallback(SSLSocket.databaseClientAuthData(try f.database(withClient: true), nickname: "client"))
        }
        defer { client.close() }
        try client.connect(address, timeout: .seconds(10))
        try client.forceHandshake(timeout: .seconds(10))
        XCTAssertEqual(try client.readline(timeout: .seconds(20)).text, "asked\n")   // reading answers the request
        try client.sendall("answered\n")
        XCTAssertEqual(try server.value(), f.clientCertificate.subject.rfc4514String)
    }

    /// One thread writes while another reads on the same socket, for megabytes,
    /// with KeyUpdates (TLS 1.3) from a third thread; the echo must come back intact.
    private func fullDuplexRun(version: TLSProtocolVersion, megabytes: Int, keyUpdates: Bool) throws {
        let (listener, address) = try makeServer { l in try l.setVersionRange(min: version, max: version) }
        defer { listener.close() }
        let server = Background {
            let (c, _) = try listener.accept(timeout: .seconds(20))
            defer { c.close() }
            try c.setOption(.enableFDX, true)
            // Full duplex on the server too: a reader thread feeds a writer thread.
            let queue = BlockingQueue()
            let writer = Background {
                while let chunk = queue.pop() { try c.sendall(chunk, timeout: .seconds(60)) }
                try c.shutdown(.send)
            }
            while true {
                let data = try c.recv(32768, timeout: .seconds(60))
                if data.isEmpty { break }
                queue.push(data)
            }
            queue.close()
            try writer.value(timeout: 120)
        }
        let client = try makeClient { c in try c.setVersionRange(min: version, max: version) }
        defer { client.close() }
        try client.setOption(.enableFDX, true)
        XCTAssertTrue(client.getOption(.enableFDX))
        try client.connect(address, timeout: .seconds(10))
        try client.forceHandshake(timeout: .seconds(10))

        let total = megabytes << 20
        func pattern(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: (i &* 2654435761) >> 13) }
        let stop = LockedFlag()
        var updater: Background<Int>? = nil
        let writer = Background {
            var sent = 0
            var rng = SystemRandomNumberGenerator()
            while sent < total {
                // Stop the KeyUpdates before the last stretch, so that every reply to
                // them is read before we close (see the engine note in the report:
                // close() wipes the secrets a later KeyUpdate would need).
                if sent > total * 9 / 10 && !stop.isSet {
                    stop.set()
                    _ = try updater?.value(timeout: 60)
                }
                let n = Swift.min(total - sent, Int.random(in: 1...70_000, using: &rng))
                try client.sendall((sent..<(sent + n)).map(pattern), timeout: .seconds(60))
                sent += n
            }
        }
        updater = Background { () -> Int in
            var n = 0
            while keyUpdates && !stop.isSet {
                try client.rehandshake(flushCache: false)
                n += 1
                Thread.sleep(forTimeInterval: 0.005)
            }
            return n
        }
        var received = 0
        var mismatch: Int? = nil
        while received < total {
            let data = try client.recv(65536, timeout: .seconds(60))
            if data.isEmpty { break }
            for (k, b) in data.enumerated() where mismatch == nil && b != pattern(received + k) { mismatch = received + k }
            received += data.count
        }
        stop.set()
        try writer.value(timeout: 120)
        let updates = try updater!.value()
        try client.shutdown(.send)
        XCTAssertEqual(try client.recv(10, timeout: .seconds(30)), [])
        try server.value(timeout: 120)
        XCTAssertEqual(received, total)
        XCTAssertNil(mismatch, "first bad byte at \(mismatch ?? -1)")
        if keyUpdates {
            XCTAssertGreaterThan(updates, 0)
            let ch = client.currentChannel!
            XCTAssertEqual(ch.withEngine { _ in ch.keyUpdatesSent }, updates)
        }
    }

    func testFullDuplexUnderLoadTLS13WithKeyUpdates() throws {
        try fullDuplexRun(version: .tls13, megabytes: 8, keyUpdates: true)
    }

    func testFullDuplexUnderLoadTLS12() throws {
        try fullDuplexRun(version: .tls12, megabytes: 8, keyUpdates: false)
    }
}

/// A queue of byte chunks between two threads.
final class BlockingQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [[UInt8]] = []
    private var closed = false
    func push(_ item: [UInt8]) { condition.lock(); items.append(item); condition.signal(); condition.unlock() }
    func close() { condition.lock(); closed = true; condition.broadcast(); condition.unlock() }
    func pop() -> [UInt8]? {
        condition.lock(); defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        return items.isEmpty ? nil : items.removeFirst()
    }
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var isSet: Bool { lock.withLock { flag } }
}
