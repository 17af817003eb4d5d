/*
 * admit: the admission step (CONTRACT section 9) - who the client is (the
 * peer, or behind a trusted CDN the last address it added to the
 * `client-ip header`), whether a limit applies to it (`trust`), and the
 * per-client limits themselves: `limit rate` per request (429 with
 * Retry-After) and `limit client-conns` per connection (closed at once),
 * counted in the one client table all workers share (client_table.h).
 *
 * The txn layer calls admit_request for each request (txn_admit); conn.c
 * calls admit_conn_open / admit_conn_close around a client connection's
 * life.  With no limit configured neither touches the table.
 */
#ifndef PROXY_ADMIT_H
#define PROXY_ADMIT_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>

#include "client_table.h"
#include "config.h"
#include "http.h"
#include "runtime.h"

#define ADMIT_SHARDS 64

/* The table every worker shares, made at first use with cfg's `limit
 * clients` (a later generation's size applies at the next start: the
 * table keeps every client's state over reloads); NULL when out of memory
 * (then no per-client limit applies: fail open, warned once). */
struct client_table *admit_table(const struct config *cfg);
/* The table if a limit made it already, else NULL (the stats: a proxy
 * with no limit configured never holds one). */
struct client_table *admit_table_peek(void);

/* Process-wide refusals by reason (relaxed atomics). */
struct admit_counters {
    atomic_uint_fast64_t limited_rate;   /* 429s of limit rate */
    atomic_uint_fast64_t limited_conns;  /* connections closed by limit client-conns */
};
extern struct admit_counters admit_counters;

/* A client connection from `peer` (a struct sockaddr) arrives on a worker
 * running generation rt (NULL: none yet, nothing applies): 0 to take
 * it, with *key what to give admit_conn_close (CLIENT_KEY_NONE when it was
 * not counted: no limit, or a trusted or client-ip peer, whose connections
 * carry many clients); -1 when its client is at `limit client-conns`. */
int admit_conn_open(const struct runtime *rt, const void *peer, uint64_t *key);
void admit_conn_close(uint64_t key);
/* The connection's client turned out to be `peer` (a PROXY protocol header
 * named it after the accept counted the balancer in front): moves the
 * count in *key (from admit_conn_open) to the new client.  Returns 0, or
 * -1 when the new client is at `limit client-conns` (close the connection;
 * *key is then CLIENT_KEY_NONE). */
int admit_conn_repeer(const struct runtime *rt, const void *peer, uint64_t *key);

/* Who the client of a request is: the peer, or when the peer is in a
 * `client-ip ... from` range and the head carries that header, the last
 * address of its last field.  Returns 1 when it came from the header. */
int admit_client_of(const struct config *cfg, const struct in6_addr *peer, const char *buf,
                    const struct http_head *h, struct in6_addr *client);

/* The rate limit for `client` at now_ns (monotonic): 0 when admitted, else
 * the nanoseconds until it would be. */
uint64_t admit_rate(const struct config *cfg, const struct in6_addr *client, uint64_t now_ns);

/* Monotonic nanoseconds. */
uint64_t admit_now_ns(void);

#endif
