#if FUZZING
/// Fuzzing builds only (`-DFUZZING`, never a library build): remembers the
/// results of libgcrypt's public-key computations by their exact inputs.
///
/// The connection fuzz targets run with scripted randomness, so every
/// execution derives the same ephemeral keys and, most of the time, verifies
/// the same certificate signatures; libgcrypt's generic curve arithmetic was
/// three quarters of their time (callgrind). Each result is what libgcrypt
/// returned for those very inputs (errors included), so every Swift path
/// runs as before, only faster. Bounded: the table is emptied when full.
enum FuzzingMemo {
    nonisolated(unsafe) private static var table: [[UInt8]: Result<Any, Error>] = [:]
    private static let capacity = 4096

    static func key(_ operation: String, _ parts: [[UInt8]]) -> [UInt8] {
        var k = Array(operation.utf8)
        for p in parts {
            let n = UInt32(truncatingIfNeeded: p.count)
            k += [UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
            k += p
        }
        return k
    }

    static func remember<T>(_ operation: String, _ parts: [[UInt8]], _ compute: () throws -> T) throws -> T {
        let k = key(operation, parts)
        if let known = table[k], let value = try known.get() as? T { return value }
        let result = Result<Any, Error> { try compute() }
        if table.count >= capacity { table.removeAll(keepingCapacity: true) }
        table[k] = result
        guard let value = try result.get() as? T else { preconditionFailure("memo type mismatch") }
        return value
    }
}
#endif

/// Runs `compute`, through `FuzzingMemo` in fuzzing builds; a plain call otherwise.
@inline(__always)
func memoizedInFuzzing<T>(_ operation: String, _ parts: @autoclosure () -> [[UInt8]], _ compute: () throws -> T) throws -> T {
    #if FUZZING
    return try FuzzingMemo.remember(operation, parts(), compute)
    #else
    return try compute()
    #endif
}
