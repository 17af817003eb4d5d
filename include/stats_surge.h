/*
 * stats_surge: the traffic's anatomy and the surge state in the stats
 * documents: `,"traffic":{...}` in /api/stats and the surge metrics
 * (CONTRACT 10).
 */
#ifndef PROXY_STATS_SURGE_H
#define PROXY_STATS_SURGE_H

#include "stats_buf.h"

void stats_json_traffic(struct stats_buf *b);
void stats_prom_traffic(struct stats_buf *b);

#endif
