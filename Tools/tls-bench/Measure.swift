import CBenchSupport

/// A measured rate: `iterations` done in `cpuSeconds` of process CPU time.
struct Rate {
    var iterations: Int
    var cpuSeconds: Double
    var allocations: UInt64 = 0
    var perSecond: Double { cpuSeconds > 0 ? Double(iterations) / cpuSeconds : 0 }
    var microseconds: Double { iterations > 0 ? cpuSeconds * 1e6 / Double(iterations) : 0 }
    var allocationsPerIteration: Double { iterations > 0 ? Double(allocations) / Double(iterations) : 0 }
}

/// How long each measurement runs.
struct Budget {
    /// CPU seconds per workload, split over `reps` rounds (the best round counts:
    /// on a shared machine the best round is the one least disturbed).
    var seconds: Double
    var reps: Int
    var minIterations: Int

    static let full = Budget(seconds: 1.5, reps: 3, minIterations: 5)
    static let smoke = Budget(seconds: 0.02, reps: 1, minIterations: 2)
}

enum Clock {
    static func cpu() -> Double { bench_cpu_seconds() }
    static func wall() -> Double { bench_wall_seconds() }
}

/// Runs `body` (one iteration) for the budget: one warm-up call, then `reps`
/// rounds of at least seconds/reps CPU seconds and `minIterations` calls;
/// returns the best round. Time is process CPU time, so other processes on the
/// machine slow a round only through caches and frequency, not by preemption.
func measure(_ budget: Budget, warmup: Bool = true, _ body: () throws -> Void) rethrows -> Rate {
    if warmup { try body() }
    var best: Rate?
    for _ in 0..<max(1, budget.reps) {
        let a0 = bench_allocation_count()
        let t0 = Clock.cpu()
        var n = 0
        var t = t0
        let round = budget.seconds / Double(max(1, budget.reps))
        while n < budget.minIterations || t - t0 < round {
            try body()
            n += 1
            t = Clock.cpu()
        }
        let r = Rate(iterations: n, cpuSeconds: t - t0, allocations: bench_allocation_count() - a0)
        if best == nil || r.perSecond > best!.perSecond { best = r }
    }
    return best!
}

/// Like `measure`, for cheap bodies: the clock is read every `batch` calls.
/// `between` runs after each round (the competitor's round, so that both see
/// the machine in the same state: interleaved rounds, best of each).
func measureBatched(_ budget: Budget, batch: Int, between: (() throws -> Void)? = nil, _ body: () throws -> Void) rethrows -> Rate {
    try body()
    var best: Rate?
    for _ in 0..<max(1, budget.reps) {
        let a0 = bench_allocation_count()
        let t0 = Clock.cpu()
        var n = 0
        var t = t0
        let round = budget.seconds / Double(max(1, budget.reps))
        while n < budget.minIterations || t - t0 < round {
            for _ in 0..<batch { try body() }
            n += batch
            t = Clock.cpu()
        }
        let r = Rate(iterations: n, cpuSeconds: t - t0, allocations: bench_allocation_count() - a0)
        if best == nil || r.perSecond > best!.perSecond { best = r }
        try between?()
    }
    return best!
}

enum Heap {
    static var inUse: Int { Int(bench_heap_in_use()) }
    static func trim() { bench_heap_trim() }
    static var allocations: UInt64 { bench_allocation_count() }
    static var countingWorks: Bool { bench_interposer_active() != 0 }
}
