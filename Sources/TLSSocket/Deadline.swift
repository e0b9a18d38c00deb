/// The end of a timeout, measured on the monotonic clock.
struct Deadline {
    let timeout: Duration?
    let end: ContinuousClock.Instant?
    /// A would-wait condition is `.wouldBlock`, not a timeout.
    let nonblocking: Bool

    init(_ timeout: Duration?, nonblocking: Bool = false) {
        self.timeout = timeout
        self.end = timeout.map { ContinuousClock.now.advanced(by: max($0, .zero)) }
        self.nonblocking = nonblocking
    }

    /// Time left (nil = unlimited), for handing to a nested call.
    var remaining: Duration? {
        guard let end else { return nil }
        return max(.zero, ContinuousClock.now.duration(to: end))
    }

    /// The error for a wait that ran out.
    func expiredError(_ operation: String) -> Error {
        if nonblocking { return SSLError(.wouldBlock, "\(operation) would block") }
        return timeoutError(operation)
    }

    static let never = Deadline(nil)

    /// Milliseconds left for poll(2): -1 = no limit, 0 = expired (or a zero timeout).
    var pollMilliseconds: Int32 {
        guard let end else { return -1 }
        let left = ContinuousClock.now.duration(to: end)
        if left <= .zero { return 0 }
        let (s, atto) = left.components
        let ms = s * 1000 + (atto + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }

    var expired: Bool {
        guard let end else { return false }
        return ContinuousClock.now >= end
    }

    func timeoutError(_ operation: String) -> TimeoutError {
        TimeoutError(operation: operation, timeout: timeout ?? .zero)
    }
}

extension Duration {
    /// Seconds as a Double (for socket options and messages).
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
