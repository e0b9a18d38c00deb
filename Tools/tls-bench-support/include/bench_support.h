#ifndef TLS_BENCH_SUPPORT_H
#define TLS_BENCH_SUPPORT_H
#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc,
/// memalign) made by the whole process since it started. Counted by the
/// malloc interposer in bench_support.c, which any executable linking this
/// target gets: symbols defined in the executable take precedence over
/// glibc's for every shared library too, so no LD_PRELOAD is needed.
uint64_t bench_allocation_count(void);
/// 1 when the interposer is active (a malloc call went through it).
int bench_interposer_active(void);
/// Bytes of heap in use (glibc mallinfo2: uordblks + hblkhd).
uint64_t bench_heap_in_use(void);
/// Returns freed memory at the top of the heap to the system (malloc_trim(0)).
void bench_heap_trim(void);
/// CPU time of the process in seconds (CLOCK_PROCESS_CPUTIME_ID).
double bench_cpu_seconds(void);
/// Wall-clock time in seconds (CLOCK_MONOTONIC).
double bench_wall_seconds(void);

#endif
