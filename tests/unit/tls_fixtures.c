/*
 * tls_fixtures: see tls_fixtures.h.
 */
#include "tls_fixtures.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

EVP_PKEY *tlsfx_key_rsa(int bits)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

EVP_PKEY *tlsfx_key_ec(const char *curve)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

static int add_sans(X509 *x, const char *const *sans)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    int ok = gens != NULL;
    for (size_t i = 0; ok && sans[i]; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        ok = g && s && ASN1_STRING_set(s, sans[i], (int)strlen(sans[i]));
        if (ok) {
            GENERAL_NAME_set0_value(g, GEN_DNS, s);
            ok = sk_GENERAL_NAME_push(gens, g) > 0;
            if (!ok)
                GENERAL_NAME_free(g);
        } else {
            GENERAL_NAME_free(g);
            ASN1_IA5STRING_free(s);
        }
    }
    ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
    GENERAL_NAMES_free(gens);
    return ok ? 0 : -1;
}

X509 *tlsfx_cert(EVP_PKEY *key, const char *cn, const char *const *sans, time_t not_after)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int ok = x && name && X509_set_version(x, X509_VERSION_3) &&
             ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) &&
             X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, NULL) &&
             ASN1_TIME_set(X509_getm_notAfter(x), not_after) && X509_set_pubkey(x, key);
    if (ok && cn)
        ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                        -1, 0);
    ok = ok && X509_set_subject_name(x, name) && X509_set_issuer_name(x, name);
    if (ok && sans)
        ok = add_sans(x, sans) == 0;
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_with(const char *path, X509 *cert, EVP_PKEY *key, int key_first)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = 1;
    if (key && key_first)
        ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (ok && cert)
        ok = PEM_write_X509(f, cert);
    if (ok && key && !key_first)
        ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok ? 0 : -1;
}

int tlsfx_write_pem(const char *path, X509 *cert, EVP_PKEY *key, int key_first)
{
    return write_with(path, cert, key, key_first);
}

int tlsfx_write_cert(const char *path, X509 *cert)
{
    return write_with(path, cert, NULL, 0);
}

int tlsfx_write_key(const char *path, EVP_PKEY *key)
{
    return write_with(path, NULL, key, 1);
}

int tlsfx_make_pem(const char *dir, const char *file, EVP_PKEY *key, const char *cn,
                   const char *const *sans, time_t not_after)
{
    X509 *x = tlsfx_cert(key, cn, sans, not_after);
    char *path = tlsfx_path(dir, file);
    int rc = x && path ? tlsfx_write_pem(path, x, key, 0) : -1;
    X509_free(x);
    free(path);
    return rc;
}

char *tlsfx_mkdtemp(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir;
    if (asprintf(&dir, "%s/tls-certs-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
        return NULL;
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

void tlsfx_rmtree(char *dir)
{
    if (!dir)
        return;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *p = tlsfx_path(dir, e->d_name);
        if (p && unlink(p) < 0)
            rmdir(p);  /* a directory the test made on purpose */
        free(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    free(dir);
}

char *tlsfx_path(const char *dir, const char *name)
{
    char *p;
    return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

SSL_CTX *tlsfx_server_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx)
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    return ctx;
}

static SSL *client_new(const struct tlsfx_client *o)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL *c = cctx ? SSL_new(cctx) : NULL;
    SSL_CTX_free(cctx);  /* the SSL holds its own reference */
    if (!c)
        return NULL;
    int ok = 1;
    if (o && o->sni)
        ok = ok && SSL_set_tlsext_host_name(c, o->sni);
    if (o && o->sigalgs)
        ok = ok && SSL_set1_sigalgs_list(c, o->sigalgs);
    if (o && o->ciphers)
        ok = ok && SSL_set_cipher_list(c, o->ciphers);
    if (o && o->max_version)
        ok = ok && SSL_set_max_proto_version(c, o->max_version);
    if (o && o->groups)
        ok = ok && SSL_set1_groups_list(c, o->groups);
    if (!ok) {
        SSL_free(c);
        return NULL;
    }
    SSL_set_connect_state(c);
    return c;
}

/* 1 done, 0 wants more bytes, -1 failed */
static int step(SSL *ssl)
{
    int rc = SSL_do_handshake(ssl);
    if (rc == 1)
        return 1;
    int e = SSL_get_error(ssl, rc);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

X509 *tlsfx_handshake(SSL_CTX *server_ctx, const struct tlsfx_client *opts)
{
    return tlsfx_handshake_chain(server_ctx, opts, NULL);
}

/* Connects c and s through a BIO pair and runs the handshake both ways:
 * 1 when both finished, 0 when either failed or it never ended. */
static int handshake(SSL *c, SSL *s)
{
    BIO *cb = NULL, *sb = NULL;
    if (!c || !s || !BIO_new_bio_pair(&cb, 0, &sb, 0))
        return 0;
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_accept_state(s);
    for (int round = 0; round < 32; round++) {
        int rc = step(c), rs = step(s);
        if (rc < 0 || rs < 0)
            return 0;
        if (rc == 1 && rs == 1)
            return 1;
    }
    return 0;
}

X509 *tlsfx_handshake_chain(SSL_CTX *server_ctx, const struct tlsfx_client *opts, int *chain_len)
{
    SSL *c = client_new(opts);
    SSL *s = SSL_new(server_ctx);
    X509 *peer = NULL;
    if (handshake(c, s)) {
        peer = SSL_get1_peer_certificate(c);
        if (chain_len)
            *chain_len = sk_X509_num(SSL_get_peer_cert_chain(c));
    }
    ERR_clear_error();
    SSL_free(c);
    SSL_free(s);
    return peer;
}

SSL_SESSION *tlsfx_resume(SSL_CTX *server_ctx, const struct tlsfx_client *opts, SSL_SESSION *offer, int *reused)
{
    SSL *c = client_new(opts);
    SSL *s = SSL_new(server_ctx);
    SSL_SESSION *got = NULL;
    *reused = -1;
    if (!c || (offer && SSL_set_session(c, offer) != 1) || !handshake(c, s))
        goto out;
    /* TLS 1.3 tickets come after the handshake: let the server write them
     * and the client read them (both reads find nothing else to return). */
    unsigned char byte;
    for (int round = 0; round < 4; round++) {
        (void)SSL_read(s, &byte, 1);
        (void)SSL_read(c, &byte, 1);
    }
    *reused = SSL_session_reused(c);
    got = SSL_get1_session(c);
    /* A connection freed without a shutdown marks its session as not
     * resumable (OpenSSL takes it for a failed one). */
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
out:
    ERR_clear_error();
    SSL_free(c);
    SSL_free(s);
    return got;
}

size_t tlsfx_client_hello(const struct tlsfx_client *opts, unsigned char *buf, size_t cap)
{
    SSL *c = client_new(opts);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    size_t n = 0;
    if (c && rb && wb) {
        SSL_set_bio(c, rb, wb);
        rb = wb = NULL;
        if (step(c) == 0) {
            int got = BIO_read(SSL_get_wbio(c), buf, (int)cap);
            n = got > 0 ? (size_t)got : 0;
        }
    }
    BIO_free(rb);
    BIO_free(wb);
    SSL_free(c);
    ERR_clear_error();
    return n;
}

const char *tlsfx_cn(X509 *cert, char *buf, size_t len)
{
    buf[0] = '\0';
    if (cert)
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, (int)len);
    return buf;
}
