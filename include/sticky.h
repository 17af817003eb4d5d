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
 * fuzzer use it alone); here are the ids and their key, below the runtime
 * (which builds each pool's table of them); the look-ups and the txn glue
 * are sticky_txn.h.
 */
#ifndef PROXY_STICKY_H
#define PROXY_STICKY_H

#include <stddef.h>
#include <stdint.h>


#define STICKY_ID_LEN 16     /* base64url of 12 bytes of HMAC-SHA256 */
#define STICKY_SECRET_LEN 32 /* the random per-process key */

/* ---- ids ---------------------------------------------------------------------------------- */

/* The id of server `server` of pool `pool` under `key`: STICKY_ID_LEN
 * characters of [A-Za-z0-9_-] and a NUL into out. */
void sticky_id_make(const void *key, size_t key_len, const char *pool, const char *server,
                    char out[STICKY_ID_LEN + 1]);

/* ---- the key ---------------------------------------------------------------------------- */

/* The key the ids are made under: `configured` (the config's sticky
 * secret) when not empty, else the process's random one (made at the
 * first call, so a reload keeps every cookie valid); its length into
 * *key_len.  NULL (logged) without randomness.  The runtime makes each
 * pool's table of ids with it (runtime_build). */
const void *sticky_key(const char *configured, size_t *key_len);

#endif
