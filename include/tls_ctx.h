/*
 * tls_ctx: the OpenSSL contexts of one configuration generation - one per
 * TLS listen line (its certificates, ALPN, client CA) and one per pool
 * that speaks TLS to its servers - built on the main thread with every
 * file checked, so `proxy -t`, the start and a reload fail alike on a bad
 * certificate, with the file's path, and a failed reload keeps the old.
 *
 * A context is shared by every worker (OpenSSL's are thread-safe once
 * built), which also shares the session cache between them; session
 * ticket keys are process-wide and outlive reloads (tls_tickets.c).
 */
#ifndef PROXY_TLS_CTX_H
#define PROXY_TLS_CTX_H

#include <stdatomic.h>
#include <stddef.h>

#include "config.h"
#include "metrics.h"

struct ssl_ctx_st;
struct tls_store;

/* One listen address's connections and handshakes, kept across reloads
 * (main thread creates; workers count). */
struct listener_counters {
    char address[CONFIG_ADDR_TEXT_MAX];
    atomic_uint active;       /* client connections open now */
    atomic_ullong total;      /* accepted since start */
    atomic_ullong handshakes; /* TLS: finished, resumed ones included */
    atomic_ullong resumed;
    atomic_ullong failed;     /* closed or refused before finishing */
    atomic_ullong h2_goaway[H2_ABUSE_REASONS]; /* HTTP/2 abuse cut on it, by reason (metrics.h) */
};

struct tls_set {
    size_t nlistens;
    struct ssl_ctx_st **listen;        /* per cfg->listens[i]; NULL for plaintext */
    struct listener_counters **counters; /* per cfg->listens[i] */
    /* Per cfg->listens[i], for the stats and the expiry checks: its store
     * (owned by its context), NULL for plaintext and for a line that loads
     * the same path as an earlier one (its certificates are listed once). */
    const struct tls_store **stores;
    size_t npools;
    struct ssl_ctx_st **pool;          /* per cfg->pools[i]; NULL for plaintext servers */
};

/* Builds every context cfg asks for.  NULL with err set to "PATH: why"
 * (or "FILE:LINE: ...") when a certificate, key or CA file is unusable. */
struct tls_set *tls_set_build(const struct config *cfg, char *err, size_t errlen);
void tls_set_free(struct tls_set *set);

/* The counters of a listen address, TLS or not (created on first use; never freed, at
 * most one per address ever listened on).  Main thread. */
struct listener_counters *listener_counters_for(const char *address);
/* Every listen address counted so far, in the order first seen. */
size_t listener_counters_all(struct listener_counters *const **out);

#endif
