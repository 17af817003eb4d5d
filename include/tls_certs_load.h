/*
 * tls_certs_load: reading certificate files for the store (tls_certs.c).
 *
 * Internal to the certificate store: turns `listen ... tls PATH` into a
 * list of parsed certificates in file name order, each with its key, its
 * chain and the facts tls_cert_info shows.  Nothing here knows about SNI.
 */
#ifndef PROXY_TLS_CERTS_LOAD_H
#define PROXY_TLS_CERTS_LOAD_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "tls_cert_info.h"

/* Where a certificate goes among the ones sharing a name: the ECDSA one for
 * clients that take it, the other (RSA, usually) for everyone. */
enum tls_key_slot { TLS_SLOT_RSA, TLS_SLOT_ECDSA, TLS_SLOTS };

struct tls_cert {
    struct tls_cert_info info;  /* its strings are owned here */
    X509 *leaf;
    EVP_PKEY *key;
    STACK_OF(X509) *chain;      /* the certificates after the leaf (may be empty) */
    enum tls_key_slot slot;
    unsigned ec_group;          /* TLS group of an ECDSA key (23 P-256, 24 P-384, 25 P-521), else 0 */
    unsigned ec_sigalg;         /* the TLS 1.3 signature scheme for that curve (0x0403...), else 0 */
};

struct tls_cert_list {
    struct tls_cert *v;
    size_t n, cap;
    size_t default_idx;         /* default.pem / default.crt, or (size_t)-1 */
};

/* Reads a PEM file or a directory (see tls_certs.h) into an empty list;
 * 0, or -1 with err = "FILE: what is wrong" (the list is then cleared). */
int tls_certs_read(const char *path, struct tls_cert_list *out, char *err, size_t errlen);

void tls_cert_list_clear(struct tls_cert_list *l);

#endif
