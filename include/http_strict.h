/*
 * http_strict: what llhttp lets through and the proxy refuses in a head,
 * because the servers behind it read such heads differently (request
 * smuggling).  http_parse_request and http_parse_response (http.c) run
 * these on every head; each returns 1 for a clean head.
 */
#ifndef PROXY_HTTP_STRICT_H
#define PROXY_HTTP_STRICT_H

#include <stddef.h>

#include "http.h" /* struct http_head */

/* The line ends of buf[0..len): every LF after a CR, no CR alone, no line
 * starting with a blank (obs-fold), no blank line first. */
int http_line_ends_clean(const char *buf, size_t len);
/* Every field name followed by its colon at once ("Host : x" is not). */
int http_field_names_clean(const char *buf, const struct http_head *h);
/* The request target is visible ASCII only, and not empty. */
int http_target_clean(const char *buf, const struct http_head *h);
/* Two spaces in a row in the request line (after http_target_clean:
 * only the stretches around the target are looked at).  1 when there are. */
int http_line_has_double_space(const char *buf, const struct http_head *h);
/* Whether a line of a trailer section's bytes p[0..len) starts with a
 * blank (obs-fold), `prev` being the byte before p (the end of the
 * previous read's bytes of the section, or 0 at its first field): llhttp
 * joins such a line to the field before it, as it does in a head, where
 * http_line_ends_clean refuses it.  1 when one does. */
int http_section_folded(const char *p, size_t len, char prev);

#endif
