// Counting malloc interposer for tls-bench and tls-bench-openssl.
//
// glibc 2.34 removed __malloc_hook, and mallinfo2 only reports bytes, not
// calls. Defining malloc & co. in the executable interposes them for the whole
// process (the dynamic linker resolves every library's malloc to the
// executable's definition first); each forwards to glibc's own entry points
// (__libc_malloc, ...), so chunks stay glibc's and malloc_usable_size /
// mallinfo2 keep working. Counting costs one relaxed atomic add per call.
#define _GNU_SOURCE
#include "bench_support.h"
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <time.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static uint64_t allocations;

#define COUNT() __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED)

void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
void free(void *p) { __libc_free(p); }
void *calloc(size_t a, size_t b) { COUNT(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
void *memalign(size_t alignment, size_t n) { COUNT(); return __libc_memalign(alignment, n); }
void *aligned_alloc(size_t alignment, size_t n) { COUNT(); return __libc_memalign(alignment, n); }
int posix_memalign(void **out, size_t alignment, size_t n) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    COUNT();
    void *p = __libc_memalign(alignment, n);
    if (p == NULL && n != 0) return ENOMEM;
    *out = p;
    return 0;
}

uint64_t bench_allocation_count(void) { return __atomic_load_n(&allocations, __ATOMIC_RELAXED); }

int bench_interposer_active(void) {
    void *(*volatile allocate)(size_t) = malloc;
    void (*volatile release)(void *) = free;
    uint64_t before = bench_allocation_count();
    release(allocate(16));
    return bench_allocation_count() != before;
}

uint64_t bench_heap_in_use(void) {
    struct mallinfo2 m = mallinfo2();
    return (uint64_t)m.uordblks + (uint64_t)m.hblkhd;
}

void bench_heap_trim(void) { malloc_trim(0); }

static double seconds(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_cpu_seconds(void) { return seconds(CLOCK_PROCESS_CPUTIME_ID); }
double bench_wall_seconds(void) { return seconds(CLOCK_MONOTONIC); }
