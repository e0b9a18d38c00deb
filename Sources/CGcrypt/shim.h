// The only C in the project: thin non-variadic wrappers for libgcrypt calls
// that Swift cannot make directly (variadic functions and macros).
#ifndef TLS_CGCRYPT_SHIM_H
#define TLS_CGCRYPT_SHIM_H

#include <gcrypt.h>

/// Asks for libgcrypt's "system" RNG (getrandom(2) for every request) instead
/// of its default CSPRNG, whose per-call pool mixing and getrusage() polling
/// cost about 8 µs per call here (the system RNG: 0.3 µs). Only has an effect
/// before libgcrypt is initialised.
static inline void tls_gcry_prefer_system_rng(void) {
    gcry_control(GCRYCTL_SET_PREFERRED_RNG_TYPE, GCRY_RNG_TYPE_SYSTEM);
}

static inline const char *tls_gcry_check_version(const char *req) {
    return gcry_check_version(req);
}

/// Disables secure memory (so no "using insecure memory" warnings for
/// non-root users) and finishes initialisation.
static inline int tls_gcry_finish_init(void) {
    gcry_error_t err = gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    if (err) return (int)err;
    err = gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    return (int)err;
}

static inline int tls_gcry_is_initialized(void) {
    return gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P) ? 1 : 0;
}

static inline int tls_gcry_err_code(gcry_error_t err) {
    return (int)gcry_err_code(err);
}

static inline gcry_error_t tls_gcry_cipher_setiv(gcry_cipher_hd_t hd, const void *iv, size_t len) {
    return gcry_cipher_setiv(hd, iv, len);
}

static inline gcry_error_t tls_gcry_cipher_encrypt_inplace(gcry_cipher_hd_t hd, void *buf, size_t len) {
    return gcry_cipher_encrypt(hd, buf, len, NULL, 0);
}

static inline gcry_error_t tls_gcry_cipher_decrypt_inplace(gcry_cipher_hd_t hd, void *buf, size_t len) {
    return gcry_cipher_decrypt(hd, buf, len, NULL, 0);
}

static inline gcry_error_t tls_gcry_cipher_final(gcry_cipher_hd_t hd) {
    return gcry_cipher_final(hd);
}


#endif
