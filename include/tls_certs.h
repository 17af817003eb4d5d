/*
 * tls_certs: the certificate store of a TLS listener.
 *
 * A store is loaded from `listen ... tls PATH`: a PEM file (chain and
 * private key, in either order) or a directory holding any number of
 * `*.pem` files and `NAME.crt` + `NAME.key` pairs.  Once loaded it is
 * immutable, so every worker reads it without a lock; a reload loads a
 * new store beside the old one.
 *
 * Each handshake gets a certificate chosen by SNI among the certificates'
 * DNS names (subjectAltName; the subject CN only when there is no DNS SAN):
 * one hash lookup for the exact name, then one for the wildcard that covers
 * exactly one leftmost label (`*.example.com` matches a.example.com, not
 * a.b.example.com nor example.com).  No SNI or no match: `default.pem`
 * (or `default.crt`) when the directory has one, else the first file in
 * name order.  An RSA and an ECDSA certificate for the same name are both
 * kept; a client whose ClientHello can use ECDSA (a signature algorithm for
 * the key's curve, and a cipher suite ECDSA can sign for that the listener
 * allows) gets the ECDSA one, any other client the RSA one.
 */
#ifndef PROXY_TLS_CERTS_H
#define PROXY_TLS_CERTS_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

#include "tls_cert_info.h"

struct tls_store;

/* Days before not_after from which a certificate counts as expiring. */
#define TLS_CERT_EXPIRY_WARN_DAYS 14

/* Loads every certificate under `path` (see above).  Gives back a store
 * holding one reference, or NULL with err = "FILE: what is wrong" (the
 * offending file's path: unreadable, no certificate, a certificate that
 * does not parse, no key, a key that does not match, a .crt without its
 * .key, or a directory with no certificate at all). */
struct tls_store *tls_store_load(const char *path, char *err, size_t errlen);

/* Drops a reference (NULL-safe); the last one frees the store.  References
 * are atomic: a store may be released on any thread. */
void tls_store_free(struct tls_store *s);
/* One more reference, e.g. to keep using a store a ctx now owns, or to
 * attach one store to several contexts. */
void tls_store_ref(struct tls_store *s);

/* Installs the store on a server SSL_CTX: the default certificate(s) on the
 * ctx and the ClientHello callback (SSL_CTX_set_client_hello_cb, so the ctx
 * must not set another one) that puts the chosen certificate on each SSL.
 * On success the ctx owns the caller's reference (ex_data with a free
 * callback: SSL_CTX_free releases the store, after the last SSL of the ctx,
 * so handshakes in progress at a reload finish with their certificates).
 * On failure (-1) the caller keeps its reference, OpenSSL's reason is on
 * its error queue (ERR_get_error), and the ctx may hold part of the store:
 * free it.  Every certificate is tried against the ctx's settings first
 * (tls_store_check), so a key too weak for its security level is a
 * configuration error rather than failed handshakes. */
int tls_store_attach(struct tls_store *s, SSL_CTX *ctx);

/* That check alone, naming the file: 0, or -1 with err = "FILE: refused by
 * the TLS settings (OpenSSL's reason)".  Call it before tls_store_attach to
 * tell the operator which file of a directory is refused. */
int tls_store_check(const struct tls_store *s, SSL_CTX *ctx, char *err, size_t errlen);

/* The store attached to a ctx by tls_store_attach, or NULL (borrowed). */
struct tls_store *tls_store_of(const SSL_CTX *ctx);

/* What a ClientHello gets: the certificate the callback installs for this
 * server name (NULL or "" = no SNI) and client capability.  Exposed for
 * stats and tests; the callback does the same. */
const struct tls_cert_info *tls_store_select(const struct tls_store *s, const char *sni,
                                             int client_takes_ecdsa);

/* The certificates, in file name order; i < tls_store_count(). */
size_t tls_store_count(const struct tls_store *s);
const struct tls_cert_info *tls_store_info(const struct tls_store *s, size_t i);

/* Whole days from `now` until not_after, rounded down (negative once
 * expired: -1 during the first day after). */
int tls_cert_days_left(const struct tls_cert_info *ci, time_t now);

/* Calls emit once for each certificate that expires within
 * TLS_CERT_EXPIRY_WARN_DAYS days of `now` (expired = 0) or has expired
 * (not_after <= now: expired = 1), in store order. */
void tls_store_check_expiry(const struct tls_store *s, time_t now,
                            void (*emit)(void *arg, const struct tls_cert_info *ci,
                                         int days_left, int expired),
                            void *arg);

#endif
