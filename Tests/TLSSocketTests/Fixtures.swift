import Foundation
import XCTest
import TLSCrypto
import TLSHandshake
import X509
@testable import TLSSocket

/// Certificates and keys made once per test run with the openssl command:
/// a root CA, an intermediate CA, ECDSA and RSA server certificates for
/// localhost/127.0.0.1/::1 (leaf + intermediate chains), a client certificate,
/// an expired server certificate and one from an untrusted CA, plus DER,
/// combined and encrypted variants.
final class Fixtures {
    static let shared: Fixtures = {
        do { return try Fixtures() } catch { fatalError("cannot make test fixtures: \(error)") }
    }()

    /// Everything the tests write goes under here; removed when the test process exits.
    let dir: String
    nonisolated(unsafe) static var cleanupPath: String?
    func path(_ name: String) -> String { dir + "/" + name }

    /// A fresh path under `dir` for a scratch file or directory.
    func scratch(_ prefix: String, _ suffix: String = "") -> String {
        dir + "/\(prefix)-\(UInt32.random(in: 0...UInt32.max))\(suffix)"
    }

    let caCertificate: Certificate
    let serverCertificate: Certificate
    let serverKey: PrivateKey
    let serverChain: [Certificate]
    let rsaServerCertificate: Certificate
    let rsaServerKey: PrivateKey
    let clientCertificate: Certificate
    let clientKey: PrivateKey
    let expiredCertificate: Certificate
    let expiredKey: PrivateKey
    let untrustedCertificate: Certificate
    let untrustedKey: PrivateKey
    let trustStore: TrustStore
    static let keyPassword = "fixture-password"

    private init() throws {
        let dir = NSTemporaryDirectory() + "tlssocket-fixtures-\(getpid())"
        self.dir = dir
        Fixtures.cleanupPath = dir
        atexit { if let d = Fixtures.cleanupPath { try? FileManager.default.removeItem(atPath: d) } }
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = #"""
        set -e
        cd "$1"
        cat > ext.cnf <<'X'
        [ca]
        basicConstraints=critical,CA:TRUE
        keyUsage=critical,keyCertSign,cRLSign
        subjectKeyIdentifier=hash
        [inter]
        basicConstraints=critical,CA:TRUE,pathlen:0
        keyUsage=critical,keyCertSign,cRLSign
        subjectKeyIdentifier=hash
        authorityKeyIdentifier=keyid
        [server]
        basicConstraints=critical,CA:FALSE
        keyUsage=critical,digitalSignature,keyEncipherment
        extendedKeyUsage=serverAuth
        subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
        authorityKeyIdentifier=keyid
        [client]
        basicConstraints=critical,CA:FALSE
        keyUsage=critical,digitalSignature
        extendedKeyUsage=clientAuth
        authorityKeyIdentifier=keyid
        X
        ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
        ec ca.key; ec inter.key; ec server.key; ec client.key; ec expired.key; ec other-ca.key; ec untrusted.key
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server-rsa.key 2>/dev/null
        openssl req -new -x509 -key ca.key -subj "/O=SwiftTLS Tests/CN=Test Root CA" -days 3650 -sha256 -extensions ca -config ext.cnf -out ca.pem 2>/dev/null
        openssl req -new -x509 -key other-ca.key -subj "/O=Elsewhere/CN=Untrusted CA" -days 3650 -sha256 -extensions ca -config ext.cnf -out other-ca.pem 2>/dev/null
        sign() { # name issuer ext subject days
          openssl req -new -key "$1.key" -subj "$4" -out "$1.csr" 2>/dev/null
          openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days "$5" -sha256 -extfile ext.cnf -extensions "$3" -out "$1.pem" 2>/dev/null
        }
        sign inter ca inter "/O=SwiftTLS Tests/CN=Test Intermediate CA" 3000
        sign server inter server "/O=SwiftTLS Tests/CN=localhost" 365
        sign server-rsa inter server "/O=SwiftTLS Tests/CN=localhost RSA" 365
        sign client inter client "/O=SwiftTLS Tests/CN=Test Client" 365
        sign untrusted other-ca server "/O=Elsewhere/CN=localhost" 365
        # An expired certificate: openssl ca with explicit dates.
        mkdir -p cadb; : > cadb/index.txt; echo 1000 > cadb/serial
        cat > ca.cnf <<'X'
        [ca]
        default_ca=d
        [d]
        database=cadb/index.txt
        serial=cadb/serial
        new_certs_dir=cadb
        default_md=sha256
        policy=p
        unique_subject=no
        copy_extensions=none
        [p]
        commonName=supplied
        X
        openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr 2>/dev/null
        openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -startdate 20200101000000Z -enddate 20210101000000Z \
          -extfile ext.cnf -extensions server -in expired.csr -out expired.pem 2>/dev/null
        cat server.pem inter.pem > server-chain.pem
        cat server-rsa.pem inter.pem > server-rsa-chain.pem
        cat client.pem inter.pem > client-chain.pem
        cat expired.pem inter.pem > expired-chain.pem
        cat server.pem inter.pem server.key > server-combined.pem
        cat client.pem inter.pem client.key > client-combined.pem
        cat ca.pem inter.pem > ca-and-inter.pem
        openssl x509 -in server.pem -outform DER -out server.der
        openssl pkey -in server.key -outform DER -out server.key.der
        openssl pkcs8 -topk8 -in server.key -v2 aes-256-cbc -passout pass:fixture-password -out server-encrypted.key
        openssl pkcs12 -export -in server.pem -inkey server.key -certfile inter.pem -name server -passout pass:p12pass -out server.p12
        openssl pkcs12 -export -in client.pem -inkey client.key -certfile inter.pem -name client -passout pass:p12pass -out client.p12
        """#
        try Shell.run(["bash", "-c", script, "fixtures", dir], timeout: 120)
        func cert(_ f: String) throws -> Certificate { try Certificate.parseMany(Array(FileManager.default.contents(atPath: dir + "/" + f)!))[0] }
        func key(_ f: String) throws -> PrivateKey { try PrivateKeyParser.parse(Array(FileManager.default.contents(atPath: dir + "/" + f)!)).key }
        caCertificate = try cert("ca.pem")
        serverCertificate = try cert("server.pem")
        serverKey = try key("server.key")
        serverChain = try Certificate.parseMany(Array(FileManager.default.contents(atPath: dir + "/server-chain.pem")!))
        rsaServerCertificate = try cert("server-rsa.pem")
        rsaServerKey = try key("server-rsa.key")
        clientCertificate = try cert("client.pem")
        clientKey = try key("client.key")
        expiredCertificate = try cert("expired.pem")
        expiredKey = try key("expired.key")
        untrustedCertificate = try cert("untrusted.pem")
        untrustedKey = try key("untrusted.key")
        trustStore = TrustStore(certificates: [caCertificate])
    }

    /// A certificate database with the root trusted, the intermediate, and the
    /// server's and client's certificates with their keys.
    func database(withClient: Bool = true, withServer: Bool = true) throws -> CertificateDatabase {
        let db = CertificateDatabase()
        try db.add(caCertificate, nickname: "Test Root CA", trustedCA: true)
        try db.add(serverChain[1], nickname: "Test Intermediate CA")
        if withServer { try db.add(serverCertificate, key: serverKey, nickname: "server") }
        if withClient { try db.add(clientCertificate, key: clientKey, nickname: "client") }
        return db
    }
}

/// Runs commands for the interoperability tests.
enum Shell {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs to completion; returns stdout; throws on a non-zero exit.
    @discardableResult
    static func run(_ args: [String], input: String? = nil, timeout: TimeInterval = 60, environment: [String: String]? = nil) throws -> String {
        let p = try start(args, environment: environment)
        if let input { p.write(input) }
        p.closeInput()
        guard p.wait(timeout: timeout) else {
            p.kill()
            throw Failure(description: "\(args.joined(separator: " ")) timed out; stderr: \(p.stderr)")
        }
        guard p.status == 0 else {
            throw Failure(description: "\(args.joined(separator: " ")) exited \(p.status): \(p.stderr) \(p.stdout)")
        }
        return p.stdout
    }

    static func start(_ args: [String], environment: [String: String]? = nil) throws -> Child {
        try Child(args, environment: environment)
    }

    static func which(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/nss", "/bin"] {
            let p = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}

/// A child process whose output is collected as it comes.
final class Child {
    let process = Process()
    private let inPipe = Pipe()
    private let outPipe = Pipe()
    private let errPipe = Pipe()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ args: [String], environment: [String: String]?) throws {
        process.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : (Shell.which(args[0]) ?? "/usr/bin/env"))
        process.arguments = args[0].hasPrefix("/") || Shell.which(args[0]) != nil ? Array(args.dropFirst()) : args
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        outPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self else { return }
            self.lock.withLock { self.out.append(d) }
        }
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self else { return }
            self.lock.withLock { self.err.append(d) }
        }
        process.terminationHandler = { [weak self] _ in self?.done.signal() }
        try process.run()
    }

    var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }
    var status: Int32 { process.terminationStatus }

    func write(_ s: String) { try? inPipe.fileHandleForWriting.write(contentsOf: Data(s.utf8)) }
    func closeInput() { try? inPipe.fileHandleForWriting.close() }

    /// Waits for exit; false on timeout.
    func wait(timeout: TimeInterval) -> Bool {
        guard done.wait(timeout: .now() + timeout) == .success else { return false }
        done.signal()
        // Let the readability handlers drain.
        Thread.sleep(forTimeInterval: 0.05)
        outPipe.fileHandleForReading.readabilityHandler = nil
        errPipe.fileHandleForReading.readabilityHandler = nil
        lock.withLock {
            out.append(outPipe.fileHandleForReading.readDataToEndOfFile())
            err.append(errPipe.fileHandleForReading.readDataToEndOfFile())
        }
        return true
    }

    /// Waits until stdout or stderr contains `text`.
    func waitFor(_ text: String, timeout: TimeInterval = 20) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if stdout.contains(text) || stderr.contains(text) { return true }
            if !process.isRunning { return stdout.contains(text) || stderr.contains(text) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    func kill() {
        if process.isRunning { process.terminate() }
        _ = done.wait(timeout: .now() + 5)
        done.signal()
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// Runs a closure on a thread; `value()` waits for its result.
final class Background<T> {
    private var result: Result<T, Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping () throws -> T) {
        let t = Thread { [self] in
            let r = Result { try body() }
            self.result = r
            self.done.signal()
        }
        t.stackSize = 1 << 22
        t.start()
    }

    func value(timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line) throws -> T {
        guard done.wait(timeout: .now() + timeout) == .success else {
            XCTFail("background task did not finish in \(timeout) s", file: file, line: line)
            throw Shell.Failure(description: "background task timed out")
        }
        done.signal()
        return try result!.get()
    }
}

/// A port nothing listens on right now.
func freePort() throws -> UInt16 {
    let s = try Socket(family: .inet)
    defer { s.close() }
    try s.bind(.loopback(.inet))
    return try s.getSockName().port
}

/// Waits until something accepts connections on 127.0.0.1:port.
func waitForListener(port: UInt16, timeout: TimeInterval = 20) -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if let s = try? Socket(family: .inet) {
            defer { s.close() }
            if (try? s.connect(.loopback(.inet, port: port), timeout: .seconds(1))) != nil { return true }
        }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return false
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

/// A listening NSS-style server socket configured with the ECDSA server certificate.
func makeServer(family: AddressFamily = .inet, configure: (SSLSocket) throws -> Void = { _ in }) throws -> (SSLSocket, NetworkAddress) {
    let f = Fixtures.shared
    let listener = try SSLSocket(family: family)
    try listener.setCertificateDB(f.database(withClient: false))
    try listener.configSecureServer(f.serverCertificate, f.serverKey, .ecdh)
    try configure(listener)
    try listener.bind(.loopback(family))
    try listener.listen()
    return (listener, try listener.getSockName())
}

/// A client socket trusting the test CA, aimed at "localhost".
func makeClient(family: AddressFamily = .inet, configure: (SSLSocket) throws -> Void = { _ in }) throws -> SSLSocket {
    let client = try SSLSocket(family: family)
    client.setTrustAnchors(Fixtures.shared.trustStore)
    client.setHostname("localhost")
    try configure(client)
    return client
}

/// Accepts one connection and echoes lines/bytes until EOF, on a thread.
@discardableResult
func serveEcho(_ listener: SSLSocket, count: Int = 1, handshakeOnly: Bool = false,
               onAccept: @escaping (SSLSocket) throws -> Void = { _ in }) -> Background<Void> {
    Background {
        for _ in 0..<count {
            let (conn, _) = try listener.accept(timeout: .seconds(30))
            defer { conn.close() }
            try onAccept(conn)
            if handshakeOnly { try conn.forceHandshake(timeout: .seconds(30)); continue }
            while true {
                let data = try conn.recv(65536, timeout: .seconds(30))
                if data.isEmpty { break }
                try conn.sendall(data)
            }
        }
    }
}
