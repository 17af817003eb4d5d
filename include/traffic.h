/*
 * traffic: the anatomy of the request stream (CONTRACT 10), kept all the
 * time: distinct clients over the last 10 s, the share of them not seen in
 * the 30 minutes before, the top client prefixes (IPv4 /24, IPv6 /48),
 * clients and paths, and the traffic's shape.
 *
 * Workers call traffic_note() once per request: shared HyperLogLogs and a
 * seen table take relaxed atomics, and the heavy-hitter summaries are the
 * worker's own (a shard), handed to the main thread by an epoch handshake
 * - the main thread asks for a switch (a tenth of a second before it
 * reads), the worker takes its other buffer at its next request and says
 * so, and only then is the old one read - so
 * no lock is taken and nothing is allocated per request.  The main thread
 * calls traffic_tick() once a second to merge and read.  The per-client
 * rate histogram is traffic_rates.h's.  Memory is fixed: about 5 MiB
 * whatever the traffic.
 */
#ifndef PROXY_TRAFFIC_H
#define PROXY_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "traffic_rates.h"
#include "traffic_sketch.h"

#define TRAFFIC_WINDOW_S 10          /* distinct clients and the top lists cover this */
#define TRAFFIC_NEW_WINDOW_S 1800    /* "new": not seen in this long before */
#define TRAFFIC_TOP 5                /* prefixes and paths reported */
#define TRAFFIC_TOP_CLIENTS 10       /* clients reported (the shape weighs the top 10) */
#define TRAFFIC_BROAD_PREFIX_MAX 0.10   /* broad: no prefix above 10% ... */
#define TRAFFIC_BROAD_CLIENTS_MAX 0.50  /* ... and the top 10 clients under half */

enum traffic_shape { TRAFFIC_BROAD, TRAFFIC_CONCENTRATED };

struct traffic_top {
    char key[TOPK_KEY];
    uint32_t count; /* requests, at least */
    double share;   /* of the requests in the window */
};

/* What the last 10 s looked like. */
struct traffic_view {
    uint64_t requests;       /* requests the top lists weigh */
    double distinct;         /* distinct clients (estimate, within 2%) */
    double new_share;        /* of them, not seen in the 30 minutes before */
    unsigned nprefixes, npaths, nclients;
    struct traffic_top prefixes[TRAFFIC_TOP], paths[TRAFFIC_TOP], clients[TRAFFIC_TOP_CLIENTS];
    double top_prefix_share;     /* the heaviest prefix's share */
    double top_clients_share;    /* the 10 heaviest clients' share */
    enum traffic_shape shape;
    struct traffic_rates rates;  /* clients by request rate, the last complete 10 s window */
};

/* Worker side: one request from `client_ip` (text, as in the access log)
 * for `path` (the query is left out here) at monotonic `now_ms`. */
void traffic_note(const char *client_ip, const char *path, size_t path_len, uint64_t now_ms);

/* Worker side, once a second: answers a handover the main thread asked
 * for even when no request comes (else the last requests before a quiet
 * spell stayed out of the top lists until the next one, or for good). */
void traffic_worker_tick(void);

/* Main thread, once a second, shortly before traffic_tick: asks each
 * worker to move to its other buffer at its next request (or its next
 * traffic_worker_tick). */
void traffic_handover(void);
/* Main thread, once a second: takes in the buffers the workers handed
 * over since traffic_handover (what they counted until then) and
 * describes the last 10 s in *out. */
void traffic_tick(uint64_t now_ms, struct traffic_view *out);

/* "broad" or "concentrated". */
const char *traffic_shape_name(enum traffic_shape shape);
/* The shape of traffic whose heaviest prefix and 10 heaviest clients hold
 * these shares. */
enum traffic_shape traffic_shape_of(double top_prefix_share, double top_clients_share);

/* The prefix of an address text: "192.0.2.0/24", "2001:db8:1::/48";
 * returns its length (0 when `ip` is not an address). */
size_t traffic_prefix(const char *ip, char *out, size_t cap);

/* Forgets everything (tests, and a fresh start). */
void traffic_reset(void);

#endif
