import Foundation
import TLSCrypto
import TLSHandshake

/// A bounded map with least-recently-used eviction and a time-to-live, safe
/// to use from several threads at once. Every operation is O(1): entries sit
/// in a doubly linked list, most recently used at the head.
final class LRUTable<Value> {
    private final class Node {
        let key: [UInt8]
        var value: Value
        var expiresAt: UInt64
        var newer: Node?
        weak var older: Node?
        init(key: [UInt8], value: Value, expiresAt: UInt64) { self.key = key; self.value = value; self.expiresAt = expiresAt }
    }

    private var nodes: [[UInt8]: Node] = [:]
    /// Most recently used.
    private var head: Node?
    /// Least recently used.
    private var tail: Node?
    private let lock = NSLock()
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { lock.lock(); defer { lock.unlock() }; return nodes.count }

    private func unlink(_ n: Node) {
        // `older` points towards the tail, `newer` towards the head.
        if let newer = n.newer { newer.older = n.older } else { head = n.older }
        if let older = n.older { older.newer = n.newer } else { tail = n.newer }
        n.newer = nil
        n.older = nil
    }

    private func pushFront(_ n: Node) {
        n.older = head
        n.newer = nil
        head?.newer = n
        head = n
        if tail == nil { tail = n }
    }

    private func removeLocked(_ key: [UInt8]) {
        guard let n = nodes.removeValue(forKey: key) else { return }
        unlink(n)
    }

    private func insertLocked(_ key: [UInt8], _ value: Value, expiresAt: UInt64) {
        removeLocked(key)
        let n = Node(key: key, value: value, expiresAt: expiresAt)
        nodes[key] = n
        pushFront(n)
        while nodes.count > capacity, let lru = tail { removeLocked(lru.key) }
    }

    func set(_ key: [UInt8], _ value: Value, expiresAt: UInt64) {
        lock.lock(); defer { lock.unlock() }
        insertLocked(key, value, expiresAt: expiresAt)
    }

    func get(_ key: [UInt8], now: UInt64) -> Value? {
        lock.lock(); defer { lock.unlock() }
        guard let n = nodes[key] else { return nil }
        guard now < n.expiresAt else { removeLocked(key); return nil }
        unlink(n)
        pushFront(n)
        return n.value
    }

    /// Returns the value and removes it.
    func take(_ key: [UInt8], now: UInt64) -> Value? {
        lock.lock(); defer { lock.unlock() }
        guard let n = nodes[key] else { return nil }
        removeLocked(key)
        return now < n.expiresAt ? n.value : nil
    }

    func remove(_ key: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        removeLocked(key)
    }

    /// Inserts only if absent (or expired); true if inserted.
    func insertIfAbsent(_ key: [UInt8], _ value: Value, expiresAt: UInt64, now: UInt64) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if let n = nodes[key], now < n.expiresAt { return false }
        insertLocked(key, value, expiresAt: expiresAt)
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
