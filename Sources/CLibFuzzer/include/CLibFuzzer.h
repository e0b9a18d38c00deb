#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>
#include <malloc.h>

/* libFuzzer's driver, linked in by -sanitize=fuzzer (tls-fuzz under -DFUZZING only). */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

/* Heap bytes in use (glibc), for tls-fuzz memory: Swift does not see <malloc.h>. */
static inline size_t tls_fuzz_heap_in_use(void) { return mallinfo2().uordblks; }

#endif
