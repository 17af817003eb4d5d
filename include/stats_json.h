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

#define STATS_VERSION "0.1.0"

/* A growable byte buffer.  After an allocation failure `oom` is set and
 * further appends do nothing, so a renderer checks once at the end. */
struct stats_buf {
    char *data;
    size_t len;
    size_t cap;
    int oom;
};

void stats_buf_init(struct stats_buf *b);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void stats_buf_free(struct stats_buf *b);
void stats_buf_reset(struct stats_buf *b);
void stats_buf_append(struct stats_buf *b, const void *data, size_t len);
void stats_buf_puts(struct stats_buf *b, const char *s);
void stats_buf_printf(struct stats_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends `s` as a quoted JSON string (RFC 8259 escaping). */
void stats_json_string(struct stats_buf *b, const char *s);
/* Appends `s` escaped for a Prometheus label value (\\, \", \n). */
void stats_prom_label(struct stats_buf *b, const char *s);
/* "# HELP name help\n# TYPE name type\n" */
void stats_prom_head(struct stats_buf *b, const char *name, const char *type, const char *help);
/* stats_tls.c: `,"listeners":[...],"certificates":[...]` and their metrics. */
void stats_json_listeners(struct stats_buf *b, const struct runtime *rt);
void stats_prom_listeners(struct stats_buf *b, const struct runtime *rt);
/* stats_surge.c: `,"traffic":{...}` and the surge metrics. */
void stats_json_traffic(struct stats_buf *b);
void stats_prom_traffic(struct stats_buf *b);

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
