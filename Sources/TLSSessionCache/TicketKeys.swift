import Foundation
import TLSCrypto
import TLSHandshake

/// One named ticket key: 16-byte name, 32-byte AES-256-GCM key, creation time.
public struct TicketKey: Equatable {
    public var name: [UInt8]
    public var key: [UInt8]
    public var createdAt: Int64

    public init(name: [UInt8], key: [UInt8], createdAt: Int64) {
        self.name = name; self.key = key; self.createdAt = createdAt
    }

    public static func random(createdAt: Int64, random: RandomSource = SystemRandom.shared) -> TicketKey {
        TicketKey(name: random.bytes(16), key: random.bytes(32), createdAt: createdAt)
    }
}

public struct TicketKeyError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Seals session tickets with AES-256-GCM under named keys. The newest key
/// encrypts; older keys still decrypt until `decryptLifetime` has passed, so
/// keys rotate without breaking tickets in flight. Optionally backed by a key
/// file shared by several server processes and re-read when it changes.
///
/// Ticket layout: key name (16) || nonce (12) || ciphertext || tag (16); the
/// key name is authenticated as additional data.
public final class TicketKeyRing: TicketProtector {
    private var keys: [TicketKey] = []
    private var ciphers: [[UInt8]: AEADKey] = [:]
    private let lock = NSLock()
    private let random: RandomSource
    private let now: () -> Int64
    /// How long a key encrypts before `rotateIfDue` makes a new one (seconds).
    public var rotationInterval: Int64
    /// How long a key keeps decrypting after creation (seconds).
    public var decryptLifetime: Int64
    public let filePath: String?
    private var fileContents: String?
    private var lastFileCheck: Int64 = 0

    public init(keys: [TicketKey] = [], rotationInterval: Int64 = 12 * 3600, decryptLifetime: Int64 = 36 * 3600,
                random: RandomSource = SystemRandom.shared, now: @escaping () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.random = random
        self.now = now
        self.rotationInterval = rotationInterval
        self.decryptLifetime = decryptLifetime
        self.filePath = nil
        setKeys(keys.isEmpty ? [TicketKey.random(createdAt: now(), random: random)] : keys)
    }

    /// Keys from a shared file (created with one fresh key if absent).
    public init(file: String, rotationInterval: Int64 = 12 * 3600, decryptLifetime: Int64 = 36 * 3600,
                random: RandomSource = SystemRandom.shared, now: @escaping () -> Int64 = { Int64(Date().timeIntervalSince1970) }) throws {
        self.random = random
        self.now = now
        self.rotationInterval = rotationInterval
        self.decryptLifetime = decryptLifetime
        self.filePath = file
        if !FileManager.default.fileExists(atPath: file) {
            try TicketKeyRing.write([TicketKey.random(createdAt: now(), random: random)], to: file)
        }
        try reloadFromFile()
    }

    public var currentKeys: [TicketKey] { lock.lock(); defer { lock.unlock() }; return keys }

    private func setKeys(_ new: [TicketKey]) {
        lock.lock(); defer { lock.unlock() }
        keys = new.sorted { $0.createdAt < $1.createdAt }
        ciphers = [:]
        for k in keys { ciphers[k.name] = try? AEADKey(.aes256GCM, key: k.key) }
    }

    // MARK: file

    /// Format: one key per line, `name-hex key-hex created-unix-seconds`; `#` comments.
    public static func parse(_ text: String) throws -> [TicketKey] {
        var out: [TicketKey] = []
        for (i, raw) in text.split(separator: "\n").enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: " ")
            guard f.count == 3, let name = try? [UInt8](hex: String(f[0])), name.count == 16,
                  let key = try? [UInt8](hex: String(f[1])), key.count == 32, let t = Int64(f[2]) else {
                throw TicketKeyError(message: "ticket key file line \(i + 1) is not 'name(16 bytes hex) key(32 bytes hex) unix-time'")
            }
            out.append(TicketKey(name: name, key: key, createdAt: t))
        }
        guard !out.isEmpty else { throw TicketKeyError(message: "ticket key file holds no key") }
        return out
    }

    public static func render(_ keys: [TicketKey]) -> String {
        "# TLS ticket keys: name key created (newest encrypts)\n" +
            keys.map { "\($0.name.hexString) \($0.key.hexString) \($0.createdAt)" }.joined(separator: "\n") + "\n"
    }

    /// Atomic replace, readable by the owner only.
    public static func write(_ keys: [TicketKey], to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(render(keys).utf8), attributes: [.posixPermissions: 0o600]) else {
            throw TicketKeyError(message: "cannot write \(tmp)")
        }
        guard rename(tmp, path) == 0 else { throw TicketKeyError(message: "cannot replace \(path)") }
    }

    public func reloadFromFile() throws {
        guard let filePath else { return }
        let text = try String(contentsOfFile: filePath, encoding: .utf8)
        setKeys(try TicketKeyRing.parse(text))
        fileContents = text
    }

    /// Re-reads the file if its contents changed (checked at most once a second;
    /// contents rather than mtime, whose granularity can hide a quick rotation).
    private func refreshIfChanged() {
        guard let filePath else { return }
        let t = now()
        guard t != lastFileCheck else { return }
        lastFileCheck = t
        let text = try? String(contentsOfFile: filePath, encoding: .utf8)
        if let text, text != fileContents { try? reloadFromFile() }
    }

    /// Adds a fresh encrypting key and drops keys past their decrypt lifetime;
    /// writes the file when there is one (other processes pick it up).
    public func rotate() throws {
        var next = currentKeys.filter { now() - $0.createdAt < decryptLifetime }
        next.append(TicketKey.random(createdAt: now(), random: random))
        setKeys(next)
        if let filePath { try TicketKeyRing.write(next, to: filePath); try reloadFromFile() }
    }

    public func rotateIfDue() throws {
        guard let newest = currentKeys.last else { return try rotate() }
        if now() - newest.createdAt >= rotationInterval { try rotate() }
    }

    // MARK: TicketProtector

    public func seal(_ plaintext: [UInt8]) -> [UInt8]? {
        refreshIfChanged()
        lock.lock(); defer { lock.unlock() }
        guard let k = keys.last, let c = ciphers[k.name] else { return nil }
        let nonce = random.bytes(12)
        guard let sealed = try? c.seal(nonce: nonce, aad: k.name, plaintext: plaintext) else { return nil }
        return k.name + nonce + sealed
    }

    public func open(_ ticket: [UInt8]) -> [UInt8]? {
        guard ticket.count >= 16 + 12 + 16 else { return nil }
        refreshIfChanged()
        lock.lock(); defer { lock.unlock() }
        let name = Array(ticket[0..<16])
        guard let k = keys.first(where: { $0.name == name }), now() - k.createdAt < decryptLifetime, let c = ciphers[name] else { return nil }
        return try? c.open(nonce: Array(ticket[16..<28]), aad: name, ciphertextAndTag: Array(ticket[28...]))
    }
}
