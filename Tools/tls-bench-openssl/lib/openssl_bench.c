// OpenSSL side of tls-bench: a client and a server SSL joined by a BIO pair,
// both driven from one thread, no sockets. Mirrors the Swift workloads:
// same certificates, X25519, AES-128-GCM for handshakes, tickets only when
// resuming, the client verifying the server's certificate and host name.
#define _GNU_SOURCE
#include "openssl_bench.h"
#include "bench_support.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIO_BUFFER (64 * 1024)

static char ecdsa_cert_path[1024], ecdsa_key_path[1024], rsa_cert_path[1024], rsa_key_path[1024];
static int64_t check_time;

const char *ossl_bench_version(void) { return OpenSSL_version(OPENSSL_VERSION); }

int ossl_bench_init(const char *ecdsa_cert, const char *ecdsa_key, const char *rsa_cert, const char *rsa_key,
                    int64_t verify_time) {
    snprintf(ecdsa_cert_path, sizeof ecdsa_cert_path, "%s", ecdsa_cert);
    snprintf(ecdsa_key_path, sizeof ecdsa_key_path, "%s", ecdsa_key);
    snprintf(rsa_cert_path, sizeof rsa_cert_path, "%s", rsa_cert);
    snprintf(rsa_key_path, sizeof rsa_key_path, "%s", rsa_key);
    check_time = verify_time;
    return OPENSSL_init_ssl(0, NULL) == 1 ? 0 : -1;
}

static void set_error(ossl_bench_result *r, const char *what) {
    unsigned long e = ERR_get_error();
    char buf[160] = "";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(r->error, sizeof r->error, "%s%s%s", what, e ? ": " : "", buf);
    r->ok = 0;
    ERR_clear_error();
}

static int proto(int version) { return version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION; }

static SSL_CTX *server_ctx(int version, int rsa, int tickets, const char *suite) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, proto(version));
    SSL_CTX_set_max_proto_version(ctx, proto(version));
    if (SSL_CTX_use_certificate_chain_file(ctx, rsa ? rsa_cert_path : ecdsa_cert_path) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, rsa ? rsa_key_path : ecdsa_key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (version == 13) {
        if (SSL_CTX_set_ciphersuites(ctx, suite) != 1) { SSL_CTX_free(ctx); return NULL; }
    } else if (SSL_CTX_set_cipher_list(ctx, suite) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    // Stateless tickets only: no server-side session cache.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (tickets) {
        SSL_CTX_set_num_tickets(ctx, 1);
    } else {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    return ctx;
}

static SSL_CTX *client_ctx(int version, const char *suite) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, proto(version));
    SSL_CTX_set_max_proto_version(ctx, proto(version));
    if (SSL_CTX_load_verify_locations(ctx, ecdsa_cert_path, NULL) != 1 ||
        SSL_CTX_load_verify_locations(ctx, rsa_cert_path, NULL) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (version == 13) {
        if (SSL_CTX_set_ciphersuites(ctx, suite) != 1) { SSL_CTX_free(ctx); return NULL; }
    } else if (SSL_CTX_set_cipher_list(ctx, suite) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(ctx), (time_t)check_time);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

typedef struct { SSL *client, *server; } pair;

static int make_pair(SSL_CTX *cctx, SSL_CTX *sctx, pair *p) {
    p->client = SSL_new(cctx);
    p->server = SSL_new(sctx);
    BIO *a = NULL, *b = NULL;
    if (!p->client || !p->server || BIO_new_bio_pair(&a, BIO_BUFFER, &b, BIO_BUFFER) != 1) return -1;
    SSL_set_bio(p->client, a, a);
    SSL_set_bio(p->server, b, b);
    SSL_set_tlsext_host_name(p->client, "localhost");
    SSL_set1_host(p->client, "localhost");
    SSL_set_connect_state(p->client);
    SSL_set_accept_state(p->server);
    return 0;
}

static void free_pair(pair *p) {
    // Marked as shut down (no close_notify is sent, as on the Swift side): an
    // SSL freed mid-connection has its session marked not resumable.
    if (p->client) SSL_set_shutdown(p->client, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    if (p->server) SSL_set_shutdown(p->server, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(p->client);
    SSL_free(p->server);
    p->client = p->server = NULL;
}

static int step(SSL *s, int *done) {
    if (*done) return 0;
    int r = SSL_do_handshake(s);
    if (r == 1) { *done = 1; return 0; }
    int e = SSL_get_error(s, r);
    return (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) ? 0 : -1;
}

/// Runs the handshake to completion on both sides; then lets the client read
/// whatever the server sent after its Finished (TLS 1.3 tickets).
static int handshake(pair *p) {
    int c = 0, s = 0;
    for (int i = 0; i < 64 && !(c && s); i++) {
        if (step(p->client, &c) || step(p->server, &s)) return -1;
    }
    if (!(c && s)) return -1;
    unsigned char byte;
    int r = SSL_read(p->client, &byte, 1);
    if (r > 0) return -1;
    int e = SSL_get_error(p->client, r);
    return e == SSL_ERROR_WANT_READ ? 0 : -1;
}

static void describe(SSL *client, char *out, size_t n) {
    const char *sig = "-";
    int nid = 0;
    if (SSL_get_peer_signature_type_nid(client, &nid) == 1) {
        switch (nid) {
        case EVP_PKEY_RSA_PSS: sig = "rsa_pss_rsae"; break;
        case EVP_PKEY_RSA: sig = "rsa_pkcs1"; break;
        case EVP_PKEY_EC: sig = "ecdsa"; break;
        default: sig = OBJ_nid2sn(nid); break;
        }
    }
    int hnid = 0;
    const char *hash = SSL_get_peer_signature_nid(client, &hnid) == 1 ? OBJ_nid2sn(hnid) : "";
    snprintf(out, n, "%s %s %s%s%s%s", SSL_get_version(client), SSL_get_cipher_name(client),
             SSL_session_reused(client) ? "resumed" : "full", nid ? " " : "", nid ? sig : "", nid ? hash : "");
}

ossl_bench_result ossl_bench_handshakes(int version, int rsa, int resume, double seconds, int reps, int min_iterations) {
    ossl_bench_result r;
    memset(&r, 0, sizeof r);
    r.ok = 1;
    SSL_SESSION *session = NULL;
    pair p;
    const char *suite = version == 13 ? "TLS_AES_128_GCM_SHA256"
                                      : (rsa ? "ECDHE-RSA-AES128-GCM-SHA256" : "ECDHE-ECDSA-AES128-GCM-SHA256");
    SSL_CTX *sctx = server_ctx(version, rsa, resume, suite);
    SSL_CTX *cctx = client_ctx(version, suite);
    if (!sctx || !cctx) { set_error(&r, "context setup"); goto out; }
    if (resume) {
        if (make_pair(cctx, sctx, &p) || handshake(&p)) { set_error(&r, "priming handshake"); free_pair(&p); goto out; }
        session = SSL_get1_session(p.client);
        free_pair(&p);
    }
    if (reps < 1) reps = 1;
    double best = 0;
    for (int rep = 0; rep < reps; rep++) {
        uint64_t n = 0, allocs0 = bench_allocation_count();
        double t0 = bench_cpu_seconds(), t = t0;
        while (n < (uint64_t)min_iterations || t - t0 < seconds / reps) {
            if (make_pair(cctx, sctx, &p)) { set_error(&r, "SSL_new"); goto out; }
            if (session) SSL_set_session(p.client, session);
            if (handshake(&p)) { set_error(&r, "handshake"); free_pair(&p); goto out; }
            if (resume) {
                if (!SSL_session_reused(p.client)) { set_error(&r, "session was not resumed"); free_pair(&p); goto out; }
                SSL_SESSION_free(session);
                session = SSL_get1_session(p.client);
            }
            if (n == 0 && rep == 0) describe(p.client, r.negotiated, sizeof r.negotiated);
            free_pair(&p);
            n++;
            t = bench_cpu_seconds();
        }
        double rate = (double)n / (t - t0);
        if (rate > best) {
            best = rate;
            r.iterations = n;
            r.cpu_seconds = t - t0;
            r.allocations_per_op = (double)(bench_allocation_count() - allocs0) / (double)n;
        }
    }
    r.rate = best;
    r.resumed = resume;
out:
    if (session) SSL_SESSION_free(session);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return r;
}

ossl_bench_result ossl_bench_bulk(int version, const char *suite, size_t write_size, double seconds, int reps,
                                  int min_iterations) {
    ossl_bench_result r;
    memset(&r, 0, sizeof r);
    r.ok = 1;
    int rsa = strstr(suite, "RSA") != NULL;
    SSL_CTX *sctx = server_ctx(version, rsa, 0, suite);
    SSL_CTX *cctx = client_ctx(version, suite);
    unsigned char *out = calloc(1, write_size), *in = calloc(1, write_size);
    pair p = {0, 0};
    if (!sctx || !cctx || !out || !in) { set_error(&r, "setup"); goto done; }
    if (make_pair(cctx, sctx, &p) || handshake(&p)) { set_error(&r, "handshake"); goto done; }
    describe(p.client, r.negotiated, sizeof r.negotiated);
    if (reps < 1) reps = 1;
    double best = 0;
    // Warm up: buffers allocated, caches hot.
    for (int rep = -1; rep < reps; rep++) {
        uint64_t n = 0, allocs0 = bench_allocation_count();
        double t0 = bench_cpu_seconds(), t = t0;
        while (n < (uint64_t)min_iterations || t - t0 < (rep < 0 ? 0.0 : seconds / reps)) {
            int w = SSL_write(p.client, out, (int)write_size);
            if (w != (int)write_size) { set_error(&r, "SSL_write"); goto done; }
            size_t got = 0;
            while (got < write_size) {
                int k = SSL_read(p.server, in + got, (int)(write_size - got));
                if (k <= 0) { set_error(&r, "SSL_read"); goto done; }
                got += (size_t)k;
            }
            n++;
            if ((n & 7) == 0) t = bench_cpu_seconds();
        }
        t = bench_cpu_seconds();
        if (rep < 0) continue;
        double rate = (double)n * (double)write_size / (t - t0) / 1e6;
        if (rate > best) {
            best = rate;
            r.iterations = n;
            r.cpu_seconds = t - t0;
            r.allocations_per_op = (double)(bench_allocation_count() - allocs0) / (double)n;
        }
    }
    r.rate = best;
done:
    if (p.client) free_pair(&p);
    free(out);
    free(in);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return r;
}

static int exchange(SSL *from, SSL *to, unsigned char *buf, size_t n) {
    if (SSL_write(from, buf, (int)n) != (int)n) return -1;
    size_t got = 0;
    while (got < n) {
        int k = SSL_read(to, buf, (int)(n - got));
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

ossl_bench_result ossl_bench_memory(int version, int count, int traffic, size_t write_size) {
    ossl_bench_result r;
    memset(&r, 0, sizeof r);
    r.ok = 1;
    const char *suite = version == 13 ? "TLS_AES_128_GCM_SHA256" : "ECDHE-ECDSA-AES128-GCM-SHA256";
    SSL_CTX *sctx = server_ctx(version, 0, 0, suite);
    SSL_CTX *cctx = client_ctx(version, suite);
    pair *pairs = calloc((size_t)count, sizeof(pair));
    unsigned char *buf = calloc(1, write_size);
    if (!sctx || !cctx || !pairs || !buf) { set_error(&r, "setup"); goto done; }
    // What one end of a BIO pair costs (struct + buffer), to subtract: it is the
    // transport, which our connection has no equivalent of.
    BIO **bios = calloc((size_t)count * 2, sizeof(BIO *));
    bench_heap_trim();
    uint64_t b0 = bench_heap_in_use();
    for (int i = 0; i < count; i++) BIO_new_bio_pair(&bios[2 * i], BIO_BUFFER, &bios[2 * i + 1], BIO_BUFFER);
    uint64_t b1 = bench_heap_in_use();
    for (int i = 0; i < 2 * count; i++) BIO_free(bios[i]);
    free(bios);
    double bio_side = (double)(b1 - b0) / (2.0 * count);

    // One connection first, so lazily built shared state (contexts, caches) is not counted.
    pair warm;
    if (make_pair(cctx, sctx, &warm) || handshake(&warm) ||
        (traffic && (exchange(warm.client, warm.server, buf, write_size) || exchange(warm.server, warm.client, buf, write_size)))) {
        set_error(&r, "handshake");
        goto done;
    }
    free_pair(&warm);
    bench_heap_trim();
    uint64_t h0 = bench_heap_in_use();
    for (int i = 0; i < count; i++) {
        if (make_pair(cctx, sctx, &pairs[i]) || handshake(&pairs[i])) { set_error(&r, "handshake"); goto done; }
        if (traffic && (exchange(pairs[i].client, pairs[i].server, buf, write_size) ||
                        exchange(pairs[i].server, pairs[i].client, buf, write_size))) {
            set_error(&r, "transfer");
            goto done;
        }
    }
    uint64_t h1 = bench_heap_in_use();
    for (int i = 0; i < count; i++) { SSL_free(pairs[i].server); pairs[i].server = NULL; }
    uint64_t h2 = bench_heap_in_use();
    for (int i = 0; i < count; i++) { SSL_free(pairs[i].client); pairs[i].client = NULL; }
    uint64_t h3 = bench_heap_in_use();
    r.server_bytes = (double)((int64_t)h1 - (int64_t)h2) / count - bio_side;
    r.client_bytes = (double)((int64_t)h2 - (int64_t)h3) / count - bio_side;
    r.iterations = (uint64_t)count;
    (void)h0;
done:
    if (pairs) {
        for (int i = 0; i < count; i++) {
            if (pairs[i].client) SSL_free(pairs[i].client);
            if (pairs[i].server) SSL_free(pairs[i].server);
        }
        free(pairs);
    }
    free(buf);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return r;
}
