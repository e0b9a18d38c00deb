import Foundation
import TLSFuzz
import TLSHandshake
import TLSSocket
#if FUZZING
import CLibFuzzer
#endif

// tls-fuzz: one executable, one fuzz target per surface. See `usage`.

let usage = """
usage: tls-fuzz TARGET [libFuzzer args...]      (fuzzing build: -DFUZZING -sanitize=fuzzer,address)
       tls-fuzz TARGET [-v] FILE_OR_DIR...      (plain build: replay every file through TARGET)
       tls-fuzz --list
       tls-fuzz capture-server PORT OUTFILE     (record a client's bytes against the `server` target's
                                                peer; OUTFILE.msgs gets its handshake messages, decrypted)
       tls-fuzz capture-client HOST:PORT OUTFILE (record a server's bytes against the `client` target's peer)
       tls-fuzz memory [SERVER_SEEDS [CLIENT_SEEDS]]  (peak heap per connection under adversarial input)
  Replay prints one line per file and exits 0 when every file returned normally
  (a crash is the failure). TARGET all replays through every target.
  Build and run: Tools/scripts/fuzz.sh [TARGET|all] [SECONDS].
"""

func die(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tls-fuzz: \(message)\n".utf8))
    exit(2)
}

func listTargets() -> String {
    FuzzTargets.all.map { "\($0.name)\t\($0.summary)" }.joined(separator: "\n")
}

// MARK: - replay

func files(under path: String) -> [String] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { die("no such file or directory: \(path)") }
    guard isDir.boolValue else { return [path] }
    let items = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
    return items.sorted().map { path + "/" + $0 }.filter {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue
    }
}

func replay(_ targets: [FuzzTarget], _ paths: [String]) -> Never {
    var count = 0
    for path in paths.flatMap(files(under:)) {
        guard let data = FileManager.default.contents(atPath: path) else { die("cannot read \(path)") }
        for t in targets {
            let start = Date()
            t.run(Array(data))
            count += 1
            print("\(t.name) \(path): ok (\(data.count) bytes, \(Int(Date().timeIntervalSince(start) * 1000)) ms)")
        }
    }
    print("replayed \(count) runs: \(count) passed, 0 failed")
    exit(0)
}

// MARK: - capture of seed streams over real sockets

/// Drives `conn` over `sock`, recording every byte received, until the peer
/// closes, fails, or nothing arrives for `idle` seconds.
/// The peer's handshake messages (decrypted) are kept in `messages`.
func drive(_ conn: TLSConnection, _ sock: POSIXSocket, request: [UInt8]?, messages: inout [UInt8], idle: Double = 3) -> [UInt8] {
    var captured: [UInt8] = []
    var received: [UInt8] = []
    conn.onHandshakeMessage = { sent, raw in if !sent { received += raw } }
    defer { messages = received }
    var sentRequest = false
    func flush() { let out = conn.takeOutput(); if !out.isEmpty { try? sock.sendAll(out) } }
    flush()
    while true {
        guard (try? sock.poll(events: POSIXSocket.readable, timeout: idle)) == true else { break }
        guard let bytes = try? sock.receive(), !bytes.isEmpty else { break }
        captured += bytes
        do { try conn.receive(bytes) } catch { print("connection ended: \(error)"); flush(); break }
        if conn.isHandshakeComplete {
            if let request, !sentRequest { try? conn.write(request); sentRequest = true }
            // The server echoes what it reads.
            while let data = conn.read(), !data.isEmpty { if request == nil { try? conn.write(data) } }
        }
        flush()
        if conn.peerClosed { conn.close(); flush(); break }
    }
    print("status \(conn.status), negotiated \(conn.negotiated.map { "\($0.version) \($0.cipherSuite)" } ?? "nothing"), captured \(captured.count) bytes")
    return captured
}

func capture(_ args: [String]) -> Never {
    guard args.count == 3 else { die(usage) }
    let bytes: [UInt8]
    var messages: [UInt8] = []
    do {
        if args[0] == "capture-server" {
            guard let port = UInt16(args[1]) else { die("bad port \(args[1])") }
            let listener = try POSIXSocket.listen(host: "127.0.0.1", port: port)
            print("listening on 127.0.0.1:\(port)")
            fflush(stdout)
            let sock = try listener.accept(timeout: 60)
            bytes = drive(FuzzPeers.server(), sock, request: nil, messages: &messages)
            sock.close()
        } else {
            let parts = args[1].split(separator: ":")
            guard parts.count == 2, let port = UInt16(parts[1]) else { die("bad HOST:PORT \(args[1])") }
            let sock = try POSIXSocket.connect(host: String(parts[0]), port: port, timeout: 10)
            let conn = FuzzPeers.client()
            try conn.start()
            bytes = drive(conn, sock, request: Array("GET / HTTP/1.0\r\n\r\n".utf8), messages: &messages)
            sock.close()
        }
    } catch {
        die("\(error)")
    }
    guard FileManager.default.createFile(atPath: args[2], contents: Data(bytes)),
          FileManager.default.createFile(atPath: args[2] + ".msgs", contents: Data(messages)) else { die("cannot write \(args[2])") }
    exit(0)
}

// MARK: - heap per connection under adversarial input

func memory(_ args: [String]) -> Never {
    // Default: the committed seed streams of the connection targets.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let serverDir = args.count > 0 ? args[0] : root.appendingPathComponent("Vectors/corpus/server").path
    let clientDir = args.count > 1 ? args[1] : root.appendingPathComponent("Vectors/corpus/client").path
    func load(_ dir: String) -> [[UInt8]] {
        guard FileManager.default.fileExists(atPath: dir) else { return [] }
        return files(under: dir).compactMap { FileManager.default.contents(atPath: $0).map { Array($0) } }
    }
    let results = MemoryProbe.run(serverSeeds: load(serverDir), clientSeeds: load(clientDir))
    for r in results {
        print(String(format: "%9d bytes peak  %7d retained  %@  [%@]", r.peakBytes, r.retainedBytes, r.scenario, r.finalStatus))
    }
    let worst = results.max { $0.peakBytes < $1.peakBytes }!
    let seeds = results.filter { $0.scenario.contains("seed") }
    print("worst: \(worst.peakBytes) bytes (\(worst.scenario)); seeds: max \(seeds.map(\.peakBytes).max() ?? 0) bytes over \(seeds.count) streams")
    exit(0)
}

// MARK: - main

var arguments = CommandLine.arguments
// libFuzzer re-runs this binary for -merge, -fork and -jobs with argv[0] and its
// own flags only: the target then comes from TLS_FUZZ_TARGET, set below.
if arguments.count >= 2, arguments[1].hasPrefix("-"), arguments[1] != "--list", arguments[1] != "--help", arguments[1] != "-h",
   let t = ProcessInfo.processInfo.environment["TLS_FUZZ_TARGET"] {
    arguments.insert(t, at: 1)
}
guard arguments.count >= 2 else { die(usage) }
let command = arguments[1]
switch command {
case "--help", "-h": print(usage); print("targets:\n" + listTargets()); exit(0)
case "--list": print(listTargets()); exit(0)
case "capture-server", "capture-client": capture(Array(arguments.dropFirst()))
case "memory": memory(Array(arguments.dropFirst(2)))
default: break
}

let selected: [FuzzTarget]
if command == "all" {
    selected = FuzzTargets.all
} else if let t = FuzzTargets.named(command) {
    selected = [t]
} else {
    die("unknown target \(command); targets:\n" + listTargets())
}

#if FUZZING
guard selected.count == 1 else { die("fuzz one target at a time") }
/// The chosen target, reached from the C callback (which cannot capture).
nonisolated(unsafe) var fuzzTarget: FuzzTarget = selected[0]
setenv("TLS_FUZZ_TARGET", fuzzTarget.name, 1)
// libFuzzer sees argv[0] and the arguments after TARGET.
var cArgs: [UnsafeMutablePointer<CChar>?] = ([arguments[0]] + arguments.dropFirst(2)).map { strdup($0) }
var argc = Int32(cArgs.count)
cArgs.append(nil)
let status = cArgs.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        fuzzTarget.run(bytes)
        return 0
    }
}
exit(status)
#else
guard arguments.count >= 3 else { die("replay needs FILE_OR_DIR arguments (this build has no libFuzzer; see Tools/scripts/fuzz.sh)") }
var paths = Array(arguments.dropFirst(2))
if paths.first == "-v" { FuzzPeers.verbose = true; paths.removeFirst() }
replay(selected, paths)
#endif
