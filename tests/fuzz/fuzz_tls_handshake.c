/*
 * fuzz_tls_handshake: a TLS listener's server side fed arbitrary client bytes.
 *
 * The server SSL comes from an SSL_CTX with a certificate store attached
 * (tls_store_attach), so every ClientHello goes through the store's
 * ClientHello callback: its own parsing of server_name,
 * signature_algorithms, supported_groups, supported_versions and the
 * cipher list, then the certificate it installs.  The store holds what
 * makes the choice interesting: an ECDSA and an RSA certificate for the
 * same exact and wildcard names, and a default.  It is made once per
 * process (keys generated in memory, written to a scratch directory,
 * loaded, the directory removed), so no input depends on files.
 *
 * The input is one connection's bytes from the client, after a control byte:
 *
 *   data[0]  bits 0-2  size of the pieces the bytes arrive in: all at once,
 *                      1, 2, 5, 16, 64, 256 or 1024 bytes
 *            bit 3     the server offers TLS 1.2 at most
 *
 * After the last piece the transport reports end of stream.  Besides the
 * sanitizers (no crash, no leak, no read past the input), it aborts when
 * the server sends a ServerHello with a certificate other than the one the
 * store chooses for the server name OpenSSL parsed (one of the pair when
 * there are two: which one depends on the client's offer).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls_certs.h"
#include "../unit/tls_fixtures.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c)) {                                                                           \
            fprintf(stderr, "fuzz_tls_handshake: invariant failed: %s (%s:%d)\n", #c,          \
                    __FILE__, __LINE__);                                                      \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

static struct tls_store *store;
static SSL_CTX *ctx, *ctx12;

/* Each certificate's CN is its file name, which is how a check tells them apart. */
static void make_cert(const char *dir, const char *file, EVP_PKEY *key, const char *const *names)
{
    CHECK(key != NULL);
    CHECK(tlsfx_make_pem(dir, file, key, file, names, time(NULL) + 86400) == 0);
    EVP_PKEY_free(key);
}

static SSL_CTX *server_ctx(int max_version)
{
    SSL_CTX *c = tlsfx_server_ctx();
    CHECK(c != NULL);
    if (max_version)
        SSL_CTX_set_max_proto_version(c, max_version);
    tls_store_ref(store);  /* the ctx takes this one; `store` stays ours */
    CHECK(tls_store_attach(store, c) == 0);
    return c;
}

static void init(void)
{
    const char *const names[] = {"example.test", "*.example.test", NULL};
    char *dir = tlsfx_mkdtemp(), err[512];
    CHECK(dir != NULL);
    make_cert(dir, "a-ecdsa.pem", tlsfx_key_ec("P-256"), names);
    /* RSA 2048: Debian's OpenSSL refuses shorter keys at its default
     * security level (2).  Its generation is most of a replayed input's
     * time (about 0.3 s under ASan). */
    make_cert(dir, "a-rsa.pem", tlsfx_key_rsa(2048), names);
    make_cert(dir, "b-p384.pem", tlsfx_key_ec("P-384"), (const char *const[]){"p384.test", NULL});
    make_cert(dir, "default.pem", tlsfx_key_ec("P-256"), (const char *const[]){"default.test", NULL});
    store = tls_store_load(dir, err, sizeof err);
    tlsfx_rmtree(dir);
    if (!store) {
        fprintf(stderr, "fuzz_tls_handshake: %s\n", err);
        abort();
    }
    ctx = server_ctx(0);
    ctx12 = server_ctx(TLS1_2_VERSION);
}

/* Whether cert is the certificate the store chooses for this server name
 * (for a client that takes ECDSA or for one that does not). */
static int chosen_for(X509 *cert, const char *sni)
{
    char cn[256];
    tlsfx_cn(cert, cn, sizeof cn);
    for (int ecdsa = 0; ecdsa < 2; ecdsa++) {
        const char *path = tls_store_select(store, sni, ecdsa)->path;
        const char *base = strrchr(path, '/');
        if (!strcmp(cn, base ? base + 1 : path))
            return 1;
    }
    return 0;
}

/* Called for every handshake message: checks the certificate in place
 * when the ServerHello (or HelloRetryRequest) goes out. */
static void on_message(int write_p, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg)
{
    (void)version, (void)arg;
    const unsigned char *m = buf;
    if (!write_p || content_type != SSL3_RT_HANDSHAKE || len < 1 || m[0] != SSL3_MT_SERVER_HELLO)
        return;
    X509 *cert = SSL_get_certificate(ssl);
    CHECK(cert != NULL);
    CHECK(chosen_for(cert, SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t pieces[8] = {0, 1, 2, 5, 16, 64, 256, 1024};
    if (!store)
        init();
    if (size < 1)
        return 0;
    size_t piece = pieces[data[0] & 7];
    SSL *ssl = SSL_new(data[0] & 8 ? ctx12 : ctx);
    BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
    CHECK(ssl && in && out);
    BIO_set_mem_eof_return(in, -1);  /* "nothing yet" until the input ends */
    SSL_set_bio(ssl, in, out);
    SSL_set_accept_state(ssl);
    SSL_set_msg_callback(ssl, on_message);

    data++, size--;
    int done = 0;
    for (size_t at = 0; !done;) {
        size_t n = piece && size - at > piece ? piece : size - at;
        if (n)
            CHECK(BIO_write(in, data + at, (int)n) == (int)n);
        at += n;
        if (at == size)
            BIO_set_mem_eof_return(in, 0);  /* the client closed */
        int rc = SSL_do_handshake(ssl);
        int e = SSL_get_error(ssl, rc);
        done = rc == 1 || at == size || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE);
        (void)BIO_reset(out);  /* what the server sent is not read: keep memory flat */
    }
    SSL_free(ssl);
    ERR_clear_error();
    return 0;
}
