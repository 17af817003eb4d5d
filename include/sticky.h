/*
 * sticky: sticky sessions by cookie - `sticky cookie NAME [max-age D]` in a
 * pool, `sticky secret STRING` at the top (CONTRACT section 12).
 *
 * A server's cookie value is an opaque id: HMAC-SHA256, keyed with the
 * configured secret or else a random one made once per process (so a
 * reload keeps it), over the pool and server names, truncated to 12 bytes
 * and written in base64url (16 characters).  It names neither the server
 * nor its address; balancers that share the secret, and restarts with it,
 * give the same ids.  A pool's ids are computed once per generation
 * (runtime_build), so a request only compares 16 bytes per server.
 *
 * The request side finds the pool's cookie in the Cookie fields and strips
 * it from the head forwarded to the server (HAProxy's `cookie ... insert
 * indirect`: the server never sees the proxy's cookie, the client's other
 * cookies go through untouched).  Which server takes the request is
 * balance_pick_sticky's rule (balance.h).  The response side adds
 * `Set-Cookie` when the server that answered is not the one the request's
 * cookie named (no cookie, a stale or forged one, or a server that did not
 * take it), and counts hits and re-sticks per pool.
 *
 * The Cookie codec is sticky_cookie.h (pure: unit tests and the request
 * fuzzer use it alone); here are the ids and a pool's table of them (built
 * with the runtime, below the txn); the txn glue is sticky_txn.h.
 */
#ifndef PROXY_STICKY_H
#define PROXY_STICKY_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "runtime.h"

#define STICKY_ID_LEN 16     /* base64url of 12 bytes of HMAC-SHA256 */
#define STICKY_SECRET_LEN 32 /* the random per-process key */

/* ---- ids ---------------------------------------------------------------------------------- */

/* The id of server `server` of pool `pool` under `key`: STICKY_ID_LEN
 * characters of [A-Za-z0-9_-] and a NUL into out. */
void sticky_id_make(const void *key, size_t key_len, const char *pool, const char *server,
                    char out[STICKY_ID_LEN + 1]);

/* ---- a pool's ids (runtime) --------------------------------------------------------------- */

/* Main thread (runtime_build): computes the ids of pool's servers when its
 * configuration has `sticky cookie`, with cfg's secret or the process's
 * random one (made at the first call).  0, or -1 when out of memory or
 * without randomness. */
int sticky_pool_init(struct pool *pool, const struct config *cfg);
void sticky_pool_free(struct pool *pool);
/* The server whose id is value[0..len) in pool, or NULL. */
struct server *sticky_pool_lookup(const struct pool *pool, const char *value, size_t len);
/* The id of srv in pool, or NULL when it is not one of pool's servers. */
const char *sticky_pool_id(const struct pool *pool, const struct server *srv);

#endif
