// tls-bench-openssl: OpenSSL's figures for the tls-bench workloads, as JSON
// lines. tls-bench links the same code (CTLSBenchOpenSSL) and runs it in
// process; this program runs it on its own:
//   tls-bench-openssl ECDSA_CERT ECDSA_KEY RSA_CERT RSA_KEY [SECONDS]
#include "openssl_bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void print(const char *name, ossl_bench_result r) {
    if (!r.ok) { printf("{\"workload\":\"%s\",\"error\":\"%s\"}\n", name, r.error); return; }
    printf("{\"workload\":\"%s\",\"negotiated\":\"%s\",\"rate\":%.1f,\"iterations\":%llu,\"cpu_seconds\":%.3f,"
           "\"allocations_per_op\":%.2f,\"client_bytes\":%.0f,\"server_bytes\":%.0f}\n",
           name, r.negotiated, r.rate, (unsigned long long)r.iterations, r.cpu_seconds, r.allocations_per_op,
           r.client_bytes, r.server_bytes);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s ECDSA_CERT ECDSA_KEY RSA_CERT RSA_KEY [SECONDS]\n", argv[0]);
        return 2;
    }
    double seconds = argc > 5 ? atof(argv[5]) : 1.0;
    if (ossl_bench_init(argv[1], argv[2], argv[3], argv[4], (int64_t)time(NULL)) != 0) return 1;
    printf("{\"library\":\"%s\"}\n", ossl_bench_version());
    print("full-1.3-ecdsa", ossl_bench_handshakes(13, 0, 0, seconds, 3, 5));
    print("full-1.3-rsa", ossl_bench_handshakes(13, 1, 0, seconds, 3, 5));
    print("full-1.2-ecdsa", ossl_bench_handshakes(12, 0, 0, seconds, 3, 5));
    print("full-1.2-rsa", ossl_bench_handshakes(12, 1, 0, seconds, 3, 5));
    print("resume-1.3", ossl_bench_handshakes(13, 0, 1, seconds, 3, 5));
    print("resume-1.2", ossl_bench_handshakes(12, 0, 1, seconds, 3, 5));
    const char *suites13[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"};
    const char *suites12[] = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"};
    for (int i = 0; i < 3; i++) print(suites13[i], ossl_bench_bulk(13, suites13[i], 16384, seconds, 3, 16));
    for (int i = 0; i < 3; i++) print(suites12[i], ossl_bench_bulk(12, suites12[i], 16384, seconds, 3, 16));
    print("memory-1.3", ossl_bench_memory(13, 1000, 0, 16384));
    print("memory-1.2", ossl_bench_memory(12, 1000, 0, 16384));
    print("memory-1.3-after-traffic", ossl_bench_memory(13, 1000, 1, 16384));
    return 0;
}
