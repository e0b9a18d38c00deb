import Foundation
import TLSCrypto
import TLSHandshake

/// A bounded map with least-recently-used eviction and a time-to-live,
/// safe to use from several threads at once.
final class LRUTable<Value> {
    private struct Entry { var value: Value; var expiresAt: UInt64; var tick: UInt64 }
    private var entries: [[UInt8]: Entry] = [:]
    private var tick: UInt64 = 0
    private let lock = NSLock()
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { lock.lock(); defer { lock.unlock() }; return entries.count }

    func set(_ key: [UInt8], _ value: Value, expiresAt: UInt64) {
        lock.lock(); defer { lock.unlock() }
        tick += 1
        entries[key] = Entry(value: value, expiresAt: expiresAt, tick: tick)
        if entries.count > capacity, let oldest = entries.min(by: { $0.value.tick < $1.value.tick })?.key {
            entries.removeValue(forKey: oldest)
        }
    }

    func get(_ key: [UInt8], now: UInt64) -> Value? {
        lock.lock(); defer { lock.unlock() }
        guard var e = entries[key] else { return nil }
        guard now < e.expiresAt else { entries.removeValue(forKey: key); return nil }
        tick += 1
        e.tick = tick
        entries[key] = e
        return e.value
    }

    /// Returns the value and removes it.
    func take(_ key: [UInt8], now: UInt64) -> Value? {
        lock.lock(); defer { lock.unlock() }
        guard let e = entries.removeValue(forKey: key), now < e.expiresAt else { return nil }
        return e.value
    }

    func remove(_ key: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        entries.removeValue(forKey: key)
    }

    /// Inserts only if absent (or expired); true if inserted.
    func insertIfAbsent(_ key: [UInt8], _ value: Value, expiresAt: UInt64, now: UInt64) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if let e = entries[key], now < e.expiresAt { return false }
        tick += 1
        entries[key] = Entry(value: value, expiresAt: expiresAt, tick: tick)
        if entries.count > capacity, let oldest = entries.min(by: { $0.value.tick < $1.value.tick })?.key {
            entries.removeValue(forKey: oldest)
        }
        return true
    }
}

/// The server's TLS 1.2 session-ID cache: LRU with a capacity and a TTL.
public final class MemoryServerSessionStore: ServerSessionStore {
    private let table: LRUTable<StoredSession>
    private let clock: () -> UInt64

    public init(capacity: Int = 20_000, clock: @escaping () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }) {
        table = LRUTable(capacity: capacity)
        self.clock = clock
    }

    public var count: Int { table.count }

    public func store(id: [UInt8], session: StoredSession) {
        table.set(id, session, expiresAt: session.createdAtMillis + UInt64(session.lifetimeSeconds) * 1000)
    }

    public func lookup(id: [UInt8]) -> StoredSession? { table.get(id, now: clock()) }
    public func remove(id: [UInt8]) { table.remove(id) }
}

/// The client's session cache, keyed by "host:port" plus the peer ID. TLS 1.3
/// tickets are single-use (RFC 8446 C.4): `take` hands one out and forgets it.
public final class MemoryClientSessionStore: ClientSessionStore {
    private var sessions: [String: [StoredSession]] = [:]
    private let lock = NSLock()
    public let maxPerKey: Int

    public init(maxPerKey: Int = 4) { self.maxPerKey = maxPerKey }

    public static func key(host: String, port: UInt16, peerID: String? = nil) -> String {
        "\(host.lowercased()):\(port)" + (peerID.map { "#\($0)" } ?? "")
    }

    public func store(key: String, session: StoredSession) {
        lock.lock(); defer { lock.unlock() }
        var list = sessions[key] ?? []
        if session.version == .tls12 { list.removeAll { $0.version == .tls12 } }
        list.append(session)
        if list.count > maxPerKey { list.removeFirst(list.count - maxPerKey) }
        sessions[key] = list
    }

    public func take(key: String, nowMillis: UInt64) -> StoredSession? {
        lock.lock(); defer { lock.unlock() }
        guard var list = sessions[key] else { return nil }
        list.removeAll { $0.isExpired(nowMillis: nowMillis) }
        guard let newest = list.popLast() else { sessions[key] = nil; return nil }
        // A TLS 1.2 session may be resumed many times; a 1.3 ticket only once.
        if newest.version == .tls12 { list.append(newest) }
        sessions[key] = list
        return newest
    }

    public func remove(key: String) {
        lock.lock(); defer { lock.unlock() }
        sessions[key] = nil
    }

    public func count(key: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        return sessions[key]?.count ?? 0
    }
}

/// Single-use tickets for early data: remembers each ticket's unique ID until it expires.
public final class SingleUseTicketRegistry: EarlyDataAntiReplay {
    private let table: LRUTable<Bool>
    private let clock: () -> UInt64

    public init(capacity: Int = 100_000, clock: @escaping () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }) {
        table = LRUTable(capacity: capacity)
        self.clock = clock
    }

    public func firstUse(_ id: [UInt8], expiresAtMillis: UInt64) -> Bool {
        guard !id.isEmpty else { return false }
        return table.insertIfAbsent(id, true, expiresAt: expiresAtMillis, now: clock())
    }
}
