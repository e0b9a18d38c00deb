#ifndef TLS_BENCH_OPENSSL_H
#define TLS_BENCH_OPENSSL_H
#include <stddef.h>
#include <stdint.h>

/// The same in-memory workloads as tls-bench, run through OpenSSL (libssl)
/// with a BIO pair between a client and a server SSL in one thread.
typedef struct {
    int ok;
    char error[256];
    /// What was negotiated, e.g. "TLSv1.3 TLS_AES_128_GCM_SHA256 X25519 rsa_pss_rsae_sha256".
    char negotiated[160];
    uint64_t iterations;
    double cpu_seconds;
    /// handshakes/s (CPU time) or MB/s (10^6 bytes per CPU second).
    double rate;
    /// Bulk: heap allocations per record in steady state; handshakes: per handshake.
    double allocations_per_op;
    /// Memory: heap bytes per idle established connection (BIO pair buffers subtracted).
    double client_bytes;
    double server_bytes;
    int resumed;
} ossl_bench_result;

/// Loads the credentials. Returns 0 on success. `verify_time` is the Unix time
/// certificates are checked at.
int ossl_bench_init(const char *ecdsa_cert, const char *ecdsa_key, const char *rsa_cert, const char *rsa_key,
                    int64_t verify_time);

/// version: 12 or 13. rsa: 0 for the ECDSA P-256 certificate, 1 for RSA-2048.
/// resume: 0 full handshakes (no tickets), 1 resumed (1.3: psk_dhe_ke ticket; 1.2: RFC 5077 ticket).
/// Runs `reps` rounds of at least `seconds` / `reps` CPU seconds and `min_iterations`; reports the best.
ossl_bench_result ossl_bench_handshakes(int version, int rsa, int resume, double seconds, int reps, int min_iterations);

/// One-way bulk transfer of `write_size`-byte writes with the given suite
/// (OpenSSL name: a TLS 1.3 ciphersuite or a TLS 1.2 cipher), client to server.
ossl_bench_result ossl_bench_bulk(int version, const char *suite, size_t write_size, double seconds, int reps,
                                  int min_iterations);

/// Heap bytes per idle established connection, for `count` connection pairs.
/// traffic: one `write_size` write each way before measuring.
ossl_bench_result ossl_bench_memory(int version, int count, int traffic, size_t write_size);

/// Returns "OpenSSL 3.0.x ...".
const char *ossl_bench_version(void);

#endif
