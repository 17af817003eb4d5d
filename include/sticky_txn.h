/*
 * sticky_txn: a request's side of sticky sessions (see sticky.h) - the
 * cookie noted and stripped from the request head, Set-Cookie added to the
 * response, and the look-ups in a pool's table of ids (pool->sticky_ids,
 * built by runtime_build with sticky.h's ids).  Apart from sticky.c
 * because it reads the txn and the runtime, while sticky.c, which the
 * runtime calls, reads neither.
 */
#ifndef PROXY_STICKY_TXN_H
#define PROXY_STICKY_TXN_H

#include <stddef.h>

#include "http.h"

struct pool;
struct server;
struct txn;

/* The server whose id is value[0..len) in pool, or NULL. */
struct server *sticky_pool_lookup(const struct pool *pool, const char *value, size_t len);
/* The id of srv in pool, or NULL when it is not one of pool's servers. */
const char *sticky_pool_id(const struct pool *pool, const struct server *srv);

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
