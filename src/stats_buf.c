/*
 * stats_buf: the growable buffer the stats documents are rendered into,
 * and the escaping JSON and Prometheus text need (see stats_buf.h).
 */
#include "stats_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the buffer ------------------------------------------------------------ */

void stats_buf_init(struct stats_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void stats_buf_free(struct stats_buf *b)
{
    free(b->data);
    stats_buf_init(b);
}

void stats_buf_reset(struct stats_buf *b)
{
    b->len = 0;
    b->oom = 0;
}

/* Makes room for `extra` more bytes plus a terminating NUL. */
static int buf_reserve(struct stats_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void stats_buf_append(struct stats_buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) < 0)
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void stats_buf_puts(struct stats_buf *b, const char *s)
{
    stats_buf_append(b, s, strlen(s));
}

void stats_buf_printf(struct stats_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        stats_buf_append(b, small, (size_t)n);
        return;
    }
    /* Rare: a long result is formatted straight into the buffer. */
    if (buf_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- escaping ---------------------------------------------------------------- */

void stats_json_string(struct stats_buf *b, const char *s)
{
    stats_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':  stats_buf_append(b, "\\\"", 2); break;
        case '\\': stats_buf_append(b, "\\\\", 2); break;
        case '\n': stats_buf_append(b, "\\n", 2); break;
        case '\r': stats_buf_append(b, "\\r", 2); break;
        case '\t': stats_buf_append(b, "\\t", 2); break;
        default:
            /* Other control characters (and DEL, harmless but odd in a
             * dashboard) as \u escapes; bytes >= 0x80 pass through, as the
             * config's names are UTF-8 or plain ASCII. */
            if (*p < 0x20 || *p == 0x7f)
                stats_buf_printf(b, "\\u%04x", *p);
            else
                stats_buf_append(b, p, 1);
        }
    }
    stats_buf_append(b, "\"", 1);
}

void stats_prom_label(struct stats_buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '\\': stats_buf_append(b, "\\\\", 2); break;
        case '"':  stats_buf_append(b, "\\\"", 2); break;
        case '\n': stats_buf_append(b, "\\n", 2); break;
        default:   stats_buf_append(b, p, 1);
        }
    }
}

void stats_prom_head(struct stats_buf *b, const char *name, const char *type, const char *help)
{
    stats_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}
