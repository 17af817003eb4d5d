/*
 * stats_buf: a growable byte buffer for the stats port's documents, with
 * the escaping that JSON strings and Prometheus label values need.  Every
 * renderer (stats_json.c and the per-feature stats_*.c) writes into one.
 */
#ifndef PROXY_STATS_BUF_H
#define PROXY_STATS_BUF_H

#include <stddef.h>

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

#endif
