/*
 * stats_admit: the admission figures (CONTRACT sections 9 and 13) in the
 * stats documents - `limits` (the client table's size, evictions, refusals
 * and the most limited clients) and `routes` (per route: match, pool,
 * priority, requests, limited) in /api/stats; proxy_limited_total,
 * proxy_clients_tracked and proxy_client_evictions_total in /metrics.
 */
#ifndef PROXY_STATS_ADMIT_H
#define PROXY_STATS_ADMIT_H

#include "runtime.h"
#include "stats_buf.h"

/* Most limited clients listed. */
#define STATS_TOP_LIMITED 10

/* `,"limits":{...},"routes":[...]` (a leading comma: fields of the
 * top-level object). */
void stats_admit_json(struct stats_buf *b, const struct runtime *rt);
void stats_admit_prom(struct stats_buf *b, const struct runtime *rt);
/* "host H path P", "path P", "default" ... : how a route is shown. */
void stats_route_match(const struct config_route *r, char *out, size_t cap);

#endif
