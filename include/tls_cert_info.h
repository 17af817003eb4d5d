/*
 * tls_cert_info: what is shown of one certificate (stats, metrics,
 * events), as a type alone.  Shared by the store (tls_certs.h), which
 * hands it out, and the loader (tls_certs_load.h), which fills it in: the
 * store calls the loader, so the loader must not include the store.
 */
#ifndef PROXY_TLS_CERT_INFO_H
#define PROXY_TLS_CERT_INFO_H

#include <stddef.h>
#include <time.h>

/* Owned by the store, valid as long as it is. */
struct tls_cert_info {
    const char *path;          /* the file holding the certificate (.pem or .crt) */
    const char *const *names;  /* its DNS names, lowercased, as matched against SNI */
    size_t nnames;
    const char *key_type;      /* "RSA 2048", "ECDSA P-256", "Ed25519", ... */
    time_t not_after;          /* end of validity, Unix time */
    int is_default;            /* served without SNI or when no name matches */
};

#endif
