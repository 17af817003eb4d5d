/*
 * stats_json: renders the stats port's documents - the /api/stats JSON and
 * the /metrics Prometheus text (CONTRACT.md section 6) - into a growable
 * buffer.
 *
 * These are pure functions of a runtime generation and the process-wide
 * `metrics`: no sockets, no event loop, so unit tests build a runtime by
 * hand and check the text.
 */
#ifndef PROXY_STATS_JSON_H
#define PROXY_STATS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"
#include "stats_buf.h"

#define STATS_VERSION "0.1.0"


/* "up", "down", "draining" or "disabled": the admin state wins. */
const char *stats_server_state(const struct server *srv);
/* "pass", "fail" or "none". */
const char *stats_check_status(const struct server *srv);

/* Appends one server's JSON object (as in /api/stats and the admin
 * actions' answers) at monotonic time `now` (its rate). */
void stats_json_server(struct stats_buf *b, const struct server *srv, uint64_t now);

/* The whole /api/stats document for generation `rt` (NULL: no pools) at
 * monotonic time `now`.  Returns 0, or -1 when memory ran out. */
int stats_json_render(struct stats_buf *b, const struct runtime *rt, uint64_t now);

/* The /metrics document, text format 0.0.4.  Returns 0 or -1 (memory). */
int stats_prom_render(struct stats_buf *b, const struct runtime *rt, uint64_t now);

#endif
