/*
 * stats: the stats port (CONTRACT.md section 6) - a small HTTP/1.1 server
 * on the main thread's event loop that serves the dashboard, /api/stats,
 * /metrics, /healthz and the admin actions (drain, disable, enable).
 *
 * It parses requests with llhttp in strict mode and applies the limits and
 * timeouts of the configuration, like the proxy's own front end.  The
 * documents themselves are rendered by stats_json.c.
 */
#ifndef PROXY_STATS_H
#define PROXY_STATS_H

#include <stddef.h>

#include <ev.h>

#include "config.h"

/* Binds cfg->stats_addr when cfg->has_stats and serves it on `loop` (the
 * main loop).  Copies what it needs from cfg.  Returns 0, or -1 after
 * logging why (the address cannot be bound). */
int stats_start(struct ev_loop *loop, const struct config *cfg);

/* On reload: keeps the listening socket when the address is unchanged,
 * moves it when it changed (binding the new one before closing the old),
 * closes it when `stats` was removed; takes the new token, limits and
 * timeouts.  Open connections are kept.  Returns 0, or -1 after logging
 * (the new address could not be bound: the old one stays). */
int stats_apply(const struct config *cfg);

/* Closes the listener and every connection. */
void stats_stop(void);

/* The dashboard page (dashboard.c). */
extern const char stats_dashboard_html[];
extern const size_t stats_dashboard_len;

#endif
