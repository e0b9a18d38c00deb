import Foundation
import TLSReplay

// tls-replay [--side client|server|both] [--quiet] TRACE...
// Replays each trace through our key schedule and our client and server
// connections; exits non-zero naming the first differing field.

var sides: [TraceReplay.Side] = TraceReplay.Side.allCases
var quiet = false
var files: [String] = []
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--side":
        guard let v = args.popFirst() else { FileHandle.standardError.write(Data("--side needs a value\n".utf8)); exit(2) }
        switch v {
        case "client": sides = [.client]
        case "server": sides = [.server]
        case "both": sides = TraceReplay.Side.allCases
        default: FileHandle.standardError.write(Data("--side must be client, server or both\n".utf8)); exit(2)
        }
    case "--quiet", "-q": quiet = true
    case "-h", "--help":
        print("usage: tls-replay [--side client|server|both] [--quiet] TRACE...")
        exit(0)
    default: files.append(a)
    }
}
if files.isEmpty {
    FileHandle.standardError.write(Data("usage: tls-replay [--side client|server|both] [--quiet] TRACE...\n".utf8))
    exit(2)
}
var failed = false
for file in files {
    do {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        var replay = TraceReplay(trace: try Trace(text: text))
        try replay.checkKeySchedule()
        for side in sides { try replay.replay(side) }
        print("PASS \(file): \(replay.checks.count) checks")
        if !quiet { for c in replay.checks { print("  ok \(c)") } }
    } catch {
        print("FAIL \(file): \(error)")
        failed = true
    }
}
exit(failed ? 1 : 0)
