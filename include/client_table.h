/*
 * client_table: per-client admission state that every worker shares - the
 * token bucket of `limit rate` and the connection count of `limit
 * client-conns` - in a table of bounded size where the least recently seen
 * client is evicted first (as HAProxy's stick tables and nginx's
 * limit_req zones).
 *
 * The table is split in shards by a keyed hash of the client key, each
 * with its own spinlock held for a few dozen instructions, its own hash
 * chains and its own LRU list; entries are preallocated (calloc, touched
 * only when first used), so a request costs one lock, one lookup and no
 * allocation.  The hash is keyed with a random seed so that clients cannot
 * pick addresses that all land in one chain.
 */
#ifndef PROXY_CLIENT_TABLE_H
#define PROXY_CLIENT_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct client_table;

/* Room for `capacity` clients in `shards` shards (a power of two, 1..256;
 * each holds capacity / shards).  `seed` keys the hash.  NULL when out of
 * memory. */
struct client_table *client_table_new(size_t capacity, unsigned shards, uint64_t seed);
void client_table_free(struct client_table *ct);

/* Takes a token of `key`'s bucket at `now_ns` (monotonic), with one token
 * every interval_ns and `burst` at most: 0 when allowed, else the
 * nanoseconds until the next token (the client is counted as limited). */
uint64_t client_table_rate(struct client_table *ct, uint64_t key, uint64_t now_ns, uint64_t interval_ns,
                           uint64_t burst);
/* A connection from `key` opens: 0 when it holds fewer than `max` (it is
 * counted), -1 when it is at `max` (refused, counted as limited). */
int client_table_conn_open(struct client_table *ct, uint64_t key, unsigned max);
/* A connection counted by conn_open closed. */
void client_table_conn_close(struct client_table *ct, uint64_t key);
/* Connections `key` holds now (0 when not in the table). */
unsigned client_table_conns(struct client_table *ct, uint64_t key);

struct client_table_stats {
    uint64_t tracked;      /* clients in the table */
    uint64_t capacity;
    uint64_t evictions;    /* clients evicted to make room */
};
void client_table_stats(struct client_table *ct, struct client_table_stats *out);

/* One of the most limited clients. */
struct client_top {
    uint64_t key;
    uint64_t limited;      /* requests and connections refused */
};
/* Fills top[0..max) with the clients refused most, most first; returns how
 * many.  Walks the whole table (the stats port, not a request). */
size_t client_table_top_limited(struct client_table *ct, struct client_top *top, size_t max);

#endif
