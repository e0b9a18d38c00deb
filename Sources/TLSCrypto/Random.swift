import CGcrypt

/// Where randomness comes from. Production code uses `SystemRandom`; tests and
/// trace replays inject a deterministic source so a handshake repeats byte for byte.
public protocol RandomSource: AnyObject {
    func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension RandomSource {
    public func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }
}

/// libgcrypt's strong random generator.
public final class SystemRandom: RandomSource, @unchecked Sendable {
    public static let shared = SystemRandom()
    public init() { Gcrypt.ensureInitialized() }
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        gcry_randomize(base, buffer.count, GCRY_STRONG_RANDOM)
    }
}

/// Hands out pre-recorded bytes in order (for replays), then a deterministic
/// stream derived from a seed once the recording is used up.
public final class ScriptedRandom: RandomSource {
    private var queue: [UInt8]
    private var position = 0
    private var counter: UInt64 = 0
    private let seed: [UInt8]

    public init(script: [UInt8] = [], seed: [UInt8] = Array("tls-scripted".utf8)) {
        self.queue = script
        self.seed = seed
    }

    /// Appends bytes to be handed out after those already queued.
    public func enqueue(_ bytes: [UInt8]) { queue.append(contentsOf: bytes) }

    public var remainingScripted: Int { queue.count - position }

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var i = 0
        while i < buffer.count {
            if position < queue.count {
                buffer[i] = queue[position]
                position += 1
                i += 1
                continue
            }
            // Counter-mode SHA-256 stream: deterministic and cheap enough for tests.
            var block = seed
            withUnsafeBytes(of: counter.bigEndian) { block.append(contentsOf: $0) }
            counter &+= 1
            let digest = Digest.hash(.sha256, block)
            for b in digest where i < buffer.count {
                buffer[i] = b
                i += 1
            }
        }
    }
}
