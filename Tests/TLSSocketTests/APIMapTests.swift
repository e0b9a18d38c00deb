import XCTest
import Foundation

/// Holds `Spec/api-map.md` to the tests: every row names tests that exist,
/// and every call, option, constant and error of the three pages has a row.
final class APIMapTests: XCTestCase {
    private var testsDirectory: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent() }
    private var mapPath: String { testsDirectory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Spec/api-map.md").path }

    /// Test functions of each XCTestCase class in this directory.
    private func testFunctions() throws -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        let files = try FileManager.default.contentsOfDirectory(atPath: testsDirectory.path).filter { $0.hasSuffix(".swift") }
        let classPattern = try NSRegularExpression(pattern: #"^\s*(?:final\s+)?class\s+(\w+)\s*:\s*XCTestCase"#)
        let funcPattern = try NSRegularExpression(pattern: #"^\s*func\s+(test\w+)\s*\("#)
        for file in files {
            let text = try String(contentsOf: testsDirectory.appendingPathComponent(file), encoding: .utf8)
            var current: String?
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
                let range = NSRange(line.startIndex..., in: line)
                if let m = classPattern.firstMatch(in: line, range: range), let r = Range(m.range(at: 1), in: line) {
                    current = String(line[r])
                } else if let m = funcPattern.firstMatch(in: line, range: range), let r = Range(m.range(at: 1), in: line), let c = current {
                    out[c, default: []].insert(String(line[r]))
                }
            }
        }
        return out
    }

    /// (seed cell, tests cell) for each table row that is not a heading.
    private func rows() throws -> [(seed: String, tests: String)] {
        let text = try String(contentsOfFile: mapPath, encoding: .utf8)
        var out: [(String, String)] = []
        for line in text.split(separator: "\n").map(String.init) where line.hasPrefix("|") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { continue }
            let (seed, swift, tests) = (cells[1], cells[2], cells[3])
            if seed == "seed" || seed.hasPrefix("---") { continue }
            if swift.isEmpty && tests.isEmpty && seed.hasPrefix("**") { continue }  // section heading
            out.append((seed, tests))
        }
        return out
    }

    func testEveryRowNamesExistingTests() throws {
        let functions = try testFunctions()
        let rows = try rows()
        XCTAssertGreaterThan(rows.count, 150)
        let named = try NSRegularExpression(pattern: #"`(\w+)\.(test\w+)`"#)
        var mentioned = 0
        for row in rows {
            let matches = named.matches(in: row.tests, range: NSRange(row.tests.startIndex..., in: row.tests))
            XCTAssertFalse(matches.isEmpty, "row \(row.seed) names no test")
            for m in matches {
                let cls = String(row.tests[Range(m.range(at: 1), in: row.tests)!])
                let fn = String(row.tests[Range(m.range(at: 2), in: row.tests)!])
                XCTAssertTrue(functions[cls]?.contains(fn) ?? false, "row \(row.seed): \(cls).\(fn) does not exist")
                mentioned += 1
            }
        }
        XCTAssertGreaterThan(mentioned, rows.count)
    }

    /// The names on the three pages, each of which must appear in the seed column.
    static let seedNames: [String] = [
        // NSS SSLSocket and what it inherits from io.Socket
        "SSLSocket(family=PR_AF_INET, type=PR_DESC_SOCKET_TCP)", "PR_AF_INET", "PR_AF_INET6", "PR_AF_LOCAL", "PR_DESC_SOCKET_TCP",
        "PR_DESC_SOCKET_UDP", "accept(timeout=PR_INTERVAL_NO_TIMEOUT)", "config_secure_server(cert, key, kea)", "data_pending()",
        "force_handshake()", "force_handshake_timeout(timeout)", "get_certificate()", "get_cipher_pref(cipher)", "get_hostname()",
        "get_peer_certificate()", "get_pkcs11_pin_arg()", "get_security_status()", "get_session_id()", "get_ssl_option(value)",
        "invalidate_session()", "rehandshake(flush_cache)", "rehandshake_timeout(flush_cache, timeout)", "reset_handshake(as_server)",
        "set_auth_certificate_callback(callback, ...)", "set_certificate_db(certdb)", "set_cipher_pref(cipher, enabled)",
        "set_client_auth_data_callback(callback, ...)", "set_handshake_callback(callback, ...)", "set_hostname(url)",
        "set_pkcs11_pin_arg(user_dataN...)", "set_sock_peer_id(id)", "set_ssl_option(option, value)", "import_tcp_socket(osfd)",
        "set_bad_cert_callback(callback, ...)", "SSL_SECURITY_STATUS_OFF", "PR_IO_TIMEOUT_ERROR", "ssl_kea_rsa",
        "__iter__", "__repr__", "accept_read(amount, timeout)", "bind(addr)", "close()", "connect(addr, timeout)", "fileno()",
        "get_peer_name()", "get_sock_name()", "get_socket_option(option)", "listen(backlog=5)", "makefile(mode, buffersize)",
        "read(size=-1)", "readline(size=-1)", "readlines(sizehint)", "recv(amount, timeout)", "recv_from(amount, timeout)",
        "send(data, timeout)", "send_to(data, addr, timeout)", "sendall(data, timeout)", "set_socket_option(option, value)",
        "shutdown(how)", "new_tcp_pair()", "poll(poll_descs, timeout)", "desc_type", "family", "netaddr",
        "SSL_SECURITY", "SSL_REQUEST_CERTIFICATE", "SSL_REQUIRE_CERTIFICATE", "SSL_HANDSHAKE_AS_CLIENT", "SSL_HANDSHAKE_AS_SERVER",
        "SSL_ENABLE_FDX", "SSL_ENABLE_SSL3", "SSL_ENABLE_SSL2", "SSL_ENABLE_TLS", "SSL_V2_COMPATIBLE_HELLO", "SSL_NO_CACHE",
        "SSL_ROLLBACK_DETECTION", "SSL_REQUIRE_NEVER", "SSL_RSA_WITH_NULL_MD5",
        // pyOpenSSL
        "SSLv2_METHOD", "SSLv3_METHOD", "SSLv23_METHOD", "TLSv1_METHOD", "VERIFY_NONE", "VERIFY_PEER", "VERIFY_FAIL_IF_NO_PEER_CERT",
        "FILETYPE_PEM", "FILETYPE_ASN1", "OP_SINGLE_DH_USE", "OP_EPHEMERAL_RSA", "OP_NO_SSLv2", "OP_NO_SSLv3", "OP_NO_TLSv1",
        "ContextType", "Context(method)", "ConnectionType", "Connection(context, socket)", "exception Error", "exception ZeroReturnError",
        "exception WantReadError", "exception WantWriteError", "exception WantX509LookupError", "exception SysCallError",
        // Python wrap_socket
        "ssl.wrap_socket(sock, ...)", "keyfile=None", "certfile=None", "server_side=False", "cert_reqs=CERT_NONE", "CERT_NONE",
        "CERT_OPTIONAL", "CERT_REQUIRED", "ca_certs=None", "ssl_version={see docs}", "PROTOCOL_SSLv2", "PROTOCOL_SSLv23",
        "PROTOCOL_TLSv1", "PROTOCOL_TLSv1_2", "do_handshake_on_connect=True", "SSLSocket.do_handshake()", "suppress_ragged_eofs=True",
        "ciphers=None",
    ]

    func testEveryNameOfThePagesHasARow() throws {
        let seeds = try rows().map(\.seed).joined(separator: "\n")
        for name in Self.seedNames {
            XCTAssertTrue(seeds.contains("`\(name)`"), "no row for \(name)")
        }
    }
}
