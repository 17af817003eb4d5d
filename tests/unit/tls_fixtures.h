/*
 * tls_fixtures: keys, certificates and in-memory handshakes for the TLS
 * unit tests (and the TLS fuzz harness, which links this file too: so no
 * Criterion here; every helper returns NULL / -1 on failure and the test
 * asserts).
 *
 * Certificates are made in the test with the OpenSSL API: self-signed,
 * with the CN, DNS SANs and notAfter the test chooses, so a test says
 * exactly what it needs and nothing depends on files in the tree.
 */
#ifndef PROXY_TEST_TLS_FIXTURES_H
#define PROXY_TEST_TLS_FIXTURES_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

/* Keys: RSA of `bits`, or ECDSA on a named curve ("P-256", "P-384"). */
EVP_PKEY *tlsfx_key_rsa(int bits);
EVP_PKEY *tlsfx_key_ec(const char *curve);

/* A self-signed certificate for `key`: subject CN `cn` (NULL: none), a
 * subjectAltName of DNS names `sans` (a NULL-terminated list; NULL: no SAN
 * extension), valid from an hour ago until `not_after`. */
X509 *tlsfx_cert(EVP_PKEY *key, const char *cn, const char *const *sans, time_t not_after);

/* Writes PEM files: chain + key in one file (key first or last), a
 * certificate alone (.crt) or a key alone (.key).  0 or -1. */
int tlsfx_write_pem(const char *path, X509 *cert, EVP_PKEY *key, int key_first);
int tlsfx_write_cert(const char *path, X509 *cert);
int tlsfx_write_key(const char *path, EVP_PKEY *key);

/* Makes a certificate for `key` and writes it with the key to dir/file. */
int tlsfx_make_pem(const char *dir, const char *file, EVP_PKEY *key, const char *cn,
                   const char *const *sans, time_t not_after);

/* A fresh directory under $TMPDIR (or /tmp), and its removal with
 * everything in it (one level deep, as the tests make them). */
char *tlsfx_mkdtemp(void);
void tlsfx_rmtree(char *dir);  /* frees dir */
/* dir/name in a malloc'd string. */
char *tlsfx_path(const char *dir, const char *name);

/* What the test client offers; NULL / 0 fields keep OpenSSL's defaults. */
struct tlsfx_client {
    const char *sni;        /* SSL_set_tlsext_host_name */
    const char *sigalgs;    /* SSL_set1_sigalgs_list, e.g. "RSA-PSS+SHA256:RSA+SHA256" */
    const char *ciphers;    /* TLS 1.2 suites (SSL_set_cipher_list) */
    int max_version;        /* e.g. TLS1_2_VERSION */
    const char *groups;     /* SSL_set1_groups_list; the first gets the TLS 1.3 key share */
};

/* A server SSL_CTX (TLS_server_method, TLS 1.2 lowest) with nothing on it. */
SSL_CTX *tlsfx_server_ctx(void);

/* A complete handshake between a client as described and a server SSL of
 * server_ctx, through a memory BIO pair; gives back the certificate the
 * client received (X509_free it), or NULL when the handshake failed. */
X509 *tlsfx_handshake(SSL_CTX *server_ctx, const struct tlsfx_client *opts);
/* The same, also giving the length of the chain the client received
 * (leaf included). */
X509 *tlsfx_handshake_chain(SSL_CTX *server_ctx, const struct tlsfx_client *opts, int *chain_len);

/* A handshake as tlsfx_handshake that offers `offer` (NULL: none) for
 * resumption; sets *reused (1 resumed, 0 full, -1 failed) and gives back
 * the session the client holds afterwards, with the ticket the server sent
 * (SSL_SESSION_free it), or NULL when the handshake failed. */
SSL_SESSION *tlsfx_resume(SSL_CTX *server_ctx, const struct tlsfx_client *opts, SSL_SESSION *offer, int *reused);

/* The first flight such a client sends (its ClientHello records) into
 * buf; the number of bytes, or 0. */
size_t tlsfx_client_hello(const struct tlsfx_client *opts, unsigned char *buf, size_t cap);

/* The subject CN of a certificate into buf ("" when none); buf. */
const char *tlsfx_cn(X509 *cert, char *buf, size_t len);

#endif
