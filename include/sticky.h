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
 * The codec functions are pure (no runtime, no sockets) for the unit
 * tests; the sticky_pool_* and txn functions are the glue.
 */
#ifndef PROXY_STICKY_H
#define PROXY_STICKY_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "runtime.h"

#define STICKY_ID_LEN 16     /* base64url of 12 bytes of HMAC-SHA256 */
#define STICKY_SECRET_LEN 32 /* the random per-process key */

struct txn;

/* ---- the codec (pure) -------------------------------------------------------------------- */

/* The id of server `server` of pool `pool` under `key`: STICKY_ID_LEN
 * characters of [A-Za-z0-9_-] and a NUL into out. */
void sticky_id_make(const void *key, size_t key_len, const char *pool, const char *server,
                    char out[STICKY_ID_LEN + 1]);

/* Finds the first `name=value` pair in one Cookie field value v[0..len)
 * (pairs separated by ';', blanks around them ignored, names compared
 * exactly as cookie names are).  Returns 1 with the value (trimmed) in
 * *val / *vlen, or 0. */
int sticky_cookie_find(const char *v, size_t len, const char *name, const char **val, size_t *vlen);

/* Removes every `name=...` pair from the Cookie value v[0..len) in place,
 * keeping the other pairs and the separators between them as they came.
 * Returns the new length (0: nothing else was in it). */
size_t sticky_cookie_strip(char *v, size_t len, const char *name);

/* Over a parsed request head at buf[0..h->len), followed by more bytes up
 * to buf_len: copies the first value of cookie `name` found in a Cookie
 * field into found[0..cap) (NUL-terminated; a value that does not fit is
 * left empty, as it cannot be one of ours) and sets *present; then strips
 * the cookie from every Cookie field, dropping a field left empty, moving
 * the bytes after it and fixing h (its length, field and Host offsets).
 * Returns the new buf_len (the head only ever shrinks). */
size_t sticky_head_strip(char *buf, size_t buf_len, struct http_head *h, const char *name,
                         char *found, size_t cap, int *present);

/* Writes the Set-Cookie field line (CRLF included) giving `id` under
 * `name`: `Set-Cookie: NAME=ID; Path=/[; Max-Age=N]; HttpOnly[; Secure];
 * SameSite=Lax`.  max_age_s 0 leaves Max-Age out (a session cookie).
 * Returns its length, or 0 when it does not fit in cap. */
size_t sticky_set_cookie(char *out, size_t cap, const char *name, const char *id, uint64_t max_age_s,
                         int secure);

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

/* ---- a request (txn) ------------------------------------------------------------------- */

/* The request head of t at buf[0..h->len) (followed by more bytes up to
 * *buf_len) was routed to a pool: when that pool is sticky, notes which
 * server its cookie names (t->sticky_srv, for the first pick) and strips
 * the cookie from the head (*buf_len and h updated). */
void sticky_request(struct txn *t, char *buf, size_t *buf_len, struct http_head *h);

/* The edited response head of t at out[0..len), ending with its blank
 * line: adds the Set-Cookie line when the pool is sticky and the server
 * that answered is not the one the request's cookie named, and counts a
 * hit or a re-stick.  Returns the new length, len when nothing was added,
 * 0 when it does not fit in cap (or len was 0). */
size_t sticky_response(struct txn *t, char *out, size_t len, size_t cap);

#endif
