#ifndef SESSIOND_COPENSSL_SHIM_H
#define SESSIOND_COPENSSL_SHIM_H
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

// Macros that Swift cannot call.
static inline int cssl_ctx_set_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

static inline long cssl_bio_pending(BIO *bio) {
    return (long)BIO_ctrl_pending(bio);
}

// Key type numbers (macros of macros).
static inline int cssl_pkey_rsa(void) { return EVP_PKEY_RSA; }
static inline int cssl_pkey_ec(void) { return EVP_PKEY_EC; }
#endif
