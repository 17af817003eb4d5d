/*
 * stats_tls: the listeners and their certificates in the stats documents:
 * `,"listeners":[...],"certificates":[...]` in /api/stats and their
 * metrics (CONTRACT 7).
 */
#ifndef PROXY_STATS_TLS_H
#define PROXY_STATS_TLS_H

#include "runtime.h"
#include "stats_buf.h"

void stats_json_listeners(struct stats_buf *b, const struct runtime *rt);
void stats_prom_listeners(struct stats_buf *b, const struct runtime *rt);

#endif
