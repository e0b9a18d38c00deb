import XCTest
import X509
@testable import TLSSocket

final class SmokeTests: XCTestCase {
    func testEchoOverTLS13() throws {
        let (listener, address) = try makeServer()
        defer { listener.close() }
        let server = serveEcho(listener)
        let client = try makeClient()
        try client.connect(address, timeout: .seconds(10))
        try client.sendall("hello\n")
        XCTAssertEqual(try client.readline().text, "hello\n")
        XCTAssertEqual(client.version(), "TLSv1.3")
        client.close()
        try server.value()
    }
}
